// Package escalationtest checks an escalation.Store: Run is the
// conformance suite every implementation passes (storage.Handoff and
// Mem), and Mem is the in-memory store handler tests use instead of a
// database.
package escalationtest

import (
	"context"
	"slices"
	"sync"

	"github.com/einsatz/einsatz/bot"
	"github.com/einsatz/einsatz/bot/escalation"
)

// Mem is an escalation.Store in memory, safe for concurrent use. It keeps
// records forever: retention is the database's business.
type Mem struct {
	mu  sync.Mutex
	esc map[bot.ThreadRef]escalation.Escalation
}

// NewMem returns an empty store.
func NewMem() *Mem { return &Mem{esc: map[bot.ThreadRef]escalation.Escalation{}} }

var _ escalation.Store = (*Mem)(nil)

// OpenEscalation implements escalation.Store.
func (s *Mem) OpenEscalation(_ context.Context, e escalation.Escalation) (bool, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if old, ok := s.esc[e.Thread]; ok && old.Open() {
		return false, nil
	}
	s.esc[e.Thread] = e
	return true, nil
}

// Escalation implements escalation.Store.
func (s *Mem) Escalation(_ context.Context, thread bot.ThreadRef) (escalation.Escalation, bool, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	e, ok := s.esc[thread]
	return e, ok, nil
}

// PutEscalation implements escalation.Store.
func (s *Mem) PutEscalation(_ context.Context, e escalation.Escalation) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.esc[e.Thread] = e
	return nil
}

// UpdateEscalation implements escalation.Store.
func (s *Mem) UpdateEscalation(_ context.Context, thread bot.ThreadRef, fn func(*escalation.Escalation) error) (escalation.Escalation, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	e, ok := s.esc[thread]
	if !ok {
		return escalation.Escalation{}, escalation.ErrNotFound
	}
	e.Changes = slices.Clone(e.Changes) // fn must not change the stored copy when it fails
	if err := fn(&e); err != nil {
		return escalation.Escalation{}, err
	}
	s.esc[thread] = e
	return e, nil
}

// Escalations implements escalation.Store.
func (s *Mem) Escalations(context.Context) ([]escalation.Escalation, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	out := make([]escalation.Escalation, 0, len(s.esc))
	for _, e := range s.esc {
		out = append(out, e)
	}
	slices.SortStableFunc(out, func(a, b escalation.Escalation) int { return b.Created.Compare(a.Created) })
	return out, nil
}
