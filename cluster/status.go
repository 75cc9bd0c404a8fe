package cluster

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"sort"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"
)

// Status writes the cluster's state for `einsatz cluster status`: the
// live nodes, each stream with its leader, replicas and consumers (pending
// and unacknowledged messages, the lag), and which node holds which
// partition.
func Status(ctx context.Context, nc *nats.Conn, w io.Writer) error {
	js, err := jetstream.New(nc)
	if err != nil {
		return fmt.Errorf("cluster: jetstream: %w", err)
	}
	tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
	defer tw.Flush()

	leases, err := js.KeyValue(ctx, LeaseBucket)
	if err != nil {
		return fmt.Errorf("cluster: lease bucket (has a node run yet?): %w", err)
	}
	var nodes []string
	parts := map[int]string{}
	var shards []shardRow
	if lister, err := leases.ListKeys(ctx); err == nil {
		for k := range lister.Keys() {
			e, err := leases.Get(ctx, k)
			if err != nil {
				continue
			}
			switch {
			case strings.HasPrefix(k, "node."):
				name, _ := base64.RawURLEncoding.DecodeString(strings.TrimPrefix(k, "node."))
				nodes = append(nodes, fmt.Sprintf("%s\tseen %s ago", name, time.Since(e.Created()).Round(time.Second)))
			case strings.HasPrefix(k, "shard."):
				var sh int
				fmt.Sscanf(k, "shard.%d", &sh)
				node, since, _ := strings.Cut(string(e.Value()), " ")
				row := shardRow{shard: sh, node: node, renewed: e.Created(), read: time.Now()}
				row.since, _ = time.Parse(time.RFC3339, since)
				shards = append(shards, row)
			case strings.HasPrefix(k, "partition."):
				var p int
				fmt.Sscanf(k, "partition.%d", &p)
				parts[p] = string(e.Value())
			}
		}
	} else if !errors.Is(err, jetstream.ErrNoKeysFound) {
		return fmt.Errorf("cluster: list leases: %w", err)
	}
	sort.Strings(nodes)
	fmt.Fprintf(tw, "NODES (%d)\n", len(nodes))
	for _, n := range nodes {
		fmt.Fprintf(tw, "  %s\n", n)
	}

	fmt.Fprintln(tw, "\nSTREAMS\tMESSAGES\tBYTES\tLEADER\tREPLICAS")
	for _, name := range listedStreams {
		s, err := js.Stream(ctx, name)
		if err != nil {
			fmt.Fprintf(tw, "  %s\t-\t-\t-\t%v\n", name, err)
			continue
		}
		info, err := s.Info(ctx)
		if err != nil {
			fmt.Fprintf(tw, "  %s\t-\t-\t-\t%v\n", name, err)
			continue
		}
		leader, replicas := "-", "-"
		if info.Cluster != nil {
			leader = info.Cluster.Leader
			var rs []string
			for _, r := range info.Cluster.Replicas {
				state := "current"
				switch {
				case r.Offline:
					state = "offline"
				case r.Active > 5*time.Second:
					state = fmt.Sprintf("not heard for %s", r.Active.Round(time.Second))
				case !r.Current:
					state = fmt.Sprintf("behind %d", r.Lag)
				}
				rs = append(rs, r.Name+" "+state)
			}
			replicas = strings.Join(rs, ", ")
		}
		fmt.Fprintf(tw, "  %s\t%d\t%d\t%s\t%s\n", name, info.State.Msgs, info.State.Bytes, leader, replicas)
	}

	fmt.Fprintln(tw, "\nCONSUMERS\tPENDING\tUNACKED\tREDELIVERED\tHOLDER")
	for _, stream := range []string{EventStream} {
		s, err := js.Stream(ctx, stream)
		if err != nil {
			continue
		}
		type row struct {
			partition  int // -1 for a consumer that is not a partition's
			name, text string
		}
		var rows []row
		lister := s.ListConsumers(ctx)
		for ci := range lister.Info() {
			holder := "-"
			p := -1
			if _, err := fmt.Sscanf(ci.Name[strings.LastIndex(ci.Name, "-")+1:], "%d", &p); err == nil && parts[p] != "" {
				holder = parts[p]
			}
			rows = append(rows, row{p, ci.Name, fmt.Sprintf("  %s/%s\t%d\t%d\t%d\t%s", stream, ci.Name, ci.NumPending, ci.NumAckPending, ci.NumRedelivered, holder)})
		}
		// events-2 before events-10.
		sort.Slice(rows, func(i, j int) bool {
			if rows[i].partition != rows[j].partition {
				return rows[i].partition < rows[j].partition
			}
			return rows[i].name < rows[j].name
		})
		for _, r := range rows {
			fmt.Fprintln(tw, r.text)
		}
	}

	fmt.Fprintln(tw, "\nPARTITION LEASES")
	ps := make([]int, 0, len(parts))
	for p := range parts {
		ps = append(ps, p)
	}
	sort.Ints(ps)
	byNode := map[string][]string{}
	for _, p := range ps {
		byNode[parts[p]] = append(byNode[parts[p]], fmt.Sprint(p))
	}
	names := make([]string, 0, len(byNode))
	for n := range byNode {
		names = append(names, n)
	}
	sort.Strings(names)
	for _, n := range names {
		fmt.Fprintf(tw, "  %s\t%d partitions\t%s\n", n, len(byNode[n]), strings.Join(byNode[n], " "))
	}
	discordStatus(ctx, js, tw, shards)
	return nil
}

