package handoff_test

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/einsatz/einsatz/adapters/discord"
	"github.com/einsatz/einsatz/adapters/discord/discordtest"
	"github.com/einsatz/einsatz/adapters/slack"
	"github.com/einsatz/einsatz/adapters/slack/slacktest"
	"github.com/einsatz/einsatz/bot"
	"github.com/einsatz/einsatz/bot/bottest"
	"github.com/einsatz/einsatz/bot/escalation"
	"github.com/einsatz/einsatz/handlers/handoff"
	"github.com/einsatz/einsatz/storage"
)

// relayWorld is a fake Discord server and a fake Slack workspace, with a
// member and a staff member on each.
type relayWorld struct {
	fd                 *discordtest.Server
	fs                 *slacktest.Server
	support            string
	dAnna, dMia        discordtest.User
	dGeneral, dStaffCh string
	dir                string
	clock              *bottest.Clock
	staff              bot.ThreadRef     // staff.channel
	avatars            map[string]string // handoff.Options.Avatars (staff.web[].avatar)
	log                []string          // the conversation as the fakes saw it, for docs/handoff.md
}

func newRelayWorld(t *testing.T, staffPlatform string) *relayWorld {
	t.Helper()
	w := &relayWorld{dir: t.TempDir(), clock: bottest.NewClock(time.Now())}
	w.fd = discordtest.New(t, discordtest.Options{})
	w.support = w.fd.AddRole(w.fd.Guild, "support")
	w.dAnna, w.dMia = w.fd.NewUser("anna", w.support), w.fd.NewUser("mia")
	w.dAnna.Avatar = "a1b2c3d4"
	w.dGeneral, w.dStaffCh = w.fd.TextChannel(w.fd.Guild, "general"), w.fd.TextChannel(w.fd.Guild, "staff")
	w.fs = slacktest.New(slacktest.Options{AckTimeout: 3 * time.Second, PingInterval: 100 * time.Millisecond})
	t.Cleanup(w.fs.Close)
	w.fs.AddChannel(slackHelp, "help", slacktest.Public)
	w.fs.AddChannel(slackStaff, "staff", slacktest.Private)
	w.fs.AddUser(slackMia, "mia")
	w.fs.AddUser(slackAnna, "anna")
	w.staff = bot.ThreadRef{Platform: bot.PlatformSlack, ChannelID: slackStaff}
	if staffPlatform == bot.PlatformDiscord {
		w.staff = bot.ThreadRef{Platform: bot.PlatformDiscord, ChannelID: w.dStaffCh}
	}
	return w
}

func (w *relayWorld) say(format string, args ...any) {
	w.log = append(w.log, fmt.Sprintf(format, args...))
}

// relayRig is one run of the real core with both adapters on the world's
// data directory; stop ends it (a restart is stop, then a new rig).
type relayRig struct {
	core  *bot.Bot
	store *storage.Store
	svc   *handoff.Service
	stop  func()
}

func (w *relayWorld) start(t *testing.T) *relayRig {
	t.Helper()
	store, err := storage.Open(storage.Options{Path: w.dir, Logger: discard})
	if err != nil {
		t.Fatal(err)
	}
	answer := bot.HandlerFunc(func(_ context.Context, ev *bot.Event) ([]bot.Reply, error) {
		return []bot.Reply{{Text: "answer: " + ev.Text}}, nil
	})
	core := bot.New(bot.Options{Store: store, Router: bot.NewRouter(answer), Logger: discard, Clock: w.clock})
	svc := handoff.New(handoff.Options{Store: storage.NewHandoff(store), Owners: store, History: store, Relays: storage.NewRelay(store),
		Poster: core, Clock: w.clock, Logger: discard, Text: text, AutoTakeover: true, StaffChannel: w.staff, Avatars: w.avatars})
	core.Route(svc.Routes()...)
	core.Observe(svc)
	da, err := discord.New(discord.Options{Token: w.fd.Token, APIURL: w.fd.URL, StaffRoles: []string{w.support},
		Commands: core.Commands(), GuildIDs: []string{w.fd.Guild}, Logger: discard})
	if err != nil {
		t.Fatal(err)
	}
	sa, err := slack.New(slack.Options{BotToken: w.fs.BotToken(), AppToken: w.fs.AppToken(), APIURL: w.fs.APIURL(),
		StaffUsers: []string{slackAnna}, Commands: core.Commands(), Logger: discard, Customize: true,
		PingTimeout: time.Second, NameWait: time.Second})
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- core.Run(ctx, da, sa) }()
	r := &relayRig{core: core, store: store, svc: svc}
	stopped := false
	r.stop = func() {
		if stopped {
			return
		}
		stopped = true
		cancel()
		<-done
		store.Close()
	}
	t.Cleanup(r.stop)
	return r
}

