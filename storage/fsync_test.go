package storage

import (
	"context"
	"sync/atomic"
	"testing"
	"time"

	"github.com/dgraph-io/badger/v4"

	"github.com/einsatz/einsatz/bot"
	"github.com/einsatz/einsatz/bot/catchup"
	"github.com/einsatz/einsatz/bot/mood"
	"github.com/einsatz/einsatz/bot/qa"
)

// Only a durable write fsyncs: the records written after a reply went out
// (bot turn, Finish) and side records (catch-up mark, sentiment rows) are
// committed and visible at once, and the next durable
// write's one fsync covers them; a durable write with nothing unsynced
// before it (a redelivery) costs none, Sync always one, Close one for what
// is still unsynced. After the reopen every write is there.
func TestOnlyDurableWritesFsync(t *testing.T) {
	dir := t.TempDir()
	ctx := context.Background()
	s, err := Open(Options{Path: dir})
	if err != nil {
		t.Fatal(err)
	}
	var syncs atomic.Int32
	s.syncDisk = func() error {
		syncs.Add(1)
		return s.db.Sync()
	}
	now := time.Now()
	ev := bot.Event{Key: "ev-1", Kind: bot.KindMessage, Platform: "console", ChannelID: "c", ThreadID: "t1", MessageID: "m1", User: bot.User{ID: "u1"}, Text: "hi", Time: now}
	turn := &bot.Turn{Role: bot.RoleUser, UserID: "u1", Text: "hi", Time: now, MessageID: "m1"}
	sent := NewSentiment(s)
	steps := []struct {
		name  string
		write func() error
		syncs int32 // fsyncs after this step, in total
	}{
		{"accept", func() error { _, err := s.AcceptUnfinished(ctx, ev, "", time.Hour, turn); return err }, 1},
		{"bot turn", func() error {
			return s.AppendTurn(ctx, ev.Thread(), bot.Turn{Role: bot.RoleBot, Text: "hello", Time: now})
		}, 1},
		{"finish", func() error { return s.Finish(ctx, ev.Key) }, 1},
		{"catch-up mark", func() error {
			return NewCatchUp(s).PutSeen(ctx, catchup.Seen{Thread: ev.Thread(), MessageID: "m1", Time: now})
		}, 1},
		{"negative sentiment row", func() error {
			return sent.Log(ctx, mood.Row{Time: now, Platform: "console", Channel: "c", Label: mood.Negative, Score: -0.8}, "u1")
		}, 1},
		{"next accept syncs them all", func() error {
			ev2 := ev
			ev2.Key = "ev-2"
			_, err := s.AcceptUnfinished(ctx, ev2, "", time.Hour, nil)
			return err
		}, 2},
		{"redelivery: nothing to sync", func() error { _, err := s.AcceptUnfinished(ctx, ev, "", time.Hour, turn); return err }, 2},
		// The question log stays durable: a "Not helpful" click on the
		// answer must find its question to call a person.
		{"question log", func() error {
			_, err := NewSupport(s).AddQuestion(ctx, qa.Question{Time: now, Thread: ev.Thread(), UserID: "u1", Text: "hi"})
			return err
		}, 3},
		{"Sync always syncs", func() error { return s.Sync(ctx) }, 4},
		{"bot turn after it", func() error {
			return s.AppendTurn(ctx, ev.Thread(), bot.Turn{Role: bot.RoleBot, Text: "bye", Time: now.Add(time.Second)})
		}, 4},
	}
	for _, st := range steps {
		if err := st.write(); err != nil {
			t.Fatalf("%s: %v", st.name, err)
		}
		// What nobody waits for has been committed once a visible write
		// behind it returns.
		if err := s.commitVisible(ctx, func(*badger.Txn) error { return nil }); err != nil {
			t.Fatal(err)
		}
		if got := syncs.Load(); got != st.syncs {
			t.Fatalf("after %s: %d fsyncs, want %d", st.name, got, st.syncs)
		}
	}
	// Visible before any fsync covered them.
	if h, err := s.History(ctx, ev.Thread(), 10); err != nil || len(h) != 3 {
		t.Fatalf("History = %+v, %v; want the user's turn and both bot turns", h, err)
	}
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	if got := syncs.Load(); got != 5 {
		t.Fatalf("%d fsyncs after Close, want 5 (the last bot turn synced at close)", got)
	}
	if w := s.WriteStats(); w.Syncs != 5 || w.Writes < int64(len(steps)) || w.Txns == 0 {
		t.Fatalf("WriteStats = %+v; want 5 syncs and every write counted", w)
	}

	s = openTest(t, Options{Path: dir})
	if h, err := s.History(ctx, ev.Thread(), 10); err != nil || len(h) != 3 || h[2].Text != "bye" {
		t.Fatalf("History after reopen = %+v, %v; want 3 turns ending with the one synced at close", h, err)
	}
	if got, err := s.Unfinished(ctx); err != nil || len(got) != 1 || got[0].Key != "ev-2" {
		t.Fatalf("Unfinished after reopen = %+v, %v; want ev-2 alone (ev-1 finished)", got, err)
	}
	if marks, err := NewCatchUp(s).SeenSince(ctx, now.Add(-time.Minute)); err != nil || len(marks) != 1 {
		t.Fatalf("catch-up marks after reopen = %+v, %v; want 1", marks, err)
	}
}

// A kept (spilled) event handed to AcceptUnfinished with its id is forgotten
// in the same write, whether its key is new or was seen before, so handling
// it costs no second write; without the id it stays kept.
func TestAcceptUnfinishedForgetsTheKeptEvent(t *testing.T) {
	s := openTest(t, Options{Path: t.TempDir()})
	ctx := context.Background()
	now := time.Now()
	mk := func(key string) bot.Event {
		return bot.Event{Key: key, Kind: bot.KindMessage, Platform: "console", ChannelID: "c", ThreadID: "t1", User: bot.User{ID: "u1"}, Text: key, Time: now}
	}
	kept := func() []bot.SpilledEvent {
		t.Helper()
		out, err := s.Spilled(ctx, 10, nil)
		if err != nil {
			t.Fatal(err)
		}
		return out
	}
	for _, tc := range []struct {
		name      string
		seenFirst bool
		passID    bool
		wantFirst bool
		wantKept  int
	}{
		{"new key", false, true, true, 0},
		{"seen before", true, true, false, 0},
		{"no id given", false, false, true, 1},
	} {
		t.Run(tc.name, func(t *testing.T) {
			ev := mk("ev-" + tc.name)
			if tc.seenFirst {
				if _, err := s.Accept(ctx, ev.Key, time.Hour, ev.Thread(), nil); err != nil {
					t.Fatal(err)
				}
			}
			for _, k := range kept() {
				if err := s.DeleteSpilled(ctx, k.ID); err != nil {
					t.Fatal(err)
				}
			}
			if err := s.Spill(ctx, ev); err != nil {
				t.Fatal(err)
			}
			ks := kept()
			if len(ks) != 1 {
				t.Fatalf("kept = %+v, want the one spilled", ks)
			}
			id := ""
			if tc.passID {
				id = ks[0].ID
			}
			first, err := s.AcceptUnfinished(ctx, ev, id, time.Hour, nil)
			if err != nil || first != tc.wantFirst {
				t.Fatalf("AcceptUnfinished = %v, %v; want %v", first, err, tc.wantFirst)
			}
			if got := kept(); len(got) != tc.wantKept {
				t.Fatalf("kept after accept = %+v, want %d", got, tc.wantKept)
			}
		})
	}
}
