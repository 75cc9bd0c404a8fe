package discord_test

import (
	"context"
	"strings"
	"testing"

	"github.com/einsatz/einsatz/adapters/discord"
	"github.com/einsatz/einsatz/bot"
)

var _ bot.DirectMessenger = (*discord.Adapter)(nil)

// The core's DirectMessage opens the person's DM channel (once) and posts
// there, pinging nobody and split at Discord's limit like any other send;
// a person who refuses DMs (50007) gets an error naming the cause.
func TestDirectMessageOpensChannelAndSplits(t *testing.T) {
	t.Parallel()
	e := start(t, envOptions{})
	ctx := context.Background()
	alice := e.srv.NewUser("Alice")
	long := "Update <@" + alice.ID + "> @everyone " + strings.Repeat("word ", 500) // > 2000 characters
	if err := e.core.DirectMessage(ctx, bot.PlatformDiscord, alice.ID, bot.Reply{Text: long}); err != nil {
		t.Fatal(err)
	}
	if err := e.core.DirectMessage(ctx, bot.PlatformDiscord, alice.ID, bot.Reply{Text: "short"}); err != nil {
		t.Fatal(err)
	}
	got := e.srv.DirectMessages(alice)
	if len(got) != 3 {
		t.Fatalf("%d DMs, want the long one in 2 parts and the short one", len(got))
	}
	for _, m := range got {
		if len([]rune(m.Content)) > discord.MaxMessage || len(m.Mentions) != 0 || m.AllowedMentions == nil {
			t.Errorf("DM part: %d characters, pings %v, allowed mentions %+v", len([]rune(m.Content)), m.Mentions, m.AllowedMentions)
		}
		if m.ChannelID != e.srv.DMChannel(alice) {
			t.Errorf("DM in channel %s, want alice's DM channel", m.ChannelID)
		}
	}
	if got[2].Content != "short" {
		t.Errorf("last DM = %q", got[2].Content)
	}

	bob := e.srv.NewUser("Bob")
	e.srv.BlockDMs(bob, true)
	err := e.core.DirectMessage(ctx, bot.PlatformDiscord, bob.ID, bot.Reply{Text: "hi"})
	if err == nil || !strings.Contains(err.Error(), "does not accept direct messages") {
		t.Errorf("DM to a person refusing DMs: %v", err)
	}
	if err := e.core.DirectMessage(ctx, bot.PlatformDiscord, "424242", bot.Reply{Text: "hi"}); err == nil {
		t.Error("DM to an unknown user did not fail")
	}
}
