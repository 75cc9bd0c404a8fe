package cluster

import (
	"context"
	"encoding/base64"
	"time"

	"github.com/nats-io/nats.go"

	"github.com/einsatz/einsatz/bot"
)

// Interactions in cluster mode (docs/cluster.md, "Interactions").
//
// A platform's interaction (a Discord slash command or button) is
// acknowledged by the adapter of the node whose gateway got it, but its
// replies are posted by the node holding the channel's partition
// (post.go). What that node needs to answer the interaction itself (on
// Discord the application id and the interaction token, valid 15 minutes;
// on Slack who alone may see a private command's replies) is an answer
// handle, opaque to the cluster: the adapter gives it with the event
// (SubmitWithHandle), it travels in a header of the event's message, the
// node handling the event keeps it with the event, and the channel's node
// posts through the adapter's SendWithHandle. The handle is never logged.

// handleHeader carries an event's answer handle (base64) in the event
// stream.
const handleHeader = "Einsatz-Answer-Handle"

// handleSender is an adapter that answers an interaction through the
// answer handle its event carried.
type handleSender interface {
	SendWithHandle(ctx context.Context, to bot.ThreadRef, r bot.Reply, handle []byte) error
}

// handleCloser is an adapter that tidies up after an interaction that got
// no reply (Discord deletes its "thinking…" placeholder).
type handleCloser interface {
	CloseHandle(ctx context.Context, handle []byte)
}

// SubmitWithHandle is Submit for an event that carries an answer handle
// (an adapter's interaction): the node posting its replies gets it.
func (n *Node) SubmitWithHandle(ev bot.Event, handle []byte) error {
	return n.submit(ev, handle)
}

// setHandle puts an answer handle into an event's message.
func setHandle(msg *nats.Msg, handle []byte) {
	if len(handle) > 0 {
		msg.Header.Set(handleHeader, base64.StdEncoding.EncodeToString(handle))
	}
}

// handleOf reads the answer handle of an event's message (nil: none).
func handleOf(h nats.Header) []byte {
	v := h.Get(handleHeader)
	if v == "" {
		return nil
	}
	b, err := base64.StdEncoding.DecodeString(v)
	if err != nil {
		return nil
	}
	return b
}

// sendVia posts a reply through s, through the answer handle when there
// is one and s takes it.
func sendVia(ctx context.Context, s bot.Sender, to bot.ThreadRef, r bot.Reply, handle []byte) error {
	if hs, ok := s.(handleSender); ok && len(handle) > 0 {
		return hs.SendWithHandle(ctx, to, r, handle)
	}
	return s.Send(ctx, to, r)
}

// answersInteraction says whether an event of the thread that this node
// handles carries an answer handle: its adapter shows no typing indicator
// for an interaction (Discord shows "thinking…" instead), and the channel's
// node, asked to type, would not know it is one.
func (n *Node) answersInteraction(in bot.ThreadRef) bool {
	key := in.Key()
	n.mu.Lock()
	defer n.mu.Unlock()
	for _, pe := range n.pending {
		if pe.thread == key {
			return true
		}
	}
	return false
}

// closeHandle lets the adapter tidy up after an interaction the core
// handled without a word (silent: staff own the thread, a rate limit).
// Not for a repeat (OutcomeDuplicate): its replies went out the first time.
func (n *Node) closeHandle(ev *bot.Event, pe *pending) {
	if len(pe.handle) == 0 || pe.n > 0 || ev.Outcome != bot.OutcomeSilent {
		return
	}
	n.mu.Lock()
	c, ok := n.senders[ev.Platform].(handleCloser)
	n.mu.Unlock()
	if !ok {
		return
	}
	go func() {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		c.CloseHandle(ctx, pe.handle)
	}()
}
