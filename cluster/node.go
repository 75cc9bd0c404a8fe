package cluster

import (
	"context"
	"encoding/base64"
	"errors"
	"fmt"
	"hash/fnv"
	"log/slog"
	"os"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"

	"github.com/einsatz/einsatz/bot"
	"github.com/einsatz/einsatz/bot/config"
)

// Names of the streams, buckets and subjects every node shares.
const (
	EventStream   = "EINSATZ_EVENTS"
	OwnerBucket   = "einsatz_owners"
	LeaseBucket   = "einsatz_leases"
	PostedBucket  = "einsatz_posted"
	eventSubject  = "einsatz.events."
	dedupWindow   = 10 * time.Minute
	fetchBatch    = 64
	maxInFlight   = 128 // events of one partition handed to the core and not yet acknowledged
	publishWait   = 10 * time.Second
	postedMaxAge  = 24 * time.Hour
	eventsMaxAge  = 7 * 24 * time.Hour
	consumerAckIn = 30 * time.Second
)

// Core is what a node needs from bot.Bot (given to Run): it takes the
// events of this node's partitions.
type Core interface {
	Submit(ev bot.Event) error
}

// Options configure a Node.
type Options struct {
	Settings Settings
	Logger   *slog.Logger
	Clock    bot.Clock // default bot.SystemClock
	// Conn overrides the connection (tests); default: connect to
	// Settings.ClientURL with credentials from the environment.
	Conn *nats.Conn
	// Routed are the platforms whose replies (and typing indicators) the
	// node holding the channel's partition posts (post.go); default
	// DefaultRouted.
	Routed []string
}

// Ops counts the JetStream operations a node made, for the benchmark and
// `einsatz cluster status`: publishes (events, replies, posted marks),
// acknowledgements, pull requests and key-value reads and writes on the
// event path. Lease renewals are background work and counted apart.
type Ops struct {
	Published atomic.Int64
	Acked     atomic.Int64
	Fetched   atomic.Int64
	KV        atomic.Int64
	Leases    atomic.Int64
	Events    atomic.Int64 // events this node published (ingress)
	Handled   atomic.Int64 // events this node's partitions completed
	Posted    atomic.Int64 // replies this node posted
	Deferred  atomic.Int64 // replies held back while a lease renewal was late
	Notices   atomic.Int64 // core NATS notices of posted replies (not stored, not JetStream)
	Skipped   atomic.Int64 // replies not posted again: an earlier holder had posted them
	Routed    atomic.Int64 // replies posted for this node by the node of their channel (post.go; core NATS, not JetStream)
	// ShardsLost counts Discord shard leases this node lost (not renewed
	// in time) while their session was connected: each costs an IDENTIFY
	// where the shard is taken next.
	ShardsLost atomic.Int64
}

// PerEvent is the operations on the event path per published event.
func (o *Ops) PerEvent() float64 {
	ev := o.Events.Load()
	if ev == 0 {
		return 0
	}
	return float64(o.Published.Load()+o.Acked.Load()+o.Fetched.Load()+o.KV.Load()) / float64(ev)
}

// Node is this process's part in the cluster.
type Node struct {
	s     Settings
	log   *slog.Logger
	clock bot.Clock
	core  Core
	nc    *nats.Conn
	ownNC bool
	js    jetstream.JetStream

	events         jetstream.Stream
	leases, posted jetstream.KeyValue
	// Owners is the shared thread ownership.
	Owners *Owners
	// Ops counts this node's JetStream operations.
	Ops Ops
	// marks groups the posted marks of replies; notices keeps the
	// posted replies other nodes noticed (marks.go).
	marks   marker
	notices noticed

	mu      sync.Mutex
	senders map[string]bot.Sender // the real adapters, by platform
	pending map[string]*pending   // events handed to the core, by key
	// refusedKeys counts, per event, how often this node's core handled it
	// without being able to post (the partition was lost meanwhile).
	refusedKeys  map[string]int
	inFlight     []int         // per partition
	freed        chan struct{} // an event of some partition completed
	held         map[int]*lease
	heard        map[string]time.Time // presence keys, when last put
	stopped      bool
	shards       []int  // Discord shards held (shards.go)
	shardProblem string // why shards cannot IDENTIFY now, "" when they can
	nodeWatch    jetstream.KeyWatcher
	closers      []func()        // the shared state's flushers and watchers (onClose)
	routed       map[string]bool // Options.Routed
	// posts are the replies this node posted as their channel's node,
	// by reply id, kept noticeKeep after the post (post.go).
	posts      map[string]*postCall
	postsSwept time.Time
	wg         sync.WaitGroup
}

