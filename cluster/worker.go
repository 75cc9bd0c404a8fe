package cluster

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"sort"
	"strconv"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"

	"github.com/einsatz/einsatz/bot"
)

func encode(v any) ([]byte, error) {
	data, err := json.Marshal(v)
	if err != nil {
		return nil, fmt.Errorf("cluster: encode: %w", err)
	}
	return data, nil
}

// Run keeps this node's partition leases until ctx ends: it announces the
// node, takes free partitions up to its fair share (partitions divided by
// live nodes), renews what it holds every third of the lease time, and
// gives back what is beyond its share so a node that joins gets work. For
// each partition it holds it runs a worker (events to the core) and a
// sender (replies to the platform). core takes the events.
func (n *Node) Run(ctx context.Context, core Core) error {
	n.mu.Lock()
	n.core = core
	n.mu.Unlock()
	every := n.s.LeaseTTL / 3
	for {
		if err := n.renew(ctx); err != nil && ctx.Err() == nil {
			n.log.Warn("renewing partition leases", "err", err)
		}
		select {
		case <-ctx.Done():
			// Stop taking events; what the core holds still completes,
			// is posted and acknowledged until Close gives the leases back.
			n.mu.Lock()
			for _, l := range n.held {
				l.stop()
			}
			n.mu.Unlock()
			return nil
		case <-n.clock.After(every):
		}
	}
}

func (n *Node) renew(ctx context.Context) error {
	n.mu.Lock()
	if n.stopped {
		n.mu.Unlock()
		return nil
	}
	held := make(map[int]*lease, len(n.held))
	for p, l := range n.held {
		held[p] = l
	}
	n.mu.Unlock()
	// No request may hold the round up past the lease time.
	ctx, cancel := context.WithTimeout(ctx, n.s.LeaseTTL/2)
	defer cancel()

	// Renew what is held first; a lease lost (it expired, and another
	// node may have taken it) stops its worker.
	ps := make([]int, 0, len(held))
	for p, l := range held {
		sent := n.clock.Now()
		rev, err := n.leases.Update(ctx, partitionKey(p), []byte(n.s.Node), l.rev)
		n.Ops.Leases.Add(1)
		if err != nil {
			if ctx.Err() != nil {
				return err // shutting down, or the round took too long: next round
			}
			n.log.Warn("partition lease lost", "partition", p, "err", err)
			n.drop(p, l)
			delete(held, p)
			continue
		}
		n.mu.Lock()
		l.rev, l.renewed = rev, sent
		n.mu.Unlock()
		ps = append(ps, p)
	}
	now := n.clock.Now().UTC().Format(time.RFC3339)
	if _, err := n.leases.Put(ctx, nodeKey(n.s.Node), []byte(n.s.Node+" "+now)); err != nil {
		return fmt.Errorf("announce node: %w", err)
	}
	n.Ops.Leases.Add(1)
	nodes, err := n.liveNodes(ctx)
	if err != nil {
		return err
	}
	share := (n.s.Partitions + max(1, len(nodes)) - 1) / max(1, len(nodes))

	// Give back what is beyond the share, so a node that joined gets work:
	// first stop taking its events, then, once the core posted and
	// acknowledged those it holds, the lease (renewed meanwhile).
	sort.Ints(ps)
	working := 0
	for i, p := range ps {
		l := held[p]
		n.mu.Lock()
		if i >= share && !l.leaving {
			l.leaving = true
			l.stop()
		}
		leaving, busy := l.leaving, n.inFlight[p] > 0
		n.mu.Unlock()
		switch {
		case !leaving:
			working++
		case !busy:
			n.release(ctx, p, l)
			delete(held, p)
		}
	}
	// Take free partitions up to the share, starting at a place of our
	// own so that nodes starting together do not all race for the same.
	start := Partition(bot.ThreadRef{Platform: n.s.Node}, n.s.Partitions)
	for i := 0; i < n.s.Partitions && working < share; i++ {
		p := (start + i) % n.s.Partitions
		if held[p] != nil {
			continue
		}
		sent := n.clock.Now()
		rev, err := n.leases.Create(ctx, partitionKey(p), []byte(n.s.Node))
		n.Ops.Leases.Add(1)
		if err != nil {
			continue // another node holds it
		}
		if l := n.acquire(ctx, p, rev, sent); l != nil {
			held[p] = l
			working++
		}
	}
	return nil
}

