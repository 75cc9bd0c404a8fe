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

func noteWith(t *testing.T, r *relayRig, member bot.ThreadRef, text string) bool {
	t.Helper()
	e, _, _ := storage.NewHandoff(r.store).Escalation(context.Background(), member)
	for _, c := range e.Changes {
		if c.Action == escalation.ActionNote && strings.Contains(c.Text, text) {
			return true
		}
	}
	return false
}

// A 📝 (memo) reaction by staff on their message in a Slack staff thread
// makes it a note: the copy already relayed into the Discord member's
// thread (through the webhook) is deleted, the text goes on the
// escalation as a note, and a later edit of the message does not bring
// it back. A message that was not relayed stays unrelayed; replies
// without the reaction still go through.
func TestRelayNoteByReactionSlackStaff(t *testing.T) {
	w := newRelayWorld(t, bot.PlatformSlack)
	r := w.start(t)
	if !w.fd.WaitConnected(10*time.Second) || !w.fs.WaitConnected(1, 10*time.Second) {
		t.Fatal("the adapters did not connect")
	}
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
	oops := w.fs.Post(slackStaff, slackAnna, "Her account id is 4711, billing owns it", root.TS)
	waitUntil(t, "the message in mia's thread", func() bool {
		return hookedBy(w.fd, q.ID, "anna (staff)", "Her account id is 4711, billing owns it") == 1
	})
	w.fs.React(slackStaff, slackAnna, oops, "memo", false)
	waitUntil(t, "the copy taken back from mia's thread", func() bool {
		return hookedBy(w.fd, q.ID, "anna (staff)", "Her account id is 4711, billing owns it") == 0
	})
	waitUntil(t, "the note on the escalation", func() bool { return noteWith(t, r, member, "account id is 4711") })

	w.fs.Edit(slackStaff, oops, "Her account id is 4711, billing owns it (Tom)")
	w.fs.Post(slackStaff, slackAnna, "Hi Mia, I have asked billing.", root.TS)
	waitUntil(t, "the next reply in mia's thread", func() bool {
		return hookedBy(w.fd, q.ID, "anna (staff)", "Hi Mia, I have asked billing.") == 1
	})
	time.Sleep(200 * time.Millisecond) // room for the edit to (wrongly) show
	for _, m := range w.fd.Messages(q.ID) {
		if strings.Contains(m.Content, "4711") {
			t.Fatalf("the note reached mia: %+v", m)
		}
	}
	// A reaction that is not the memo, or taken back, changes nothing.
	w.fs.React(slackStaff, slackAnna, oops, "memo", true)
	w.fs.React(slackStaff, slackAnna, oops, "eyes", false)
	time.Sleep(200 * time.Millisecond)
	if n := len(hooked(w.fd, q.ID)); n != 1 {
		t.Fatalf("%d staff messages in mia's thread, want 1", n)
	}
}

// The other way round: a Discord staff thread, a Slack member. The memo
// reaction on anna's Discord message deletes its copy in mia's Slack
// thread (chat.delete) and keeps it as a note.
func TestRelayNoteByReactionDiscordStaff(t *testing.T) {
	w := newRelayWorld(t, bot.PlatformDiscord)
	r := w.start(t)
	if !w.fd.WaitConnected(10*time.Second) || !w.fs.WaitConnected(1, 10*time.Second) {
		t.Fatal("the adapters did not connect")
	}
	q := w.fs.Post(slackHelp, slackMia, "@einsatz I need a real person, my invoice is wrong", "")
	member := bot.ThreadRef{Platform: bot.PlatformSlack, ChannelID: slackHelp, ThreadID: q}
	waitUntil(t, "the escalation in the Discord staff channel", func() bool { return len(w.fd.BotMessages(w.dStaffCh)) == 1 })
	root := w.fd.BotMessages(w.dStaffCh)[0]
	waitUntil(t, "the staff thread", func() bool { return countContent(w.fd.BotMessages(root.ID), "Replies in this thread go to mia") == 1 })

	m := w.fd.Post(root.ID, w.dAnna, "Refund approved by Tom, 20 EUR", false)
	waitUntil(t, "the message in mia's thread", func() bool {
		return countText(slackThread(w.fs, slackHelp, q), "Refund approved by Tom") == 1
	})
	w.fd.React(root.ID, m.ID, w.dAnna, "📝")
	waitUntil(t, "the copy deleted from mia's thread", func() bool {
		return countText(slackThread(w.fs, slackHelp, q), "Refund approved by Tom") == 0
	})
	waitUntil(t, "the note on the escalation", func() bool { return noteWith(t, r, member, "Refund approved by Tom") })
}

// A 📝 on an older staff message after a restart: the new Slack adapter
// never saw the message, and Slack's reaction event does not name its
// thread. The adapter asks conversations.replies for it, so the reaction
// lands in the staff thread and the copy in mia's Discord thread is taken
// back all the same.
func TestRelayNoteByReactionAfterRestartSlackStaff(t *testing.T) {
	w := newRelayWorld(t, bot.PlatformSlack)
	r := w.start(t)
	if !w.fd.WaitConnected(10*time.Second) || !w.fs.WaitConnected(1, 10*time.Second) {
		t.Fatal("the adapters did not connect")
	}
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
	oops := w.fs.Post(slackStaff, slackAnna, "Her account id is 4711, billing owns it", root.TS)
	waitUntil(t, "the message in mia's thread", func() bool {
		return hookedBy(w.fd, q.ID, "anna (staff)", "Her account id is 4711, billing owns it") == 1
	})

	r.stop()
	r = w.start(t)
	if !w.fd.WaitConnected(10*time.Second) || !w.fs.WaitConnected(2, 10*time.Second) {
		t.Fatal("the adapters did not reconnect")
	}
	w.fs.React(slackStaff, slackAnna, oops, "memo", false)
	waitUntil(t, "the copy taken back from mia's thread", func() bool {
		return hookedBy(w.fd, q.ID, "anna (staff)", "Her account id is 4711, billing owns it") == 0
	})
	waitUntil(t, "the note on the escalation", func() bool { return noteWith(t, r, member, "4711") })
	for _, m := range slackThread(w.fs, slackStaff, root.TS) {
		if strings.Contains(m.Text, "cannot be taken back") {
			t.Fatalf("the staff thread was told the copy stays: %q", m.Text)
		}
	}
}
