package storage

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/dgraph-io/badger/v4"

	"github.com/einsatz/einsatz/bot"
)

// An accepted event stays unfinished, across a reopen, until Finish; a
// redelivery neither keeps a second copy nor brings a finished one back.
func TestUnfinishedKeptUntilFinished(t *testing.T) {
	dir := t.TempDir()
	ctx := context.Background()
	s, err := Open(Options{Path: dir})
	if err != nil {
		t.Fatal(err)
	}
	at := time.Now()
	evs := []bot.Event{
		{Key: "ev-2", Kind: bot.KindMessage, Platform: "console", ChannelID: "c", ThreadID: "t2", User: bot.User{ID: "u1"}, Text: "second", Time: at.Add(time.Second)},
		{Key: "ev-1", Kind: bot.KindMessage, Platform: "console", ChannelID: "c", ThreadID: "t1", User: bot.User{ID: "u1"}, Text: "first", Time: at},
	}
	for _, ev := range evs {
		turn := &bot.Turn{Role: bot.RoleUser, UserID: ev.User.ID, Text: ev.Text, Time: ev.Time}
		for i, want := range []bool{true, false} {
			if first, err := s.AcceptUnfinished(ctx, ev, "", time.Hour, turn); err != nil || first != want {
				t.Fatalf("AcceptUnfinished(%s) #%d = %v, %v; want %v", ev.Key, i, first, err, want)
			}
		}
	}
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	s = openTest(t, Options{Path: dir})
	got, err := s.Unfinished(ctx)
	if err != nil || len(got) != 2 || got[0].Key != "ev-1" || got[1].Key != "ev-2" || got[0].Text != "first" {
		t.Fatalf("Unfinished after reopen = %+v, %v; want ev-1, ev-2 (oldest first)", got, err)
	}
	if h, err := s.History(ctx, evs[1].Thread(), 10); err != nil || len(h) != 1 {
		t.Fatalf("History = %+v, %v; want the one accepted turn", h, err)
	}
	if err := s.Finish(ctx, "ev-1"); err != nil {
		t.Fatal(err)
	}
	// Finish does not wait for the disk; the next durable write covers it.
	if err := s.Sync(ctx); err != nil {
		t.Fatal(err)
	}
	if first, err := s.AcceptUnfinished(ctx, evs[1], "", time.Hour, nil); err != nil || first {
		t.Fatalf("AcceptUnfinished of a finished event = %v, %v; want false", first, err)
	}
	got, err = s.Unfinished(ctx)
	if err != nil || len(got) != 1 || got[0].Key != "ev-2" {
		t.Fatalf("Unfinished after Finish(ev-1) = %+v, %v; want ev-2 alone", got, err)
	}
	// Plain Accept (imports) keeps nothing unfinished.
	if first, err := s.Accept(ctx, "ev-3", 0, evs[0].Thread(), nil); err != nil || !first {
		t.Fatalf("Accept = %v, %v", first, err)
	}
	if got, _ := s.Unfinished(ctx); len(got) != 1 {
		t.Fatalf("Unfinished after a plain Accept = %+v; want ev-2 alone", got)
	}
}

// A person's unfinished events are part of their export and go with an
// erasure, like spilled ones.
func TestUnfinishedInExportAndErasure(t *testing.T) {
	s := openTest(t, Options{InMemory: true})
	ctx := context.Background()
	ev := bot.Event{Key: "ev-1", Kind: bot.KindMessage, Platform: "console", ChannelID: "c", ThreadID: "t1", User: bot.User{ID: "u1"}, Text: "mine", Time: time.Now()}
	if _, err := s.AcceptUnfinished(ctx, ev, "", time.Hour, nil); err != nil {
		t.Fatal(err)
	}
	out, err := s.Export(ctx, "console", "u1")
	if err != nil || len(out["pending_events"]) != 1 {
		t.Fatalf("Export = %v, %v; want the unfinished event under pending_events", out, err)
	}
	if _, err := s.Erase(ctx, "console", "u1", "test"); err != nil {
		t.Fatal(err)
	}
	if got, err := s.Unfinished(ctx); err != nil || len(got) != 0 {
		t.Fatalf("Unfinished after erasure = %+v, %v; want none", got, err)
	}
}

// Finish's write deletes the same keys when the committer runs it again:
// a later write of its batch failed, so the batch's transaction was
// dropped and the writes before the failed one were applied once more.
func TestFinishSurvivesARebuiltBatch(t *testing.T) {
	ctx := context.Background()
	s, err := Open(Options{Path: t.TempDir()})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	ev := bot.Event{Key: "ev-1", Kind: bot.KindMessage, Platform: "console", ChannelID: "c", ThreadID: "t1", User: bot.User{ID: "u1"}, Text: "hi", Time: time.Now()}
	if _, err := s.AcceptUnfinished(ctx, ev, "", time.Hour, nil); err != nil {
		t.Fatal(err)
	}
	// The finish is queued and held for company (holdQueued); the failing
	// write right after it is that company, so both share one batch.
	if err := s.Finish(ctx, ev.Key); err != nil {
		t.Fatal(err)
	}
	errFail := errors.New("this write fails")
	if err := s.commit(ctx, func(*badger.Txn) error { return errFail }); !errors.Is(err, errFail) {
		t.Fatalf("failing write: %v", err)
	}
	if err := s.Sync(ctx); err != nil {
		t.Fatal(err)
	}
	if left, err := s.Unfinished(ctx); err != nil || len(left) != 0 {
		t.Fatalf("Unfinished = %+v, %v; want none", left, err)
	}
}
