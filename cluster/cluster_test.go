package cluster_test

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http/httptest"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/nats-io/nats-server/v2/server"
	"github.com/nats-io/nats.go/jetstream"

	"github.com/einsatz/einsatz/adapters/discord"
	"github.com/einsatz/einsatz/adapters/discord/discordtest"
	"github.com/einsatz/einsatz/adapters/slack"
	"github.com/einsatz/einsatz/adapters/slack/slacktest"
	"github.com/einsatz/einsatz/bot"
	"github.com/einsatz/einsatz/cluster"
	"github.com/einsatz/einsatz/storage"
)

// platform is one chat platform all nodes post to (as every node of a
// real cluster posts to the same Discord): it records every post.
type platform struct {
	mu    sync.Mutex
	posts []post
}

type post struct {
	Thread  bot.ThreadRef
	Text    string
	ReplyTo string
	Node    string
}

func (p *platform) byReplyTo() map[string][]post {
	p.mu.Lock()
	defer p.mu.Unlock()
	out := map[string][]post{}
	for _, x := range p.posts {
		out[x.ReplyTo] = append(out[x.ReplyTo], x)
	}
	return out
}

func (p *platform) snapshot() []post {
	p.mu.Lock()
	defer p.mu.Unlock()
	return append([]post(nil), p.posts...)
}

// adapter is one node's connection to the platform; events come from the
// test directly (Node.Submit), as a platform's gateway would deliver them.
type adapter struct {
	p    *platform
	node string
}

func (a *adapter) Platform() string { return "test" }
func (a *adapter) Run(ctx context.Context, _ bot.Sink) error {
	<-ctx.Done()
	return nil
}
func (a *adapter) Send(_ context.Context, to bot.ThreadRef, r bot.Reply) error {
	a.p.mu.Lock()
	defer a.p.mu.Unlock()
	a.p.posts = append(a.p.posts, post{Thread: to, Text: r.Text, ReplyTo: r.ReplyTo, Node: a.node})
	return nil
}

type testNode struct {
	name   string
	srv    *server.Server
	node   *cluster.Node
	core   *bot.Bot
	store  *storage.Store
	cancel context.CancelFunc
	done   sync.WaitGroup
}

// kill stops the node as a crash would: its NATS server, its connection
// and its workers go away without releasing anything. Its core is left
// to run down on its own, cut off.
func (n *testNode) kill() {
	n.node.Kill()
	n.srv.Shutdown()
	n.cancel()
}

func freePort(t testing.TB) int {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port
}

var quiet = slog.New(slog.NewTextHandler(io.Discard, nil))

// testRouted are the platforms whose replies the channel's node posts
// (nil: cluster.DefaultRouted; BenchmarkCluster routes "test" too).
var testRouted []string

// testLeaseTTL is short so failover tests are quick; the benchmark uses a
// longer one, as a loaded machine delays renewals.
var testLeaseTTL = time.Second

// startCluster starts n embedded nodes on random ports, each with its own
// core (echoing every message), storage and adapter to the one platform.
func startCluster(t testing.TB, n, partitions int, p *platform) []*testNode {
	return startClusterSlow(t, n, partitions, p, 0)
}

// startClusterSlow starts a cluster whose handler takes delay per event,
// so events queue up on the nodes.
func startClusterSlow(t testing.TB, n, partitions int, p *platform, delay time.Duration) []*testNode {
	return startClusterWith(t, n, partitions, delay, func(node string) []bot.Adapter { return []bot.Adapter{&adapter{p: p, node: node}} })
}

// startClusterWith starts a cluster whose nodes each run the adapters
// newAdapters makes for them.
func startClusterWith(t testing.TB, n, partitions int, delay time.Duration, newAdapters func(node string) []bot.Adapter) []*testNode {
	t.Helper()
	return startClusterWork(t, n, partitions, func(string) { time.Sleep(delay) }, newAdapters)
}

// startClusterWork starts a cluster whose handler on node runs work(node)
// for every event before answering it.
func startClusterWork(t testing.TB, n, partitions int, work func(node string), newAdapters func(node string) []bot.Adapter) []*testNode {
	t.Helper()
	return startClusterSetup(t, n, partitions, work, newAdapters, nil)
}

