package cluster

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"testing"
	"time"
)

// One node posts 300 replies in partition 3 at once: their marks go out
// in far fewer publishes than replies; a node connected meanwhile noticed
// them over core NATS; a node joining afterwards and taking the partition
// finds every one of them posted in the stored groups, and nothing else.
func TestPostedMarksAreGroupedAndReadByTheNextHolder(t *testing.T) {
	s := soloServer(t, Settings{Partitions: 8, Replicas: 1, LeaseTTL: time.Second}) // after the nodes' Close (cleanups run last first)
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	log := slog.New(slog.NewTextHandler(io.Discard, nil))
	connect := func(name string) *Node {
		s := s
		s.Node = name
		n, err := Connect(ctx, Options{Settings: s, Logger: log})
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { _ = n.Close() })
		return n
	}
	a, b := connect("a"), connect("b")
	start := time.Now()

	holdA := &lease{ctx: ctx}
	const replies = 300
	for i := range replies {
		id := fmt.Sprintf("e%d#1", i)
		a.notice(id) // as the node that posted it does (post.go)
		a.mark(3, holdA, id)
	}
	a.notice("elsewhere#1")
	a.mark(4, holdA, "elsewhere#1")
	// During its hold a knows what it posted without asking JetStream.
	if ok, err := a.wasPosted(ctx, 3, holdA, "e7#1", time.Now()); err != nil || !ok {
		t.Fatalf("a's own mark: %v %v", ok, err)
	}
	waitStored := time.Now().Add(10 * time.Second)
	for {
		a.marks.mu.Lock()
		busy := a.marks.running
		a.marks.mu.Unlock()
		if !busy {
			break
		}
		if time.Now().After(waitStored) {
			t.Fatal("the marks were not stored within 10s")
		}
		time.Sleep(10 * time.Millisecond)
	}
	publishes := a.Ops.KV.Load()
	if publishes < 2 || publishes > replies/2 {
		t.Errorf("%d publishes for %d marks in two partitions, want from 2 to %d", publishes, replies+1, replies/2)
	}
	t.Logf("%d marks stored in %d publishes", replies+1, publishes)

	// b was connected while a posted: it noticed every reply at once.
	waitNoticed := time.Now().Add(10 * time.Second)
	for !b.wasNoticed(fmt.Sprintf("e%d#1", replies-1)) {
		if time.Now().After(waitNoticed) {
			t.Fatal("b did not notice a's last reply within 10s")
		}
		time.Sleep(10 * time.Millisecond)
	}
	// c joins later and noticed nothing: it reads the stored groups.
	c := connect("c")
	holdC := &lease{ctx: ctx}
	for i := range replies {
		ok, err := c.wasPosted(ctx, 3, holdC, fmt.Sprintf("e%d#1", i), start)
		if err != nil {
			t.Fatal(err)
		}
		if !ok {
			t.Fatalf("c does not find e%d#1 posted", i)
		}
	}
	for _, id := range []string{"e0#2", "never#1"} {
		if ok, err := c.wasPosted(ctx, 3, holdC, id, start); err != nil || ok {
			t.Errorf("c finds %s posted (%v): it was not", id, err)
		}
	}
	// One read for the hold, however many replies were checked.
	if reads := c.Ops.KV.Load(); reads > 4 {
		t.Errorf("c made %d reads to check %d replies", reads, replies+2)
	}
}