// liveNodes are the nodes heard from within the lease time (the watcher
// on the presence keys keeps when each was last heard).
func (n *Node) liveNodes(context.Context) ([]string, error) {
	now := n.clock.Now()
	n.mu.Lock()
	defer n.mu.Unlock()
	var out []string
	for name, at := range n.heard {
		if now.Sub(at) < n.s.LeaseTTL {
			out = append(out, name)
		}
	}
	return out, nil
}

// watchNodes follows the presence keys into heard.
func (n *Node) watchNodes(ctx context.Context) error {
	w, err := n.leases.Watch(ctx, "node.>", jetstream.UpdatesOnly())
	if err != nil {
		return fmt.Errorf("cluster: watch nodes: %w", err)
	}
	n.nodeWatch = w
	go func() {
		for e := range w.Updates() {
			if e == nil || e.Operation() != jetstream.KeyValuePut {
				continue
			}
			n.mu.Lock()
			n.heard[e.Key()] = n.clock.Now()
			n.mu.Unlock()
		}
	}()
	return nil
}

func (n *Node) acquire(ctx context.Context, p int, rev uint64, sent time.Time) *lease {
	n.mu.Lock()
	if n.stopped {
		n.mu.Unlock()
		return nil
	}
	pctx, cancel := context.WithCancel(context.WithoutCancel(ctx))
	fctx, stop := context.WithCancel(pctx)
	l := &lease{rev: rev, renewed: sent, ctx: pctx, cancel: cancel, stop: stop}
	n.held[p] = l
	n.mu.Unlock()
	n.log.Info("partition taken", "partition", p)
	// Post the replies to the partition's channels for the other nodes.
	if sub, err := n.servePosts(p, l); err != nil {
		n.log.Warn("serving the posts of a partition's channels", "partition", p, "err", err)
	} else {
		n.mu.Lock()
		l.posts = sub
		n.mu.Unlock()
	}
	n.wg.Add(1)
	go func() {
		defer n.wg.Done()
		err := n.work(fctx, p, l)
		if fctx.Err() != nil {
			return
		}
		// The worker failed (no stream leader yet after a failover, the
		// consumer deleted by a node that took the partition): give the
		// partition back, so the next round, here or elsewhere, starts it
		// afresh.
		n.log.Warn("partition worker stopped; giving the partition back", "partition", p, "err", err)
		n.mu.Lock()
		l := n.held[p]
		n.mu.Unlock()
		if l != nil {
			rctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 5*time.Second)
			n.release(rctx, p, l)
			cancel()
		}
	}()
	return l
}

// release gives a partition back (beyond this node's share).
func (n *Node) release(ctx context.Context, p int, l *lease) {
	n.drop(p, l)
	if err := n.leases.Delete(ctx, partitionKey(p), jetstream.LastRevision(l.rev)); err != nil {
		n.log.Warn("giving back a partition", "partition", p, "err", err)
	}
	n.Ops.Leases.Add(1)
	n.log.Info("partition given back", "partition", p)
}

func (n *Node) drop(p int, l *lease) {
	l.cancel()
	n.mu.Lock()
	if n.held[p] == l {
		delete(n.held, p)
	}
	sub := l.posts
	n.mu.Unlock()
	if sub != nil {
		_ = sub.Unsubscribe()
	}
}

