package cluster_test

import (
	"context"
	"fmt"
	"net/http/httptest"
	"strconv"
	"sync"
	"testing"
	"time"

	"github.com/einsatz/einsatz/adapters/discord"
	"github.com/einsatz/einsatz/adapters/discord/discordtest"
	"github.com/einsatz/einsatz/adapters/slack"
	"github.com/einsatz/einsatz/adapters/slack/slacktest"
	"github.com/einsatz/einsatz/bot"
	"github.com/einsatz/einsatz/bot/catchup"
	"github.com/einsatz/einsatz/cluster"
	"github.com/einsatz/einsatz/storage"
)

// cuNode is a node of TestCatchUpAfterEveryNodeWasDown: a testNode with
// the catch-up's marks recorded in the cluster and its task running.
type cuNode struct {
	*testNode
	cu *cluster.CatchUp
}

// catchUpSettings are n embedded nodes' settings on fixed ports and
// store directories, so the cluster can be started again on its data.
func catchUpSettings(t *testing.T, n, partitions int) []cluster.Settings {
	routes := make([]string, n)
	clients := make([]string, n)
	for i := range n {
		routes[i] = "127.0.0.1:" + strconv.Itoa(freePort(t))
		clients[i] = "127.0.0.1:" + strconv.Itoa(freePort(t))
	}
	out := make([]cluster.Settings, n)
	for i := range n {
		var peers []string
		for j := range n {
			if j != i {
				peers = append(peers, routes[j])
			}
		}
		out[i] = cluster.Settings{Mode: "embedded", Name: "test", Node: "n" + strconv.Itoa(i+1), Listen: routes[i], Client: clients[i],
			Peers: peers, StoreDir: t.TempDir(), Partitions: partitions, Replicas: min(3, n), LeaseTTL: testLeaseTTL}
	}
	return out
}

// startCatchUpCluster starts the nodes of settings, each with the Discord
// adapter against fd, a core answering "re: <text>", the catch-up
// recorder over the cluster's marks and the catch-up task.
func startCatchUpCluster(t *testing.T, settings []cluster.Settings, fd *discordtest.Server) []*cuNode {
	return startCatchUpClusterWith(t, settings, func(string) ([]bot.Adapter, []catchup.Fetcher) {
		da, err := discord.New(discord.Options{Token: fd.Token, APIURL: fd.URL, GuildIDs: []string{fd.Guild}, Logger: quiet})
		if err != nil {
			t.Fatal(err)
		}
		return []bot.Adapter{da}, []catchup.Fetcher{da}
	})
}

// startCatchUpClusterWith starts the nodes of settings with the adapters
// (and those of them that fetch) newAdapters makes for each.
func startCatchUpClusterWith(t *testing.T, settings []cluster.Settings, newAdapters func(node string) ([]bot.Adapter, []catchup.Fetcher)) []*cuNode {
	t.Helper()
	nodes := make([]*cuNode, len(settings))
	var wg sync.WaitGroup
	errs := make(chan error, len(settings))
	for i, s := range settings {
		tn := &cuNode{testNode: &testNode{name: s.Node}}
		nodes[i] = tn
		wg.Go(func() {
			srv, err := cluster.StartServer(s)
			if err != nil {
				errs <- err
				return
			}
			tn.srv = srv
			ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
			defer cancel()
			node, err := cluster.Connect(ctx, cluster.Options{Settings: s, Logger: quiet})
			if err != nil {
				errs <- fmt.Errorf("%s: %w", s.Node, err)
				return
			}
			tn.node = node
			tn.cu, err = node.CatchUp(ctx, 10*time.Minute)
			if err != nil {
				errs <- fmt.Errorf("%s: %w", s.Node, err)
			}
		})
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Fatal(err)
	}
	for _, tn := range nodes {
		st, err := storage.Open(storage.Options{InMemory: true, Logger: quiet})
		if err != nil {
			t.Fatal(err)
		}
		tn.store = st
		tn.core = bot.New(bot.Options{Store: cluster.Store{Store: st, Owners: tn.node.Owners}, Logger: quiet, ShutdownTimeout: 2 * time.Second})
		tn.core.Fallback(bot.HandlerFunc(func(_ context.Context, ev *bot.Event) ([]bot.Reply, error) {
			return []bot.Reply{{Text: "re: " + ev.Text}}, nil
		}))
		tn.core.Observe(catchup.NewRecorder(tn.cu, nil, quiet, bot.PlatformDiscord, bot.PlatformSlack))
		adapters, fetchers := newAdapters(tn.name)
		ctx, cancel := context.WithCancel(context.Background())
		tn.cancel = cancel
		tn.done.Add(3)
		go func() {
			defer tn.done.Done()
			_ = tn.core.Run(ctx, tn.node.Adapters(adapters...)...)
		}()
		go func() {
			defer tn.done.Done()
			_ = tn.node.Run(ctx, tn.core)
		}()
		go func() {
			defer tn.done.Done()
			if err := tn.cu.Task(fetchers)(ctx); err != nil {
				t.Errorf("%s: catch-up: %v", tn.name, err)
			}
		}()
	}
	return nodes
}

