package cluster_test

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/einsatz/einsatz/bot"
	"github.com/einsatz/einsatz/bot/escalation"
	"github.com/einsatz/einsatz/bot/mood"
	"github.com/einsatz/einsatz/bot/request"
	"github.com/einsatz/einsatz/cluster"
	"github.com/einsatz/einsatz/handlers/inbox"
	"github.com/einsatz/einsatz/handlers/monitor"
	"github.com/einsatz/einsatz/storage"
)

// sharedNode is one node's shared stores and the features over them.
type sharedNode struct {
	esc   *cluster.Escalations
	inbox *cluster.Inbox
	mood  *cluster.Mood
}

// TestSharedState runs the research inbox, the escalations and the
// sentiment monitor on a 3-node cluster over the cluster's buckets (as
// main.go wires them in cluster mode) and checks that what one node
// wrote is what every node reads.
func TestSharedState(t *testing.T) {
	p := &platform{}
	var mu sync.Mutex
	shared := map[string]*sharedNode{}
	const partitions = 6
	nodes := startClusterSetup(t, 3, partitions, func(string) {}, func(node string) []bot.Adapter {
		return []bot.Adapter{&adapter{p: p, node: node}}
	}, func(tn *testNode) {
		ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
		defer cancel()
		esc, err := tn.node.Escalations(ctx, 0)
		if err != nil {
			t.Fatal(err)
		}
		ib, err := tn.node.Inbox(ctx)
		if err != nil {
			t.Fatal(err)
		}
		md, err := tn.node.Mood(ctx, storage.NewSentiment(tn.store))
		if err != nil {
			t.Fatal(err)
		}
		no := false
		svc := inbox.New(inbox.Options{Store: ib, Logger: quiet, Acknowledge: &no,
			Detect: func(text, _ string) float64 {
				if strings.Contains(strings.ToLower(text), "please add") {
					return 1
				}
				return 0
			}})
		t.Cleanup(svc.Close)
		mon := monitor.New(monitor.Options{Store: md, Logger: quiet, Analyze: func(text, _ string) monitor.Score {
			switch {
			case strings.Contains(text, "love"):
				return monitor.Score{Label: mood.Positive, Score: 0.8, Lang: "en"}
			case strings.Contains(text, "broken"):
				return monitor.Score{Label: mood.Negative, Score: -0.5, Lang: "en"}
			}
			return monitor.Score{Label: mood.Neutral, Lang: "en"}
		}})
		tn.core.Observe(svc, mon)
		mu.Lock()
		shared[tn.name] = &sharedNode{esc: esc, inbox: ib, mood: md}
		mu.Unlock()
	})
	t.Run("inbox items and votes", func(t *testing.T) { testSharedInbox(t, p, nodes, shared, partitions) })
	t.Run("escalation claimed once across nodes", func(t *testing.T) { testSharedEscalation(t, nodes, shared) })
	t.Run("sentiment counts add up on every node", func(t *testing.T) { testSharedMood(t, p, nodes, shared, partitions) })
}

// threadOn returns a thread id (with prefix) whose partition node n
// holds now.
func threadOn(t *testing.T, n *testNode, partitions int, prefix string) string {
	t.Helper()
	held := map[int]bool{}
	for _, p := range n.node.Held() {
		held[p] = true
	}
	for i := range 1000 {
		id := fmt.Sprintf("%s%d", prefix, i)
		if held[cluster.Partition(bot.ThreadRef{Platform: "test", ChannelID: "c", ThreadID: id}, partitions)] {
			return id
		}
	}
	t.Fatalf("%s holds no partition", n.name)
	return ""
}

func message(key, thread, msgID, user, text string) bot.Event {
	return bot.Event{Key: key, Kind: bot.KindMessage, Platform: "test", ChannelID: "c", ThreadID: thread, MessageID: msgID,
		Mentioned: true, User: bot.User{Platform: "test", ID: user, Name: user}, Text: text, Time: time.Now()}
}

