package cluster_test

import (
	"context"
	"errors"
	"sync"
	"testing"
	"time"

	"github.com/einsatz/einsatz/bot"
)

// stallingAdapter posts like adapter, but the first post of a text starting
// "again:" hangs (the platform does not answer) until ctx ends: the node
// dies between an event's two replies, after the first was posted.
type stallingAdapter struct {
	adapter
	once *sync.Once
}

func (a *stallingAdapter) Send(ctx context.Context, to bot.ThreadRef, r bot.Reply) error {
	if len(r.Text) >= 6 && r.Text[:6] == "again:" {
		stall := false
		a.once.Do(func() { stall = true })
		if stall {
			<-ctx.Done()
			return errors.New("the platform did not answer")
		}
	}
	return a.adapter.Send(ctx, to, r)
}

// An event's first reply is posted, then its node dies before the second
// (and so before the event is acknowledged): the node that takes the
// partition over gets the event again, skips the first reply (it was
// marked posted) and posts the second. Each reply once.
func TestReplyPostedBeforeADeathIsNotPostedAgain(t *testing.T) {
	p := &platform{}
	once := &sync.Once{}
	nodes := startClusterWith(t, 3, 6, 0, func(node string) []bot.Adapter {
		return []bot.Adapter{&stallingAdapter{adapter: adapter{p: p, node: node}, once: once}}
	})
	ev := event(5, 0)
	ev.Text = "twice"
	if err := nodes[0].node.Submit(ev); err != nil {
		t.Fatal(err)
	}
	waitFor(t, 10*time.Second, "the first reply posted", func() bool { return len(p.byReplyTo()[ev.Key]) == 1 })
	first := p.byReplyTo()[ev.Key][0]
	var victim *testNode
	for _, n := range nodes {
		if n.name == first.Node {
			victim = n
		}
	}
	// Let the notice and the mark leave (they are sent right after the
	// post; a node dying within that moment is the window docs/cluster.md
	// describes).
	time.Sleep(100 * time.Millisecond)
	killed := time.Now()
	victim.kill()
	rest := without(nodes, victim)
	waitFor(t, 30*time.Second, "the second reply posted by another node", func() bool { return len(p.byReplyTo()[ev.Key]) >= 2 })
	time.Sleep(300 * time.Millisecond) // a repeat of the first would show now
	posts := p.byReplyTo()[ev.Key]
	texts := map[string]int{}
	for _, x := range posts {
		texts[x.Text]++
	}
	if texts["re: twice"] != 1 || texts["again: twice"] != 1 || len(posts) != 2 {
		t.Errorf("posts %+v, want each reply once", posts)
	}
	var skipped int64
	for _, n := range rest {
		skipped += n.node.Ops.Skipped.Load()
	}
	if skipped != 1 {
		t.Errorf("%d replies skipped as posted before, want 1", skipped)
	}
	t.Logf("%s posted the first reply and died; the second came %.1fs later from %s", victim.name, time.Since(killed).Seconds(), posts[len(posts)-1].Node)
}
