package handoff_test

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/einsatz/einsatz/adapters/discord/discordtest"
	"github.com/einsatz/einsatz/adapters/slack/slacktest"
	"github.com/einsatz/einsatz/bot"
	"github.com/einsatz/einsatz/bot/escalation"
	"github.com/einsatz/einsatz/storage"
)

// Attachments are relayed as links both ways: a Discord member's
// screenshot (with text, and alone) reaches the Slack staff thread as its
// CDN link; a file anna shares in the staff thread reaches mia's Discord
// thread as its Slack permalink, in anna's name.
func TestRelayAttachmentsAsLinks(t *testing.T) {
	w := newRelayWorld(t, bot.PlatformSlack)
	w.start(t)
	if !w.fd.WaitConnected(10*time.Second) || !w.fs.WaitConnected(1, 10*time.Second) {
		t.Fatal("the adapters did not connect")
	}
	q := w.fd.Post(w.dGeneral, w.dMia, "I want to talk to a human", true)
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
	waitUntil(t, "mia's thread", func() bool { _, ok := w.fd.ChannelInfo(q.ID); return ok })

	shot := w.fd.PostWith(discordtest.PostOptions{ChannelID: q.ID, Author: w.dMia, Content: "Here is the error", Attachments: []string{"error.png"}})
	alone := w.fd.PostWith(discordtest.PostOptions{ChannelID: q.ID, Author: w.dMia, Attachments: []string{"log.txt"}})
	shotURL := discordtest.AttachmentURL(q.ID, shot.ID, 0, "error.png")
	aloneURL := discordtest.AttachmentURL(q.ID, alone.ID, 0, "log.txt")
	waitUntil(t, "both attachments in the staff thread", func() bool {
		th := slackThread(w.fs, slackStaff, root.TS)
		return countText(th, "mia: Here is the error") == 1 && countText(th, shotURL) == 1 && countText(th, aloneURL) == 1
	})

	ts := w.fs.PostFiles(slackStaff, slackAnna, "Follow these steps", root.TS, "steps.pdf")
	link := slacktest.FileLink(slackAnna, "F"+strings.ReplaceAll(ts, ".", "")+"0", "steps.pdf")
	waitUntil(t, "anna's file in mia's thread", func() bool {
		return hookedBy(w.fd, q.ID, "anna (staff)", "Follow these steps\n"+link) == 1
	})
}

// A reply from the dashboard desk to a Discord member goes through the
// channel's webhook too, under the desk account's name and with the
// picture configured for it (staff.web[].avatar).
func TestDeskReplyToDiscordInStaffName(t *testing.T) {
	w := newRelayWorld(t, bot.PlatformSlack)
	w.avatars = map[string]string{"alice": "https://example.org/alice.png"}
	r := w.start(t)
	if !w.fd.WaitConnected(10*time.Second) || !w.fs.WaitConnected(1, 10*time.Second) {
		t.Fatal("the adapters did not connect")
	}
	q := w.fd.Post(w.dGeneral, w.dMia, "I want to talk to a human", true)
	member := bot.ThreadRef{Platform: bot.PlatformDiscord, ChannelID: w.dGeneral, ThreadID: q.ID}
	var id string
	waitUntil(t, "the escalation", func() bool {
		e, found, _ := storage.NewHandoff(r.store).Escalation(context.Background(), member)
		id = e.ID
		return found && e.StaffThread.ThreadID != ""
	})
	if _, err := r.svc.Act(context.Background(), id, escalation.ActionReply, "alice", "Hello Mia, Alice from support here."); err != nil {
		t.Fatal(err)
	}
	got := hooked(w.fd, q.ID)
	if len(got) != 1 || got[0].Author.Name != "alice (staff)" || got[0].Content != "Hello Mia, Alice from support here." ||
		got[0].AvatarURL != "https://example.org/alice.png" {
		t.Fatalf("webhook messages in mia's thread = %+v", got)
	}
}
