package cluster

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/nats-io/nats.go/jetstream"

	"github.com/einsatz/einsatz/bot"
	"github.com/einsatz/einsatz/bot/catchup"
)

// Catch-up after the whole cluster was down (package catchup on one
// machine; issue 17).
//
// The marks (the newest message handled per thread) are the cluster's:
// each node keeps the newest mark per thread it handled since its last
// flush and stores them once a second as one batch, a key of its own in
// the catch-up bucket (marks.<node prefix>-<n>, the JSON list of marks),
// so a busy cluster costs one key-value write per node and second, not one
// per event. The bucket's TTL drops batches older than the window.
//
// The catch-up itself runs on one node at a time (Singleton("catchup")),
// and only when messages may have been missed: when no node stayed up
// while the others were down. The node running it writes a heartbeat
// (alive: the time) every third of the lease time; each node writes the
// time it started (up.<node>) when it starts. A node taking the singleton
// over reads the heartbeat of the node before: if some live node (itself
// included) was up since before that heartbeat, the cluster never went
// dark and nothing is fetched; otherwise every node was down after that
// heartbeat (or the cluster is new), and it runs catchup.Run over the
// shared marks. The adapters submit what they fetch as live events: into
// the event stream, de-duplicated by the event key (Nats-Msg-Id), handled
// by the node holding the thread's partition. Its publish is late (stored
// long after the message's time), so the worker checks the posted marks
// of its replies from the message's time on (worker.go): a message the
// cluster answered before the outage is not answered again, even after a
// restart of every NATS server (the stream's de-duplication window does
// not survive one for events already acknowledged). A pending key keeps
// a catch-up that was decided but did not finish, for the next node.

// CatchUpBucket holds the catch-up marks, the heartbeat and the nodes'
// start times.
const CatchUpBucket = "einsatz_catchup"

const (
	catchUpFlush    = time.Second // how often a node stores its marks
	catchUpBatchMax = 2000        // marks in one batch at most (about 300 kB)
	catchUpAlive    = "alive"
	catchUpPending  = "pending"
)

// CatchUp is the cluster's catchup.Store and catch-up task.
type CatchUp struct {
	n       *Node
	kv      jetstream.KeyValue
	window  time.Duration
	ttl     time.Duration
	started time.Time
	prefix  string
	log     *slog.Logger

	mu      sync.Mutex
	queue   map[string]catchup.Seen // by thread key, the newest since the last flush
	seq     uint64
	batches atomic.Int64
	stop    chan struct{}
	done    chan struct{}
	// ran counts the catch-ups this node ran, decided its decisions
	// whether to run one (tests).
	ran, decided atomic.Int64
}

var _ catchup.Store = (*CatchUp)(nil)

// CatchUp opens the catch-up bucket for a window (catchup.window),
// records this node's start and starts storing marks once a second.
func (n *Node) CatchUp(ctx context.Context, window time.Duration) (*CatchUp, error) {
	if window <= 0 {
		window = catchup.DefaultWindow
	}
	// Marks older than the window are never read; the heartbeat and the
	// start times are written again well within the TTL.
	ttl := window + 2*catchup.Margin
	kv, err := n.bucket(ctx, jetstream.KeyValueConfig{Bucket: CatchUpBucket, TTL: ttl, Replicas: n.s.Replicas})
	if err != nil {
		return nil, err
	}
	var p [6]byte
	_, _ = rand.Read(p[:])
	c := &CatchUp{n: n, kv: kv, window: window, ttl: ttl, started: n.clock.Now(), prefix: hex.EncodeToString(p[:]),
		log: n.log.With("task", "catchup"), queue: map[string]catchup.Seen{}, stop: make(chan struct{}), done: make(chan struct{})}
	if err := c.putUp(ctx); err != nil {
		return nil, err
	}
	go c.flusher()
	n.onClose(func() {
		close(c.stop)
		<-c.done
	})
	return c, nil
}

// Batches is how many batches of marks this node stored.
func (c *CatchUp) Batches() int64 { return c.batches.Load() }

// Ran is how many catch-ups this node ran.
func (c *CatchUp) Ran() int64 { return c.ran.Load() }

