package cluster

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strconv"
	"time"

	"github.com/nats-io/nats.go"

	"github.com/einsatz/einsatz/bot"
)

// Posting a channel's replies from one node, so the platform's rate limits
// hold across the cluster (docs/cluster.md, "Shared rate limits").
//
// Discord and Slack limit posts per channel. The node that handles an
// event holds the partition of the event's thread, and a channel's threads
// spread over all partitions, so three nodes would post to one channel at
// once, each client keeping to the limit alone. Instead every reply to a
// channel of a routed platform is posted by the holder of the channel's
// partition (the same partition leases, no other lease): that one
// client sees every post to the channel and keeps to the limit as on one
// machine (discordgo waits on the rate-limit headers of its bucket; Slack's
// client retries after a 429). A node asks the holder over core NATS
// (request and answer, not stored: no JetStream operation) and waits for
// the post. The holder posts only while its lease is fresh, so two nodes
// never post for one channel at the same time.
const (
	postSubject = "einsatz.post." // + the channel's partition
	// postAsk is how long a node waits for the holder's answer before it
	// asks again (a repeat of the same reply waits for the first).
	postAsk = 3 * time.Second
	// postMax bounds one post at the holder (waiting on the rate limit
	// included).
	postMax = 2 * time.Minute
	// postRetry is the pause before asking again while no node holds the
	// channel's partition (a failover) or its lease is being renewed late.
	postRetry = 50 * time.Millisecond
	// typingAsk bounds the wait for a typing indicator.
	typingAsk = 2 * time.Second
)

// DefaultRouted are the platforms whose replies the holder of the
// channel's partition posts (Options.Routed): those with per-channel rate
// limits. The web chat answers its own requests.
var DefaultRouted = []string{bot.PlatformDiscord, bot.PlatformSlack}

// errHoldLost: the node lost the partition of the event whose reply it
// was having posted; the event comes again to the next holder.
var errHoldLost = errors.New("cluster: the event's partition was lost while its reply waited for the channel's node")

type postRequest struct {
	To    bot.ThreadRef `json:"to"`
	Reply bot.Reply     `json:"reply"`
	ID    string        `json:"id,omitempty"` // "<event key>#<n>"; "" for a post nobody asked for
	// Handle is the event's answer handle (interactions.go): the channel's
	// node answers the interaction with it.
	Handle []byte `json:"handle,omitempty"`
	// Typing asks for the typing indicator instead of a post.
	Typing bool `json:"typing,omitempty"`
}

type postAnswer struct {
	Error string `json:"error,omitempty"` // the platform refused the post
	Again bool   `json:"again,omitempty"` // the channel is not (surely) this node's: ask again
}

// postCall is a post the channel's node makes or made: a repeated request
// for the same reply (its answer was late) waits for it instead of posting
// again.
type postCall struct {
	done chan struct{}
	err  error
	at   time.Time // when it finished
}

// channelPartition is the partition whose holder posts a channel's replies.
func channelPartition(to bot.ThreadRef, partitions int) int {
	return Partition(bot.ThreadRef{Platform: to.Platform, ChannelID: to.ChannelID}, partitions)
}

// send posts a reply through the node of its channel: this one when it
// holds the channel's partition, else the holder, asked over core NATS,
// again until it answers (after a failover, once another node took the
// partition). hold ends when the event's own partition is lost: the post
// is then left to the next holder of the event (errHoldLost).
func (n *Node) send(ctx, hold context.Context, s bot.Sender, to bot.ThreadRef, r bot.Reply, id string, handle []byte) error {
	if !n.routed[to.Platform] {
		err := sendVia(ctx, s, to, r, handle)
		if err == nil && id != "" {
			n.notice(id)
		}
		return err
	}
	cp := channelPartition(to, n.s.Partitions)
	var data []byte
	for attempt := 0; ; attempt++ {
		if attempt > 0 && id != "" && n.wasNoticed(id) {
			return nil // the channel's node posted it and died before answering
		}
		if l := n.hold(cp); l != nil && n.leaseFresh(cp) {
			return n.postHere(ctx, l, s, to, r, id, handle)
		}
		if data == nil {
			var err error
			if data, err = encode(postRequest{To: to, Reply: r, ID: id, Handle: handle}); err != nil {
				return err
			}
		}
		actx, cancel := context.WithTimeout(ctx, postAsk)
		msg, err := n.nc.RequestWithContext(actx, postSubject+strconv.Itoa(cp), data)
		cancel()
		if err == nil {
			var a postAnswer
			if err := json.Unmarshal(msg.Data, &a); err != nil {
				return err
			}
			if !a.Again {
				if a.Error != "" {
					return errors.New(a.Error)
				}
				n.Ops.Routed.Add(1)
				return nil
			}
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-hold.Done():
			return errHoldLost
		case <-n.clock.After(postRetry):
		}
	}
}

