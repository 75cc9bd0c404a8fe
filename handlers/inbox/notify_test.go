package inbox_test

import (
	"context"
	"errors"
	"strings"
	"sync"
	"testing"

	"github.com/einsatz/einsatz/bot"
	"github.com/einsatz/einsatz/bot/request"
	"github.com/einsatz/einsatz/handlers/inbox"
)

type dm struct {
	Platform, User string
	Reply          bot.Reply
}

// dmRecorder is a fake DirectMessenger; DMs to users in fail fail.
type dmRecorder struct {
	mu   sync.Mutex
	dms  []dm
	fail map[string]bool
}

func (d *dmRecorder) DirectMessage(_ context.Context, platform, userID string, r bot.Reply) error {
	d.mu.Lock()
	defer d.mu.Unlock()
	if d.fail[userID] {
		return errors.New("cannot send messages to this user")
	}
	d.dms = append(d.dms, dm{platform, userID, r})
	return nil
}

func (d *dmRecorder) take() []dm {
	d.mu.Lock()
	defer d.mu.Unlock()
	out := d.dms
	d.dms = nil
	return out
}

func notifyEvent(platform, user, args, lang string) *bot.Event {
	return &bot.Event{Key: platform + ":notify:" + user + args, Kind: bot.KindCommand, Command: inbox.CommandNotify, Args: args,
		Platform: platform, ChannelID: "gen", User: bot.User{Platform: platform, ID: user, Name: user}, Lang: lang}
}

func runNotify(t *testing.T, svc *inbox.Service, ev *bot.Event) bot.Reply {
	t.Helper()
	for _, r := range svc.Routes() {
		if r.Match(ev) {
			if r.Spec == nil || r.Spec.Name != "notify" || r.Spec.ArgName != "on_or_off" || !r.BypassGate {
				t.Errorf("notify route = %+v", r)
			}
			replies, err := r.Handler.Handle(context.Background(), ev)
			if err != nil || len(replies) != 1 || !replies[0].Notice {
				t.Fatalf("/notify %s: %+v, err %v; want one notice", ev.Args, replies, err)
			}
			return replies[0]
		}
	}
	t.Fatal("no route for /notify")
	return bot.Reply{}
}

