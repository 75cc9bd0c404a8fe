package handoff_test

import (
	"strings"
	"testing"
	"time"

	"github.com/einsatz/einsatz/adapters/slack/slacktest"
	"github.com/einsatz/einsatz/bot"
)

// A staff reply is marked as staff in the language of the member's
// thread: "anna (staff)" for an English thread, "anna (Team)" for a
// German one, on Discord (the webhook's username) and on Slack (username),
// and so are their edits' fallbacks.
func TestRelayStaffMarkInMemberLanguage(t *testing.T) {
	for _, tc := range []struct {
		lang, ask, want string
	}{
		{"en", "That did not help, I want to talk to a human", "anna (staff)"},
		{"de", "Das hat nicht geholfen, ich möchte mit einem Menschen sprechen", "anna (Team)"},
	} {
		t.Run(tc.lang+"/discord member, slack staff", func(t *testing.T) {
			w := newRelayWorld(t, bot.PlatformSlack)
			w.start(t)
			if !w.fd.WaitConnected(10*time.Second) || !w.fs.WaitConnected(1, 10*time.Second) {
				t.Fatal("the adapters did not connect")
			}
			q := w.fd.Post(w.dGeneral, w.dMia, tc.ask, true)
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
			waitUntil(t, "the first line of the staff thread", func() bool {
				return countText(slackThread(w.fs, slackStaff, root.TS), "Replies in this thread go to mia") == 1
			})
			w.fs.Post(slackStaff, slackAnna, "Hi Mia", root.TS)
			waitUntil(t, "anna's reply as "+tc.want, func() bool { return hookedBy(w.fd, q.ID, tc.want, "Hi Mia") == 1 })
			if n := len(hooked(w.fd, q.ID)); n != 1 {
				t.Fatalf("%d webhook messages in mia's thread, want 1", n)
			}
		})
		t.Run(tc.lang+"/slack member, discord staff", func(t *testing.T) {
			w := newRelayWorld(t, bot.PlatformDiscord)
			w.start(t)
			if !w.fd.WaitConnected(10*time.Second) || !w.fs.WaitConnected(1, 10*time.Second) {
				t.Fatal("the adapters did not connect")
			}
			q := w.fs.Post(slackHelp, slackMia, "@einsatz "+tc.ask, "")
			waitUntil(t, "the escalation in the Discord staff channel", func() bool { return len(w.fd.BotMessages(w.dStaffCh)) == 1 })
			root := w.fd.BotMessages(w.dStaffCh)[0]
			waitUntil(t, "the staff thread", func() bool { return countContent(w.fd.BotMessages(root.ID), "Replies in this thread go to mia") == 1 })
			w.fd.Post(root.ID, w.dAnna, "Hi Mia", false)
			waitUntil(t, "anna's reply as "+tc.want, func() bool {
				for _, m := range slackThread(w.fs, slackHelp, q) {
					if m.Text == "Hi Mia" && m.Username == tc.want {
						return true
					}
				}
				return false
			})
		})
	}
}
