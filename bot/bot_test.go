package bot_test

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/einsatz/einsatz/adapters/console/consoletest"
	"github.com/einsatz/einsatz/bot"
	"github.com/einsatz/einsatz/bot/bottest"
	"github.com/einsatz/einsatz/storage"
)

func memStore(t *testing.T) *storage.Store {
	t.Helper()
	s, err := storage.Open(storage.Options{InMemory: true})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	return s
}

// echo answers every message with its text.
var echo = bot.HandlerFunc(func(_ context.Context, ev *bot.Event) ([]bot.Reply, error) {
	return []bot.Reply{{Text: "echo " + ev.Text}}, nil
})

func start(t *testing.T, opts bot.Options) (*bot.Bot, *consoletest.Harness) {
	t.Helper()
	if opts.Store == nil {
		opts.Store = memStore(t)
	}
	if opts.Router == nil {
		opts.Router = bot.NewRouter(echo)
	}
	if opts.Logger == nil {
		opts.Logger = slog.New(slog.NewTextHandler(io.Discard, nil))
	}
	b := bot.New(opts)
	h := consoletest.Start(t, func(ctx context.Context, a bot.Adapter) error { return b.Run(ctx, a) })
	return b, h
}

// waitStats polls the core's counters; used where the outcome is silence.
func waitStats(t *testing.T, b *bot.Bot, what string, cond func(bot.Stats) bool) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for !cond(b.Stats()) {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s; stats %+v", what, b.Stats())
		}
		time.Sleep(time.Millisecond)
	}
}

func TestThreadOrderedWhileOtherThreadProceeds(t *testing.T) {
	var h *consoletest.Harness
	started := make(chan struct{})
	handler := bot.HandlerFunc(func(ctx context.Context, ev *bot.Event) ([]bot.Reply, error) {
		if ev.Text == "a1" {
			// Thread a is stuck until thread b has been answered (its
			// reply is out, not just its handler done).
			<-started
			deadline := time.Now().Add(5 * time.Second)
			for !strings.Contains(h.Output(), "[b] Einsatz: echo b1") {
				if time.Now().After(deadline) {
					return nil, errors.New("thread b never ran while a was busy")
				}
				time.Sleep(time.Millisecond)
			}
		}
		return []bot.Reply{{Text: "echo " + ev.Text}}, nil
	})
	_, h = start(t, bot.Options{Router: bot.NewRouter(handler), Concurrency: 4})
	close(started)
	h.Say(":thread a", "a1", "a2", "a3", ":thread b", "b1")
	out := h.WaitFor("[a] Einsatz: echo a3", 1)
	ib := strings.Index(out, "[b] Einsatz: echo b1")
	ia1 := strings.Index(out, "[a] Einsatz: echo a1")
	ia2 := strings.Index(out, "[a] Einsatz: echo a2")
	ia3 := strings.Index(out, "[a] Einsatz: echo a3")
	if ib < 0 || !(ib < ia1 && ia1 < ia2 && ia2 < ia3) {
		t.Fatalf("want b1 first, then a1 < a2 < a3; output:\n%s", out)
	}
}

func TestRedeliveryIgnoredAlsoAfterReopen(t *testing.T) {
	dir := t.TempDir()
	open := func() *storage.Store {
		s, err := storage.Open(storage.Options{Path: dir})
		if err != nil {
			t.Fatal(err)
		}
		return s
	}
	s := open()
	b, h := start(t, bot.Options{Store: s})
	h.Say(":key discord:msg:42", "hello", ":key discord:msg:42", "hello", "marker")
	out := h.WaitFor("echo marker", 1)
	if n := strings.Count(out, "echo hello"); n != 1 {
		t.Fatalf("hello answered %d times, want once:\n%s", n, out)
	}
	if d := b.Stats().Dropped[bot.DropDuplicate]; d != 1 {
		t.Fatalf("duplicates counted %d, want 1", d)
	}
	if err := h.Stop(); err != nil {
		t.Fatal(err)
	}
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}

	s = open()
	t.Cleanup(func() { s.Close() })
	_, h = start(t, bot.Options{Store: s})
	h.Say(":key discord:msg:42", "hello", "marker2")
	out = h.WaitFor("echo marker2", 1)
	if strings.Contains(out, "echo hello") {
		t.Fatalf("redelivery after restart was answered:\n%s", out)
	}
}

