package cluster_test

import (
	"fmt"
	"testing"
	"time"

	"github.com/einsatz/einsatz/adapters/discord/discordtest"
)

// On Discord without shards every node's gateway session receives every
// message: three nodes with the unmodified discordgo client against the
// fake publish each message three times, the stream keeps it once, and
// the bot answers each question once, in a thread of its own.
func testDiscord(t *testing.T, fd *discordtest.Server, nodes []*testNode) {
	general := fd.TextChannel(fd.Guild, "general")
	mia := fd.NewUser("mia")
	var before int64
	for _, n := range nodes {
		before += n.node.Ops.Events.Load()
	}
	handledBefore := handled(nodes)
	waitFor(t, 10*time.Second, "three gateway sessions", func() bool { return fd.Connected() == 3 })

	const questions = 30
	var ids []string
	for i := range questions {
		ids = append(ids, fd.Post(general, mia, fmt.Sprintf("question %d?", i), true).ID)
	}
	waitFor(t, 30*time.Second, "every question answered", func() bool {
		for _, id := range ids {
			if len(fd.BotMessages(id)) == 0 {
				return false
			}
		}
		return true
	})
	// Every event completed (answered and acknowledged): a second answer
	// would have been posted before its event's completion.
	waitFor(t, 30*time.Second, "every event completed", func() bool {
		return handled(nodes)-handledBefore >= int64(len(ids))
	})
	for i, id := range ids {
		got := fd.BotMessages(id)
		if len(got) != 1 {
			t.Errorf("question %d answered %d times", i, len(got))
			continue
		}
		if want := fmt.Sprintf("re: question %d?", i); got[0].Content != want {
			t.Errorf("question %d: answer %q, want %q", i, got[0].Content, want)
		}
	}
	published := -before
	for _, n := range nodes {
		published += n.node.Ops.Events.Load()
	}
	if published != 3*questions {
		t.Errorf("%d event publishes, want %d: each node's session gets each message", published, 3*questions)
	}
	t.Logf("%d questions, %d event publishes (every node's session got each), each answered once", questions, published)
}

// handled is the number of events the nodes' partitions completed.
func handled(nodes []*testNode) (sum int64) {
	for _, n := range nodes {
		sum += n.node.Ops.Handled.Load()
	}
	return sum
}
