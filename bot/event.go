// Package bot is the platform-neutral core of Einsatz: the event model, the
// router with its middleware, the per-thread ordered pipeline and the small
// interfaces it needs from storage and adapters. It imports no platform SDK.
//
// The flow of one event: an adapter translates a platform payload into an
// Event and calls Bot.Submit (and acknowledges the platform right away). The
// core queues it per thread, claims its idempotency key durably, records the
// turn in the thread history, runs the observers, checks who owns the thread,
// rate-limits the user and finally asks the Router for replies, which go back
// through the adapter of the event's platform.
package bot

import (
	"time"
)

// Kind says what happened on the platform.
type Kind string

// The kinds of event the core understands.
const (
	KindMessage     Kind = "message"     // a user wrote something
	KindReaction    Kind = "reaction"    // a reaction was added or removed
	KindCommand     Kind = "command"     // a slash command or a message command
	KindInteraction Kind = "interaction" // a button click or another component
	// KindEdit: a user edited an earlier message (MessageID, with the new
	// Text). KindDelete: a user deleted one (MessageID). Neither is routed
	// nor recorded in the history; observers see them (the relay follows
	// them into the copy it posted).
	KindEdit   Kind = "edit"
	KindDelete Kind = "delete"
)

// Platforms that ship with Einsatz.
const (
	PlatformDiscord = "discord"
	PlatformSlack   = "slack"
	PlatformWeb     = "web"
	PlatformConsole = "console"
)

// User is the author of an event.
type User struct {
	Platform string `json:"platform"`
	ID       string `json:"id"`
	Name     string `json:"name,omitempty"`
	Staff    bool   `json:"staff,omitempty"` // set by the adapter from the staff config
	Bot      bool   `json:"bot,omitempty"`   // the bot itself or another bot: never triggers anything
	// Avatar is the URL of the user's picture where the adapter knows it
	// (a staff reply relayed in their name shows it).
	Avatar string `json:"avatar,omitempty"`
}

// DisplayName is the name to show for the user: Name, or the platform id
// when the adapter knows no name.
func (u User) DisplayName() string {
	if u.Name != "" {
		return u.Name
	}
	return u.ID
}

// ThreadRef names a conversation thread on a platform. A message at the top
// level of a channel starts a thread of its own: its ThreadID is the
// message's id, and adapters answer in a thread started from it.
type ThreadRef struct {
	Platform  string `json:"platform"`
	ChannelID string `json:"channel_id"`
	ThreadID  string `json:"thread_id"`
}

// Key is the thread's identity in storage and in the per-thread queue.
func (t ThreadRef) Key() string {
	return t.Platform + "/" + t.ChannelID + "/" + t.ThreadID
}

// Event is one thing that happened on a platform, translated by an adapter.
type Event struct {
	// Key is the idempotency key: the same platform event delivered twice
	// has the same key (Discord message or interaction id, Slack channel+ts,
	// web conversation+message id).
	Key       string    `json:"key"`
	Kind      Kind      `json:"kind"`
	Platform  string    `json:"platform"`
	ChannelID string    `json:"channel_id"`
	ThreadID  string    `json:"thread_id,omitempty"` // "" for a top-level message: it is its own thread
	MessageID string    `json:"message_id,omitempty"`
	DM        bool      `json:"dm,omitempty"`
	Mentioned bool      `json:"mentioned,omitempty"` // the bot was addressed (@mention, reply to the bot)
	NewTopic  bool      `json:"new_topic,omitempty"` // opens a topic that is a question by nature (a new forum post)
	User      User      `json:"user"`
	Text      string    `json:"text,omitempty"`
	Time      time.Time `json:"time"`

	Reaction string `json:"reaction,omitempty"` // KindReaction: the emoji
	Removed  bool   `json:"removed,omitempty"`  // KindReaction: the reaction was taken back

	Command string `json:"command,omitempty"` // KindCommand: name without slash, e.g. "ask"
	Args    string `json:"args,omitempty"`    // KindCommand: the rest of the line

	Action string `json:"action,omitempty"` // KindInteraction: the button's action id
	Value  string `json:"value,omitempty"`  // KindInteraction: the button's value

	// Attachments are the links of the files the message carries.
	Attachments []string `json:"attachments,omitempty"`

	// Target is the message a message command ("Send to research inbox")
	// or a reaction points at, when the adapter knows it.
	Target *Message `json:"target,omitempty"`
	// Permalink links to this message on its platform, when cheap to know.
	Permalink string `json:"permalink,omitempty"`
	// ChannelName is the channel's name where the adapter knows it without
	// a request (its cache, the payload); the dashboard shows it.
	ChannelName string `json:"channel_name,omitempty"`

	// Filled in by the core before handlers run.
	Lang      string `json:"lang,omitempty"` // "en" or "de"
	Addressed bool   `json:"-"`              // the bot should answer (policy, mention, DM, command)
	// Reading is the one primary reading of an addressed message (set
	// through Options.Read); "" for other events and unaddressed messages.
	Reading Reading `json:"-"`
	History []Turn  `json:"-"` // earlier turns of the thread, oldest first
	Owner   Owner   `json:"-"` // who owns the thread now
	// Replayed marks an event from an imported history (Bot.Replay):
	// observers record it but post nothing (no notices, acks or alerts).
	Replayed bool `json:"-"`
	// Outcome is what became of the event, set before Completer.Completed:
	// one of the Outcome constants.
	Outcome string `json:"-"`
}