func TestStaffOwnedThreadSilentButObserved(t *testing.T) {
	s := memStore(t)
	var observed atomic.Int32
	obs := bot.ObserverFunc(func(_ context.Context, ev *bot.Event) error {
		if ev.Text == "anyone there?" {
			observed.Add(1)
		}
		return nil
	})
	owned := bot.ThreadRef{Platform: bot.PlatformConsole, ChannelID: "console", ThreadID: "owned"}
	if err := s.SetOwner(context.Background(), owned, bot.Owner{Staff: "anna", By: "anna", Since: time.Now()}); err != nil {
		t.Fatal(err)
	}
	b, h := start(t, bot.Options{Store: s, Observers: []bot.Observer{obs}})
	h.Say(":thread owned", "anyone there?", ":thread free", "anyone there?")
	h.WaitFor("[free] Einsatz: echo anyone there?", 1)
	waitStats(t, b, "the owned thread to be handled and both messages observed", func(st bot.Stats) bool {
		return st.Silenced == 1 && observed.Load() == 2
	})
	if out := h.Output(); strings.Contains(out, "[owned]") {
		t.Fatalf("bot replied in a staff-owned thread:\n%s", out)
	}
	// The message is still in the thread's history for when staff hand back.
	hist, err := s.History(context.Background(), owned, 10)
	if err != nil || len(hist) != 1 {
		t.Fatalf("owned thread history = %+v, %v", hist, err)
	}
}

func TestGateBypassRoute(t *testing.T) {
	s := memStore(t)
	owned := bot.ThreadRef{Platform: bot.PlatformConsole, ChannelID: "console", ThreadID: "main"}
	if err := s.SetOwner(context.Background(), owned, bot.Owner{Staff: "anna"}); err != nil {
		t.Fatal(err)
	}
	r := bot.NewRouter(echo)
	r.Add(bot.Route{Name: "release", Match: bot.Command("release"), BypassGate: true,
		Handler: bot.HandlerFunc(func(context.Context, *bot.Event) ([]bot.Reply, error) {
			return []bot.Reply{{Text: "released"}}, nil
		})})
	_, h := start(t, bot.Options{Store: s, Router: r})
	h.Say("hello", "/release")
	out := h.WaitFor("Einsatz: released", 1)
	if strings.Contains(out, "echo hello") {
		t.Fatalf("gate let a normal reply through:\n%s", out)
	}
}

func TestFloodRateLimitedWithOneNotice(t *testing.T) {
	clock := bottest.NewClock(time.Date(2026, 11, 26, 12, 0, 0, 0, time.UTC))
	text := func(_, key string) string { return "TEXT:" + key }
	b, h := start(t, bot.Options{Clock: clock, RatePerMinute: 6, RateBurst: 3, Text: text})
	for i := range 10 {
		h.Say(fmt.Sprint("m", i))
	}
	// A second user is not affected by the first one's flood.
	h.Say(":user bob", "from bob")
	h.WaitFor("echo from bob", 1)
	waitStats(t, b, "all 11 messages", func(st bot.Stats) bool { return st.Handled == 11 })
	out := h.Output()
	if n := strings.Count(out, "Einsatz: echo m"); n != 3 {
		t.Errorf("%d messages answered, want the burst of 3:\n%s", n, out)
	}
	if n := strings.Count(out, "TEXT:rate_limited"); n != 1 {
		t.Errorf("%d rate-limit notices, want exactly 1:\n%s", n, out)
	}
	if d := b.Stats().Dropped[bot.DropRateLimited]; d != 7 {
		t.Errorf("rate-limited count %d, want 7", d)
	}
	// After a while the user is answered again, and a new flood gets a new notice.
	clock.Advance(time.Minute)
	h.Say(":user you", "again")
	h.WaitFor("echo again", 1)
}

