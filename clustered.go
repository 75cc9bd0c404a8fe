package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"time"

	natsserver "github.com/nats-io/nats-server/v2/server"
	"github.com/prometheus/client_golang/prometheus"

	"github.com/einsatz/einsatz/adapters/cli"
	"github.com/einsatz/einsatz/adapters/discord"
	"github.com/einsatz/einsatz/bot"
	"github.com/einsatz/einsatz/bot/config"
	"github.com/einsatz/einsatz/bot/escalation"
	"github.com/einsatz/einsatz/bot/mood"
	"github.com/einsatz/einsatz/bot/personal"
	"github.com/einsatz/einsatz/bot/request"
	"github.com/einsatz/einsatz/cluster"
	"github.com/einsatz/einsatz/handlers/handoff"
	"github.com/einsatz/einsatz/storage"
)

// clustered is this node's part in a cluster (cluster.mode embedded or
// external); nil with cluster.mode off, and then every method gives what
// one machine uses.
type clustered struct {
	srv  *natsserver.Server // embedded only
	node *cluster.Node
	kb   *cluster.KB // the shared knowledge base (clusterkb.go)
	// catchUp keeps the catch-up marks and runs the catch-up (clustercatchup.go).
	catchUp *cluster.CatchUp
}

// joinCluster starts the embedded NATS server when configured and joins
// the cluster; nil when cluster.mode is off.
func joinCluster(ctx context.Context, cfg *config.Config, log *slog.Logger) (*clustered, error) {
	if !cfg.Cluster.On() {
		return nil, nil
	}
	s := cluster.FromConfig(cfg)
	c := &clustered{}
	if s.Mode == config.ClusterEmbedded {
		srv, err := cluster.StartServer(s)
		if err != nil {
			return nil, err
		}
		c.srv = srv
	}
	ctx, cancel := context.WithTimeout(ctx, time.Minute)
	defer cancel()
	node, err := cluster.Connect(ctx, cluster.Options{Settings: s, Logger: log})
	if err != nil {
		c.close()
		return nil, err
	}
	c.node = node
	log.Info("joined the cluster", "mode", s.Mode, "node", s.Node, "partitions", s.Partitions, "replicas", s.Replicas)
	return c, nil
}

// coreStore is the core's store: thread owners from the cluster.
func (c *clustered) coreStore(s *storage.Store) bot.Store {
	if c == nil {
		return s
	}
	return cluster.Store{Store: s, Owners: c.node.Owners}
}

// owners keeps thread ownership for the hand-off: shared in a cluster.
func (c *clustered) owners(s *storage.Store) handoff.Owners {
	if c == nil {
		return s
	}
	return c.node.Owners
}

// sharedState is where the features keep what every node must see: the
// cluster's buckets in cluster mode (cluster/escalations.go, inbox.go,
// mood.go), this node's store on one machine.
type sharedState struct {
	escalations escalation.Store
	inbox       request.Store
	mood        mood.Store
	// parts export and erase a person's shared records (none on one
	// machine: storage.Parts covers the store).
	parts []personal.Part
}

// shared opens the shared state.
func (c *clustered) shared(ctx context.Context, cfg *config.Config, s *storage.Store) (sharedState, error) {
	if c == nil {
		return sharedState{escalations: storage.NewHandoff(s), inbox: storage.NewInbox(s), mood: storage.NewSentiment(s)}, nil
	}
	ctx, cancel := context.WithTimeout(ctx, time.Minute)
	defer cancel()
	esc, err := c.node.Escalations(ctx, cfg.Storage.MessageTTL) // kept as long as on one machine
	if err != nil {
		return sharedState{}, err
	}
	ib, err := c.node.Inbox(ctx)
	if err != nil {
		return sharedState{}, err
	}
	md, err := c.node.Mood(ctx, storage.NewSentiment(s))
	if err != nil {
		return sharedState{}, err
	}
	return sharedState{escalations: esc, inbox: ib, mood: md, parts: []personal.Part{esc, ib}}, nil
}

// adapters sends the platforms' events through the cluster's streams.
func (c *clustered) adapters(as []bot.Adapter) []bot.Adapter {
	if c == nil {
		return as
	}
	return c.node.Adapters(as...)
}

// discordGateway runs Discord's gateway shards by the cluster's leases
// (discord.shards, paced and guarded by discord.identify_reserve); nil on
// one machine, where the adapter runs its one session.
func (c *clustered) discordGateway(cfg *config.Config) func(context.Context, *discord.Adapter) error {
	if c == nil {
		return nil
	}
	o := cluster.ShardOptions{Shards: cfg.Discord.Shards, Reserve: cfg.Discord.IdentifyReserve}
	return func(ctx context.Context, a *discord.Adapter) error {
		return c.node.RunShards(ctx, discordShards{a}, o)
	}
}

// discordShards is the Discord adapter as the cluster's shard leases see it.
type discordShards struct{ a *discord.Adapter }

func (d discordShards) Limits(ctx context.Context) (cluster.GatewayLimits, error) {
	l, err := d.a.GatewayLimits(ctx)
	return cluster.GatewayLimits(l), err
}

func (d discordShards) OpenShard(ctx context.Context, shard, shards int) (func(), error) {
	closeShard, err := d.a.OpenShard(ctx, shard, shards)
	if discord.IsTokenError(err) {
		return nil, fmt.Errorf("%w: %w", cluster.ErrShardRefused, err)
	}
	return closeShard, err
}

// tasks are the partition workers.
func (c *clustered) tasks(core *bot.Bot) []cli.Task {
	if c == nil {
		return nil
	}
	return []cli.Task{{Run: func(ctx context.Context) error { return c.node.Run(ctx, core) },
		Failed: "cluster: partition workers stopped"}}
}

// register adds the cluster's metrics (streams, consumers, JetStream
// operations) to the registry; nothing with cluster.mode off.
func (c *clustered) register(reg prometheus.Registerer) {
	if c != nil {
		reg.MustRegister(c.node.Collector())
	}
}

// problems are the cluster's reasons for /readyz to say not ready; nil
// with cluster.mode off.
func (c *clustered) problems() func(context.Context) []string {
	if c == nil {
		return nil
	}
	return c.node.Problems
}

// once runs task on one node of the cluster at a time (background work
// that posts); on one machine it runs as it is.
func (c *clustered) once(name string, task func(context.Context) error) func(context.Context) error {
	if c == nil {
		return task
	}
	return c.node.Singleton(name, task)
}

// close leaves the cluster after the core drained: leases go back, then
// the embedded server stops.
func (c *clustered) close() error {
	if c == nil {
		return nil
	}
	var err error
	if c.node != nil {
		err = c.node.Close()
	}
	if c.srv != nil {
		c.srv.Shutdown()
	}
	return err
}

// clusterStatus prints `einsatz cluster status` from the configured
// cluster (a running embedded node's client port, or the external URL).
func clusterStatus(ctx context.Context, cfg *config.Config, w io.Writer) error {
	if !cfg.Cluster.On() {
		return errors.New("cluster.mode is off: this installation runs on one machine")
	}
	s := cluster.FromConfig(cfg)
	nc, err := cluster.Dial(s)
	if err != nil {
		return fmt.Errorf("%w (is a node running?)", err)
	}
	defer nc.Close()
	ctx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	return cluster.Status(ctx, nc, w)
}