// slackThread is every message in a Slack thread (the root excluded), the
// bot's and people's, deleted ones marked.
func slackThread(fs *slacktest.Server, channel, ts string) []slacktest.Message {
	var out []slacktest.Message
	for _, m := range fs.Posted() {
		if m.Channel == channel && m.ThreadTS == ts {
			out = append(out, m)
		}
	}
	return out
}

func countText(msgs []slacktest.Message, s string) int {
	n := 0
	for _, m := range msgs {
		if !m.Deleted && strings.Contains(m.Text, s) {
			n++
		}
	}
	return n
}

// hooked is the messages of a Discord channel or thread posted through a
// webhook (staff replies in their own name).
func hooked(fd *discordtest.Server, channelID string) []discordtest.Message {
	var out []discordtest.Message
	for _, m := range fd.Messages(channelID) {
		if m.WebhookID != "" {
			out = append(out, m)
		}
	}
	return out
}

// hookedBy counts the webhook messages of a thread posted under author
// whose content is text.
func hookedBy(fd *discordtest.Server, channelID, author, text string) int {
	n := 0
	for _, m := range hooked(fd, channelID) {
		if m.Author.Name == author && m.Content == text {
			n++
		}
	}
	return n
}

func countContent(msgs []discordtest.Message, s string) int {
	n := 0
	for _, m := range msgs {
		if strings.Contains(m.Content, s) {
			n++
		}
	}
	return n
}

