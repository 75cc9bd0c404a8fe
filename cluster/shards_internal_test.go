package cluster

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"

	"github.com/einsatz/einsatz/bot/bottest"
)

// identifyKV starts a one-server JetStream and returns the identify
// bucket as n nodes see it (a connection each).
func identifyKV(t *testing.T, n int) []jetstream.KeyValue {
	t.Helper()
	addr := soloServer(t, Settings{}).Client
	var out []jetstream.KeyValue
	for range n {
		nc, err := nats.Connect("nats://" + addr)
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(nc.Close)
		js, err := jetstream.New(nc)
		if err != nil {
			t.Fatal(err)
		}
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		kv, err := js.CreateOrUpdateKeyValue(ctx, jetstream.KeyValueConfig{Bucket: IdentifyBucket})
		cancel()
		if err != nil {
			t.Fatal(err)
		}
		out = append(out, kv)
	}
	return out
}

// Eight shards on three nodes want to IDENTIFY at once with
// max_concurrency 2: on the fake clock, at most two start in any 5 s
// window, never two of one rate_limit_key (shard % 2) within 5 s, and all
// have started once the windows the count needs have passed.
func TestIdentifyPacingAcrossNodes(t *testing.T) {
	kvs := identifyKV(t, 3)
	start := time.Unix(1_700_000_000, 0)
	clock := bottest.NewClock(start)
	const shards, maxConcurrency = 8, 2
	type grant struct {
		shard int
		at    time.Time
	}
	grants := make(chan grant, shards)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	for s := range shards {
		kv := kvs[s%len(kvs)]
		go func() {
			if err := pace(ctx, kv, clock, s%maxConcurrency, "n"+string(rune('1'+s%3)), s); err == nil {
				grants <- grant{s, clock.Now()}
			}
		}()
	}
	var got []grant
	deadline := time.Now().Add(20 * time.Second)
	for len(got) < shards {
		if time.Now().After(deadline) {
			t.Fatalf("only %d of %d shards got their turn: %v", len(got), shards, got)
		}
		select {
		case g := <-grants:
			got = append(got, g)
			continue
		default:
		}
		// Everyone still waiting is parked on the clock: a second passes.
		if clock.Waiters() == shards-len(got) {
			clock.Advance(time.Second)
			continue
		}
		time.Sleep(2 * time.Millisecond)
	}
	perWindow := map[int64]int{}
	lastOfKey := map[int]time.Time{}
	for _, g := range got {
		perWindow[int64(g.at.Sub(start)/IdentifyWindow)]++
		if prev, ok := lastOfKey[g.shard%maxConcurrency]; ok && g.at.Sub(prev) < IdentifyWindow {
			t.Errorf("shard %d identified %s after the last of its rate_limit_key", g.shard, g.at.Sub(prev))
		}
		lastOfKey[g.shard%maxConcurrency] = g.at
	}
	for w, n := range perWindow {
		if n > maxConcurrency {
			t.Errorf("%d IDENTIFYs in window %d, max_concurrency is %d", n, w, maxConcurrency)
		}
	}
	took := got[len(got)-1].at.Sub(start)
	if want := time.Duration(shards/maxConcurrency-1) * IdentifyWindow; took != want {
		t.Errorf("the last shard identified after %s, want %s (%d windows for %d shards at %d per window)", took, want, shards/maxConcurrency, shards, maxConcurrency)
	}
	t.Logf("IDENTIFYs per 5 s window: %v; all %d started after %s of fake time", perWindow, shards, took)
}

// fakeGateway reports settable limits and counts opened shards.
type fakeGateway struct {
	mu     sync.Mutex
	limits GatewayLimits
	opened []int
}

func (g *fakeGateway) Limits(context.Context) (GatewayLimits, error) {
	g.mu.Lock()
	defer g.mu.Unlock()
	return g.limits, nil
}

func (g *fakeGateway) OpenShard(_ context.Context, shard, _ int) (func(), error) {
	g.mu.Lock()
	defer g.mu.Unlock()
	g.opened = append(g.opened, shard)
	return func() {}, nil
}

