package cluster

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"sync"
	"time"

	"github.com/nats-io/nats.go/jetstream"

	"github.com/einsatz/einsatz/bot"
)

// ErrOwnerChanged: the thread's owner was changed on another node since
// this node read it; read again and decide again.
var ErrOwnerChanged = errors.New("cluster: thread owner changed on another node")

// Owners is thread ownership shared by every node: a key-value bucket
// written with compare-and-set, followed by a watcher into memory, so
// reading an owner (once per event) costs no JetStream operation. It
// implements handoff.Owners and the owner part of bot.Store.
type Owners struct {
	kv  jetstream.KeyValue
	log *slog.Logger

	mu      sync.RWMutex
	threads map[string]ownerEntry // by bucket key
	watcher jetstream.KeyWatcher
	done    chan struct{}
}

type ownerEntry struct {
	rec ownerRecord
	rev uint64
}

type ownerRecord struct {
	Thread bot.ThreadRef `json:"thread"`
	Owner  bot.Owner     `json:"owner"`
}

// watchOwners loads the bucket and follows its changes until stop.
func watchOwners(ctx context.Context, kv jetstream.KeyValue, log *slog.Logger) (*Owners, error) {
	w, err := kv.WatchAll(context.WithoutCancel(ctx))
	if err != nil {
		return nil, fmt.Errorf("cluster: watch thread owners: %w", err)
	}
	o := &Owners{kv: kv, log: log, threads: map[string]ownerEntry{}, watcher: w, done: make(chan struct{})}
	if err := follow(ctx, w, o.apply, o.done); err != nil {
		return nil, fmt.Errorf("cluster: load thread owners: %w", err)
	}
	return o, nil
}

func (o *Owners) apply(e jetstream.KeyValueEntry) {
	o.mu.Lock()
	defer o.mu.Unlock()
	if cur, ok := o.threads[e.Key()]; ok && cur.rev >= e.Revision() {
		return // this node's own write got here first
	}
	if e.Operation() != jetstream.KeyValuePut {
		delete(o.threads, e.Key())
		return
	}
	var rec ownerRecord
	if err := json.Unmarshal(e.Value(), &rec); err != nil {
		o.log.Error("undecodable thread owner", "err", err)
		return
	}
	o.threads[e.Key()] = ownerEntry{rec: rec, rev: e.Revision()}
}

func (o *Owners) stop() {
	_ = o.watcher.Stop()
}

// Owner returns who owns the thread, as this node last heard.
func (o *Owners) Owner(_ context.Context, thread bot.ThreadRef) (bot.Owner, error) {
	o.mu.RLock()
	defer o.mu.RUnlock()
	return o.threads[kvKey(thread.Key())].rec.Owner, nil
}

// Owned lists the threads staff own.
func (o *Owners) Owned(_ context.Context) []bot.OwnedThread {
	o.mu.RLock()
	defer o.mu.RUnlock()
	var out []bot.OwnedThread
	for _, e := range o.threads {
		if !e.rec.Owner.Bot() {
			out = append(out, bot.OwnedThread{Thread: e.rec.Thread, Owner: e.rec.Owner})
		}
	}
	return out
}

// SetOwner writes the thread's owner if nobody changed it since this node
// read it (compare-and-set on the revision it knows). When another node
// gave the thread to someone else meanwhile, it returns ErrOwnerChanged:
// two staff taking over at once on two nodes, one wins.
func (o *Owners) SetOwner(ctx context.Context, thread bot.ThreadRef, owner bot.Owner) error {
	return o.change(ctx, thread, func(cur bot.Owner, known bot.Owner) (bot.Owner, error) {
		if cur.Staff != known.Staff {
			return bot.Owner{}, ErrOwnerChanged
		}
		return owner, nil
	})
}

// TouchOwner records that staff wrote in the thread now.
func (o *Owners) TouchOwner(ctx context.Context, thread bot.ThreadRef, at time.Time) error {
	return o.change(ctx, thread, func(cur bot.Owner, _ bot.Owner) (bot.Owner, error) {
		if cur.Bot() {
			return cur, nil
		}
		cur.LastActive = at
		return cur, nil
	})
}

// change applies f with compare-and-set, reading the bucket again after a
// lost race; f sees the current owner and the one this node knew before.
func (o *Owners) change(ctx context.Context, thread bot.ThreadRef, f func(cur, known bot.Owner) (bot.Owner, error)) error {
	key := kvKey(thread.Key())
	o.mu.RLock()
	known := o.threads[key]
	o.mu.RUnlock()
	cur := known
	for range 5 {
		next, err := f(cur.rec.Owner, known.rec.Owner)
		if err != nil {
			return err
		}
		data, err := json.Marshal(ownerRecord{Thread: thread, Owner: next})
		if err != nil {
			return fmt.Errorf("cluster: encode owner: %w", err)
		}
		var rev uint64
		if cur.rev == 0 {
			rev, err = o.kv.Create(ctx, key, data)
		} else {
			rev, err = o.kv.Update(ctx, key, data, cur.rev)
		}
		if err == nil {
			o.mu.Lock()
			if o.threads[key].rev < rev {
				o.threads[key] = ownerEntry{rec: ownerRecord{Thread: thread, Owner: next}, rev: rev}
			}
			o.mu.Unlock()
			return nil
		}
		// Lost a race (or the cache was behind): read the bucket and retry.
		e, gerr := o.kv.Get(ctx, key)
		switch {
		case errors.Is(gerr, jetstream.ErrKeyNotFound):
			cur = ownerEntry{}
		case gerr != nil:
			return fmt.Errorf("cluster: set owner: %w (then: %v)", err, gerr)
		default:
			var rec ownerRecord
			if jerr := json.Unmarshal(e.Value(), &rec); jerr != nil {
				return fmt.Errorf("cluster: decode owner: %w", jerr)
			}
			cur = ownerEntry{rec: rec, rev: e.Revision()}
		}
	}
	return fmt.Errorf("cluster: set owner of %s: too many concurrent changes", thread.Key())
}

// Store is the core's store with thread ownership from the cluster.
type Store struct {
	bot.Store
	Owners *Owners
}

// Owner returns the thread's owner from the cluster.
func (s Store) Owner(ctx context.Context, thread bot.ThreadRef) (bot.Owner, error) {
	return s.Owners.Owner(ctx, thread)
}
