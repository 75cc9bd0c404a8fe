package storage

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/einsatz/einsatz/bot/mood"
)

// A row logged with its author's id is found under that person for export
// and erasure, a neutral one too once the queued writes are synced; one
// without an id belongs to nobody.
func TestSentimentRowsIndexedByUser(t *testing.T) {
	s := openTest(t, Options{InMemory: true})
	ctx, now := context.Background(), time.Now()
	for _, r := range []struct{ id, label, userID string }{{"1", mood.Negative, "u1"}, {"2", mood.Neutral, "u1"}, {"3", mood.Neutral, ""}} {
		row := mood.Row{Platform: "discord", Channel: "general", User: "p", MessageID: r.id, Time: now, Label: r.label}
		if err := NewSentiment(s).Log(ctx, row, r.userID); err != nil {
			t.Fatal(err)
		}
	}
	if err := s.Sync(ctx); err != nil {
		t.Fatal(err)
	}
	keys, err := s.UserRecords(ctx, "discord", "u1")
	if err != nil || len(keys) != 2 || !strings.HasPrefix(keys[0], "sent/row/") || !strings.HasPrefix(keys[1], "sent/row/") {
		t.Fatalf("user records of u1 = %q, %v", keys, err)
	}
	if keys, _ := s.UserRecords(ctx, "discord", ""); len(keys) != 0 {
		t.Fatalf("user records of nobody = %q", keys)
	}
}