// answeredOn waits for the answer to event key and returns the node that
// posted it (so the event was handled there).
func answeredOn(t *testing.T, p *platform, key string) string {
	t.Helper()
	var node string
	waitFor(t, 15*time.Second, "the answer to "+key, func() bool {
		posts := p.byReplyTo()[key]
		if len(posts) > 0 {
			node = posts[0].Node
		}
		return node != ""
	})
	return node
}

// A request filed on node A and the same request asked on node B are one
// item with two votes, read on node C; the same person asking again (on
// C) adds a mention but no vote.
func testSharedInbox(t *testing.T, p *platform, nodes []*testNode, shared map[string]*sharedNode, partitions int) {
	ctx := context.Background()
	a, b, c := nodes[0], nodes[1], nodes[2]
	items := func(n *testNode) []request.Item {
		its, err := shared[n.name].inbox.Items(ctx)
		if err != nil {
			t.Fatal(err)
		}
		return its
	}
	submit := func(n *testNode, ev bot.Event) string {
		t.Helper()
		if err := n.node.Submit(ev); err != nil {
			t.Fatal(err)
		}
		return answeredOn(t, p, ev.Key)
	}
	// Each node files a request of its own first, so each has built its
	// word index (of similar requests) before the dark mode is asked for:
	// it must learn of the items other nodes file.
	others := []string{"Please add calendar invitations for scheduled community events",
		"Please add Jira webhooks that open tickets automatically", "Please add two-factor authentication with hardware keys"}
	for i, n := range nodes {
		key := fmt.Sprintf("ib-other-%d", i)
		submit(n, message(key, threadOn(t, n, partitions, "io"), key, "olga", others[i]))
	}
	const ask = "Please add a dark mode to the dashboard"
	darkMode := func(n *testNode) (request.Item, int) {
		var found request.Item
		count := 0
		for _, it := range items(n) {
			if strings.Contains(it.Title, "dark mode") {
				found = it
				count++
			}
		}
		return found, count
	}
	if on := submit(a, message("ib-1", threadOn(t, a, partitions, "ia"), "ib-m1", "alice", ask)); on != a.name {
		t.Logf("the first request was handled on %s (its partition moved)", on)
	}
	waitFor(t, 5*time.Second, "node B to see the item", func() bool { _, k := darkMode(b); return k == 1 })
	onB := submit(b, message("ib-2", threadOn(t, b, partitions, "ib"), "ib-m2", "bob", ask+"!"))
	// bob again, in another thread, on the third node: a mention, no vote.
	onC := submit(c, message("ib-3", threadOn(t, c, partitions, "ic"), "ib-m3", "bob", ask+" please"))
	if onB == onC {
		t.Logf("bob's requests were both handled on %s (partitions moved)", onB)
	}
	for _, n := range nodes {
		deadline := time.Now().Add(5 * time.Second)
		for {
			it, k := darkMode(n)
			if k == 1 && len(it.Mentions) == 3 && len(items(n)) == 4 {
				break
			}
			if time.Now().After(deadline) {
				for _, it := range items(n) {
					t.Logf("%s: #%d %q %d mentions %d votes", n.name, it.ID, it.Title, len(it.Mentions), it.VoteCount)
				}
				t.Fatalf("%s does not read one dark mode item with three mentions", n.name)
			}
			time.Sleep(20 * time.Millisecond)
		}
		if it, k := darkMode(n); k != 1 || it.VoteCount != 2 || len(it.Votes) != 2 {
			t.Errorf("%s reads %d dark mode items, %d votes (%+v), want one item, 2 votes: alice and bob once", n.name, k, it.VoteCount, it.Votes)
		}
	}
	// A repeat vote through the store, from another node, is refused.
	it, _ := darkMode(c)
	id := it.ID
	if _, voted, err := shared[a.name].inbox.Vote(ctx, id, request.Vote{Platform: "test", UserID: "bob", Time: time.Now()}); err != nil || voted {
		t.Errorf("bob voting again on %s: voted %v, err %v; want refused", a.name, voted, err)
	}
	if _, voted, err := shared[a.name].inbox.Vote(ctx, id, request.Vote{Platform: "test", UserID: "carol", Time: time.Now()}); err != nil || !voted {
		t.Errorf("carol's first vote on %s: voted %v, err %v", a.name, voted, err)
	}
	waitFor(t, 5*time.Second, "carol's vote on "+c.name, func() bool { it, _ := darkMode(c); return it.VoteCount == 3 })
}