type pending struct {
	msg       jetstream.Msg
	partition int
	hold      *lease    // the hold of the partition it was fetched in: it posts only during that one
	again     bool      // it may have been handled before: check the posted marks
	stored    time.Time // when the event stream stored it
	refused   bool      // a reply was not posted: the lease was lost
	key       string    // the event's own key (the core may know it by another)
	n         int       // replies posted for the event so far
	handle    []byte    // the adapter's answer handle (interactions.go); nil: none
	thread    string    // the event's thread key, for an event with a handle
}

type lease struct {
	rev     uint64
	renewed time.Time          // when the request that last created or renewed it was sent
	ctx     context.Context    // ends when the lease is lost or given back
	cancel  context.CancelFunc // ends ctx
	stop    context.CancelFunc // stops taking events only (shutdown, giving back)
	leaving bool               // being given back once its events are done
	posts   *nats.Subscription // the requests to post to the partition's channels (post.go)
}

// Connect joins the cluster: it connects, creates the streams and buckets
// if they are missing (retrying while a new cluster elects its leader, up
// to ctx's deadline) and starts following thread ownership. Run starts the
// partition workers.
func Connect(ctx context.Context, o Options) (*Node, error) {
	if o.Logger == nil {
		o.Logger = slog.Default()
	}
	if o.Clock == nil {
		o.Clock = bot.SystemClock{}
	}
	n := &Node{s: o.Settings, log: o.Logger.With("component", "cluster", "node", o.Settings.Node), clock: o.Clock,
		nc: o.Conn, senders: map[string]bot.Sender{}, pending: map[string]*pending{}, refusedKeys: map[string]int{}, posts: map[string]*postCall{}, inFlight: make([]int, o.Settings.Partitions),
		freed: make(chan struct{}, 1), held: map[int]*lease{}, heard: map[string]time.Time{}}
	if o.Routed == nil {
		o.Routed = DefaultRouted
	}
	n.routed = map[string]bool{}
	for _, p := range o.Routed {
		n.routed[p] = true
	}
	if n.nc == nil {
		nc, err := Dial(o.Settings)
		if err != nil {
			return nil, err
		}
		n.nc, n.ownNC = nc, true
	}
	js, err := jetstream.New(n.nc, jetstream.WithPublishAsyncMaxPending(4096), jetstream.WithPublishAsyncTimeout(publishWait))
	if err != nil {
		n.closeConn()
		return nil, fmt.Errorf("cluster: jetstream: %w", err)
	}
	n.js = js
	if err := n.setup(ctx); err != nil {
		n.closeConn()
		return nil, err
	}
	return n, nil
}

// Dial connects to the cluster with credentials from the environment:
// NATS_CREDS (a creds file), NATS_TOKEN, or NATS_USER and NATS_PASSWORD.
func Dial(s Settings) (*nats.Conn, error) {
	opts := []nats.Option{nats.Name("einsatz " + s.Node), nats.MaxReconnects(-1), nats.ReconnectWait(250 * time.Millisecond)}
	if f := os.Getenv("NATS_CREDS"); f != "" {
		opts = append(opts, nats.UserCredentials(f))
	}
	if t := os.Getenv("NATS_TOKEN"); t != "" {
		opts = append(opts, nats.Token(t))
	}
	if u := os.Getenv("NATS_USER"); u != "" {
		opts = append(opts, nats.UserInfo(u, os.Getenv("NATS_PASSWORD")))
	}
	url := s.ClientURL()
	if s.Mode == config.ClusterExternal {
		url = strings.Join(config.SplitURLs(s.URL), ",")
	}
	nc, err := nats.Connect(url, opts...)
	if err != nil {
		return nil, fmt.Errorf("cluster: connect to %s: %w", url, err)
	}
	return nc, nil
}

