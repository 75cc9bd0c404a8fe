package handoff_test

import (
	"context"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/einsatz/einsatz/adapters/slack"
	"github.com/einsatz/einsatz/adapters/slack/slacktest"
	"github.com/einsatz/einsatz/bot"
	"github.com/einsatz/einsatz/bot/bottest"
	"github.com/einsatz/einsatz/bot/escalation"
	"github.com/einsatz/einsatz/handlers/handoff"
	"github.com/einsatz/einsatz/storage"
)

const (
	slackHelp  = "C0HELP"
	slackStaff = "C0STAFF"
	slackMia   = "U0MIA"  // a member
	slackAnna  = "U0ANNA" // staff (slack.Options.StaffUsers)
)

// slackRig is the real core and Slack adapter against the fake workspace,
// with the hand-off wired as in main.go.
type slackRig struct {
	fake   *slacktest.Server
	core   *bot.Bot
	svc    *handoff.Service
	store  *storage.Store
	clock  *bottest.Clock
	scored atomic.Int32 // messages the sentiment stand-in saw
}

func startSlack(t *testing.T, opts handoff.Options) *slackRig {
	t.Helper()
	fake := slacktest.New(slacktest.Options{AckTimeout: 3 * time.Second, PingInterval: 100 * time.Millisecond})
	t.Cleanup(fake.Close)
	fake.AddChannel(slackHelp, "help", slacktest.Public)
	fake.AddChannel(slackStaff, "staff", slacktest.Private)
	fake.AddUser(slackMia, "mia")
	fake.AddUser(slackAnna, "anna")

	store, err := storage.Open(storage.Options{InMemory: true, Logger: discard})
	if err != nil {
		t.Fatal(err)
	}
	r := &slackRig{fake: fake, store: store, clock: bottest.NewClock(time.Now())}
	opts.Store, opts.Owners, opts.Clock, opts.Logger, opts.Text = storage.NewHandoff(store), store, r.clock, discard, text
	opts.StaffChannel = bot.ThreadRef{Platform: bot.PlatformSlack, ChannelID: slackStaff}
	opts.Poster = posterFunc(func(ctx context.Context, to bot.ThreadRef, rep bot.Reply) error { return r.core.Post(ctx, to, rep) })
	r.svc = handoff.New(opts)
	answer := bot.HandlerFunc(func(_ context.Context, ev *bot.Event) ([]bot.Reply, error) {
		return []bot.Reply{{Text: "answer: " + ev.Text}}, nil
	})
	router := bot.NewRouter(answer)
	for _, route := range r.svc.Routes() {
		router.Add(route)
	}
	sentiment := bot.ObserverFunc(func(_ context.Context, ev *bot.Event) error {
		if ev.Kind == bot.KindMessage && !ev.User.Bot {
			r.scored.Add(1)
		}
		return nil
	})
	r.core = bot.New(bot.Options{Store: store, Router: router, Observers: []bot.Observer{sentiment, r.svc}, Logger: discard, Clock: r.clock})
	a, err := slack.New(slack.Options{
		BotToken: fake.BotToken(), AppToken: fake.AppToken(), APIURL: fake.APIURL(),
		StaffUsers: []string{slackAnna}, Commands: router.Commands(), Logger: discard,
		PingTimeout: time.Second, NameWait: time.Second,
	})
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- r.core.Run(ctx, a) }()
	t.Cleanup(func() {
		cancel()
		<-done
		store.Close()
	})
	if !fake.WaitConnected(1, 10*time.Second) {
		t.Fatal("the adapter did not connect")
	}
	return r
}

// inThread is the bot's messages in the Slack thread of ts.
func (r *slackRig) inThread(channel, ts string) []slacktest.Message {
	var out []slacktest.Message
	for _, m := range r.fake.Posted() {
		if m.Channel == channel && m.ThreadTS == ts {
			out = append(out, m)
		}
	}
	return out
}

func slackTexts(msgs []slacktest.Message) string {
	var b strings.Builder
	for _, m := range msgs {
		b.WriteString(m.Text + "\n---\n")
	}
	return b.String()
}

// find is the first message whose text contains s.
func find(t *testing.T, msgs []slacktest.Message, s string) slacktest.Message {
	t.Helper()
	for _, m := range msgs {
		if strings.Contains(m.Text, s) {
			return m
		}
	}
	t.Fatalf("no message with %q in:\n%s", s, slackTexts(msgs))
	return slacktest.Message{}
}

