package cluster_test

import (
	"context"
	"fmt"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/nats-io/nats.go/jetstream"

	"github.com/einsatz/einsatz/bot"
	"github.com/einsatz/einsatz/bot/mood"
	"github.com/einsatz/einsatz/cluster"
	"github.com/einsatz/einsatz/handlers/monitor"
	"github.com/einsatz/einsatz/storage"
)

// BenchmarkCluster pushes events over 256 threads through 1, 2 and 3
// embedded nodes (128 submitters at once, spread over the nodes) until
// every one is answered, and reports events per second, the process's CPU
// time per event (all nodes, their NATS servers and the fakes together)
// and JetStream operations per event (publishes, acknowledgements, pull
// requests and key-value reads and writes on the event path, all nodes
// together; the pull requests and the key-value part are also reported
// apart; notices/event are the core NATS notices of posted replies, not
// stored and not counted as JetStream operations). On one shared machine the nodes compete for the same cores:
// BenchmarkClusterScaling is the one that shows scaling.
func BenchmarkCluster(b *testing.B) {
	defer func(ttl time.Duration) { testLeaseTTL = ttl }(testLeaseTTL)
	testLeaseTTL = 3 * time.Second
	for _, n := range []int{1, 2, 3} {
		for _, routed := range []bool{false, true} {
			name := fmt.Sprintf("nodes=%d", n)
			if routed {
				name += "/routed"
			}
			b.Run(name, func(b *testing.B) { benchCluster(b, n, routed) })
		}
	}
}

// benchCluster is BenchmarkCluster on n nodes; routed: every reply is
// posted by the node holding the partition of its channel (all events
// are in one channel: the worst case, one node posts everything), as
// Discord's and Slack's are.
func benchCluster(b *testing.B, n int, routed bool) {
	defer func(r []string) { testRouted = r }(testRouted)
	if routed {
		testRouted = []string{"test"}
	}
	p := &platform{}
	nodes := startCluster(b, n, 16, p)
	r := pushEvents(b, nodes, p, 256)
	var ops, fetched, kv, deferred, notices, posted int64
	for _, x := range nodes {
		posted += x.node.Ops.Routed.Load()
		notices += x.node.Ops.Notices.Load()
		ops += x.node.Ops.Published.Load() + x.node.Ops.Acked.Load() + x.node.Ops.Fetched.Load() + x.node.Ops.KV.Load()
		fetched += x.node.Ops.Fetched.Load()
		kv += x.node.Ops.KV.Load()
		deferred += x.node.Ops.Deferred.Load()
	}
	b.ReportMetric(float64(fetched)/float64(b.N), "fetches/event")
	b.ReportMetric(float64(kv)/float64(b.N), "kv/event")
	b.ReportMetric(float64(deferred), "deferred")
	b.ReportMetric(float64(notices)/float64(b.N), "notices/event")
	b.ReportMetric(float64(posted)/float64(b.N), "asked/event")
	b.ReportMetric(float64(ops)/float64(b.N), "jsops/event")
	r.report(b)
}

// run is what pushEvents measured.
type run struct {
	events  int
	elapsed time.Duration
	cpu     time.Duration // process CPU time (0: not measured)
}

func (r run) perSecond() float64 { return float64(r.events) / r.elapsed.Seconds() }

func (r run) report(b *testing.B) {
	b.ReportMetric(r.perSecond(), "events/s")
	if r.cpu > 0 {
		b.ReportMetric(float64(r.cpu.Microseconds())/1000/float64(r.events), "cpu-ms/event")
	}
}

