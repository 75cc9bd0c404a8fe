package bot_test

import (
	"context"
	"log/slog"
	"sync"
	"testing"
	"time"

	"github.com/einsatz/einsatz/bot"
)

// Waiting outside an event's handling does nothing; inside, it frees the
// event's worker for another thread until the wait is over, also when the
// route and an observer wait at the same time, and a second call of the
// done function changes nothing.
func TestWaitingFreesTheWorker(t *testing.T) {
	bot.Waiting(context.Background())() // no event: a no-op, must not block

	release := make(chan struct{})
	waiting := make(chan struct{}, 2)
	var mu sync.Mutex
	var order []string
	router := bot.NewRouter(bot.HandlerFunc(func(ctx context.Context, ev *bot.Event) ([]bot.Reply, error) {
		if ev.Text == "slow" {
			done := bot.Waiting(ctx)
			waiting <- struct{}{}
			<-release
			done()
			done() // twice: harmless
		}
		mu.Lock()
		order = append(order, ev.Text)
		mu.Unlock()
		return []bot.Reply{{Text: ev.Text}}, nil
	}))
	b := bot.New(bot.Options{Store: memStore(t), Router: router, Concurrency: 1, Logger: slog.New(slog.DiscardHandler)})
	b.Observe(bot.ObserverFunc(func(ctx context.Context, ev *bot.Event) error {
		if ev.Text == "slow" {
			defer bot.Waiting(ctx)() // an observer waiting beside the route
			waiting <- struct{}{}
			<-release
		}
		return nil
	}))
	out := &recordingSender{replies: map[string][]string{}}
	b.Register("test", out)
	t.Cleanup(b.Shutdown)
	submit := func(thread, text string) {
		t.Helper()
		if err := b.Submit(bot.Event{Key: thread + text, Kind: bot.KindMessage, DM: true, Platform: "test",
			ChannelID: "c", ThreadID: thread, MessageID: thread + text, Text: text}); err != nil {
			t.Fatal(err)
		}
	}
	submit("t1", "slow")
	<-waiting
	<-waiting
	submit("t2", "fast") // the only worker is free while t1 waits
	deadline := time.Now().Add(10 * time.Second)
	for len(out.get("t2")) == 0 {
		if time.Now().After(deadline) {
			t.Fatal("t2 not answered while t1 waited: the worker was held")
		}
		time.Sleep(time.Millisecond)
	}
	close(release)
	for len(out.get("t1")) == 0 {
		if time.Now().After(deadline) {
			t.Fatal("t1 not answered after its wait")
		}
		time.Sleep(time.Millisecond)
	}
	mu.Lock()
	defer mu.Unlock()
	if len(order) != 2 || order[0] != "fast" || order[1] != "slow" {
		t.Fatalf("handled %q", order)
	}
}
