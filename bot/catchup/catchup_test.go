package catchup_test

import (
	"context"
	"io"
	"log/slog"
	"sync"
	"testing"
	"time"

	"github.com/einsatz/einsatz/bot"
	"github.com/einsatz/einsatz/bot/bottest"
	"github.com/einsatz/einsatz/bot/catchup"
)

type memStore struct {
	mu     sync.Mutex
	marks  map[string]catchup.Seen
	writes int
}

func (m *memStore) PutSeen(_ context.Context, s catchup.Seen) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.marks[s.Thread.Key()] = s
	m.writes++
	return nil
}

func (m *memStore) SeenSince(_ context.Context, since time.Time) ([]catchup.Seen, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	var out []catchup.Seen
	for _, s := range m.marks {
		if !s.Time.Before(since) {
			out = append(out, s)
		}
	}
	return out, nil
}

type fetcher struct {
	platform string
	ready    bool
	got      []catchup.Seen
	since    time.Time
}

func (f *fetcher) Platform() string { return f.platform }
func (f *fetcher) Ready() bool      { return f.ready }
func (f *fetcher) CatchUp(_ context.Context, seen []catchup.Seen, since time.Time) (int, error) {
	f.got, f.since = seen, since
	return len(seen), nil
}

var quiet = slog.New(slog.NewTextHandler(io.Discard, nil))

func msg(platform, channel, id string, at time.Time) *bot.Event {
	return &bot.Event{Kind: bot.KindMessage, Platform: platform, ChannelID: channel, MessageID: id, Time: at}
}

// The recorder writes a thread's mark when it first sees it and then at
// most once per Every; other kinds of events and imports leave no mark.
func TestRecorderWritesAThreadAtMostOncePerInterval(t *testing.T) {
	start := time.Date(2026, 12, 7, 12, 0, 0, 0, time.UTC)
	clock := bottest.NewClock(start)
	store := &memStore{marks: map[string]catchup.Seen{}}
	r := catchup.NewRecorder(store, clock, quiet, "discord", "slack")
	ctx := context.Background()
	for _, ev := range []*bot.Event{
		msg("discord", "C1", "1", start),
		msg("discord", "C1", "1", start), // same thread (its own id), within Every: not written
		{Kind: bot.KindReaction, Platform: "discord", ChannelID: "C1", MessageID: "9"},
		{Kind: bot.KindMessage, Platform: "discord", ChannelID: "C1", MessageID: "8", Replayed: true},
		{Kind: bot.KindMessage, Platform: bot.PlatformWeb, ChannelID: "w", MessageID: "7"}, // no history to fetch
		msg("slack", "C2", "1.1", start),
	} {
		if err := r.Observe(ctx, ev); err != nil {
			t.Fatal(err)
		}
	}
	if store.writes != 2 {
		t.Fatalf("%d writes, want 2 (one per thread): %+v", store.writes, store.marks)
	}
	clock.Advance(catchup.Every)
	follow := msg("discord", "C1", "2", start.Add(catchup.Every))
	follow.ThreadID = "1"
	if err := r.Observe(ctx, follow); err != nil {
		t.Fatal(err)
	}
	got := store.marks[(bot.ThreadRef{Platform: "discord", ChannelID: "C1", ThreadID: "1"}).Key()]
	if store.writes != 3 || got.MessageID != "2" {
		t.Fatalf("after Every: writes %d, mark %+v; want the follow-up's", store.writes, got)
	}
}

// Run hands each platform's adapter the marks within the window, once it
// is ready, and starts no earlier than the window.
func TestRunHandsMarksWithinTheWindow(t *testing.T) {
	now := time.Date(2026, 12, 7, 12, 0, 0, 0, time.UTC)
	clock := bottest.NewClock(now)
	store := &memStore{marks: map[string]catchup.Seen{}}
	ctx := context.Background()
	for _, s := range []catchup.Seen{
		{Thread: bot.ThreadRef{Platform: "discord", ChannelID: "C1", ThreadID: "1"}, MessageID: "1", Time: now.Add(-2 * time.Minute)},
		{Thread: bot.ThreadRef{Platform: "discord", ChannelID: "C9", ThreadID: "5"}, MessageID: "5", Time: now.Add(-time.Hour)},
		{Thread: bot.ThreadRef{Platform: "slack", ChannelID: "C2", ThreadID: "1.1"}, MessageID: "1.1", Time: now.Add(-9 * time.Minute)},
	} {
		_ = store.PutSeen(ctx, s)
	}
	d := &fetcher{platform: "discord", ready: true}
	sl := &fetcher{platform: "slack", ready: true}
	if err := catchup.Run(ctx, store, []catchup.Fetcher{d, sl}, 10*time.Minute, clock, quiet); err != nil {
		t.Fatal(err)
	}
	if len(d.got) != 1 || d.got[0].MessageID != "1" || len(sl.got) != 1 {
		t.Fatalf("discord got %+v, slack got %+v; want the marks within 10 minutes", d.got, sl.got)
	}
	if want := now.Add(-10 * time.Minute); !d.since.Equal(want) {
		t.Fatalf("since = %s, want %s", d.since, want)
	}
	// From: a minute before the mark, but never before the window.
	if f := catchup.From(d.got[0], d.since); !f.Equal(now.Add(-3 * time.Minute)) {
		t.Fatalf("From = %s", f)
	}
	if f := catchup.From(sl.got[0], sl.since); !f.Equal(sl.since) {
		t.Fatalf("From = %s, want the window's start", f)
	}
}

func TestNewestKeepsTheMostRecentThreads(t *testing.T) {
	now := time.Now()
	var seen []catchup.Seen
	for i := range 5 {
		seen = append(seen, catchup.Seen{MessageID: string(rune('a' + i)), Time: now.Add(time.Duration(i) * time.Second)})
	}
	got := catchup.Newest(seen, 2)
	if len(got) != 2 || got[0].MessageID != "e" || got[1].MessageID != "d" {
		t.Fatalf("Newest = %+v", got)
	}
}
