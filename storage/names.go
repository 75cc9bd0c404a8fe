package storage

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/url"
	"strings"
	"sync"
	"time"

	"github.com/dgraph-io/badger/v4"
)

// Name kinds.
const (
	NameUser    = "user"
	NameChannel = "channel"
)

// Names caches the display names the platforms sent with their events
// (name/), so the dashboard shows people and channels instead of ids. A
// member's name belongs to them: it has a user index entry and goes with
// an erasure. Names keep the retention of messages.
type Names struct {
	s *Store
	// last is what was written and when, so an event repeating a known
	// name costs no write (until half its retention has passed).
	mu   sync.Mutex
	last map[string]seenName
}

type seenName struct {
	name string
	at   time.Time
}

// NewNames returns the name cache over s.
func NewNames(s *Store) *Names { return &Names{s: s, last: map[string]seenName{}} }

func nameKey(kind, platform, id string) string { return prefixName + kind + "/" + join(platform, id) }

// Put records the name of a user or channel (kind NameUser or
// NameChannel) as seen at at; an empty name or id is ignored.
func (n *Names) Put(ctx context.Context, kind, platform, id, name string, at time.Time) error {
	name = strings.TrimSpace(name)
	if id == "" || name == "" || name == id {
		return nil
	}
	key := nameKey(kind, platform, id)
	n.mu.Lock()
	prev, ok := n.last[key]
	same := ok && prev.name == name && (n.s.opts.MessageTTL <= 0 || at.Sub(prev.at) < n.s.opts.MessageTTL/2)
	n.mu.Unlock()
	if same {
		return nil
	}
	// Committed without an fsync of its own: a name lost to a power cut
	// is written again with the person's or channel's next message (the
	// memory of names written goes with the process).
	err := n.s.commitVisible(ctx, func(txn *badger.Txn) error {
		e := expiring([]byte(key), []byte(name), at, n.s.opts.MessageTTL)
		if e == nil {
			return nil
		}
		if err := txn.SetEntry(e); err != nil {
			return err
		}
		if kind != NameUser {
			return nil
		}
		idx := expiring(userIndexKey(platform, id, key), nil, at, n.s.opts.MessageTTL)
		if idx == nil {
			return nil
		}
		return txn.SetEntry(idx)
	})
	if err != nil {
		return fmt.Errorf("storage: remember name of %s %s/%s: %w", kind, platform, id, err)
	}
	n.mu.Lock()
	if len(n.last) > 100000 {
		clear(n.last)
	}
	n.last[key] = seenName{name, at}
	n.mu.Unlock()
	return nil
}

// Book returns every cached name of a kind, by "platform/id".
func (n *Names) Book(ctx context.Context, kind string) (map[string]string, error) {
	prefix := prefixName + kind + "/"
	out := map[string]string{}
	err := n.s.scan(ctx, prefix, func(k, v []byte) error {
		platform, id, ok := strings.Cut(string(k[len(prefix):]), "/")
		if !ok {
			return nil
		}
		p, err1 := url.PathUnescape(platform)
		i, err2 := url.PathUnescape(id)
		if err := errors.Join(err1, err2); err != nil {
			return err
		}
		out[p+"/"+i] = string(v)
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("storage: names of %ss: %w", kind, err)
	}
	return out, nil
}

// visit is a staff account's visits of the overview: the start of the
// current one and the one before.
type visit struct {
	Prev time.Time `json:"prev"`
	Last time.Time `json:"last"`
}

// Visit records that a staff account opens the overview at now and
// returns when their previous visit was (zero: never). Opening it again
// within gap of the last time is the same visit: a reload keeps showing
// what is new since the visit before.
func (n *Names) Visit(ctx context.Context, account string, now time.Time, gap time.Duration) (time.Time, error) {
	key := []byte(prefixDashVisit + join(account))
	var v visit
	err := n.s.commit(ctx, func(txn *badger.Txn) error {
		v = visit{}
		item, err := txn.Get(key)
		switch {
		case errors.Is(err, badger.ErrKeyNotFound):
		case err != nil:
			return err
		default:
			if err := item.Value(func(b []byte) error { return json.Unmarshal(b, &v) }); err != nil {
				return err
			}
		}
		if v.Last.IsZero() || now.Sub(v.Last) > gap {
			v.Prev = v.Last
		}
		v.Last = now.UTC()
		b, err := json.Marshal(v)
		if err != nil {
			return err
		}
		return txn.Set(key, b)
	})
	if err != nil {
		return time.Time{}, fmt.Errorf("storage: visit of %s: %w", account, err)
	}
	return v.Prev, nil
}
