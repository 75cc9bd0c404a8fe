package handoff_test

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/einsatz/einsatz/adapters/slack"
	"github.com/einsatz/einsatz/bot"
	"github.com/einsatz/einsatz/bot/escalation"
	"github.com/einsatz/einsatz/handlers/handoff"
	"github.com/einsatz/einsatz/storage"
)

var (
	consoleAnna = bot.User{Platform: "console", ID: "anna", Name: "anna", Staff: true}
	consoleMia  = bot.User{Platform: "console", ID: "mia", Name: "mia"}
)

func (r *rig) submit(t *testing.T, ev bot.Event) {
	t.Helper()
	ev.Platform, ev.ChannelID, ev.ThreadID = mainThread.Platform, mainThread.ChannelID, mainThread.ThreadID
	if ev.MessageID == "" {
		ev.MessageID = "m1"
	}
	if err := r.core.Submit(ev); err != nil {
		t.Fatal(err)
	}
}

// The takeover reaction: only staff's configured, added reaction takes a
// thread over (with the notice, the bot silent afterwards); anything else
// leaves the bot answering.
func TestTakeoverReaction(t *testing.T) {
	for _, tt := range []struct {
		name     string
		reaction string // Options.Reaction
		user     bot.User
		emoji    string
		removed  bool
		taken    bool
	}{
		{"staff hand", "✋", consoleAnna, "✋", false, true},
		{"member hand", "✋", consoleMia, "✋", false, false},
		{"staff other emoji", "✋", consoleAnna, "👍", false, false},
		{"staff removes hand", "✋", consoleAnna, "✋", true, false},
		{"reaction off", "", consoleAnna, "✋", false, false},
	} {
		t.Run(tt.name, func(t *testing.T) {
			r := start(t, nil, handoff.Options{Reaction: tt.reaction})
			r.h.Say("how do I install it?")
			r.h.WaitFor("answer to how do I install it?", 1)
			r.submit(t, bot.Event{Key: "react-1", Kind: bot.KindReaction, User: tt.user, Reaction: tt.emoji, Removed: tt.removed,
				Target: &bot.Message{ID: "m1", ChannelID: mainThread.ChannelID, ThreadID: mainThread.ThreadID}})
			silenced := r.core.Stats().Silenced
			// Events of one thread run in order: the follow-up is handled
			// after the reaction's observers ran.
			r.h.Say("and then?")
			if tt.taken {
				r.h.WaitFor("TEXT:takeover", 1)
				waitUntil(t, "the follow-up silenced", func() bool { return r.core.Stats().Silenced == silenced+1 })
				if out := r.h.Output(); strings.Contains(out, "answer to and then?") {
					t.Fatalf("the bot answered after the takeover reaction:\n%s", out)
				}
				o, _ := r.store.Owner(context.Background(), mainThread)
				if o.Staff != "anna" || o.By != "anna" {
					t.Fatalf("owner = %+v", o)
				}
				return
			}
			r.h.WaitFor("answer to and then?", 1)
			if out := r.h.Output(); strings.Contains(out, "TEXT:takeover") {
				t.Fatalf("taken over:\n%s", out)
			}
			if o, _ := r.store.Owner(context.Background(), mainThread); !o.Bot() {
				t.Fatalf("owner = %+v, want the bot", o)
			}
		})
	}
}

// A staff reaction in a thread staff already own changes nothing: no
// second notice, the first owner stays.
func TestTakeoverReactionOnOwnedThread(t *testing.T) {
	r := start(t, nil, handoff.Options{Reaction: "✋"})
	r.h.Say(":user anna", ":staff on", "/takeover")
	r.h.WaitFor("TEXT:takeover", 1)
	ben := bot.User{Platform: "console", ID: "ben", Name: "ben", Staff: true}
	r.submit(t, bot.Event{Key: "react-ben", Kind: bot.KindReaction, User: ben, Reaction: "✋"})
	r.h.Say("/release")
	r.h.WaitFor("TEXT:release", 1)
	if n := strings.Count(r.h.Output(), "TEXT:takeover"); n != 1 {
		t.Fatalf("%d takeover notices, want 1:\n%s", n, r.h.Output())
	}
}