// startClusterSetup is startClusterWork with setup run on each node once
// its core is made, before it runs (routes, observers); nil: none.
func startClusterSetup(t testing.TB, n, partitions int, work func(node string), newAdapters func(node string) []bot.Adapter, setup func(*testNode)) []*testNode {
	return startClusterHandler(t, n, partitions, newAdapters, func(tn *testNode) bot.Handler {
		if setup != nil {
			setup(tn)
		}
		return bot.HandlerFunc(func(_ context.Context, ev *bot.Event) ([]bot.Reply, error) {
			work(tn.name)
			if ev.Text == "twice" { // two replies (TestReplyPostedBeforeADeathIsNotPostedAgain)
				return []bot.Reply{{Text: "re: twice"}, {Text: "again: twice"}}, nil
			}
			return []bot.Reply{{Text: "re: " + ev.Text}}, nil
		})
	})
}

// startClusterHandler starts a cluster whose nodes answer with the
// handler newHandler makes for each (called once the node is connected,
// before its core runs).
func startClusterHandler(t testing.TB, n, partitions int, newAdapters func(node string) []bot.Adapter, newHandler func(tn *testNode) bot.Handler) []*testNode {
	t.Helper()
	routes := make([]string, n)
	clients := make([]string, n)
	for i := range n {
		routes[i] = "127.0.0.1:" + strconv.Itoa(freePort(t))
		clients[i] = "127.0.0.1:" + strconv.Itoa(freePort(t))
	}
	nodes := make([]*testNode, n)
	began := time.Now()
	defer func() { t.Logf("%d nodes up in %s", n, time.Since(began).Round(10*time.Millisecond)) }()
	var wg sync.WaitGroup
	errs := make(chan error, n)
	for i := range n {
		var peers []string
		for j := range n {
			if j != i {
				peers = append(peers, routes[j])
			}
		}
		s := cluster.Settings{Mode: "embedded", Name: "test", Node: "n" + strconv.Itoa(i+1), Listen: routes[i], Client: clients[i],
			Peers: peers, StoreDir: t.TempDir(), Partitions: partitions, Replicas: min(3, n), LeaseTTL: testLeaseTTL}
		if n == 1 {
			s.Peers = nil
		}
		tn := &testNode{name: s.Node}
		nodes[i] = tn
		wg.Add(1)
		go func() {
			defer wg.Done()
			srv, err := cluster.StartServer(s)
			if err != nil {
				errs <- err
				return
			}
			tn.srv = srv
			ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
			defer cancel()
			node, err := cluster.Connect(ctx, cluster.Options{Settings: s, Logger: quiet, Routed: testRouted})
			if err != nil {
				errs <- fmt.Errorf("%s: %w", s.Node, err)
				return
			}
			tn.node = node
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		// Stop every core first, then every node at once, then the
		// servers: a node stopping alone would wait for a quorum.
		for _, tn := range nodes {
			tn.cancel()
			tn.done.Wait()
		}
		var wg sync.WaitGroup
		for _, tn := range nodes {
			wg.Go(func() { _ = tn.node.Close() })
		}
		wg.Wait()
		for _, tn := range nodes {
			tn.srv.Shutdown()
			tn.store.Close()
		}
	})
	for _, tn := range nodes {
		st, err := storage.Open(storage.Options{InMemory: true, Logger: quiet})
		if err != nil {
			t.Fatal(err)
		}
		tn.store = st
		tn.core = bot.New(bot.Options{Store: cluster.Store{Store: st, Owners: tn.node.Owners}, Logger: quiet, ShutdownTimeout: 2 * time.Second,
			Concurrency: 128}) // core.concurrency's default
		tn.core.Fallback(newHandler(tn))
		ctx, cancel := context.WithCancel(context.Background())
		tn.cancel = cancel
		tn.done.Add(2)
		go func() {
			defer tn.done.Done()
			_ = tn.core.Run(ctx, tn.node.Adapters(newAdapters(tn.name)...)...)
		}()
		go func() {
			defer tn.done.Done()
			_ = tn.node.Run(ctx, tn.core)
		}()
	}
	waitFor(t, 15*time.Second, "the partitions spread over the nodes", func() bool {
		held := 0
		for _, n := range nodes {
			if len(n.node.Held()) == 0 {
				return false
			}
			held += len(n.node.Held())
		}
		return held == partitions
	})
	return nodes
}

func event(thread, seq int) bot.Event {
	return bot.Event{Key: fmt.Sprintf("t%d-e%d", thread, seq), Kind: bot.KindMessage, Platform: "test", ChannelID: "c",
		ThreadID: "t" + strconv.Itoa(thread), MessageID: fmt.Sprintf("m%d-%d", thread, seq), Mentioned: true,
		User: bot.User{Platform: "test", ID: "u" + strconv.Itoa(thread)}, Text: strconv.Itoa(seq)}
}

