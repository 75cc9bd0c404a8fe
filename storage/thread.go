package storage

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"sort"
	"time"

	"github.com/dgraph-io/badger/v4"

	"github.com/einsatz/einsatz/bot"
)

// Accept records an event key as seen and, when turn is not nil, appends
// the turn to the thread's history, in one durable write. It returns false
// when the key was seen before; then nothing is written.
func (s *Store) Accept(ctx context.Context, key string, ttl time.Duration, thread bot.ThreadRef, turn *bot.Turn) (bool, error) {
	return s.accept(ctx, key, ttl, thread, turn, nil, nil)
}

// accept is Accept that, when pending is not nil, also keeps it (a JSON
// event) under unfinished/ in the same write, and when forget is not nil
// deletes that key in it, whether or not the key was seen before.
func (s *Store) accept(ctx context.Context, key string, ttl time.Duration, thread bot.ThreadRef, turn *bot.Turn, pending, forget []byte) (bool, error) {
	first := false
	err := s.commitThen(ctx, func(txn *badger.Txn) error {
		k := seenKey(key)
		_, err := txn.Get(k)
		if err == nil {
			if forget != nil {
				return txn.Delete(forget)
			}
			return nil
		}
		if !errors.Is(err, badger.ErrKeyNotFound) {
			return err
		}
		var value []byte
		if turn != nil {
			if value, err = json.Marshal(turn); err != nil {
				return err
			}
		}
		if err := txn.SetEntry(expiring(k, nil, time.Time{}, ttl)); err != nil {
			return err
		}
		if turn != nil {
			if err := s.setTurn(txn, thread, turn.UserID, turn.Time, value); err != nil {
				return err
			}
		}
		if pending != nil {
			if err := txn.Set(unfinishedKey(key), pending); err != nil {
				return err
			}
		}
		if forget != nil {
			if err := txn.Delete(forget); err != nil {
				return err
			}
		}
		first = true
		return nil
	}, func() {
		if first && turn != nil && kept(turn.Time, s.opts.MessageTTL) {
			s.remember(thread, *turn)
		}
	})
	if err != nil {
		return false, fmt.Errorf("storage: accept event: %w", err)
	}
	return first, nil
}

// AppendTurn adds a turn to the thread's history. It queues the write and
// returns before it is on disk (a bot's reply is no promise to anyone); the
// turn lands in order with every later write, so History after any later
// durable write (such as the next Accept) includes it.
func (s *Store) AppendTurn(ctx context.Context, thread bot.ThreadRef, turn bot.Turn) error {
	value, err := json.Marshal(turn)
	if err != nil {
		return fmt.Errorf("storage: append turn: %w", err)
	}
	if err := s.commitLater(ctx, "append turn", func(txn *badger.Txn) error {
		return s.setTurn(txn, thread, turn.UserID, turn.Time, value)
	}, func() {
		if kept(turn.Time, s.opts.MessageTTL) {
			s.remember(thread, turn)
		}
	}); err != nil {
		return fmt.Errorf("storage: append turn: %w", err)
	}
	return nil
}

// setTurn writes a history entry with the message TTL and, for a person's
// turn, the user index entry that finds it. Turns are keyed by the time they
// are written, so the history is in the order the bot handled them (each
// answer right after its question) even when messages queued up.
func (s *Store) setTurn(txn *badger.Txn, thread bot.ThreadRef, userID string, at time.Time, value []byte) error {
	key := histPrefix(thread) + timeSeq(time.Now(), &s.seq)
	e := expiring([]byte(key), value, at, s.opts.MessageTTL)
	if e == nil {
		return nil // older than the retention period (an import)
	}
	if err := txn.SetEntry(e); err != nil {
		return err
	}
	if userID == "" {
		return nil
	}
	return txn.SetEntry(expiring(userIndexKey(thread.Platform, userID, key), nil, at, s.opts.MessageTTL))
}

// cachedTurns is how many recent turns of a thread the cache keeps; History
// asks for more read from disk.
const cachedTurns = 64

// cacheSlack is the room for new turns a thread's cached history starts with.
const cacheSlack = 4

// History returns the last n turns of a thread, oldest first.
func (s *Store) History(ctx context.Context, thread bot.ThreadRef, n int) ([]bot.Turn, error) {
	if n <= cachedTurns {
		if turns, ok := s.recent.Get(thread.Key()); ok {
			return lastTurns(turns, n), nil
		}
		s.cacheMu.Lock()
		defer s.cacheMu.Unlock()
		turns, err := s.readHistory(ctx, thread, cachedTurns)
		if err != nil {
			return nil, err
		}
		// Room for a few more turns, not for 2×cachedTurns: most threads
		// stay short, and the cache holds thousands of them.
		s.recent.Add(thread.Key(), append(make([]bot.Turn, 0, len(turns)+cacheSlack), turns...))
		return lastTurns(turns, n), nil
	}
	return s.readHistory(ctx, thread, n)
}

