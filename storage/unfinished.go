package storage

import (
	"context"
	"encoding/json"
	"fmt"
	"sort"
	"time"

	"github.com/dgraph-io/badger/v4"

	"github.com/einsatz/einsatz/bot"
)

// AcceptUnfinished is Accept that also keeps the event itself under
// unfinished/, in the same durable write, until Finish forgets it: an event
// killed between its "seen" mark and its replies is not lost, the core
// resumes it at the next start (Unfinished). Nothing is kept when the key was
// seen before. spillID, when not "", names the event among the kept ones
// (Spill): the same write deletes that record, whether the key is new (the
// unfinished record takes over) or was seen before (the seen mark makes a
// replay of it a duplicate). One transaction, so a crash leaves either the
// kept event or the seen mark and unfinished record, never neither.
func (s *Store) AcceptUnfinished(ctx context.Context, ev bot.Event, spillID string, ttl time.Duration, turn *bot.Turn) (bool, error) {
	value, err := json.Marshal(ev)
	if err != nil {
		return false, fmt.Errorf("storage: accept event: %w", err)
	}
	var forget []byte
	if spillID != "" {
		forget = []byte(prefixSpill + spillID)
	}
	return s.accept(ctx, ev.Key, ttl, ev.Thread(), turn, value, forget)
}

// Finish forgets an accepted event once it is done. It queues the delete and
// returns before it is on disk, so it costs the hot path no sync of its own:
// a crash before the delete lands means the event is resumed (and may be
// answered twice), never lost. Under load the deletes of many events share
// one queued write.
func (s *Store) Finish(ctx context.Context, key string) error {
	s.finMu.Lock()
	s.finished = append(s.finished, unfinishedKey(key))
	queue := !s.finishing
	s.finishing = true
	s.finMu.Unlock()
	if !queue {
		return nil // the queued write takes it along
	}
	// The keys are taken on the first run only: when another write of
	// the batch fails, the committer runs this one again on a fresh
	// transaction (flush), and it must delete the same keys then.
	var keys [][]byte
	taken := false
	err := s.commitLater(ctx, "finish events", func(txn *badger.Txn) error {
		if !taken {
			s.finMu.Lock()
			keys = s.finished
			s.finished = nil
			s.finishing = false
			s.finMu.Unlock()
			taken = true
		}
		for _, k := range keys {
			if err := txn.Delete(k); err != nil {
				return err // those left are resumed at the next start
			}
		}
		return nil
	}, nil)
	if err != nil {
		s.finMu.Lock()
		s.finishing = false
		s.finMu.Unlock()
		return fmt.Errorf("storage: finish event: %w", err)
	}
	return nil
}

// Unfinished returns the events accepted and not finished, oldest first (by
// event time).
func (s *Store) Unfinished(ctx context.Context) ([]bot.Event, error) {
	var out []bot.Event
	err := s.scan(ctx, prefixUnfin, func(k, v []byte) error {
		var ev bot.Event
		if err := json.Unmarshal(v, &ev); err != nil {
			return fmt.Errorf("%s: %w", k, err)
		}
		out = append(out, ev)
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("storage: unfinished events: %w", err)
	}
	sort.SliceStable(out, func(i, j int) bool { return out[i].Time.Before(out[j].Time) })
	return out, nil
}
