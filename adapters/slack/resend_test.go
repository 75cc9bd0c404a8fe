package slack_test

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"strings"
	"testing"

	"github.com/einsatz/einsatz/adapters/slack"
	"github.com/einsatz/einsatz/adapters/slack/slacktest"
	"github.com/einsatz/einsatz/bot"
)

// A run posts the replies of an event and is killed before it records
// that; the next run resumes the event and sends its replies again, named
// the same (ReplyTo, Part), through Resend. Each message of a reply the
// killed run posted is found by its metadata and not posted again; what it
// had not posted is. In a thread (conversations.replies) and at a DM's top
// level (conversations.history).
func TestResentReplyAfterCrashIsNotPostedTwice(t *testing.T) {
	const dm = "D0ALICE"
	h := start(t, config{setup: func(f *slacktest.Server) { f.AddChannel(dm, "", slacktest.IM) }})
	long := strings.Repeat(strings.Repeat("word ", 580)+"\n\n", slack.SectionsPerMessage+1) // two messages
	short := bot.Reply{Text: "the short answer"}
	longer := bot.Reply{Text: long}

	// The restarted process: a new adapter, never run, that knows nothing
	// of what the first one posted.
	again, err := slack.New(slack.Options{Mode: slack.ModeSocket, BotToken: h.fake.BotToken(), AppToken: h.fake.AppToken(),
		APIURL: h.fake.APIURL(), Logger: slog.New(slog.NewTextHandler(io.Discard, nil))})
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name   string
		dm     bool
		before []bot.Reply // what the killed run posted
		resend bot.Reply
		want   int // messages the resend posts
	}{
		{"thread, posted", false, []bot.Reply{short}, short, 0},
		{"thread, not posted", false, nil, short, 1},
		{"thread, long, posted", false, []bot.Reply{longer}, longer, 0},
		{"thread, first message posted", false, []bot.Reply{short}, longer, 1}, // the second message of the answer
		{"thread, another part posted", false, []bot.Reply{{Text: "other", Part: 1}}, short, 1},
		{"DM, posted", true, []bot.Reply{short}, short, 0},
		{"DM, not posted", true, nil, short, 1},
	}
	for i, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			to := bot.ThreadRef{Platform: bot.PlatformSlack, ChannelID: general, ThreadID: h.fake.Post(general, alice, fmt.Sprint("question ", i), "")}
			if tt.dm {
				to = bot.ThreadRef{Platform: bot.PlatformSlack, ChannelID: dm, ThreadID: slack.DMThread}
			}
			key := fmt.Sprint("slack:msg:", to.ChannelID, ":", i)
			for _, r := range tt.before {
				r.ReplyTo = key
				if err := h.adapter.Send(context.Background(), to, r); err != nil {
					t.Fatal(err)
				}
			}
			n := len(h.fake.Posted())
			r := tt.resend
			r.ReplyTo = key
			if err := again.Resend(context.Background(), to, r); err != nil {
				t.Fatal(err)
			}
			if got := len(h.fake.Posted()) - n; got != tt.want {
				t.Errorf("the resend posted %d messages, want %d", got, tt.want)
			}
		})
	}
	h.settle()
	for _, m := range h.fake.Posted() {
		if m.Metadata == nil || m.Metadata.EventType != "einsatz_reply" {
			t.Errorf("reply %s posted without its metadata: %+v", m.TS, m.Metadata)
		}
	}
}
