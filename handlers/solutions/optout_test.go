package solutions_test

import (
	"context"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/einsatz/einsatz/adapters/discord/discordtest"
	"github.com/einsatz/einsatz/adapters/slack"
	"github.com/einsatz/einsatz/adapters/slack/slacktest"
	"github.com/einsatz/einsatz/bot"
	"github.com/einsatz/einsatz/bot/solved"
	"github.com/einsatz/einsatz/handlers/solutions"
	"github.com/einsatz/einsatz/storage"
)

// /publish-optout on the Discord fake: it is registered as a slash
// command; Mia's published answer is taken down and her approved one
// waiting for review is never asked about (declined, no question in the
// thread), while Bob's published answer stays; the reply is private and
// says how many were withdrawn.
func TestPublishOptOutOnDiscord(t *testing.T) {
	ctx := context.Background()
	fd := discordtest.New(t, discordtest.Options{})
	supportRole := fd.AddRole(fd.Guild, "support")
	anna := fd.NewUser("anna", supportRole)
	mia := fd.NewUser("mia")
	bob := fd.NewUser("bob")
	general := fd.TextChannel(fd.Guild, "general")
	r := newRigWith(t, nil, func(o *solutions.Options, core *bot.Bot, store *storage.Store) {
		o.Publish, o.Poster, o.Threads, o.OptOuts = true, core, store, storage.NewSolved(store)
	})
	discordRig(t, fd, r, supportRole)
	if !slices.ContainsFunc(fd.Commands(fd.Guild), func(c discordtest.Command) bool { return c.Name == "publish-optout" }) {
		t.Fatalf("no /publish-optout among %+v", fd.Commands(fd.Guild))
	}

	// solve has asker ask, staff answer and the asker ✅ it; it returns the
	// thread and its candidate.
	solve := func(asker discordtest.User, q, a string) (string, solved.Candidate) {
		msg := fd.Post(general, asker, q, true)
		waitUntil(t, "the bot's reply", func() bool { return len(fd.BotMessages(msg.ID)) == 1 })
		reply := fd.Post(msg.ID, anna, a, false)
		fd.React(msg.ID, reply.ID, asker, "✅")
		var c solved.Candidate
		waitUntil(t, "the candidate", func() bool {
			for _, p := range r.pending(t) {
				if p.Thread.ThreadID == msg.ID {
					c = p
					return true
				}
			}
			return false
		})
		return msg.ID, c
	}
	publish := func(thread string, c solved.Candidate, asker discordtest.User) {
		if _, err := r.svc.Approve(ctx, c.ID); err != nil {
			t.Fatal(err)
		}
		ask, ok := botSaid(fd, thread, "May we also publish this Q&A")
		if !ok {
			t.Fatalf("no consent question: %+v", fd.BotMessages(thread))
		}
		fd.React(thread, ask.ID, asker, "✅")
	}
	miaTh, miaC := solve(mia, question, solution)
	publish(miaTh, miaC, mia)
	bobTh, bobC := solve(bob, "How do I rotate the API key of the dashboard?", "Open Settings → API and press Rotate; the old key stops working at once.")
	publish(bobTh, bobC, bob)
	waitUntil(t, "two answers published", func() bool { return len(published(t, r.svc)) == 2 })
	laterTh, laterC := solve(mia, "How do I change the language of the bot's replies?", "Set bot.language in config.yaml to de or en and restart.")

	id := fd.SlashCommand(general, mia, "publish-optout", "")
	waitUntil(t, "the opt-out reply", func() bool {
		return slices.ContainsFunc(fd.InteractionResponses(id), func(r discordtest.InteractionResponse) bool { return r.Content != "" })
	})
	var said string
	for _, resp := range fd.InteractionResponses(id) {
		said += resp.Content
		if resp.Content != "" && resp.Flags&64 == 0 {
			t.Errorf("the opt-out reply is public: %+v", resp)
		}
	}
	if !strings.Contains(said, "your questions stay off the public answers page (1 withdrawn)") {
		t.Errorf("opt-out reply = %q", said)
	}
	got := published(t, r.svc)
	if len(got) != 1 || !strings.HasSuffix(got[0].Slug, bobC.ID) {
		t.Fatalf("published after Mia's opt-out = %+v, want Bob's only", got)
	}
	if _, err := r.svc.Approve(ctx, laterC.ID); err != nil {
		t.Fatal(err)
	}
	if _, ok := botSaid(fd, laterTh, "May we also publish"); ok {
		t.Error("asked Mia for consent after her opt-out")
	}
	if c, _ := storage.NewSolved(r.store).Candidate(ctx, laterC.ID); c.Consent != solved.ConsentDeclined {
		t.Errorf("consent of Mia's later answer = %q, want declined", c.Consent)
	}
	if _, err := r.svc.AskConsent(ctx, laterC.ID); err == nil {
		t.Error("staff could ask Mia again")
	}
}

// /einsatz publish-optout on the Slack fake, in German: the reply is
// ephemeral and in German, and the opt-out is stored (by a hash of the
// id: the user id is nowhere in the record's key).
func TestPublishOptOutOnSlack(t *testing.T) {
	const help, mia = "C0HELP", "U0MIA"
	ctx := context.Background()
	fake := slacktest.New(slacktest.Options{AckTimeout: 3 * time.Second, PingInterval: 100 * time.Millisecond})
	t.Cleanup(fake.Close)
	fake.AddChannel(help, "help", slacktest.Public)
	fake.AddUser(mia, "mia")
	r := newRigWith(t, nil, func(o *solutions.Options, core *bot.Bot, store *storage.Store) {
		o.Publish, o.Poster, o.Threads, o.OptOuts = true, core, store, storage.NewSolved(store)
	})
	a, err := slack.New(slack.Options{BotToken: fake.BotToken(), AppToken: fake.AppToken(), APIURL: fake.APIURL(),
		Commands: r.core.Commands(), Logger: discard, PingTimeout: time.Second, NameWait: time.Second})
	if err != nil {
		t.Fatal(err)
	}
	runCtx, cancel := context.WithCancel(ctx)
	done := make(chan error, 1)
	go func() { done <- r.core.Run(runCtx, a) }()
	t.Cleanup(func() { cancel(); <-done })
	if !fake.WaitConnected(1, 10*time.Second) {
		t.Fatal("the adapter did not connect")
	}
	fake.SlashCommand(help, mia, "/einsatz", "publish-optout Bitte veröffentlicht nichts von mir, ich möchte das nicht")
	posted := fake.WaitPosted(1, 5*time.Second)
	if len(posted) != 1 || posted[0].EphemeralFor != mia || !strings.Contains(posted[0].Text, "Deine Fragen erscheinen nicht mehr auf der öffentlichen Antwortseite (0 zurückgezogen)") {
		t.Fatalf("opt-out reply: %+v, want one German ephemeral message for mia", posted)
	}
	if out, err := storage.NewSolved(r.store).PublishOptedOut(ctx, bot.PlatformSlack, mia); err != nil || !out {
		t.Errorf("opted out = %v, %v", out, err)
	}
	if out, _ := storage.NewSolved(r.store).PublishOptedOut(ctx, bot.PlatformSlack, "U0BOB"); out {
		t.Error("Bob counts as opted out")
	}
}
