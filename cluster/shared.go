package cluster

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/nats-io/nats.go/jetstream"
)

// shared is a key-value bucket of JSON records that every node follows
// into memory with a watcher (as Owners does for thread owners): reads
// cost no JetStream operation, and every write is a compare-and-set on
// the revision this node knows, read again from the bucket after a lost
// race. It holds the escalations (escalations.go) and the research inbox
// (inbox.go).
type shared[T any] struct {
	kv  jetstream.KeyValue
	log *slog.Logger
	ops *atomic.Int64 // counts the writes and the reads after a lost race
	// changed, when set, is called with the key of each change the
	// watcher delivers that this node had not made itself (outside the
	// lock).
	changed atomic.Pointer[func(key string)]

	mu      sync.RWMutex
	m       map[string]sharedEntry[T]
	watcher jetstream.KeyWatcher
}

type sharedEntry[T any] struct {
	v    T
	rev  uint64
	gone bool // deleted at rev (kept so an older write delivered late stays out)
}

// errStop, returned by an update's function, leaves the record as it is
// without it being an error for the caller of update.
var errStop = errors.New("cluster: nothing to change")

// watchShared loads the bucket and follows its changes until stop; what
// names the records in errors.
func watchShared[T any](ctx context.Context, kv jetstream.KeyValue, log *slog.Logger, ops *atomic.Int64) (*shared[T], error) {
	s := &shared[T]{kv: kv, log: log, ops: ops, m: map[string]sharedEntry[T]{}}
	w, err := kv.WatchAll(context.WithoutCancel(ctx))
	if err != nil {
		return nil, fmt.Errorf("cluster: watch %s: %w", kv.Bucket(), err)
	}
	s.watcher = w
	if err := follow(ctx, w, s.apply, nil); err != nil {
		return nil, fmt.Errorf("cluster: load %s: %w", kv.Bucket(), err)
	}
	return s, nil
}

func (s *shared[T]) apply(e jetstream.KeyValueEntry) {
	if e.Operation() != jetstream.KeyValuePut {
		s.mu.Lock()
		cur, ok := s.m[e.Key()]
		newer := !ok || cur.rev < e.Revision()
		if newer {
			s.m[e.Key()] = sharedEntry[T]{rev: e.Revision(), gone: true}
		}
		s.mu.Unlock()
		s.tell(newer, e.Key())
		return
	}
	var v T
	if err := json.Unmarshal(e.Value(), &v); err != nil {
		s.log.Error("undecodable shared record", "bucket", s.kv.Bucket(), "err", err)
		return
	}
	s.mu.Lock()
	cur, ok := s.m[e.Key()]
	newer := !ok || cur.rev < e.Revision()
	if newer {
		s.m[e.Key()] = sharedEntry[T]{v: v, rev: e.Revision()}
	}
	s.mu.Unlock()
	s.tell(newer, e.Key())
}

func (s *shared[T]) tell(newer bool, key string) {
	if f := s.changed.Load(); newer && f != nil {
		(*f)(key)
	}
}

func (s *shared[T]) stop() { _ = s.watcher.Stop() }

// get returns the record as this node last heard of it.
func (s *shared[T]) get(key string) (T, bool) {
	s.mu.RLock()
	defer s.mu.RUnlock()
	e, ok := s.m[key]
	return e.v, ok && !e.gone
}

// all returns every record this node knows.
func (s *shared[T]) all() []T {
	s.mu.RLock()
	defer s.mu.RUnlock()
	out := make([]T, 0, len(s.m))
	for _, e := range s.m {
		if !e.gone {
			out = append(out, e.v)
		}
	}
	return out
}

// fetch reads key's record from the bucket (this node may not have heard
// of it yet) and keeps it.
func (s *shared[T]) fetch(ctx context.Context, key string) (T, bool, error) {
	var zero T
	s.ops.Add(1)
	e, err := s.kv.Get(ctx, key)
	if errors.Is(err, jetstream.ErrKeyNotFound) {
		return zero, false, nil
	}
	if err != nil {
		return zero, false, fmt.Errorf("cluster: read %s record: %w", s.kv.Bucket(), err)
	}
	var v T
	if err := json.Unmarshal(e.Value(), &v); err != nil {
		return zero, false, fmt.Errorf("cluster: decode %s record: %w", s.kv.Bucket(), err)
	}
	s.set(key, sharedEntry[T]{v: v, rev: e.Revision()})
	return v, true, nil
}