// Decided is how often this node, holding the catch-up singleton, decided
// whether messages were missed.
func (c *CatchUp) Decided() int64 { return c.decided.Load() }

func upKey(node string) string { return "up." + kvKey(node) }

// putUp records when this node started.
func (c *CatchUp) putUp(ctx context.Context) error {
	for {
		actx, cancel := context.WithTimeout(ctx, 2*time.Second)
		_, err := c.kv.Put(actx, upKey(c.n.s.Node), []byte(c.started.UTC().Format(time.RFC3339Nano)))
		cancel()
		c.n.Ops.Leases.Add(1)
		if err == nil {
			return nil
		}
		select {
		case <-ctx.Done():
			return fmt.Errorf("cluster: record the node's start: %w (last: %v)", ctx.Err(), err)
		case <-c.n.clock.After(200 * time.Millisecond):
		}
	}
}

// PutSeen implements catchup.Store: the mark waits for the next flush
// (within a second; the catch-up reads from catchup.Margin before a mark,
// so a mark lost with its node loses nothing).
func (c *CatchUp) PutSeen(_ context.Context, s catchup.Seen) error {
	k := s.Thread.Key()
	c.mu.Lock()
	defer c.mu.Unlock()
	if old, ok := c.queue[k]; !ok || !s.Time.Before(old.Time) {
		c.queue[k] = s
	}
	return nil
}

// flusher stores the queued marks every catchUpFlush, and this node's
// start time again every third of the TTL, until the node closes (then it
// stores what is queued once more).
func (c *CatchUp) flusher() {
	defer close(c.done)
	lastUp := c.n.clock.Now()
	for {
		select {
		case <-c.stop:
			if !c.n.nc.IsClosed() {
				c.flush()
			}
			return
		case <-c.n.clock.After(catchUpFlush):
		}
		c.flush()
		if now := c.n.clock.Now(); now.Sub(lastUp) > c.ttl/3 {
			lastUp = now
			ctx, cancel := context.WithTimeout(context.Background(), publishWait)
			_, err := c.kv.Put(ctx, upKey(c.n.s.Node), []byte(c.started.UTC().Format(time.RFC3339Nano)))
			cancel()
			c.n.Ops.Leases.Add(1)
			if err != nil {
				c.log.Warn("recording the node's start for the catch-up", "err", err)
			}
		}
	}
}

// flush stores the queued marks, at most catchUpBatchMax per batch; marks
// not stored go back to the queue (unless a newer one came meanwhile).
func (c *CatchUp) flush() {
	c.mu.Lock()
	if len(c.queue) == 0 {
		c.mu.Unlock()
		return
	}
	all := make([]catchup.Seen, 0, len(c.queue))
	for _, s := range c.queue {
		all = append(all, s)
	}
	c.queue = map[string]catchup.Seen{}
	c.mu.Unlock()
	for len(all) > 0 {
		k := min(len(all), catchUpBatchMax)
		batch := all[:k]
		all = all[k:]
		if err := c.put(batch); err != nil {
			c.log.Warn("storing catch-up marks: trying again with the next flush", "marks", len(batch), "err", err)
			for _, s := range batch {
				_ = c.PutSeen(context.Background(), s)
			}
		}
	}
}

func (c *CatchUp) put(batch []catchup.Seen) error {
	data, err := json.Marshal(batch)
	if err != nil {
		return err
	}
	c.mu.Lock()
	c.seq++
	key := "marks." + c.prefix + "-" + strconv.FormatUint(c.seq, 10)
	c.mu.Unlock()
	ctx, cancel := context.WithTimeout(context.Background(), publishWait)
	defer cancel()
	c.n.Ops.KV.Add(1)
	if _, err := c.kv.Put(ctx, key, data); err != nil {
		return err
	}
	c.batches.Add(1)
	return nil
}

