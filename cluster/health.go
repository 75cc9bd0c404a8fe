package cluster

import (
	"context"
	"strings"
	"time"

	"github.com/nats-io/nats.go/jetstream"
	"github.com/prometheus/client_golang/prometheus"
)

// Problems says why this node should not take traffic: it is not
// connected to NATS, JetStream does not answer, it holds no partition
// while events wait in the stream, or the Discord budget guard refuses to
// IDENTIFY its shards. Empty when ready (for /readyz).
func (n *Node) Problems(ctx context.Context) []string {
	n.mu.Lock()
	shardProblem := n.shardProblem
	n.mu.Unlock()
	var out []string
	if shardProblem != "" {
		out = append(out, shardProblem)
	}
	return append(out, n.clusterProblems(ctx)...)
}

func (n *Node) clusterProblems(ctx context.Context) []string {
	if !n.nc.IsConnected() {
		return []string{"cluster: not connected to NATS (" + n.nc.Status().String() + ")"}
	}
	ctx, cancel := context.WithTimeout(ctx, 2*time.Second)
	defer cancel()
	info, err := n.events.Info(ctx)
	if err != nil {
		return []string{"cluster: JetStream not answering: " + err.Error()}
	}
	if len(n.Held()) == 0 && info.State.Msgs > 0 {
		return []string{"cluster: this node holds no partition while events wait"}
	}
	return nil
}

// Collector exports the node's JetStream operations and, read from
// JetStream at each scrape, the event stream and its consumers.
func (n *Node) Collector() prometheus.Collector { return &collector{n: n} }

type collector struct{ n *Node }

var (
	descOps = prometheus.NewDesc("einsatz_cluster_jetstream_ops_total",
		"JetStream operations this node made, by kind (publish, ack, fetch, kv on the event path; lease in the background).", []string{"kind"}, nil)
	descHeld = prometheus.NewDesc("einsatz_cluster_partitions_held",
		"Partitions this node works now.", nil, nil)
	descShards = prometheus.NewDesc("einsatz_cluster_discord_shards_held",
		"Discord gateway shards this node holds.", nil, nil)
	descConnected = prometheus.NewDesc("einsatz_cluster_connected",
		"1 while this node is connected to NATS.", nil, nil)
	descMsgs = prometheus.NewDesc("einsatz_cluster_stream_messages",
		"Messages stored in a stream.", []string{"stream"}, nil)
	descPending = prometheus.NewDesc("einsatz_cluster_consumer_pending",
		"Messages of a consumer not yet delivered.", []string{"stream", "consumer"}, nil)
	descAckPending = prometheus.NewDesc("einsatz_cluster_consumer_ack_pending",
		"Messages of a consumer delivered and not yet acknowledged.", []string{"stream", "consumer"}, nil)
	descRedelivered = prometheus.NewDesc("einsatz_cluster_consumer_redelivered",
		"Messages of a consumer delivered more than once and not yet acknowledged.", []string{"stream", "consumer"}, nil)
)

func (c *collector) Describe(ch chan<- *prometheus.Desc) {
	for _, d := range []*prometheus.Desc{descOps, descHeld, descShards, descConnected, descMsgs, descPending, descAckPending, descRedelivered} {
		ch <- d
	}
}

func (c *collector) Collect(ch chan<- prometheus.Metric) {
	n := c.n
	for kind, v := range map[string]int64{"publish": n.Ops.Published.Load(), "ack": n.Ops.Acked.Load(),
		"fetch": n.Ops.Fetched.Load(), "kv": n.Ops.KV.Load(), "lease": n.Ops.Leases.Load()} {
		ch <- prometheus.MustNewConstMetric(descOps, prometheus.CounterValue, float64(v), kind)
	}
	ch <- prometheus.MustNewConstMetric(descHeld, prometheus.GaugeValue, float64(len(n.Held())))
	ch <- prometheus.MustNewConstMetric(descShards, prometheus.GaugeValue, float64(len(n.Shards())))
	connected := 0.0
	if n.nc.IsConnected() {
		connected = 1
	}
	ch <- prometheus.MustNewConstMetric(descConnected, prometheus.GaugeValue, connected)
	if connected == 0 {
		return
	}
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
	defer cancel()
	for _, name := range listedStreams {
		s, err := n.js.Stream(ctx, name)
		if err != nil {
			continue
		}
		info, err := s.Info(ctx)
		if err != nil {
			continue
		}
		ch <- prometheus.MustNewConstMetric(descMsgs, prometheus.GaugeValue, float64(info.State.Msgs), name)
		if name != EventStream {
			continue
		}
		lister := s.ListConsumers(ctx)
		for ci := range lister.Info() {
			c.consumer(ch, name, ci)
		}
	}
}

func (c *collector) consumer(ch chan<- prometheus.Metric, stream string, ci *jetstream.ConsumerInfo) {
	if !strings.HasPrefix(ci.Name, "events-") {
		return
	}
	ch <- prometheus.MustNewConstMetric(descPending, prometheus.GaugeValue, float64(ci.NumPending), stream, ci.Name)
	ch <- prometheus.MustNewConstMetric(descAckPending, prometheus.GaugeValue, float64(ci.NumAckPending), stream, ci.Name)
	ch <- prometheus.MustNewConstMetric(descRedelivered, prometheus.GaugeValue, float64(ci.NumRedelivered), stream, ci.Name)
}