func (n *Node) setup(ctx context.Context) error {
	r := n.s.Replicas
	var err error
	retry := func(what string, f func(ctx context.Context) error) error {
		for {
			actx, cancel := context.WithTimeout(ctx, time.Second)
			err = f(actx)
			cancel()
			if err == nil {
				return nil
			}
			select {
			case <-ctx.Done():
				return fmt.Errorf("cluster: create %s: %w (last: %v)", what, ctx.Err(), err)
			case <-n.clock.After(200 * time.Millisecond):
			}
		}
	}
	if err := retry(EventStream, func(ctx context.Context) (err error) {
		n.events, err = n.js.CreateOrUpdateStream(ctx, jetstream.StreamConfig{Name: EventStream, Subjects: []string{eventSubject + "*"},
			Retention: jetstream.WorkQueuePolicy, Replicas: r, Duplicates: dedupWindow, MaxAge: eventsMaxAge, Storage: jetstream.FileStorage})
		return err
	}); err != nil {
		return err
	}
	if err := retry(LeaseBucket, func(ctx context.Context) (err error) {
		n.leases, err = n.js.CreateOrUpdateKeyValue(ctx, jetstream.KeyValueConfig{Bucket: LeaseBucket, TTL: n.s.LeaseTTL, Replicas: r})
		return err
	}); err != nil {
		return err
	}
	if err := retry(PostedBucket, func(ctx context.Context) (err error) {
		n.posted, err = n.js.CreateOrUpdateKeyValue(ctx, jetstream.KeyValueConfig{Bucket: PostedBucket, TTL: postedMaxAge, Replicas: r})
		return err
	}); err != nil {
		return err
	}
	var owners jetstream.KeyValue
	if err := retry(OwnerBucket, func(ctx context.Context) (err error) {
		owners, err = n.js.CreateOrUpdateKeyValue(ctx, jetstream.KeyValueConfig{Bucket: OwnerBucket, Replicas: r})
		return err
	}); err != nil {
		return err
	}
	if n.Owners, err = watchOwners(ctx, owners, n.log); err != nil {
		return err
	}
	if err := n.watchNotices(); err != nil {
		return err
	}
	return n.watchNodes(context.WithoutCancel(ctx))
}

// Adapters wraps the platform adapters for cluster mode: what they receive
// is published to the event stream instead of going to the core, and the
// core's replies to the events of this node's partitions are posted
// through the real adapter (postReply).
func (n *Node) Adapters(adapters ...bot.Adapter) []bot.Adapter {
	out := make([]bot.Adapter, len(adapters))
	for i, a := range adapters {
		n.Register(a.Platform(), a)
		out[i] = &adapter{Adapter: a, n: n}
	}
	return out
}

// Register makes s the sender through which this node posts replies for a
// platform (Adapters does it for each adapter).
func (n *Node) Register(platform string, s bot.Sender) {
	n.mu.Lock()
	defer n.mu.Unlock()
	n.senders[platform] = s
}

// Partition is the partition of a thread: every node computes the same.
func Partition(thread bot.ThreadRef, partitions int) int {
	h := fnv.New32a()
	h.Write([]byte(thread.Key()))
	return int(h.Sum32() % uint32(partitions))
}

// Submit publishes an event to the event stream, de-duplicated by its key,
// and returns once JetStream has stored it (on a quorum of replicas): an
// event an adapter acknowledges after Submit is not lost when a node dies.
// Concurrent calls share the connection's asynchronous publishing.
func (n *Node) Submit(ev bot.Event) error { return n.submit(ev, nil) }

func (n *Node) submit(ev bot.Event, handle []byte) error {
	if ev.User.Bot {
		return nil // the core would drop it; not worth a publish
	}
	if ev.Key == "" || ev.Platform == "" || ev.ChannelID == "" || (ev.ThreadID == "" && ev.MessageID == "") {
		return bot.ErrMalformed
	}
	if ev.Time.IsZero() {
		ev.Time = n.clock.Now()
	}
	data, err := encode(ev)
	if err != nil {
		return err
	}
	msg := nats.NewMsg(eventSubject + strconv.Itoa(Partition(ev.Thread(), n.s.Partitions)))
	msg.Data = data
	msg.Header.Set(jetstream.MsgIDHeader, ev.Key)
	setHandle(msg, handle)
	if err := n.publish(msg); err != nil {
		return fmt.Errorf("cluster: publish event %s: %w", ev.Key, err)
	}
	n.Ops.Events.Add(1)
	return nil
}