// A Discord member's escalation answered from a Slack staff thread: the
// notice opens the thread with the summary and recent messages; anna's
// reply there reaches mia's Discord thread in her name and claims the
// escalation; mia's reply is mirrored back and her edit follows; a note
// stays in the staff thread; anna's edit follows into Discord. The core
// restarts in the middle on the same data directory, a redelivery with
// another key comes in, and nothing is relayed twice.
func TestRelayDiscordMemberSlackStaff(t *testing.T) {
	w := newRelayWorld(t, bot.PlatformSlack)
	r := w.start(t)
	if !w.fd.WaitConnected(10*time.Second) || !w.fs.WaitConnected(1, 10*time.Second) {
		t.Fatal("the adapters did not connect")
	}
	ctx := context.Background()

	q := w.fd.Post(w.dGeneral, w.dMia, "How do I export my data?", true)
	w.say("discord #general  mia: @einsatz How do I export my data?")
	waitUntil(t, "the answer", func() bool { return countContent(w.fd.BotMessages(q.ID), "answer: How do I export") == 1 })
	w.say("discord thread    einsatz: %s", w.fd.BotMessages(q.ID)[0].Content)
	w.fd.Post(q.ID, w.dMia, "That did not work, I want to talk to a human", false)
	w.say("discord thread    mia: That did not work, I want to talk to a human")
	member := bot.ThreadRef{Platform: bot.PlatformDiscord, ChannelID: w.dGeneral, ThreadID: q.ID}

	// The staff thread: the notice is its root, a first line says how it works.
	var root slacktest.Message
	waitUntil(t, "the escalation in the Slack staff channel", func() bool {
		for _, m := range w.fs.Posted() {
			if m.Channel == slackStaff && m.ThreadTS == "" && strings.Contains(m.Text, "Escalation") {
				root = m
				return true
			}
		}
		return false
	})
	for _, want := range []string{"mia in discord/" + w.dGeneral, "Recent messages:", "answer: How do I export my data?", "mia: That did not work"} {
		if !strings.Contains(root.Text, want) {
			t.Fatalf("staff thread root lacks %q:\n%s", want, root.Text)
		}
	}
	w.say("slack #staff      einsatz: %s", root.Text)
	waitUntil(t, "the first line of the staff thread", func() bool {
		return countText(slackThread(w.fs, slackStaff, root.TS), "Replies in this thread go to mia") == 1
	})
	w.say("slack thread      einsatz: %s", slackThread(w.fs, slackStaff, root.TS)[0].Text)
	e, _, err := storage.NewHandoff(r.store).Escalation(ctx, member)
	if err != nil || e.StaffThread != (bot.ThreadRef{Platform: bot.PlatformSlack, ChannelID: slackStaff, ThreadID: root.TS}) {
		t.Fatalf("escalation's staff thread = %+v, %v", e.StaffThread, err)
	}

	// anna answers from Slack: mia reads it in Discord, in anna's name.
	reply := w.fs.Post(slackStaff, slackAnna, "Hi Mia, which version do you run?", root.TS)
	w.say("slack thread      anna: Hi Mia, which version do you run?")
	waitUntil(t, "the reply in mia's thread", func() bool {
		return hookedBy(w.fd, q.ID, "anna (staff)", "Hi Mia, which version do you run?") == 1
	})
	if wh := w.fd.Webhooks(w.dGeneral); len(wh) != 1 || wh[0].Name != discord.WebhookName {
		t.Fatalf("webhooks of #general = %+v, want the one the bot created", wh)
	}
	if m := hooked(w.fd, q.ID)[0]; m.AvatarURL != slacktest.AvatarURL(slackAnna, 72) {
		t.Fatalf("anna's reply has avatar %q, want her Slack picture", m.AvatarURL)
	}
	w.say("discord thread    anna (staff) [webhook]: Hi Mia, which version do you run?")
	// The state machine's step follows the post.
	waitUntil(t, "the escalation answered and claimed by anna", func() bool {
		e, _, _ = storage.NewHandoff(r.store).Escalation(ctx, member)
		return e.Status == escalation.StatusAnswered && e.ClaimedBy == "anna"
	})
	if o, _ := r.store.Owner(ctx, member); o.Staff != "anna" {
		t.Fatalf("owner of mia's thread = %+v, want anna", o)
	}
	waitUntil(t, "the takeover notice, once", func() bool { return countContent(w.fd.BotMessages(q.ID), "TEXT:takeover") == 1 })

	// mia answers in Discord: it reaches the staff thread; the bot is silent.
	m1 := w.fd.Post(q.ID, w.dMia, "Version 2.1 on Windows", false)
	w.say("discord thread    mia: Version 2.1 on Windows")
	waitUntil(t, "mia's reply in the staff thread", func() bool {
		return countText(slackThread(w.fs, slackStaff, root.TS), "mia: Version 2.1 on Windows") == 1
	})
	w.say("slack thread      einsatz: mia: Version 2.1 on Windows")
	w.fd.EditMessage(q.ID, m1.ID, "Version 2.2 on Windows")
	w.say("discord thread    (mia edits her message to \"Version 2.2 on Windows\")")
	waitUntil(t, "the edit in the staff thread", func() bool {
		return countText(slackThread(w.fs, slackStaff, root.TS), "mia: Version 2.2 on Windows") == 1
	})
	w.say("slack thread      (einsatz's copy now reads \"mia: Version 2.2 on Windows\", chat.update)")

	// A note stays in the staff thread and on the escalation.
	w.fs.Post(slackStaff, slackAnna, "// she is on the legacy plan, check billing first", root.TS)
	w.say("slack thread      anna: // she is on the legacy plan, check billing first   (a note: stays here)")
	waitUntil(t, "the note on the escalation", func() bool {
		e, _, _ := storage.NewHandoff(r.store).Escalation(ctx, member)
		for _, c := range e.Changes {
			if c.Action == escalation.ActionNote && strings.Contains(c.Text, "legacy plan") {
				return true
			}
		}
		return false
	})

	// anna corrects herself: the copy in Discord follows.
	w.fs.Edit(slackStaff, reply, "Hi Mia, which version and which OS do you run?")
	w.say("slack thread      (anna edits her message to \"Hi Mia, which version and which OS do you run?\")")
	waitUntil(t, "anna's edit in mia's thread", func() bool {
		return hookedBy(w.fd, q.ID, "anna (staff)", "Hi Mia, which version and which OS do you run?") == 1
	})
	w.say("discord thread    (the webhook message now reads \"Hi Mia, which version and which OS do you run?\")")

	// Restart on the same data directory.
	r.stop()
	r = w.start(t)
	if !w.fd.WaitConnected(10*time.Second) || !w.fs.WaitConnected(2, 10*time.Second) {
		t.Fatal("the adapters did not reconnect")
	}
	// The same Slack message delivered again, under another key (as an
	// app_mention and a message are): the relay's own record stops it.
	if err := r.core.Submit(bot.Event{Key: "again:" + reply, Kind: bot.KindMessage, Platform: bot.PlatformSlack, ChannelID: slackStaff,
		ThreadID: root.TS, MessageID: reply, User: bot.User{Platform: bot.PlatformSlack, ID: slackAnna, Name: "anna", Staff: true},
		Text: "Hi Mia, which version do you run?", Time: time.Now()}); err != nil {
		t.Fatal(err)
	}
	// And a new message after the restart goes through, once.
	w.fs.Post(slackStaff, slackAnna, "Please try Settings > Export > All data.", root.TS)
	w.say("slack thread      anna: Please try Settings > Export > All data.   (after a restart of einsatz)")
	waitUntil(t, "the reply after the restart", func() bool {
		return hookedBy(w.fd, q.ID, "anna (staff)", "Please try Settings > Export > All data.") == 1
	})
	w.say("discord thread    anna (staff) [webhook]: Please try Settings > Export > All data.")
	w.fd.Post(q.ID, w.dMia, "That worked, thanks!", false)
	w.say("discord thread    mia: That worked, thanks!")
	waitUntil(t, "mia's thanks in the staff thread", func() bool {
		return countText(slackThread(w.fs, slackStaff, root.TS), "mia: That worked, thanks!") == 1
	})
	w.say("slack thread      einsatz: mia: That worked, thanks!")
	time.Sleep(200 * time.Millisecond) // room for a duplicate to show
	bots := w.fd.BotMessages(q.ID)
	if n := len(hooked(w.fd, q.ID)); n != 2 || countContent(bots, "(staff):") != 0 {
		t.Fatalf("%d staff replies through the webhook in mia's thread, want 2 (each once); the bot's:\n%s", n, contents(bots))
	}
	if wh := w.fd.Webhooks(w.dGeneral); len(wh) != 1 {
		t.Fatalf("%d webhooks in #general after the restart, want the first one reused", len(wh))
	}
	if countContent(bots, "legacy plan") != 0 {
		t.Fatalf("the note reached the member:\n%s", contents(bots))
	}
	if countContent(bots, "answer:") != 1 {
		t.Fatalf("the bot answered in the staff-owned thread:\n%s", contents(bots))
	}
	staffMsgs := slackThread(w.fs, slackStaff, root.TS)
	if countText(staffMsgs, "mia: Version") != 1 || countText(staffMsgs, "mia: That worked") != 1 {
		t.Fatalf("mirrors in the staff thread:\n%s", slackTexts(staffMsgs))
	}
	for _, m := range staffMsgs {
		if m.User == w.fs.BotUserID() && strings.HasPrefix(m.Text, "answer:") {
			t.Fatalf("the bot answered in the staff thread:\n%s", slackTexts(staffMsgs))
		}
	}
	t.Logf("transcript:\n%s", strings.Join(w.log, "\n"))
}

