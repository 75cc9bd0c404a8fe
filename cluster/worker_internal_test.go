package cluster

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"

	"github.com/einsatz/einsatz/bot"
)

// recordingCore takes events without handling them: the test plays the
// core's part step by step.
type recordingCore struct {
	mu   sync.Mutex
	keys []string
}

func (c *recordingCore) Submit(ev bot.Event) error {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.keys = append(c.keys, ev.Key)
	return nil
}

type recordingSender struct {
	mu    sync.Mutex
	posts []string // ReplyTo of each post
}

func (s *recordingSender) Send(_ context.Context, _ bot.ThreadRef, r bot.Reply) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.posts = append(s.posts, r.ReplyTo)
	return nil
}

// A node loses a partition while its core holds two events of a thread,
// and takes the partition again. The copies taken under the lost hold must
// not post, also not once the node holds the partition again: the new
// hold's consumer delivers both events again, oldest first, and only those
// copies post, in order. (Before, a copy checked whichever hold the node
// had when it posted: the first event's copy was refused while the
// partition was away, the second's posted under the new hold, and the
// first came again after it: "answer to 4 posted after the answer to 11"
// in TestKillNodeMidStream under load.)
func TestEventsOfALostHoldDoNotPostUnderTheNext(t *testing.T) {
	for _, tc := range []struct {
		name string
		// doneBeforeRetake: the core is done with the lost hold's copies
		// before the partition comes back; otherwise it still holds them
		// when the new consumer delivers the events again.
		doneBeforeRetake bool
	}{
		{"lost copies done before the partition comes back", true},
		{"lost copies still with the core when the events come again", false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			n, events, sender := soloNode(t)
			core := n.core.(*recordingCore)
			thread := bot.ThreadRef{Platform: "test", ChannelID: "c", ThreadID: "t"}
			for i := range 2 {
				ev := bot.Event{Key: fmt.Sprintf("e%d", i), Kind: bot.KindMessage, Platform: "test", ChannelID: "c", ThreadID: "t", Text: "hi"}
				if err := n.Submit(ev); err != nil {
					t.Fatal(err)
				}
			}
			ctx := context.Background()
			first := takeAndFetch(t, n, 2)
			post := func(key, replyTo string) error {
				return n.postReply(ctx, thread, bot.Reply{ReplyTo: key, Text: "re " + replyTo})
			}

			n.drop(0, first) // the lease lapsed
			if err := post("e0", "e0"); err == nil {
				t.Error("the lost hold's copy of e0 posted")
			}
			var second *lease
			if !tc.doneBeforeRetake {
				second = takeAndFetch(t, n, 2)
			}
			n.completed(&bot.Event{Key: "e0", Outcome: bot.OutcomeFailed})
			if tc.doneBeforeRetake {
				second = takeAndFetch(t, n, 2)
			}
			if err := post("e1", "e1"); err == nil {
				t.Errorf("the lost hold's copy of e1 posted under the node's next hold")
			}
			n.completed(&bot.Event{Key: "e1", Outcome: bot.OutcomeAnswered})

			core.mu.Lock()
			again := slices.Clone(core.keys[2:])
			core.mu.Unlock()
			if len(again) != 2 || again[0] == "e0" || again[1] == "e1" {
				t.Fatalf("the events came to the core again as %v, want e0 and e1 under other keys (or the core takes them for repeats)", again)
			}
			for _, key := range again {
				if err := post(key, key); err != nil {
					t.Errorf("posting the reply to %s under the partition's new hold: %v", key, err)
				}
				n.completed(&bot.Event{Key: key, Outcome: bot.OutcomeAnswered})
			}
			sender.mu.Lock()
			posts := slices.Clone(sender.posts)
			sender.mu.Unlock()
			if !slices.Equal(posts, []string{"e0", "e1"}) {
				t.Errorf("posted replies to %v, want [e0 e1]: each once, in order", posts)
			}
			deadline := time.Now().Add(5 * time.Second)
			for {
				info, err := events.Info(ctx)
				if err != nil {
					t.Fatal(err)
				}
				if info.State.Msgs == 0 {
					break
				}
				if time.Now().After(deadline) {
					t.Fatalf("%d events left unacknowledged on the stream under hold %p", info.State.Msgs, second)
				}
				time.Sleep(20 * time.Millisecond)
			}
		})
	}
}

// soloNode connects a node with one partition to a NATS server of its own;
// nothing runs: the test takes the partition and plays the core.
func soloNode(t *testing.T) (*Node, jetstream.Stream, *recordingSender) {
	t.Helper()
	s := soloServer(t, Settings{Partitions: 1, Replicas: 1, LeaseTTL: time.Minute})
	nc, err := nats.Connect("nats://" + s.Client)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(nc.Close)
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	n, err := Connect(ctx, Options{Settings: s, Conn: nc, Logger: slog.New(slog.NewTextHandler(io.Discard, nil))})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = n.Close() })
	sender := &recordingSender{}
	n.Register("test", sender)
	n.core = &recordingCore{}
	return n, n.events, sender
}

// takeAndFetch takes partition 0 afresh (a new hold, a new consumer) and
// hands its events to the core, want of them.
func takeAndFetch(t *testing.T, n *Node, want int) *lease {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	l := &lease{renewed: n.clock.Now(), ctx: ctx, cancel: cancel, stop: func() {}}
	n.mu.Lock()
	n.held[0] = l
	n.mu.Unlock()
	c, before, err := n.consumer(ctx, n.events, "events-0", eventSubject+"0")
	if err != nil {
		t.Fatal(err)
	}
	batch, err := c.Fetch(want, jetstream.FetchMaxWait(2*time.Second))
	if err != nil {
		t.Fatal(err)
	}
	got := 0
	for msg := range batch.Messages() {
		n.handle(0, l, msg, before)
		got++
	}
	if got != want {
		t.Fatalf("fetched %d events, want %d", got, want)
	}
	return l
}
