package discord_test

import (
	"bytes"
	"context"
	"log/slog"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/einsatz/einsatz/adapters/discord"
	"github.com/einsatz/einsatz/adapters/discord/discordtest"
	"github.com/einsatz/einsatz/bot"
	"github.com/einsatz/einsatz/bot/config"
)

// lockedBuffer is a log destination the adapter's goroutines share.
type lockedBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *lockedBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *lockedBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}

// The adapter built from the config names its platform once per log line
// (New adds it; OptionsFrom used to as well).
func TestOptionsFromLogsThePlatformOnce(t *testing.T) {
	srv := discordtest.New(t, discordtest.Options{})
	var out lockedBuffer
	cfg := &config.Config{}
	cfg.Discord.Token, cfg.Discord.APIURL, cfg.Discord.GuildIDs = srv.Token, srv.URL, []string{srv.Guild}
	a, err := discord.New(discord.OptionsFrom(cfg, nil, slog.New(slog.NewTextHandler(&out, nil))))
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- a.Run(ctx, sinkFunc(func(bot.Event) error { return nil })) }()
	t.Cleanup(func() { cancel(); <-done })
	deadline := time.Now().Add(5 * time.Second)
	for !strings.Contains(out.String(), "connected to the Discord gateway") {
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