// errMsgIDInProcess is JetStream's answer to a publish whose Nats-Msg-Id
// another publish is storing at this moment (the same event from two
// nodes' gateways): not yet a confirmation.
const errMsgIDInProcess jetstream.ErrorCode = 10158

// publish publishes asynchronously and waits for the acknowledgement. A
// publish racing another with the same id is repeated until JetStream
// confirms one of them stored (a repeat is then a duplicate, acknowledged).
func (n *Node) publish(msg *nats.Msg) error {
	for attempt := 1; ; attempt++ {
		f, err := n.js.PublishMsgAsync(msg)
		if err != nil {
			return err
		}
		n.Ops.Published.Add(1)
		err = n.waitAck(f)
		var api *jetstream.APIError
		if err == nil || attempt == 10 || !errors.As(err, &api) || api.ErrorCode != errMsgIDInProcess {
			return err
		}
		<-n.clock.After(time.Duration(attempt) * 10 * time.Millisecond)
	}
}

func (n *Node) waitAck(f jetstream.PubAckFuture) error {
	select {
	case <-f.Ok():
		return nil
	case err := <-f.Err():
		return err
	case <-n.clock.After(publishWait):
		return errors.New("no acknowledgement from JetStream")
	}
}

// postReply posts a reply of the core through this node's own adapter,
// at once: the node handling an event holds its thread's partition, and the
// core's per-thread queue keeps a thread's replies in order. It posts only
// while the partition's lease is surely this node's (it waits while a
// renewal is late and refuses once the lease is lost, so the event is not
// acknowledged and comes again to the next holder). A reply to an event
// gets the id "<event key>#<n>" and is marked in the posted bucket right
// after the post, without waiting; for an event that may have been handled
// before (delivered again, or stored before this node took the partition)
// the mark is checked first, so a reply already posted is not posted twice.
func (n *Node) postReply(ctx context.Context, to bot.ThreadRef, r bot.Reply) error {
	n.mu.Lock()
	pe := n.pending[r.ReplyTo]
	var id string
	if pe != nil {
		pe.n++
		id = pe.key + "#" + strconv.Itoa(pe.n)
	}
	s := n.senders[to.Platform]
	n.mu.Unlock()
	if s == nil {
		return fmt.Errorf("cluster: no adapter for %s on this node", to.Platform)
	}
	if pe == nil {
		return n.send(ctx, context.Background(), s, to, r, "", nil) // a post nobody asked for (a timer's): nothing to repeat
	}
	// Only during the hold the event was fetched in: after the partition
	// came back to this node, the new consumer delivers the event again,
	// in order with its thread's later ones.
	l := pe.hold
	if n.hold(pe.partition) != l || !n.waitFresh(ctx, l.ctx, pe.partition) || n.hold(pe.partition) != l {
		n.refuse(pe)
		return fmt.Errorf("cluster: partition %d is no longer this node's: reply to %s left to the next holder", pe.partition, r.ReplyTo)
	}
	if pe.again {
		// Read while this node holds the partition (the posted bucket may
		// be electing a leader after a node died).
		posted, err := n.wasPosted(ctx, pe.partition, l, id, pe.stored)
		if err != nil {
			n.refuse(pe)
			return fmt.Errorf("cluster: reply to %s left to the next holder: %w", r.ReplyTo, err)
		}
		if posted {
			n.Ops.Skipped.Add(1)
			return nil // posted before
		}
	}
	r.ReplyTo = pe.key // the event's own key, should the core know it by another
	// Through the node of the reply's channel (post.go), so the
	// platform's per-channel rate limit holds across the nodes.
	if err := n.send(ctx, l.ctx, s, to, r, id, pe.handle); err != nil {
		if errors.Is(err, errHoldLost) {
			n.refuse(pe)
		}
		return err
	}
	n.Ops.Posted.Add(1)
	// Mark without waiting, grouped with the marks of other replies
	// (marks.go): should this node die before the event's acknowledgement
	// lands, the mark stops a second post.
	n.mark(pe.partition, l, id)
	return nil
}

