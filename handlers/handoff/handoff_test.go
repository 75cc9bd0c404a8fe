package handoff_test

import (
	"context"
	"fmt"
	"log/slog"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/einsatz/einsatz/adapters/console/consoletest"
	"github.com/einsatz/einsatz/bot"
	"github.com/einsatz/einsatz/bot/bottest"
	"github.com/einsatz/einsatz/bot/config"
	"github.com/einsatz/einsatz/bot/escalation"
	"github.com/einsatz/einsatz/handlers/handoff"
	"github.com/einsatz/einsatz/storage"
)

var discard = slog.New(slog.DiscardHandler)

// text stands for the configured texts: each key as itself, but the staff
// mark as the real built-in word of the language ("staff", "Team").
func text(lang, key string) string {
	if key == config.TextStaffMark {
		return config.Texts{}.Get(lang, key)
	}
	return "TEXT:" + key
}

// poster records posts to the staff channel and forwards thread notices to
// the core, as bot.Bot.Post does.
type poster struct {
	mu    sync.Mutex
	posts []bot.Reply
	core  *bot.Bot
}

func (p *poster) Post(ctx context.Context, to bot.ThreadRef, r bot.Reply) error {
	if to.ChannelID == "staff" {
		p.mu.Lock()
		p.posts = append(p.posts, r)
		p.mu.Unlock()
		return nil
	}
	return p.core.Post(ctx, to, r)
}

func (p *poster) staffPosts() []bot.Reply {
	p.mu.Lock()
	defer p.mu.Unlock()
	return append([]bot.Reply(nil), p.posts...)
}

type rig struct {
	h       *consoletest.Harness
	core    *bot.Bot
	svc     *handoff.Service
	store   *storage.Store
	clock   *bottest.Clock
	poster  *poster
	observe atomic.Int32 // messages the sentiment stand-in saw
}

// start runs a real core over the console with the hand-off wired as in
// main.go: its routes, its observer and its Escalate.
func start(t *testing.T, store *storage.Store, opts handoff.Options) *rig {
	t.Helper()
	if store == nil {
		var err error
		store, err = storage.Open(storage.Options{InMemory: true, Logger: discard})
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { store.Close() })
	}
	r := &rig{store: store, clock: bottest.NewClock(time.Date(2026, 11, 26, 10, 0, 0, 0, time.UTC)), poster: &poster{}}
	opts.Store, opts.Owners, opts.History, opts.Poster, opts.Clock, opts.Logger = storage.NewHandoff(store), store, store, r.poster, r.clock, discard
	if opts.Text == nil {
		opts.Text = text
	}
	opts.StaffChannel = bot.ThreadRef{Platform: "console", ChannelID: "staff"}
	r.svc = handoff.New(opts)
	answer := bot.HandlerFunc(func(_ context.Context, ev *bot.Event) ([]bot.Reply, error) {
		if strings.Contains(ev.Text, "unknown") {
			return nil, r.svc.Escalate(context.Background(), ev, "dont_know", "")
		}
		return []bot.Reply{{Text: "answer to " + ev.Text}}, nil
	})
	router := bot.NewRouter(answer)
	for _, route := range r.svc.Routes() {
		router.Add(route)
	}
	sentiment := bot.ObserverFunc(func(context.Context, *bot.Event) error { r.observe.Add(1); return nil })
	r.core = bot.New(bot.Options{Store: store, Router: router, Observers: []bot.Observer{sentiment, r.svc}, Logger: discard, Clock: r.clock})
	r.core.Reclaim(r.svc)
	r.poster.core = r.core
	r.h = consoletest.Start(t, func(ctx context.Context, a bot.Adapter) error { return r.core.Run(ctx, a) })
	return r
}

var mainThread = bot.ThreadRef{Platform: "console", ChannelID: "console", ThreadID: "main"}