// waitFor polls cond until it holds or the deadline passes.
func waitFor(t testing.TB, d time.Duration, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(d)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out after %s waiting for %s", d, what)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// checkOnceInOrder: every expected event was answered exactly once, and
// each thread's answers came in the order of its events.
func checkOnceInOrder(t *testing.T, p *platform, want map[string]bool) {
	t.Helper()
	for key, posts := range p.byReplyTo() {
		if len(posts) > 1 {
			t.Errorf("event %s answered %d times (nodes %v)", key, len(posts), nodesOf(posts))
		}
		if !want[key] {
			t.Errorf("answer to unexpected event %q", key)
		}
	}
	for key := range want {
		if len(p.byReplyTo()[key]) == 0 {
			t.Errorf("event %s acknowledged but never answered", key)
		}
	}
	last := map[string]int{}
	for _, x := range p.snapshot() {
		seq, _ := strconv.Atoi(strings.TrimPrefix(x.Text, "re: "))
		if prev, ok := last[x.Thread.ThreadID]; ok && seq <= prev {
			t.Errorf("thread %s: answer to %d posted after the answer to %d", x.Thread.ThreadID, seq, prev)
		}
		last[x.Thread.ThreadID] = seq
	}
}

func nodesOf(posts []post) []string {
	var out []string
	for _, x := range posts {
		out = append(out, x.Node)
	}
	return out
}

// TestCluster runs the tests that need no node killed on one cluster of
// three: starting one takes seconds.
func TestCluster(t *testing.T) {
	p := &platform{}
	fd := discordtest.New(t, discordtest.Options{})
	fs := slacktest.New(slacktest.Options{Mode: slacktest.ModeHTTP})
	t.Cleanup(fs.Close)
	lb := &balancer{}
	nodes := startClusterWith(t, 3, 8, 0, func(node string) []bot.Adapter {
		da, err := discord.New(discord.Options{Token: fd.Token, APIURL: fd.URL, GuildIDs: []string{fd.Guild}, Logger: quiet})
		if err != nil {
			t.Fatal(err)
		}
		sa, err := slack.New(slack.Options{Mode: slack.ModeHTTP, BotToken: fs.BotToken(), SigningSecret: fs.SigningSecret(), APIURL: fs.APIURL(), Logger: quiet})
		if err != nil {
			t.Fatal(err)
		}
		lb.add(sa.HTTPHandler())
		return []bot.Adapter{&adapter{p: p, node: node}, da, sa}
	})
	front := httptest.NewServer(lb)
	t.Cleanup(front.Close)
	fs.SetEventsURL(front.URL + slack.EventsPath)
	t.Run("events answered once across nodes", func(t *testing.T) { testAnsweredOnce(t, p, nodes) })
	t.Run("takeover on one node silences all", func(t *testing.T) { testTakeover(t, p, nodes) })
	t.Run("a singleton task runs on one node", func(t *testing.T) { testSingleton(t, nodes) })
	t.Run("discord through the cluster", func(t *testing.T) { testDiscord(t, fd, nodes) })
	t.Run("slack http behind a load balancer", func(t *testing.T) { testSlackHTTP(t, fs, lb) })
}

func testSingleton(t *testing.T, nodes []*testNode) {
	var mu sync.Mutex
	running := map[string]bool{}
	most := 0
	stops := make([]context.CancelFunc, len(nodes))
	var wg sync.WaitGroup
	for i, n := range nodes {
		ctx, cancel := context.WithCancel(context.Background())
		stops[i] = cancel
		run := n.node.Singleton("timer", func(ctx context.Context) error {
			mu.Lock()
			running[n.name] = true
			most = max(most, len(running))
			mu.Unlock()
			<-ctx.Done()
			mu.Lock()
			delete(running, n.name)
			mu.Unlock()
			return nil
		})
		wg.Go(func() { _ = run(ctx) })
	}
	defer func() {
		for _, stop := range stops {
			stop()
		}
		wg.Wait()
	}()
	who := func() []string {
		mu.Lock()
		defer mu.Unlock()
		var out []string
		for name := range running {
			out = append(out, name)
		}
		return out
	}
	waitFor(t, 5*time.Second, "one node running the task", func() bool { return len(who()) == 1 })
	first := who()[0]
	time.Sleep(1500 * time.Millisecond) // over a lease time: still the one
	if got := who(); len(got) != 1 || got[0] != first {
		t.Fatalf("running on %v, want only %s", got, first)
	}
	// Its node stops: another takes the task over.
	for i, n := range nodes {
		if n.name == first {
			stops[i]()
		}
	}
	waitFor(t, 5*time.Second, "another node taking the task over", func() bool {
		got := who()
		return len(got) == 1 && got[0] != first
	})
	mu.Lock()
	defer mu.Unlock()
	if most > 1 {
		t.Errorf("the task ran on %d nodes at once", most)
	}
}

func testAnsweredOnce(t *testing.T, p *platform, nodes []*testNode) {
	want := map[string]bool{}
	const threads, perThread = 30, 4
	for seq := range perThread {
		for th := range threads {
			ev := event(th, seq)
			// The platform delivers every event twice, to different nodes
			// (a gateway resume, a Slack retry): the stream keeps one.
			for _, k := range []int{th % 3, (th + 1) % 3} {
				if err := nodes[k].node.Submit(ev); err != nil {
					t.Fatalf("submit %s: %v", ev.Key, err)
				}
			}
			want[ev.Key] = true
		}
	}
	waitFor(t, 30*time.Second, "every event answered", func() bool { return len(p.byReplyTo()) >= len(want) })
	time.Sleep(200 * time.Millisecond) // a duplicate would show now
	checkOnceInOrder(t, p, want)
	posters := map[string]int{}
	var ops, evs int64
	for _, x := range p.snapshot() {
		posters[x.Node]++
	}
	for _, n := range nodes {
		ops += n.node.Ops.Published.Load() + n.node.Ops.Acked.Load() + n.node.Ops.Fetched.Load() + n.node.Ops.KV.Load()
		evs += n.node.Ops.Events.Load()
	}
	if len(posters) < 2 {
		t.Errorf("all answers came from %v: the partitions did not spread over the nodes", posters)
	}
	t.Logf("%d events (each delivered twice, %d publishes) answered once; posts per node %v; %.2f JetStream operations per event", len(want), evs, posters, float64(ops)/float64(len(want)))
}

func TestKillNodeMidStream(t *testing.T) {
	p := &platform{}
	// Each answer takes 100 ms, so the node dies with events in hand: a
	// thread's events are answered one after another, so the leader's
	// share of the first third takes at least 400 ms to drain (with 20 ms
	// a quiet CI machine drained it before the test looked).
	nodes := startClusterSlow(t, 3, 8, p, 100*time.Millisecond)
	const threads, perThread = 30, 12
	var mu sync.Mutex
	acked := map[string]bool{}
	// submit sends events from..to-1 of every thread, the threads at once,
	// each thread's events one after another (as a platform delivers them).
	submit := func(nodes []*testNode, from, to int) {
		var wg sync.WaitGroup
		for th := range threads {
			wg.Go(func() {
				for seq := from; seq < to; seq++ {
					ev := event(th, seq)
					if err := nodes[(th+seq)%len(nodes)].node.Submit(ev); err != nil {
						t.Errorf("submit %s: %v", ev.Key, err) // not acknowledged: the platform would redeliver
						return
					}
					mu.Lock()
					acked[ev.Key] = true
					mu.Unlock()
				}
			})
		}
		wg.Wait()
	}
	start := time.Now()
	submit(nodes, 0, perThread/3)
	// Kill the leader of the event stream once it has events in hand
	// (taken from the stream, not acknowledged), its replies in flight:
	// the stream elects a new leader while its partitions move.
	js, err := jetstream.New(nodes[0].node.Conn())
	if err != nil {
		t.Fatal(err)
	}
	stream, err := js.Stream(context.Background(), cluster.EventStream)
	if err != nil {
		t.Fatal(err)
	}
	info, err := stream.Info(context.Background())
	if err != nil || info.Cluster == nil {
		t.Fatalf("event stream info: %v %+v", err, info)
	}
	var victim *testNode
	for _, n := range nodes {
		if n.name == info.Cluster.Leader {
			victim = n
		}
	}
	if victim == nil {
		t.Fatalf("the event stream's leader %q is none of the nodes", info.Cluster.Leader)
	}
	waitFor(t, 5*time.Second, "the leader having events in hand", func() bool { return victim.node.InFlight() >= 3 })
	inHand := victim.node.InFlight()
	t.Logf("killing %s, the event stream's leader (partitions %v), after %d acknowledged events, %d of them in its hands", victim.name, victim.node.Held(), len(acked), inHand)
	if inHand == 0 {
		t.Errorf("%s had no event in hand when killed: the test did not kill mid-stream", victim.name)
	}
	killedAt := time.Now()
	victim.kill()
	t.Logf("%s dead in %s", victim.name, time.Since(killedAt).Round(time.Millisecond))
	nodes = without(nodes, victim)
	submit(nodes, perThread/3, perThread)
	t.Logf("submitting the rest took %.1fs after the kill", time.Since(killedAt).Seconds())
	missing := func() []string {
		got := p.byReplyTo()
		var out []string
		for k := range acked {
			if len(got[k]) == 0 {
				out = append(out, k)
			}
		}
		return out
	}
	deadline := time.Now().Add(30 * time.Second)
	for len(missing()) > 0 && time.Now().Before(deadline) {
		time.Sleep(20 * time.Millisecond)
	}
	if m := missing(); len(m) > 0 {
		var b strings.Builder
		_ = cluster.Status(context.Background(), nodes[0].node.Conn(), &b)
		t.Fatalf("%d acknowledged events never answered, such as %v\n%s", len(m), m[:min(5, len(m))], b.String())
	}
	var skipped int64
	for _, n := range nodes {
		skipped += n.node.Ops.Skipped.Load()
	}
	t.Logf("all %d acknowledged events answered %.1fs after the kill (whole run %.1fs); %d replies the dead node had posted were not posted again", len(acked), time.Since(killedAt).Seconds(), time.Since(start).Seconds(), skipped)
	time.Sleep(300 * time.Millisecond)
	checkOnceInOrder(t, p, acked)
}

func without(nodes []*testNode, x *testNode) []*testNode {
	var out []*testNode
	for _, n := range nodes {
		if n != x {
			out = append(out, n)
		}
	}
	return out
}

func testTakeover(t *testing.T, p *platform, nodes []*testNode) {
	thread := bot.ThreadRef{Platform: "test", ChannelID: "c", ThreadID: "t77"}
	answered := func(key string) func() bool { return func() bool { return len(p.byReplyTo()[key]) > 0 } }
	silenced := func() int64 {
		var n int64
		for _, x := range nodes {
			n += x.core.Stats().Silenced
		}
		return n
	}

	before := silenced()
	if err := nodes[0].node.Submit(event(77, 1)); err != nil {
		t.Fatal(err)
	}
	waitFor(t, 10*time.Second, "the first message answered", answered("t77-e1"))

	// Staff take the thread over on node 3.
	ctx := context.Background()
	took := time.Now()
	if err := nodes[2].node.Owners.SetOwner(ctx, thread, bot.Owner{Staff: "ann", Since: took, By: "ann"}); err != nil {
		t.Fatal(err)
	}
	waitFor(t, 5*time.Second, "every node to see the takeover", func() bool {
		for _, n := range nodes {
			if o, _ := n.node.Owners.Owner(ctx, thread); o.Staff != "ann" {
				return false
			}
		}
		return true
	})
	t.Logf("every node saw the takeover %s after it", time.Since(took).Round(time.Millisecond))
	for i, seq := range []int{2, 3, 4} {
		if err := nodes[i%3].node.Submit(event(77, seq)); err != nil {
			t.Fatal(err)
		}
	}
	waitFor(t, 10*time.Second, "three messages handled in silence", func() bool { return silenced() == before+3 })
	for _, k := range []string{"t77-e2", "t77-e3", "t77-e4"} {
		if got := p.byReplyTo()[k]; len(got) > 0 {
			t.Errorf("the bot answered %s in a thread staff own (node %s)", k, got[0].Node)
		}
	}
	owned := nodes[1].node.Owners.Owned(ctx)
	if len(owned) != 1 || owned[0].Thread != thread || owned[0].Owner.Staff != "ann" {
		t.Errorf("node 2 lists owned threads %+v, want t7 owned by ann", owned)
	}

	// A second takeover from a node that has not yet heard of the first
	// cannot happen silently: compare-and-set refuses a stale change.
	if err := nodes[1].node.Owners.SetOwner(ctx, thread, bot.Owner{}); err != nil {
		t.Fatalf("handing back: %v", err)
	}
	waitFor(t, 5*time.Second, "every node to see the hand-back", func() bool {
		for _, n := range nodes {
			if o, _ := n.node.Owners.Owner(ctx, thread); !o.Bot() {
				return false
			}
		}
		return true
	})
	if err := nodes[2].node.Submit(event(77, 5)); err != nil {
		t.Fatal(err)
	}
	waitFor(t, 10*time.Second, "the bot to answer again", answered("t77-e5"))
}
