package bot_test

import (
	"context"
	"log/slog"
	"sync"
	"testing"
	"time"

	"github.com/einsatz/einsatz/bot"
	"github.com/einsatz/einsatz/bot/bottest"
	"github.com/einsatz/einsatz/storage"
)

// A run killed after accepting an event (its seen mark and history turn are
// on disk) and before answering it: the next start answers it once, ahead
// of new events of its thread, without a second history turn, while its
// redelivered copy is dropped as a duplicate; an unfinished event older than
// the resume window is dropped, not answered.
func TestRunResumesEventsAcceptedButNotFinished(t *testing.T) {
	dir := t.TempDir()
	ctx := context.Background()
	now := time.Now()
	msg := func(thread, text string, at time.Time) bot.Event {
		return bot.Event{Key: thread + text, Kind: bot.KindMessage, DM: true, Platform: "test", ChannelID: "c",
			ThreadID: thread, MessageID: thread + text, User: bot.User{ID: "u1"}, Text: text, Time: at, Lang: "en"}
	}
	a1, old := msg("a", "a1", now.Add(-time.Minute)), msg("b", "b1", now.Add(-11*time.Minute))

	// The killed run: what the core writes before it answers.
	killed, err := storage.Open(storage.Options{Path: dir})
	if err != nil {
		t.Fatal(err)
	}
	for _, ev := range []bot.Event{a1, old} {
		turn := &bot.Turn{Role: bot.RoleUser, UserID: ev.User.ID, Text: ev.Text, Time: ev.Time, MessageID: ev.MessageID}
		if first, err := killed.AcceptUnfinished(ctx, ev, time.Hour, turn); err != nil || !first {
			t.Fatalf("AcceptUnfinished = %v, %v", first, err)
		}
	}
	if err := killed.Close(); err != nil {
		t.Fatal(err)
	}

	store, err := storage.Open(storage.Options{Path: dir})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { store.Close() })
	var mu sync.Mutex
	histories := map[string][]string{}
	handler := bot.HandlerFunc(func(_ context.Context, ev *bot.Event) ([]bot.Reply, error) {
		var h []string
		for _, turn := range ev.History {
			h = append(h, turn.Text)
		}
		mu.Lock()
		histories[ev.Text] = h
		mu.Unlock()
		return []bot.Reply{{Text: "echo " + ev.Text}}, nil
	})
	b := bot.New(bot.Options{Store: store, Router: bot.NewRouter(handler), Clock: bottest.NewClock(now), Logger: slog.New(slog.DiscardHandler)})
	out := &recordingSender{replies: map[string][]string{}}
	b.Register("test", out)
	runCtx, stop := context.WithCancel(ctx)
	done := make(chan error, 1)
	go func() { done <- b.Run(runCtx) }()
	t.Cleanup(func() { stop(); <-done })

	waitStats(t, b, "the resumed event", func(st bot.Stats) bool { return st.Handled >= 1 })
	// The platform redelivers a1; a member writes a2.
	for _, ev := range []bot.Event{a1, msg("a", "a2", now)} {
		if err := b.Submit(ev); err != nil {
			t.Fatal(err)
		}
	}
	waitStats(t, b, "a2 and the duplicate", func(st bot.Stats) bool { return st.Replies == 2 && st.Dropped[bot.DropDuplicate] == 1 })
	if got := out.get("a"); len(got) != 2 || got[0] != "echo a1" || got[1] != "echo a2" {
		t.Fatalf("thread a replies = %q, want a1 then a2, once each", got)
	}
	if got := out.get("b"); len(got) != 0 {
		t.Fatalf("the event older than the window was answered: %q", got)
	}
	mu.Lock()
	ha1, ha2 := histories["a1"], histories["a2"]
	mu.Unlock()
	if len(ha1) != 0 || len(ha2) != 2 || ha2[0] != "a1" || ha2[1] != "echo a1" {
		t.Fatalf("histories: a1 saw %q, a2 saw %q; want none, then a1 once and its answer", ha1, ha2)
	}
	if err := store.Sync(ctx); err != nil {
		t.Fatal(err)
	}
	if left, err := store.Unfinished(ctx); err != nil || len(left) != 0 {
		t.Fatalf("Unfinished after the restart = %+v, %v; want none (answered or dropped)", left, err)
	}
}
