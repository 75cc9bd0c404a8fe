package support_test

import (
	"context"
	"fmt"
	"log/slog"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/einsatz/einsatz/adapters/openai"
	"github.com/einsatz/einsatz/adapters/openai/openaitest"
	"github.com/einsatz/einsatz/bot"
	"github.com/einsatz/einsatz/bot/bottest"
	"github.com/einsatz/einsatz/bot/qa"
	"github.com/einsatz/einsatz/handlers/answer"
	"github.com/einsatz/einsatz/handlers/knowledge"
	"github.com/einsatz/einsatz/handlers/support"
	"github.com/einsatz/einsatz/storage"
)

var discard = slog.New(slog.DiscardHandler)

const platform = "test"

var staffChannel = bot.ThreadRef{Platform: platform, ChannelID: "staff"}

// Docs of the test knowledge base.
var docs = map[string]string{
	"install": "# Installation\n\n## Installing Einsatz\n\nRun docker compose up to install and start Einsatz. It listens on port 8080.\n",
	"slack":   "# Slack\n\n## Connecting Slack\n\nTo connect Slack, create a Slack app with a bot token and an app token.\n",
}

// sent is one message the adapter posted.
type sent struct {
	to bot.ThreadRef
	r  bot.Reply
}

// chat is a platform adapter that records what the bot posts and tells
// when the core is done with an event.
type chat struct {
	mu   sync.Mutex
	sent []sent
	done map[string]chan struct{}
}

func (c *chat) expect(key string) <-chan struct{} {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.done == nil {
		c.done = map[string]chan struct{}{}
	}
	ch := make(chan struct{})
	c.done[key] = ch
	return ch
}

// Completed implements bot.Completer: the core calls it once the event's
// replies are sent and its observers ran.
func (c *chat) Completed(ev *bot.Event) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if ch, ok := c.done[ev.Key]; ok {
		close(ch)
		delete(c.done, ev.Key)
	}
}

func (c *chat) all() []sent {
	c.mu.Lock()
	defer c.mu.Unlock()
	return append([]sent(nil), c.sent...)
}

func (c *chat) Platform() string { return platform }

func (c *chat) Run(ctx context.Context, _ bot.Sink) error { <-ctx.Done(); return nil }

func (c *chat) Send(_ context.Context, to bot.ThreadRef, r bot.Reply) error {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.sent = append(c.sent, sent{to, r})
	return nil
}

// in returns the messages posted to a channel.
func (c *chat) in(channel string) []bot.Reply {
	c.mu.Lock()
	defer c.mu.Unlock()
	var out []bot.Reply
	for _, s := range c.sent {
		if s.to.ChannelID == channel {
			out = append(out, s.r)
		}
	}
	return out
}

// escalations records Escalate calls.
type escalations struct {
	mu    sync.Mutex
	calls []string // reason|thread
}

func (e *escalations) Escalate(_ context.Context, ev *bot.Event, reason, _ string) error {
	e.mu.Lock()
	defer e.mu.Unlock()
	e.calls = append(e.calls, reason+"|"+ev.Thread().ThreadID)
	return nil
}

func (e *escalations) list() []string {
	e.mu.Lock()
	defer e.mu.Unlock()
	return append([]string(nil), e.calls...)
}

func (e *escalations) count(reason string) int {
	n := 0
	for _, c := range e.list() {
		if strings.HasPrefix(c, reason+"|") {
			n++
		}
	}
	return n
}

// rig is the bot as main.go wires it: the real core, the real answer
// handler over a real knowledge base in in-memory storage, wrapped by
// support.Answers, with its routes and observer.
type rig struct {
	t     *testing.T
	store *storage.Store
	kb    *knowledge.Base
	core  *bot.Bot
	chat  *chat
	esc   *escalations
	clock *bottest.Clock
	sup   *support.Answers
	seq   int
}

type rigOptions struct {
	llm    answer.LLM
	shadow func(platform, channel string) bool
}