// Outcomes of an event, as Completer sees them.
const (
	OutcomeAnswered  = "answered"  // at least one reply was sent
	OutcomeSilent    = "silent"    // handled, nothing to say (not addressed, staff own the thread, rate limited)
	OutcomeDuplicate = "duplicate" // a redelivery of an event handled before
	OutcomeFailed    = "failed"    // storage failed: not handled
)

// Thread returns the thread the event belongs to.
func (e *Event) Thread() ThreadRef {
	id := e.ThreadID
	if id == "" {
		id = e.MessageID
	}
	return ThreadRef{Platform: e.Platform, ChannelID: e.ChannelID, ThreadID: id}
}

// Message is a message an event refers to.
type Message struct {
	ID        string    `json:"id"`
	ChannelID string    `json:"channel_id,omitempty"`
	ThreadID  string    `json:"thread_id,omitempty"`
	User      User      `json:"user"`
	Text      string    `json:"text"`
	Time      time.Time `json:"time,omitempty"`
	Permalink string    `json:"permalink,omitempty"`
}

// Role of a turn in a thread's history.
type Role string

// Turn roles.
const (
	RoleUser  Role = "user"
	RoleBot   Role = "bot"
	RoleStaff Role = "staff"
)

// Turn is one message of a thread's history.
type Turn struct {
	Role   Role      `json:"role"`
	UserID string    `json:"user_id,omitempty"`
	Name   string    `json:"name,omitempty"`
	Text   string    `json:"text"`
	Time   time.Time `json:"time"`
	// MessageID and Permalink of a member's or staff message, so a
	// reaction on it (a ✅ marking the thread solved) finds its text.
	MessageID string `json:"message_id,omitempty"`
	Permalink string `json:"permalink,omitempty"`
	// Sources of a bot answer, so staff reading the thread see what it
	// was built from.
	Sources []Source `json:"sources,omitempty"`
}

// Owner says who answers in a thread. The zero value means the bot.
type Owner struct {
	Staff string    `json:"staff,omitempty"` // staff member's name or id; "" = the bot
	Since time.Time `json:"since,omitempty"`
	By    string    `json:"by,omitempty"` // who made the change
	// LastActive is when staff last wrote in the thread; hand-back after
	// a quiet time counts from it.
	LastActive time.Time `json:"last_active,omitempty"`
}

// OwnedThread is a thread staff own.
type OwnedThread struct {
	Thread ThreadRef `json:"thread"`
	Owner  Owner     `json:"owner"`
}

// Bot reports whether the bot owns the thread.
func (o Owner) Bot() bool { return o.Staff == "" }

// Source is a document an answer was built from.
type Source struct {
	Title string `json:"title"`
	URL   string `json:"url,omitempty"`
	Path  string `json:"path,omitempty"`
}

// Button is an action offered with a reply (where the platform has buttons).
type Button struct {
	Label  string `json:"label"`
	Action string `json:"action"`
	Value  string `json:"value,omitempty"`
}

// Reply is what the bot says back, in the thread of the event.
type Reply struct {
	Text    string   `json:"text"`
	Sources []Source `json:"sources,omitempty"`
	Buttons []Button `json:"buttons,omitempty"`
	// Notice marks short system notices (rate limit, takeover) that are
	// not answers; they are not kept in the thread history.
	Notice bool `json:"notice,omitempty"`
	// ReplyTo is the key of the event this reply answers, set by the core
	// ("" for posts nobody asked for, such as alerts). Adapters use it to
	// answer an interaction or an HTTP request.
	ReplyTo string `json:"reply_to,omitempty"`
	// Part is the place of this reply among those the core sent for the
	// event ReplyTo (0 for the first). With ReplyTo it names the reply
	// across restarts: a resumed event's replies get the same names as the
	// killed run's, so adapters can post each at most once (see Resender).
	Part int `json:"part,omitempty"`
	// Ping mentions a person, role or group in the platform's own syntax
	// (Discord "<@&ROLE>", Slack "<!subteam^S123>"); adapters show it
	// before the text and let it, and only it, notify. Set from
	// configuration (handoff.mention), never from what users wrote.
	Ping string `json:"ping,omitempty"`
	// AuthorName is the person a reply comes from when it is not the bot
	// (a staff member's reply relayed into the thread); adapters show it
	// as the author, marked as staff. "" = the bot.
	AuthorName string `json:"author_name,omitempty"`
	// AuthorMark is the word that marks AuthorName as staff, in the
	// member's language ("staff", "Team"; texts.staff_mark); adapters
	// show "anna (AuthorMark)". "" = "staff".
	AuthorMark string `json:"author_mark,omitempty"`
	// AuthorAvatar is the URL of the author's picture, where known;
	// adapters that post under the author's name use it (a Discord
	// webhook's avatar_url, Slack's icon_url).
	AuthorAvatar string `json:"author_avatar,omitempty"`
}

// StaffMark is AuthorMark, "staff" when unset.
func (r Reply) StaffMark() string {
	if r.AuthorMark == "" {
		return "staff"
	}
	return r.AuthorMark
}

// CommandSpec describes a command for platforms that register them (Discord
// application commands, the Slack manifest).
type CommandSpec struct {
	Name        string `json:"name"`        // lower case, no slash: "ask"
	Description string `json:"description"` // one line, English
	ArgName     string `json:"arg_name,omitempty"`
	ArgHelp     string `json:"arg_help,omitempty"` // empty ArgName: the command takes no argument
	StaffOnly   bool   `json:"staff_only,omitempty"`
	// Private replies are seen only by the person who ran the command
	// (ephemeral on Discord); staff-only commands are private too.
	Private bool `json:"private,omitempty"`
}