// "Talk to a human" on an answer escalates once per thread however often
// it is clicked, and tells the user each time that help is coming.
func TestHumanButtonEscalatesOnce(t *testing.T) {
	r := start(t, nil, handoff.Options{})
	r.h.Say("how do I install it?")
	r.h.WaitFor("answer to how do I install it?", 1)
	for i := range 3 {
		r.submit(t, bot.Event{Key: fmt.Sprint("human-", i), Kind: bot.KindInteraction, Action: handoff.ActionHuman, User: bot.User{Platform: "console", ID: "you", Name: "you"}})
	}
	r.h.WaitFor("TEXT:handoff_asked", 3)
	posts := r.poster.staffPosts()
	if len(posts) != 1 {
		t.Fatalf("%d escalations, want 1: %+v", len(posts), posts)
	}
	if !strings.HasPrefix(posts[0].Text, "Escalation (asked for a human): you in console/console") {
		t.Fatalf("escalation = %q", posts[0].Text)
	}
	e, ok, _ := storage.NewHandoff(r.store).Escalation(context.Background(), mainThread)
	if !ok || e.Status != escalation.StatusOpen || e.Reason != "asked for a human" || e.User.ID != "you" {
		t.Fatalf("escalation = %+v (stored %v)", e, ok)
	}
}

// Outside the hours the button escalates all the same and tells the user
// when staff are back (the rig's clock stands on Thursday 10:00 UTC).
func TestHumanButtonAfterHours(t *testing.T) {
	hours := &handoff.Hours{Location: time.UTC, Days: map[time.Weekday]bool{time.Friday: true}, From: 9 * time.Hour, To: 17 * time.Hour}
	r := start(t, nil, handoff.Options{Hours: hours, Text: func(_, key string) string {
		if key == "handoff_after_hours" {
			return "back {when}"
		}
		return "TEXT:" + key
	}})
	r.submit(t, bot.Event{Key: "human-1", Kind: bot.KindInteraction, Action: handoff.ActionHuman, User: bot.User{Platform: "console", ID: "you", Name: "you"}})
	r.h.WaitFor("back Fri 09:00 UTC", 1)
	if n := len(r.poster.staffPosts()); n != 1 {
		t.Fatalf("%d escalations, want 1", n)
	}
}

// Options.Mention leads the staff-channel post; without it the post starts
// with the escalation itself.
func TestEscalationMention(t *testing.T) {
	for _, tt := range []struct {
		mention string
		want    string
	}{
		{"", "Escalation (asked for a human): you in console/console"},
		{"<@&42>", "<@&42> Escalation (asked for a human): you in console/console"},
		{"<!subteam^S0ONCALL>", "<!subteam^S0ONCALL> Escalation (asked for a human)"},
	} {
		t.Run(tt.mention, func(t *testing.T) {
			r := start(t, nil, handoff.Options{Mention: tt.mention})
			r.h.Say("I want to talk to a human")
			r.h.WaitFor("TEXT:handoff_asked", 1)
			posts := r.poster.staffPosts()
			if len(posts) != 1 || !strings.HasPrefix(strings.TrimSpace(posts[0].Ping+" "+posts[0].Text), tt.want) {
				t.Fatalf("staff posts = %+v, want one starting with %q", posts, tt.want)
			}
			if posts[0].Ping != tt.mention || strings.Contains(posts[0].Text, "<@&") || strings.Contains(posts[0].Text, "<!subteam") {
				t.Fatalf("the mention %q must travel as Ping (which notifies), not in the text: %+v", tt.mention, posts[0])
			}
		})
	}
}

// A member's display name and words in the staff channel's escalation are
// text, not a link that hides its target or a mention: through the Slack
// converter and as Discord Markdown.
func TestEscalationNeutralisesMemberMarkdown(t *testing.T) {
	r := start(t, nil, handoff.Options{})
	r.h.Say(":user [Admin Notice](https://evil.example)")
	r.h.Say("<!channel> @everyone <https://evil.example|Reset your password> I want to talk to a human")
	r.h.WaitFor("TEXT:handoff_asked", 1)
	posts := r.poster.staffPosts()
	if len(posts) != 1 {
		t.Fatalf("%d staff posts, want 1", len(posts))
	}
	text := posts[0].Text
	for _, bad := range []string{"[Admin Notice](", "<!channel>", "@everyone", "<https://evil.example|"} {
		if strings.Contains(text, bad) {
			t.Errorf("staff post keeps %q as markup:\n%s", bad, text)
		}
	}
	if md := slack.Mrkdwn(text); strings.Contains(md, "<https://evil.example") || strings.Contains(md, "<!channel") {
		t.Errorf("as Slack mrkdwn the post links or mentions:\n%s", md)
	}
	if !strings.Contains(text, `\[Admin Notice\]`) {
		t.Errorf("the name is not shown as typed (escaped):\n%s", text)
	}
}
