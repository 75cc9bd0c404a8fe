package main

import (
	"context"
	"log/slog"

	"github.com/einsatz/einsatz/adapters/cli"
	"github.com/einsatz/einsatz/bot"
	"github.com/einsatz/einsatz/bot/catchup"
	"github.com/einsatz/einsatz/bot/config"
	"github.com/einsatz/einsatz/storage"
)

// catchUpTask answers, once at start, what was posted while the bot was
// down, through the adapters that can fetch it (Discord, Slack).
func catchUpTask(cfg *config.Config, a *app, adapters []bot.Adapter, log *slog.Logger) cli.Task {
	var fetchers []catchup.Fetcher
	for _, ad := range adapters {
		if f, ok := ad.(catchup.Fetcher); ok {
			fetchers = append(fetchers, f)
		}
	}
	return cli.Task{
		Run: func(ctx context.Context) error {
			return catchup.Run(ctx, storage.NewCatchUp(a.store), fetchers, cfg.CatchUp.Window, nil, log.With("component", "catchup"))
		},
		Failed: "catch-up after the restart incomplete: some messages posted while the bot was down may stay unanswered",
	}
}
