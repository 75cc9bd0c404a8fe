package discord_test

import (
	"context"
	"log/slog"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/einsatz/einsatz/adapters/discord"
	"github.com/einsatz/einsatz/adapters/discord/discordtest"
	"github.com/einsatz/einsatz/bot"
)

// handleSink records the events and answer handles an adapter submits (as
// the cluster's event stream takes them).
type handleSink struct {
	mu      sync.Mutex
	handles map[string][]byte // event key -> handle
	plain   int               // events submitted without one
}

func (s *handleSink) Submit(bot.Event) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.plain++
	return nil
}

func (s *handleSink) SubmitWithHandle(ev bot.Event, handle []byte) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.handles[ev.Key] = handle
	return nil
}

func (s *handleSink) handle(key string) []byte {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.handles[key]
}

// Two processes' gateways get one interaction (no shards): one defers it,
// the other is told it was acknowledged already; both submit the event
// with an answer handle, and a third adapter, which saw nothing, answers
// through either: the deferred response edited, then a follow-up. The
// token is in no log line.
func TestInteractionAnsweredThroughHandleFromAnotherProcess(t *testing.T) {
	fd := discordtest.New(t, discordtest.Options{})
	general := fd.TextChannel(fd.Guild, "general")
	logs := &syncBuffer{}
	logger := slog.New(slog.NewTextHandler(logs, &slog.HandlerOptions{Level: slog.LevelDebug}))
	newAdapter := func(gateway bool) *discord.Adapter {
		opts := discord.Options{Token: fd.Token, APIURL: fd.URL, GuildIDs: []string{fd.Guild}, Logger: logger,
			Commands: []bot.CommandSpec{{Name: "ask", Description: "ask", ArgName: "question", ArgHelp: "the question"}}}
		if !gateway {
			opts.Gateway = func(ctx context.Context, _ *discord.Adapter) error { <-ctx.Done(); return nil }
		}
		a, err := discord.New(opts)
		if err != nil {
			t.Fatal(err)
		}
		return a
	}
	ctx, cancel := context.WithCancel(context.Background())
	var wg sync.WaitGroup
	t.Cleanup(func() { cancel(); wg.Wait() })
	sinks := []*handleSink{{handles: map[string][]byte{}}, {handles: map[string][]byte{}}}
	for _, s := range sinks {
		a := newAdapter(true)
		wg.Go(func() { _ = a.Run(ctx, s) })
	}
	poster := newAdapter(false)
	wg.Go(func() { _ = poster.Run(ctx, sinkFunc(func(bot.Event) error { return nil })) })
	if !waitUntil(10*time.Second, func() bool { return fd.Connected() == 2 }) {
		t.Fatal("two gateway sessions did not connect")
	}

	id := fd.SlashCommand(general, fd.NewUser("mia"), "ask", "where?")
	key := "discord:ia:" + id
	if !waitUntil(5*time.Second, func() bool { return sinks[0].handle(key) != nil && sinks[1].handle(key) != nil }) {
		t.Fatalf("handles %q and %q: want both processes to submit the event with one", sinks[0].handle(key), sinks[1].handle(key))
	}
	to := bot.ThreadRef{Platform: bot.PlatformDiscord, ChannelID: general, ThreadID: id}
	if err := poster.SendWithHandle(ctx, to, bot.Reply{Text: "here", ReplyTo: key}, sinks[1].handle(key)); err != nil {
		t.Fatal(err)
	}
	if err := poster.SendWithHandle(ctx, to, bot.Reply{Text: "and more", ReplyTo: key, Part: 1}, sinks[0].handle(key)); err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, r := range fd.InteractionResponses(id) {
		got = append(got, r.Kind+" "+r.Content+" "+strconv.Itoa(r.Status))
	}
	want := []string{"callback  204", "callback  400", "edit here 200", "followup and more 200"}
	if strings.Join(got, "|") != strings.Join(want, "|") {
		t.Errorf("responses %q, want %q", got, want)
	}
	if tok := fd.InteractionToken(id); tok == "" || strings.Contains(logs.String(), tok) {
		t.Errorf("the interaction token %q is in the logs (or unknown)", tok)
	}
}

func waitUntil(d time.Duration, cond func() bool) bool {
	deadline := time.Now().Add(d)
	for !cond() {
		if time.Now().After(deadline) {
			return false
		}
		time.Sleep(10 * time.Millisecond)
	}
	return true
}