// pushEvents submits b.N events over threads threads (128 submitters at
// once, spread over the nodes) and waits until every one is answered.
func pushEvents(b *testing.B, nodes []*testNode, p *platform, threads int) run {
	b.Helper()
	var next atomic.Int64
	cpu0, cpuOK := processCPU()
	b.ResetTimer()
	start := time.Now()
	var wg sync.WaitGroup
	for w := range 128 {
		wg.Go(func() {
			for {
				i := int(next.Add(1)) - 1
				if i >= b.N {
					return
				}
				if err := nodes[w%len(nodes)].node.Submit(event(i%threads, i/threads)); err != nil {
					b.Error(err)
					return
				}
			}
		})
	}
	wg.Wait()
	deadline := time.Now().Add(2 * time.Minute)
	for len(p.byReplyTo()) < b.N && time.Now().Before(deadline) {
		time.Sleep(5 * time.Millisecond)
	}
	r := run{events: b.N, elapsed: time.Since(start)}
	b.StopTimer()
	if cpu1, ok := processCPU(); ok && cpuOK {
		r.cpu = cpu1 - cpu0
	}
	if got := len(p.byReplyTo()); got < b.N {
		b.Fatalf("%d of %d events answered", got, b.N)
	}
	for key, posts := range p.byReplyTo() {
		if len(posts) > 1 {
			b.Errorf("event %s answered %d times", key, len(posts))
		}
	}
	return r
}

// simCost is the simulated pipeline work per event in
// BenchmarkClusterScaling: the core of a node is busy this long for each
// event it handles.
const simCost = 20 * time.Millisecond

// BenchmarkClusterScaling gives each node a core of its own: every event's
// pipeline work is simCost of simulated CPU, and a node has one core (a
// semaphore of one), so a node handles at most 1/simCost events a second
// however many real cores the machine has. The 2-core machine does not
// bound the result as long as the real work (JetStream, the nodes' code,
// reported as cpu-ms/event) stays well below its cores. What it shows:
// whether N nodes do N times the work of one, or whether partitions left
// idle, an uneven spread or waiting on JetStream cost throughput.
// efficiency is throughput(N) / (N × throughput(1)), throughput(1) from
// the nodes=1 run of the same invocation. core-busy is the share of the
// run the nodes' simulated cores were busy; busiest-share the events the
// busiest node handled over an even share (the thread hash does not
// spread threads evenly over partitions). 12 partitions (4 per node at
// 3 nodes), events spread over 600 threads.
func BenchmarkClusterScaling(b *testing.B) {
	defer func(ttl time.Duration) { testLeaseTTL = ttl }(testLeaseTTL)
	testLeaseTTL = 3 * time.Second
	var one float64 // events/s of one node
	for _, n := range []int{1, 2, 3} {
		b.Run(fmt.Sprintf("nodes=%d", n), func(b *testing.B) {
			p := &platform{}
			var mu sync.Mutex
			cores := map[string]chan struct{}{}
			var busy atomic.Int64 // simulated core time, ns
			handled := map[string]int{}
			core := func(node string) chan struct{} {
				mu.Lock()
				defer mu.Unlock()
				if cores[node] == nil {
					cores[node] = make(chan struct{}, 1)
				}
				return cores[node]
			}
			nodes := startClusterWork(b, n, 12, func(node string) {
				c := core(node)
				c <- struct{}{}
				mu.Lock()
				handled[node]++
				mu.Unlock()
				time.Sleep(simCost)
				busy.Add(int64(simCost))
				<-c
			}, func(node string) []bot.Adapter { return []bot.Adapter{&adapter{p: p, node: node}} })
			// Steady state: every node holds its share (the first node up
			// takes all partitions and gives back what is beyond its share
			// over the next lease rounds).
			waitFor(b, 30*time.Second, "an even spread of the partitions", func() bool {
				for _, x := range nodes {
					if len(x.node.Held()) != 12/n {
						return false
					}
				}
				return true
			})
			busy.Store(0)
			mu.Lock()
			clear(handled)
			mu.Unlock()
			r := pushEvents(b, nodes, p, 600)
			most := 0
			mu.Lock()
			for _, k := range handled {
				most = max(most, k)
			}
			mu.Unlock()
			// 1 when every node handled as many events; the run lasts as
			// long as the busiest node needs.
			b.ReportMetric(float64(most*n)/float64(b.N), "busiest-share")
			r.report(b)
			var deferred int64
			for _, x := range nodes {
				deferred += x.node.Ops.Deferred.Load()
			}
			b.ReportMetric(float64(deferred), "deferred")
			b.ReportMetric(float64(busy.Load())/float64(int64(n)*int64(r.elapsed)), "core-busy")
			if n == 1 {
				one = r.perSecond()
			} else if one > 0 {
				b.ReportMetric(r.perSecond()/(float64(n)*one), "efficiency")
			}
		})
	}
}

