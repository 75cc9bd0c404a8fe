package storage

import (
	"context"
	"errors"
	"fmt"
	"net/url"

	"github.com/dgraph-io/badger/v4"

	"github.com/einsatz/einsatz/bot/solved"
)

// Solved keeps the knowledge candidates of solved threads over the shared
// Store. They carry no user id (the text is redacted), so they have no
// user index entries and an erasure leaves them.
type Solved struct{ s *Store }

// NewSolved returns the candidate store over s.
func NewSolved(s *Store) *Solved { return &Solved{s: s} }

var _ solved.Store = (*Solved)(nil)

func candKey(id string) []byte { return []byte(prefixKBCand + url.PathEscape(id)) }

// Candidate returns one candidate, or solved.ErrNotExist.
func (b *Solved) Candidate(ctx context.Context, id string) (solved.Candidate, error) {
	c, err := getRecord[solved.Candidate](ctx, b.s, candKey(id), solved.ErrNotExist)
	if err != nil && !errors.Is(err, solved.ErrNotExist) {
		return c, fmt.Errorf("storage: knowledge candidate %s: %w", id, err)
	}
	return c, err
}

// PutCandidate stores a candidate, replacing the one of the same ID.
func (b *Solved) PutCandidate(ctx context.Context, c solved.Candidate) error {
	if c.ID == "" {
		return errors.New("storage: put knowledge candidate: no id")
	}
	if err := putRecord(ctx, b.s, candKey(c.ID), c); err != nil {
		return fmt.Errorf("storage: put knowledge candidate %s: %w", c.ID, err)
	}
	return nil
}

// Candidates returns every candidate, oldest first.
func (b *Solved) Candidates(ctx context.Context) ([]solved.Candidate, error) {
	out, err := scanRecords[solved.Candidate](ctx, b.s, prefixKBCand)
	if err != nil {
		return nil, fmt.Errorf("storage: knowledge candidates: %w", err)
	}
	solved.Sort(out)
	return out, nil
}

// DeleteCandidate removes a candidate.
func (b *Solved) DeleteCandidate(ctx context.Context, id string) error {
	if err := b.s.commit(ctx, func(txn *badger.Txn) error { return txn.Delete(candKey(id)) }); err != nil {
		return fmt.Errorf("storage: delete knowledge candidate %s: %w", id, err)
	}
	return nil
}

var _ solved.NudgeStore = (*Solved)(nil)

func nudgeKey(thread string) []byte { return []byte(prefixKBNudge + url.PathEscape(thread)) }

// Nudge returns a watched thread's record, or solved.ErrNotExist.
func (b *Solved) Nudge(ctx context.Context, thread string) (solved.Nudge, error) {
	n, err := getRecord[solved.Nudge](ctx, b.s, nudgeKey(thread), solved.ErrNotExist)
	if err != nil && !errors.Is(err, solved.ErrNotExist) {
		return n, fmt.Errorf("storage: nudge %s: %w", thread, err)
	}
	return n, err
}

// PutNudge stores a watched thread's record.
func (b *Solved) PutNudge(ctx context.Context, n solved.Nudge) error {
	key := n.Thread.Key()
	if err := putRecord(ctx, b.s, nudgeKey(key), n); err != nil {
		return fmt.Errorf("storage: put nudge %s: %w", key, err)
	}
	return nil
}

// Nudges returns every watched thread's record.
func (b *Solved) Nudges(ctx context.Context) ([]solved.Nudge, error) {
	out, err := scanRecords[solved.Nudge](ctx, b.s, prefixKBNudge)
	if err != nil {
		return nil, fmt.Errorf("storage: nudges: %w", err)
	}
	return out, nil
}

// DeleteNudge removes a watched thread's record.
func (b *Solved) DeleteNudge(ctx context.Context, thread string) error {
	if err := b.s.commit(ctx, func(txn *badger.Txn) error { return txn.Delete(nudgeKey(thread)) }); err != nil {
		return fmt.Errorf("storage: delete nudge %s: %w", thread, err)
	}
	return nil
}
