package cluster_test

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/einsatz/einsatz/adapters/discord"
	"github.com/einsatz/einsatz/adapters/discord/discordtest"
	"github.com/einsatz/einsatz/bot"
	"github.com/einsatz/einsatz/cluster"
)

// Discord interactions in cluster mode: only the first node has a
// gateway session, so it alone gets the interactions and defers them
// ("thinking…"); the replies are posted by the node holding the channel's
// partition, another node, which answers through the interaction's webhook
// with the token the event carried: the deferred response edited once,
// later replies followed up, a silent command's placeholder removed, and
// after the token expired a plain post (a private reply is dropped).
func TestInteractionsAnsweredByTheChannelsNode(t *testing.T) {
	const partitions = 12
	fd := discordtest.New(t, discordtest.Options{})
	release := make(chan struct{}) // lets the "slow" command answer
	commands := []bot.CommandSpec{
		{Name: "ask", Description: "ask", ArgName: "question", ArgHelp: "the question"},
		{Name: "long", Description: "two replies"},
		{Name: "quiet", Description: "no reply"},
		{Name: "slow", Description: "answers once released", ArgName: "question", ArgHelp: "the question"},
		{Name: "secret", Description: "private, answers once released", Private: true},
	}
	nodes := startClusterHandler(t, 3, partitions, func(node string) []bot.Adapter {
		opts := discord.Options{Token: fd.Token, APIURL: fd.URL, GuildIDs: []string{fd.Guild}, Logger: quiet, Commands: commands}
		if node != "n1" {
			// No gateway session: this node gets no interaction, it only posts.
			opts.Gateway = func(ctx context.Context, _ *discord.Adapter) error { <-ctx.Done(); return nil }
		}
		da, err := discord.New(opts)
		if err != nil {
			t.Fatal(err)
		}
		return []bot.Adapter{da}
	}, func(*testNode) bot.Handler {
		return bot.HandlerFunc(func(ctx context.Context, ev *bot.Event) ([]bot.Reply, error) {
			switch {
			case ev.Kind == bot.KindInteraction:
				return []bot.Reply{{Text: "clicked " + ev.Action}}, nil
			case ev.Command == "quiet":
				return nil, nil
			case ev.Command == "long":
				return []bot.Reply{{Text: "first"}, {Text: "second"}}, nil
			case ev.Command == "slow", ev.Command == "secret":
				select {
				case <-release:
				case <-ctx.Done():
					return nil, ctx.Err()
				}
			}
			return []bot.Reply{{Text: "answer: " + ev.Args}}, nil
		})
	})
	waitFor(t, 10*time.Second, "one gateway session", func() bool { return fd.Connected() == 1 })
	waitFor(t, 15*time.Second, "4 partitions on each node", func() bool {
		for _, n := range nodes {
			if len(n.node.Held()) != 4 {
				return false
			}
		}
		return true
	})
	holder := func(channelID string) string {
		cp := cluster.Partition(bot.ThreadRef{Platform: bot.PlatformDiscord, ChannelID: channelID}, partitions)
		for _, n := range nodes {
			if slices.Contains(n.node.Held(), cp) {
				return n.name
			}
		}
		return ""
	}
	// A channel whose replies another node than the gateway's posts.
	var channel, poster string
	for i := 0; poster == "" || poster == "n1"; i++ {
		channel = fd.TextChannel(fd.Guild, fmt.Sprintf("help-%d", i))
		poster = holder(channel)
	}
	mia := fd.NewUser("mia")
	t.Logf("interactions reach n1's gateway; channel %s is %s's", channel, poster)

	// ok counts the interaction's responses the fake accepted, by kind.
	ok := func(id string) map[string][]string {
		out := map[string][]string{}
		for _, r := range fd.InteractionResponses(id) {
			if r.Status < 300 {
				out[r.Kind] = append(out[r.Kind], r.Content)
			}
		}
		return out
	}
	// plain is the bot's messages in the channel that answer no interaction.
	plain := func() []string {
		var out []string
		for _, m := range fd.BotMessages(channel) {
			if m.Interaction == "" {
				out = append(out, m.Content)
			}
		}
		return out
	}
	settle := func() { time.Sleep(300 * time.Millisecond) } // a second answer would show by now

	t.Run("command edits the deferred response once", func(t *testing.T) {
		id := fd.SlashCommand(channel, mia, "ask", "how do I reset?")
		waitFor(t, 15*time.Second, "the answer", func() bool { return len(ok(id)["edit"]) > 0 })
		settle()
		got := ok(id)
		if want := []string{"answer: how do I reset?"}; !slices.Equal(got["edit"], want) {
			t.Errorf("edits %q, want %q", got["edit"], want)
		}
		if len(got["callback"]) != 1 || len(got["followup"]) != 0 || len(got["delete"]) != 0 {
			t.Errorf("responses %v: want the deferral, then one edit", got)
		}
		if p := plain(); len(p) != 0 {
			t.Errorf("plain posts %q instead of the interaction's answer", p)
		}
	})
	t.Run("later replies follow up", func(t *testing.T) {
		id := fd.SlashCommand(channel, mia, "long", "")
		waitFor(t, 15*time.Second, "both replies", func() bool { return len(ok(id)["followup"]) > 0 })
		settle()
		got := ok(id)
		if !slices.Equal(got["edit"], []string{"first"}) || !slices.Equal(got["followup"], []string{"second"}) {
			t.Errorf("responses %v: want the edit \"first\" and the follow-up \"second\"", got)
		}
	})
	t.Run("silent command's placeholder removed", func(t *testing.T) {
		id := fd.SlashCommand(channel, mia, "quiet", "")
		waitFor(t, 15*time.Second, "the placeholder removed", func() bool { return len(ok(id)["delete"]) > 0 })
		settle()
		if got := ok(id); len(got["edit"])+len(got["followup"]) != 0 || len(got["delete"]) != 1 {
			t.Errorf("responses %v: want the deferral and one delete", got)
		}
	})
	t.Run("button click follows up", func(t *testing.T) {
		msg := fd.Post(channel, mia, "a message with a button", false)
		id := fd.ClickButton(channel, msg.ID, mia, "vote:yes")
		waitFor(t, 15*time.Second, "the follow-up", func() bool { return len(ok(id)["followup"]) > 0 })
		settle()
		got := ok(id)
		if !slices.Equal(got["followup"], []string{"clicked vote"}) || len(got["edit"]) != 0 {
			t.Errorf("responses %v: want one follow-up \"clicked vote\"", got)
		}
	})
	t.Run("expired token falls back to a plain post", func(t *testing.T) {
		late := fd.SlashCommand(channel, mia, "slow", "still there?")
		secret := fd.SlashCommand(channel, mia, "secret", "")
		waitFor(t, 15*time.Second, "both deferred", func() bool {
			return len(ok(late)["callback"]) > 0 && len(ok(secret)["callback"]) > 0
		})
		fd.ExpireInteraction(late)
		fd.ExpireInteraction(secret)
		close(release)
		waitFor(t, 15*time.Second, "the plain post", func() bool { return slices.Contains(plain(), "answer: still there?") })
		settle()
		if got := ok(late); len(got["edit"])+len(got["followup"]) != 0 {
			t.Errorf("responses %v after the token expired", got)
		}
		if got := ok(secret); len(got["edit"])+len(got["followup"]) != 0 {
			t.Errorf("private command: responses %v after the token expired", got)
		}
		var n int
		for _, p := range plain() {
			if p == "answer: still there?" {
				n++
			} else if strings.HasPrefix(p, "answer:") {
				t.Errorf("plain post %q: the private command's reply was shown to all", p)
			}
		}
		if n != 1 {
			t.Errorf("the expired command's reply posted %d times, want once", n)
		}
	})
	for _, c := range fd.Typing() {
		if c.ChannelID == channel {
			t.Errorf("a typing indicator in %s: an interaction shows Discord's own \"thinking…\"", channel)
			break
		}
	}
	routed := int64(0)
	for _, n := range nodes {
		routed += n.node.Ops.Routed.Load()
	}
	t.Logf("%d replies posted by the channel's node for another node", routed)
}