// typing shows the typing indicator through the node of the channel (its
// route is rate-limited per channel too). Cosmetic: asked once, not again.
func (n *Node) typing(ctx context.Context, t bot.Typer, to bot.ThreadRef) error {
	if !n.routed[to.Platform] {
		return t.Typing(ctx, to)
	}
	cp := channelPartition(to, n.s.Partitions)
	if n.hold(cp) != nil && n.leaseFresh(cp) {
		return t.Typing(ctx, to)
	}
	data, err := encode(postRequest{To: to, Typing: true})
	if err != nil {
		return err
	}
	actx, cancel := context.WithTimeout(ctx, typingAsk)
	defer cancel()
	msg, err := n.nc.RequestWithContext(actx, postSubject+strconv.Itoa(cp), data)
	if err != nil {
		return fmt.Errorf("cluster: typing indicator through the channel's node: %w", err)
	}
	var a postAnswer
	if err := json.Unmarshal(msg.Data, &a); err != nil {
		return err
	}
	if a.Error != "" {
		return errors.New(a.Error)
	}
	return nil
}

// servePosts answers the requests to post to the channels of partition p
// while this node holds it (subscribed when it takes the partition).
func (n *Node) servePosts(p int, l *lease) (*nats.Subscription, error) {
	return n.nc.Subscribe(postSubject+strconv.Itoa(p), func(m *nats.Msg) {
		go n.answerPost(p, l, m)
	})
}

func (n *Node) answerPost(p int, l *lease, m *nats.Msg) {
	answer := func(a postAnswer) {
		data, _ := encode(a)
		_ = m.Respond(data)
	}
	var req postRequest
	if err := json.Unmarshal(m.Data, &req); err != nil {
		answer(postAnswer{Error: "cluster: undecodable post request: " + err.Error()})
		return
	}
	n.mu.Lock()
	s := n.senders[req.To.Platform]
	n.mu.Unlock()
	if s == nil || n.hold(p) != l || !n.leaseFresh(p) {
		answer(postAnswer{Again: true})
		return
	}
	ctx, cancel := context.WithTimeout(l.ctx, postMax)
	defer cancel()
	if req.Typing {
		if t, ok := s.(bot.Typer); ok {
			if err := t.Typing(ctx, req.To); err != nil {
				answer(postAnswer{Error: err.Error()})
				return
			}
		}
		answer(postAnswer{})
		return
	}
	if err := n.postHere(ctx, l, s, req.To, req.Reply, req.ID, req.Handle); err != nil {
		if l.ctx.Err() != nil {
			answer(postAnswer{Again: true}) // the partition was lost meanwhile: the next holder posts
			return
		}
		answer(postAnswer{Error: err.Error()})
		return
	}
	answer(postAnswer{})
}

// postHere posts through this node's adapter as the channel's node, once
// per reply id: a repeated request waits for the first post's outcome. A
// post made is noticed to every node at once (marks.go), so should this
// node die before its answer arrives, the asking node does not have it
// posted again.
func (n *Node) postHere(ctx context.Context, l *lease, s bot.Sender, to bot.ThreadRef, r bot.Reply, id string, handle []byte) error {
	if id == "" {
		return sendVia(ctx, s, to, r, handle)
	}
	now := n.clock.Now()
	n.mu.Lock()
	c := n.posts[id]
	if c == nil {
		c = &postCall{done: make(chan struct{})}
		n.posts[id] = c
		if now.Sub(n.postsSwept) > noticeKeep/2 {
			for k, old := range n.posts {
				if !old.at.IsZero() && now.Sub(old.at) > noticeKeep {
					delete(n.posts, k)
				}
			}
			n.postsSwept = now
		}
		n.mu.Unlock()
		c.err = sendVia(ctx, s, to, r, handle)
		n.mu.Lock()
		c.at = n.clock.Now()
		if c.err != nil {
			delete(n.posts, id) // not posted (or not surely): a later request tries again
		}
		n.mu.Unlock()
		if c.err == nil {
			n.notice(id)
		}
		close(c.done)
		return c.err
	}
	n.mu.Unlock()
	select {
	case <-c.done:
		return c.err
	case <-ctx.Done():
		return ctx.Err()
	case <-l.ctx.Done():
		return errors.New("cluster: the channel's partition was lost while its post was pending")
	}
}
