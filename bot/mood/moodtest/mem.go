// Package moodtest checks a mood.Store: Run is the conformance suite every
// implementation passes (storage.Sentiment and Mem), and Mem is the
// in-memory store handler tests use instead of a database.
package moodtest

import (
	"cmp"
	"context"
	"fmt"
	"net/url"
	"slices"
	"sync"
	"time"

	"github.com/einsatz/einsatz/bot/mood"
)

// Mem is a mood.Store in memory, safe for concurrent use. It keeps rows
// forever (retention is the database's business), and every row is
// visible when Log returns, negative or not.
type Mem struct {
	mu      sync.Mutex
	seq     int
	rows    map[mood.Channel][]row
	buckets map[string]map[mood.Channel]map[int64]mood.Bucket // by granularity, channel, start (Unix seconds)
	alerts  map[mood.Channel]time.Time
}

type row struct {
	mood.Row
	userID string
	seq    int // rows of the same time keep their order of writing
}

// NewMem returns an empty store.
func NewMem() *Mem {
	return &Mem{rows: map[mood.Channel][]row{}, alerts: map[mood.Channel]time.Time{},
		buckets: map[string]map[mood.Channel]map[int64]mood.Bucket{mood.Hour: {}, mood.Day: {}}}
}

var _ mood.Store = (*Mem)(nil)

// stored is t as storage.Sentiment reads it back (rows are JSON, alerts
// RFC 3339 text): without a monotonic clock reading, its zone as decoding
// makes it — so a row compares equal to one that went through the web API.
func stored(t time.Time) time.Time {
	b, err := t.MarshalText()
	if err != nil { // a year outside 0–9999: storage.Sentiment would fail too
		return t.Round(0)
	}
	var back time.Time
	if err := back.UnmarshalText(b); err != nil {
		return t.Round(0)
	}
	return back
}

// Log implements mood.Store.
func (s *Mem) Log(_ context.Context, r mood.Row, userID string) error {
	r.Time = stored(r.Time)
	s.mu.Lock()
	defer s.mu.Unlock()
	ch := mood.Channel{Platform: r.Platform, ID: r.Channel}
	s.seq++
	s.rows[ch] = append(s.rows[ch], row{r, userID, s.seq})
	for _, by := range []string{mood.Hour, mood.Day} {
		start := mood.BucketStart(by, r.Time)
		if s.buckets[by][ch] == nil {
			s.buckets[by][ch] = map[int64]mood.Bucket{}
		}
		b, ok := s.buckets[by][ch][start.Unix()]
		if !ok {
			b = mood.Bucket{Start: start}
		}
		b.Add(r.Label, r.Score)
		s.buckets[by][ch][start.Unix()] = b
	}
	return nil
}

// Rows implements mood.Store.
func (s *Mem) Rows(ctx context.Context, ch mood.Channel, since, until time.Time) ([]mood.Row, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	var in []row
	for _, r := range s.rows[ch] {
		// Compared in nanoseconds, as storage.Sentiment's keys are.
		if n := r.Time.UnixNano(); n >= since.UnixNano() && n < until.UnixNano() {
			in = append(in, r)
		}
	}
	slices.SortFunc(in, func(a, b row) int { return cmp.Or(a.Time.Compare(b.Time), cmp.Compare(a.seq, b.seq)) })
	var out []mood.Row
	for _, r := range in {
		out = append(out, r.Row)
	}
	return out, ctx.Err()
}

// Buckets implements mood.Store.
func (s *Mem) Buckets(ctx context.Context, by string, ch mood.Channel, since, until time.Time) ([]mood.Bucket, error) {
	if by != mood.Hour && by != mood.Day {
		return nil, fmt.Errorf("moodtest: sentiment buckets: by must be %q or %q", mood.Hour, mood.Day)
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	var out []mood.Bucket
	for start, b := range s.buckets[by][ch] {
		// Compared in whole seconds, as storage.Sentiment's keys are.
		if start >= since.Unix() && start < until.Unix() {
			out = append(out, b)
		}
	}
	slices.SortFunc(out, func(a, b mood.Bucket) int { return a.Start.Compare(b.Start) })
	return out, ctx.Err()
}

// Channels implements mood.Store, in the order of storage.Sentiment's keys.
func (s *Mem) Channels(ctx context.Context) ([]mood.Channel, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	var out []mood.Channel
	for ch := range s.buckets[mood.Day] {
		out = append(out, ch)
	}
	key := func(ch mood.Channel) string { return url.PathEscape(ch.Platform) + "/" + url.PathEscape(ch.ID) }
	slices.SortFunc(out, func(a, b mood.Channel) int { return cmp.Compare(key(a), key(b)) })
	return out, ctx.Err()
}

// LastAlert implements mood.Store.
func (s *Mem) LastAlert(ctx context.Context, ch mood.Channel) (time.Time, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.alerts[ch], ctx.Err()
}

// SetLastAlert implements mood.Store.
func (s *Mem) SetLastAlert(_ context.Context, ch mood.Channel, at time.Time) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.alerts[ch] = stored(at)
	return nil
}

// RowsOf returns the rows Log was given with userID on platform, in order
// of writing: what export and erasure would find of that person.
func (s *Mem) RowsOf(platform, userID string) []mood.Row {
	s.mu.Lock()
	defer s.mu.Unlock()
	var in []row
	for _, rows := range s.rows {
		for _, r := range rows {
			if r.Platform == platform && r.userID == userID && userID != "" {
				in = append(in, r)
			}
		}
	}
	slices.SortFunc(in, func(a, b row) int { return cmp.Compare(a.seq, b.seq) })
	var out []mood.Row
	for _, r := range in {
		out = append(out, r.Row)
	}
	return out
}