// start is the last Thursday, 10:00 UTC: records expire counted from their
// own time, so the test's clock stays near the real one. The scripts run
// until Friday afternoon, inside the same ISO week.
var start = func() time.Time {
	t := time.Now().UTC().Truncate(24 * time.Hour).Add(10 * time.Hour)
	for t.Weekday() != time.Thursday || t.After(time.Now()) {
		t = t.AddDate(0, 0, -1)
	}
	return t
}()

func memStore(t testing.TB) *storage.Store {
	s, err := storage.Open(storage.Options{InMemory: true, Logger: discard})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	return s
}

func newRig(t *testing.T, o rigOptions) *rig {
	t.Helper()
	ctx := context.Background()
	r := &rig{t: t, store: memStore(t), chat: &chat{}, esc: &escalations{}, clock: bottest.NewClock(start)}
	r.kb = knowledge.NewBase(storage.NewKB(r.store), nil, discard)
	if err := r.kb.Rebuild(ctx); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { r.kb.Close() })
	for name, text := range docs {
		if _, err := r.kb.Add(ctx, name, "", "https://docs.example.org/"+name, text); err != nil {
			t.Fatal(err)
		}
	}
	text := func(lang, key string) string { return "" } // built-in texts
	answers := answer.New(answer.Options{Search: r.kb, Text: func(lang, key string) string { return lang + ":" + key },
		LLM: o.llm, Escalator: r.esc, Logger: discard})
	poster := posterFunc(func(ctx context.Context, to bot.ThreadRef, rep bot.Reply) error { return r.core.Post(ctx, to, rep) })
	r.sup = support.New(support.Options{
		Answer: answers, Store: storage.NewSupport(r.store), Escalator: r.esc, Poster: poster, StaffChannel: staffChannel,
		Shadow: o.shadow, AddKnowledge: support.AddTo(r.kb), Text: text, Clock: r.clock, Logger: discard,
	})
	router := bot.NewRouter(r.sup)
	for _, route := range r.sup.Routes() {
		router.Add(route)
	}
	r.core = bot.New(bot.Options{Store: r.store, Router: router, Observers: []bot.Observer{r.sup}, Clock: r.clock, Logger: discard})
	// Registered before Run starts: the test submits at once, and an event
	// handled before Run registered the adapter could not be delivered.
	r.core.Register(platform, r.chat)
	runCtx, cancel := context.WithCancel(ctx)
	done := make(chan error, 1)
	go func() { done <- r.core.Run(runCtx, r.chat) }()
	t.Cleanup(func() { cancel(); <-done })
	return r
}

type posterFunc func(ctx context.Context, to bot.ThreadRef, r bot.Reply) error

func (f posterFunc) Post(ctx context.Context, to bot.ThreadRef, r bot.Reply) error {
	return f(ctx, to, r)
}

// submit hands an event to the core and waits until it is handled.
func (r *rig) submit(ev bot.Event) {
	r.t.Helper()
	r.seq++
	ev.Key = fmt.Sprintf("ev-%d", r.seq)
	ev.Platform = platform
	if ev.MessageID == "" {
		ev.MessageID = fmt.Sprintf("m%d", r.seq)
	}
	if ev.Lang == "" {
		ev.Lang = "en"
	}
	done := r.chat.expect(ev.Key)
	if err := r.core.Submit(ev); err != nil {
		r.t.Fatal(err)
	}
	select {
	case <-done:
	case <-time.After(10 * time.Second):
		r.t.Fatalf("event %+v not handled", ev)
	}
}

func user(id string) bot.User { return bot.User{Platform: platform, ID: id, Name: id} }

func staff(id string) bot.User { u := user(id); u.Staff = true; return u }

// ask: a user mentions the bot with a question in a thread of a channel.
func (r *rig) ask(who, channel, thread, text string) {
	r.submit(bot.Event{Kind: bot.KindMessage, ChannelID: channel, ThreadID: thread, User: user(who), Text: text, Mentioned: true})
}

// click: a button click in a thread.
func (r *rig) click(u bot.User, channel, thread, action, value string) {
	r.submit(bot.Event{Kind: bot.KindInteraction, ChannelID: channel, ThreadID: thread, User: u, Action: action, Value: value})
}

