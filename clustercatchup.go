package main

import (
	"context"
	"log/slog"
	"time"

	"github.com/einsatz/einsatz/adapters/cli"
	"github.com/einsatz/einsatz/bot"
	"github.com/einsatz/einsatz/bot/catchup"
	"github.com/einsatz/einsatz/bot/config"
	"github.com/einsatz/einsatz/storage"
)

// catchUpMarks is where the catch-up's marks are kept: this node's store
// on one machine, the cluster's catch-up bucket in cluster mode
// (cluster/catchup.go), so that whichever node catches up after the
// cluster was down reads every node's marks.
func (c *clustered) catchUpMarks(ctx context.Context, cfg *config.Config, s *storage.Store) (catchup.Store, error) {
	if c == nil {
		return storage.NewCatchUp(s), nil
	}
	ctx, cancel := context.WithTimeout(ctx, time.Minute)
	defer cancel()
	cu, err := c.node.CatchUp(ctx, cfg.CatchUp.Window)
	if err != nil {
		return nil, err
	}
	c.catchUp = cu
	return cu, nil
}

// catchUpTask is the catch-up at start on one machine; in cluster mode
// one node at a time runs it, when every node was down.
func (c *clustered) catchUpTask(cfg *config.Config, a *app, adapters []bot.Adapter, log *slog.Logger) cli.Task {
	if c == nil || c.catchUp == nil {
		return catchUpTask(cfg, a, adapters, log)
	}
	var fetchers []catchup.Fetcher
	for _, ad := range adapters {
		if f, ok := ad.(catchup.Fetcher); ok {
			fetchers = append(fetchers, f)
		}
	}
	return cli.Task{Run: c.catchUp.Task(fetchers),
		Failed: "catch-up after the cluster was down stopped: some messages posted while every node was down may stay unanswered"}
}
