package answer_test

import (
	"context"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/einsatz/einsatz/adapters/openai/openaitest"
	"github.com/einsatz/einsatz/bot"
	"github.com/einsatz/einsatz/bot/bottest"
	"github.com/einsatz/einsatz/handlers/answer"
	"github.com/einsatz/einsatz/storage"
)

// replies records what the core sends, by thread.
type replies struct {
	mu sync.Mutex
	by map[string][]string
}

func (r *replies) Send(_ context.Context, to bot.ThreadRef, rep bot.Reply) error {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.by[to.ThreadID] = append(r.by[to.ThreadID], rep.Text)
	return nil
}

func (r *replies) get(thread string) []string {
	r.mu.Lock()
	defer r.mu.Unlock()
	return append([]string(nil), r.by[thread]...)
}

// Fault: the LLM goes down for minutes in the middle of a stream of
// questions through the real core. Before, questions get the model's
// answer; while it is down every question still gets exactly one reply,
// the extractive passage under the "LLM unavailable" note, and once the
// breaker has opened the model is not called at all, also minutes later;
// after it recovers and the cooldown has passed, answers come from the model
// again. No question is lost or answered twice.
func TestLLMDownForMinutesMidLoad(t *testing.T) {
	const cooldown = 2 * time.Minute
	clock := bottest.NewClock(time.Date(2026, 12, 7, 9, 0, 0, 0, time.UTC))
	fake, h := setup(t, fixed(docs...), answer.Options{Timeout: 2 * time.Second, BreakerFailures: 3, BreakerCooldown: cooldown, Clock: clock})
	store, err := storage.Open(storage.Options{InMemory: true, Logger: quiet})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { store.Close() })
	core := bot.New(bot.Options{Store: store, Router: bot.NewRouter(h), Concurrency: 8, Clock: clock, Logger: quiet})
	out := &replies{by: map[string][]string{}}
	core.Register("test", out)
	t.Cleanup(core.Shutdown)

	asked := 0
	ask := func(n int) (threads []string) {
		t.Helper()
		for range n {
			thread := fmt.Sprint("t", asked)
			asked++
			if err := core.Submit(bot.Event{Key: thread, Kind: bot.KindMessage, DM: true, Platform: "test", ChannelID: "c",
				ThreadID: thread, MessageID: thread, Text: "How do I start it?", Lang: "en"}); err != nil {
				t.Fatalf("submit %s: %v", thread, err)
			}
			threads = append(threads, thread)
		}
		return threads
	}
	// wait returns each thread's one reply once all have one.
	wait := func(what string, threads []string) []string {
		t.Helper()
		deadline := time.Now().Add(10 * time.Second)
		for {
			var got []string
			for _, th := range threads {
				if r := out.get(th); len(r) > 0 {
					got = append(got, r[0])
				}
			}
			if len(got) == len(threads) {
				return got
			}
			if time.Now().After(deadline) {
				t.Fatalf("%s: %d of %d questions answered", what, len(got), len(threads))
			}
			time.Sleep(5 * time.Millisecond)
		}
	}
	degraded := func(r string) bool {
		return strings.HasPrefix(r, "en:llm_unavailable\n\n") && strings.Contains(r, "Run docker compose up")
	}

	for i, r := range wait("before the outage", ask(10)) {
		if degraded(r) {
			t.Fatalf("before the outage, answer %d is degraded: %q", i, r)
		}
	}

	fake.SetReply(func(openaitest.Request) openaitest.Reply { return openaitest.Reply{Status: 500} })
	for i, r := range wait("as the LLM goes down", ask(20)) {
		if !degraded(r) {
			t.Errorf("while down, answer %d = %q, want the extractive passage under the note", i, r)
		}
	}
	if got := h.BreakerState(); got != "open" {
		t.Fatalf("breaker %s after 20 failed answers, want open", got)
	}
	calls := fake.Calls(openaitest.PathChat)
	for minute := range 3 { // minutes pass; the circuit stays open until the cooldown ends
		if minute > 0 {
			clock.Advance(cooldown/2 - time.Second)
		}
		for i, r := range wait(fmt.Sprint("minute ", minute), ask(10)) {
			if !degraded(r) {
				t.Errorf("minute %d, answer %d = %q, want degraded", minute, i, r)
			}
		}
	}
	if n := fake.Calls(openaitest.PathChat) - calls; n != 0 {
		t.Errorf("the LLM was called %d times while the breaker was open", n)
	}

	fake.SetReply(nil)
	clock.Advance(time.Minute)
	// The first question after the cooldown probes; the next ones follow it.
	wait("the probe", ask(1))
	for i, r := range wait("after recovery", ask(10)) {
		if degraded(r) {
			t.Errorf("after recovery, answer %d is degraded: %q", i, r)
		}
	}

	time.Sleep(50 * time.Millisecond) // a second reply would show by now
	for i := range asked {
		if r := out.get(fmt.Sprint("t", i)); len(r) != 1 {
			t.Errorf("question t%d got %d replies, want 1", i, len(r))
		}
	}
	if st := core.Stats(); st.Handled != int64(asked) || st.Errors != 0 {
		t.Errorf("core stats %+v, want %d handled and no errors", st, asked)
	}
}
