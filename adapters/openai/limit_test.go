package openai

import (
	"context"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/einsatz/einsatz/adapters/openai/openaitest"
	"github.com/einsatz/einsatz/bot"
	"github.com/einsatz/einsatz/handlers/answer"
	"github.com/einsatz/einsatz/storage"
)

// threadSender records the replies per thread and signals each one.
type threadSender struct {
	mu      sync.Mutex
	byThr   map[string][]string
	arrived chan string
}

func (s *threadSender) Send(_ context.Context, to bot.ThreadRef, r bot.Reply) error {
	s.mu.Lock()
	s.byThr[to.ThreadID] = append(s.byThr[to.ThreadID], r.Text)
	s.mu.Unlock()
	s.arrived <- to.ThreadID + ": " + r.Text
	return nil
}

func (s *threadSender) replies(thread string) []string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]string(nil), s.byThr[thread]...)
}

// With a slow model, the core's workers are not held by threads waiting on
// it: while every model call is stuck, other threads' extractive answers go
// out; the client never has more than MaxConcurrent calls at the provider;
// and a thread's second message still waits for its first's answer.
func TestSlowLLMHoldsNoWorkerAndStaysWithinMaxConcurrent(t *testing.T) {
	const workers, maxConcurrent, llmThreads = 2, 3, 8
	fake := openaitest.Start(t, openaitest.Options{APIKey: testKey})
	release := make(chan struct{})
	var releaseOnce sync.Once
	free := func() { releaseOnce.Do(func() { close(release) }) }
	t.Cleanup(free)
	fake.SetReply(func(req openaitest.Request) openaitest.Reply {
		<-release // the model is slow: nothing comes back until the test says so
		return openaitest.Reply{Content: "llm answer to " + req.User()}
	})
	client := newClient(t, fake, Options{MaxConcurrent: maxConcurrent, MaxRetries: -1})

	store, err := storage.Open(storage.Options{InMemory: true})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { store.Close() })
	b := bot.New(bot.Options{Store: store, Logger: quiet, Concurrency: workers, ShutdownTimeout: time.Second})
	b.Fallback(bot.HandlerFunc(func(ctx context.Context, ev *bot.Event) ([]bot.Reply, error) {
		if !strings.HasPrefix(ev.Text, "llm ") {
			return []bot.Reply{{Text: "extractive " + ev.Text}}, nil // no model needed
		}
		text, err := client.Complete(ctx, []answer.Message{{Role: "user", Content: ev.Text}})
		if err != nil {
			return nil, err
		}
		return []bot.Reply{{Text: text}}, nil
	}))
	out := &threadSender{byThr: map[string][]string{}, arrived: make(chan string, 64)}
	b.Register("test", out)
	t.Cleanup(b.Shutdown)
	submit := func(thread, text string) {
		t.Helper()
		if err := b.Submit(bot.Event{Key: thread + "/" + text, Kind: bot.KindMessage, DM: true, Text: text,
			Platform: "test", ChannelID: "c", ThreadID: thread, MessageID: thread + "/" + text}); err != nil {
			t.Fatal(err)
		}
	}

	for i := range llmThreads {
		submit(fmt.Sprintf("slow%d", i), fmt.Sprintf("llm q%d", i))
	}
	// A follow-up in the first slow thread must wait for that thread's answer.
	submit("slow0", "after")
	deadline := time.Now().Add(10 * time.Second)
	for fake.InFlight() < maxConcurrent {
		if time.Now().After(deadline) {
			t.Fatalf("%d model calls in flight, want %d: the calls do not get past the core's %d workers", fake.InFlight(), maxConcurrent, workers)
		}
		time.Sleep(time.Millisecond)
	}

	// Every model call is stuck; more threads than workers still get answers.
	const fast = 5
	for i := range fast {
		submit(fmt.Sprintf("fast%d", i), fmt.Sprintf("q%d", i))
	}
	for range fast {
		select {
		case got := <-out.arrived:
			if !strings.HasPrefix(got, "fast") {
				t.Fatalf("got %q while the model was stuck", got)
			}
		case <-time.After(10 * time.Second):
			t.Fatalf("extractive answers stuck behind threads waiting on the model (workers %d)", workers)
		}
	}
	if n := fake.PeakInFlight(); n > maxConcurrent {
		t.Fatalf("%d model calls in flight at once, max_concurrent is %d", n, maxConcurrent)
	}
	if got := out.replies("slow0"); len(got) != 0 {
		t.Fatalf("slow0 answered %q before its model call returned: per-thread order broken", got)
	}

	free()
	for range llmThreads + 1 {
		select {
		case <-out.arrived:
		case <-time.After(10 * time.Second):
			t.Fatal("answers did not come after the model recovered")
		}
	}
	if got := out.replies("slow0"); len(got) != 2 || got[0] != "llm answer to llm q0" || got[1] != "extractive after" {
		t.Fatalf("slow0 replies = %q, want the model's answer, then the follow-up's", got)
	}
	if n := fake.PeakInFlight(); n != maxConcurrent {
		t.Fatalf("peak %d model calls in flight, want exactly max_concurrent %d", n, maxConcurrent)
	}
	if n := fake.Calls(openaitest.PathChat); n != llmThreads {
		t.Fatalf("%d model calls, want %d", n, llmThreads)
	}
}