func TestPolicies(t *testing.T) {
	policy := func(_, channel string) string { return channel }
	tests := []struct {
		name string
		ev   bot.Event
		want bool
	}{
		{"listen ignores mention", bot.Event{ChannelID: bot.PolicyListen, Mentioned: true}, false},
		{"mention answers mention", bot.Event{ChannelID: bot.PolicyMention, Mentioned: true}, true},
		{"mention skips plain message", bot.Event{ChannelID: bot.PolicyMention}, false},
		{"auto answers question", bot.Event{ChannelID: bot.PolicyAuto, Text: "how?"}, true},
		{"auto skips statement", bot.Event{ChannelID: bot.PolicyAuto, Text: "fine."}, false},
		{"auto answers a new forum post", bot.Event{ChannelID: bot.PolicyAuto, Text: "Crash on start.", NewTopic: true}, true},
		{"mention ignores a new forum post", bot.Event{ChannelID: bot.PolicyMention, Text: "Crash on start.", NewTopic: true}, false},
		{"dm answers", bot.Event{ChannelID: bot.PolicyListen, DM: true}, true},
		{"command always", bot.Event{ChannelID: bot.PolicyListen, Kind: bot.KindCommand, Command: "x"}, true},
		{"reaction never", bot.Event{ChannelID: bot.PolicyAuto, Kind: bot.KindReaction}, false},
	}
	for i, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := memStore(t)
			var got atomic.Bool
			done := make(chan struct{})
			b := bot.New(bot.Options{
				Store:      s,
				Policy:     policy,
				IsQuestion: func(text string) bool { return strings.HasSuffix(text, "?") },
				Router: bot.NewRouter(bot.HandlerFunc(func(context.Context, *bot.Event) ([]bot.Reply, error) {
					got.Store(true)
					return nil, nil
				})),
				Observers: []bot.Observer{bot.ObserverFunc(func(context.Context, *bot.Event) error {
					close(done)
					return nil
				})},
			})
			ev := tt.ev
			if ev.Kind == "" {
				ev.Kind = bot.KindMessage
			}
			ev.Key, ev.Platform, ev.MessageID = fmt.Sprint("k", i), "test", "m"
			if err := b.Submit(ev); err != nil {
				t.Fatal(err)
			}
			<-done
			b.Shutdown()
			if got.Load() != tt.want {
				t.Fatalf("handler ran = %v, want %v", got.Load(), tt.want)
			}
		})
	}
}

func TestFollowUpInServedThreadNeedsNoMention(t *testing.T) {
	s := memStore(t)
	replies := make(chan string, 10)
	b := bot.New(bot.Options{Store: s, Router: bot.NewRouter(echo)})
	b.Register("test", senderFunc(func(_ context.Context, _ bot.ThreadRef, r bot.Reply) error {
		replies <- r.Text
		return nil
	}))
	submit := func(key, text string, mentioned bool) {
		t.Helper()
		ev := bot.Event{Key: key, Kind: bot.KindMessage, Platform: "test", ChannelID: "c", MessageID: key, ThreadID: "t", Text: text, Mentioned: mentioned}
		if err := b.Submit(ev); err != nil {
			t.Fatal(err)
		}
	}
	submit("1", "not for the bot", false)
	submit("2", "@bot help", true)
	submit("3", "and then?", false)
	b.Shutdown()
	close(replies)
	var got []string
	for r := range replies {
		got = append(got, r)
	}
	if strings.Join(got, "|") != "echo @bot help|echo and then?" {
		t.Fatalf("replies = %q", got)
	}
}

type senderFunc func(context.Context, bot.ThreadRef, bot.Reply) error

func (f senderFunc) Send(ctx context.Context, to bot.ThreadRef, r bot.Reply) error {
	return f(ctx, to, r)
}

func TestBotAuthorsAndMalformedEventsSkipped(t *testing.T) {
	b := bot.New(bot.Options{Store: memStore(t)})
	if err := b.Submit(bot.Event{Key: "k", Platform: "p", ChannelID: "c", MessageID: "m", User: bot.User{Bot: true}}); err != nil {
		t.Fatalf("bot author: %v", err)
	}
	if err := b.Submit(bot.Event{Platform: "p", ChannelID: "c"}); !errors.Is(err, bot.ErrMalformed) {
		t.Fatalf("malformed: %v", err)
	}
	b.Shutdown()
	st := b.Stats()
	if st.Dropped[bot.DropBotAuthor] != 1 || st.Dropped[bot.DropMalformed] != 1 || st.Handled != 0 {
		t.Fatalf("stats = %+v", st)
	}
}

