package bot_test

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/einsatz/einsatz/bot"
	"github.com/einsatz/einsatz/bot/bottest"
	"github.com/einsatz/einsatz/storage"
)

// fullDisk is the Badger store with a disk that can run full: while full,
// every write the core makes fails with ENOSPC, as Badger's would.
type fullDisk struct {
	*storage.Store
	full   atomic.Bool
	poison string // an event key whose write always fails
}

var errNoSpace = fmt.Errorf("storage: write: %w", syscall.ENOSPC)

func (d *fullDisk) Accept(ctx context.Context, key string, ttl time.Duration, t bot.ThreadRef, turn *bot.Turn) (bool, error) {
	if d.full.Load() || key == d.poison {
		return false, errNoSpace
	}
	return d.Store.Accept(ctx, key, ttl, t, turn)
}

func (d *fullDisk) AcceptUnfinished(ctx context.Context, ev bot.Event, spillID string, ttl time.Duration, turn *bot.Turn) (bool, error) {
	if d.full.Load() || ev.Key == d.poison {
		return false, errNoSpace
	}
	return d.Store.AcceptUnfinished(ctx, ev, spillID, ttl, turn)
}

func (d *fullDisk) Spill(ctx context.Context, ev bot.Event) error {
	if d.full.Load() {
		return errNoSpace
	}
	return d.Store.Spill(ctx, ev)
}

type recordingSender struct {
	mu      sync.Mutex
	replies map[string][]string
}

func (s *recordingSender) Send(_ context.Context, to bot.ThreadRef, r bot.Reply) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.replies[to.ThreadID] = append(s.replies[to.ThreadID], r.Text)
	return nil
}

func (s *recordingSender) get(thread string) []string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]string(nil), s.replies[thread]...)
}

// With the disk full, the core handles nothing and loses nothing: events
// wait in memory (retried on the clock), it reports itself saturated, and
// once the memory queue is full it refuses new events with ErrDropped.
// When space returns, every waiting event is handled once, in its thread's
// order, and the core is ready again.
func TestDiskFullRefusesNewWorkAndResumes(t *testing.T) {
	disk := &fullDisk{Store: memStore(t)}
	clock := bottest.NewClock(time.Unix(1_700_000_000, 0))
	b := bot.New(bot.Options{Store: disk, Router: bot.NewRouter(echo), QueueSize: 4, Concurrency: 2, Clock: clock, Logger: slog.New(slog.DiscardHandler)})
	out := &recordingSender{replies: map[string][]string{}}
	b.Register("test", out)
	t.Cleanup(b.Shutdown)
	submit := func(thread, text string) error {
		return b.Submit(bot.Event{Key: thread + text, Kind: bot.KindMessage, DM: true, Platform: "test",
			ChannelID: "c", ThreadID: thread, MessageID: thread + text, Text: text})
	}

	disk.full.Store(true)
	for _, m := range [][2]string{{"a", "a1"}, {"a", "a2"}, {"a", "a3"}, {"b", "b1"}} {
		if err := submit(m[0], m[1]); err != nil {
			t.Fatalf("submit %s while the queue has room: %v", m[1], err)
		}
	}
	waitStats(t, b, "both threads to hit the full disk", func(st bot.Stats) bool { return st.Errors >= 2 })
	if !b.Saturated() {
		t.Fatal("not saturated while storage refuses writes")
	}
	if err := submit("c", "c1"); !errors.Is(err, bot.ErrDropped) {
		t.Fatalf("submit with a full queue and a full disk = %v, want ErrDropped (refused)", err)
	}
	clock.Advance(time.Second) // retries while still full change nothing
	waitStats(t, b, "retries", func(st bot.Stats) bool { return st.Errors >= 4 })
	if st := b.Stats(); st.Handled != 0 || st.Replies != 0 || st.Dropped[bot.DropStorage] != 0 {
		t.Fatalf("with the disk full: %+v, want nothing handled and nothing dropped", st)
	}

	disk.full.Store(false)
	waitStats(t, b, "the waiting events after space returned", func(st bot.Stats) bool {
		clock.Advance(time.Second)
		return st.Handled == 4
	})
	waitStats(t, b, "the replies", func(st bot.Stats) bool { return st.Replies == 4 })
	if got := out.get("a"); len(got) != 3 || got[0] != "echo a1" || got[1] != "echo a2" || got[2] != "echo a3" {
		t.Fatalf("thread a replies = %q, want a1, a2, a3 once each in order", got)
	}
	if got := out.get("b"); len(got) != 1 {
		t.Fatalf("thread b replies = %q", got)
	}
	if b.Saturated() {
		t.Fatal("still saturated after storage recovered")
	}
	if err := submit("c", "c2"); err != nil {
		t.Fatalf("submit after recovery: %v", err)
	}
	waitStats(t, b, "new work after recovery", func(st bot.Stats) bool { return st.Replies == 5 })
}

// One event storage always refuses while it records others is that
// event's problem, not a full disk: after three attempts it is dropped
// (storage_error) and its thread goes on; the core does not stay saturated.
func TestOneUnwritableEventIsDroppedNotRetriedForever(t *testing.T) {
	disk := &fullDisk{Store: memStore(t), poison: "abad"}
	clock := bottest.NewClock(time.Unix(1_700_000_000, 0))
	b := bot.New(bot.Options{Store: disk, Router: bot.NewRouter(echo), Concurrency: 2, Clock: clock, Logger: slog.New(slog.DiscardHandler)})
	out := &recordingSender{replies: map[string][]string{}}
	b.Register("test", out)
	t.Cleanup(b.Shutdown)
	submit := func(thread, text string) {
		t.Helper()
		if err := b.Submit(bot.Event{Key: thread + text, Kind: bot.KindMessage, DM: true, Platform: "test",
			ChannelID: "c", ThreadID: thread, MessageID: thread + text, Text: text}); err != nil {
			t.Fatal(err)
		}
	}
	submit("a", "bad")
	submit("a", "after")
	// Alone, the bad event looks like a full disk: it waits.
	waitStats(t, b, "the bad event refused", func(st bot.Stats) bool { return st.Errors >= 1 })
	if !b.Saturated() {
		t.Fatal("not saturated while the only write is refused")
	}
	// Other writes succeed meanwhile: the disk is fine, the event is not.
	submit("b", "b1")
	submit("b", "b2")
	waitStats(t, b, "the bad event dropped and the rest handled", func(st bot.Stats) bool {
		clock.Advance(time.Second)
		return st.Dropped[bot.DropStorage] == 1 && st.Handled == 3
	})
	// A handled event counts before its reply is recorded: wait for the replies.
	waitStats(t, b, "the replies", func(st bot.Stats) bool { return st.Replies == 3 })
	if got := out.get("a"); len(got) != 1 || got[0] != "echo after" {
		t.Fatalf("thread a replies = %q, want only the event after the bad one", got)
	}
	if b.Saturated() {
		t.Fatal("saturated after the bad event was dropped")
	}
}
