package solutions_test

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/einsatz/einsatz/adapters/discord/discordtest"
	"github.com/einsatz/einsatz/adapters/slack"
	"github.com/einsatz/einsatz/adapters/slack/slacktest"
	"github.com/einsatz/einsatz/bot"
	"github.com/einsatz/einsatz/bot/bottest"
	"github.com/einsatz/einsatz/handlers/solutions"
	"github.com/einsatz/einsatz/storage"
)

const nudgeEN, nudgeDE = "Did this solve it? React ✅", "Hat das dein Problem gelöst?"

// lastRole is the role of a thread's newest turn ("" for none).
func lastRole(t *testing.T, r *rig, th bot.ThreadRef) bot.Role {
	t.Helper()
	h, err := r.store.History(context.Background(), th, 5)
	if err != nil {
		t.Fatal(err)
	}
	if len(h) == 0 {
		return ""
	}
	return h[len(h)-1].Role
}

func nudged(fd *discordtest.Server, thread, text string) int {
	n := 0
	for _, m := range fd.BotMessages(thread) {
		if strings.Contains(m.Content, text) {
			n++
		}
	}
	return n
}

// The nudge on Discord, on a fake clock: a thread the bot answered gets
// "Did this solve it?" once after 24 quiet hours (not at 23), never a
// second time; a German thread gets it in German; a thread staff claimed
// gets none; staff's answer followed by the asker's ✅ on the nudge marks
// the thread solved with staff's answer, and a solved thread is not
// nudged. The timer loop (Run) sends a due nudge by itself.
func TestNudgeOnDiscord(t *testing.T) {
	ctx := context.Background()
	clock := bottest.NewClock(time.Now())
	fd := discordtest.New(t, discordtest.Options{})
	supportRole := fd.AddRole(fd.Guild, "support")
	anna := fd.NewUser("anna", supportRole)
	mia := fd.NewUser("mia")
	general := fd.TextChannel(fd.Guild, "general")
	r := newRigWith(t, clock, func(o *solutions.Options, core *bot.Bot, store *storage.Store) {
		o.Poster, o.NudgeAfter, o.Nudges, o.Threads = core, 24*time.Hour, storage.NewSolved(store), store
	})
	discordRig(t, fd, r, supportRole)

	ask := func(text string) string {
		q := fd.Post(general, mia, text, true)
		th := bot.ThreadRef{Platform: bot.PlatformDiscord, ChannelID: general, ThreadID: q.ID}
		waitUntil(t, "the bot's answer in the history", func() bool { return lastRole(t, r, th) == bot.RoleBot })
		return q.ID
	}
	en := ask("How do I install the bot on Linux?")
	de := ask("Wie installiere ich den Bot unter Linux?")
	claimed := ask("How do I make a backup?")
	if err := r.store.SetOwner(ctx, bot.ThreadRef{Platform: bot.PlatformDiscord, ChannelID: general, ThreadID: claimed},
		bot.Owner{Staff: "anna", Since: clock.Now()}); err != nil {
		t.Fatal(err)
	}
	staff := ask("Which port does the dashboard use?")
	fd.Post(staff, anna, "Port 8080 by default; set web.addr to change it.", false)
	waitUntil(t, "the staff answer in the history", func() bool {
		return lastRole(t, r, bot.ThreadRef{Platform: bot.PlatformDiscord, ChannelID: general, ThreadID: staff}) == bot.RoleStaff
	})

	clock.Advance(23 * time.Hour)
	if err := r.svc.Nudge(ctx); err != nil {
		t.Fatal(err)
	}
	for _, th := range []string{en, de, claimed, staff} {
		if n := nudged(fd, th, "✅"); n != 0 {
			t.Fatalf("nudged after 23h in %s", th)
		}
	}
	clock.Advance(time.Hour + time.Minute)
	if err := r.svc.Nudge(ctx); err != nil {
		t.Fatal(err)
	}
	for _, want := range []struct{ thread, text string }{{en, nudgeEN}, {de, nudgeDE}, {staff, nudgeEN}} {
		if nudged(fd, want.thread, want.text) != 1 {
			t.Fatalf("after 24h no %q in: %+v", want.text, fd.BotMessages(want.thread))
		}
	}
	if nudged(fd, claimed, "✅") != 0 {
		t.Errorf("nudged in a claimed thread: %+v", fd.BotMessages(claimed))
	}
	clock.Advance(72 * time.Hour)
	if err := r.svc.Nudge(ctx); err != nil {
		t.Fatal(err)
	}
	if nudged(fd, en, nudgeEN) != 1 || nudged(fd, staff, nudgeEN) != 1 {
		t.Fatalf("nudged twice: %+v", fd.BotMessages(en))
	}

	// The asker's ✅ on the nudge marks the staff thread solved.
	var nudgeMsg discordtest.Message
	for _, m := range fd.BotMessages(staff) {
		if strings.Contains(m.Content, nudgeEN) {
			nudgeMsg = m
		}
	}
	fd.React(staff, nudgeMsg.ID, mia, "✅")
	waitUntil(t, "the candidate", func() bool { return len(r.pending(t)) == 1 })
	if c := r.pending(t)[0]; c.Answer != "Port 8080 by default; set web.addr to change it." || c.By != "asker" {
		t.Fatalf("candidate = %+v", c)
	}

	// Run: a thread answered now is nudged by the loop once due; a thread
	// marked solved before it is due is not.
	later := ask("How do I change the bot's name?")
	solvedTh := ask("Where is the config file?")
	reply := fd.Post(solvedTh, anna, "Next to the binary: config.yaml.", false)
	fd.React(solvedTh, reply.ID, mia, "✅")
	waitUntil(t, "the second candidate", func() bool { return len(r.pending(t)) == 2 })
	runCtx, cancel := context.WithCancel(ctx)
	done := make(chan error, 1)
	go func() { done <- r.svc.Run(runCtx) }()
	t.Cleanup(func() { cancel(); <-done })
	deadline := time.Now().Add(10 * time.Second)
	for nudged(fd, later, nudgeEN) == 0 {
		if time.Now().After(deadline) {
			t.Fatalf("Run sent no nudge: %+v", fd.BotMessages(later))
		}
		clock.Advance(time.Hour)
		time.Sleep(5 * time.Millisecond)
	}
	if n := nudged(fd, solvedTh, "✅"); n != 0 {
		t.Errorf("nudged a solved thread: %+v", fd.BotMessages(solvedTh))
	}
}