// A Slack member's escalation answered from a Discord staff thread: the
// notice opens a Discord thread; anna's message there reaches mia's Slack
// thread under anna's name (chat:write.customize); mia's reply comes back,
// her deletion follows, a note stays.
func TestRelaySlackMemberDiscordStaff(t *testing.T) {
	w := newRelayWorld(t, bot.PlatformDiscord)
	r := w.start(t)
	if !w.fd.WaitConnected(10*time.Second) || !w.fs.WaitConnected(1, 10*time.Second) {
		t.Fatal("the adapters did not connect")
	}
	ctx := context.Background()

	q := w.fs.Post(slackHelp, slackMia, "@einsatz I need a real person, my invoice is wrong", "")
	member := bot.ThreadRef{Platform: bot.PlatformSlack, ChannelID: slackHelp, ThreadID: q}
	waitUntil(t, "the escalation in the Discord staff channel", func() bool { return len(w.fd.BotMessages(w.dStaffCh)) == 1 })
	root := w.fd.BotMessages(w.dStaffCh)[0]
	if !strings.Contains(root.Content, "mia in slack/"+slackHelp) || !strings.Contains(root.Content, "Recent messages:") {
		t.Fatalf("staff thread root:\n%s", root.Content)
	}
	// The first line started a thread from the notice: its id is the notice's.
	waitUntil(t, "the staff thread", func() bool { return countContent(w.fd.BotMessages(root.ID), "Replies in this thread go to mia") == 1 })

	w.fd.Post(root.ID, w.dAnna, "Hi Mia, I am looking at your invoice now.", false)
	var got slacktest.Message
	waitUntil(t, "anna's reply in mia's Slack thread", func() bool {
		for _, m := range slackThread(w.fs, slackHelp, q) {
			if strings.Contains(m.Text, "I am looking at your invoice now.") {
				got = m
				return true
			}
		}
		return false
	})
	if got.Username != "anna (staff)" || strings.Contains(got.Text, "(staff):") {
		t.Fatalf("anna's reply: username %q, text %q; want her name as the author", got.Username, got.Text)
	}
	if want := "https://cdn.discordapp.com/avatars/" + w.dAnna.ID + "/a1b2c3d4.png?size=128"; got.IconURL != want {
		t.Fatalf("anna's reply has icon_url %q, want her Discord avatar %q", got.IconURL, want)
	}
	waitUntil(t, "the escalation answered and claimed by anna", func() bool {
		e, _, _ := storage.NewHandoff(r.store).Escalation(ctx, member)
		return e.Status == escalation.StatusAnswered && e.ClaimedBy == "anna"
	})

	m1 := w.fs.Post(slackHelp, slackMia, "It says 40 EUR but I paid 20", q)
	waitUntil(t, "mia's reply in the Discord staff thread", func() bool {
		return countContent(w.fd.BotMessages(root.ID), "mia: It says 40 EUR but I paid 20") == 1
	})
	w.fs.Delete(slackHelp, m1)
	waitUntil(t, "the deletion in the staff thread", func() bool {
		return countContent(w.fd.BotMessages(root.ID), "mia: It says 40 EUR") == 0
	})

	w.fd.Post(root.ID, w.dAnna, "// refund approved by Tom", false)
	waitUntil(t, "the note", func() bool {
		e, _, _ := storage.NewHandoff(r.store).Escalation(ctx, member)
		return len(e.Changes) > 0 && e.Changes[len(e.Changes)-1].Action == escalation.ActionNote
	})
	time.Sleep(200 * time.Millisecond)
	if n := countText(slackThread(w.fs, slackHelp, q), "refund approved"); n != 0 {
		t.Fatalf("the note reached mia: %s", slackTexts(slackThread(w.fs, slackHelp, q)))
	}
	for _, m := range w.fd.BotMessages(root.ID) {
		if strings.HasPrefix(m.Content, "answer:") {
			t.Fatalf("the bot answered in the staff thread: %q", m.Content)
		}
	}
}

