package web_test

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/einsatz/einsatz/adapters/slack"
	"github.com/einsatz/einsatz/adapters/slack/slacktest"
	"github.com/einsatz/einsatz/adapters/web"
	"github.com/einsatz/einsatz/bot"
	"github.com/einsatz/einsatz/bot/bottest"
	"github.com/einsatz/einsatz/storage"
)

type warnings struct {
	mu   sync.Mutex
	msgs []string
}

func (w *warnings) Warn(msg string, args ...any) {
	w.mu.Lock()
	defer w.mu.Unlock()
	w.msgs = append(w.msgs, msg+" "+fmt.Sprint(args...))
}

// Slack's channel names reach the dashboard's name cache: the unmodified
// slack-go client asks the fake workspace's conversations.info once per
// channel (public and private), again after a day; direct messages, other
// platforms and events that carry a name are not looked up; a failed
// lookup (missing scope, unknown channel) is logged and stores nothing.
func TestSlackChannelNamesCached(t *testing.T) {
	fake := slacktest.New(slacktest.Options{})
	t.Cleanup(fake.Close)
	fake.AddChannel("C0GENERAL", "general", slacktest.Public)
	fake.AddChannel("G0PRIVATE", "product-team", slacktest.Private)
	sa, err := slack.New(slack.Options{Mode: slack.ModeSocket, BotToken: fake.BotToken(), AppToken: fake.AppToken(),
		SigningSecret: fake.SigningSecret(), APIURL: fake.APIURL(), Logger: discard()})
	if err != nil {
		t.Fatal(err)
	}
	store, err := storage.Open(storage.Options{InMemory: true, Logger: discard()})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { store.Close() })
	names := storage.NewNames(store)
	clock := bottest.NewClock(time.Date(2026, 12, 7, 9, 0, 0, 0, time.UTC))
	warn := &warnings{}
	cn := web.NewChannelNames(names, bot.PlatformSlack, sa.ChannelName, clock, warn)
	ctx := context.Background()
	see := func(platform, channel, name string) {
		t.Helper()
		if err := cn.Observe(ctx, &bot.Event{Kind: bot.KindMessage, Platform: platform, ChannelID: channel, ChannelName: name, Time: clock.Now()}); err != nil {
			t.Fatal(err)
		}
	}
	infoCalls := func() []string {
		var out []string
		for _, c := range fake.Calls("conversations.info") {
			out = append(out, c.Params["channel"])
		}
		return out
	}

	see(bot.PlatformSlack, "C0GENERAL", "")
	see(bot.PlatformSlack, "C0GENERAL", "") // asked once
	see(bot.PlatformSlack, "G0PRIVATE", "")
	see(bot.PlatformSlack, "D0ALICE", "")             // a direct message: no name
	see(bot.PlatformSlack, "C0CMD", "from-a-command") // the event names it (RecordNames keeps that)
	see(bot.PlatformDiscord, "123", "")
	see(bot.PlatformSlack, "C0MISSING", "")
	cn.Wait()
	book, err := names.Book(ctx, storage.NameChannel)
	if err != nil {
		t.Fatal(err)
	}
	if book["slack/C0GENERAL"] != "general" || book["slack/G0PRIVATE"] != "product-team" || len(book) != 2 {
		t.Errorf("channel names = %v, want general and product-team", book)
	}
	if got := infoCalls(); len(got) != 3 || !slices.Contains(got, "C0GENERAL") || !slices.Contains(got, "G0PRIVATE") || !slices.Contains(got, "C0MISSING") {
		t.Errorf("conversations.info asked for %q, want each of C0GENERAL, G0PRIVATE, C0MISSING once", got)
	}
	if w := strings.Join(warn.msgs, "\n"); !strings.Contains(w, "C0MISSING") || !strings.Contains(w, "channel_not_found") {
		t.Errorf("warnings = %q, want the failed lookup of C0MISSING", w)
	}

	// A renamed channel shows its new name after a day; without
	// channels:read the lookup fails, names the scope and keeps the old name.
	fake.AddChannel("C0GENERAL", "announcements", slacktest.Public)
	clock.Advance(time.Hour)
	see(bot.PlatformSlack, "C0GENERAL", "") // not due yet
	clock.Advance(24 * time.Hour)
	see(bot.PlatformSlack, "C0GENERAL", "")
	cn.Wait()
	var scopes []string
	for _, s := range slacktest.AllScopes {
		if s != "groups:read" {
			scopes = append(scopes, s)
		}
	}
	fake.SetScopes(scopes...)
	see(bot.PlatformSlack, "G0PRIVATE", "")
	cn.Wait()
	book, _ = names.Book(ctx, storage.NameChannel)
	if book["slack/C0GENERAL"] != "announcements" || book["slack/G0PRIVATE"] != "product-team" {
		t.Errorf("after the rename: %v", book)
	}
	if n := len(infoCalls()); n != 5 {
		t.Errorf("%d conversations.info calls, want 5 (3, the renamed channel once, the private one without scope)", n)
	}
	if w := strings.Join(warn.msgs, "\n"); !strings.Contains(w, "groups:read") {
		t.Errorf("warnings do not name the missing scope: %q", w)
	}
}
