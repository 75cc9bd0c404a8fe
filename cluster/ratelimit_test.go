package cluster_test

import (
	"fmt"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/einsatz/einsatz/adapters/discord"
	"github.com/einsatz/einsatz/adapters/discord/discordtest"
	"github.com/einsatz/einsatz/bot"
	"github.com/einsatz/einsatz/cluster"
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
	// Partitions move until each node holds its share; a node that takes
	// the channel's partition starts without the channel's rate-limit
	// state (docs/cluster.md), so the burst starts once they are even.
	waitFor(t, 15*time.Second, "4 partitions on each node", func() bool {
		for _, n := range nodes {
			if len(n.node.Held()) != 4 {
				return false
			}
		}
		return true
	})
	cp := cluster.Partition(bot.ThreadRef{Platform: bot.PlatformDiscord, ChannelID: lounge}, 12)
	holder := func() string {
		for _, n := range nodes {
			if slices.Contains(n.node.Held(), cp) {
				return n.name
			}
		}
		return ""
	}
	holders := map[string]bool{holder(): true}
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
	waitFor(t, 60*time.Second, "every question answered", func() bool {
		holders[holder()] = true
		return len(answered()) == questions
	})
	took := time.Since(began)
	time.Sleep(300 * time.Millisecond) // a second answer would show now
	for id, k := range answered() {
		if k != 1 {
			t.Errorf("question %s answered %d times", id, k)
		}
	}
	// The channel's partition moving (a lease renewal late on a loaded
	// machine) may cost one 429 per move: the new node learns the
	// channel's rate-limit state from its first answer.
	delete(holders, "")
	if got, moves := fd.RateLimited()-limitedBefore, len(holders)-1; got > moves {
		t.Errorf("the fake answered 429 to %d requests (the channel's partition moved %d times): the nodes together went over %d posts a second", got, moves, limit)
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
	t.Logf("%d questions handled by %d nodes, %d answers posted for another node by the channel's node (held by %v), all in %s, 429s: %d",
		questions, handlers, routed, holders, took.Round(10*time.Millisecond), fd.RateLimited()-limitedBefore)
}

// The node that posts a channel's replies dies mid-stream: the other
// nodes' replies to that channel wait until another node took its
// partition, then go on through that one; every acknowledged event is
// answered once, each thread in order.
func TestKillChannelNodeMidStream(t *testing.T) {
	defer func(r []string) { testRouted = r }(testRouted)
	testRouted = []string{"test"} // every reply through the node of channel "c"
	p := &platform{}
	const partitions, threads, perThread = 8, 24, 9
	nodes := startClusterSlow(t, 3, partitions, p, 20*time.Millisecond)
	cp := cluster.Partition(bot.ThreadRef{Platform: "test", ChannelID: "c"}, partitions)
	var victim *testNode
	for _, n := range nodes {
		if slices.Contains(n.node.Held(), cp) {
			victim = n
		}
	}
	if victim == nil {
		t.Fatalf("no node holds partition %d, channel c's", cp)
	}
	var mu sync.Mutex
	acked := map[string]bool{}
	submit := func(nodes []*testNode, from, to int) {
		var wg sync.WaitGroup
		for th := range threads {
			wg.Go(func() {
				for seq := from; seq < to; seq++ {
					ev := event(th, seq)
					if err := nodes[(th+seq)%len(nodes)].node.Submit(ev); err != nil {
						t.Errorf("submit %s: %v", ev.Key, err)
						return
					}
					mu.Lock()
					acked[ev.Key] = true
					mu.Unlock()
				}
			})
		}
		wg.Wait()
	}
	submit(nodes, 0, perThread/3)
	var others int64
	waitFor(t, 10*time.Second, "replies in flight through the channel's node", func() bool {
		others = 0
		for _, n := range without(nodes, victim) {
			others += n.node.Ops.Routed.Load()
		}
		return others > 0 && len(p.byReplyTo()) < len(acked)
	})
	killedAt := time.Now()
	victim.kill()
	nodes = without(nodes, victim)
	submit(nodes, perThread/3, perThread)
	waitFor(t, 30*time.Second, "every acknowledged event answered", func() bool {
		got := p.byReplyTo()
		for k := range acked {
			if len(got[k]) == 0 {
				return false
			}
		}
		return true
	})
	took := time.Since(killedAt)
	time.Sleep(300 * time.Millisecond) // a second answer would show now
	checkOnceInOrder(t, p, acked)
	posters := map[string]int{}
	for _, x := range p.snapshot() {
		posters[x.Node]++
	}
	t.Logf("killed %s (channel c's partition %d) after %d replies of other nodes went through it; all %d events answered %.1fs after the kill; posts per node %v",
		victim.name, cp, others, len(acked), took.Seconds(), posters)
}
