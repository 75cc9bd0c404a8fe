package cluster

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"sort"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/nats-io/nats.go/jetstream"

	"github.com/einsatz/einsatz/bot"
)

// Discord gateway shards over the nodes. Each shard is a lease
// "shard.<id>" in the lease bucket (created with compare-and-set, renewed
// by revision every third of the lease time, expiring with it); the node
// holding it runs that shard's gateway session. IDENTIFYs are paced across
// the cluster through the identify bucket: one per rate_limit_key
// (shard % max_concurrency) per 5 seconds, as Discord allows, and refused
// while session_start_limit.remaining is below the reserve.

// IdentifyBucket holds, per rate_limit_key, when the last IDENTIFY of the
// cluster started, and the session start budget last read.
const IdentifyBucket = "einsatz_identify"

// IdentifyWindow is Discord's window: max_concurrency IDENTIFYs per 5 s.
const IdentifyWindow = 5 * time.Second

// GatewayLimits is Discord's GET /gateway/bot: the recommended shard count
// and the session start limit.
type GatewayLimits struct {
	Shards         int
	Total          int
	Remaining      int
	ResetAfter     time.Duration
	MaxConcurrency int
}

// ShardGateway is what the shard leases need from the Discord adapter
// (main bridges *discord.Adapter to it).
type ShardGateway interface {
	// Limits reads GET /gateway/bot.
	Limits(ctx context.Context) (GatewayLimits, error)
	// OpenShard connects the session of shard of shards (one IDENTIFY)
	// and returns the function that closes it. An error wrapping
	// ErrShardRefused (a rejected token) is not tried again.
	OpenShard(ctx context.Context, shard, shards int) (func(), error)
}

// ErrShardRefused marks a shard connect that trying again cannot mend (the
// gateway rejected the token): every try would spend an IDENTIFY.
var ErrShardRefused = errors.New("the gateway refused the shard for good")

// ShardOptions configure RunShards.
type ShardOptions struct {
	// Shards is the shard count; 0 takes what /gateway/bot recommends.
	// Every node must use the same.
	Shards int
	// Reserve: no IDENTIFY while session_start_limit.remaining is below it.
	Reserve int
}

// Budget is the session start budget as a node last read it, kept in the
// identify bucket for `einsatz cluster status`.
type Budget struct {
	Node           string    `json:"node"`
	At             time.Time `json:"at"`
	Total          int       `json:"total"`
	Remaining      int       `json:"remaining"`
	ResetAfter     string    `json:"reset_after"`
	MaxConcurrency int       `json:"max_concurrency"`
	Reserve        int       `json:"reserve"`
	Refused        bool      `json:"refused"`
}

const budgetKey = "budget"

func shardKey(s int) string { return "shard." + strconv.Itoa(s) }

// shardLease is a shard this node holds.
type shardLease struct {
	rev       uint64
	since     time.Time // when this node took it
	renewed   time.Time // when the last renewal was sent
	cancel    context.CancelFunc
	done      chan struct{} // the session is closed
	connected atomic.Bool   // the session IDENTIFYed
}

// shardSet is the state of RunShards.
type shardSet struct {
	n     *Node
	gw    ShardGateway
	o     ShardOptions
	kv    jetstream.KeyValue
	count int
	held  map[int]*shardLease // touched by the round only

	// limTurn lets one shard at a time read GET /gateway/bot; waiting for
	// the turn ends with the shard's context (a dropped lease), not with
	// the other shard's request.
	limTurn chan struct{}
	lim     GatewayLimits // last read, shared by the shards waiting to IDENTIFY
	limAt   time.Time
	limSet  bool
}

func newShardSet(n *Node, gw ShardGateway, o ShardOptions, kv jetstream.KeyValue, count int) *shardSet {
	return &shardSet{n: n, gw: gw, o: o, kv: kv, count: count, held: map[int]*shardLease{}, limTurn: make(chan struct{}, 1)}
}

// limitsMaxAge: shards waiting together share one GET /gateway/bot.
const limitsMaxAge = time.Second

// limits reads GET /gateway/bot, at most once a second for all shards.
func (r *shardSet) limits(ctx context.Context) (GatewayLimits, error) {
	select {
	case r.limTurn <- struct{}{}:
	case <-ctx.Done():
		return GatewayLimits{}, ctx.Err()
	}
	defer func() { <-r.limTurn }()
	now := r.n.clock.Now()
	if r.limSet && now.Sub(r.limAt) < limitsMaxAge {
		return r.lim, nil
	}
	lim, err := r.gw.Limits(ctx)
	if err != nil {
		return lim, err
	}
	r.lim, r.limAt, r.limSet = lim, now, true
	return lim, nil
}

