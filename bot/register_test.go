package bot_test

import (
	"context"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/einsatz/einsatz/bot"
)

// The core is built first and the features register with it afterwards,
// so a feature can take the core itself as its Poster.
func TestRoutesAndObserversRegisteredAfterNew(t *testing.T) {
	b := bot.New(bot.Options{Store: memStore(t)})
	var poster bot.Poster = b // what the features hold
	var observed atomic.Int32
	b.Fallback(echo)
	b.Route(bot.Route{Name: "ping", Match: bot.Command("ping"),
		Spec: &bot.CommandSpec{Name: "ping", Description: "Ping"},
		Handler: bot.HandlerFunc(func(ctx context.Context, ev *bot.Event) ([]bot.Reply, error) {
			return nil, poster.Post(ctx, bot.ThreadRef{Platform: ev.Platform, ChannelID: ev.ChannelID, ThreadID: "staff"}, bot.Reply{Text: "pong"})
		})})
	b.Observe(bot.ObserverFunc(func(context.Context, *bot.Event) error { observed.Add(1); return nil }))
	if cmds := b.Commands(); len(cmds) != 1 || cmds[0].Name != "ping" {
		t.Fatalf("commands = %+v", cmds)
	}
	c := &completingSender{done: make(chan struct{}, 10)}
	b.Register("test", c)
	for _, ev := range []bot.Event{
		{Key: "a", Kind: bot.KindMessage, Text: "hi"},
		{Key: "b", Kind: bot.KindCommand, Command: "ping"},
	} {
		ev.Platform, ev.ChannelID, ev.ThreadID, ev.MessageID, ev.DM = "test", "c", "t", ev.Key, true
		if err := b.Submit(ev); err != nil {
			t.Fatal(err)
		}
		<-c.done
	}
	b.Shutdown()
	var texts []string
	for _, r := range c.replies {
		texts = append(texts, r.Text)
	}
	if strings.Join(texts, "|") != "echo hi|pong" || observed.Load() != 2 {
		t.Fatalf("replies %q, %d observed; want the fallback's echo, the route's post and both observed", texts, observed.Load())
	}
}

// Registering once the core runs is a programming error, caught at once.
func TestRegisteringAfterRunPanics(t *testing.T) {
	b, h := start(t, bot.Options{})
	h.Say("hello")
	h.WaitFor("echo hello", 1)
	defer func() {
		if recover() == nil {
			t.Fatal("Route after Run did not panic")
		}
	}()
	b.Route(bot.Route{Name: "late", Match: bot.Command("late"), Handler: echo})
}