// killAll crashes every node (as a power cut would) and waits until
// their cores and tasks are down.
func killAll(nodes []*cuNode) {
	var wg sync.WaitGroup
	for _, n := range nodes {
		wg.Go(func() { n.node.Kill() })
	}
	wg.Wait()
	for _, n := range nodes {
		n.cancel()
		n.srv.Shutdown()
	}
	for _, n := range nodes {
		n.done.Wait()
		n.store.Close()
	}
}

func ranSum(nodes []*cuNode) (sum int64) {
	for _, n := range nodes {
		sum += n.cu.Ran()
	}
	return sum
}

// Issue 17's catch-up in cluster mode: questions posted while every node
// was down are answered once after the cluster starts again, by one
// node's catch-up through the event stream; a question answered before
// the outage, which the catch-up reads again (it starts a minute before
// the mark), is not answered twice, though every NATS server restarted
// (the stream's de-duplication of acknowledged events does not survive
// that; the posted marks do); the marks outlive the nodes that wrote
// them; and a node dying while others run starts no catch-up.
func TestCatchUpAfterEveryNodeWasDown(t *testing.T) {
	fd := discordtest.New(t, discordtest.Options{})
	general := fd.TextChannel(fd.Guild, "general")
	mia := fd.NewUser("mia")
	settings := catchUpSettings(t, 3, 6)

	nodes := startCatchUpCluster(t, settings, fd)
	waitFor(t, 15*time.Second, "three gateway sessions", func() bool { return fd.Connected() == 3 })
	// A new cluster has no heartbeat: its first catch-up node catches up
	// on nothing (there are no marks).
	waitFor(t, 20*time.Second, "the first catch-up", func() bool { return ranSum(nodes) == 1 })

	before := fd.Post(general, mia, "before the outage?", true).ID
	waitFor(t, 20*time.Second, "the question before the outage answered", func() bool { return len(fd.BotMessages(before)) > 0 })
	waitFor(t, 10*time.Second, "its mark stored", func() bool {
		var batches int64
		for _, n := range nodes {
			batches += n.cu.Batches()
		}
		return batches > 0
	})
	time.Sleep(300 * time.Millisecond) // the posted mark's group is stored

	killAll(nodes)
	if fd.Connected() != 0 {
		waitFor(t, 10*time.Second, "every gateway session closed", func() bool { return fd.Connected() == 0 })
	}
	var during []string
	for i := range 3 {
		during = append(during, fd.Post(general, mia, fmt.Sprintf("while down %d?", i), true).ID)
	}

	began := time.Now()
	nodes = startCatchUpCluster(t, settings, fd)
	t.Cleanup(func() { killAll(nodes) })
	waitFor(t, 60*time.Second, "the questions posted while every node was down answered", func() bool {
		for _, id := range during {
			if len(fd.BotMessages(id)) == 0 {
				return false
			}
		}
		return true
	})
	t.Logf("%d questions posted while every node was down answered %s after the restart began", len(during), time.Since(began).Round(10*time.Millisecond))
	waitFor(t, 10*time.Second, "the catch-up done", func() bool { return ranSum(nodes) == 1 })
	time.Sleep(time.Second) // a second answer would show now
	for i, id := range during {
		if got := fd.BotMessages(id); len(got) != 1 {
			t.Errorf("question %d posted while down: %d answers, want 1", i, len(got))
		} else if want := fmt.Sprintf("re: while down %d?", i); got[0].Content != want {
			t.Errorf("question %d: answer %q, want %q", i, got[0].Content, want)
		}
	}
	if got := fd.BotMessages(before); len(got) != 1 {
		t.Errorf("the question answered before the outage (and read again by the catch-up): %d answers, want 1", len(got))
	}
	if ran := ranSum(nodes); ran != 1 {
		t.Errorf("%d catch-ups after the restart, want 1 (one node at a time)", ran)
	}

	// The node that ran the catch-up dies; the others stayed up all along,
	// so the node taking the singleton over fetches nothing. The marks the
	// dead node wrote are still there.
	var leader *cuNode
	for _, n := range nodes {
		if n.cu.Ran() == 1 {
			leader = n
		}
	}
	live := []*cuNode{}
	for _, n := range nodes {
		if n != leader {
			live = append(live, n)
		}
	}
	leader.kill()
	leader.done.Wait()
	leader.store.Close()
	nodes = live
	waitFor(t, 20*time.Second, "another node to take the catch-up over", func() bool {
		for _, n := range live {
			if n.cu.Decided() > 0 {
				return true
			}
		}
		return false
	})
	if ran := ranSum(live); ran != 0 {
		t.Errorf("a catch-up ran after one node died while the others were up (%d)", ran)
	}
	seen, err := live[0].cu.SeenSince(context.Background(), time.Now().Add(-5*time.Minute))
	if err != nil {
		t.Fatal(err)
	}
	threads := map[string]bool{}
	for _, s := range seen {
		threads[s.Thread.ThreadID] = true
	}
	for _, id := range append([]string{before}, during...) {
		if !threads[id] {
			t.Errorf("no mark of thread %s after the nodes that handled it died (%d marks)", id, len(seen))
		}
	}
}

