// Package catchup answers what was posted while the bot was down. Slack
// redelivers only what it delivered and saw unacknowledged, and Discord
// replays nothing after a fresh IDENTIFY, so messages sent during a restart
// would go unanswered. The Recorder notes, per thread, the newest message
// the core handled; at start Run asks each platform's adapter (a Fetcher)
// for what was posted since then in the threads active within the window,
// and the adapter submits those messages as if they had arrived live. The
// core's idempotency keys drop the ones it had handled already, so nothing
// is answered twice.
package catchup

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"sort"
	"sync"
	"time"

	"github.com/einsatz/einsatz/bot"
)

// DefaultWindow is how far back the catch-up looks by default.
const DefaultWindow = 10 * time.Minute

// Seen is the newest message the core handled in a thread.
type Seen struct {
	Thread    bot.ThreadRef `json:"thread"`
	MessageID string        `json:"message_id"`
	Time      time.Time     `json:"time"` // the message's time on the platform
}

// Store keeps the Seen marks.
type Store interface {
	// PutSeen records s, replacing the thread's earlier mark.
	PutSeen(ctx context.Context, s Seen) error
	// SeenSince returns the marks of threads whose newest message is at or
	// after since.
	SeenSince(ctx context.Context, since time.Time) ([]Seen, error)
}

// Fetcher is an adapter that can fetch the messages it missed.
type Fetcher interface {
	Platform() string
	// Ready reports whether the adapter is connected far enough to fetch
	// and submit (it knows its own id and has its sink) and receives live
	// messages: one posted after the fetch read its thread must arrive
	// live, or nothing answers it.
	Ready() bool
	// CatchUp submits, oldest first, the messages posted in the threads
	// of seen after their marks and not before since, translated exactly
	// as live ones (same event keys). It returns how many it submitted.
	CatchUp(ctx context.Context, seen []Seen, since time.Time) (int, error)
}

// Recorder is the observer that keeps the marks. A thread's mark is
// written at most once per Every (the catch-up fetches from a little before
// the mark, see Margin, so a mark a few seconds old loses nothing).
type Recorder struct {
	store     Store
	clock     bot.Clock
	every     time.Duration
	log       *slog.Logger
	platforms map[string]bool

	mu      sync.Mutex
	written map[string]time.Time // thread key → when its mark was last written
}

// Every is how often a busy thread's mark is written at most.
const Every = 5 * time.Second

// Margin is how far before a thread's mark the catch-up starts: messages
// of one channel are handled in parallel across threads, so the mark may
// pass a message handled a moment later, or not at all before a crash.
const Margin = time.Minute

// NewRecorder returns the observer over store for the messages of the
// given platforms (those whose adapters can fetch history); clock nil is
// the system clock.
func NewRecorder(store Store, clock bot.Clock, log *slog.Logger, platforms ...string) *Recorder {
	if clock == nil {
		clock = bot.SystemClock{}
	}
	if log == nil {
		log = slog.Default()
	}
	set := map[string]bool{}
	for _, p := range platforms {
		set[p] = true
	}
	return &Recorder{store: store, clock: clock, every: Every, log: log, platforms: set, written: map[string]time.Time{}}
}

// Observe records the mark of a message's thread.
func (r *Recorder) Observe(ctx context.Context, ev *bot.Event) error {
	if ev.Kind != bot.KindMessage || ev.Replayed || ev.MessageID == "" || !r.platforms[ev.Platform] {
		return nil
	}
	key := ev.Thread().Key()
	now := r.clock.Now()
	r.mu.Lock()
	last, ok := r.written[key]
	if ok && now.Sub(last) < r.every {
		r.mu.Unlock()
		return nil
	}
	r.written[key] = now
	if len(r.written) > 10000 { // forget old entries; a thread seen again is written again
		for k, at := range r.written {
			if now.Sub(at) >= r.every {
				delete(r.written, k)
			}
		}
	}
	r.mu.Unlock()
	at := ev.Time
	if at.IsZero() {
		at = now
	}
	if err := r.store.PutSeen(ctx, Seen{Thread: ev.Thread(), MessageID: ev.MessageID, Time: at}); err != nil {
		return fmt.Errorf("catchup: record newest message: %w", err)
	}
	return nil
}

// Run catches up once, at start: it waits until each fetcher is ready
// (up to a minute), then hands it the marks of its platform within window.
func Run(ctx context.Context, store Store, fetchers []Fetcher, window time.Duration, clock bot.Clock, log *slog.Logger) error {
	if clock == nil {
		clock = bot.SystemClock{}
	}
	if window <= 0 {
		window = DefaultWindow
	}
	since := clock.Now().Add(-window)
	seen, err := store.SeenSince(ctx, since)
	if err != nil {
		return fmt.Errorf("catchup: read marks: %w", err)
	}
	byPlatform := map[string][]Seen{}
	for _, s := range seen {
		byPlatform[s.Thread.Platform] = append(byPlatform[s.Thread.Platform], s)
	}
	var errs []error
	for _, f := range fetchers {
		marks := byPlatform[f.Platform()]
		if len(marks) == 0 {
			continue
		}
		if !waitReady(ctx, f, clock) {
			errs = append(errs, fmt.Errorf("catchup: %s adapter not ready", f.Platform()))
			continue
		}
		n, err := f.CatchUp(ctx, marks, since)
		if err != nil {
			log.Warn("catching up on messages missed while down", "platform", f.Platform(), "submitted", n, "err", err)
			errs = append(errs, err)
			continue
		}
		log.Info("caught up on messages missed while down", "platform", f.Platform(), "threads", len(marks), "submitted", n, "window", window)
	}
	return errors.Join(errs...)
}

func waitReady(ctx context.Context, f Fetcher, clock bot.Clock) bool {
	for range 600 {
		if f.Ready() {
			return true
		}
		select {
		case <-ctx.Done():
			return false
		case <-clock.After(100 * time.Millisecond):
		}
	}
	return f.Ready()
}

// MaxThreads bounds the threads an adapter reads per start (each costs an
// API call, under the platform's rate limits): the most recently active.
const MaxThreads = 200

// Newest returns the n marks with the newest messages.
func Newest(seen []Seen, n int) []Seen {
	if len(seen) <= n {
		return seen
	}
	out := append([]Seen(nil), seen...)
	sort.Slice(out, func(i, j int) bool { return out[i].Time.After(out[j].Time) })
	return out[:n]
}

// From is where the catch-up of a thread starts: Margin before its mark,
// but not before since.
func From(s Seen, since time.Time) time.Time {
	from := s.Time.Add(-Margin)
	if from.Before(since) {
		return since
	}
	return from
}
