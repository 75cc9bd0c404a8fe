package cluster_test

import (
	"context"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
)

// A working node is ready and exports its streams, consumers and
// operations (run by TestShardsReadinessAndMetrics on its cluster, whose
// nodes hold Discord shards too; a node cut off from NATS saying why it is
// not ready is checked there after its kill).
func testReadinessAndMetrics(t *testing.T, p *platform, nodes []*testNode) {
	waitFor(t, 20*time.Second, "every node holding partitions", func() bool {
		for _, n := range nodes {
			if len(n.node.Held()) == 0 {
				return false
			}
		}
		return true
	})
	for i := range 12 {
		if err := nodes[i%3].node.Submit(event(i, 0)); err != nil {
			t.Fatal(err)
		}
	}
	waitFor(t, 20*time.Second, "every event answered", func() bool { return len(p.byReplyTo()) >= 12 })
	for _, n := range nodes {
		if got := n.node.Problems(context.Background()); len(got) != 0 {
			t.Errorf("%s not ready: %v", n.name, got)
		}
	}

	reg := prometheus.NewRegistry()
	reg.MustRegister(nodes[0].node.Collector())
	families, err := reg.Gather()
	if err != nil {
		t.Fatal(err)
	}
	series := map[string]int{}
	var published float64
	for _, f := range families {
		series[f.GetName()] = len(f.GetMetric())
		if f.GetName() == "einsatz_cluster_jetstream_ops_total" {
			for _, m := range f.GetMetric() {
				if m.GetLabel()[0].GetValue() == "publish" {
					published = m.GetCounter().GetValue()
				}
			}
		}
	}
	for name, want := range map[string]int{"einsatz_cluster_consumer_pending": 6, "einsatz_cluster_consumer_ack_pending": 6,
		"einsatz_cluster_consumer_redelivered": 6, "einsatz_cluster_stream_messages": 4, "einsatz_cluster_jetstream_ops_total": 5,
		"einsatz_cluster_partitions_held": 1, "einsatz_cluster_discord_shards_held": 1, "einsatz_cluster_connected": 1} {
		if series[name] != want {
			t.Errorf("%s: %d series, want %d (all: %v)", name, series[name], want, series)
		}
	}
	if published < 4 {
		t.Errorf("node 1 published %v events, want its 4", published)
	}
}