// remember appends a committed turn to the thread's cached history, if the
// thread is cached. Cached slices are append-only: a turn is written past
// the end that earlier readers see, so readers need no lock; when the
// array is full the turns move to a larger one (append), and once the
// thread holds 2×cachedTurns, the newest cachedTurns-1 move to a fresh one.
func (s *Store) remember(thread bot.ThreadRef, turn bot.Turn) {
	s.cacheMu.Lock()
	defer s.cacheMu.Unlock()
	turns, ok := s.recent.Peek(thread.Key())
	if !ok {
		return
	}
	if len(turns) == cap(turns) && len(turns) >= 2*cachedTurns {
		keep := lastTurns(turns, cachedTurns-1)
		turns = make([]bot.Turn, len(keep), 2*cachedTurns)
		copy(turns, keep)
	}
	s.recent.Add(thread.Key(), append(turns, turn))
}

// lastTurns returns a copy of the last n turns.
func lastTurns(turns []bot.Turn, n int) []bot.Turn {
	if len(turns) > n {
		turns = turns[len(turns)-n:]
	}
	return append([]bot.Turn(nil), turns...)
}

func (s *Store) readHistory(ctx context.Context, thread bot.ThreadRef, n int) ([]bot.Turn, error) {
	prefix := []byte(histPrefix(thread))
	var turns []bot.Turn
	err := s.view(func(txn *badger.Txn) error {
		// No value prefetching: going in reverse, Badger prefetches the
		// next PrefetchSize keys whether or not they carry the prefix, each
		// value in a goroutine of its own — for a new thread, n turns of
		// other threads read and thrown away.
		it := txn.NewIterator(badger.IteratorOptions{Reverse: true, Prefix: prefix})
		defer it.Close()
		for it.Seek(append(append([]byte{}, prefix...), 0xff)); it.ValidForPrefix(prefix) && len(turns) < n; it.Next() {
			var t bot.Turn
			if err := it.Item().Value(func(v []byte) error { return json.Unmarshal(v, &t) }); err != nil {
				return err
			}
			turns = append(turns, t)
		}
		return ctx.Err()
	})
	if err != nil {
		return nil, fmt.Errorf("storage: history of %s: %w", thread.Key(), err)
	}
	for i, j := 0, len(turns)-1; i < j; i, j = i+1, j-1 {
		turns[i], turns[j] = turns[j], turns[i]
	}
	return turns, nil
}

// Owner returns who owns a thread; the zero Owner means the bot. Staff-owned
// threads are few and asked about on every event, so they are kept in
// memory (loaded at Open, updated by SetOwner).
func (s *Store) Owner(_ context.Context, thread bot.ThreadRef) (bot.Owner, error) {
	s.ownersMu.RLock()
	defer s.ownersMu.RUnlock()
	return s.owners[thread.Key()].Owner, nil
}

// Owned returns every thread staff own now, by thread key.
func (s *Store) Owned(_ context.Context) []bot.OwnedThread {
	s.ownersMu.RLock()
	defer s.ownersMu.RUnlock()
	out := make([]bot.OwnedThread, 0, len(s.owners))
	for _, r := range s.owners {
		out = append(out, bot.OwnedThread{Thread: r.Thread, Owner: r.Owner})
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Thread.Key() < out[j].Thread.Key() })
	return out
}

func (s *Store) loadOwners() error {
	owners := map[string]ownerRecord{}
	err := s.scan(context.Background(), prefixOwner, func(k, v []byte) error {
		var r ownerRecord
		if err := json.Unmarshal(v, &r); err != nil {
			return fmt.Errorf("%s: %w", k, err)
		}
		owners[r.Thread.Key()] = r
		return nil
	})
	if err != nil {
		return err
	}
	s.ownersMu.Lock()
	s.owners = owners
	s.ownersMu.Unlock()
	return nil
}

// ownerRecord is what owner/ keys hold: the owner and its thread.
type ownerRecord struct {
	bot.Owner
	Thread bot.ThreadRef `json:"thread"`
}