func TestQueueFullSpillsAndReplays(t *testing.T) {
	s := memStore(t)
	release := make(chan struct{})
	var mu sync.Mutex
	var handled []string
	handler := bot.HandlerFunc(func(_ context.Context, ev *bot.Event) ([]bot.Reply, error) {
		if ev.Text == "first" {
			<-release
		}
		mu.Lock()
		handled = append(handled, ev.Text)
		mu.Unlock()
		return nil, nil
	})
	clock := bottest.NewClock(time.Unix(0, 0))
	b := bot.New(bot.Options{Store: s, Router: bot.NewRouter(handler), QueueSize: 2, Concurrency: 1, Clock: clock})
	ctx, cancel := context.WithCancel(context.Background())
	runDone := make(chan error)
	go func() { runDone <- b.Run(ctx) }()

	var errs []error
	for i, text := range []string{"first", "second", "third", "fourth", "fifth"} {
		ev := bot.Event{Key: fmt.Sprint(i), Kind: bot.KindMessage, DM: true, Platform: "test", ChannelID: "c", MessageID: fmt.Sprint(i), Text: text}
		errs = append(errs, b.Submit(ev))
		if i == 0 {
			waitStats(t, b, "first to be taken", func(st bot.Stats) bool { return st.Queued == 0 })
		}
	}
	// first runs, second and third wait in memory, fourth and fifth are spilled.
	if !errors.Is(errs[3], bot.ErrQueueFull) || !errors.Is(errs[4], bot.ErrQueueFull) || errs[2] != nil {
		t.Fatalf("Submit errors = %v", errs)
	}
	close(release)
	// The replay loop looks for spilled events on its timer: move the fake
	// clock on until they have been handled.
	waitStats(t, b, "spilled events to be handled", func(st bot.Stats) bool {
		clock.Advance(time.Second)
		return st.Handled == 5
	})
	cancel()
	if err := <-runDone; err != nil {
		t.Fatal(err)
	}
	if left, _ := s.Spilled(context.Background(), 10, nil); len(left) != 0 {
		t.Fatalf("%d spilled events left after replay", len(left))
	}
	if b.Stats().Spilled != 2 {
		t.Fatalf("stats = %+v", b.Stats())
	}
}

func TestHandlerErrorGivesFixedMessage(t *testing.T) {
	failing := bot.HandlerFunc(func(context.Context, *bot.Event) ([]bot.Reply, error) {
		return nil, errors.New("llm: secret internal detail")
	})
	text := func(_, key string) string { return "TEXT:" + key }
	_, h := start(t, bot.Options{Router: bot.NewRouter(failing), Text: text})
	h.Say("hi")
	out := h.WaitFor("TEXT:error", 1)
	if strings.Contains(out, "secret internal detail") {
		t.Fatalf("internal error shown to the user:\n%s", out)
	}
}

func TestHandlersReceiveHistory(t *testing.T) {
	var got []string
	var mu sync.Mutex
	handler := bot.HandlerFunc(func(_ context.Context, ev *bot.Event) ([]bot.Reply, error) {
		if ev.Text == "third" {
			mu.Lock()
			for _, turn := range ev.History {
				got = append(got, string(turn.Role)+":"+turn.Text)
			}
			mu.Unlock()
		}
		return []bot.Reply{{Text: "ok " + ev.Text}}, nil
	})
	_, h := start(t, bot.Options{Router: bot.NewRouter(handler)})
	h.Say("first", "second", "third")
	h.WaitFor("ok third", 1)
	mu.Lock()
	defer mu.Unlock()
	want := "user:first|bot:ok first|user:second|bot:ok second"
	if strings.Join(got, "|") != want {
		t.Fatalf("history = %q, want %q", strings.Join(got, "|"), want)
	}
}