// RunShards holds this node's share of Discord's gateway shards until ctx
// ends, running a session (gw.OpenShard) for each shard it holds. It waits
// two thirds of the lease time first, so it knows the live nodes, then every third of
// the lease time: renews its shard leases (closing the session of a lease
// lost), gives back shards beyond its share (shards divided by live nodes,
// rounded up) and takes free ones up to it; a dead node's shards are free
// once its leases expire. Before each IDENTIFY it reads the session start
// limit and waits for its rate_limit_key's turn across the cluster. When
// ctx ends it closes its sessions and deletes its leases, so others take
// the shards at once.
func (n *Node) RunShards(ctx context.Context, gw ShardGateway, o ShardOptions) error {
	var kv jetstream.KeyValue
	for {
		actx, cancel := context.WithTimeout(ctx, 2*time.Second)
		var err error
		kv, err = n.js.CreateOrUpdateKeyValue(actx, jetstream.KeyValueConfig{Bucket: IdentifyBucket, Replicas: n.s.Replicas})
		cancel()
		if err == nil {
			break
		}
		if !n.sleep(ctx, time.Second) {
			return nil
		}
	}
	r := newShardSet(n, gw, o, kv, o.Shards)
	// Every live node announces itself every third of the lease time:
	// after two thirds this node has heard them all, and takes its share
	// rather than every shard (each taken and given back costs an
	// IDENTIFY).
	if !n.sleep(ctx, 2*n.s.LeaseTTL/3) {
		return nil
	}
	for r.count <= 0 {
		lim, err := gw.Limits(ctx)
		if err == nil {
			r.count = max(1, lim.Shards)
			break
		}
		n.log.Warn("reading the recommended shard count", "err", err)
		if !n.sleep(ctx, IdentifyWindow) {
			return nil
		}
	}
	n.log.Info("holding Discord shards", "shards", r.count, "reserve", o.Reserve)
	for {
		r.round(ctx)
		if !n.sleep(ctx, n.s.LeaseTTL/3) {
			r.releaseAll()
			return nil
		}
	}
}

// sleep waits d on the node's clock; false when ctx ended first.
func (n *Node) sleep(ctx context.Context, d time.Duration) bool {
	select {
	case <-ctx.Done():
		return false
	case <-n.clock.After(d):
		return true
	}
}

func (r *shardSet) leaseValue(since time.Time) []byte {
	return []byte(r.n.s.Node + " " + since.UTC().Format(time.RFC3339))
}

func (r *shardSet) round(ctx context.Context) {
	n := r.n
	rctx, cancel := context.WithTimeout(ctx, n.s.LeaseTTL/2)
	defer cancel()
	for s, l := range r.held {
		sent := n.clock.Now()
		rev, err := n.leases.Update(rctx, shardKey(s), r.leaseValue(l.since), l.rev)
		n.Ops.Leases.Add(1)
		switch {
		case err == nil:
			l.rev, l.renewed = rev, sent
		case ctx.Err() != nil:
			return
		case errors.Is(err, jetstream.ErrKeyExists) || errors.Is(err, jetstream.ErrKeyNotFound) || n.clock.Now().Sub(l.renewed) >= n.s.LeaseTTL:
			// The lease lapsed (a leader election of the lease bucket can
			// take longer than lease_ttl) or an update whose answer was
			// lost went through. Moving a shard costs an IDENTIFY and the
			// events Discord sends meanwhile, so take it back when no other
			// node has it, and keep the session.
			rev, rerr := r.retake(rctx, s, l)
			switch {
			case rerr == nil:
				n.log.Info("shard lease taken back after it lapsed; the session stays", "shard", s, "err", err)
				l.rev, l.renewed = rev, sent
			case errors.Is(rerr, errHeldElsewhere) || n.clock.Now().Sub(l.renewed) >= 3*n.s.LeaseTTL:
				// Another node holds it, or this node has been cut off
				// from the cluster for long: this session must go.
				n.log.Warn("shard lease lost; closing its session", "shard", s, "err", rerr)
				if l.connected.Load() {
					n.Ops.ShardsLost.Add(1)
				}
				r.drop(s)
			default:
				n.log.Warn("renewing a shard lease", "shard", s, "err", rerr)
			}
		default:
			n.log.Warn("renewing a shard lease", "shard", s, "err", err)
		}
	}
	if rctx.Err() != nil {
		return
	}
	nodes, _ := n.liveNodes(rctx)
	share := (r.count + max(1, len(nodes)) - 1) / max(1, len(nodes))
	ids := make([]int, 0, len(r.held))
	for s := range r.held {
		ids = append(ids, s)
	}
	sort.Ints(ids)
	for _, s := range ids[min(share, len(ids)):] {
		n.log.Info("giving back a shard beyond this node's share", "shard", s, "share", share)
		r.release(s)
	}
	start := Partition(bot.ThreadRef{Platform: n.s.Node}, r.count)
	for i := 0; i < r.count && len(r.held) < share; i++ {
		s := (start + i) % r.count
		if r.held[s] != nil {
			continue
		}
		now := n.clock.Now()
		rev, err := n.leases.Create(rctx, shardKey(s), r.leaseValue(now))
		n.Ops.Leases.Add(1)
		if err != nil {
			continue // another node holds it
		}
		lctx, lcancel := context.WithCancel(context.WithoutCancel(ctx))
		l := &shardLease{rev: rev, since: now, renewed: now, cancel: lcancel, done: make(chan struct{})}
		r.held[s] = l
		n.setShards(r.ids())
		n.log.Info("shard taken", "shard", s, "shards", r.count)
		go r.run(lctx, s, l)
	}
}

