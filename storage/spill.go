package storage

import (
	"context"
	"encoding/json"
	"fmt"
	"sync"

	"github.com/dgraph-io/badger/v4"

	"github.com/einsatz/einsatz/bot"
)

// Spill keeps an event that did not fit the in-memory queue, durably.
func (s *Store) Spill(ctx context.Context, ev bot.Event) error {
	value, err := json.Marshal(ev)
	if err != nil {
		return fmt.Errorf("storage: spill event: %w", err)
	}
	id := timeSeq(ev.Time, &s.seq)
	key := []byte(prefixSpill + id)
	err = s.commit(ctx, func(txn *badger.Txn) error { return txn.Set(key, value) })
	// Noted even when the commit failed: it may have been written yet
	// not synced, and a cursor too low costs only a longer read.
	s.spill.written(id)
	if err != nil {
		return fmt.Errorf("storage: spill event: %w", err)
	}
	return nil
}

// spillCursor keeps reads of kept events from passing over the deleted ones
// again and again: they are the oldest, Badger keeps their tombstones until
// a compaction, and a read from the start walked every one of them — under
// a backlog, thousands per read, most of the bot's CPU. A read starts at the
// first event that was kept when the last read looked (every one before it
// had been deleted), or lower where a newer write went (an event's key is
// its time, which need not grow).
type spillCursor struct {
	reading sync.Mutex // one read at a time

	mu   sync.Mutex
	from string // ids before it are deleted; "" is the start
	none bool   // the last read found none kept, and none was written since
	// low is the lowest id written since the running read began, if any.
	low    string
	lowSet bool
}

// written notes a kept event, once it is committed.
func (c *spillCursor) written(id string) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.none || id < c.from {
		c.from, c.none = id, false
	}
	if !c.lowSet || id < c.low {
		c.low, c.lowSet = id, true
	}
}

// start begins a read: where it starts, and whether there is nothing to read.
// Called before the read's snapshot, so every write noted after it is
// either in the snapshot or lowers the cursor at done.
func (c *spillCursor) start() (from string, none bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.lowSet = false
	return c.from, c.none
}

// done ends a read that found first (the lowest id kept in its snapshot,
// "" and found false when none was).
func (c *spillCursor) done(first string, found bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	switch {
	case c.lowSet && (!found || c.low < first):
		c.from, c.none = c.low, false
	case found:
		c.from, c.none = first, false
	default:
		c.none = true
	}
}

// Spilled returns up to n kept events, oldest first, passing over those
// skip reports (nil skips none) without reading them: the core skips the
// ones it is handling already, which stay kept until they are done.
func (s *Store) Spilled(ctx context.Context, n int, skip func(id string) bool) ([]bot.SpilledEvent, error) {
	if n <= 0 {
		return nil, nil
	}
	s.spill.reading.Lock()
	defer s.spill.reading.Unlock()
	from, none := s.spill.start()
	if none {
		return nil, nil
	}
	var out []bot.SpilledEvent
	var first string
	found := false
	p := []byte(prefixSpill)
	err := s.view(func(txn *badger.Txn) error {
		// Keys only: values are read for the events returned.
		it := txn.NewIterator(badger.IteratorOptions{Prefix: p})
		defer it.Close()
		for it.Seek([]byte(prefixSpill + from)); it.ValidForPrefix(p) && len(out) < n; it.Next() {
			item := it.Item()
			id := string(item.Key()[len(p):])
			if !found {
				first, found = id, true
			}
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
		// The cursor stays where it was (a write meanwhile lowered it).
		return nil, fmt.Errorf("storage: spilled events: %w", err)
	}
	s.spill.done(first, found)
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