// An open escalation claimed at once by staff on two nodes (five tries
// each) is claimed once: the compare-and-set makes the second see the
// first's claim. Then two nodes dismiss it at once: one dismissal.
func testSharedEscalation(t *testing.T, nodes []*testNode, shared map[string]*sharedNode) {
	ctx := context.Background()
	thread := bot.ThreadRef{Platform: "test", ChannelID: "c", ThreadID: "esc-1"}
	created := time.Now().UTC().Truncate(time.Millisecond)
	e := escalation.Escalation{ID: escalation.IDOf(thread, created), Thread: thread, User: bot.User{Platform: "test", ID: "dora"},
		Reason: "asked for a person", Created: created, Status: escalation.StatusOpen}
	if ok, err := shared[nodes[0].name].esc.OpenEscalation(ctx, e); err != nil || !ok {
		t.Fatalf("open: %v %v", ok, err)
	}
	if ok, err := shared[nodes[1].name].esc.OpenEscalation(ctx, e); err != nil || ok {
		t.Fatalf("opening it again on another node: stored %v, err %v; want refused", ok, err)
	}
	for _, n := range nodes {
		waitFor(t, 5*time.Second, n.name+" to see the escalation", func() bool {
			_, ok, _ := shared[n.name].esc.Escalation(ctx, thread)
			return ok
		})
	}
	errTaken := errors.New("claimed already")
	race := func(action string, guard func(escalation.Escalation) error) (wins []string) {
		var mu sync.Mutex
		var wg sync.WaitGroup
		var start sync.WaitGroup
		start.Add(1)
		for _, n := range nodes[1:] {
			for i := range 5 {
				staff := fmt.Sprintf("%s-staff%d", n.name, i)
				wg.Go(func() {
					start.Wait()
					_, err := shared[n.name].esc.UpdateEscalation(ctx, thread, func(cur *escalation.Escalation) error {
						if err := guard(*cur); err != nil {
							return err
						}
						return cur.Apply(action, staff, time.Now(), "")
					})
					switch {
					case err == nil:
						mu.Lock()
						wins = append(wins, staff)
						mu.Unlock()
					case !errors.Is(err, errTaken) && !errors.Is(err, escalation.ErrIllegal):
						t.Errorf("%s %s: %v", staff, action, err)
					}
				})
			}
		}
		start.Done()
		wg.Wait()
		return wins
	}
	// The desk's claim of an open escalation: who is second finds it taken.
	wins := race(escalation.ActionClaim, func(cur escalation.Escalation) error {
		if cur.Status != escalation.StatusOpen {
			return errTaken
		}
		return nil
	})
	if len(wins) != 1 {
		t.Fatalf("claims that succeeded: %v, want exactly one", wins)
	}
	for _, n := range nodes {
		waitFor(t, 5*time.Second, n.name+" to see the claim", func() bool {
			cur, _, _ := shared[n.name].esc.Escalation(ctx, thread)
			return cur.ClaimedBy == wins[0]
		})
		cur, _, _ := shared[n.name].esc.Escalation(ctx, thread)
		claims := 0
		for _, ch := range cur.Changes {
			if ch.Action == escalation.ActionClaim {
				claims++
			}
		}
		if cur.Status != escalation.StatusClaimed || claims != 1 {
			t.Errorf("%s reads status %s with %d claims in its audit, want claimed once", n.name, cur.Status, claims)
		}
	}
	if wins := race(escalation.ActionDismiss, func(escalation.Escalation) error { return nil }); len(wins) != 1 {
		t.Errorf("dismissals that succeeded: %v, want exactly one (a dismissed escalation cannot be dismissed again)", wins)
	}
	all, err := shared[nodes[0].name].esc.Escalations(ctx)
	if err != nil || len(all) != 1 {
		t.Fatalf("escalations on %s: %d, %v", nodes[0].name, len(all), err)
	}
	waitFor(t, 5*time.Second, "every node to see it dismissed", func() bool {
		for _, n := range nodes {
			if cur, _, _ := shared[n.name].esc.Escalation(ctx, thread); cur.Status != escalation.StatusDismissed {
				return false
			}
		}
		return true
	})
}

