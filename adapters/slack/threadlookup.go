package slack

import (
	"context"
	"time"

	"github.com/slack-go/slack"
)

// Slack's reaction events name the message (channel and ts), not its
// thread. The adapter remembers the thread of each reply it sees, but not
// across a restart: a reaction on an older reply (a staff member's 📝 on
// their message in a staff thread, a ✅ on an answer) would land outside
// its thread. For such a reaction the adapter asks conversations.replies
// with the message's ts, which answers with that message and its
// thread_ts, once per message (the answer is remembered, a top-level
// message too; top-level messages seen since the start need no lookup).
// The event waits for it at most NameWait, like a name.

// lookupThread finds the thread of channelID/ts in the background and
// returns a channel closed when it is known (or not to be known).
func (a *Adapter) lookupThread(channelID, ts string) <-chan struct{} {
	key := channelID + "/" + ts
	done := make(chan struct{})
	if _, known := a.posted.Get(key); known {
		close(done)
		return done
	}
	go func() {
		defer close(done)
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		var msgs []slack.Message
		err := a.retry(ctx, "conversations.replies", func() error {
			var err error
			msgs, _, _, err = a.api.GetConversationRepliesContext(ctx, &slack.GetConversationRepliesParameters{
				ChannelID: channelID, Timestamp: ts, Limit: 1})
			return err
		})
		if err != nil {
			a.log.Warn("slack: looking up the thread of a reacted-to message", "channel", channelID, "err", err,
				"fix", a.explain("conversations.replies", err))
			a.posted.Add(key, "") // not asked again for this message
			return
		}
		thread := ""
		for _, m := range msgs {
			if m.Timestamp == ts && m.ThreadTimestamp != "" && m.ThreadTimestamp != ts {
				thread = m.ThreadTimestamp // a reply: its thread
			}
		}
		a.posted.Add(key, thread) // "" for a top-level message: not asked again
	}()
	return done
}

// awaitThread waits for the thread lookup of a queued reaction (at most
// NameWait) and puts the thread on the event.
func (a *Adapter) awaitThread(ctx context.Context, p *pending) {
	t := time.NewTimer(a.opts.NameWait)
	select {
	case <-p.thread:
	case <-t.C:
	case <-ctx.Done():
	}
	t.Stop()
	thread, _ := a.posted.Get(p.ev.ChannelID + "/" + p.ev.MessageID)
	if thread == "" || p.ev.ThreadID != "" {
		return
	}
	p.ev.ThreadID = thread
	if p.ev.Target != nil {
		p.ev.Target.ThreadID = thread
	}
}