// consumer makes a fresh durable pull consumer on one partition's subject.
// The one before it (of the node that held the partition) is deleted
// first: its unacknowledged messages are then delivered again from the
// oldest, so a thread's events keep their order across a failover, and
// that node's late acknowledgements no longer count.
//
// before is the last stream sequence an earlier holder may have handled
// (the new consumer counts deliveries from one again, so those events'
// replies are checked against the posted marks): what the old consumer
// delivered, or what its own earlier holders may have handled (kept in
// the consumer's metadata), whichever is later; the stream's last
// sequence when the old consumer cannot be read.
func (n *Node) consumer(ctx context.Context, stream jetstream.Stream, name, subject string) (jetstream.Consumer, uint64, error) {
	// Short: after a node died the cluster may be electing a leader; the
	// next lease round tries again.
	ctx, cancel := context.WithTimeout(ctx, 2*time.Second)
	defer cancel()
	var before uint64
	if old, err := stream.Consumer(ctx, name); err == nil {
		if info, err := old.Info(ctx); err == nil {
			before = info.Delivered.Stream
			if b, err := strconv.ParseUint(info.Config.Metadata[beforeKey], 10, 64); err == nil {
				before = max(before, b)
			}
		} else {
			before = math.MaxUint64
		}
	} else if !errors.Is(err, jetstream.ErrConsumerNotFound) {
		before = math.MaxUint64
	}
	if before == math.MaxUint64 || before == 0 {
		// Unknown, or no consumer (a holder that deleted it may have died
		// before making its own): assume every stored event was handled.
		info, err := stream.Info(ctx)
		if err != nil {
			return nil, 0, fmt.Errorf("stream info: %w", err)
		}
		before = info.State.LastSeq
	}
	if err := n.js.DeleteConsumer(ctx, stream.CachedInfo().Config.Name, name); err != nil && !errors.Is(err, jetstream.ErrConsumerNotFound) {
		return nil, 0, fmt.Errorf("delete consumer %s: %w", name, err)
	}
	c, err := stream.CreateOrUpdateConsumer(ctx, jetstream.ConsumerConfig{Durable: name, FilterSubject: subject,
		AckPolicy: jetstream.AckExplicitPolicy, AckWait: consumerAckIn, MaxAckPending: 4 * maxInFlight, DeliverPolicy: jetstream.DeliverAllPolicy,
		Metadata: map[string]string{beforeKey: strconv.FormatUint(before, 10)}})
	if err != nil {
		return nil, 0, fmt.Errorf("create consumer %s: %w", name, err)
	}
	return c, before, nil
}

// beforeKey is the consumer metadata with the last stream sequence an
// earlier holder of the partition may have handled.
const beforeKey = "einsatz_before"

// work hands a partition's events to the core, in stream order, at most
// maxInFlight unacknowledged at a time. The core posts the replies itself
// (postReply), so an event costs its publish, its acknowledgement and the
// posted mark of each reply, plus its share of a pull request.
func (n *Node) work(ctx context.Context, p int, hold *lease) error {
	ps := strconv.Itoa(p)
	// Events an earlier holder may have handled (up to before) have the
	// marks of their replies checked.
	events, before, err := n.consumer(ctx, n.events, "events-"+ps, eventSubject+ps)
	if err != nil {
		return err
	}
	for ctx.Err() == nil {
		n.mu.Lock()
		room := maxInFlight - n.inFlight[p]
		n.mu.Unlock()
		if room <= 0 {
			select {
			case <-ctx.Done():
			case <-n.freed:
			case <-n.clock.After(100 * time.Millisecond):
			}
			continue
		}
		batch, err := events.Fetch(min(room, fetchBatch), jetstream.FetchMaxWait(time.Second))
		if err != nil {
			if ctx.Err() != nil {
				return nil
			}
			return fmt.Errorf("fetch events: %w", err)
		}
		n.Ops.Fetched.Add(1)
		for msg := range batch.Messages() {
			n.handle(p, hold, msg, before)
		}
		if err := batch.Error(); err != nil && ctx.Err() == nil && !errors.Is(err, nats.ErrTimeout) {
			return fmt.Errorf("fetch events: %w", err)
		}
	}
	return nil
}

