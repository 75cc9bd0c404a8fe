package storage

import (
	"context"
	"encoding/json"
	"fmt"

	"github.com/dgraph-io/badger/v4"

	"github.com/einsatz/einsatz/bot"
)

// Spill keeps an event that did not fit the in-memory queue, durably.
func (s *Store) Spill(ctx context.Context, ev bot.Event) error {
	value, err := json.Marshal(ev)
	if err != nil {
		return fmt.Errorf("storage: spill event: %w", err)
	}
	key := []byte(prefixSpill + timeSeq(ev.Time, &s.seq))
	if err := s.commit(ctx, func(txn *badger.Txn) error { return txn.Set(key, value) }); err != nil {
		return fmt.Errorf("storage: spill event: %w", err)
	}
	return nil
}

// Spilled returns up to n kept events, oldest first, passing over those
// skip reports (nil skips none) without reading them: the core skips the
// ones it is handling already, which stay kept until they are done.
func (s *Store) Spilled(ctx context.Context, n int, skip func(id string) bool) ([]bot.SpilledEvent, error) {
	var out []bot.SpilledEvent
	p := []byte(prefixSpill)
	err := s.view(func(txn *badger.Txn) error {
		// Keys only: values are read for the events returned.
		it := txn.NewIterator(badger.IteratorOptions{Prefix: p})
		defer it.Close()
		for it.Rewind(); it.ValidForPrefix(p) && len(out) < n; it.Next() {
			item := it.Item()
			id := string(item.Key()[len(p):])
			if skip != nil && skip(id) {
				continue
			}
			var ev bot.Event
			if err := item.Value(func(v []byte) error { return json.Unmarshal(v, &ev) }); err != nil {
				return fmt.Errorf("%s: %w", item.Key(), err)
			}
			out = append(out, bot.SpilledEvent{ID: id, Event: ev})
		}
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("storage: spilled events: %w", err)
	}
	return out, nil
}

// DeleteSpilled forgets a kept event once it has been handled.
func (s *Store) DeleteSpilled(ctx context.Context, id string) error {
	key := []byte(prefixSpill + id)
	if err := s.commit(ctx, func(txn *badger.Txn) error { return txn.Delete(key) }); err != nil {
		return fmt.Errorf("storage: delete spilled event: %w", err)
	}
	return nil
}