// SeenSince implements catchup.Store: the newest mark per thread, from
// every node's batches (and this node's queue), at or after since.
func (c *CatchUp) SeenSince(ctx context.Context, since time.Time) ([]catchup.Seen, error) {
	newest := map[string]catchup.Seen{}
	add := func(s catchup.Seen) {
		if s.Time.Before(since) {
			return
		}
		k := s.Thread.Key()
		if old, ok := newest[k]; !ok || s.Time.After(old.Time) {
			newest[k] = s
		}
	}
	ctx, cancel := context.WithTimeout(ctx, 20*time.Second)
	defer cancel()
	w, err := c.kv.Watch(ctx, "marks.>", jetstream.IgnoreDeletes())
	if err != nil {
		return nil, fmt.Errorf("cluster: read catch-up marks: %w", err)
	}
	defer func() { _ = w.Stop() }()
	c.n.Ops.Leases.Add(1)
	for loaded := false; !loaded; {
		select {
		case <-ctx.Done():
			return nil, fmt.Errorf("cluster: read catch-up marks: %w", ctx.Err())
		case e, ok := <-w.Updates():
			if !ok {
				return nil, errors.New("cluster: read catch-up marks: the watcher stopped")
			}
			if e == nil {
				loaded = true
				continue
			}
			var batch []catchup.Seen
			if err := json.Unmarshal(e.Value(), &batch); err != nil {
				c.log.Error("undecodable catch-up marks", "key", e.Key(), "err", err)
				continue
			}
			for _, s := range batch {
				add(s)
			}
		}
	}
	c.mu.Lock()
	for _, s := range c.queue {
		add(s)
	}
	c.mu.Unlock()
	out := make([]catchup.Seen, 0, len(newest))
	for _, s := range newest {
		out = append(out, s)
	}
	return out, nil
}

// Task is the catch-up of every node: once this node's adapters can fetch
// (a Discord node without a gateway shard cannot) and it has heard which
// nodes are live, it competes for the catch-up singleton; the holder
// catches up when the cluster was down (see above) and then keeps the
// heartbeat going while it holds the singleton.
func (c *CatchUp) Task(fetchers []catchup.Fetcher) func(context.Context) error {
	single := c.n.Singleton("catchup", func(ctx context.Context) error { return c.lead(ctx, fetchers) })
	return func(ctx context.Context) error {
		if len(fetchers) == 0 {
			return nil
		}
		for !allReady(fetchers) {
			select {
			case <-ctx.Done():
				return nil
			case <-c.n.clock.After(100 * time.Millisecond):
			}
		}
		// The presence watcher hears every live node within a renewal.
		select {
		case <-ctx.Done():
			return nil
		case <-c.n.clock.After(c.n.s.LeaseTTL):
		}
		return single(ctx)
	}
}

func allReady(fetchers []catchup.Fetcher) bool {
	for _, f := range fetchers {
		if !f.Ready() {
			return false
		}
	}
	return true
}

