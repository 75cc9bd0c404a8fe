package discord_test

import (
	"context"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/http/httputil"
	"net/url"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/einsatz/einsatz/adapters/discord"
	"github.com/einsatz/einsatz/adapters/discord/discordtest"
	"github.com/einsatz/einsatz/bot"
)

// Network trouble at start is retried after RetryDelay, doubling, and the
// adapter then connects.
func TestStartRetriedAfterServerErrors(t *testing.T) {
	t.Parallel()
	srv := discordtest.New(t, discordtest.Options{})
	target, err := url.Parse(srv.URL)
	if err != nil {
		t.Fatal(err)
	}
	var failed atomic.Int32
	proxy := httputil.NewSingleHostReverseProxy(target)
	front := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if strings.HasSuffix(r.URL.Path, "/users/@me") && failed.Add(1) <= 2 {
			http.Error(w, "internal error", http.StatusInternalServerError)
			return
		}
		proxy.ServeHTTP(w, r)
	}))
	t.Cleanup(front.Close)

	logs := &syncBuffer{}
	a, err := discord.New(discord.Options{
		Token:      srv.Token,
		APIURL:     front.URL,
		Logger:     slog.New(slog.NewTextHandler(logs, nil)),
		RetryDelay: 10 * time.Millisecond,
	})
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- a.Run(ctx, sinkFunc(func(bot.Event) error { return nil })) }()
	t.Cleanup(func() {
		cancel()
		<-done
	})
	if !srv.WaitConnected(5 * time.Second) {
		t.Fatalf("adapter did not connect; logs:\n%s", logs.String())
	}
	got := logs.String()
	for _, want := range []string{"checking the bot token failed; trying again", "in=10ms", "in=20ms"} {
		if !strings.Contains(got, want) {
			t.Errorf("logs lack %q:\n%s", want, got)
		}
	}
}