// button finds a button by action in a reply.
func button(t *testing.T, rep bot.Reply, action string) bot.Button {
	t.Helper()
	for _, b := range rep.Buttons {
		if b.Action == action {
			return b
		}
	}
	t.Fatalf("reply %q has no %s button: %+v", rep.Text, action, rep.Buttons)
	return bot.Button{}
}

func (r *rig) questions() []qa.Question {
	r.t.Helper()
	qs, err := storage.NewSupport(r.store).Questions(context.Background(), start.Add(-time.Hour), r.clock.Now().Add(time.Hour))
	if err != nil {
		r.t.Fatal(err)
	}
	return qs
}

// Shadow mode: the draft goes to the staff channel with Send/Discard and
// nothing reaches the community; "Send" posts it into the original thread
// (with the feedback buttons) once, "Discard" records it as discarded.
func TestShadowMode(t *testing.T) {
	fake := openaitest.Start(t, openaitest.Options{})
	llm := openai.New(openai.Options{BaseURL: fake.URL, APIKey: "k", MaxRetries: -1, Logger: discard})
	r := newRig(t, rigOptions{llm: llm, shadow: func(_, ch string) bool { return ch == "community" }})

	r.ask("ann", "community", "t1", "How do I install Einsatz?")
	if got := r.chat.in("community"); len(got) != 0 {
		t.Fatalf("shadow channel got %d messages, want none: %+v", len(got), got)
	}
	drafts := r.chat.in("staff")
	if len(drafts) != 1 {
		t.Fatalf("staff channel got %d messages, want the draft", len(drafts))
	}
	d := drafts[0]
	for _, want := range []string{"How do I install Einsatz?", "According to the documentation", "Installation"} {
		if !strings.Contains(d.Text, want) {
			t.Errorf("draft lacks %q:\n%s", want, d.Text)
		}
	}
	send, disc := button(t, d, support.ActionShadowSend), button(t, d, support.ActionShadowDiscard)
	if send.Value == "" || send.Value != disc.Value {
		t.Fatalf("buttons %+v %+v: want the same draft id", send, disc)
	}
	if qs := r.questions(); len(qs) != 1 || qs[0].Shadow != qa.ShadowPending || qs[0].Answered() {
		t.Fatalf("question log = %+v, want one pending shadow question, not answered", qs)
	}

	// A member cannot send it.
	r.click(user("ann"), "staff", "s1", support.ActionShadowSend, send.Value)
	if got := r.chat.in("community"); len(got) != 0 {
		t.Fatalf("a non-staff click sent the draft: %+v", got)
	}
	r.click(staff("sam"), "staff", "s1", support.ActionShadowSend, send.Value)
	got := r.chat.in("community")
	if len(got) != 1 || !strings.Contains(got[0].Text, "According to the documentation") {
		t.Fatalf("community after Send = %+v, want the draft", got)
	}
	if all := r.chat.all(); all[len(all)-2].to != (bot.ThreadRef{Platform: platform, ChannelID: "community", ThreadID: "t1"}) {
		t.Fatalf("draft sent to %+v, want the original thread", all[len(all)-2].to)
	}
	button(t, got[0], support.ActionHelpful)
	if qs := r.questions(); qs[0].Shadow != qa.ShadowSent || !qs[0].Answered() {
		t.Fatalf("after Send: %+v, want sent and answered", qs[0])
	}
	// A second click (or a second staff member) sends nothing more.
	r.click(staff("tom"), "staff", "s1", support.ActionShadowSend, send.Value)
	if got := r.chat.in("community"); len(got) != 1 {
		t.Fatalf("draft sent %d times", len(got))
	}

	// Discard: nothing reaches the community, recorded as discarded.
	r.ask("bob", "community", "t2", "How do I connect Slack?")
	drafts = r.chat.in("staff")
	last := drafts[len(drafts)-1]
	r.click(staff("sam"), "staff", "s1", support.ActionShadowDiscard, button(t, last, support.ActionShadowDiscard).Value)
	if got := r.chat.in("community"); len(got) != 1 {
		t.Fatalf("discarded draft reached the community: %+v", got)
	}
	qs := r.questions()
	if len(qs) != 2 || qs[1].Shadow != qa.ShadowDiscarded || qs[1].Answered() {
		t.Fatalf("after Discard: %+v", qs)
	}
	// Other channels are answered directly.
	r.ask("cat", "general", "t3", "How do I connect Slack?")
	if got := r.chat.in("general"); len(got) != 1 || !strings.Contains(got[0].Text, "According to the documentation") {
		t.Fatalf("live channel got %+v", got)
	}
}

