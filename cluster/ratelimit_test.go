package cluster_test

import (
	"fmt"
	"testing"
	"time"

	"github.com/einsatz/einsatz/adapters/discord"
	"github.com/einsatz/einsatz/adapters/discord/discordtest"
	"github.com/einsatz/einsatz/bot"
)

// A burst of questions in one channel is handled by all three nodes (its
// messages are threads of their own, spread over the partitions), and the
// answers go to that one channel: the fake Discord allows 5 posts per
// second on a route and answers 429 beyond. The channel's replies are all
// posted by the node holding the channel's partition, whose discordgo
// keeps to the rate-limit headers, so the fake sees no request over the
// limit (each node posting on its own would go over it: every client
// reads the headers of its own requests only).
func TestChannelRateLimitHoldsAcrossNodes(t *testing.T) {
	const limit, questions = 5, 30
	fd := discordtest.New(t, discordtest.Options{RateLimit: limit})
	nodes := startClusterWith(t, 3, 12, 0, func(string) []bot.Adapter {
		da, err := discord.New(discord.Options{Token: fd.Token, APIURL: fd.URL, GuildIDs: []string{fd.Guild}, Logger: quiet})
		if err != nil {
			t.Fatal(err)
		}
		return []bot.Adapter{da}
	})
	// A voice channel's text chat: no thread starts there, so every
	// answer is posted to the channel itself, on one rate-limit route.
	lounge := fd.VoiceChannel(fd.Guild, "lounge")
	mia := fd.NewUser("mia")
	waitFor(t, 10*time.Second, "three gateway sessions", func() bool { return fd.Connected() == 3 })
	limitedBefore := fd.RateLimited()
	var handledBefore [3]int64
	for i, n := range nodes {
		handledBefore[i] = n.node.Ops.Handled.Load()
	}

	began := time.Now()
	asked := map[string]bool{}
	for i := range questions {
		asked[fd.Post(lounge, mia, fmt.Sprintf("question %d?", i), true).ID] = true
	}
	answered := func() map[string]int {
		out := map[string]int{}
		for _, m := range fd.BotMessages(lounge) {
			if asked[m.ReferenceID] {
				out[m.ReferenceID]++
			}
		}
		return out
	}
	waitFor(t, 60*time.Second, "every question answered", func() bool { return len(answered()) == questions })
	took := time.Since(began)
	time.Sleep(300 * time.Millisecond) // a second answer would show now
	for id, k := range answered() {
		if k != 1 {
			t.Errorf("question %s answered %d times", id, k)
		}
	}
	if got := fd.RateLimited() - limitedBefore; got != 0 {
		t.Errorf("the fake answered 429 to %d requests: the nodes together went over %d posts a second", got, limit)
	}
	handlers, routed := 0, int64(0)
	for i, n := range nodes {
		if n.node.Ops.Handled.Load() > handledBefore[i] {
			handlers++
		}
		routed += n.node.Ops.Routed.Load()
	}
	if handlers < 2 {
		t.Errorf("the burst was handled by %d node(s): it did not spread, so the test shows nothing", handlers)
	}
	if routed == 0 {
		t.Error("no reply went through another node, though the burst spread over the nodes")
	}
	// At most `limit` posts per second: the answers cannot take less than
	// this (the first second's posts start at once).
	if least := time.Duration(questions/limit-1) * time.Second; took < least {
		t.Errorf("%d answers in %s: faster than %d a second", questions, took, limit)
	}
	t.Logf("%d questions handled by %d nodes, %d answers posted for another node by the channel's node, all in %s, 429s: %d",
		questions, handlers, routed, took.Round(10*time.Millisecond), fd.RateLimited()-limitedBefore)
}