// An event the cluster answered, published again after every node and
// every NATS server restarted (as a catch-up publishes what it reads
// again from a minute before a mark) on a platform without a nonce: it
// is answered once. The stream's de-duplication may not survive the
// restart; the worker takes an event stored long after its message's
// time for one that may have been handled and checks the posted marks.
func TestLateEventAnsweredBeforeIsNotAnsweredAgain(t *testing.T) {
	p := &platform{}
	settings := catchUpSettings(t, 3, 6)
	newAdapters := func(node string) ([]bot.Adapter, []catchup.Fetcher) {
		return []bot.Adapter{&adapter{p: p, node: node}}, nil
	}
	nodes := startCatchUpClusterWith(t, settings, newAdapters)
	ev := event(1, 1)
	ev.Time = time.Now()
	if err := nodes[0].node.Submit(ev); err != nil {
		t.Fatal(err)
	}
	waitFor(t, 20*time.Second, "the event answered", func() bool { return len(p.byReplyTo()[ev.Key]) > 0 })
	time.Sleep(500 * time.Millisecond) // its posted mark's group is stored
	killAll(nodes)

	nodes = startCatchUpClusterWith(t, settings, newAdapters)
	t.Cleanup(func() { killAll(nodes) })
	waitFor(t, 20*time.Second, "the partitions held again", func() bool {
		held := 0
		for _, n := range nodes {
			held += len(n.node.Held())
		}
		return held == 6
	})
	before := handled(testNodes(nodes))
	if err := nodes[1].node.Submit(ev); err != nil {
		t.Fatal(err)
	}
	var skipped int64
	waitFor(t, 20*time.Second, "the event handled again or dropped as a repeat", func() bool {
		skipped = 0
		for _, n := range nodes {
			skipped += n.node.Ops.Skipped.Load()
		}
		return skipped > 0 || handled(testNodes(nodes)) > before
	})
	time.Sleep(500 * time.Millisecond) // a second answer would show now
	if got := p.byReplyTo()[ev.Key]; len(got) != 1 {
		t.Errorf("the event answered %d times, want once: %+v", len(got), got)
	}
	t.Logf("published again after the restart: handled %d, replies skipped as posted before %d", handled(testNodes(nodes))-before, skipped)
}

func testNodes(nodes []*cuNode) []*testNode {
	out := make([]*testNode, len(nodes))
	for i, n := range nodes {
		out[i] = n.testNode
	}
	return out
}

