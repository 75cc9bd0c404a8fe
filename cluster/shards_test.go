package cluster_test

import (
	"context"
	"fmt"
	"slices"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/einsatz/einsatz/adapters/discord"
	"github.com/einsatz/einsatz/adapters/discord/discordtest"
	"github.com/einsatz/einsatz/bot"
	"github.com/einsatz/einsatz/cluster"
)

// discordShards is the Discord adapter as the shard leases see it (main
// has the same bridge).
type discordShards struct{ a *discord.Adapter }

func (d discordShards) Limits(ctx context.Context) (cluster.GatewayLimits, error) {
	l, err := d.a.GatewayLimits(ctx)
	return cluster.GatewayLimits(l), err
}

func (d discordShards) OpenShard(ctx context.Context, shard, shards int) (func(), error) {
	return d.a.OpenShard(ctx, shard, shards)
}

// TestShardsReadinessAndMetrics runs on one cluster of three (starting
// one takes seconds) whose nodes hold four Discord shards, with the
// unmodified discordgo client against the fake: the readiness and metrics
// checks, then the shards. Each shard is connected by exactly one node, no
// node holds more than two, every guild's messages reach one session only
// and are answered once. A node holding shards is killed while the
// session starts left are below the reserve: the others lease its shards
// but do not IDENTIFY them (and say so in /readyz and the status); once
// the budget is back they connect them and answer what comes after. No
// two IDENTIFYs of one rate_limit_key come within 5 s.
func TestShardsReadinessAndMetrics(t *testing.T) {
	const shards, maxConcurrency, reserve = 4, 4, 20
	fd := discordtest.New(t, discordtest.Options{})
	fd.SetGatewayBot(discordtest.GatewayBot{Shards: shards, Total: 1000, Remaining: 1000, ResetAfter: 24 * time.Hour, MaxConcurrency: maxConcurrency})
	var channels []string
	for s := range shards {
		g := fd.AddGuildOnShard(fmt.Sprintf("guild %d", s), s, shards)
		if got := discordtest.ShardOf(g, shards); got != s {
			t.Fatalf("guild %s is on shard %d, want %d", g, got, s)
		}
		channels = append(channels, fd.TextChannel(g, "help"))
	}
	mia := fd.NewUser("mia")
	began := time.Now()
	phase := func(what string) { t.Logf("%5.1fs %s", time.Since(began).Seconds(), what) }

	// A lease of 2 s: with 1 s, renewals late on a loaded machine moved
	// shards in some runs, and a message sent to a shard while it moves
	// is not seen (docs/cluster.md).
	defer func(ttl time.Duration) { testLeaseTTL = ttl }(testLeaseTTL)
	testLeaseTTL = 2 * time.Second

	// The adapters start with the nodes; their gateways wait for the
	// node they belong to.
	p := &platform{}
	var nodes []*testNode
	started := make(chan struct{})
	nodes = startClusterWith(t, 3, 6, 0, func(node string) []bot.Adapter {
		da, err := discord.New(discord.Options{Token: fd.Token, APIURL: fd.URL, Logger: quiet, RetryDelay: 50 * time.Millisecond,
			Gateway: func(ctx context.Context, a *discord.Adapter) error {
				select {
				case <-ctx.Done():
					return nil
				case <-started:
				}
				for _, n := range nodes {
					if n.name == node {
						return n.node.RunShards(ctx, discordShards{a}, cluster.ShardOptions{Reserve: reserve})
					}
				}
				return fmt.Errorf("no node %s", node)
			}})
		if err != nil {
			t.Fatal(err)
		}
		return []bot.Adapter{&adapter{p: p, node: node}, da}
	})
	close(started)
	phase("cluster up")
	held := func(ns []*testNode) map[int][]string {
		out := map[int][]string{}
		for _, n := range ns {
			for _, s := range n.node.Shards() {
				out[s] = append(out[s], n.name)
			}
		}
		return out
	}
	allConnected := func() bool {
		ss := fd.ShardSessions()
		for s := range shards {
			if ss[s] != 1 {
				return false
			}
		}
		return len(ss) == shards
	}
	waitFor(t, 20*time.Second, "every shard connected once", allConnected)
	phase("every shard connected")
	for s, who := range held(nodes) {
		if len(who) != 1 {
			t.Errorf("shard %d held by %v", s, who)
		}
	}
	for _, n := range nodes {
		if got := len(n.node.Shards()); got > (shards+2)/3 {
			t.Errorf("%s holds %d shards, more than its share %d", n.name, got, (shards+2)/3)
		}
	}
	var status strings.Builder
	_ = cluster.Status(context.Background(), nodes[0].node.Conn(), &status)
	t.Logf("shards held %v\n%s", held(nodes), status.String())

	t.Run("readiness and metrics", func(t *testing.T) { testReadinessAndMetrics(t, p, nodes) })

	lapsed := func(ns []*testNode) (sum int64) {
		for _, n := range ns {
			sum += n.node.Ops.ShardsLost.Load()
		}
		return sum
	}
	ask := func(ns []*testNode, round int) {
		t.Helper()
		var before int64
		for _, n := range ns {
			before += n.node.Ops.Events.Load()
		}
		handledBefore := handled(ns)
		lapsedBefore := lapsed(ns)
		var ids []string
		for i, ch := range channels {
			for q := range 3 {
				ids = append(ids, fd.Post(ch, mia, fmt.Sprintf("round %d guild %d question %d?", round, i, q), true).ID)
			}
		}
		waitFor(t, 30*time.Second, "every question answered", func() bool {
			for _, id := range ids {
				if len(fd.BotMessages(id)) == 0 {
					return false
				}
			}
			return true
		})
		// Every event completed (answered and acknowledged): a second answer
		// would have been posted before its event's completion.
		waitFor(t, 30*time.Second, "every event completed", func() bool {
			return handled(ns)-handledBefore >= int64(len(ids))
		})
		for _, id := range ids {
			if got := len(fd.BotMessages(id)); got != 1 {
				t.Errorf("message %s answered %d times", id, got)
			}
		}
		published := -before
		for _, n := range ns {
			published += n.node.Ops.Events.Load()
		}
		switch {
		case published == int64(len(ids)):
		case lapsed(ns) != lapsedBefore:
			// A lease lapsed: the old holder's session may have got
			// messages until it noticed; the stream kept each once.
			t.Logf("%d event publishes for %d messages while a shard lease lapsed", published, len(ids))
		default:
			t.Errorf("%d event publishes for %d messages: each guild's messages must reach one shard's session only", published, len(ids))
		}
		t.Logf("round %d: %d messages in %d guilds, %d publishes, each answered once", round, len(ids), len(channels), published)
	}
	ask(nodes, 1)
	phase("round 1 answered")

	// Kill a node holding shards while the session starts left are below
	// the reserve: the others lease its shards and refuse to IDENTIFY.
	var victim *testNode
	for _, n := range nodes {
		if len(n.node.Shards()) > 0 && (victim == nil || len(n.node.Shards()) > len(victim.node.Shards())) {
			victim = n
		}
	}
	lost := victim.node.Shards()
	lostBefore := victim.node.Ops.ShardsLost.Load() // leases that lapsed under load before the kill
	identifiesBefore := fd.Identifies()
	fd.SetGatewayBot(discordtest.GatewayBot{Shards: shards, Total: 1000, Remaining: reserve - 1, ResetAfter: time.Second, MaxConcurrency: maxConcurrency})
	killedAt := time.Now()
	victim.kill()
	if got := victim.node.Problems(context.Background()); len(got) != 1 || !strings.Contains(got[0], "not connected") {
		t.Errorf("a killed node's problems: %v", got)
	}
	rest := without(nodes, victim)
	waitFor(t, 30*time.Second, "the dead node's shards leased by the others, the guard refusing", func() bool {
		if len(held(rest)) != shards {
			return false
		}
		for _, n := range rest {
			for _, s := range n.node.Shards() {
				if slices.Contains(lost, s) && !strings.Contains(strings.Join(n.node.Problems(context.Background()), "\n"), "IDENTIFY refused") {
					return false
				}
			}
		}
		return true
	})
	phase(fmt.Sprintf("killed %s holding shards %v; leased again, refused", victim.name, lost))
	status.Reset()
	if err := cluster.Status(context.Background(), rest[0].node.Conn(), &status); err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(status.String(), "IDENTIFY REFUSED") || !strings.Contains(status.String(), "DISCORD SHARD LEASES") {
		t.Errorf("cluster status does not show the refusal and the shard leases:\n%s", status.String())
	}
	if n := fd.Identifies() - identifiesBefore; n != 0 {
		t.Errorf("%d IDENTIFYs with %d session starts left and a reserve of %d", n, reserve-1, reserve)
	}
	t.Logf("status while refusing:\n%s", status.String())

	// The budget resets: the shards connect on the others, which answer.
	fd.SetGatewayBot(discordtest.GatewayBot{Shards: shards, Total: 1000, Remaining: 1000 - fd.Identifies(), ResetAfter: 24 * time.Hour, MaxConcurrency: maxConcurrency})
	waitFor(t, 30*time.Second, "the dead node's shards connected", func() bool {
		h := held(rest)
		for s := range shards {
			if len(h[s]) != 1 {
				return false
			}
		}
		return allConnected()
	})
	phase(fmt.Sprintf("budget back; taken over and connected %.1fs after the kill: %v", time.Since(killedAt).Seconds(), held(rest)))
	for _, n := range rest {
		if p := n.node.Problems(context.Background()); len(p) > 0 {
			t.Errorf("%s not ready after the budget reset: %v", n.name, p)
		}
	}
	ask(rest, 2)
	phase("round 2 answered")

	// Pacing: no two IDENTIFYs of one rate_limit_key within 5 s (less a
	// little for the time between taking the turn and the fake reading
	// the IDENTIFY), at most max_concurrency in any 5 s.
	log := fd.IdentifyLog()
	sort.Slice(log, func(i, j int) bool { return log[i].At.Before(log[j].At) })
	last := map[int]time.Time{}
	for i, r := range log {
		if r.Shards != shards {
			t.Errorf("IDENTIFY for shard %d of %d, want of %d", r.Shard, r.Shards, shards)
		}
		key := r.Shard % maxConcurrency
		if prev, ok := last[key]; ok && r.At.Sub(prev) < cluster.IdentifyWindow-500*time.Millisecond {
			t.Errorf("shard %d identified %s after the last IDENTIFY of its rate_limit_key %d", r.Shard, r.At.Sub(prev).Round(time.Millisecond), key)
		}
		last[key] = r.At
		inWindow := 0
		for _, o := range log[:i+1] {
			if r.At.Sub(o.At) < cluster.IdentifyWindow-500*time.Millisecond {
				inWindow++
			}
		}
		if inWindow > maxConcurrency {
			t.Errorf("%d IDENTIFYs within 5 s up to shard %d's, max_concurrency %d", inWindow, r.Shard, maxConcurrency)
		}
	}
	// One per shard, one per shard taken over, and one per connected
	// shard whose lease lapsed (renewals late on a loaded machine, or
	// stalled while JetStream elected leaders after the kill; the lease
	// time is 2 s here). A shard that lapsed late may still wait for its turn.
	want := func() int {
		lapsed := lostBefore
		for _, n := range rest {
			lapsed += n.node.Ops.ShardsLost.Load()
		}
		return shards + len(lost) + int(lapsed)
	}
	deadline := time.Now().Add(3 * cluster.IdentifyWindow)
	for len(fd.IdentifyLog()) != want() && time.Now().Before(deadline) {
		time.Sleep(50 * time.Millisecond)
	}
	log = fd.IdentifyLog()
	if w := want(); len(log) != w {
		t.Errorf("%d IDENTIFYs, want %d (one per shard, %d for the shards taken over, %d for lapsed leases)", len(log), w, len(lost), w-shards-len(lost))
	}
	// The reset above left 1000 less those before it: each IDENTIFY took one.
	if got := fd.GatewayBotLimits().Remaining; got != 1000-len(log) || fd.Overdrawn() != 0 {
		t.Errorf("session starts remaining %d, overdrawn %d, after %d IDENTIFYs", got, fd.Overdrawn(), len(log))
	}
	var shardsLogged []int
	for _, r := range log {
		shardsLogged = append(shardsLogged, r.Shard)
	}
	t.Logf("IDENTIFYs in order: shards %v", shardsLogged)
}