// handle hands an event fetched during hold to the core.
func (n *Node) handle(p int, hold *lease, msg jetstream.Msg, before uint64) {
	var ev bot.Event
	if err := json.Unmarshal(msg.Data(), &ev); err != nil {
		n.log.Error("undecodable event dropped", "partition", p, "err", err)
		_ = msg.Term()
		return
	}
	n.mu.Lock()
	orig := ev.Key
	for {
		ev.Key = orig
		if k := n.refusedKeys[orig]; k > 0 {
			// This node's core handled the event before but could not post
			// its replies (it had lost the partition, and got it back):
			// under another key, or the core would take it for a repeat.
			// Its marks stay those of the original key.
			ev.Key = orig + "~again" + strconv.Itoa(k)
		}
		old, dup := n.pending[ev.Key]
		if !dup {
			break
		}
		if old.hold == hold {
			n.mu.Unlock()
			return // already with the core (a redelivery while it is still being handled)
		}
		// Still with the core from an earlier hold of the partition: that
		// one may not post any more (postReply refuses it), so its thread's
		// later events cannot overtake it; this delivery goes to the core
		// under the next retry key.
		old.refused = true
		n.refusedKeys[orig]++
	}
	md, err := msg.Metadata()
	again := err != nil || md.NumDelivered > 1 || md.Sequence.Stream <= before || orig != ev.Key
	var stored time.Time
	if err == nil {
		stored = md.Timestamp
		if late(ev, stored) {
			// Published long after it was posted (a catch-up, catchup.go):
			// the cluster may have answered it before, from its time on.
			again, stored = true, ev.Time
		}
	} else {
		stored = n.clock.Now() // not read: assume the check must reach far back
		stored = stored.Add(-eventsMaxAge)
	}
	pe := &pending{msg: msg, partition: p, hold: hold, again: again, key: orig, stored: stored, handle: handleOf(msg.Headers())}
	if pe.handle != nil {
		pe.thread = ev.Thread().Key()
	}
	n.pending[ev.Key] = pe
	n.inFlight[p]++
	core := n.core
	n.mu.Unlock()
	switch err := core.Submit(ev); {
	case err == nil, errors.Is(err, bot.ErrQueueFull):
		// The core calls completed when done (also for a kept event).
	default:
		n.mu.Lock()
		delete(n.pending, ev.Key)
		n.inFlight[p]--
		n.mu.Unlock()
		if errors.Is(err, bot.ErrMalformed) {
			_ = msg.Term()
		} else {
			_ = msg.Nak()
		}
		n.log.Warn("the core did not take an event", "event", ev.Key, "err", err)
	}
}

// waitFresh waits while partition p's lease is not fresh; false when ctx
// or the partition's context pctx ends first (the lease was lost or the
// node stops).
func (n *Node) waitFresh(ctx, pctx context.Context, p int) bool {
	for counted := false; ; {
		if ctx.Err() != nil || pctx.Err() != nil {
			return false
		}
		if n.leaseFresh(p) {
			return true
		}
		if !counted {
			n.Ops.Deferred.Add(1)
			counted = true
		}
		select {
		case <-ctx.Done():
			return false
		case <-pctx.Done():
			return false
		case <-n.clock.After(20 * time.Millisecond):
		}
	}
}

// leaseFresh reports whether this node renewed partition p's lease within
// two thirds of the lease time: no other node can hold it yet.
func (n *Node) leaseFresh(p int) bool {
	n.mu.Lock()
	defer n.mu.Unlock()
	l := n.held[p]
	return l != nil && n.clock.Now().Sub(l.renewed) < 2*n.s.LeaseTTL/3
}

// adapter is a platform adapter in cluster mode.
type adapter struct {
	bot.Adapter
	n *Node
}

// Run runs the platform adapter with the event stream as its sink.
func (a *adapter) Run(ctx context.Context, _ bot.Sink) error { return a.Adapter.Run(ctx, a.n) }

// Send posts the core's reply through this node's adapter (postReply).
func (a *adapter) Send(ctx context.Context, to bot.ThreadRef, r bot.Reply) error {
	return a.n.postReply(ctx, to, r)
}

// Completed acknowledges the event on the event stream.
func (a *adapter) Completed(ev *bot.Event) { a.n.completed(ev) }

// Typing shows the typing indicator, through the node of the channel
// (post.go): its route is rate-limited per channel like posts.
func (a *adapter) Typing(ctx context.Context, in bot.ThreadRef) error {
	if a.n.answersInteraction(in) {
		return nil // the platform shows its own "thinking…"
	}
	if t, ok := a.Adapter.(bot.Typer); ok {
		return a.n.typing(ctx, t, in)
	}
	return nil
}

// DirectMessage sends a private message at once, through the local adapter.
func (a *adapter) DirectMessage(ctx context.Context, userID string, r bot.Reply) error {
	if d, ok := a.Adapter.(bot.DirectMessenger); ok {
		return d.DirectMessage(ctx, userID, r)
	}
	return fmt.Errorf("cluster: the %s adapter cannot send direct messages", a.Platform())
}
