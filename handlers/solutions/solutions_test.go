package solutions_test

import (
	"context"
	"log/slog"
	"strings"
	"testing"
	"time"

	"github.com/einsatz/einsatz/adapters/discord"
	"github.com/einsatz/einsatz/adapters/discord/discordtest"
	"github.com/einsatz/einsatz/adapters/slack"
	"github.com/einsatz/einsatz/adapters/slack/slacktest"
	"github.com/einsatz/einsatz/bot"
	"github.com/einsatz/einsatz/bot/solved"
	"github.com/einsatz/einsatz/handlers/answer"
	"github.com/einsatz/einsatz/handlers/knowledge"
	"github.com/einsatz/einsatz/handlers/solutions"
	"github.com/einsatz/einsatz/handlers/support"
	"github.com/einsatz/einsatz/storage"
)

var discard = slog.New(slog.DiscardHandler)

func waitUntil(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(5 * time.Millisecond)
	}
}

// other documents, so the solved thread's entry must win on its merits.
var otherDocs = map[string]string{
	"install":  "# Installing\n\nDownload the release for your system and run einsatz run.\n",
	"language": "# Languages\n\nThe bot answers in English and German, in the language of the question.\n",
	"backup":   "# Backups\n\nRun einsatz backup to write a copy of the database to a file.\n",
}

// rig is the real core with the real answer handler over a real knowledge
// index, and the solutions service wired as in main.go.
type rig struct {
	store *storage.Store
	kb    *knowledge.Base
	svc   *solutions.Service
	h     bot.Handler
	core  *bot.Bot
}

func newRig(t *testing.T) *rig { return newRigWith(t, nil, nil) }

// newRigWith builds the rig with a clock (nil: the system's) for the core
// and the service, and changes to the service's options.
func newRigWith(t *testing.T, clock bot.Clock, opts func(o *solutions.Options, core *bot.Bot, store *storage.Store)) *rig {
	t.Helper()
	ctx := context.Background()
	store, err := storage.Open(storage.Options{InMemory: true, Logger: discard})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { store.Close() })
	kb := knowledge.NewBase(storage.NewKB(store), nil, discard)
	if err := kb.Rebuild(ctx); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { kb.Close() })
	for name, text := range otherDocs {
		if _, err := kb.Add(ctx, name, "", "https://docs.example.org/"+name, text); err != nil {
			t.Fatal(err)
		}
	}
	r := &rig{store: store, kb: kb}
	r.h = answer.New(answer.Options{Search: kb, Text: func(lang, key string) string { return lang + ":" + key }, Logger: discard})
	router := bot.NewRouter(r.h)
	// The core first (the service posts through it), the routes after.
	observer := bot.ObserverFunc(func(ctx context.Context, ev *bot.Event) error { return r.svc.Observe(ctx, ev) })
	r.core = bot.New(bot.Options{Store: store, Router: router, Observers: []bot.Observer{observer}, Logger: discard, Clock: clock})
	o := solutions.Options{Store: storage.NewSolved(store), AddKnowledge: support.AddTo(kb), Logger: discard, Clock: clock}
	if opts != nil {
		opts(&o, r.core, store)
	}
	r.svc = solutions.New(o)
	for _, route := range r.svc.Routes() {
		router.Add(route)
	}
	return r
}