// Messages handled on the three nodes are counted in every node's
// aggregates; one message handled again on another node (as after a
// failover: the same message under a new event) is counted once.
func testSharedMood(t *testing.T, p *platform, nodes []*testNode, shared map[string]*sharedNode, partitions int) {
	ctx := context.Background()
	ch := mood.Channel{Platform: "test", ID: "c"}
	day := func(n *testNode) mood.Bucket {
		bs, err := shared[n.name].mood.Buckets(ctx, mood.Day, ch, time.Now().AddDate(0, 0, -2), time.Now().AddDate(0, 0, 1))
		if err != nil {
			t.Fatal(err)
		}
		var sum mood.Bucket
		for _, b := range bs {
			sum.N, sum.Pos, sum.Neu, sum.Neg = sum.N+b.N, sum.Pos+b.Pos, sum.Neu+b.Neu, sum.Neg+b.Neg
		}
		return sum
	}
	// The inbox subtest's messages were counted too: start from what every
	// node agrees on.
	waitFor(t, 5*time.Second, "the nodes to agree on the counts so far", func() bool {
		first := day(nodes[0])
		for _, x := range nodes[1:] {
			if day(x) != first {
				return false
			}
		}
		return true
	})
	before := day(nodes[0])
	var n atomic.Int64
	handledOn := map[string]int{}
	texts := []string{"I love it", "it is broken", "just a note"}
	for i, x := range nodes {
		thread := threadOn(t, x, partitions, fmt.Sprintf("mood%d-", i))
		for j, text := range texts {
			key := fmt.Sprintf("mood-%d-%d", i, j)
			n.Add(1)
			if err := x.node.Submit(message(key, thread, key, "u", text)); err != nil {
				t.Fatal(err)
			}
			handledOn[answeredOn(t, p, key)]++
		}
	}
	// mood-0-1 ("it is broken", handled on the first node) comes again as
	// a new event in a thread of the last node.
	again := message("mood-again", threadOn(t, nodes[2], partitions, "again-"), "mood-0-1", "u", "it is broken")
	if err := nodes[2].node.Submit(again); err != nil {
		t.Fatal(err)
	}
	handledOn[answeredOn(t, p, "mood-again")]++
	t.Logf("sentiment events handled per node: %v", handledOn)
	// A spike alert sent by one node holds the cooldown on every node.
	alerted := time.Now().UTC().Truncate(time.Second)
	if err := shared[nodes[0].name].mood.SetLastAlert(ctx, ch, alerted); err != nil {
		t.Fatal(err)
	}
	waitFor(t, 5*time.Second, "the alert time on "+nodes[2].name, func() bool {
		at, err := shared[nodes[2].name].mood.LastAlert(ctx, ch)
		return err == nil && at.Equal(alerted)
	})
	want := mood.Bucket{N: before.N + 9, Pos: before.Pos + 3, Neu: before.Neu + 3, Neg: before.Neg + 3}
	for _, x := range nodes {
		waitFor(t, 5*time.Second, x.name+" to count every node's messages", func() bool { return day(x).N >= want.N })
		time.Sleep(100 * time.Millisecond) // a repeat counted would arrive meanwhile
		if got := day(x); got != want {
			t.Errorf("%s counts %+v, want %+v (ten events, one message twice)", x.name, got, want)
		}
	}
}
