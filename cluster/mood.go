package cluster

import (
	"cmp"
	"context"
	"crypto/rand"
	"encoding/binary"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"hash/fnv"
	"log/slog"
	"net/url"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/nats-io/nats.go/jetstream"

	"github.com/einsatz/einsatz/bot"
	"github.com/einsatz/einsatz/bot/mood"
)

// MoodBucket holds the sentiment counts of every node, in batches.
const MoodBucket = "einsatz_mood"

const (
	moodBatchMax = 2000 // counts in one batch at most (about 150 kB)
	// moodKeep is how long a node remembers which messages it counted, by
	// the hour of the message: a message handled again (an event delivered
	// again after a node died, within the event stream's age) is not
	// counted twice within it.
	moodKeep = eventsMaxAge + 24*time.Hour
)

// Mood is the sentiment store of a cluster node. Rows (the scored
// messages, personal data: user, excerpt) stay in the node's own store;
// the hourly and daily aggregates and the spike alerts' times are the
// whole cluster's.
//
// Each scored message becomes a count (a hash of its platform, channel
// and message id, its channel, time, label and score; no personal data).
// Counts are stored in batches in the mood bucket: while one batch is
// being stored, the counts logged meanwhile wait and then go together
// (group commit, no timer), one key-value write per batch, so under load
// a write carries many messages and the budget of JetStream operations
// per event is barely touched. Every node follows the bucket with a
// watcher and adds each count to its aggregates unless it counted that
// message already: the counters are idempotent by message, so a message
// handled twice (on two nodes after a failover, or delivered again by the
// platform) counts once on every node. Log returns once the count is
// stored, so a message whose event was acknowledged is not missing from
// the aggregates when its node dies.
type Mood struct {
	local mood.Store
	kv    jetstream.KeyValue
	log   *slog.Logger
	ops   *atomic.Int64
	clock bot.Clock

	mu      sync.Mutex
	hours   map[mood.Channel]map[int64]*mood.Bucket // by hour start (Unix seconds)
	days    map[mood.Channel]map[int64]*mood.Bucket
	seen    map[int64]map[uint64]bool  // message hashes counted, by hour start
	alerts  map[mood.Channel]time.Time // the last spike alert per channel, from any node
	pruned  time.Time
	queue   []moodCount
	next    *moodFlush // the flush the queued counts go with
	running bool
	closed  bool
	prefix  string
	n       uint64
	watcher jetstream.KeyWatcher
	idle    sync.WaitGroup // the flushing goroutine
	batches atomic.Int64
}

// Batches is how many batches of counts this node stored.
func (m *Mood) Batches() int64 { return m.batches.Load() }

var _ mood.Store = (*Mood)(nil)

// moodCount is one scored message as the cluster counts it.
type moodCount struct {
	Key      uint64  `json:"k"`
	Platform string  `json:"p"`
	Channel  string  `json:"c"`
	Time     int64   `json:"t"` // Unix seconds
	Label    string  `json:"l"`
	Score    float64 `json:"s"`
}

type moodFlush struct {
	done chan struct{}
	err  error
}

// Mood opens the shared sentiment aggregates over local, this node's own
// store (creating the bucket when it is missing), and starts following
// them.
func (n *Node) Mood(ctx context.Context, local mood.Store) (*Mood, error) {
	kv, err := n.bucket(ctx, jetstream.KeyValueConfig{Bucket: MoodBucket, Replicas: n.s.Replicas})
	if err != nil {
		return nil, err
	}
	m, err := watchMood(ctx, kv, local, n.log, &n.Ops.KV, n.clock)
	if err != nil {
		return nil, err
	}
	n.onClose(m.stop)
	return m, nil
}

// apply counts a batch the watcher delivers, or hears a spike alert.
func (m *Mood) apply(e jetstream.KeyValueEntry) {
	if strings.HasPrefix(e.Key(), "alert.") {
		m.heardAlert(e.Value())
		return
	}
	var batch []moodCount
	if err := json.Unmarshal(e.Value(), &batch); err != nil {
		m.log.Error("undecodable sentiment batch", "key", e.Key(), "err", err)
		return
	}
	m.mu.Lock()
	for _, c := range batch {
		m.count(c)
	}
	m.mu.Unlock()
}