// each calls f with every record whose key starts with prefix, under
// the read lock (f must not call s).
func (s *shared[T]) each(prefix string, f func(key string, v T)) {
	s.mu.RLock()
	defer s.mu.RUnlock()
	for k, e := range s.m {
		if !e.gone && strings.HasPrefix(k, prefix) {
			f(k, e.v)
		}
	}
}

// create writes v under key unless the key holds a record (a repeat
// costs no operation when this node knows the record already); it
// reports whether it wrote.
func (s *shared[T]) create(ctx context.Context, key string, v T) (bool, error) {
	if _, ok := s.get(key); ok {
		return false, nil
	}
	data, err := json.Marshal(v)
	if err != nil {
		return false, fmt.Errorf("cluster: encode %s record: %w", s.kv.Bucket(), err)
	}
	s.ops.Add(1)
	rev, err := s.kv.Create(ctx, key, data)
	if errors.Is(err, jetstream.ErrKeyExists) {
		return false, nil
	}
	if err != nil {
		return false, fmt.Errorf("cluster: create %s record: %w", s.kv.Bucket(), err)
	}
	s.set(key, sharedEntry[T]{v: v, rev: rev})
	return true, nil
}

// remove deletes key.
func (s *shared[T]) remove(ctx context.Context, key string) error {
	s.ops.Add(1)
	if err := s.kv.Delete(ctx, key); err != nil {
		return fmt.Errorf("cluster: delete %s record: %w", s.kv.Bucket(), err)
	}
	// The delete's revision is not returned: a tombstone just above the
	// revision known keeps an older write the watcher delivers late out
	// until the delete itself arrives.
	s.mu.Lock()
	cur := s.m[key]
	s.m[key] = sharedEntry[T]{rev: cur.rev + 1, gone: true}
	s.mu.Unlock()
	return nil
}

func (s *shared[T]) set(key string, e sharedEntry[T]) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.m[key].rev < e.rev {
		s.m[key] = e
	}
}

// update writes f's result for key with compare-and-set: f sees the
// record as this node knows it (ok false: none) and returns the new one,
// or an error to leave it (returned as it is; errStop too). When another
// node changed the record meanwhile, the write fails, the record is read
// from the bucket and f runs again on it. f must not keep or change
// what cur refers to (a copy of a slice it changes).
func (s *shared[T]) update(ctx context.Context, key string, f func(cur T, ok bool) (T, error)) (T, error) {
	s.mu.RLock()
	cur, ok := s.m[key]
	s.mu.RUnlock()
	ok = ok && !cur.gone
	var zero T
	for range 8 {
		next, err := f(cur.v, ok)
		if err != nil {
			return zero, err
		}
		data, err := json.Marshal(next)
		if err != nil {
			return zero, fmt.Errorf("cluster: encode %s record: %w", s.kv.Bucket(), err)
		}
		var rev uint64
		s.ops.Add(1)
		if !ok {
			rev, err = s.kv.Create(ctx, key, data)
		} else {
			rev, err = s.kv.Update(ctx, key, data, cur.rev)
		}
		if err == nil {
			s.set(key, sharedEntry[T]{v: next, rev: rev})
			return next, nil
		}
		if !errors.Is(err, jetstream.ErrKeyExists) && !errors.Is(err, jetstream.ErrKeyRevisionMismatch) && !isWrongSequence(err) {
			return zero, fmt.Errorf("cluster: write %s record: %w", s.kv.Bucket(), err)
		}
		// Lost a race (or this node's copy was behind): read and retry.
		s.ops.Add(1)
		e, gerr := s.kv.Get(ctx, key)
		switch {
		case errors.Is(gerr, jetstream.ErrKeyNotFound):
			cur, ok = sharedEntry[T]{}, false
		case gerr != nil:
			return zero, fmt.Errorf("cluster: read %s record: %w", s.kv.Bucket(), gerr)
		default:
			var v T
			if jerr := json.Unmarshal(e.Value(), &v); jerr != nil {
				return zero, fmt.Errorf("cluster: decode %s record: %w", s.kv.Bucket(), jerr)
			}
			cur, ok = sharedEntry[T]{v: v, rev: e.Revision()}, true
		}
	}
	return zero, fmt.Errorf("cluster: write %s record %s: too many concurrent changes", s.kv.Bucket(), key)
}

