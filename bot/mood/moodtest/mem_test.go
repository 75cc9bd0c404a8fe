package moodtest_test

import (
	"context"
	"testing"
	"time"

	"github.com/einsatz/einsatz/bot/mood"
	"github.com/einsatz/einsatz/bot/mood/moodtest"
)

func TestMem(t *testing.T) {
	moodtest.Run(t, func(*testing.T) mood.Store { return moodtest.NewMem() })
}

// RowsOf finds a person's rows by the user id Log was given, not by the
// (possibly pseudonymous) User of the row.
func TestMemRowsOf(t *testing.T) {
	s, ctx, now := moodtest.NewMem(), context.Background(), time.Now()
	for _, r := range []struct{ id, user, userID string }{{"1", "p-1", "U1"}, {"2", "p-2", "U2"}, {"3", "p-1", "U1"}, {"4", "", ""}} {
		if err := s.Log(ctx, mood.Row{Platform: "slack", Channel: "C", MessageID: r.id, User: r.user, Time: now, Label: mood.Neutral}, r.userID); err != nil {
			t.Fatal(err)
		}
	}
	if got := s.RowsOf("slack", "U1"); len(got) != 2 || got[0].MessageID != "1" || got[1].MessageID != "3" {
		t.Fatalf("rows of U1 = %+v", got)
	}
	if got := s.RowsOf("discord", "U1"); len(got) != 0 {
		t.Fatalf("rows of U1 on another platform = %+v", got)
	}
	if got := s.RowsOf("slack", ""); len(got) != 0 {
		t.Fatalf("rows without a user id are nobody's: %+v", got)
	}
}