func (r *rig) pending(t *testing.T) []solved.Candidate {
	t.Helper()
	list, err := r.svc.Pending(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	return list
}

const (
	question = "My sync job fails with error E4711 every night, how can I fix it? Write to mia@example.org"
	solution = "E4711 means the token expired: create a new token under Settings → Tokens and set EINSATZ_SYNC_TOKEN. Call me at +49 170 1234567 if it persists."
)

// On Discord: a ✅ by the asker on the staff reply makes a candidate with
// the thread's question and that reply, redacted; a ✅ by a bystander does
// nothing; approval puts it into the knowledge base and the next person's
// paraphrased question is answered from it, citing the thread. /solved in
// a second thread takes the last reply; rejecting removes that candidate.
func TestSolvedOnDiscord(t *testing.T) {
	ctx := context.Background()
	fd := discordtest.New(t, discordtest.Options{})
	supportRole := fd.AddRole(fd.Guild, "support")
	anna := fd.NewUser("anna", supportRole)
	mia := fd.NewUser("mia")
	bob := fd.NewUser("bob")
	general := fd.TextChannel(fd.Guild, "general")

	r := newRig(t)
	da, err := discord.New(discord.Options{Token: fd.Token, APIURL: fd.URL, StaffRoles: []string{supportRole},
		Commands: r.core.Commands(), GuildIDs: []string{fd.Guild}, Logger: discard})
	if err != nil {
		t.Fatal(err)
	}
	runCtx, cancel := context.WithCancel(ctx)
	done := make(chan error, 1)
	go func() { done <- r.core.Run(runCtx, da) }()
	defer func() { cancel(); <-done }()
	if !fd.WaitConnected(10 * time.Second) {
		t.Fatal("the adapter did not connect")
	}

	q := fd.Post(general, mia, question, true)
	thread := q.ID
	waitUntil(t, "the bot's first reply", func() bool { return len(fd.BotMessages(thread)) == 1 })
	reply := fd.Post(thread, anna, solution, false)
	fd.Post(thread, mia, "let me try", false)
	// A bystander's ✅ is not a decision.
	fd.React(thread, reply.ID, bob, "✅")
	fd.React(thread, reply.ID, mia, "✅")
	waitUntil(t, "the candidate", func() bool { return len(r.pending(t)) == 1 })
	c := r.pending(t)[0]
	if c.By != "asker" || !strings.Contains(c.Question, "E4711") || !strings.Contains(c.Answer, "Settings → Tokens") {
		t.Fatalf("candidate = %+v", c)
	}
	for _, pii := range []string{"mia@example.org", "1234567"} {
		if strings.Contains(c.Question+c.Answer, pii) {
			t.Errorf("candidate keeps personal data %q: %+v", pii, c)
		}
	}
	if !strings.Contains(c.Permalink, reply.ID) || !strings.HasPrefix(c.Permalink, "https://discord.com/channels/") {
		t.Errorf("candidate permalink = %q, want the solving message's", c.Permalink)
	}

	// Before approval the bot does not know; after, it answers from the thread.
	para := &bot.Event{Text: "What should I do about the nightly E4711 sync error?", Lang: "en"}
	before, err := r.h.Handle(ctx, para)
	if err != nil {
		t.Fatal(err)
	}
	if cites(before, c.Permalink) {
		t.Fatalf("answered from the thread before approval: %+v", before)
	}
	if _, err := r.svc.Approve(ctx, c.ID); err != nil {
		t.Fatal(err)
	}
	after, err := r.h.Handle(ctx, para)
	if err != nil {
		t.Fatal(err)
	}
	if !cites(after, c.Permalink) || !strings.Contains(after[0].Text, "Settings → Tokens") {
		t.Fatalf("after approval: %+v, want an answer from the thread citing %s", after, c.Permalink)
	}
	if len(r.pending(t)) != 0 {
		t.Errorf("approved candidate still pending")
	}
	// Marking the approved thread again does not bring it back.
	fd.React(thread, reply.ID, anna, "✅")

	// /solved in another thread: the last reply by someone else counts.
	q2 := fd.Post(general, mia, "Where are the logs kept?", true)
	waitUntil(t, "the bot's reply", func() bool { return len(fd.BotMessages(q2.ID)) == 1 })
	fd.Post(q2.ID, bob, "They are in the data directory under logs/.", false)
	fd.Post(q2.ID, mia, "thanks!", false)
	refused := fd.SlashCommand(q2.ID, fd.NewUser("eve"), "solved", "")
	waitUntil(t, "the refusal", func() bool { return len(fd.InteractionResponses(refused)) > 0 })
	id := fd.SlashCommand(q2.ID, mia, "solved", "")
	waitUntil(t, "the /solved confirmation", func() bool { return len(fd.InteractionResponses(id)) > 0 })
	waitUntil(t, "the second candidate", func() bool { return len(r.pending(t)) == 1 })
	c2 := r.pending(t)[0]
	if c2.Question != "Where are the logs kept?" || c2.Answer != "They are in the data directory under logs/." || c2.By != "asker" {
		t.Fatalf("/solved candidate = %+v", c2)
	}
	if err := r.svc.Reject(ctx, c2.ID); err != nil {
		t.Fatal(err)
	}
	if p := r.pending(t); len(p) != 0 {
		t.Fatalf("after rejection: %+v", p)
	}
	if _, err := storage.NewSolved(r.store).Candidate(ctx, c2.ID); err == nil {
		t.Errorf("the rejected candidate is still stored")
	}
}

func cites(replies []bot.Reply, url string) bool {
	for _, rep := range replies {
		for _, s := range rep.Sources {
			if s.URL == url {
				return true
			}
		}
	}
	return false
}

// On Slack: staff's ✅ (white_check_mark) on a member's reply in the
// thread makes a candidate; a ✅ on the bot's own answer does not.
func TestSolvedOnSlack(t *testing.T) {
	const help, mia, anna, bob = "C0HELP", "U0MIA", "U0ANNA", "U0BOB"
	fake := slacktest.New(slacktest.Options{AckTimeout: 3 * time.Second, PingInterval: 100 * time.Millisecond})
	t.Cleanup(fake.Close)
	fake.AddChannel(help, "help", slacktest.Public)
	fake.AddUser(mia, "mia")
	fake.AddUser(anna, "anna")
	fake.AddUser(bob, "bob")
	r := newRig(t)
	a, err := slack.New(slack.Options{BotToken: fake.BotToken(), AppToken: fake.AppToken(), APIURL: fake.APIURL(),
		StaffUsers: []string{anna}, Commands: r.core.Commands(), Logger: discard, PingTimeout: time.Second, NameWait: time.Second})
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- r.core.Run(ctx, a) }()
	t.Cleanup(func() { cancel(); <-done })
	if !fake.WaitConnected(1, 10*time.Second) {
		t.Fatal("the adapter did not connect")
	}
	ts := fake.Post(help, mia, "@"+"einsatz how do I rotate the API key?", "")
	var botTS string
	waitUntil(t, "the bot's answer", func() bool {
		for _, m := range fake.Posted() {
			if m.Channel == help && m.ThreadTS == ts {
				botTS = m.TS
				return true
			}
		}
		return false
	})
	fake.React(help, anna, botTS, "white_check_mark", false)
	replyTS := fake.Post(help, bob, "Run einsatz key rotate, then restart the service.", ts)
	fake.React(help, anna, replyTS, "white_check_mark", false)
	waitUntil(t, "the candidate", func() bool { return len(r.pending(t)) == 1 })
	c := r.pending(t)[0]
	if c.By != "staff" || c.Answer != "Run einsatz key rotate, then restart the service." || !strings.Contains(c.Question, "rotate the API key") {
		t.Fatalf("candidate = %+v", c)
	}
	if c.Thread.Platform != bot.PlatformSlack || c.Thread.ThreadID != ts {
		t.Errorf("candidate thread = %+v, want the thread of %s", c.Thread, ts)
	}
}