func TestMiddlewareWrapsRoutesInOrder(t *testing.T) {
	var calls []string
	mw := func(name string) bot.Middleware {
		return func(next bot.Handler) bot.Handler {
			return bot.HandlerFunc(func(ctx context.Context, ev *bot.Event) ([]bot.Reply, error) {
				calls = append(calls, name+">")
				defer func() { calls = append(calls, "<"+name) }()
				return next.Handle(ctx, ev)
			})
		}
	}
	r := bot.NewRouter(bot.HandlerFunc(func(context.Context, *bot.Event) ([]bot.Reply, error) {
		calls = append(calls, "fallback")
		return nil, nil
	}))
	r.Use(mw("outer"), mw("inner"))
	r.Add(bot.Route{Name: "first", Match: bot.Command("x"), Handler: bot.HandlerFunc(func(context.Context, *bot.Event) ([]bot.Reply, error) {
		calls = append(calls, "first")
		return nil, nil
	})})
	r.Add(bot.Route{Name: "second", Match: bot.Command("x"), Handler: bot.HandlerFunc(func(context.Context, *bot.Event) ([]bot.Reply, error) {
		calls = append(calls, "second")
		return nil, nil
	})})
	tests := []struct {
		ev       bot.Event
		wantName string
		want     string
	}{
		{bot.Event{Kind: bot.KindCommand, Command: "x"}, "first", "outer> inner> first <inner <outer"},
		{bot.Event{Kind: bot.KindMessage, Text: "hi"}, "fallback", "outer> inner> fallback <inner <outer"},
	}
	for _, tt := range tests {
		calls = nil
		name, _, err := r.Handle(context.Background(), &tt.ev)
		if err != nil || name != tt.wantName || strings.Join(calls, " ") != tt.want {
			t.Errorf("Handle(%+v) = %q, %v, calls %q; want %q, %q", tt.ev, name, err, strings.Join(calls, " "), tt.wantName, tt.want)
		}
	}
}

func TestShutdownKeepsUnfinishedEventsForNextStart(t *testing.T) {
	dir := t.TempDir()
	s, err := storage.Open(storage.Options{Path: dir})
	if err != nil {
		t.Fatal(err)
	}
	block := make(chan struct{})
	defer close(block)
	slow := bot.HandlerFunc(func(ctx context.Context, ev *bot.Event) ([]bot.Reply, error) {
		select {
		case <-block:
		case <-ctx.Done():
		}
		return nil, ctx.Err()
	})
	b := bot.New(bot.Options{Store: s, Router: bot.NewRouter(slow), Concurrency: 1, ShutdownTimeout: 50 * time.Millisecond})
	for i := range 3 {
		ev := bot.Event{Key: fmt.Sprint("k", i), Kind: bot.KindMessage, DM: true, Platform: "test", ChannelID: "c", ThreadID: "t", MessageID: fmt.Sprint(i), Text: "q"}
		if err := b.Submit(ev); err != nil {
			t.Fatal(err)
		}
	}
	b.Shutdown() // one thread: k0 is cancelled in flight; k1 and k2 never started
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}

	s, err = storage.Open(storage.Options{Path: dir})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	kept, err := s.Spilled(context.Background(), 10, nil)
	if err != nil {
		t.Fatal(err)
	}
	var keys []string
	for _, k := range kept {
		keys = append(keys, k.Event.Key)
	}
	if strings.Join(keys, ",") != "k1,k2" {
		t.Fatalf("kept for next start: %q, want k1,k2", keys)
	}
	var handled []string
	var mu sync.Mutex
	b = bot.New(bot.Options{Store: s, Router: bot.NewRouter(bot.HandlerFunc(func(_ context.Context, ev *bot.Event) ([]bot.Reply, error) {
		mu.Lock()
		handled = append(handled, ev.Key)
		mu.Unlock()
		return nil, nil
	}))})
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error)
	go func() { done <- b.Run(ctx) }()
	// k0 had been accepted when the deadline cut it off: it is resumed
	// first, then the kept k1 and k2.
	waitStats(t, b, "kept events handled after restart", func(st bot.Stats) bool { return st.Handled == 3 })
	cancel()
	if err := <-done; err != nil {
		t.Fatal(err)
	}
	mu.Lock()
	defer mu.Unlock()
	if strings.Join(handled, ",") != "k0,k1,k2" {
		t.Fatalf("handled after restart: %q, want k0 (resumed), k1, k2", handled)
	}
}