// Below the reserve the guard does not let a shard IDENTIFY: it says why
// in the node's problems (/readyz) and the shared budget record (cluster
// status), and lets it once the budget is back.
func TestBudgetGuardRefusesBelowReserve(t *testing.T) {
	kv := identifyKV(t, 1)[0]
	clock := bottest.NewClock(time.Unix(1_700_000_000, 0))
	n := &Node{s: Settings{Node: "n1"}, log: slog.New(slog.NewTextHandler(io.Discard, nil)), clock: clock}
	gw := &fakeGateway{limits: GatewayLimits{Shards: 2, Total: 1000, Remaining: 9, ResetAfter: time.Hour, MaxConcurrency: 1}}
	r := newShardSet(n, gw, ShardOptions{Reserve: 10}, kv, 2)
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	passed := make(chan error, 1)
	go func() { passed <- r.gate(ctx, 1) }()

	waitUntil := func(what string, cond func() bool) {
		t.Helper()
		for !cond() {
			if ctx.Err() != nil {
				t.Fatalf("timed out waiting for %s", what)
			}
			time.Sleep(2 * time.Millisecond)
		}
	}
	waitUntil("the guard to wait", func() bool { return clock.Waiters() == 1 })
	// Several minutes pass below the reserve: it keeps refusing.
	for range 5 {
		clock.Advance(time.Minute)
		waitUntil("the guard to look again and wait", func() bool { return clock.Waiters() == 1 })
	}
	select {
	case err := <-passed:
		t.Fatalf("the guard let a shard IDENTIFY with 9 session starts left and a reserve of 10 (err %v)", err)
	default:
	}
	n.mu.Lock()
	problem := n.shardProblem
	n.mu.Unlock()
	if !strings.Contains(problem, "IDENTIFY refused") || !strings.Contains(problem, "remaining is 9 of 1000, below the reserve of 10") {
		t.Errorf("problem %q does not say the IDENTIFY was refused and why", problem)
	}
	e, err := kv.Get(ctx, budgetKey)
	if err != nil {
		t.Fatal(err)
	}
	var b Budget
	if err := json.Unmarshal(e.Value(), &b); err != nil || !b.Refused || b.Remaining != 9 || b.Reserve != 10 || b.Node != "n1" {
		t.Errorf("budget record %s (%v), want refused with 9 remaining, reserve 10, by n1", e.Value(), err)
	}

	// The budget resets: the next look lets the shard through.
	gw.mu.Lock()
	gw.limits.Remaining = 1000
	gw.mu.Unlock()
	clock.Advance(time.Minute)
	select {
	case err := <-passed:
		if err != nil {
			t.Fatalf("gate: %v", err)
		}
	case <-ctx.Done():
		t.Fatal("the guard still refuses after the budget reset")
	}
	n.mu.Lock()
	defer n.mu.Unlock()
	if n.shardProblem != "" {
		t.Errorf("problem %q left after the budget reset", n.shardProblem)
	}
}

// A shard lease that lapsed while its node lived (a leader election of
// the lease bucket took longer than lease_ttl) is taken back and the
// session stays: no second IDENTIFY. Only when another node holds the
// lease does the session close.
func TestLapsedShardLeaseIsTakenBack(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	kvs := identifyKV(t, 2)
	leases := kvs[1] // any bucket works as the lease bucket here
	clock := bottest.NewClock(time.Unix(1_700_000_000, 0))
	n := &Node{s: Settings{Node: "n1", LeaseTTL: 5 * time.Second}, log: slog.New(slog.NewTextHandler(io.Discard, nil)),
		clock: clock, leases: leases}
	gw := &fakeGateway{limits: GatewayLimits{Shards: 1, Total: 1000, Remaining: 1000, ResetAfter: time.Hour, MaxConcurrency: 1}}
	r := newShardSet(n, gw, ShardOptions{}, kvs[0], 1)
	opened := func() int {
		gw.mu.Lock()
		defer gw.mu.Unlock()
		return len(gw.opened)
	}
	r.round(ctx)
	for opened() == 0 {
		if ctx.Err() != nil {
			t.Fatal("shard 0 never connected")
		}
		time.Sleep(2 * time.Millisecond)
	}
	l := r.held[0]

	// The lease lapses: the key is gone when the node renews.
	if err := leases.Purge(ctx, shardKey(0)); err != nil {
		t.Fatal(err)
	}
	clock.Advance(6 * time.Second)
	r.round(ctx)
	if r.held[0] != l || l.done == nil || opened() != 1 {
		t.Fatalf("after a lapse: held %v (was %v), %d sessions opened; want the same lease and one session", r.held[0], l, opened())
	}
	select {
	case <-l.done:
		t.Fatal("the session was closed after the lease was taken back")
	default:
	}
	e, err := leases.Get(ctx, shardKey(0))
	if err != nil || !strings.HasPrefix(string(e.Value()), "n1 ") {
		t.Fatalf("lease after taking it back: %v, %v", e, err)
	}

	// Another node holds it now: the session goes.
	if err := leases.Purge(ctx, shardKey(0)); err != nil {
		t.Fatal(err)
	}
	if _, err := leases.Create(ctx, shardKey(0), []byte("n2 2023-11-14T22:13:20Z")); err != nil {
		t.Fatal(err)
	}
	r.round(ctx)
	if r.held[0] != nil {
		t.Fatal("the shard is still held after another node took its lease")
	}
	select {
	case <-l.done:
	case <-ctx.Done():
		t.Fatal("the session was not closed after another node took the lease")
	}
	if opened() != 1 {
		t.Errorf("%d sessions opened, want 1", opened())
	}
}

