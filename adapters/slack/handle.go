package slack

import (
	"context"
	"encoding/json"

	"github.com/einsatz/einsatz/bot"
)

// Private commands in cluster mode (docs/cluster.md, "Interactions").
//
// The node that received a private slash command (or a click on an
// ephemeral message, or a private message shortcut) remembers who alone
// may see its replies, but the node holding the channel's partition posts
// them. So the event carries an answer handle naming that user (a sink
// with SubmitWithHandle takes it), and the posting node applies it before
// it posts (SendWithHandle): the replies stay ephemeral to the caller.
// Slack's response_url is not used by this adapter (replies go through
// chat.postEphemeral and chat.postMessage), so there is nothing else to
// carry.

// answerHandle is who alone sees an event's replies.
type answerHandle struct {
	User string `json:"user"`
	// Thread: the whole (synthetic) thread is private (a private slash
	// command, a click on an ephemeral message); else only the replies to
	// this event (a private shortcut on a real thread).
	Thread bool `json:"thread,omitempty"`
}

// handleSink is a sink that carries an answer handle with an event (the
// cluster's event stream).
type handleSink interface {
	SubmitWithHandle(ev bot.Event, handle []byte) error
}

// handleOf is the answer handle of an event whose replies are private,
// nil for others.
func (a *Adapter) handleOf(ev bot.Event) []byte {
	h := answerHandle{Thread: true}
	if u, ok := a.whisper.Get(ev.Thread().Key()); ok {
		h.User = u
	} else if u, ok := a.privIA.Get(ev.Key); ok {
		h = answerHandle{User: u}
	} else {
		return nil
	}
	b, err := json.Marshal(h)
	if err != nil {
		return nil
	}
	return b
}

// SendWithHandle posts a reply whose event carried an answer handle: the
// handle's user alone sees it, as on the node that received the event.
func (a *Adapter) SendWithHandle(ctx context.Context, to bot.ThreadRef, r bot.Reply, handle []byte) error {
	var h answerHandle
	if err := json.Unmarshal(handle, &h); err == nil && h.User != "" {
		if h.Thread {
			a.whisper.Add(to.Key(), h.User)
		} else if r.ReplyTo != "" {
			a.privIA.Add(r.ReplyTo, h.User)
		}
	}
	return a.Send(ctx, to, r)
}