// completingSender records replies and completions, as the web adapter does.
type completingSender struct {
	mu        sync.Mutex
	replies   []bot.Reply
	completed []string
	done      chan struct{}
}

func (c *completingSender) Send(_ context.Context, _ bot.ThreadRef, r bot.Reply) error {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.replies = append(c.replies, r)
	return nil
}

func (c *completingSender) Completed(ev *bot.Event) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.completed = append(c.completed, ev.Key+"="+ev.Outcome)
	c.done <- struct{}{}
}

func TestCompleterToldForAnswersSilenceAndDuplicates(t *testing.T) {
	b := bot.New(bot.Options{Store: memStore(t), Router: bot.NewRouter(echo)})
	c := &completingSender{done: make(chan struct{}, 10)}
	b.Register("test", c)
	for _, ev := range []bot.Event{
		{Key: "a", Kind: bot.KindMessage, DM: true, Text: "hi"},
		{Key: "a", Kind: bot.KindMessage, DM: true, Text: "hi"},           // duplicate
		{Key: "b", Kind: bot.KindReaction, Reaction: "👍", MessageID: "x"}, // silent
	} {
		ev.Platform, ev.ChannelID, ev.ThreadID = "test", "c", "t"
		if ev.MessageID == "" {
			ev.MessageID = ev.Key
		}
		if err := b.Submit(ev); err != nil {
			t.Fatal(err)
		}
		<-c.done
	}
	b.Shutdown()
	if strings.Join(c.completed, ",") != "a=answered,a=duplicate,b=silent" {
		t.Fatalf("completed = %q", c.completed)
	}
	if len(c.replies) != 1 || c.replies[0].ReplyTo != "a" {
		t.Fatalf("replies = %+v, want one answering a", c.replies)
	}
}

func TestParseSince(t *testing.T) {
	now := time.Date(2026, 11, 26, 12, 0, 0, 0, time.UTC)
	tests := []struct {
		in   string
		want time.Time
		err  bool
	}{
		{"", now.Add(-48 * time.Hour), false},
		{"7d", now.AddDate(0, 0, -7), false},
		{"2w", now.AddDate(0, 0, -14), false},
		{"72h", now.Add(-72 * time.Hour), false},
		{"2026-11-01", time.Date(2026, 11, 1, 0, 0, 0, 0, time.UTC), false},
		{"2026-11-01T08:00:00Z", time.Date(2026, 11, 1, 8, 0, 0, 0, time.UTC), false},
		{"yesterday", time.Time{}, true},
		{"-5d", time.Time{}, true},
	}
	for _, tt := range tests {
		got, err := bot.ParseSince(tt.in, now, 48*time.Hour)
		if (err != nil) != tt.err || !got.Equal(tt.want) {
			t.Errorf("ParseSince(%q) = %v, %v; want %v (error %v)", tt.in, got, err, tt.want, tt.err)
		}
	}
}

func TestPanickingHandlerCostsOnlyItsEvent(t *testing.T) {
	handler := bot.HandlerFunc(func(_ context.Context, ev *bot.Event) ([]bot.Reply, error) {
		if ev.Text == "boom" {
			panic("handler bug")
		}
		return []bot.Reply{{Text: "echo " + ev.Text}}, nil
	})
	b, h := start(t, bot.Options{Router: bot.NewRouter(handler)})
	h.Say("boom", "after")
	h.WaitFor("echo after", 1)
	if b.Stats().Errors != 1 {
		t.Fatalf("errors = %d, want the panic counted once", b.Stats().Errors)
	}
}