// refusingGateway rejects every connect as a bad token would.
type refusingGateway struct {
	fakeGateway
	tries atomic.Int32
}

func (g *refusingGateway) OpenShard(context.Context, int, int) (func(), error) {
	g.tries.Add(1)
	return nil, fmt.Errorf("%w: token rejected (close 4004)", ErrShardRefused)
}

// A shard the gateway refuses for good (a rejected token) is not tried
// again: each try would spend an IDENTIFY of the day's budget. The node
// says why in its problems (/readyz).
func TestRefusedShardIsNotTriedAgain(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	kvs := identifyKV(t, 1)
	clock := bottest.NewClock(time.Unix(1_700_000_000, 0))
	n := &Node{s: Settings{Node: "n1", LeaseTTL: 5 * time.Second}, log: slog.New(slog.NewTextHandler(io.Discard, nil)), clock: clock}
	gw := &refusingGateway{fakeGateway: fakeGateway{limits: GatewayLimits{Shards: 1, Total: 1000, Remaining: 1000, ResetAfter: time.Hour, MaxConcurrency: 1}}}
	r := newShardSet(n, gw, ShardOptions{}, kvs[0], 1)
	l := &shardLease{done: make(chan struct{})}
	go r.run(ctx, 0, l)
	select {
	case <-l.done:
	case <-ctx.Done():
		t.Fatal("the shard is still being tried after the gateway refused it for good")
	}
	if got := gw.tries.Load(); got != 1 {
		t.Errorf("%d connects, want 1", got)
	}
	n.mu.Lock()
	problem := n.shardProblem
	n.mu.Unlock()
	if !strings.Contains(problem, "shard 0 not connected") || !strings.Contains(problem, "4004") {
		t.Errorf("problem %q does not say which shard and why", problem)
	}
}

// slowGateway's GET /gateway/bot answers only when release is closed.
type slowGateway struct {
	fakeGateway
	release chan struct{}
}

func (g *slowGateway) Limits(ctx context.Context) (GatewayLimits, error) {
	<-g.release
	return g.fakeGateway.Limits(ctx)
}

// A shard waiting for its turn to read the gateway limits leaves when its
// own context ends (its lease was dropped), not when the other shard's
// request returns.
func TestLimitsWaitEndsWithTheShard(t *testing.T) {
	n := &Node{s: Settings{Node: "n1"}, log: slog.New(slog.NewTextHandler(io.Discard, nil)), clock: bottest.NewClock(time.Unix(1_700_000_000, 0))}
	gw := &slowGateway{release: make(chan struct{})}
	r := newShardSet(n, gw, ShardOptions{}, nil, 2)
	first := make(chan error, 1)
	go func() { _, err := r.limits(context.Background()); first <- err }()
	for len(r.limTurn) == 0 {
		time.Sleep(time.Millisecond) // the first shard has the turn
	}
	ctx, cancel := context.WithCancel(context.Background())
	second := make(chan error, 1)
	go func() { _, err := r.limits(ctx); second <- err }()
	cancel()
	select {
	case err := <-second:
		if !errors.Is(err, context.Canceled) {
			t.Errorf("the waiting shard got %v, want context.Canceled", err)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("the waiting shard stayed behind the other shard's request")
	}
	close(gw.release)
	if err := <-first; err != nil {
		t.Fatal(err)
	}
}