// BenchmarkClusterFailover kills the event stream's leader of a 3-node
// cluster (as TestKillNodeMidStream does) while events keep coming for
// every partition (one thread per partition, an event every 20 ms each,
// submitted to the surviving nodes), and reports the seconds from the kill
// to the first answer of an event submitted after it (first-answer-s) and
// until events of every partition, the dead node's too, are answered again
// (failover-s). A lease_ttl of 1 s (the tests'), 3 s, 5 s (the default)
// and 10 s.
func BenchmarkClusterFailover(b *testing.B) {
	defer func(ttl time.Duration) { testLeaseTTL = ttl }(testLeaseTTL)
	for _, ttl := range []time.Duration{time.Second, 3 * time.Second, 5 * time.Second, 10 * time.Second} {
		b.Run(fmt.Sprintf("lease=%s", ttl), func(b *testing.B) {
			testLeaseTTL = ttl
			var first, all time.Duration
			for i := range b.N {
				f, a := failover(b, i)
				first += f
				all += a
			}
			b.ReportMetric(first.Seconds()/float64(b.N), "first-answer-s")
			b.ReportMetric(all.Seconds()/float64(b.N), "failover-s")
		})
	}
}

const failoverPartitions = 12

func failover(b *testing.B, round int) (first, all time.Duration) {
	b.StopTimer()
	p := &platform{}
	nodes := startCluster(b, 3, failoverPartitions, p)
	// One thread per partition.
	threads := make([]int, 0, failoverPartitions)
	seen := map[int]bool{}
	for th := 0; len(threads) < failoverPartitions; th++ {
		ev := event(th, 0)
		k := cluster.Partition(ev.Thread(), failoverPartitions)
		if !seen[k] {
			seen[k] = true
			threads = append(threads, th)
		}
	}
	// Every partition answers before the kill.
	for _, th := range threads {
		if err := nodes[0].node.Submit(event(th, 0)); err != nil {
			b.Fatal(err)
		}
	}
	waitFor(b, 30*time.Second, "every partition answering", func() bool { return len(p.byReplyTo()) == failoverPartitions })

	js, err := jetstream.New(nodes[0].node.Conn())
	if err != nil {
		b.Fatal(err)
	}
	stream, err := js.Stream(context.Background(), cluster.EventStream)
	if err != nil {
		b.Fatal(err)
	}
	info, err := stream.Info(context.Background())
	if err != nil || info.Cluster == nil {
		b.Fatalf("event stream info: %v %+v", err, info)
	}
	var victim *testNode
	for _, n := range nodes {
		if n.name == info.Cluster.Leader {
			victim = n
		}
	}
	if victim == nil {
		b.Fatalf("the event stream's leader %q is none of the nodes", info.Cluster.Leader)
	}
	rest := without(nodes, victim)

	b.StartTimer()
	killed := time.Now()
	victim.kill()
	stop := make(chan struct{})
	var wg sync.WaitGroup
	var mu sync.Mutex
	sent := map[int][]string{} // probe events submitted, by thread
	for i, th := range threads {
		wg.Go(func() {
			for seq := 1; ; seq++ {
				select {
				case <-stop:
					return
				case <-time.After(20 * time.Millisecond):
				}
				ev := event(th, seq)
				ev.Key = fmt.Sprintf("%s-r%d", ev.Key, round)
				if rest[(i+seq)%len(rest)].node.Submit(ev) != nil {
					continue // refused during the election: the next one
				}
				mu.Lock()
				sent[th] = append(sent[th], ev.Key)
				mu.Unlock()
			}
		})
	}
	answered := map[int]time.Duration{}
	deadline := killed.Add(time.Minute)
	for len(answered) < len(threads) && time.Now().Before(deadline) {
		time.Sleep(10 * time.Millisecond)
		got := p.byReplyTo()
		at := time.Since(killed)
		mu.Lock()
		for th, keys := range sent {
			if _, ok := answered[th]; ok {
				continue
			}
			for _, k := range keys {
				if len(got[k]) > 0 {
					answered[th] = at
					break
				}
			}
		}
		mu.Unlock()
	}
	b.StopTimer()
	close(stop)
	wg.Wait()
	if len(answered) < len(threads) {
		b.Fatalf("%d of %d partitions answered again within a minute of the kill", len(answered), len(threads))
	}
	first = time.Minute
	for _, at := range answered {
		first = min(first, at)
		all = max(all, at)
	}
	for key, posts := range p.byReplyTo() {
		if len(posts) > 1 {
			b.Errorf("event %s answered %d times", key, len(posts))
		}
	}
	return first, all
}

