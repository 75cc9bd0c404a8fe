package storage

import (
	"context"
	"testing"
	"time"

	"github.com/einsatz/einsatz/bot"
	"github.com/einsatz/einsatz/bot/catchup"
)

func TestCatchUpMarks(t *testing.T) {
	s := openTest(t, Options{InMemory: true})
	c := NewCatchUp(s)
	ctx := context.Background()
	now := time.Now().UTC().Truncate(time.Second)
	general := bot.ThreadRef{Platform: "discord", ChannelID: "C1"}
	thread := bot.ThreadRef{Platform: "slack", ChannelID: "C2", ThreadID: "1.2"}
	quiet := bot.ThreadRef{Platform: "slack", ChannelID: "C3"}
	for _, m := range []catchup.Seen{
		{Thread: general, MessageID: "100", Time: now.Add(-3 * time.Minute)},
		{Thread: general, MessageID: "101", Time: now.Add(-time.Minute)}, // replaces the first
		{Thread: thread, MessageID: "1.5", Time: now.Add(-2 * time.Minute)},
		{Thread: quiet, MessageID: "0.9", Time: now.Add(-time.Hour)},      // outside the window
		{Thread: quiet, MessageID: "0.1", Time: now.Add(-48 * time.Hour)}, // past the TTL: not stored
	} {
		if err := c.PutSeen(ctx, m); err != nil {
			t.Fatal(err)
		}
	}
	got, err := c.SeenSince(ctx, now.Add(-10*time.Minute))
	if err != nil {
		t.Fatal(err)
	}
	want := map[string]string{general.Key(): "101", thread.Key(): "1.5"}
	if len(got) != len(want) {
		t.Fatalf("marks = %+v, want %v", got, want)
	}
	for _, m := range got {
		if want[m.Thread.Key()] != m.MessageID {
			t.Fatalf("marks = %+v, want %v", got, want)
		}
	}
	all, _ := c.SeenSince(ctx, time.Time{})
	if len(all) != 3 {
		t.Fatalf("all marks = %+v, want 3 (the quiet thread's newer mark, not the expired one)", all)
	}
}
