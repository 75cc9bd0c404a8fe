// Package solvedtest checks a solved.Store: Run is the conformance suite
// every implementation passes (storage.Solved and Mem), and Mem is the
// in-memory store handler tests use instead of a database.
package solvedtest

import (
	"context"
	"errors"
	"fmt"
	"maps"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/einsatz/einsatz/bot"
	"github.com/einsatz/einsatz/bot/solved"
)

// Mem is a solved.Store in memory, safe for concurrent use.
type Mem struct {
	mu     sync.Mutex
	m      map[string]solved.Candidate
	nudges map[string]solved.Nudge // by thread key
}

var _ solved.Store = (*Mem)(nil)

// NewMem returns an empty store.
func NewMem() *Mem { return &Mem{m: map[string]solved.Candidate{}, nudges: map[string]solved.Nudge{}} }

// Candidate implements solved.Store.
func (m *Mem) Candidate(ctx context.Context, id string) (solved.Candidate, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	c, ok := m.m[id]
	if !ok {
		return c, solved.ErrNotExist
	}
	return c, ctx.Err()
}

// PutCandidate implements solved.Store.
func (m *Mem) PutCandidate(ctx context.Context, c solved.Candidate) error {
	if c.ID == "" {
		return errors.New("solvedtest: candidate without id")
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	m.m[c.ID] = c
	return ctx.Err()
}

// Candidates implements solved.Store.
func (m *Mem) Candidates(ctx context.Context) ([]solved.Candidate, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	out := slices.Collect(maps.Values(m.m))
	solved.Sort(out)
	return out, ctx.Err()
}

// DeleteCandidate implements solved.Store.
func (m *Mem) DeleteCandidate(ctx context.Context, id string) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	delete(m.m, id)
	return ctx.Err()
}

// Run checks that the stores newStore makes (a fresh, empty one per call)
// behave as solved.Store says.
func Run(t *testing.T, newStore func(t *testing.T) solved.Store) {
	ctx := context.Background()
	at := time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)
	cand := func(id string, created time.Time) solved.Candidate {
		return solved.Candidate{ID: id, Thread: bot.ThreadRef{Platform: "discord", ChannelID: "c1", ThreadID: "t/" + id},
			Question: "How do I reset my password?", Answer: "Settings → Account → Reset.", Permalink: "https://discord.com/channels/g/t/m",
			By: "asker", Created: created, Status: solved.StatusPending}
	}
	t.Run("missing", func(t *testing.T) {
		s := newStore(t)
		if _, err := s.Candidate(ctx, "nope"); !errors.Is(err, solved.ErrNotExist) {
			t.Fatalf("Candidate of an unknown id: err %v, want ErrNotExist", err)
		}
		if got, err := s.Candidates(ctx); err != nil || len(got) != 0 {
			t.Fatalf("Candidates of an empty store = %v, %v", got, err)
		}
		if err := s.DeleteCandidate(ctx, "nope"); err != nil {
			t.Fatalf("deleting an unknown candidate: %v", err)
		}
	})
	t.Run("round trip and order", func(t *testing.T) {
		s := newStore(t)
		for i, id := range []string{"b2", "a1", "c3"} {
			if err := s.PutCandidate(ctx, cand(id, at.Add(time.Duration(2-i)*time.Minute))); err != nil {
				t.Fatal(err)
			}
		}
		got, err := s.Candidate(ctx, "a1")
		if err != nil {
			t.Fatal(err)
		}
		if want := cand("a1", at.Add(time.Minute)); fmt.Sprint(got) != fmt.Sprint(want) {
			t.Errorf("Candidate = %+v\nwant %+v", got, want)
		}
		all, err := s.Candidates(ctx)
		if err != nil {
			t.Fatal(err)
		}
		var ids []string
		for _, c := range all {
			ids = append(ids, c.ID)
		}
		if fmt.Sprint(ids) != "[c3 a1 b2]" {
			t.Errorf("Candidates ids = %v, want oldest first [c3 a1 b2]", ids)
		}
	})
	t.Run("replace and delete", func(t *testing.T) {
		s := newStore(t)
		c := cand("a1", at)
		if err := s.PutCandidate(ctx, c); err != nil {
			t.Fatal(err)
		}
		c.Status, c.Entry, c.Reviewed, c.Answer = solved.StatusApproved, "added/solved-a1.md", at.Add(time.Hour), "edited"
		if err := s.PutCandidate(ctx, c); err != nil {
			t.Fatal(err)
		}
		got, err := s.Candidate(ctx, c.ID)
		if err != nil || got.Status != solved.StatusApproved || got.Answer != "edited" || !got.Reviewed.Equal(c.Reviewed) {
			t.Fatalf("after replacing: %+v, %v", got, err)
		}
		if all, _ := s.Candidates(ctx); len(all) != 1 {
			t.Fatalf("after replacing: %d candidates, want 1", len(all))
		}
		if err := s.DeleteCandidate(ctx, c.ID); err != nil {
			t.Fatal(err)
		}
		if _, err := s.Candidate(ctx, c.ID); !errors.Is(err, solved.ErrNotExist) {
			t.Fatalf("after delete: err %v, want ErrNotExist", err)
		}
	})
}