// BenchmarkClusterCatchUp is BenchmarkCluster with the catch-up's
// recorder observing every event on every node, its marks in the
// cluster's catch-up bucket (as in cluster mode with catchup: on): it
// reports the JetStream operations per event with the marks' batches in,
// and mark-writes/event apart.
func BenchmarkClusterCatchUp(b *testing.B) {
	defer func(ttl time.Duration) { testLeaseTTL = ttl }(testLeaseTTL)
	testLeaseTTL = 3 * time.Second
	for _, n := range []int{1, 3} {
		b.Run(fmt.Sprintf("nodes=%d", n), func(b *testing.B) {
			p := &platform{}
			var marks []*cluster.CatchUp
			nodes := startClusterSetup(b, n, 16, func(string) {}, func(node string) []bot.Adapter {
				return []bot.Adapter{&adapter{p: p, node: node}}
			}, func(tn *testNode) {
				ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
				defer cancel()
				cu, err := tn.node.CatchUp(ctx, 10*time.Minute)
				if err != nil {
					b.Fatal(err)
				}
				marks = append(marks, cu)
				tn.core.Observe(catchup.NewRecorder(cu, nil, quiet, "test"))
			})
			var ops0, kv0 int64
			for _, x := range nodes {
				ops0 += x.node.Ops.Published.Load() + x.node.Ops.Acked.Load() + x.node.Ops.Fetched.Load() + x.node.Ops.KV.Load()
				kv0 += x.node.Ops.KV.Load()
			}
			r := pushEvents(b, nodes, p, 256)
			time.Sleep(1500 * time.Millisecond) // the last marks' flush
			var ops, kv, batches int64
			for _, x := range nodes {
				ops += x.node.Ops.Published.Load() + x.node.Ops.Acked.Load() + x.node.Ops.Fetched.Load() + x.node.Ops.KV.Load()
				kv += x.node.Ops.KV.Load()
			}
			for _, m := range marks {
				batches += m.Batches()
			}
			b.ReportMetric(float64(batches)/float64(b.N), "mark-writes/event")
			b.ReportMetric(float64(kv-kv0)/float64(b.N), "kv/event")
			b.ReportMetric(float64(ops-ops0)/float64(b.N), "jsops/event")
			r.report(b)
		})
	}
}

// The same on Slack (HTTP Events API behind a load balancer): questions
// posted while every node was down (Slack's deliveries failed and were
// given up) are read with conversations.history by the node that catches
// up and answered once; the question answered before is not answered
// again (Slack has no nonce: the posted marks stop the second answer).
func TestSlackCatchUpAfterEveryNodeWasDown(t *testing.T) {
	fs := slacktest.New(slacktest.Options{Mode: slacktest.ModeHTTP})
	t.Cleanup(fs.Close)
	fs.AddUser("U123", "bob")
	fs.AddChannel("C123", "general", slacktest.Public)
	settings := catchUpSettings(t, 3, 6)
	start := func() []*cuNode {
		lb := &balancer{}
		nodes := startCatchUpClusterWith(t, settings, func(string) ([]bot.Adapter, []catchup.Fetcher) {
			sa, err := slack.New(slack.Options{Mode: slack.ModeHTTP, BotToken: fs.BotToken(), SigningSecret: fs.SigningSecret(), APIURL: fs.APIURL(), Logger: quiet})
			if err != nil {
				t.Fatal(err)
			}
			lb.add(sa.HTTPHandler())
			return []bot.Adapter{sa}, []catchup.Fetcher{sa}
		})
		front := httptest.NewServer(lb)
		t.Cleanup(front.Close)
		fs.SetEventsURL(front.URL + slack.EventsPath)
		return nodes
	}
	answers := func(ts string) (n int) {
		for _, m := range fs.Posted() {
			if m.ThreadTS == ts {
				n++
			}
		}
		return n
	}
	nodes := start()
	waitFor(t, 20*time.Second, "the first catch-up", func() bool { return ranSum(nodes) == 1 })
	before := fs.Post("C123", "U123", "@"+slacktest.DefaultBotName+" before the outage?", "")
	waitFor(t, 20*time.Second, "the question before the outage answered", func() bool { return answers(before) > 0 })
	waitFor(t, 10*time.Second, "its mark stored", func() bool {
		var batches int64
		for _, n := range nodes {
			batches += n.cu.Batches()
		}
		return batches > 0
	})
	time.Sleep(300 * time.Millisecond) // the posted mark's group is stored

	killAll(nodes)
	fs.SetEventsURL("") // Slack gives up on the deliveries
	var during []string
	for i := range 3 {
		during = append(during, fs.Post("C123", "U123", fmt.Sprintf("@%s while down %d?", slacktest.DefaultBotName, i), ""))
	}
	began := time.Now()
	nodes = start()
	t.Cleanup(func() { killAll(nodes) })
	waitFor(t, 60*time.Second, "the questions posted while every node was down answered", func() bool {
		for _, ts := range during {
			if answers(ts) == 0 {
				return false
			}
		}
		return true
	})
	t.Logf("%d questions posted while every node was down answered %s after the restart began", len(during), time.Since(began).Round(10*time.Millisecond))
	waitFor(t, 10*time.Second, "the catch-up done", func() bool { return ranSum(nodes) == 1 })
	time.Sleep(time.Second) // a second answer would show now
	for i, ts := range during {
		if n := answers(ts); n != 1 {
			t.Errorf("question %d posted while down: %d answers, want 1", i, n)
		}
	}
	if n := answers(before); n != 1 {
		t.Errorf("the question answered before the outage (and read again by the catch-up): %d answers, want 1", n)
	}
}