// isWrongSequence: JetStream refused an update because the key's last
// revision is another (how a revision mismatch can also come back).
func isWrongSequence(err error) bool {
	var api *jetstream.APIError
	return errors.As(err, &api) && api.ErrorCode == jetstream.JSErrCodeStreamWrongLastSequence
}

// sweep deletes the records old picks (past their retention), each only
// while it is unchanged (a delete on its revision): one changed meanwhile
// is left for the next sweep. It reports how many it deleted.
func (s *shared[T]) sweep(ctx context.Context, old func(key string, v T) bool) (int, error) {
	type pick struct {
		key string
		rev uint64
	}
	var picks []pick
	s.mu.RLock()
	for k, e := range s.m {
		if !e.gone && old(k, e.v) {
			picks = append(picks, pick{k, e.rev})
		}
	}
	s.mu.RUnlock()
	n := 0
	for _, p := range picks {
		s.ops.Add(1)
		err := s.kv.Delete(ctx, p.key, jetstream.LastRevision(p.rev))
		switch {
		case err == nil:
			n++
			s.set(p.key, sharedEntry[T]{rev: p.rev + 1, gone: true})
		case errors.Is(err, jetstream.ErrKeyRevisionMismatch) || isWrongSequence(err):
		default:
			return n, fmt.Errorf("cluster: expire %s record: %w", s.kv.Bucket(), err)
		}
	}
	return n, nil
}

// sweepEvery runs f at once and then every interval until the node
// closes (every node does; the deletes are compare-and-set, so two nodes
// sweeping at once delete each record once).
func (n *Node) sweepEvery(what string, interval time.Duration, f func(ctx context.Context, now time.Time) (int, error)) {
	stop, done := make(chan struct{}), make(chan struct{})
	go func() {
		defer close(done)
		for {
			ctx, cancel := context.WithTimeout(context.Background(), publishWait)
			k, err := f(ctx, n.clock.Now())
			cancel()
			if err != nil {
				n.log.Warn("cluster: expiring old records", "what", what, "err", err)
			} else if k > 0 {
				n.log.Info("cluster: expired old records", "what", what, "records", k)
			}
			select {
			case <-stop:
				return
			case <-n.clock.After(interval):
			}
		}
	}()
	n.onClose(func() {
		close(stop)
		<-done
	})
}

// bucket creates or opens a key-value bucket, retrying while a new
// cluster elects its leader (up to ctx's deadline).
func (n *Node) bucket(ctx context.Context, cfg jetstream.KeyValueConfig) (jetstream.KeyValue, error) {
	for {
		actx, cancel := context.WithTimeout(ctx, 2*time.Second)
		kv, err := n.js.CreateOrUpdateKeyValue(actx, cfg)
		cancel()
		if err == nil {
			return kv, nil
		}
		select {
		case <-ctx.Done():
			return nil, fmt.Errorf("cluster: create %s: %w (last: %v)", cfg.Bucket, ctx.Err(), err)
		case <-n.clock.After(200 * time.Millisecond):
		}
	}
}

// follow applies a watcher's entries in a goroutine of its own until the
// watcher stops (then done, when set, is closed), and returns once the
// bucket's initial values are applied, or with ctx's error (the watcher
// stopped) when ctx ends first.
func follow(ctx context.Context, w jetstream.KeyWatcher, apply func(jetstream.KeyValueEntry), done chan struct{}) error {
	loaded := make(chan struct{})
	go func() {
		if done != nil {
			defer close(done)
		}
		first := true
		for e := range w.Updates() {
			if e == nil { // the initial values are in
				if first {
					close(loaded)
					first = false
				}
				continue
			}
			apply(e)
		}
		if first {
			close(loaded)
		}
	}()
	select {
	case <-loaded:
		return nil
	case <-ctx.Done():
		_ = w.Stop()
		return ctx.Err()
	}
}
