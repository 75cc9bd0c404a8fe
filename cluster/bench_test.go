package cluster_test

import (
	"fmt"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

// BenchmarkCluster pushes events over 256 threads through 1, 2 and 3
// embedded nodes (32 submitters at once, spread over the nodes) until
// every one is answered, and reports events per second and JetStream
// operations per event (publishes, acknowledgements, pull requests and
// key-value reads and writes on the event path, all nodes together; the
// pull requests and the key-value part are also reported apart). On one shared
// machine the nodes compete for the same cores: compare the ratios only.
func BenchmarkCluster(b *testing.B) {
	defer func(ttl time.Duration) { testLeaseTTL = ttl }(testLeaseTTL)
	testLeaseTTL = 3 * time.Second
	for _, n := range []int{1, 2, 3} {
		b.Run(fmt.Sprintf("nodes=%d", n), func(b *testing.B) {
			p := &platform{}
			nodes := startCluster(b, n, 16, p)
			var next atomic.Int64
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
						if err := nodes[w%n].node.Submit(event(i%256, i/256)); err != nil {
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
			elapsed := time.Since(start)
			b.StopTimer()
			if got := len(p.byReplyTo()); got < b.N {
				b.Fatalf("%d of %d events answered", got, b.N)
			}
			var ops, fetched, kv, deferred int64
			for _, x := range nodes {
				ops += x.node.Ops.Published.Load() + x.node.Ops.Acked.Load() + x.node.Ops.Fetched.Load() + x.node.Ops.KV.Load()
				fetched += x.node.Ops.Fetched.Load()
				kv += x.node.Ops.KV.Load()
				deferred += x.node.Ops.Deferred.Load()
			}
			b.ReportMetric(float64(fetched)/float64(b.N), "fetches/event")
			b.ReportMetric(float64(kv)/float64(b.N), "kv/event")
			b.ReportMetric(float64(deferred), "deferred")
			b.ReportMetric(float64(ops)/float64(b.N), "jsops/event")
			b.ReportMetric(float64(b.N)/elapsed.Seconds(), "events/s")
		})
	}
}
