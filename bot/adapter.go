package bot

import (
	"context"
	"time"
)

// Sink receives events from adapters. Submit never blocks on the handlers:
// the adapter acknowledges the platform right after it returns.
type Sink interface {
	Submit(ev Event) error
}

// Sender posts a reply in a thread.
type Sender interface {
	Send(ctx context.Context, to ThreadRef, r Reply) error
}

// Adapter connects a platform to the core: Run translates incoming payloads
// into events for the sink until ctx ends; Send posts replies.
type Adapter interface {
	Platform() string
	Run(ctx context.Context, sink Sink) error
	Sender
}

// Poster posts a message nobody asked for (an alert, a notice, an
// acknowledgement) in a thread or at a channel's top level. bot.Bot
// implements it; the features post through it.
type Poster interface {
	Post(ctx context.Context, to ThreadRef, r Reply) error
}

// DirectPoster sends a person a private message on a platform. bot.Bot
// implements it, through the adapters with the DirectMessenger ability.
type DirectPoster interface {
	DirectMessage(ctx context.Context, platform, userID string, r Reply) error
}

// Publisher is an optional ability: post a reply and tell the id of the
// message it became (the first one, when it was split), so it can be
// edited, deleted or answered in a thread later. The relay between staff
// and member threads needs it.
type Publisher interface {
	Publish(ctx context.Context, to ThreadRef, r Reply) (string, error)
}

// Editor is an optional ability: change or delete a message the bot
// posted (found by the id Publish returned).
type Editor interface {
	Edit(ctx context.Context, in ThreadRef, messageID string, r Reply) error
	Delete(ctx context.Context, in ThreadRef, messageID string) error
}

// Typer is an optional ability: show that an answer is being prepared.
type Typer interface {
	Typing(ctx context.Context, in ThreadRef) error
}

// Reactor is an optional ability: add a reaction to a message.
type Reactor interface {
	React(ctx context.Context, in ThreadRef, messageID, emoji string) error
}

// DirectMessenger is an optional ability: send a reply to a person in a
// private conversation with the bot (opening it when needed), outside any
// thread. Used only for people who asked for such messages.
type DirectMessenger interface {
	DirectMessage(ctx context.Context, userID string, r Reply) error
}

// Completer is an optional ability: the core tells the adapter of an event
// when it is done with it (answered, silent, a duplicate or failed), so
// request-response adapters (the web chat API, Discord interactions) can
// finish the request even when there was no reply.
type Completer interface {
	Completed(ev *Event)
}

// Resender is an optional ability: post a reply of a resumed event (one an
// earlier run accepted and was killed while answering) leaving out what
// the platform shows already, found by the reply's ReplyTo and Part. The
// killed run may have posted it just before the kill, before it recorded
// that on disk. The core calls Resend instead of Send only for resumed
// events, so the check costs the hot path nothing. An adapter whose Send is
// idempotent by itself (Discord's enforced nonce) needs no Resender.
type Resender interface {
	Resend(ctx context.Context, to ThreadRef, r Reply) error
}

// Metrics receives the core's counts; the web adapter exports them to
// Prometheus. A nil Metrics counts nothing beyond Stats.
type Metrics interface {
	EventReceived(platform string)
	ReplySent(platform string)
	EventDropped(reason string)
	Handled(handler string, d time.Duration, err error)
}

// Store is what the core needs from storage. storage.Store implements it.
type Store interface {
	// Accept durably records key as seen for ttl and, when turn is not nil,
	// appends it to the thread's history, in one write. It reports false
	// when the key was seen before (a redelivery).
	Accept(ctx context.Context, key string, ttl time.Duration, thread ThreadRef, turn *Turn) (bool, error)
	// AcceptUnfinished is Accept for a live event: the same write also keeps
	// the event as unfinished until Finish forgets it (Finish may return
	// before that is durable). Unfinished returns those kept, oldest first,
	// for the core to resume at start. spillID, when not "", is the event's
	// id among the kept events (Spilled): the same write forgets it, also
	// when the key was seen before (the unfinished record, or the seen mark,
	// takes over), so DeleteSpilled is not needed for it.
	AcceptUnfinished(ctx context.Context, ev Event, spillID string, ttl time.Duration, turn *Turn) (bool, error)
	Finish(ctx context.Context, key string) error
	Unfinished(ctx context.Context) ([]Event, error)
	// AppendTurn may return before the turn is durable, but History called
	// after any later Accept includes it.
	AppendTurn(ctx context.Context, thread ThreadRef, turn Turn) error
	History(ctx context.Context, thread ThreadRef, n int) ([]Turn, error)
	Owner(ctx context.Context, thread ThreadRef) (Owner, error)
	// Spill keeps an event that did not fit the queue; Spilled returns up
	// to n of them, oldest first, passing over those skip reports (nil:
	// none) without reading them, and DeleteSpilled forgets one once handled.
	Spill(ctx context.Context, ev Event) error
	Spilled(ctx context.Context, n int, skip func(id string) bool) ([]SpilledEvent, error)
	DeleteSpilled(ctx context.Context, id string) error
}

// SpilledEvent is an event waiting in storage for room in the queue.
type SpilledEvent struct {
	ID    string
	Event Event
}

// Observer looks at every human event, also in staff-owned threads and in
// channels the bot only listens to (sentiment, feature requests). Observers
// never produce replies and never hold up the router. What one posts
// through the core (Bot.Post with the ctx it was given) into the event's own
// thread goes out after the event's replies.
type Observer interface {
	Observe(ctx context.Context, ev *Event) error
}

// Reclaimer decides, when a member writes in a thread staff own, whether
// the thread goes back to the bot before the message is routed (staff
// have been quiet too long): true, and the bot answers this message.
// handoff.Service implements it.
type Reclaimer interface {
	Reclaim(ctx context.Context, ev *Event) (bool, error)
}

// ObserverFunc adapts a function to Observer.
type ObserverFunc func(ctx context.Context, ev *Event) error

// Observe calls f.
func (f ObserverFunc) Observe(ctx context.Context, ev *Event) error { return f(ctx, ev) }

// Clock tells the time; tests pass a fake one to drive timers.
type Clock interface {
	Now() time.Time
	After(d time.Duration) <-chan time.Time
}

// SystemClock is the real clock.
type SystemClock struct{}

// Now returns time.Now.
func (SystemClock) Now() time.Time { return time.Now() }

// After returns time.After.
func (SystemClock) After(d time.Duration) <-chan time.Time { return time.After(d) }

// ForumTag is a tag a forum channel offers for its posts.
type ForumTag struct {
	ID   string
	Name string
	// Moderated tags only members who may manage threads can apply.
	Moderated bool
}

// ForumPost is what the platform tells of a post in a forum channel: the
// tags its forum offers, the ids of those it carries, whether it is
// archived.
type ForumPost struct {
	Tags     []ForumTag
	Applied  []string
	Archived bool
}

// Forums is an optional ability: read and change the tags of a forum post
// and archive it (Discord forum channels).
type Forums interface {
	// ForumPost describes the thread in; ok is false when it is no post
	// in a forum channel.
	ForumPost(ctx context.Context, in ThreadRef) (post ForumPost, ok bool, err error)
	// UpdateForumPost sets the post's tags (ids, at most 5) and, with
	// archive, archives it.
	UpdateForumPost(ctx context.Context, in ThreadRef, tags []string, archive bool) error
}