// Feedback: the votes are stored with the question (one per person, the
// latest wins), the records are indexed under the voter and the asker,
// and "Not helpful" calls a person once per question.
func TestFeedback(t *testing.T) {
	r := newRig(t, rigOptions{})
	r.ask("ann", "help", "t1", "How do I install Einsatz?")
	replies := r.chat.in("help")
	if len(replies) != 1 {
		t.Fatalf("replies = %+v", replies)
	}
	up, down := button(t, replies[0], support.ActionHelpful), button(t, replies[0], support.ActionNotHelpful)
	if up.Label != "Helpful" || down.Label != "Not helpful" || up.Value == "" || up.Value != down.Value {
		t.Fatalf("feedback buttons %+v %+v", up, down)
	}
	id := up.Value

	steps := []struct {
		who          string
		action       string
		wantVotes    int
		wantVerdict  string
		wantNotHelp  int // escalations for not_helpful so far
		wantReplyHas string
	}{
		{"ann", support.ActionHelpful, 1, qa.VerdictHelpful, 0, "Thanks"},
		{"ann", support.ActionNotHelpful, 1, qa.VerdictNotHelpful, 1, "asked the team"}, // her latest vote wins
		{"ann", support.ActionNotHelpful, 1, qa.VerdictNotHelpful, 1, "asked the team"}, // again: no second escalation
		{"bob", support.ActionNotHelpful, 2, qa.VerdictNotHelpful, 1, "asked the team"},
		{"cat", support.ActionHelpful, 3, qa.VerdictNotHelpful, 1, "Thanks"}, // the asker's vote decides
	}
	for i, s := range steps {
		r.click(user(s.who), "help", "t1", s.action, id)
		q, ok, err := storage.NewSupport(r.store).Question(context.Background(), id)
		if err != nil || !ok {
			t.Fatalf("step %d: question %s: %v %v", i, id, ok, err)
		}
		if len(q.Votes) != s.wantVotes || q.Verdict() != s.wantVerdict {
			t.Errorf("step %d: votes %+v verdict %q, want %d votes, %q", i, q.Votes, q.Verdict(), s.wantVotes, s.wantVerdict)
		}
		if got := r.esc.count(support.ReasonNotHelpful); got != s.wantNotHelp {
			t.Errorf("step %d: %d not_helpful escalations, want %d", i, got, s.wantNotHelp)
		}
		all := r.chat.in("help")
		if last := all[len(all)-1]; !last.Notice || !strings.Contains(last.Text, s.wantReplyHas) {
			t.Errorf("step %d: reply %+v, want a notice with %q", i, last, s.wantReplyHas)
		}
	}
	q, _, _ := storage.NewSupport(r.store).Question(context.Background(), id)
	if q.Text != "How do I install Einsatz?" || q.Outcome != qa.OutcomeExtractive || len(q.Sources) == 0 || q.UserID != "ann" {
		t.Fatalf("logged question = %+v", q)
	}
	if len(q.Escalations) != 1 || q.Escalations[0] != support.ReasonNotHelpful {
		t.Fatalf("escalations = %v", q.Escalations)
	}
	// Export and erasure find the question under the asker and the votes
	// under the voters.
	for who, want := range map[string][]string{"ann": {"sup/q/", "sup/vote/"}, "bob": {"sup/vote/"}} {
		keys, err := r.store.UserRecords(context.Background(), platform, who)
		if err != nil {
			t.Fatal(err)
		}
		for _, w := range want {
			found := false
			for _, k := range keys {
				found = found || strings.HasPrefix(k, w)
			}
			if !found {
				t.Errorf("records of %s = %v, want one under %s", who, keys, w)
			}
		}
	}

	// "I don't know" gets no feedback buttons, but the human button.
	r.ask("dan", "help", "t2", "Is there a quantum banana mode?")
	all := r.chat.in("help")
	last := all[len(all)-1]
	button(t, last, answer.ActionHandoff)
	for _, b := range last.Buttons {
		if b.Action == support.ActionHelpful || b.Action == support.ActionNotHelpful {
			t.Fatalf("dont-know reply has feedback buttons: %+v", last.Buttons)
		}
	}
}