// refuse leaves an event unacknowledged: a reply of it was not posted
// (the partition was lost, or its posted marks could not be read while it
// was held), so the next holder handles it.
func (n *Node) refuse(pe *pending) {
	n.mu.Lock()
	defer n.mu.Unlock()
	if !pe.refused {
		pe.refused = true
		n.refusedKeys[pe.key]++
	}
}

// completed acknowledges an event the core is done with, once its replies
// are stored; a failed event is handed back for redelivery.
func (n *Node) completed(ev *bot.Event) {
	n.mu.Lock()
	pe := n.pending[ev.Key]
	delete(n.pending, ev.Key)
	refused := false
	if pe != nil {
		n.inFlight[pe.partition]--
		refused = pe.refused
		if !refused {
			delete(n.refusedKeys, pe.key)
		}
	}
	n.mu.Unlock()
	if pe == nil {
		return
	}
	defer n.signalFreed()
	if n.nc.IsClosed() {
		return // the node is leaving: the event comes again elsewhere
	}
	if refused {
		return // the partition is another node's now: it comes again there
	}
	if ev.Outcome == bot.OutcomeFailed {
		_ = pe.msg.Nak()
		return
	}
	n.closeHandle(ev, pe)
	if err := pe.msg.Ack(); err != nil {
		n.log.Warn("acknowledging an event", "event", ev.Key, "err", err)
	}
	n.Ops.Acked.Add(1)
	n.Ops.Handled.Add(1)
}

func (n *Node) signalFreed() {
	select {
	case n.freed <- struct{}{}:
	default:
	}
}

// kvKey makes any string a valid key-value key.
func kvKey(s string) string { return base64.RawURLEncoding.EncodeToString([]byte(s)) }

// nodeKey is this node's presence key in the lease bucket.
func nodeKey(node string) string { return "node." + kvKey(node) }

func partitionKey(p int) string { return "partition." + strconv.Itoa(p) }

// Close stops the workers and leaves the cluster: leases are released so
// other nodes take the partitions at once.
func (n *Node) Close() error {
	n.mu.Lock()
	n.stopped = true
	held := n.held
	n.held = map[int]*lease{}
	n.mu.Unlock()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	for p, l := range held {
		n.drop(p, l)
		_ = n.leases.Delete(ctx, partitionKey(p), jetstream.LastRevision(l.rev))
	}
	_ = n.leases.Delete(ctx, nodeKey(n.s.Node))
	n.runClosers()
	n.Owners.stop()
	n.notices.stop()
	_ = n.nodeWatch.Stop()
	n.wg.Wait()
	n.closeConn()
	return nil
}

// Kill stops the node as a crash would: nothing is released; the
// connection closes at once. For tests of failover.
func (n *Node) Kill() {
	n.mu.Lock()
	n.stopped = true
	for _, l := range n.held {
		l.cancel()
	}
	n.held = map[int]*lease{}
	n.mu.Unlock()
	n.Owners.stop()
	n.notices.stop()
	_ = n.nodeWatch.Stop()
	n.nc.Close()
	n.runClosers()
	n.wg.Wait()
}

// onClose runs f when the node closes or is killed, before the
// connection closes (on Close) or after (on Kill).
func (n *Node) onClose(f func()) {
	n.mu.Lock()
	defer n.mu.Unlock()
	n.closers = append(n.closers, f)
}

func (n *Node) runClosers() {
	n.mu.Lock()
	fs := n.closers
	n.closers = nil
	n.mu.Unlock()
	for _, f := range fs {
		f()
	}
}

func (n *Node) closeConn() {
	if n.ownNC {
		_ = n.nc.Drain()
	}
}

// Held lists the partitions this node works now.
func (n *Node) Held() []int {
	n.mu.Lock()
	defer n.mu.Unlock()
	var out []int
	for p := range n.held {
		out = append(out, p)
	}
	return out
}

// Conn is the node's NATS connection (for Status).
func (n *Node) Conn() *nats.Conn { return n.nc }

// InFlight is the number of events this node handed to its core and has
// not acknowledged yet.
func (n *Node) InFlight() int {
	n.mu.Lock()
	defer n.mu.Unlock()
	return len(n.pending)
}