// The hand-off end to end on the fake Slack: a mention in #help is
// answered in its thread; a staff reply there takes it over (AutoTakeover)
// and the bot stays silent for the member; a member's click on "Hand back"
// is refused; staff's click hands it back and the bot answers again.
func TestHandoffOnSlackStaffReply(t *testing.T) {
	r := startSlack(t, handoff.Options{AutoTakeover: true})
	ctx := context.Background()

	q := r.fake.Post(slackHelp, slackMia, "@einsatz How do I install it?", "")
	thread := bot.ThreadRef{Platform: bot.PlatformSlack, ChannelID: slackHelp, ThreadID: q}
	waitUntil(t, "the answer in the thread", func() bool {
		return strings.Contains(slackTexts(r.inThread(slackHelp, q)), "answer: How do I install it?")
	})

	r.fake.Post(slackHelp, slackAnna, "Hi Mia, I'll help you with that.", q)
	waitUntil(t, "the takeover notice", func() bool { return strings.Contains(slackTexts(r.inThread(slackHelp, q)), "TEXT:takeover") })
	if o, _ := r.store.Owner(ctx, thread); o.Staff != "anna" || !strings.Contains(o.By, "wrote in the thread") {
		t.Fatalf("owner after anna's reply = %+v", o)
	}
	notice := find(t, r.inThread(slackHelp, q), "TEXT:takeover")
	if labels := slacktest.ButtonLabels(notice); len(labels) != 1 || labels[0] != "Hand back to the bot" {
		t.Fatalf("takeover notice buttons = %q", labels)
	}

	before, silenced := r.scored.Load(), r.core.Stats().Silenced
	for _, s := range []string{"more details", "still broken", "@einsatz are you there?"} {
		r.fake.Post(slackHelp, slackMia, s, q)
	}
	waitUntil(t, "the member's messages observed", func() bool { return r.scored.Load() == before+3 })
	waitUntil(t, "the bot kept silent", func() bool { return r.core.Stats().Silenced == silenced+3 })
	if got := slackTexts(r.inThread(slackHelp, q)); strings.Count(got, "answer:") != 1 {
		t.Fatalf("the bot answered in the staff-owned thread:\n%s", got)
	}

	// A member cannot hand the thread back.
	if err := r.fake.Click(slackHelp, slackMia, notice.TS, "Hand back to the bot"); err != nil {
		t.Fatal(err)
	}
	waitUntil(t, "the refusal", func() bool { return strings.Contains(slackTexts(r.inThread(slackHelp, q)), "TEXT:staff") })
	if o, _ := r.store.Owner(ctx, thread); o.Staff != "anna" {
		t.Fatalf("owner after a member's hand-back click = %+v", o)
	}

	if err := r.fake.Click(slackHelp, slackAnna, notice.TS, "Hand back to the bot"); err != nil {
		t.Fatal(err)
	}
	waitUntil(t, "the release notice", func() bool { return strings.Contains(slackTexts(r.inThread(slackHelp, q)), "TEXT:release") })
	if o, _ := r.store.Owner(ctx, thread); !o.Bot() {
		t.Fatalf("owner after the hand-back = %+v", o)
	}
	r.fake.Post(slackHelp, slackMia, "one more question", q)
	waitUntil(t, "answering again", func() bool {
		return strings.Contains(slackTexts(r.inThread(slackHelp, q)), "answer: one more question")
	})
}