func watchMood(ctx context.Context, kv jetstream.KeyValue, local mood.Store, log *slog.Logger, ops *atomic.Int64, clock bot.Clock) (*Mood, error) {
	var p [4]byte
	_, _ = rand.Read(p[:])
	m := &Mood{local: local, kv: kv, log: log, ops: ops, clock: clock, prefix: hex.EncodeToString(p[:]),
		hours: map[mood.Channel]map[int64]*mood.Bucket{}, days: map[mood.Channel]map[int64]*mood.Bucket{},
		seen: map[int64]map[uint64]bool{}, alerts: map[mood.Channel]time.Time{}, pruned: clock.Now()}
	w, err := kv.WatchAll(context.WithoutCancel(ctx), jetstream.IgnoreDeletes())
	if err != nil {
		return nil, fmt.Errorf("cluster: watch %s: %w", MoodBucket, err)
	}
	m.watcher = w
	if err := follow(ctx, w, m.apply, nil); err != nil {
		return nil, fmt.Errorf("cluster: load %s: %w", MoodBucket, err)
	}
	return m, nil
}

// stop stores what is queued and stops following the bucket.
func (m *Mood) stop() {
	m.mu.Lock()
	m.closed = true // no new flush starts
	m.mu.Unlock()
	m.idle.Wait()
	_ = m.watcher.Stop()
}

// countOf is the cluster's count of a row.
func countOf(row mood.Row) moodCount {
	h := fnv.New64a()
	for _, s := range []string{row.Platform, row.Channel, row.MessageID} {
		h.Write([]byte(s))
		h.Write([]byte{0})
	}
	if row.MessageID == "" { // no id: the row's thread, user and time name it
		h.Write([]byte(row.Thread + "\x00" + row.User + "\x00"))
		h.Write(binary.BigEndian.AppendUint64(nil, uint64(row.Time.UnixNano())))
	}
	return moodCount{Key: h.Sum64(), Platform: row.Platform, Channel: row.Channel, Time: row.Time.Unix(), Label: row.Label, Score: row.Score}
}

// count adds c to the aggregates unless its message was counted; m.mu
// is held.
func (m *Mood) count(c moodCount) {
	at := time.Unix(c.Time, 0).UTC()
	hour := mood.BucketStart(mood.Hour, at).Unix()
	seen := m.seen[hour]
	if seen == nil {
		seen = map[uint64]bool{}
		m.seen[hour] = seen
	}
	if seen[c.Key] {
		return
	}
	seen[c.Key] = true
	ch := mood.Channel{Platform: c.Platform, ID: c.Channel}
	add := func(by map[mood.Channel]map[int64]*mood.Bucket, start int64) {
		if by[ch] == nil {
			by[ch] = map[int64]*mood.Bucket{}
		}
		b := by[ch][start]
		if b == nil {
			b = &mood.Bucket{Start: time.Unix(start, 0).UTC()}
			by[ch][start] = b
		}
		b.Add(c.Label, c.Score)
	}
	add(m.hours, hour)
	add(m.days, mood.BucketStart(mood.Day, at).Unix())
}