// The nudge on Slack: the asker's thread answered by the bot gets the
// nudge after the quiet time; a ✅ (white_check_mark) on it by the asker
// is taken as "solved by the bot's answer" (no candidate: that answer came
// from the knowledge base already).
func TestNudgeOnSlack(t *testing.T) {
	const help, mia = "C0HELP", "U0MIA"
	ctx := context.Background()
	clock := bottest.NewClock(time.Now())
	fake := slacktest.New(slacktest.Options{AckTimeout: 3 * time.Second, PingInterval: 100 * time.Millisecond})
	t.Cleanup(fake.Close)
	fake.AddChannel(help, "help", slacktest.Public)
	fake.AddUser(mia, "mia")
	r := newRigWith(t, clock, func(o *solutions.Options, core *bot.Bot, store *storage.Store) {
		o.Poster, o.NudgeAfter, o.Nudges, o.Threads = core, 24*time.Hour, storage.NewSolved(store), store
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
	ts := fake.Post(help, mia, "@einsatz how do I install the bot?", "")
	inThread := func(part string) (slacktest.Message, bool) {
		for _, m := range fake.Posted() {
			if m.Channel == help && m.ThreadTS == ts && strings.Contains(m.Text, part) {
				return m, true
			}
		}
		return slacktest.Message{}, false
	}
	waitUntil(t, "the bot's answer in the history", func() bool {
		n, err := storage.NewSolved(r.store).Nudges(ctx)
		return err == nil && len(n) == 1 && lastRole(t, r, n[0].Thread) == bot.RoleBot
	})
	clock.Advance(24 * time.Hour)
	if err := r.svc.Nudge(ctx); err != nil {
		t.Fatal(err)
	}
	m, ok := inThread(nudgeEN)
	if !ok {
		t.Fatalf("no nudge in the thread: %+v", fake.Posted())
	}
	fake.React(help, mia, m.TS, "white_check_mark", false)
	clock.Advance(48 * time.Hour)
	if err := r.svc.Nudge(ctx); err != nil {
		t.Fatal(err)
	}
	count := 0
	for _, p := range fake.Posted() {
		if strings.Contains(p.Text, nudgeEN) {
			count++
		}
	}
	if count != 1 {
		t.Errorf("%d nudges, want 1", count)
	}
	if len(r.pending(t)) != 0 {
		t.Errorf("a ✅ on the nudge of a thread only the bot answered made a candidate: %+v", r.pending(t))
	}
}