// While events kept in storage wait, newer events of the same thread queue
// behind them: the thread's order holds through an overflow.
func TestOverflowKeepsThreadOrder(t *testing.T) {
	s := memStore(t)
	release := make(chan struct{})
	var mu sync.Mutex
	var order []string
	handler := bot.HandlerFunc(func(_ context.Context, ev *bot.Event) ([]bot.Reply, error) {
		if ev.Text == "e1" {
			<-release
		}
		mu.Lock()
		order = append(order, ev.Text)
		mu.Unlock()
		return nil, nil
	})
	clock := bottest.NewClock(time.Unix(1000, 0))
	b := bot.New(bot.Options{Store: s, Router: bot.NewRouter(handler), QueueSize: 2, Concurrency: 1, Clock: clock,
		Logger: slog.New(slog.DiscardHandler)})
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- b.Run(ctx) }()
	submit := func(i int) {
		t.Helper()
		ev := bot.Event{Key: fmt.Sprint("o", i), Kind: bot.KindMessage, DM: true, Platform: "test", ChannelID: "c", ThreadID: "t",
			MessageID: fmt.Sprint(i), Text: fmt.Sprint("e", i), Time: time.Unix(1000, int64(i))}
		b.Submit(ev)
	}
	submit(1)
	waitStats(t, b, "e1 taken", func(st bot.Stats) bool { return st.Queued == 0 })
	for i := 2; i <= 5; i++ { // e2, e3 wait in memory; e4, e5 are kept in storage
		submit(i)
	}
	close(release)
	waitStats(t, b, "e1-e3 handled", func(st bot.Stats) bool { return st.Handled == 3 })
	submit(6) // the memory queue has room again, but e4 and e5 are older
	waitStats(t, b, "all six handled", func(st bot.Stats) bool {
		clock.Advance(time.Second)
		return st.Handled == 6
	})
	cancel()
	<-done
	mu.Lock()
	defer mu.Unlock()
	if got := strings.Join(order, ","); got != "e1,e2,e3,e4,e5,e6" {
		t.Fatalf("order = %s", got)
	}
}

// An Exclusive route waits for every other event in progress, observers
// included, and runs alone: the erasure's guarantee that nothing a person
// wrote is stored after it.
func TestExclusiveRouteWaitsForEventsInProgress(t *testing.T) {
	release := make(chan struct{})
	var mu sync.Mutex
	var order []string
	note := func(s string) { mu.Lock(); order = append(order, s); mu.Unlock() }
	slowObserver := bot.ObserverFunc(func(_ context.Context, ev *bot.Event) error {
		if ev.Text == "slow" {
			<-release // still scoring the message when the erasure arrives
			note("observer done")
		}
		return nil
	})
	router := bot.NewRouter(echo)
	router.Add(bot.Route{Name: "erase", Match: bot.Command("erase"), Exclusive: true,
		Handler: bot.HandlerFunc(func(context.Context, *bot.Event) ([]bot.Reply, error) {
			note("erase")
			return []bot.Reply{{Text: "erased"}}, nil
		})})
	_, h := start(t, bot.Options{Router: router, Observers: []bot.Observer{slowObserver}})
	h.Say(":thread a", "slow")
	h.WaitFor("slow", 1) // answered; its observer still runs
	h.Say(":thread b", "/erase")
	time.Sleep(50 * time.Millisecond) // give the erasure every chance to run early
	mu.Lock()
	early := len(order)
	mu.Unlock()
	close(release)
	h.WaitFor("erased", 1)
	mu.Lock()
	defer mu.Unlock()
	if early != 0 || strings.Join(order, ",") != "observer done,erase" {
		t.Fatalf("order %v (%d before the observer was released), want the observer first", order, early)
	}
}

// Test: an addressed message gets its reading before the router runs,
// routes match on it, and observers see the same reading; a message
// without one (no Read) keeps the old routing.
func TestReadingRoutesAddressedMessages(t *testing.T) {
	var mu sync.Mutex
	seen := map[string]bot.Reading{}
	obs := bot.ObserverFunc(func(_ context.Context, ev *bot.Event) error {
		mu.Lock()
		defer mu.Unlock()
		seen[ev.Text] = ev.Reading
		return nil
	})
	router := bot.NewRouter(echo)
	router.Add(bot.Route{Name: "thanks", Match: bot.Reads(bot.ReadingThanks), Handler: bot.HandlerFunc(func(context.Context, *bot.Event) ([]bot.Reply, error) {
		return []bot.Reply{{Text: "you're welcome"}}, nil
	})})
	read := func(text, _ string) bot.Reading {
		if strings.HasPrefix(text, "thanks") {
			return bot.ReadingThanks
		}
		return bot.ReadingQuestion
	}
	_, h := start(t, bot.Options{Router: router, Observers: []bot.Observer{obs}, Read: read})
	h.Say("thanks a lot", "what is it?")
	h.WaitFor("you're welcome", 1)
	h.WaitFor("what is it?", 1)
	// Observers run beside the reply and may finish after it.
	deadline := time.Now().Add(5 * time.Second)
	for {
		mu.Lock()
		ok := seen["thanks a lot"] == bot.ReadingThanks && seen["what is it?"] == bot.ReadingQuestion
		got := fmt.Sprint(seen)
		mu.Unlock()
		if ok {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("observers saw readings %s", got)
		}
		time.Sleep(time.Millisecond)
	}
}