// errHeldElsewhere: another node holds the shard's lease.
var errHeldElsewhere = errors.New("another node holds the shard")

// retake takes shard s's lease back after a renewal failed: created again
// when it expired, updated when it still names this node (an update whose
// answer was lost); errHeldElsewhere when another node took it.
func (r *shardSet) retake(ctx context.Context, s int, l *shardLease) (uint64, error) {
	n := r.n
	e, err := n.leases.Get(ctx, shardKey(s))
	n.Ops.Leases.Add(1)
	switch {
	case errors.Is(err, jetstream.ErrKeyNotFound) || errors.Is(err, jetstream.ErrKeyDeleted):
		n.Ops.Leases.Add(1)
		rev, err := n.leases.Create(ctx, shardKey(s), r.leaseValue(l.since))
		if errors.Is(err, jetstream.ErrKeyExists) {
			return 0, errHeldElsewhere
		}
		return rev, err
	case err != nil:
		return 0, err
	case !strings.HasPrefix(string(e.Value()), n.s.Node+" "):
		return 0, errHeldElsewhere
	}
	n.Ops.Leases.Add(1)
	return n.leases.Update(ctx, shardKey(s), r.leaseValue(l.since), e.Revision())
}

func (r *shardSet) ids() []int {
	out := make([]int, 0, len(r.held))
	for s := range r.held {
		out = append(out, s)
	}
	sort.Ints(out)
	return out
}

// run connects shard s once the budget and the pacing allow, and keeps
// the session until the lease goes; a failed connect is tried again
// (each try is an IDENTIFY, paced like the first).
func (r *shardSet) run(ctx context.Context, s int, l *shardLease) {
	defer close(l.done)
	for ctx.Err() == nil {
		if err := r.gate(ctx, s); err != nil {
			return
		}
		closeSession, err := r.gw.OpenShard(ctx, s, r.count)
		if errors.Is(err, ErrShardRefused) {
			r.n.log.Error("connecting a shard failed for good; not trying again until this node restarts", "shard", s, "err", err)
			r.n.setShardProblem(fmt.Sprintf("Discord shard %d not connected: %v", s, err))
			return
		}
		if err != nil {
			r.n.log.Warn("connecting a shard failed; trying again", "shard", s, "err", err)
			if !r.n.sleep(ctx, IdentifyWindow) {
				return
			}
			continue
		}
		l.connected.Store(true)
		<-ctx.Done()
		closeSession()
		return
	}
}

// gate returns when shard s may IDENTIFY: the session start budget is
// above the reserve, and no node of the cluster started an IDENTIFY with
// the same rate_limit_key (s % max_concurrency) in the last 5 seconds.
// While the budget is short it logs an error, says so in /readyz and the
// cluster status, and waits.
func (r *shardSet) gate(ctx context.Context, s int) error {
	n := r.n
	for {
		lim, err := r.limits(ctx)
		if err != nil {
			if ctx.Err() != nil {
				return ctx.Err()
			}
			n.log.Warn("reading the session start limit", "err", err)
			if !n.sleep(ctx, IdentifyWindow) {
				return ctx.Err()
			}
			continue
		}
		refused := lim.Remaining < r.o.Reserve
		r.recordBudget(ctx, lim, refused)
		if !refused {
			n.setShardProblem("")
			return pace(ctx, r.kv, n.clock, s%max(1, lim.MaxConcurrency), n.s.Node, s)
		}
		problem := fmt.Sprintf("discord: IDENTIFY refused: session_start_limit.remaining is %d of %d, below the reserve of %d (resets in %s)",
			lim.Remaining, lim.Total, r.o.Reserve, lim.ResetAfter.Round(time.Second))
		if n.setShardProblem(problem) {
			n.log.Error(problem+"; shards stay disconnected until then so a restarting fleet does not use up the token", "shard", s)
		}
		// Look again when the budget resets, at least every minute.
		wait := min(max(lim.ResetAfter, limitsMaxAge), time.Minute)
		if !n.sleep(ctx, wait) {
			return ctx.Err()
		}
	}
}