// waitHandled waits until n events have started through the pipeline and
// every event in progress has finished, its observers included (Handled
// counts an event when it starts).
func (r *rig) waitHandled(t *testing.T, n int64) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for r.core.Stats().Handled < n {
		if time.Now().After(deadline) {
			t.Fatalf("handled %d events, want %d", r.core.Stats().Handled, n)
		}
		time.Sleep(time.Millisecond)
	}
	r.core.Exclusive(func() {})
}

func TestTakeoverSilencesBotButObserversRun(t *testing.T) {
	r := start(t, nil, handoff.Options{AutoTakeover: true})
	r.h.Say("hello")
	r.h.WaitFor("answer to hello", 1)
	r.h.Say(":user anna", ":staff on", "/takeover", ":user you", ":staff off")
	r.h.WaitFor("TEXT:takeover", 1)
	for i := range 100 {
		r.h.Say(fmt.Sprint("question ", i))
	}
	r.waitHandled(t, 102)
	if out := r.h.Output(); strings.Count(out, "answer to") != 1 {
		t.Fatalf("the bot answered in a staff-owned thread:\n%s", out)
	}
	if got := r.observe.Load(); got < 101 {
		t.Fatalf("observers saw %d messages, want all 101 user messages", got)
	}
	o, _ := r.store.Owner(context.Background(), mainThread)
	if o.Staff != "anna" {
		t.Fatalf("owner = %+v", o)
	}
	// Release restores answering.
	r.h.Say(":user anna", ":staff on", "/release", ":user you", ":staff off", "back again?")
	r.h.WaitFor("answer to back again?", 1)
	if !strings.Contains(r.h.Output(), "TEXT:release") {
		t.Fatalf("no release notice:\n%s", r.h.Output())
	}
}

func TestStaffReplyInServedThreadTakesOver(t *testing.T) {
	r := start(t, nil, handoff.Options{AutoTakeover: true})
	r.h.Say("how do I install it?")
	r.h.WaitFor("answer to how do I install it?", 1)
	r.h.Say(":user anna", ":staff on", "Let me help you with that.", ":user you", ":staff off", "thanks, what next?")
	r.waitHandled(t, 3)
	r.h.WaitFor("TEXT:takeover", 1)
	if out := r.h.Output(); strings.Contains(out, "answer to thanks") || strings.Contains(out, "answer to Let me help") {
		t.Fatalf("the bot spoke after a staff reply:\n%s", out)
	}
	if o, _ := r.store.Owner(context.Background(), mainThread); o.Staff != "anna" || !strings.Contains(o.By, "wrote in the thread") {
		t.Fatalf("owner = %+v", o)
	}
}

func TestNonStaffTakeoverRefused(t *testing.T) {
	r := start(t, nil, handoff.Options{})
	r.h.Say("/takeover", "/release")
	r.h.WaitFor("TEXT:staff_only", 2)
	if o, _ := r.store.Owner(context.Background(), mainThread); !o.Bot() {
		t.Fatalf("a non-staff user took the thread: %+v", o)
	}
}

func TestAutoReleaseAfterQuietTime(t *testing.T) {
	r := start(t, nil, handoff.Options{ReleaseAfter: 30 * time.Minute})
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	done := make(chan error, 1)
	go func() { done <- r.svc.Run(ctx) }()
	r.h.Say(":user anna", ":staff on", "/takeover")
	r.h.WaitFor("TEXT:takeover", 1)
	advance := func(d time.Duration) {
		for r.clock.Waiters() == 0 {
			time.Sleep(time.Millisecond)
		}
		r.clock.Advance(d)
	}
	advance(20 * time.Minute)
	r.h.Say("still here") // staff activity resets the quiet time
	r.waitHandled(t, 2)
	advance(20 * time.Minute)
	if o, _ := r.store.Owner(ctx, mainThread); o.Bot() {
		t.Fatal("released although staff wrote 20 minutes ago")
	}
	advance(11 * time.Minute)
	r.h.WaitFor("TEXT:release", 1)
	if o, _ := r.store.Owner(ctx, mainThread); !o.Bot() {
		t.Fatalf("not released after 31 quiet minutes: %+v", o)
	}
	cancel()
	<-done
}