// A source link that is not http(s) (a knowledge file's url: front matter
// saying javascript:…) reaches no adapter; the title and path stay.
func TestSourceLinksOnlyHTTP(t *testing.T) {
	sources := []bot.Source{
		{Title: "Evil", URL: "javascript:alert(document.cookie)", Path: "evil.md"},
		{Title: "Slack syntax", URL: "https://x.example|Admin Notice", Path: "pipe.md"},
		{Title: "Good", URL: "https://docs.example.org/install", Path: "install.md"},
	}
	h := bot.HandlerFunc(func(context.Context, *bot.Event) ([]bot.Reply, error) {
		return []bot.Reply{{Text: "see the sources", Sources: sources}}, nil
	})
	_, c := start(t, bot.Options{Router: bot.NewRouter(h)})
	c.Say("how do I install it?")
	c.WaitFor("see the sources", 1)
	c.WaitFor("Good (https://docs.example.org/install)", 1)
	out := c.Output()
	if strings.Contains(out, "javascript:") || strings.Contains(out, "|Admin") {
		t.Fatalf("a non-http link reached the adapter:\n%s", out)
	}
	for _, want := range []string{"Evil (evil.md)", "Slack syntax (pipe.md)", "Good (https://docs.example.org/install)"} {
		if !strings.Contains(out, want) {
			t.Fatalf("missing %q:\n%s", want, out)
		}
	}
	if sources[0].URL == "" {
		t.Fatal("the handler's sources were changed in place")
	}
}

// Routes are matched once per event: the core asks the Exclusive routes'
// matchers for the gate and picks the route once for the staff gate and the
// handler (a route's matcher may run regular expressions). An event that an
// Exclusive route matches still runs alone (see above).
func TestRoutesAreMatchedOncePerEvent(t *testing.T) {
	var mu sync.Mutex
	calls := map[string]int{}
	counting := func(name string, match bool) func(*bot.Event) bool {
		isErase := bot.Command("erase")
		return func(ev *bot.Event) bool {
			label := ev.Text
			if isErase(ev) {
				label = "/erase"
			}
			mu.Lock()
			calls[name+":"+label]++
			mu.Unlock()
			return match && label == "/erase"
		}
	}
	router := bot.NewRouter(echo)
	router.Add(bot.Route{Name: "asks", Match: counting("asks", false), Handler: echo})
	router.Add(bot.Route{Name: "erase", Match: counting("erase", true), Exclusive: true,
		Handler: bot.HandlerFunc(func(context.Context, *bot.Event) ([]bot.Reply, error) {
			return []bot.Reply{{Text: "erased"}}, nil
		})})
	_, h := start(t, bot.Options{Router: router})
	h.Say("hello")
	h.WaitFor("hello", 1)
	h.Say("/erase")
	h.WaitFor("erased", 1)
	mu.Lock()
	defer mu.Unlock()
	want := map[string]int{
		"asks:hello":   1, // the handler's pick only
		"erase:hello":  2, // the gate and the handler's pick
		"asks:/erase":  2, // the gate's check that no earlier route wins, and the pick
		"erase:/erase": 3, // the gate (twice: it matches, then the first match is asked) and the pick
	}
	for k, n := range want {
		if calls[k] != n {
			t.Errorf("matcher %s ran %d times, want %d (all: %v)", k, calls[k], n, calls)
		}
	}
}