// A question asked again (in other words) in the same thread after the
// bot answered calls a person; a new question does not.
func TestRepeatedQuestionEscalates(t *testing.T) {
	r := newRig(t, rigOptions{})
	r.ask("ann", "help", "t1", "How do I install Einsatz?")
	r.ask("ann", "help", "t1", "How do I connect Slack?") // a different question
	if got := r.esc.count(support.ReasonRepeated); got != 0 {
		t.Fatalf("%d repeated escalations after a new question", got)
	}
	r.ask("ann", "help", "t1", "how can I install einsatz??") // the first one again
	if got := r.esc.list(); len(got) != 1 || got[0] != "repeated|t1" {
		t.Fatalf("escalations = %v, want repeated in t1", got)
	}
	qs := r.questions()
	if last := qs[len(qs)-1]; len(last.Escalations) != 1 || last.Escalations[0] != support.ReasonRepeated {
		t.Fatalf("logged = %+v", last)
	}
	// The same question in another thread is no repeat.
	r.ask("bob", "help", "t2", "How do I install Einsatz?")
	if got := r.esc.count(support.ReasonRepeated); got != 1 {
		t.Fatalf("%d repeated escalations, want still 1", got)
	}
}

// A staff reply saved with /savereply (or a 📌 reaction) is what the bot
// answers the next person asking.
func TestSavedStaffReplyAnswersNextQuestion(t *testing.T) {
	r := newRig(t, rigOptions{})
	r.ask("ann", "help", "t1", "How do I rotate the webhook secret?")
	if got := r.chat.in("help"); len(got) != 1 || got[0].Text != "en:dont_know" {
		t.Fatalf("first answer = %+v, want dont_know", got)
	}
	r.submit(bot.Event{Kind: bot.KindMessage, ChannelID: "help", ThreadID: "t1", User: staff("sam"),
		Text: "Open Settings › Webhooks and press Rotate secret; the old secret stays valid for one hour."})
	// A member cannot save.
	r.submit(bot.Event{Kind: bot.KindCommand, Command: "savereply", ChannelID: "help", ThreadID: "t1", User: user("ann")})
	r.submit(bot.Event{Kind: bot.KindCommand, Command: "savereply", ChannelID: "help", ThreadID: "t1", User: staff("sam")})
	all := r.chat.in("help")
	if last := all[len(all)-1]; !strings.Contains(last.Text, "Saved to the knowledge base: How do I rotate the webhook secret?") {
		t.Fatalf("savereply answered %+v", last)
	}
	if notice := all[len(all)-2]; !strings.Contains(notice.Text, "Only team members") {
		t.Fatalf("member's savereply answered %+v", notice)
	}

	r.ask("bob", "help", "t2", "How can I rotate my webhook secret?")
	all = r.chat.in("help")
	got := all[len(all)-1]
	if !strings.Contains(got.Text, "press Rotate secret") {
		t.Fatalf("next asker got %q, want the saved staff reply", got.Text)
	}
	if len(got.Sources) != 1 || !strings.Contains(got.Sources[0].Title, "webhook secret") {
		t.Fatalf("sources = %+v", got.Sources)
	}

	// The reaction: 📌 by staff on the staff message (Slack says "pushpin").
	r.ask("cat", "help", "t3", "Where do I find the audit log?")
	r.submit(bot.Event{Kind: bot.KindMessage, ChannelID: "help", ThreadID: "t3", User: staff("sam"),
		Text: "The audit log is on the dashboard overview, below the counters."})
	r.submit(bot.Event{Kind: bot.KindReaction, Reaction: "pushpin", ChannelID: "help", ThreadID: "t3", User: staff("tom"),
		Target: &bot.Message{ID: "m-staff", User: staff("sam")}})
	if posts := r.chat.in("staff"); len(posts) != 1 || !strings.Contains(posts[0].Text, "Where do I find the audit log?") {
		t.Fatalf("staff channel = %+v, want the saved notice", posts)
	}
	r.ask("dan", "help", "t4", "where is the audit log?")
	all = r.chat.in("help")
	if got := all[len(all)-1]; !strings.Contains(got.Text, "dashboard overview") {
		t.Fatalf("next asker got %q, want the reply saved by reaction", got.Text)
	}
}