func TestEachTriggerEscalatesOncePerThread(t *testing.T) {
	r := start(t, nil, handoff.Options{Sensitive: []string{"billing", "Rechnung"}})
	r.h.Say(":thread t1", "I want to talk to a human", "can I speak with a real person?", "/x") // words, twice
	r.h.Say(":thread t2", "this is unknown stuff", "more unknown stuff")                        // dont_know, twice
	r.h.Say(":thread t3", "Ich möchte mit einem Menschen sprechen")                             // German
	r.h.Say(":thread t4", "my billing is wrong", "billing again")                               // sensitive topic
	r.waitHandled(t, 8)
	posts := r.poster.staffPosts()
	var reasons []string
	for _, p := range posts {
		reasons = append(reasons, strings.SplitN(p.Text, ")", 2)[0])
		if len(p.Buttons) != 2 || p.Buttons[0].Action != handoff.ActionTake || p.Buttons[1].Action != handoff.ActionDismiss {
			t.Errorf("escalation without Take over / Dismiss: %+v", p)
		}
	}
	if len(posts) != 4 {
		t.Fatalf("%d escalations, want one per thread: %q", len(posts), reasons)
	}
	if !strings.Contains(r.h.Output(), "[t1] Einsatz: TEXT:handoff_asked") {
		t.Fatalf("the user was not told help is coming:\n%s", r.h.Output())
	}
	// Take over from the staff channel: the escalation is claimed with its response time.
	r.clock.Advance(5 * time.Minute)
	ev := &bot.Event{Key: "ia1", Kind: bot.KindInteraction, Platform: "console", ChannelID: "staff", MessageID: "m", Action: handoff.ActionTake,
		Value: bot.ThreadRef{Platform: "console", ChannelID: "console", ThreadID: "t1"}.Key(), User: bot.User{ID: "anna", Name: "anna", Staff: true}}
	if err := r.core.Submit(*ev); err != nil {
		t.Fatal(err)
	}
	r.h.WaitFor("[t1] Einsatz: TEXT:takeover", 1)
	e, ok, _ := storage.NewHandoff(r.store).Escalation(context.Background(), bot.ThreadRef{Platform: "console", ChannelID: "console", ThreadID: "t1"})
	if !ok || e.Status != escalation.StatusClaimed || e.ClaimedBy != "anna" || e.ResponseTime() != 5*time.Minute {
		t.Fatalf("escalation after take over = %+v", e)
	}
}

func TestOwnershipSurvivesRestart(t *testing.T) {
	dir := t.TempDir()
	store, err := storage.Open(storage.Options{Path: dir, Logger: discard})
	if err != nil {
		t.Fatal(err)
	}
	r := start(t, store, handoff.Options{})
	r.h.Say(":user anna", ":staff on", "/takeover")
	r.h.WaitFor("TEXT:takeover", 1)
	r.h.Stop()
	store.Close()

	store, err = storage.Open(storage.Options{Path: dir, Logger: discard})
	if err != nil {
		t.Fatal(err)
	}
	defer store.Close()
	r = start(t, store, handoff.Options{})
	r.h.Say("anyone?")
	r.waitHandled(t, 1)
	if strings.Contains(r.h.Output(), "answer to anyone") {
		t.Fatalf("the bot answered in a thread staff owned before the restart:\n%s", r.h.Output())
	}
}