// A member asks for a person on Slack: one escalation in the staff channel
// with Take over / Dismiss; staff take over with the button (the member's
// thread gets the notice and the bot goes silent there) and hand back with
// the notice's button.
func TestHandoffOnSlackEscalationButton(t *testing.T) {
	r := startSlack(t, handoff.Options{AutoTakeover: true})
	ctx := context.Background()

	q := r.fake.Post(slackHelp, slackMia, "@einsatz I want to talk to a human please", "")
	thread := bot.ThreadRef{Platform: bot.PlatformSlack, ChannelID: slackHelp, ThreadID: q}
	waitUntil(t, "the user told help is coming", func() bool {
		return strings.Contains(slackTexts(r.inThread(slackHelp, q)), "TEXT:handoff_asked")
	})
	r.fake.Post(slackHelp, slackMia, "can I speak to a real person?", q)
	waitUntil(t, "told twice", func() bool {
		return strings.Count(slackTexts(r.inThread(slackHelp, q)), "TEXT:handoff_asked") == 2
	})
	var esc []slacktest.Message
	for _, m := range r.fake.Posted() {
		if m.Channel == slackStaff {
			esc = append(esc, m)
		}
	}
	if len(esc) != 1 {
		t.Fatalf("%d posts in the staff channel, want 1 escalation:\n%s", len(esc), slackTexts(esc))
	}
	if esc[0].ThreadTS != "" || !strings.HasPrefix(esc[0].Text, "Escalation (asked for a human): mia in slack/"+slackHelp) {
		t.Fatalf("escalation = %+v", esc[0])
	}
	if labels := slacktest.ButtonLabels(esc[0]); strings.Join(labels, "|") != "Take over|Dismiss" {
		t.Fatalf("escalation buttons = %q", labels)
	}

	if err := r.fake.Click(slackStaff, slackAnna, esc[0].TS, "Take over"); err != nil {
		t.Fatal(err)
	}
	waitUntil(t, "the takeover notice in the member's thread", func() bool {
		return strings.Contains(slackTexts(r.inThread(slackHelp, q)), "TEXT:takeover")
	})
	waitUntil(t, "the confirmation in the staff channel", func() bool {
		return strings.Contains(slackTexts(r.inThread(slackStaff, esc[0].TS)), "anna took over")
	})
	e, ok, _ := storage.NewHandoff(r.store).Escalation(ctx, thread)
	if !ok || e.Status != escalation.StatusClaimed || e.ClaimedBy != "anna" {
		t.Fatalf("escalation after Take over = %+v", e)
	}

	silenced := r.core.Stats().Silenced
	r.fake.Post(slackHelp, slackMia, "hello?", q)
	waitUntil(t, "the bot kept silent", func() bool { return r.core.Stats().Silenced == silenced+1 })
	if got := slackTexts(r.inThread(slackHelp, q)); strings.Contains(got, "answer: hello?") {
		t.Fatalf("the bot answered in the staff-owned thread:\n%s", got)
	}

	notice := find(t, r.inThread(slackHelp, q), "TEXT:takeover")
	if err := r.fake.Click(slackHelp, slackAnna, notice.TS, "Hand back to the bot"); err != nil {
		t.Fatal(err)
	}
	waitUntil(t, "the release notice", func() bool { return strings.Contains(slackTexts(r.inThread(slackHelp, q)), "TEXT:release") })
	if e, _, _ := storage.NewHandoff(r.store).Escalation(ctx, thread); e.Status != escalation.StatusClosed || !e.HandedBack {
		t.Fatalf("escalation after hand-back = %+v", e)
	}
	r.fake.Post(slackHelp, slackMia, "thanks, one more thing", q)
	waitUntil(t, "answering again", func() bool {
		return strings.Contains(slackTexts(r.inThread(slackHelp, q)), "answer: thanks, one more thing")
	})
}

// The takeover reaction on Slack, where reactions arrive by name: staff's
// reaction on the bot's answer takes the thread over.
func TestHandoffOnSlackReaction(t *testing.T) {
	for _, tt := range []struct {
		name, option, user string
		taken              bool
	}{
		{"staff, name configured", "raised_hand", slackAnna, true},
		{"member, name configured", "raised_hand", slackMia, false},
		{"staff, default ✋ (Slack sends raised_hand)", "✋", slackAnna, true},
		{"member, default ✋", "✋", slackMia, false},
	} {
		t.Run(tt.name, func(t *testing.T) {
			r := startSlack(t, handoff.Options{Reaction: tt.option})
			q := r.fake.Post(slackHelp, slackMia, "@einsatz How do I install it?", "")
			thread := bot.ThreadRef{Platform: bot.PlatformSlack, ChannelID: slackHelp, ThreadID: q}
			waitUntil(t, "the answer", func() bool { return len(r.inThread(slackHelp, q)) == 1 })
			// The adapter learns the answer's ts (and so its thread) when
			// chat.postMessage returns, just after the fake records it; a
			// person cannot react sooner.
			waitUntil(t, "the answer's post returned", func() bool { return r.fake.Unacked() == 0 && r.core.Stats().Queued == 0 })
			time.Sleep(150 * time.Millisecond)
			r.fake.React(slackHelp, tt.user, r.inThread(slackHelp, q)[0].TS, "raised_hand", false)
			silenced := r.core.Stats().Silenced
			r.fake.Post(slackHelp, slackMia, "and then?", q)
			if tt.taken {
				waitUntil(t, "the takeover notice", func() bool { return strings.Contains(slackTexts(r.inThread(slackHelp, q)), "TEXT:takeover") })
				waitUntil(t, "the follow-up silenced", func() bool { return r.core.Stats().Silenced == silenced+1 })
				if o, _ := r.store.Owner(context.Background(), thread); o.Staff != "anna" {
					t.Fatalf("owner = %+v", o)
				}
				return
			}
			waitUntil(t, "the follow-up answered", func() bool {
				return strings.Contains(slackTexts(r.inThread(slackHelp, q)), "answer: and then?")
			})
			if got := slackTexts(r.inThread(slackHelp, q)); strings.Contains(got, "TEXT:takeover") {
				t.Fatalf("taken over:\n%s", got)
			}
		})
	}
}