func TestEntryFrom(t *testing.T) {
	turn := func(role bot.Role, id, text string) bot.Turn { return bot.Turn{Role: role, UserID: id, Text: text} }
	tests := []struct {
		name      string
		history   []bot.Turn
		staffID   string
		want      string // Text; "" = nothing to save
		wantTitle string
	}{
		{"question and reply", []bot.Turn{turn(bot.RoleUser, "u", "How?"), turn(bot.RoleBot, "", "dunno"), turn(bot.RoleStaff, "s", "Like this.")},
			"", "## How?\n\nLike this.\n", "How?"},
		{"reply in two messages", []bot.Turn{turn(bot.RoleUser, "u", "How?"), turn(bot.RoleStaff, "s", "First."), turn(bot.RoleStaff, "s", "Then.")},
			"", "## How?\n\nFirst.\n\nThen.\n", "How?"},
		{"the reacted-to staff member's reply", []bot.Turn{turn(bot.RoleUser, "u", "A?"), turn(bot.RoleStaff, "s1", "One."), turn(bot.RoleUser, "u", "B?"), turn(bot.RoleStaff, "s2", "Two.")},
			"s1", "## A?\n\nOne.\n", "A?"},
		{"redacted", []bot.Turn{turn(bot.RoleUser, "u", "Mail me at ann@example.org?"), turn(bot.RoleStaff, "s", "Done, ann@example.org.")},
			"", "## Mail me at [email]?\n\nDone, [email].\n", "Mail me at [email]?"},
		{"no staff reply", []bot.Turn{turn(bot.RoleUser, "u", "How?"), turn(bot.RoleBot, "", "Like so.")}, "", "", ""},
		{"no question before it", []bot.Turn{turn(bot.RoleStaff, "s", "Welcome!")}, "", "", ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e, err := support.EntryFrom(tt.history, tt.staffID, "th", "")
			if tt.want == "" {
				if err == nil {
					t.Fatalf("entry %+v, want nothing to save", e)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if e.Text != tt.want {
				t.Fatalf("text = %q, want %q", e.Text, tt.want)
			}
			if e.Title != tt.wantTitle {
				t.Fatalf("title = %q, want %q", e.Title, tt.wantTitle)
			}
			if e.Name == "" {
				t.Fatal("no name")
			}
		})
	}
}

// The question log keeps the redacted question: no e-mail address, phone
// number or key of the asker is stored, with or without an LLM.
func TestQuestionLogIsRedacted(t *testing.T) {
	for _, tt := range []struct {
		name string
		llm  answer.LLM
	}{
		{"extractive", nil},
		{"llm", answer.LLMFunc(func(context.Context, []answer.Message) (string, error) { return "Run the installer [1].", nil })},
	} {
		t.Run(tt.name, func(t *testing.T) {
			r := newRig(t, rigOptions{llm: tt.llm})
			r.ask("alice", "help", "t1", "How do I install Einsatz? Mail me at alice.smith@example.org or call +49 170 1234567, my key is sk-proj-AbCdEfGhIjKlMnOpQrSt1234")
			qs := r.questions()
			if len(qs) != 1 {
				t.Fatalf("%d questions logged, want 1", len(qs))
			}
			for _, secret := range []string{"alice.smith@example.org", "170 1234567", "sk-proj-AbCdEfGhIjKlMnOpQrSt1234"} {
				if strings.Contains(qs[0].Text, secret) {
					t.Errorf("logged question %q keeps %q", qs[0].Text, secret)
				}
			}
			if !strings.Contains(qs[0].Text, "How do I install Einsatz?") {
				t.Errorf("logged question %q lost the question itself", qs[0].Text)
			}
		})
	}
}