// BenchmarkClusterSentiment is BenchmarkCluster with the sentiment
// monitor observing every event on every node, its aggregates in the
// cluster's mood bucket (cluster.Mood, as in cluster mode): every event
// is scored and counted. It reports the same JetStream operations per
// event, and mood-writes/event apart (the batches of counts stored; the
// rest is the event path as in BenchmarkCluster).
func BenchmarkClusterSentiment(b *testing.B) {
	defer func(ttl time.Duration) { testLeaseTTL = ttl }(testLeaseTTL)
	testLeaseTTL = 3 * time.Second
	for _, n := range []int{1, 3} {
		b.Run(fmt.Sprintf("nodes=%d", n), func(b *testing.B) {
			p := &platform{}
			var moods []*cluster.Mood
			nodes := startClusterSetup(b, n, 16, func(string) {}, func(node string) []bot.Adapter {
				return []bot.Adapter{&adapter{p: p, node: node}}
			}, func(tn *testNode) {
				ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
				defer cancel()
				md, err := tn.node.Mood(ctx, storage.NewSentiment(tn.store))
				if err != nil {
					b.Fatal(err)
				}
				moods = append(moods, md)
				tn.core.Observe(monitor.New(monitor.Options{Store: md, Logger: quiet, Analyze: func(string, string) monitor.Score {
					return monitor.Score{Label: mood.Neutral, Lang: "en"}
				}}))
			})
			var kv0 int64
			for _, x := range nodes {
				kv0 += x.node.Ops.KV.Load()
			}
			r := pushEvents(b, nodes, p, 256)
			var ops, kv int64
			for _, x := range nodes {
				ops += x.node.Ops.Published.Load() + x.node.Ops.Acked.Load() + x.node.Ops.Fetched.Load() + x.node.Ops.KV.Load()
				kv += x.node.Ops.KV.Load()
			}
			// The mood bucket's writes are the key-value writes beyond those
			// of the posted marks; count them from the stores' batches.
			var batches int64
			for _, m := range moods {
				batches += m.Batches()
			}
			b.ReportMetric(float64(batches)/float64(b.N), "mood-writes/event")
			b.ReportMetric(float64(kv-kv0)/float64(b.N), "kv/event")
			b.ReportMetric(float64(ops-kv0)/float64(b.N), "jsops/event")
			waitCounted(b, moods, b.N)
			r.report(b)
		})
	}
}

// waitCounted waits until every node's aggregates hold n messages.
func waitCounted(b *testing.B, moods []*cluster.Mood, n int) {
	b.Helper()
	ch := mood.Channel{Platform: "test", ID: "c"}
	waitFor(b, time.Minute, "every node to count every message", func() bool {
		for _, m := range moods {
			bs, err := m.Buckets(context.Background(), mood.Day, ch, time.Now().AddDate(0, 0, -1), time.Now().AddDate(0, 0, 1))
			if err != nil {
				b.Fatal(err)
			}
			got := 0
			for _, x := range bs {
				got += x.N
			}
			if got != n {
				return false
			}
		}
		return true
	})
}
