package cluster

import (
	"context"
	"errors"
	"io"
	"log/slog"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/einsatz/einsatz/bot"
)

// countingSender counts posts; the first waits until release is closed.
type countingSender struct {
	n       atomic.Int64
	release chan struct{}
}

func (s *countingSender) Send(ctx context.Context, _ bot.ThreadRef, _ bot.Reply) error {
	if s.n.Add(1) == 1 {
		select {
		case <-s.release:
		case <-ctx.Done():
			return ctx.Err()
		}
	}
	return nil
}

type refusingSender struct{ t *testing.T }

func (s refusingSender) Send(context.Context, bot.ThreadRef, bot.Reply) error {
	s.t.Error("a node posted a reply to a channel whose partition another node holds")
	return nil
}

// A reply to a channel another node holds is posted by that node, once
// however often it is asked (a request answered late is sent again); the
// post is noticed to the asking node. While no node holds the channel's
// partition the asking node waits, and gives up once the partition of the
// reply's own event is lost.
func TestChannelNodePostsAReplyOnce(t *testing.T) {
	s := soloServer(t, Settings{Partitions: 8, Replicas: 1, LeaseTTL: time.Minute})
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
	to := bot.ThreadRef{Platform: bot.PlatformDiscord, ChannelID: "general", ThreadID: "m1"}
	cp := channelPartition(to, s.Partitions)
	// a holds the channel's partition (as a lease round would make it).
	hold, drop := context.WithCancel(ctx)
	defer drop()
	lease := &lease{renewed: time.Now(), ctx: hold, cancel: drop, stop: func() {}}
	a.mu.Lock()
	a.held[cp] = lease
	a.mu.Unlock()
	sub, err := a.servePosts(cp, lease)
	if err != nil {
		t.Fatal(err)
	}
	defer func() { _ = sub.Unsubscribe() }()
	platform := &countingSender{release: make(chan struct{})}
	a.Register(bot.PlatformDiscord, platform)

	r := bot.Reply{Text: "re: hello", ReplyTo: "e1"}
	var wg sync.WaitGroup
	errs := make([]error, 2)
	for i := range errs {
		wg.Go(func() { errs[i] = b.send(ctx, ctx, refusingSender{t}, to, r, "e1#1", nil) })
	}
	// Both requests are with a, the first post waits for the platform.
	waitUntil(t, "a's post to start", func() bool { return platform.n.Load() == 1 })
	time.Sleep(50 * time.Millisecond)
	close(platform.release)
	wg.Wait()
	for i, err := range errs {
		if err != nil {
			t.Errorf("request %d: %v", i, err)
		}
	}
	if got := platform.n.Load(); got != 1 {
		t.Errorf("the reply was posted %d times, want once", got)
	}
	if err := b.send(ctx, ctx, refusingSender{t}, to, r, "e1#1", nil); err != nil || platform.n.Load() != 1 {
		t.Errorf("asked again after the post: %v, %d posts", err, platform.n.Load())
	}
	if got := b.Ops.Routed.Load(); got != 3 {
		t.Errorf("%d replies posted for b by the channel's node, want 3 (one post)", got)
	}
	waitUntil(t, "b noticing the post", func() bool { return b.wasNoticed("e1#1") })

	// No node holds the channel's partition now: b waits until its own
	// hold of the event's partition ends.
	drop()
	_ = sub.Unsubscribe()
	a.mu.Lock()
	delete(a.held, cp)
	a.mu.Unlock()
	own, lost := context.WithCancel(ctx)
	time.AfterFunc(300*time.Millisecond, lost)
	began := time.Now()
	err = b.send(ctx, own, refusingSender{t}, to, bot.Reply{Text: "re: later", ReplyTo: "e2"}, "e2#1", nil)
	if !errors.Is(err, errHoldLost) {
		t.Errorf("with no node holding the channel: %v, want errHoldLost", err)
	}
	if waited := time.Since(began); waited < 250*time.Millisecond {
		t.Errorf("gave up after %s, before the event's partition was lost", waited)
	}
}

func waitUntil(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(5 * time.Millisecond)
	}
}