// Test: /notify on stores the opt-in and confirms (English and German);
// on a status change each person who asked (by a mention or a vote) and
// opted in on that platform gets exactly one DM naming the item, status
// and note, however often they asked; people who did not opt in, opt-ins
// on another platform and opted-in people who never asked get none; a
// failing DM is skipped without failing the change; /notify off removes
// the opt-in and the next change sends that person nothing.
func TestNotifyOptInDirectMessages(t *testing.T) {
	dms := &dmRecorder{fail: map[string]bool{"frank": true}}
	f := newFixture(t, func(o *inbox.Options) { o.DirectMessenger = dms })
	ctx := context.Background()

	if r := runNotify(t, f.svc, notifyEvent("discord", "alice", "", "en")); !strings.Contains(r.Text, "/notify on") {
		t.Errorf("/notify without argument = %q, want the usage", r.Text)
	}
	if r := runNotify(t, f.svc, notifyEvent("discord", "alice", "on", "en")); !strings.Contains(r.Text, "direct message") {
		t.Errorf("/notify on = %q", r.Text)
	}
	if r := runNotify(t, f.svc, notifyEvent("slack", "carol", "an", "de")); !strings.Contains(r.Text, "Direktnachricht") {
		t.Errorf("/notify an (German) = %q", r.Text)
	}
	runNotify(t, f.svc, notifyEvent("discord", "erin", "on", "en"))  // opted in, never asks
	runNotify(t, f.svc, notifyEvent("discord", "frank", "on", "en")) // opted in, DMs fail
	if r := runNotify(t, f.svc, notifyEvent("discord", "alice", "", "en")); !strings.Contains(r.Text, "/notify off") {
		t.Errorf("/notify without argument when on = %q", r.Text)
	}
	for _, u := range []struct{ platform, user string }{{"discord", "alice"}, {"slack", "carol"}} {
		if on, err := f.store.OptedIn(ctx, u.platform, u.user); err != nil || !on {
			t.Fatalf("%s/%s opted in = %v, %v", u.platform, u.user, on, err)
		}
	}
	if on, _ := f.store.OptedIn(ctx, "slack", "alice"); on {
		t.Fatal("an opt-in on Discord counts on Slack")
	}

	// alice asks twice on Discord and once as a Slack user with the same
	// id; bob (not opted in) and frank ask too; carol votes on Slack.
	for _, m := range []*bot.Event{
		message("discord", "gen", "m1", "alice", "please add dark mode"),
		message("discord", "gen", "m2", "alice", "please add dark mode"),
		message("discord", "gen", "m3", "bob", "please add dark mode"),
		message("discord", "gen", "m4", "frank", "please add dark mode"),
		message("slack", "C1", "1.1", "alice", "please add dark mode"),
	} {
		if err := f.svc.Observe(ctx, m); err != nil {
			t.Fatal(err)
		}
	}
	if _, _, err := f.svc.Vote(ctx, 1, request.Vote{Platform: "slack", UserID: "carol", Name: "carol", Time: t0}); err != nil {
		t.Fatal(err)
	}
	if items, _ := f.store.Items(ctx); len(items) != 1 || len(items[0].Mentions) != 5 {
		t.Fatalf("want one item with 5 mentions, got %+v", items)
	}
	postsBefore := len(f.post.all())

	if _, err := f.svc.SetStatus(ctx, 1, request.StatusPlanned, "Coming in March", "sam"); err != nil {
		t.Fatal(err)
	}
	got := dms.take()
	if len(got) != 2 {
		t.Fatalf("DMs = %+v, want one to discord/alice and one to slack/carol", got)
	}
	who := map[string]bot.Reply{}
	for _, d := range got {
		who[d.Platform+"/"+d.User] = d.Reply
	}
	for _, k := range []string{"discord/alice", "slack/carol"} {
		r, ok := who[k]
		if !ok {
			t.Errorf("no DM to %s: %+v", k, got)
			continue
		}
		if !strings.Contains(r.Text, "#1") || !strings.Contains(r.Text, "planned") || !strings.Contains(r.Text, "Coming in March") || !strings.Contains(r.Text, "dark mode") {
			t.Errorf("DM to %s = %q, want the item, status and note", k, r.Text)
		}
	}
	if posts := f.post.all()[postsBefore:]; len(posts) != 5 {
		t.Errorf("thread posts = %d, want one in each of the 5 threads as before (DMs are extra)", len(posts))
	}

	// alice turns it off: the next change DMs only carol.
	if r := runNotify(t, f.svc, notifyEvent("discord", "alice", "off", "en")); !strings.Contains(r.Text, "no more") {
		t.Errorf("/notify off = %q", r.Text)
	}
	if on, _ := f.store.OptedIn(ctx, "discord", "alice"); on {
		t.Fatal("alice still opted in after /notify off")
	}
	if _, err := f.svc.SetStatus(ctx, 1, request.StatusInProgress, "", "sam"); err != nil {
		t.Fatal(err)
	}
	if got := dms.take(); len(got) != 1 || got[0].User != "carol" || !strings.Contains(got[0].Reply.Text, "in progress") {
		t.Errorf("DMs after alice's off = %+v, want one to carol", got)
	}
}

// Test: without a DirectMessenger /notify on says DMs are unavailable and
// stores nothing, and status changes work as before.
func TestNotifyWithoutDirectMessenger(t *testing.T) {
	f := newFixture(t, nil)
	ctx := context.Background()
	if r := runNotify(t, f.svc, notifyEvent("discord", "alice", "on", "en")); !strings.Contains(r.Text, "not available") {
		t.Errorf("/notify on without DMs = %q", r.Text)
	}
	if on, _ := f.store.OptedIn(ctx, "discord", "alice"); on {
		t.Error("opt-in stored although DMs are unavailable")
	}
	f.svc.Observe(ctx, message("discord", "gen", "m1", "alice", "please add dark mode"))
	if _, err := f.svc.SetStatus(ctx, 1, request.StatusPlanned, "", "sam"); err != nil {
		t.Fatal(err)
	}
}