func (r *shardSet) recordBudget(ctx context.Context, lim GatewayLimits, refused bool) {
	data, err := json.Marshal(Budget{Node: r.n.s.Node, At: r.n.clock.Now().UTC(), Total: lim.Total, Remaining: lim.Remaining,
		ResetAfter: lim.ResetAfter.Round(time.Second).String(), MaxConcurrency: lim.MaxConcurrency, Reserve: r.o.Reserve, Refused: refused})
	if err != nil {
		return
	}
	if _, err := r.kv.Put(ctx, budgetKey, data); err != nil && ctx.Err() == nil {
		r.n.log.Warn("recording the session start budget", "err", err)
	}
}

// pace waits for rate_limit_key key's turn: the key "identify.<key>"
// holds when the cluster's last IDENTIFY with that key started; a node
// takes the turn by writing the time now with compare-and-set on the
// revision it read, once IdentifyWindow has passed since. Node clocks are
// compared, so they must agree (NTP) to well under a second.
func pace(ctx context.Context, kv jetstream.KeyValue, clock bot.Clock, key int, node string, shard int) error {
	k := "identify." + strconv.Itoa(key)
	for {
		var rev uint64
		var last time.Time
		e, err := kv.Get(ctx, k)
		switch {
		case errors.Is(err, jetstream.ErrKeyNotFound):
		case err != nil:
			if ctx.Err() != nil {
				return ctx.Err()
			}
			select {
			case <-ctx.Done():
				return ctx.Err()
			case <-clock.After(200 * time.Millisecond):
			}
			continue
		default:
			rev = e.Revision()
			last, _ = time.Parse(time.RFC3339Nano, strings.Fields(string(e.Value()) + " ")[0])
		}
		now := clock.Now()
		if wait := IdentifyWindow - now.Sub(last); !last.IsZero() && wait > 0 {
			select {
			case <-ctx.Done():
				return ctx.Err()
			case <-clock.After(wait):
			}
			continue
		}
		val := []byte(fmt.Sprintf("%s %s %d", now.UTC().Format(time.RFC3339Nano), node, shard))
		if rev == 0 {
			_, err = kv.Create(ctx, k, val)
		} else {
			_, err = kv.Update(ctx, k, val, rev)
		}
		if err == nil {
			return nil
		}
		if ctx.Err() != nil {
			return ctx.Err()
		}
		// Another node took the turn first: read again.
	}
}

// drop stops shard s here: its session closes in the background (its
// lease is lost, or being given back). The round does not wait for it: a
// session stuck connecting must not hold up the other renewals.
func (r *shardSet) drop(s int) *shardLease {
	l := r.held[s]
	delete(r.held, s)
	r.n.setShards(r.ids())
	l.cancel()
	return l
}

// release gives shard s back: once its session is closed, the lease is
// deleted (so no other node connects the shard while this one still has it).
func (r *shardSet) release(s int) {
	l := r.drop(s)
	r.n.Ops.Leases.Add(1)
	go func() {
		<-l.done
		ctx, cancel := context.WithTimeout(context.Background(), r.n.s.LeaseTTL)
		defer cancel()
		if err := r.n.leases.Delete(ctx, shardKey(s), jetstream.LastRevision(l.rev)); err != nil {
			r.n.log.Warn("giving back a shard", "shard", s, "err", err)
		}
	}()
}

// releaseAll closes every session and gives the leases back (shutdown;
// after a crash the leases expire instead). It waits 5 s at most.
func (r *shardSet) releaseAll() {
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	var wg sync.WaitGroup
	for s := range r.held {
		l := r.drop(s)
		wg.Go(func() {
			select {
			case <-l.done:
				_ = r.n.leases.Delete(ctx, shardKey(s), jetstream.LastRevision(l.rev))
			case <-ctx.Done():
			}
		})
	}
	wg.Wait()
}

// setShards records the shards this node holds (for Shards and metrics).
func (n *Node) setShards(ids []int) {
	n.mu.Lock()
	defer n.mu.Unlock()
	n.shards = ids
}

// Shards lists the Discord shards this node holds now.
func (n *Node) Shards() []int {
	n.mu.Lock()
	defer n.mu.Unlock()
	return append([]int(nil), n.shards...)
}

// setShardProblem records why shards cannot IDENTIFY ("" when they can);
// true when it changed.
func (n *Node) setShardProblem(p string) bool {
	n.mu.Lock()
	defer n.mu.Unlock()
	changed := n.shardProblem != p
	n.shardProblem = p
	return changed
}