// lead runs while this node holds the catch-up singleton.
func (c *CatchUp) lead(ctx context.Context, fetchers []catchup.Fetcher) error {
	need, why, err := c.missed(ctx)
	if err != nil {
		return fmt.Errorf("cluster: decide on the catch-up: %w", err)
	}
	c.decided.Add(1)
	beat := func() {
		bctx, cancel := context.WithTimeout(ctx, c.n.s.LeaseTTL/2)
		defer cancel()
		_, err := c.kv.Put(bctx, catchUpAlive, []byte(c.n.clock.Now().UTC().Format(time.RFC3339Nano)))
		c.n.Ops.Leases.Add(1)
		if err != nil && ctx.Err() == nil {
			c.log.Warn("catch-up heartbeat", "err", err)
		}
	}
	beat()
	if need {
		if _, err := c.kv.Put(ctx, catchUpPending, []byte(c.n.s.Node)); err != nil {
			return fmt.Errorf("cluster: note the catch-up: %w", err)
		}
		// The adapters submit what they fetch once (Discord's does not
		// try again): after a restart of every node the event stream may
		// still be electing its leader.
		if err := c.streamReady(ctx, c.n.events); err != nil {
			return err
		}
		marks, err := c.n.js.Stream(ctx, "KV_"+CatchUpBucket)
		if err != nil {
			return fmt.Errorf("cluster: open the catch-up marks: %w", err)
		}
		if err := c.streamReady(ctx, marks); err != nil {
			return err
		}
		c.log.Info("catching up on what was posted while every node was down", "why", why, "window", c.window)
		// Heartbeats go on while it runs: a node dying half-way leaves
		// the pending key for the next.
		rctx, cancel := context.WithCancel(ctx)
		ran := make(chan error, 1)
		go func() {
			// A few attempts (what was submitted already is stored once);
			// then the lease goes back and the next node tries.
			var err error
			for attempt := 1; attempt <= 3; attempt++ {
				if err = catchup.Run(rctx, c, fetchers, c.window, c.n.clock, c.log); err == nil || rctx.Err() != nil {
					break
				}
				c.log.Warn("catch-up incomplete; trying again", "attempt", attempt, "err", err)
				select {
				case <-rctx.Done():
				case <-c.n.clock.After(time.Duration(attempt) * 5 * time.Second):
				}
			}
			ran <- err
		}()
		for running := true; running; {
			select {
			case err := <-ran:
				running = false
				if err != nil {
					cancel()
					return err // the singleton gives the lease back; another node tries
				}
			case <-c.n.clock.After(c.n.s.LeaseTTL / 3):
				beat()
			}
		}
		cancel()
		c.ran.Add(1)
		if err := c.kv.Delete(ctx, catchUpPending); err != nil && ctx.Err() == nil {
			c.log.Warn("catch-up done; removing its pending note", "err", err)
		}
	} else {
		c.log.Info("no catch-up needed", "why", why)
	}
	for {
		select {
		case <-ctx.Done():
			return nil
		case <-c.n.clock.After(c.n.s.LeaseTTL / 3):
			beat()
		}
	}
}

// missed decides whether messages may have been missed: a catch-up was
// left pending, the heartbeat is missing (the cluster is new, or was down
// longer than the TTL), or no live node has been up since before the last
// heartbeat of the node that held the catch-up before.
func (c *CatchUp) missed(ctx context.Context) (bool, string, error) {
	if _, err := c.kv.Get(ctx, catchUpPending); err == nil {
		return true, "a catch-up was left unfinished", nil
	} else if !errors.Is(err, jetstream.ErrKeyNotFound) {
		return false, "", err
	}
	e, err := c.kv.Get(ctx, catchUpAlive)
	if errors.Is(err, jetstream.ErrKeyNotFound) {
		return true, "no heartbeat of an earlier catch-up node", nil
	}
	if err != nil {
		return false, "", err
	}
	last, err := time.Parse(time.RFC3339Nano, string(e.Value()))
	if err != nil {
		return true, "undecodable heartbeat", nil
	}
	if !c.started.After(last) {
		return false, "this node was up all along", nil
	}
	live, _ := c.n.liveNodes(ctx)
	for _, k := range live {
		name, ok := strings.CutPrefix(k, "node.")
		if !ok || k == nodeKey(c.n.s.Node) {
			continue
		}
		u, err := c.kv.Get(ctx, "up."+name)
		if err != nil {
			continue
		}
		since, err := time.Parse(time.RFC3339Nano, string(u.Value()))
		if err == nil && !since.After(last) {
			return false, "another node was up all along", nil
		}
	}
	return true, "every node was down since " + last.UTC().Format(time.RFC3339), nil
}

// lateAfter is how long after its message's time an event may be stored
// and still count as live: one stored later (fetched by a catch-up, or
// replayed by a platform) may have been handled before, so its replies'
// posted marks are checked from the message's time on.
const lateAfter = 2 * time.Second

func late(ev bot.Event, stored time.Time) bool {
	return !ev.Time.IsZero() && stored.Sub(ev.Time) > lateAfter
}

// streamReady waits until the event stream has a leader (it takes
// publishes).
func (c *CatchUp) streamReady(ctx context.Context, st jetstream.Stream) error {
	for {
		ictx, cancel := context.WithTimeout(ctx, 2*time.Second)
		info, err := st.Info(ictx)
		cancel()
		if err == nil && (info.Cluster == nil || info.Cluster.Leader != "") {
			return nil
		}
		select {
		case <-ctx.Done():
			return fmt.Errorf("cluster: wait for the event stream: %w", ctx.Err())
		case <-c.n.clock.After(200 * time.Millisecond):
		}
	}
}
