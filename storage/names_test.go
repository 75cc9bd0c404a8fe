package storage

import (
	"context"
	"testing"
	"time"
)

// A reload within the gap is the same visit; a later one moves the
// previous visit on. A member's name goes with an erasure.
func TestNamesVisitAndErasure(t *testing.T) {
	s, err := Open(Options{InMemory: true})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	ctx := context.Background()
	n := NewNames(s)
	t0 := time.Now().UTC().Truncate(time.Second)
	for i, tc := range []struct {
		at   time.Time
		want time.Time
	}{{t0, time.Time{}}, {t0.Add(5 * time.Minute), time.Time{}}, {t0.Add(2 * time.Hour), t0.Add(5 * time.Minute)}, {t0.Add(2*time.Hour + time.Minute), t0.Add(5 * time.Minute)}} {
		got, err := n.Visit(ctx, "lead", tc.at, 30*time.Minute)
		if err != nil || !got.Equal(tc.want) {
			t.Fatalf("visit %d: %v %v, want %v", i, got, err, tc.want)
		}
	}
	if err := n.Put(ctx, NameUser, "discord", "42", "Anna", t0); err != nil {
		t.Fatal(err)
	}
	if err := n.Put(ctx, NameChannel, "discord", "c1", "help", t0); err != nil {
		t.Fatal(err)
	}
	if b, _ := n.Book(ctx, NameUser); b["discord/42"] != "Anna" {
		t.Fatalf("users = %v", b)
	}
	if _, err := s.Erase(ctx, "discord", "42", "test"); err != nil {
		t.Fatal(err)
	}
	users, _ := n.Book(ctx, NameUser)
	chans, _ := n.Book(ctx, NameChannel)
	if len(users) != 0 || chans["discord/c1"] != "help" {
		t.Fatalf("after erasure: users %v, channels %v", users, chans)
	}
}
