package storage

import (
	"context"
	"encoding/json"
	"fmt"
	"time"

	"github.com/dgraph-io/badger/v4"

	"github.com/einsatz/einsatz/bot/catchup"
)

// catchupTTL is how long a thread's mark is kept: longer than any sensible
// catchup.window, short enough that marks of quiet threads go away.
const catchupTTL = 24 * time.Hour

// CatchUp keeps, per thread, the newest message the core handled
// (catchup/), for the catch-up after a restart. It implements catchup.Store.
// A mark holds ids and a time, nothing a person wrote.
type CatchUp struct{ s *Store }

// NewCatchUp returns the catch-up marks over s.
func NewCatchUp(s *Store) *CatchUp { return &CatchUp{s: s} }

var _ catchup.Store = (*CatchUp)(nil)

// PutSeen records the thread's newest handled message. The mark is
// committed but not synced on its own (commitVisible): one lost to a power
// cut only starts the next catch-up earlier, and what it fetches again is
// dropped by the durable "seen" marks.
func (c *CatchUp) PutSeen(ctx context.Context, s catchup.Seen) error {
	v, err := json.Marshal(s)
	if err != nil {
		return fmt.Errorf("storage: catch-up mark: %w", err)
	}
	e := expiring([]byte(prefixCatchUp+threadPart(s.Thread)), v, s.Time, catchupTTL)
	if e == nil {
		return nil // older than any window
	}
	if err := c.s.commitVisible(ctx, func(txn *badger.Txn) error { return txn.SetEntry(e) }); err != nil {
		return fmt.Errorf("storage: catch-up mark: %w", err)
	}
	return nil
}

// SeenSince returns the marks at or after since.
func (c *CatchUp) SeenSince(ctx context.Context, since time.Time) ([]catchup.Seen, error) {
	var out []catchup.Seen
	p := []byte(prefixCatchUp)
	err := c.s.view(func(txn *badger.Txn) error {
		it := txn.NewIterator(badger.IteratorOptions{Prefix: p, PrefetchValues: true, PrefetchSize: 64})
		defer it.Close()
		for it.Rewind(); it.ValidForPrefix(p); it.Next() {
			if err := ctx.Err(); err != nil {
				return err
			}
			var s catchup.Seen
			if err := it.Item().Value(func(v []byte) error { return json.Unmarshal(v, &s) }); err != nil {
				return fmt.Errorf("%s: %w", it.Item().Key(), err)
			}
			if !s.Time.Before(since) {
				out = append(out, s)
			}
		}
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("storage: catch-up marks: %w", err)
	}
	return out, nil
}
