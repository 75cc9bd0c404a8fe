package handoff_test

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/einsatz/einsatz/adapters/slack/slacktest"
	"github.com/einsatz/einsatz/bot"
	"github.com/einsatz/einsatz/bot/escalation"
	"github.com/einsatz/einsatz/storage"
)

// After a hand-back the staff thread gets a closing line that says so, the
// bot answers the member again, and the member's later messages are no
// longer mirrored into the staff thread.
func TestRelayHandBackClosesStaffThread(t *testing.T) {
	w := newRelayWorld(t, bot.PlatformSlack)
	r := w.start(t)
	if !w.fd.WaitConnected(10*time.Second) || !w.fs.WaitConnected(1, 10*time.Second) {
		t.Fatal("the adapters did not connect")
	}
	ctx := context.Background()
	q := w.fd.Post(w.dGeneral, w.dMia, "I want to talk to a human", true)
	member := bot.ThreadRef{Platform: bot.PlatformDiscord, ChannelID: w.dGeneral, ThreadID: q.ID}
	var root slacktest.Message
	waitUntil(t, "the staff thread", func() bool {
		for _, m := range w.fs.Posted() {
			if m.Channel == slackStaff && m.ThreadTS == "" && strings.Contains(m.Text, "Escalation") {
				root = m
				return true
			}
		}
		return false
	})
	waitUntil(t, "the first line of the staff thread", func() bool {
		return countText(slackThread(w.fs, slackStaff, root.TS), "Replies in this thread go to mia") == 1
	})
	w.fs.Post(slackStaff, slackAnna, "Hi Mia, that is fixed now.", root.TS)
	waitUntil(t, "anna's reply in mia's thread", func() bool { return hookedBy(w.fd, q.ID, "anna (staff)", "Hi Mia, that is fixed now.") == 1 })
	w.fd.Post(q.ID, w.dMia, "Great, it works", false)
	waitUntil(t, "mia's reply mirrored", func() bool {
		return countText(slackThread(w.fs, slackStaff, root.TS), "mia: Great, it works") == 1
	})
	if n := countContent(w.fd.BotMessages(q.ID), "answer: Great, it works"); n != 0 {
		t.Fatalf("the bot answered while anna held the thread")
	}

	e, _, err := storage.NewHandoff(r.store).Escalation(ctx, member)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := r.svc.Act(ctx, e.ID, escalation.ActionHandBack, "anna", ""); err != nil {
		t.Fatal(err)
	}
	waitUntil(t, "the closing line in the staff thread", func() bool {
		return countText(slackThread(w.fs, slackStaff, root.TS), "Handed back to the bot by anna: the bot answers mia again") == 1
	})
	waitUntil(t, "the hand-back notice in mia's thread", func() bool { return countContent(w.fd.BotMessages(q.ID), "TEXT:release") == 1 })

	w.fd.Post(q.ID, w.dMia, "One more question about exports", false)
	waitUntil(t, "the bot's answer", func() bool {
		return countContent(w.fd.BotMessages(q.ID), "answer: One more question about exports") == 1
	})
	time.Sleep(300 * time.Millisecond) // room for a mirror to (wrongly) show
	if n := countText(slackThread(w.fs, slackStaff, root.TS), "One more question"); n != 0 {
		t.Fatalf("mia's message after the hand-back was mirrored into the staff thread")
	}
	if n := countText(slackThread(w.fs, slackStaff, root.TS), "Handed back to the bot"); n != 1 {
		t.Fatalf("%d closing lines, want 1", n)
	}
}
