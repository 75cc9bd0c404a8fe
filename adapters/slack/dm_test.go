package slack_test

import (
	"context"
	"strings"
	"testing"

	"github.com/einsatz/einsatz/adapters/slack"
	"github.com/einsatz/einsatz/adapters/slack/slacktest"
	"github.com/einsatz/einsatz/bot"
)

// The core's DirectMessage opens the person's IM with conversations.open
// (once; the channel is cached), posts at its top level and splits a long
// reply like any other send; without the im:write scope it fails and the
// log names the scope.
func TestDirectMessageOpensIMAndSplits(t *testing.T) {
	h := start(t, config{})
	ctx := context.Background()
	long := strings.Repeat("word ", slack.SectionLimit*slack.SectionsPerMessage/5+100) // more than one message
	if err := h.bot.DirectMessage(ctx, bot.PlatformSlack, alice, bot.Reply{Text: long}); err != nil {
		t.Fatal(err)
	}
	if err := h.bot.DirectMessage(ctx, bot.PlatformSlack, alice, bot.Reply{Text: "short"}); err != nil {
		t.Fatal(err)
	}
	got := h.fake.DirectMessages(alice)
	if len(got) != 3 {
		t.Fatalf("%d DMs, want the long reply in 2 messages and the short one", len(got))
	}
	for _, m := range got {
		if m.ThreadTS != "" || !strings.HasPrefix(m.Channel, "D") || m.Channel != got[0].Channel {
			t.Errorf("DM %+v: want the top level of one IM", m)
		}
	}
	if got[2].Text != "short" {
		t.Errorf("last DM = %q", got[2].Text)
	}
	if calls := h.fake.Calls("conversations.open"); len(calls) != 1 || calls[0].Params["users"] != alice {
		t.Errorf("conversations.open calls = %+v, want one for alice", calls)
	}
	if len(h.fake.DirectMessages(bob)) != 0 {
		t.Error("bob got a DM")
	}

	var without []string
	for _, s := range slacktest.AllScopes {
		if s != "im:write" {
			without = append(without, s)
		}
	}
	h.fake.SetScopes(without...)
	if err := h.bot.DirectMessage(ctx, bot.PlatformSlack, bob, bot.Reply{Text: "hi"}); err == nil {
		t.Fatal("DM without im:write did not fail")
	}
	if !strings.Contains(h.logs.String(), "im:write") {
		t.Errorf("log does not name the missing scope:\n%s", h.logs.String())
	}
}