// Log implements mood.Store: the row goes to this node's store, its count
// to the cluster's aggregates; Log returns once the count is stored.
func (m *Mood) Log(ctx context.Context, row mood.Row, userID string) error {
	if err := m.local.Log(ctx, row, userID); err != nil {
		return err
	}
	c := countOf(row)
	m.mu.Lock()
	if m.closed {
		m.mu.Unlock()
		return errors.New("cluster: sentiment store closed")
	}
	m.count(c) // read your own writes at once; the watcher's copy is then a repeat
	m.queue = append(m.queue, c)
	if m.next == nil {
		m.next = &moodFlush{done: make(chan struct{})}
	}
	f := m.next
	if !m.running {
		m.running = true
		m.idle.Add(1)
		go m.flush()
	}
	m.mu.Unlock()
	select {
	case <-f.done:
		if f.err != nil {
			return fmt.Errorf("cluster: store sentiment count: %w", f.err)
		}
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

// flush stores the queued counts in batches until none are left.
func (m *Mood) flush() {
	defer m.idle.Done()
	for {
		m.mu.Lock()
		if len(m.queue) == 0 {
			m.running = false
			m.prune()
			m.mu.Unlock()
			return
		}
		batch, f := m.queue, m.next
		if len(batch) > moodBatchMax {
			batch = batch[:moodBatchMax]
			m.queue = slices.Clone(m.queue[moodBatchMax:])
		} else {
			m.queue, m.next = nil, nil
		}
		m.n++
		key := "batch." + m.prefix + "-" + fmt.Sprint(m.n)
		m.mu.Unlock()
		if err := m.put(key, batch); err != nil {
			f.err = err
		}
		if len(batch) == moodBatchMax && f == m.peekNext() {
			continue // the rest goes with the same flush
		}
		close(f.done)
	}
}

func (m *Mood) peekNext() *moodFlush {
	m.mu.Lock()
	defer m.mu.Unlock()
	return m.next
}

// put stores one batch, trying again a few times (a new leader being
// elected); the key is the batch's own, so a repeat stores nothing new.
func (m *Mood) put(key string, batch []moodCount) error {
	data, err := json.Marshal(batch)
	if err != nil {
		return err
	}
	for attempt := 1; ; attempt++ {
		ctx, cancel := context.WithTimeout(context.Background(), publishWait)
		m.ops.Add(1)
		_, err = m.kv.Put(ctx, key, data)
		cancel()
		if err == nil {
			m.batches.Add(1)
		}
		if err == nil || attempt == 3 {
			return err
		}
		<-m.clock.After(time.Duration(attempt) * 100 * time.Millisecond)
	}
}

// prune forgets which messages of hours older than moodKeep were counted
// (the counts stay); at most once an hour. m.mu is held.
func (m *Mood) prune() {
	now := m.clock.Now()
	if now.Sub(m.pruned) < time.Hour {
		return
	}
	m.pruned = now
	limit := now.Add(-moodKeep).Unix()
	for hour := range m.seen {
		if hour < limit {
			delete(m.seen, hour)
		}
	}
}

// Rows implements mood.Store: the rows this node scored.
func (m *Mood) Rows(ctx context.Context, ch mood.Channel, since, until time.Time) ([]mood.Row, error) {
	return m.local.Rows(ctx, ch, since, until)
}

// Buckets implements mood.Store: the whole cluster's aggregates.
func (m *Mood) Buckets(ctx context.Context, by string, ch mood.Channel, since, until time.Time) ([]mood.Bucket, error) {
	if by != mood.Hour && by != mood.Day {
		return nil, fmt.Errorf("cluster: sentiment buckets: by must be %q or %q", mood.Hour, mood.Day)
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	src := m.hours
	if by == mood.Day {
		src = m.days
	}
	var out []mood.Bucket
	for _, b := range src[ch] {
		if !b.Start.Before(since) && b.Start.Before(until) {
			out = append(out, *b)
		}
	}
	slices.SortFunc(out, func(a, b mood.Bucket) int { return a.Start.Compare(b.Start) })
	return out, ctx.Err()
}

// Channels implements mood.Store: the channels any node counted.
func (m *Mood) Channels(ctx context.Context) ([]mood.Channel, error) {
	m.mu.Lock()
	out := make([]mood.Channel, 0, len(m.days))
	for ch := range m.days {
		out = append(out, ch)
	}
	m.mu.Unlock()
	key := func(ch mood.Channel) string { return url.PathEscape(ch.Platform) + "/" + url.PathEscape(ch.ID) }
	slices.SortFunc(out, func(a, b mood.Channel) int { return cmp.Compare(key(a), key(b)) })
	return out, ctx.Err()
}

// moodAlert is when the last spike alert for a channel went out, on any
// node: alert.<hash of the channel> in the mood bucket.
type moodAlert struct {
	Channel mood.Channel `json:"channel"`
	At      time.Time    `json:"at"`
}

func (m *Mood) heardAlert(data []byte) {
	var a moodAlert
	if err := json.Unmarshal(data, &a); err != nil {
		m.log.Error("undecodable sentiment alert time", "err", err)
		return
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	if a.At.After(m.alerts[a.Channel]) {
		m.alerts[a.Channel] = a.At
	}
}

// LastAlert implements mood.Store: the last spike alert any node sent for
// the channel (as far as this node heard), so the cooldown holds across
// the cluster.
func (m *Mood) LastAlert(ctx context.Context, ch mood.Channel) (time.Time, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	return m.alerts[ch], ctx.Err()
}

// SetLastAlert implements mood.Store: one write, for every node to hear.
func (m *Mood) SetLastAlert(ctx context.Context, ch mood.Channel, at time.Time) error {
	data, err := json.Marshal(moodAlert{Channel: ch, At: at})
	if err != nil {
		return err
	}
	m.ops.Add(1)
	if _, err := m.kv.Put(ctx, "alert."+hashKey(ch.Platform, ch.ID), data); err != nil {
		return fmt.Errorf("cluster: store sentiment alert time: %w", err)
	}
	m.heardAlert(data)
	return nil
}
