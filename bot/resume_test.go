package bot_test

import (
	"context"
	"fmt"
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
		if first, err := killed.AcceptUnfinished(ctx, ev, "", time.Hour, turn); err != nil || !first {
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
	// The core marks an event finished after its reply went out (a write
	// nobody waits for), so the mark may land just after the reply count.
	deadline := time.Now().Add(10 * time.Second)
	for {
		if err := store.Sync(ctx); err != nil {
			t.Fatal(err)
		}
		left, err := store.Unfinished(ctx)
		if err == nil && len(left) == 0 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("Unfinished after the restart = %+v, %v; want none (answered or dropped)", left, err)
		}
		time.Sleep(5 * time.Millisecond)
	}
}

// resendingSender records which of Send and Resend the core called, with
// each reply's name (ReplyTo, Part).
type resendingSender struct {
	mu    sync.Mutex
	calls []string
}

func (s *resendingSender) record(how string, r bot.Reply) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.calls = append(s.calls, fmt.Sprintf("%s %s#%d %s", how, r.ReplyTo, r.Part, r.Text))
}

func (s *resendingSender) Send(_ context.Context, _ bot.ThreadRef, r bot.Reply) error {
	s.record("send", r)
	return nil
}

func (s *resendingSender) Resend(_ context.Context, _ bot.ThreadRef, r bot.Reply) error {
	s.record("resend", r)
	return nil
}

func (s *resendingSender) get() []string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]string(nil), s.calls...)
}

// A resumed event's replies go through the adapter's Resend (it leaves out
// what the platform shows already), a new event's through Send; each reply
// is named by its event's key and its place among the event's replies, the
// same in every run, also when it was posted into the thread by an
// observer while the event was handled.
func TestResumedRepliesGoThroughResendWithTheirNames(t *testing.T) {
	dir := t.TempDir()
	ctx := context.Background()
	now := time.Now()
	msg := func(text string) bot.Event {
		return bot.Event{Key: "k-" + text, Kind: bot.KindMessage, DM: true, Platform: "test", ChannelID: "c",
			ThreadID: "t-" + text, MessageID: text, User: bot.User{ID: "u1"}, Text: text, Time: now, Lang: "en"}
	}
	killed, err := storage.Open(storage.Options{Path: dir})
	if err != nil {
		t.Fatal(err)
	}
	resumed := msg("old")
	if first, err := killed.AcceptUnfinished(ctx, resumed, "", time.Hour, nil); err != nil || !first {
		t.Fatalf("AcceptUnfinished = %v, %v", first, err)
	}
	if err := killed.Close(); err != nil {
		t.Fatal(err)
	}

	store, err := storage.Open(storage.Options{Path: dir})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { store.Close() })
	var b *bot.Bot
	handler := bot.HandlerFunc(func(_ context.Context, ev *bot.Event) ([]bot.Reply, error) {
		return []bot.Reply{{Text: "one"}, {Text: "two"}}, nil
	})
	observer := bot.ObserverFunc(func(ctx context.Context, ev *bot.Event) error {
		return b.Post(ctx, ev.Thread(), bot.Reply{Text: "noted"})
	})
	b = bot.New(bot.Options{Store: store, Router: bot.NewRouter(handler), Observers: []bot.Observer{observer},
		Clock: bottest.NewClock(now), Logger: slog.New(slog.DiscardHandler)})
	out := &resendingSender{}
	b.Register("test", out)
	runCtx, stop := context.WithCancel(ctx)
	done := make(chan error, 1)
	go func() { done <- b.Run(runCtx) }()
	t.Cleanup(func() { stop(); <-done })

	waitStats(t, b, "the resumed event", func(st bot.Stats) bool { return st.Replies >= 3 })
	if err := b.Submit(msg("new")); err != nil {
		t.Fatal(err)
	}
	waitStats(t, b, "the new event", func(st bot.Stats) bool { return st.Replies >= 6 })
	want := []string{
		"resend k-old#0 one", "resend k-old#1 two", "resend k-old#2 noted",
		"send k-new#0 one", "send k-new#1 two", "send k-new#2 noted",
	}
	if got := out.get(); fmt.Sprint(got) != fmt.Sprint(want) {
		t.Fatalf("calls:\n%q\nwant\n%q", got, want)
	}
}
