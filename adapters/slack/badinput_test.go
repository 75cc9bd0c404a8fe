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
)

// runAlone runs only the adapter (no core) and returns Run's error.
func runAlone(t *testing.T, fake *slacktest.Server, opts slack.Options) (error, string) {
	t.Helper()
	logs := &syncBuffer{}
	opts.Logger = slog.New(slog.NewTextHandler(logs, nil))
	opts.APIURL = fake.APIURL()
	opts.PingTimeout = time.Second
	a, err := slack.New(opts)
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	err = a.Run(ctx, sinkFunc(func(bot.Event) error { return nil }))
	if ctx.Err() != nil {
		t.Fatalf("Run did not give up on a bad token; logs:\n%s", logs.String())
	}
	return err, logs.String()
}

type sinkFunc func(bot.Event) error

func (f sinkFunc) Submit(ev bot.Event) error { return f(ev) }

// Swapped or wrong tokens end Run with an error, and the log says what to fix.
func TestBadTokens(t *testing.T) {
	fake := slacktest.New(slacktest.Options{})
	t.Cleanup(fake.Close)
	tests := []struct {
		name     string
		bot, app string
		want     string
	}{
		{"swapped", fake.AppToken(), fake.BotToken(), "not swapped"},
		{"bot token in app_token", fake.BotToken(), fake.BotToken(), "slack.app_token must be the app-level token"},
		{"wrong bot token", "xoxb-nope", fake.AppToken(), "slack.bot_token (SLACK_BOT_TOKEN) is not valid"},
		{"wrong app token", fake.BotToken(), "xapp-nope", "slack.app_token (SLACK_APP_TOKEN) is not valid"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err, logs := runAlone(t, fake, slack.Options{BotToken: tt.bot, AppToken: tt.app})
			if err == nil {
				t.Fatal("Run returned nil")
			}
			if !strings.Contains(logs, tt.want) {
				t.Errorf("log lacks %q:\n%s", tt.want, logs)
			}
		})
	}
}

func TestNewRejectsIncompleteOptions(t *testing.T) {
	for _, o := range []slack.Options{
		{Mode: "socket", BotToken: "xoxb-1"},                         // no app token
		{Mode: "http", BotToken: "xoxb-1"},                           // no signing secret
		{Mode: "rtm", BotToken: "xoxb-1", AppToken: "xapp-1"},        // unknown mode
		{BotToken: "xoxb-1", AppToken: "xapp-1", APIURL: "http://x"}, // no trailing slash
	} {
		if _, err := slack.New(o); err == nil {
			t.Errorf("New(%+v) accepted", o)
		}
	}
}

// A missing scope fails the answer with a log line naming the scope; the
// user's message is still in the thread's history (not lost).
func TestMissingScopeLoggedMessageKept(t *testing.T) {
	h := start(t, config{})
	all := append([]string(nil), slacktest.AllScopes...)
	var without []string
	for _, s := range all {
		if s != "chat:write" {
			without = append(without, s)
		}
	}
	h.fake.SetScopes(without...)
	ts := h.fake.Post(general, alice, "@einsatz anyone?", "")
	waitFor(t, 5*time.Second, "the failed send", func() bool { return h.bot.Stats().SendErrors == 1 })
	if !strings.Contains(h.logs.String(), "the app lacks the scope chat:write") {
		t.Errorf("log does not name the missing scope:\n%s", h.logs.String())
	}
	turns, err := h.store.History(context.Background(), bot.ThreadRef{Platform: "slack", ChannelID: general, ThreadID: ts}, 10)
	if err != nil || len(turns) != 1 || turns[0].Text != "anyone?" {
		t.Errorf("history = %+v, %v: the user's message should be kept", turns, err)
	}
}

// A channel the bot cannot see: the answer fails with advice to invite it.
func TestChannelNotFoundLogged(t *testing.T) {
	h := start(t, config{})
	h.fake.Post("C0UNKNOWN", alice, "@einsatz hello?", "")
	waitFor(t, 5*time.Second, "the failed send", func() bool { return h.bot.Stats().SendErrors == 1 })
	if !strings.Contains(h.logs.String(), "invite it") {
		t.Errorf("log lacks the advice:\n%s", h.logs.String())
	}
}

// A 429 with Retry-After is waited out and the answer posted once.
func TestRateLimitedSendRetried(t *testing.T) {
	h := start(t, config{})
	h.fake.RateLimit("chat.postMessage", 1, 1)
	start := time.Now()
	ts := h.fake.Post(general, alice, "@einsatz busy?", "")
	posted := h.fake.WaitPosted(1, 5*time.Second)
	if len(posted) != 1 || posted[0].ThreadTS != ts {
		t.Fatalf("posted %+v", posted)
	}
	if d := time.Since(start); d < time.Second {
		t.Errorf("answered after %v: Retry-After (1s) not honoured", d)
	}
	calls := h.fake.Calls("chat.postMessage")
	if len(calls) != 2 || calls[0].Error != "ratelimited" || calls[1].Error != "" {
		t.Errorf("chat.postMessage calls %+v, want one 429 then one success", calls)
	}
	if h.bot.Stats().SendErrors != 0 {
		t.Error("a send error was counted")
	}
}

// A failed auth.test that is not about the token (Slack hiccups) is tried
// again after a second, and the adapter then connects.
func TestTransientAuthTestRetried(t *testing.T) {
	h := start(t, config{setup: func(f *slacktest.Server) { f.FailNext("auth.test", "internal_error") }})
	logs := h.logs.String()
	if !strings.Contains(logs, "auth.test failed; retrying") || !strings.Contains(logs, "in=1s") {
		t.Errorf("logs lack the retry after 1s:\n%s", logs)
	}
	if n := len(h.fake.Calls("auth.test")); n != 2 {
		t.Errorf("auth.test called %d times, want 2", n)
	}
}