func TestAsksForHuman(t *testing.T) {
	tests := []struct {
		text string
		want bool
	}{
		{"I want to talk to a human", true},
		{"Can I speak with a real person please", true},
		{"human please", true},
		{"Kann ich mit einem Mitarbeiter sprechen?", true},
		{"Ich will mit einem echten Menschen reden", true},
		{"Kann mir bitte jemand vom Support helfen?", true},
		{"How do humans use this?", false},
		{"Is there a person field in the API?", false},
		{"Wie viele Menschen nutzen das?", false},
	}
	for _, tt := range tests {
		if got := handoff.AsksForHuman(tt.text); got != tt.want {
			t.Errorf("AsksForHuman(%q) = %v, want %v", tt.text, got, tt.want)
		}
	}
}

// An escalation's notice carries a summary written by the LLM when one is
// configured (asked once per escalation, with only the asker's messages)
// and the sentiment of the asker's last message; when the LLM fails, the
// messages themselves stand in.
func TestEscalationSummaryAndSentiment(t *testing.T) {
	for _, tt := range []struct {
		name    string
		fail    bool
		summary string
	}{
		{"llm summary", false, "Summary: The user cannot log in after the update and wants a person."},
		{"llm fails", true, "> I want to talk to a human"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			var mu sync.Mutex
			var asked [][]string
			r := start(t, nil, handoff.Options{
				Summarize: func(_ context.Context, lang string, msgs []string) (string, error) {
					mu.Lock()
					defer mu.Unlock()
					asked = append(asked, msgs)
					if tt.fail {
						return "", fmt.Errorf("llm down")
					}
					return "The user cannot log in after the update and wants a person.", nil
				},
				Sentiment: func(text, _ string) (string, float64) {
					if strings.Contains(text, "awful") {
						return "negative", -0.8
					}
					return "neutral", 0
				},
			})
			r.h.Say(":thread t1", "login is awful since the update", ":user bob", "same here", ":user you", "I want to talk to a human", "hello? a human please")
			r.waitHandled(t, 4)
			posts := r.poster.staffPosts()
			if len(posts) != 1 {
				t.Fatalf("%d staff posts, want 1", len(posts))
			}
			if !strings.Contains(posts[0].Text, tt.summary) || !strings.Contains(posts[0].Text, "Sentiment: neutral (0.00)") {
				t.Errorf("staff post:\n%s\nwant %q and the sentiment of the last message", posts[0].Text, tt.summary)
			}
			if strings.Contains(posts[0].Text, "same here") {
				t.Errorf("another member's words in the escalation:\n%s", posts[0].Text)
			}
			mu.Lock()
			defer mu.Unlock()
			if len(asked) != 1 || strings.Join(asked[0], "|") != "login is awful since the update|I want to talk to a human" {
				t.Fatalf("summarise asked %d times with %q, want once with the asker's two messages", len(asked), asked)
			}
		})
	}
}

// Test: a message read as a complaint gets empathy, not an answer, and
// staff get an escalation with the reason "frustration".
func TestFrustrationEscalatesWithEmpathy(t *testing.T) {
	r := start(t, nil, handoff.Options{})
	ev := &bot.Event{Key: "k1", Kind: bot.KindMessage, Platform: "console", ChannelID: "console", ThreadID: "main", MessageID: "m1",
		User: bot.User{Platform: "console", ID: "mia", Name: "mia"}, Text: "this is the worst bot ever", Lang: "en",
		Addressed: true, Reading: bot.ReadingFrustration}
	var replies []bot.Reply
	for _, route := range r.svc.Routes() {
		if route.Match(ev) {
			var err error
			if replies, err = route.Handler.Handle(context.Background(), ev); err != nil {
				t.Fatal(err)
			}
			break
		}
	}
	if len(replies) != 1 || replies[0].Text != "TEXT:handoff_frustration" {
		t.Fatalf("replies = %+v, want the frustration text alone", replies)
	}
	e, ok, err := storage.NewHandoff(r.store).Escalation(context.Background(), mainThread)
	if err != nil || !ok || e.Reason != handoff.ReasonFrustration {
		t.Fatalf("escalation = %+v, %v, %v; want reason %q", e, ok, err, handoff.ReasonFrustration)
	}
}
