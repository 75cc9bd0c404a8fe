package storage

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/url"
	"strings"
	"time"

	"github.com/dgraph-io/badger/v4"

	"github.com/einsatz/einsatz/bot/mood"
)

// Sentiment keeps scored messages and their aggregates (sent/) over the
// shared Store.
type Sentiment struct{ s *Store }

// NewSentiment returns the sentiment store over s.
func NewSentiment(s *Store) *Sentiment { return &Sentiment{s: s} }

func sentChannel(kind string, ch mood.Channel) string {
	return prefixSent + kind + "/" + join(ch.Platform, ch.ID) + "/"
}

func unixKey(t time.Time) string { return fmt.Sprintf("%016x", uint64(t.Unix())) }

// Log stores a scored message and updates its channel's hourly
// and daily aggregates in the same write, so the aggregates never need a
// scan to rebuild. A negative row is visible when it returns (the spike
// check reads it next); other rows are queued without waiting, in order
// with every later write. Neither waits for an fsync of its own: nobody was
// told they were saved, and a row lost to a power cut before the next
// durable write costs one row of a statistic (docs/storage.md).
func (st *Sentiment) Log(ctx context.Context, row mood.Row, userID string) error {
	value, err := json.Marshal(row)
	if err != nil {
		return fmt.Errorf("storage: log sentiment: %w", err)
	}
	ch := mood.Channel{Platform: row.Platform, ID: row.Channel}
	write := st.s.commitVisible
	if row.Label != mood.Negative {
		write = func(ctx context.Context, fn func(*badger.Txn) error) error {
			return st.s.commitLater(ctx, "log sentiment", fn, nil)
		}
	}
	err = write(ctx, func(txn *badger.Txn) error {
		key := sentChannel("row", ch) + timeSeq(row.Time, &st.s.seq)
		// An imported row older than the retention period still counts in
		// the aggregates, which hold nobody's data, but is not kept itself.
		if e := expiring([]byte(key), value, row.Time, st.s.opts.SentimentTTL); e != nil {
			if err := txn.SetEntry(e); err != nil {
				return err
			}
			if userID != "" {
				if err := txn.SetEntry(expiring(userIndexKey(row.Platform, userID, key), nil, row.Time, st.s.opts.SentimentTTL)); err != nil {
					return err
				}
			}
		}
		for _, by := range []string{mood.Hour, mood.Day} {
			start := mood.BucketStart(by, row.Time)
			k := []byte(sentChannel(by, ch) + unixKey(start))
			b := mood.Bucket{Start: start}
			item, err := txn.Get(k)
			switch {
			case err == nil:
				if err := item.Value(func(v []byte) error { return json.Unmarshal(v, &b) }); err != nil {
					return err
				}
			case !errors.Is(err, badger.ErrKeyNotFound):
				return err
			}
			b.Add(row.Label, row.Score)
			v, err := json.Marshal(b)
			if err != nil {
				return err
			}
			if err := txn.Set(k, v); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		return fmt.Errorf("storage: log sentiment: %w", err)
	}
	return nil
}

// rangeScan calls fn for the keys under prefix from prefix+from (inclusive)
// to prefix+to (exclusive).
func (s *Store) rangeScan(ctx context.Context, prefix, from, to string, fn func(v []byte) error) error {
	p := []byte(prefix)
	end := prefix + to
	return s.view(func(txn *badger.Txn) error {
		it := txn.NewIterator(badger.IteratorOptions{Prefix: p, PrefetchValues: true, PrefetchSize: 64})
		defer it.Close()
		for it.Seek([]byte(prefix + from)); it.ValidForPrefix(p); it.Next() {
			if string(it.Item().Key()) >= end {
				break
			}
			if err := ctx.Err(); err != nil {
				return err
			}
			if err := it.Item().Value(fn); err != nil {
				return err
			}
		}
		return nil
	})
}

// Rows returns a channel's scored messages in [since, until).
func (st *Sentiment) Rows(ctx context.Context, ch mood.Channel, since, until time.Time) ([]mood.Row, error) {
	var rows []mood.Row
	from := fmt.Sprintf("%016x", uint64(since.UnixNano()))
	to := fmt.Sprintf("%016x", uint64(until.UnixNano()))
	err := st.s.rangeScan(ctx, sentChannel("row", ch), from, to, func(v []byte) error {
		var r mood.Row
		if err := json.Unmarshal(v, &r); err != nil {
			return err
		}
		rows = append(rows, r)
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("storage: sentiment rows of %s: %w", ch, err)
	}
	return rows, nil
}

// Buckets returns a channel's hourly or daily aggregates whose
// start is in [since, until), oldest first.
func (st *Sentiment) Buckets(ctx context.Context, by string, ch mood.Channel, since, until time.Time) ([]mood.Bucket, error) {
	if by != mood.Hour && by != mood.Day {
		return nil, fmt.Errorf("storage: sentiment buckets: by must be %q or %q", mood.Hour, mood.Day)
	}
	var out []mood.Bucket
	err := st.s.rangeScan(ctx, sentChannel(by, ch), unixKey(since), unixKey(until), func(v []byte) error {
		var b mood.Bucket
		if err := json.Unmarshal(v, &b); err != nil {
			return err
		}
		out = append(out, b)
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("storage: sentiment buckets of %s: %w", ch, err)
	}
	return out, nil
}

// Channels lists the channels that have sentiment data.
func (st *Sentiment) Channels(ctx context.Context) ([]mood.Channel, error) {
	prefix := prefixSent + mood.Day + "/"
	var out []mood.Channel
	seen := map[string]bool{}
	err := st.s.view(func(txn *badger.Txn) error {
		it := txn.NewIterator(badger.IteratorOptions{Prefix: []byte(prefix)})
		defer it.Close()
		for it.Rewind(); it.ValidForPrefix([]byte(prefix)); it.Next() {
			parts := strings.SplitN(string(it.Item().Key())[len(prefix):], "/", 3)
			if len(parts) < 3 || seen[parts[0]+"/"+parts[1]] {
				continue
			}
			seen[parts[0]+"/"+parts[1]] = true
			platform, err1 := url.PathUnescape(parts[0])
			id, err2 := url.PathUnescape(parts[1])
			if err := errors.Join(err1, err2); err != nil {
				return err
			}
			out = append(out, mood.Channel{Platform: platform, ID: id})
		}
		return ctx.Err()
	})
	if err != nil {
		return nil, fmt.Errorf("storage: sentiment channels: %w", err)
	}
	return out, nil
}

func alertKey(ch mood.Channel) []byte {
	return []byte(prefixSent + "alert/" + join(ch.Platform, ch.ID))
}

// LastAlert is when the last spike alert for a channel went out (zero: never).
func (st *Sentiment) LastAlert(_ context.Context, ch mood.Channel) (time.Time, error) {
	var at time.Time
	err := st.s.view(func(txn *badger.Txn) error {
		item, err := txn.Get(alertKey(ch))
		if errors.Is(err, badger.ErrKeyNotFound) {
			return nil
		}
		if err != nil {
			return err
		}
		return item.Value(func(v []byte) error { return at.UnmarshalText(v) })
	})
	if err != nil {
		return time.Time{}, fmt.Errorf("storage: last alert of %s: %w", ch, err)
	}
	return at, nil
}

// SetLastAlert records when a spike alert went out.
func (st *Sentiment) SetLastAlert(ctx context.Context, ch mood.Channel, at time.Time) error {
	v, err := at.MarshalText()
	if err != nil {
		return err
	}
	if err := st.s.commit(ctx, func(txn *badger.Txn) error { return txn.Set(alertKey(ch), v) }); err != nil {
		return fmt.Errorf("storage: record alert of %s: %w", ch, err)
	}
	return nil
}

var _ mood.Store = (*Sentiment)(nil)