type shardRow struct {
	shard                int
	node                 string
	since, renewed, read time.Time // read: the ages are as of then (the stream calls after it can take seconds)
}

// discordStatus writes the Discord shard leases (shard, node, how long
// held) and the session start budget a node last read, when the cluster
// runs Discord shards.
func discordStatus(ctx context.Context, js jetstream.JetStream, w io.Writer, shards []shardRow) {
	kv, err := js.KeyValue(ctx, IdentifyBucket)
	if err != nil && len(shards) == 0 {
		return // no node ran Discord shards
	}
	sort.Slice(shards, func(i, j int) bool { return shards[i].shard < shards[j].shard })
	fmt.Fprintln(w, "\nDISCORD SHARD LEASES\tNODE\tHELD FOR\tRENEWED")
	if len(shards) == 0 {
		fmt.Fprintln(w, "  (none held)")
	}
	for _, r := range shards {
		held := "-"
		if !r.since.IsZero() {
			held = r.read.Sub(r.since).Round(time.Second).String()
		}
		fmt.Fprintf(w, "  shard %d\t%s\t%s\t%s ago\n", r.shard, r.node, held, r.read.Sub(r.renewed).Round(time.Second))
	}
	if err != nil {
		return
	}
	e, err := kv.Get(ctx, budgetKey)
	if err != nil {
		return
	}
	var b Budget
	if json.Unmarshal(e.Value(), &b) != nil {
		return
	}
	fmt.Fprintf(w, "\nDISCORD IDENTIFY BUDGET\n  remaining %d of %d, resets in %s, max_concurrency %d, reserve %d (read by %s %s ago)\n",
		b.Remaining, b.Total, b.ResetAfter, b.MaxConcurrency, b.Reserve, b.Node, time.Since(b.At).Round(time.Second))
	if b.Refused {
		fmt.Fprintf(w, "  IDENTIFY REFUSED: remaining %d is below the reserve %d; shards stay disconnected until the budget resets\n", b.Remaining, b.Reserve)
	}
}

// listedStreams are the streams and buckets the status and the metrics
// report.
var listedStreams = []string{EventStream, "KV_" + OwnerBucket, "KV_" + LeaseBucket, "KV_" + PostedBucket,
	"KV_" + EscalationBucket, "KV_" + InboxBucket, "KV_" + MoodBucket, "KV_" + CatchUpBucket, "OBJ_" + KBBucket}