// A Slack app without chat:write.customize: Slack refuses a custom author
// (missing_scope), so anna's replies reach mia's Slack thread from the
// bot with "**anna** (staff):" in the text — the first one too, and the
// edit keeps the name.
func TestRelaySlackWithoutCustomizeScope(t *testing.T) {
	w := newRelayWorld(t, bot.PlatformDiscord)
	var scopes []string
	for _, sc := range slacktest.AllScopes {
		if sc != "chat:write.customize" {
			scopes = append(scopes, sc)
		}
	}
	w.fs.SetScopes(scopes...)
	w.start(t)
	if !w.fd.WaitConnected(10*time.Second) || !w.fs.WaitConnected(1, 10*time.Second) {
		t.Fatal("the adapters did not connect")
	}
	q := w.fs.Post(slackHelp, slackMia, "@einsatz I need a real person, my invoice is wrong", "")
	waitUntil(t, "the escalation in the Discord staff channel", func() bool { return len(w.fd.BotMessages(w.dStaffCh)) == 1 })
	root := w.fd.BotMessages(w.dStaffCh)[0]
	waitUntil(t, "the staff thread", func() bool { return countContent(w.fd.BotMessages(root.ID), "Replies in this thread go to mia") == 1 })

	first := w.fd.Post(root.ID, w.dAnna, "Hi Mia, looking at it.", false)
	w.fd.Post(root.ID, w.dAnna, "Found it.", false)
	waitUntil(t, "both replies in mia's thread, named in the text", func() bool {
		th := slackThread(w.fs, slackHelp, q)
		return countText(th, "anna* (staff): Hi Mia, looking at it.") == 1 && countText(th, "anna* (staff): Found it.") == 1
	})
	w.fd.EditMessage(root.ID, first.ID, "Hi Mia, looking at it now.")
	waitUntil(t, "the edit, still named", func() bool {
		return countText(slackThread(w.fs, slackHelp, q), "anna* (staff): Hi Mia, looking at it now.") == 1
	})
	for _, m := range slackThread(w.fs, slackHelp, q) {
		if m.Username != "" || m.IconURL != "" {
			t.Fatalf("a message with a custom author despite the missing scope: %+v", m)
		}
	}
}
