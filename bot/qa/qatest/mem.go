// Package qatest checks a qa.Store: Run is the conformance suite every
// implementation passes (storage.Support and Mem), and Mem is the
// in-memory store handler tests use instead of a database.
package qatest

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/einsatz/einsatz/bot/qa"
)

// Mem is a qa.Store in memory, safe for concurrent use. It keeps records
// forever: retention is the database's business.
type Mem struct {
	mu        sync.Mutex
	seq       uint32
	questions map[string]qa.Question        // without votes
	votes     map[string]map[string]qa.Vote // by question, then platform/user
	drafts    map[string]qa.Draft
}

// NewMem returns an empty store.
func NewMem() *Mem {
	return &Mem{questions: map[string]qa.Question{}, votes: map[string]map[string]qa.Vote{}, drafts: map[string]qa.Draft{}}
}

var _ qa.Store = (*Mem)(nil)

// votesOf returns a question's votes in a stable order; the caller holds mu.
func (s *Mem) votesOf(id string) []qa.Vote {
	keys := make([]string, 0, len(s.votes[id]))
	for k := range s.votes[id] {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	var out []qa.Vote
	for _, k := range keys {
		out = append(out, s.votes[id][k])
	}
	return out
}

func clone(q qa.Question) qa.Question {
	q.Sources, q.Escalations, q.Votes = slices.Clone(q.Sources), slices.Clone(q.Escalations), nil
	return q
}

// AddQuestion implements qa.Store; IDs sort by time, then by order of writing.
func (s *Mem) AddQuestion(_ context.Context, q qa.Question) (string, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.seq++
	q.ID = fmt.Sprintf("%016x-%08x", uint64(q.Time.UnixNano()), s.seq)
	s.questions[q.ID] = clone(q)
	return q.ID, nil
}

// Question implements qa.Store.
func (s *Mem) Question(_ context.Context, id string) (qa.Question, bool, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	q, ok := s.questions[id]
	if !ok {
		return qa.Question{}, false, nil
	}
	q = clone(q)
	q.Votes = s.votesOf(id)
	return q, true, nil
}

// UpdateQuestion implements qa.Store.
func (s *Mem) UpdateQuestion(_ context.Context, id string, fn func(q *qa.Question) bool) (qa.Question, bool, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	q, ok := s.questions[id]
	if !ok {
		return qa.Question{}, false, nil
	}
	q = clone(q)
	if !fn(&q) {
		return q, false, nil
	}
	s.questions[id] = clone(q)
	return q, true, nil
}

// Questions implements qa.Store.
func (s *Mem) Questions(ctx context.Context, since, until time.Time) ([]qa.Question, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	var out []qa.Question
	for id, q := range s.questions {
		if q.Time.Before(since) || !q.Time.Before(until) {
			continue
		}
		q = clone(q)
		q.Votes = s.votesOf(id)
		out = append(out, q)
	}
	slices.SortFunc(out, func(a, b qa.Question) int { return strings.Compare(a.ID, b.ID) })
	return out, ctx.Err()
}

// PutVote implements qa.Store.
func (s *Mem) PutVote(_ context.Context, v qa.Vote) error {
	if v.QuestionID == "" || strings.TrimSpace(v.UserID) == "" {
		return errors.New("qatest: vote needs a question and a user")
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.votes[v.QuestionID] == nil {
		s.votes[v.QuestionID] = map[string]qa.Vote{}
	}
	s.votes[v.QuestionID][v.Platform+"\x00"+v.UserID] = v
	return nil
}

// PutDraft implements qa.Store.
func (s *Mem) PutDraft(_ context.Context, d qa.Draft) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	d.Replies = slices.Clone(d.Replies)
	s.drafts[d.ID] = d
	return nil
}

// Draft implements qa.Store.
func (s *Mem) Draft(_ context.Context, id string) (qa.Draft, bool, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	d, ok := s.drafts[id]
	d.Replies = slices.Clone(d.Replies)
	return d, ok, nil
}

// SettleDraft implements qa.Store.
func (s *Mem) SettleDraft(_ context.Context, id, status, by string, at time.Time) (qa.Draft, bool, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	d, ok := s.drafts[id]
	d.Replies = slices.Clone(d.Replies)
	if !ok || d.Status != qa.ShadowPending {
		return d, false, nil
	}
	d.Status, d.SettledBy, d.Settled = status, by, at
	s.drafts[id] = d
	return d, true, nil
}