// TouchOwner records that staff wrote in a thread they own (for hand-back
// after a quiet time); it is not an owner change and not audited. It does
// nothing when the bot owns the thread.
func (s *Store) TouchOwner(ctx context.Context, thread bot.ThreadRef, at time.Time) error {
	s.ownersMu.RLock()
	r, ok := s.owners[thread.Key()]
	s.ownersMu.RUnlock()
	if !ok {
		return nil
	}
	r.LastActive = at
	v, err := json.Marshal(r)
	if err != nil {
		return err
	}
	err = s.commitThen(ctx, func(txn *badger.Txn) error {
		// Check again in the write: a hand-back committed meanwhile must
		// not be undone by writing the old owner back.
		item, err := txn.Get(ownerKey(thread))
		if errors.Is(err, badger.ErrKeyNotFound) {
			return nil
		}
		if err != nil {
			return err
		}
		var cur ownerRecord
		if err := item.Value(func(b []byte) error { return json.Unmarshal(b, &cur) }); err != nil {
			return err
		}
		if cur.Staff != r.Staff {
			return nil
		}
		return txn.Set(ownerKey(thread), v)
	}, func() {
		s.ownersMu.Lock()
		defer s.ownersMu.Unlock()
		if cur, ok := s.owners[thread.Key()]; ok && cur.Staff == r.Staff {
			s.owners[thread.Key()] = r
		}
	})
	if err != nil {
		return fmt.Errorf("storage: touch owner of %s: %w", thread.Key(), err)
	}
	return nil
}

// AuditEntry is one line of the audit log: who changed what.
type AuditEntry struct {
	Time   time.Time `json:"time"`
	Actor  string    `json:"actor"`
	Action string    `json:"action"`
	Target string    `json:"target"`
	Detail string    `json:"detail,omitempty"`
}

// SetOwner hands a thread to a staff member (or back to the bot with a zero
// Owner.Staff) and records the change in the audit log, in one write.
func (s *Store) SetOwner(ctx context.Context, thread bot.ThreadRef, o bot.Owner) error {
	entry := AuditEntry{Time: o.Since, Actor: o.By, Action: "takeover", Target: thread.Key(), Detail: o.Staff}
	if o.Bot() {
		entry.Action = "release"
	}
	if entry.Time.IsZero() {
		entry.Time = time.Now()
	}
	owner, err := json.Marshal(ownerRecord{Owner: o, Thread: thread})
	if err != nil {
		return fmt.Errorf("storage: set owner: %w", err)
	}
	audit, err := json.Marshal(entry)
	if err != nil {
		return fmt.Errorf("storage: set owner: %w", err)
	}
	err = s.commitThen(ctx, func(txn *badger.Txn) error {
		if o.Bot() {
			if err := txn.Delete(ownerKey(thread)); err != nil {
				return err
			}
		} else if err := txn.Set(ownerKey(thread), owner); err != nil {
			return err
		}
		return txn.SetEntry(expiring([]byte(prefixAudit+timeSeq(entry.Time, &s.seq)), audit, time.Time{}, s.opts.AuditTTL))
	}, func() {
		s.ownersMu.Lock()
		defer s.ownersMu.Unlock()
		if o.Bot() {
			delete(s.owners, thread.Key())
		} else {
			s.owners[thread.Key()] = ownerRecord{Owner: o, Thread: thread}
		}
	})
	if err != nil {
		return fmt.Errorf("storage: set owner of %s: %w", thread.Key(), err)
	}
	return nil
}

// Audit returns the audit log, oldest first.
func (s *Store) Audit(ctx context.Context) ([]AuditEntry, error) {
	var entries []AuditEntry
	err := s.scan(ctx, prefixAudit, func(_ []byte, v []byte) error {
		var e AuditEntry
		if err := json.Unmarshal(v, &e); err != nil {
			return err
		}
		entries = append(entries, e)
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("storage: audit log: %w", err)
	}
	return entries, nil
}

// UserRecords returns the keys of every record that belongs to a person,
// so export and erasure can find them all.
func (s *Store) UserRecords(ctx context.Context, platform, userID string) ([]string, error) {
	prefix := userPrefix(platform, userID)
	var keys []string
	err := s.scan(ctx, prefix, func(k, _ []byte) error {
		keys = append(keys, string(k[len(prefix):]))
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("storage: records of %s/%s: %w", platform, userID, err)
	}
	return keys, nil
}

// scan calls fn for every key under prefix in order.
func (s *Store) scan(ctx context.Context, prefix string, fn func(k, v []byte) error) error {
	p := []byte(prefix)
	return s.view(func(txn *badger.Txn) error {
		it := txn.NewIterator(badger.IteratorOptions{Prefix: p, PrefetchValues: true, PrefetchSize: 64})
		defer it.Close()
		for it.Rewind(); it.ValidForPrefix(p); it.Next() {
			if err := ctx.Err(); err != nil {
				return err
			}
			item := it.Item()
			if err := item.Value(func(v []byte) error { return fn(item.Key(), v) }); err != nil {
				return err
			}
		}
		return nil
	})
}
