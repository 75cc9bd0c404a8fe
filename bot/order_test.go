package bot_test

import (
	"context"
	"testing"
	"time"

	"github.com/einsatz/einsatz/bot"
)

// An observer's acknowledgement of a message, posted through the core into
// the message's thread, goes out after the route's answer to that message
// even when the answer is slow and the observer fast, as a reply to the
// event (so a request-response adapter returns both), and before the core
// says it is done with the event.
func TestObserverAckPostedAfterTheAnswer(t *testing.T) {
	b := bot.New(bot.Options{Store: memStore(t)})
	observed := make(chan struct{})
	b.Fallback(bot.HandlerFunc(func(ctx context.Context, ev *bot.Event) ([]bot.Reply, error) {
		<-observed // the answer is slow: the observer is done before it
		return []bot.Reply{{Text: "answer"}}, nil
	}))
	b.Observe(bot.ObserverFunc(func(ctx context.Context, ev *bot.Event) error {
		defer close(observed)
		return b.Post(ctx, ev.Thread(), bot.Reply{Text: "thanks, filed as #1"})
	}))
	c := &completingSender{done: make(chan struct{}, 10)}
	b.Register("test", c)
	if err := b.Submit(bot.Event{Key: "m1", Kind: bot.KindMessage, DM: true, Text: "please add dark mode",
		Platform: "test", ChannelID: "c", ThreadID: "t", MessageID: "m1"}); err != nil {
		t.Fatal(err)
	}
	<-c.done
	c.mu.Lock()
	replies, completed := c.replies, c.completed
	c.mu.Unlock()
	b.Shutdown()
	if len(replies) != 2 || replies[0].Text != "answer" || replies[1].Text != "thanks, filed as #1" {
		t.Fatalf("replies = %+v, want the answer, then the acknowledgement", replies)
	}
	if replies[1].ReplyTo != "m1" || len(completed) != 1 || completed[0] != "m1=answered" {
		t.Fatalf("acknowledgement %+v, completed %q: want it part of the answer to m1", replies[1], completed)
	}
}

// A post into another thread (the staff channel) is not held back.
func TestObserverPostElsewhereNotHeld(t *testing.T) {
	b := bot.New(bot.Options{Store: memStore(t)})
	posted := make(chan struct{})
	b.Fallback(bot.HandlerFunc(func(ctx context.Context, ev *bot.Event) ([]bot.Reply, error) {
		select { // the alert must not wait for the answer
		case <-posted:
		case <-time.After(5 * time.Second):
			return []bot.Reply{{Text: "the alert waited for the answer"}}, nil
		}
		return []bot.Reply{{Text: "answer"}}, nil
	}))
	b.Observe(bot.ObserverFunc(func(ctx context.Context, ev *bot.Event) error {
		defer close(posted)
		return b.Post(ctx, bot.ThreadRef{Platform: "test", ChannelID: "staff"}, bot.Reply{Text: "alert"})
	}))
	c := &completingSender{done: make(chan struct{}, 10)}
	b.Register("test", c)
	if err := b.Submit(bot.Event{Key: "m1", Kind: bot.KindMessage, DM: true, Text: "hi",
		Platform: "test", ChannelID: "c", ThreadID: "t", MessageID: "m1"}); err != nil {
		t.Fatal(err)
	}
	<-c.done
	b.Shutdown()
	if len(c.replies) != 2 || c.replies[0].Text != "alert" || c.replies[1].Text != "answer" {
		t.Fatalf("replies = %+v, want the alert at once, then the answer", c.replies)
	}
}
