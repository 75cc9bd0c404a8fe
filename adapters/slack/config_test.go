package slack_test

import (
	"context"
	"log/slog"
	"strings"
	"testing"
	"time"

	"github.com/einsatz/einsatz/adapters/slack"
	"github.com/einsatz/einsatz/adapters/slack/slacktest"
	"github.com/einsatz/einsatz/bot"
	botconfig "github.com/einsatz/einsatz/bot/config"
)

// The adapter built from the config names its platform once per log line
// (New adds it; OptionsFrom used to as well).
func TestOptionsFromLogsThePlatformOnce(t *testing.T) {
	fake := slacktest.New(slacktest.Options{})
	t.Cleanup(fake.Close)
	out := &syncBuffer{}
	cfg := &botconfig.Config{}
	cfg.Slack.BotToken, cfg.Slack.AppToken, cfg.Slack.APIURL = fake.BotToken(), fake.AppToken(), fake.APIURL()
	a, err := slack.New(slack.OptionsFrom(cfg, nil, slog.New(slog.NewTextHandler(out, nil))))
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- a.Run(ctx, sinkFunc(func(bot.Event) error { return nil })) }()
	t.Cleanup(func() { cancel(); <-done })
	deadline := time.Now().Add(5 * time.Second)
	for !strings.Contains(out.String(), "socket mode connected") {
		if time.Now().After(deadline) {
			t.Fatalf("no connection logged:\n%s", out.String())
		}
		time.Sleep(5 * time.Millisecond)
	}
	for _, line := range strings.Split(strings.TrimSpace(out.String()), "\n") {
		if n := strings.Count(line, "platform="); n != 1 {
			t.Errorf("%d platform attributes, want 1: %s", n, line)
		}
	}
}
