// Package discordtest is a fake Discord on loopback for tests and demos: the
// REST API the Einsatz adapter uses and a gateway websocket, served so that
// the unmodified discordgo library talks to it as it would to discord.com.
//
// It enforces the rules that bite in production: the `Bot ` token prefix on
// REST (401 without it), the 2,000-character message limit (50035), one
// thread per message (160004), the interaction deadline (10062, 3 s unless
// Options.InteractionDeadline says otherwise), the interaction token's 15
// minutes on the webhook endpoints (401 with 50027 after them, or at once
// after ExpireInteraction), IDENTIFY with a bad token
// (close 4004) or with a privileged intent the portal has not enabled (close
// 4014), message-content redaction for sessions without MESSAGE_CONTENT,
// intent filtering of dispatches, sequence numbers with RESUME and replay,
// per-frame zlib compression when IDENTIFY asks for it, and rate-limit
// headers (429 with retry_after when a route is hammered).
//
// Forum posts carry tags (TaggedForum, PATCH /channels/{thread} with
// applied_tags and archived, Manage Threads for others' posts).
//
// Tests drive it as users would (Post, ForumPost, React, SlashCommand,
// MessageCommand, ClickButton, DeleteMessage, DeleteChannel, Disconnect)
// and read back what the bot did (Messages, BotMessages, ThreadStarts,
// InteractionResponses, Typing, Commands, Reactions).
package discordtest

import (
	"encoding/json"
	"fmt"
	"net"
	"net/http"
	"sort"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/gorilla/websocket"
)

// Channel types, as Discord numbers them.
const (
	TypeText   = 0
	TypeDM     = 1
	TypeVoice  = 2 // its text chat takes messages; no threads start in it
	TypeNews   = 5
	TypeThread = 11 // public thread
	TypeForum  = 15
)

// Intents the fake looks at.
const (
	intentGuilds           = 1 << 0
	intentGuildMessages    = 1 << 9
	intentGuildReactions   = 1 << 10
	intentDirectMessages   = 1 << 12
	intentDirectReactions  = 1 << 13
	intentMessageContent   = 1 << 15
	flagEphemeral          = 1 << 6
	flagLoading            = 1 << 7
	maxContent             = 2000
	defaultToken           = "fake-bot-token"
	defaultDeadline        = 3 * time.Second
	defaultHeartbeat       = 41250 * time.Millisecond
	defaultRateLimit       = 50
	sessionLogSize         = 1000
	connQueueSize          = 4096
	interactionTokenPrefix = "iatoken-"
)

// Options configure a fake.
type Options struct {
	// Token is the bot token the fake accepts; default "fake-bot-token".
	Token string
	// Addr to listen on; default 127.0.0.1:0 (a free port).
	Addr string
	// InteractionDeadline is how long an interaction may wait for its
	// first response before it fails with 10062; default 3 s.
	InteractionDeadline time.Duration
	// HeartbeatInterval sent in HELLO; default 41.25 s.
	HeartbeatInterval time.Duration
	// NoMessageContentIntent: the developer portal has not switched on the
	// privileged MESSAGE CONTENT intent, so an IDENTIFY asking for it is
	// closed with 4014.
	NoMessageContentIntent bool
	// ResumeRedeliver replays this many already delivered events on RESUME
	// besides the missed ones, as Discord may (at-least-once delivery).
	ResumeRedeliver int
	// RateLimit is how many requests a route takes per second before 429;
	// default 50.
	RateLimit int
	// NonceWindow is how long an enforced nonce (enforce_nonce) is
	// remembered; default 2 minutes (nonce.go).
	NonceWindow time.Duration
	// OnMessage, when set, is called for every message the bot posts or
	// edits (the standalone command prints them).
	OnMessage func(Message)
	// Logf, when set, receives a line per notable thing the fake does.
	Logf func(format string, args ...any)
}

// User is someone on the fake server.
type User struct {
	ID    string
	Name  string
	Bot   bool
	Roles []string // role ids in the guild
	// Avatar is the user's avatar hash ("" = the default avatar); its
	// picture is https://cdn.discordapp.com/avatars/{id}/{hash}.png.
	Avatar string
}

// Channel is a channel, thread or forum on the fake server.
type Channel struct {
	ID       string
	GuildID  string
	Name     string
	Type     int
	ParentID string
	OwnerID  string
	// Tags are a forum's available_tags; AppliedTags the ids of the tags
	// a forum post carries (at most 5); Archived a thread's archived flag.
	Tags        []Tag
	AppliedTags []string
	Archived    bool
}

// Tag is a tag a forum offers its posts.
type Tag struct {
	ID   string
	Name string
	// Moderated tags only members with Manage Threads may apply.
	Moderated bool
}

// Button is a button of a posted message.
type Button struct {
	Label    string
	CustomID string
	Style    int
}

// AllowedMentions is what a message allowed to ping.
type AllowedMentions struct {
	Parse       []string `json:"parse"`
	Users       []string `json:"users"`
	Roles       []string `json:"roles"`
	RepliedUser bool     `json:"replied_user"`
}

// Message is a message on the fake server.
type Message struct {
	ID              string
	ChannelID       string
	GuildID         string
	Author          User
	Content         string
	Mentions        []string // user ids
	RoleMentions    []string // role ids that were pinged (allowed by the poster)
	Buttons         [][]Button
	AllowedMentions *AllowedMentions // as the poster sent it; nil = not sent
	ReferenceID     string           // the message replied to
	Flags           int
	Interaction     string // id of the interaction this message responds to
	Time            time.Time
	Edited          bool
	Deleted         bool
	Attachments     []string // file names (AttachmentURL)
	// WebhookID is set on a message a webhook posted; Author is then the
	// webhook's author for this message (the username it was executed
	// with, Bot true) and AvatarURL the avatar_url it was given.
	WebhookID string
	AvatarURL string
	// Nonce is the nonce the message was created with, as a string.
	Nonce string
}

// ThreadStart records a thread the bot started from a message.
type ThreadStart struct {
	ParentID  string
	MessageID string
	ThreadID  string
	Name      string
}

// InteractionResponse records one response to an interaction.
type InteractionResponse struct {
	InteractionID string
	Kind          string // "callback", "edit", "followup" or "delete"
	Type          int    // callback type (4, 5, 6, 7)
	Content       string
	Flags         int
	After         time.Duration // since the interaction was created
	Status        int           // HTTP status the fake answered
}

// TypingCall records a typing indicator.
type TypingCall struct {
	ChannelID string
	At        time.Time
}

// Command is a registered application command.
type Command struct {
	ID          string          `json:"id"`
	GuildID     string          `json:"guild_id,omitempty"`
	Type        int             `json:"type"`
	Name        string          `json:"name"`
	Description string          `json:"description"`
	Options     []CommandOption `json:"options,omitempty"`
	// NameLocalizations are the names clients in these locales show
	// ("de": …).
	NameLocalizations map[string]string `json:"name_localizations,omitempty"`
}

// CommandOption is an option of a registered command.
type CommandOption struct {
	Type        int    `json:"type"`
	Name        string `json:"name"`
	Description string `json:"description"`
	Required    bool   `json:"required,omitempty"`
}

// Server is a running fake.
type Server struct {
	// URL is the api_url to give the adapter, e.g. http://127.0.0.1:PORT/.
	URL string
	// Token the fake accepts.
	Token string
	// AppID is the application id; BotID the bot user's id.
	AppID string
	BotID string
	// Guild is the id of the guild every fake starts with.
	Guild string

	opts   Options
	ln     net.Listener
	hs     *http.Server
	wsURL  string
	closed chan struct{}

	mu           sync.Mutex
	nextID       int64
	deadline     time.Duration
	guilds       []*guild
	channels     map[string]*channel
	messages     map[string]*Message
	byChannel    map[string][]string
	denied       map[string]bool
	threadStarts []ThreadStart
	interactions map[string]*interaction
	responses    []InteractionResponse
	typing       []TypingCall
	commands     map[string][]Command // by guild id, "" = global
	sessions     map[string]*session
	conns        map[*gwConn]bool
	identifies   int
	// compressedIdentifies counts the IDENTIFYs with "compress": true.
	compressedIdentifies int
	resumes              int
	nLimited             int
	buckets              map[string]*bucket
	users                map[string]User
	dmBlocked            map[string]bool // user id -> refuses DMs
	botUser              User
	interactionBy        map[string]string // token -> interaction id
	webhooks             map[string]*Webhook
	oauth                oauthFake // the OAuth2 login (oauth.go), under its own lock
	noWebhooks           bool      // the bot lacks Manage Webhooks
	noThreads            bool      // the bot lacks Manage Threads
	shards               shardState

	nonces       map[nonceKey]nonceSeen // enforced nonces (nonce.go)
	nonceReplays int
}

type guild struct {
	ID    string
	Name  string
	Roles []role
}

type role struct {
	ID   string
	Name string
}

type channel struct {
	Channel
}

type interaction struct {
	id        string
	token     string
	appID     string
	channelID string
	guildID   string
	created   time.Time
	responded bool
	ephemeral bool
	original  string // message id of @original
	component bool
	expired   bool // ExpireInteraction: the token is no longer valid
}

type bucket struct {
	window time.Time
	used   int
}

// New starts a fake for a test and stops it when the test ends.
func New(tb testing.TB, opts Options) *Server {
	tb.Helper()
	s, err := Start(opts)
	if err != nil {
		tb.Fatalf("discordtest: %v", err)
	}
	tb.Cleanup(s.Close)
	return s
}

// Start starts a fake; Close stops it.
func Start(opts Options) (*Server, error) {
	if opts.Token == "" {
		opts.Token = defaultToken
	}
	if opts.Addr == "" {
		opts.Addr = "127.0.0.1:0"
	}
	if opts.InteractionDeadline <= 0 {
		opts.InteractionDeadline = defaultDeadline
	}
	if opts.HeartbeatInterval <= 0 {
		opts.HeartbeatInterval = defaultHeartbeat
	}
	if opts.RateLimit <= 0 {
		opts.RateLimit = defaultRateLimit
	}
	if opts.NonceWindow <= 0 {
		opts.NonceWindow = defaultNonceWindow
	}
	ln, err := net.Listen("tcp", opts.Addr)
	if err != nil {
		return nil, fmt.Errorf("listen: %w", err)
	}
	s := &Server{
		opts:          opts,
		ln:            ln,
		Token:         opts.Token,
		URL:           "http://" + ln.Addr().String() + "/",
		wsURL:         "ws://" + ln.Addr().String() + "/gateway",
		closed:        make(chan struct{}),
		nextID:        1100000000000000000,
		deadline:      opts.InteractionDeadline,
		channels:      map[string]*channel{},
		messages:      map[string]*Message{},
		byChannel:     map[string][]string{},
		denied:        map[string]bool{},
		interactions:  map[string]*interaction{},
		commands:      map[string][]Command{},
		sessions:      map[string]*session{},
		conns:         map[*gwConn]bool{},
		buckets:       map[string]*bucket{},
		users:         map[string]User{},
		dmBlocked:     map[string]bool{},
		interactionBy: map[string]string{},
		webhooks:      map[string]*Webhook{},
	}
	s.AppID = s.newID()
	s.BotID = s.AppID // applications created since 2020 share the id with their bot user
	s.botUser = User{ID: s.BotID, Name: "Einsatz", Bot: true}
	s.users[s.BotID] = s.botUser
	s.Guild = s.AddGuild("Einsatz Community")
	s.hs = &http.Server{Handler: s.routes(), ReadHeaderTimeout: 10 * time.Second}
	go func() { _ = s.hs.Serve(ln) }()
	return s, nil
}

// Close stops the fake and drops every gateway connection.
func (s *Server) Close() {
	select {
	case <-s.closed:
		return
	default:
		close(s.closed)
	}
	s.Disconnect()
	_ = s.hs.Close()
}

func (s *Server) logf(format string, args ...any) {
	if s.opts.Logf != nil {
		s.opts.Logf(format, args...)
	}
}

// newID returns a fresh snowflake; callers hold mu or run before serving.
func (s *Server) newID() string {
	s.nextID++
	// Snowflakes carry their creation time in the top bits (ms since 2015).
	ms := time.Now().UnixMilli() - 1420070400000
	return strconv.FormatInt(ms<<22|(s.nextID%(1<<22)), 10)
}

// SetInteractionDeadline changes the interaction deadline from now on.
func (s *Server) SetInteractionDeadline(d time.Duration) {
	s.mu.Lock()
	s.deadline = d
	s.mu.Unlock()
}

// SetDenied makes posting in a channel fail with 50013 Missing Permissions.
func (s *Server) SetDenied(channelID string, denied bool) {
	s.mu.Lock()
	s.denied[channelID] = denied
	s.mu.Unlock()
}

// AddGuild creates a guild and announces it to connected sessions.
func (s *Server) AddGuild(name string) string {
	s.mu.Lock()
	defer s.mu.Unlock()
	g := &guild{ID: s.newID(), Name: name}
	g.Roles = append(g.Roles, role{ID: g.ID, Name: "@everyone"})
	s.guilds = append(s.guilds, g)
	s.dispatchLocked("GUILD_CREATE", intentGuilds, s.guildPayloadLocked(g))
	return g.ID
}

// AddRole creates a role in a guild.
func (s *Server) AddRole(guildID, name string) string {
	s.mu.Lock()
	defer s.mu.Unlock()
	id := s.newID()
	for _, g := range s.guilds {
		if g.ID == guildID {
			g.Roles = append(g.Roles, role{ID: id, Name: name})
		}
	}
	return id
}

// NewUser makes a community member.
func (s *Server) NewUser(name string, roles ...string) User {
	s.mu.Lock()
	defer s.mu.Unlock()
	u := User{ID: s.newID(), Name: name, Roles: roles}
	s.users[u.ID] = u
	return u
}

// NewBot makes another bot user.
func (s *Server) NewBot(name string) User {
	s.mu.Lock()
	defer s.mu.Unlock()
	u := User{ID: s.newID(), Name: name, Bot: true}
	s.users[u.ID] = u
	return u
}

// TextChannel creates a text channel in a guild.
func (s *Server) TextChannel(guildID, name string) string {
	return s.addChannel(Channel{GuildID: guildID, Name: name, Type: TypeText})
}

// VoiceChannel creates a voice channel in a guild: its text chat takes
// messages, but a thread cannot be started from them (50024), so the bot
// answers in the channel itself.
func (s *Server) VoiceChannel(guildID, name string) string {
	return s.addChannel(Channel{GuildID: guildID, Name: name, Type: TypeVoice})
}

// ForumChannel creates a forum channel in a guild.
func (s *Server) ForumChannel(guildID, name string) string {
	return s.addChannel(Channel{GuildID: guildID, Name: name, Type: TypeForum})
}

// TaggedForum creates a forum channel offering tags of these names (its
// available_tags); ChannelInfo tells their ids. A name starting with "!"
// makes a moderated tag (only Manage Threads may apply it).
func (s *Server) TaggedForum(guildID, name string, tags ...string) string {
	s.mu.Lock()
	var ts []Tag
	for _, n := range tags {
		t := Tag{ID: s.newID(), Name: strings.TrimPrefix(n, "!"), Moderated: strings.HasPrefix(n, "!")}
		ts = append(ts, t)
	}
	s.mu.Unlock()
	return s.addChannel(Channel{GuildID: guildID, Name: name, Type: TypeForum, Tags: ts})
}

// SetThreadsDenied takes Manage Threads from the bot (denied) or gives it
// back: while denied, editing or archiving a thread someone else started,
// or applying a moderated tag, answers 403 Missing Permissions (50013).
func (s *Server) SetThreadsDenied(denied bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.noThreads = denied
}

// Thread creates a public thread without a starter message, as a user
// would from the "+" menu.
func (s *Server) Thread(parentID, name string, owner User) string {
	s.mu.Lock()
	parent := s.channels[parentID]
	s.mu.Unlock()
	if parent == nil {
		panic("discordtest: no channel " + parentID)
	}
	return s.addChannel(Channel{GuildID: parent.GuildID, Name: name, Type: TypeThread, ParentID: parentID, OwnerID: owner.ID})
}

// DMChannel opens the direct-message channel between a user and the bot.
func (s *Server) DMChannel(u User) string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.dmChannelLocked(u)
}

// dmChannelLocked returns the user's DM channel with the bot, made on first
// use (a DM channel dispatches no CHANNEL_CREATE to bots).
func (s *Server) dmChannelLocked(u User) string {
	if id := s.dmOfLocked(u.ID); id != "" {
		return id
	}
	c := Channel{ID: s.newID(), Name: "dm-" + u.Name, Type: TypeDM, OwnerID: u.ID}
	s.channels[c.ID] = &channel{Channel: c}
	return c.ID
}

func (s *Server) dmOfLocked(userID string) string {
	for _, c := range s.channels {
		if c.Type == TypeDM && c.OwnerID == userID {
			return c.ID
		}
	}
	return ""
}

// DirectMessages returns the bot's messages in the user's DM channel,
// oldest first (none when the channel was never opened).
func (s *Server) DirectMessages(u User) []Message {
	s.mu.Lock()
	id := s.dmOfLocked(u.ID)
	s.mu.Unlock()
	if id == "" {
		return nil
	}
	return s.BotMessages(id)
}

// BlockDMs makes the user refuse direct messages from the bot, as the
// privacy setting "allow DMs from server members" does: posting in their
// DM channel answers 403 with code 50007.
func (s *Server) BlockDMs(u User, blocked bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.dmBlocked[u.ID] = blocked
}

func (s *Server) addChannel(c Channel) string {
	s.mu.Lock()
	defer s.mu.Unlock()
	if c.ID == "" {
		c.ID = s.newID()
	}
	s.channels[c.ID] = &channel{Channel: c}
	switch c.Type {
	case TypeDM:
	case TypeThread:
		s.dispatchLocked("THREAD_CREATE", intentGuilds, s.threadCreatePayloadLocked(s.channels[c.ID]))
	default:
		s.dispatchLocked("CHANNEL_CREATE", intentGuilds, s.channelPayloadLocked(s.channels[c.ID]))
	}
	return c.ID
}

// ChannelInfo returns a channel.
func (s *Server) ChannelInfo(id string) (Channel, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	c, ok := s.channels[id]
	if !ok {
		return Channel{}, false
	}
	return c.Channel, true
}

// PostOptions describe a user's message in detail.
type PostOptions struct {
	ChannelID   string
	Author      User
	Content     string
	MentionsBot bool   // prefix the content with the bot's mention
	ReplyTo     string // id of the message this one replies to
	// Attachments are names of files uploaded with the message; each is
	// served at AttachmentURL.
	Attachments []string
}

// Post writes a message as a user and dispatches MESSAGE_CREATE. With
// mentionsBot the content starts with the bot's mention.
func (s *Server) Post(channelID string, u User, content string, mentionsBot bool) Message {
	return s.PostWith(PostOptions{ChannelID: channelID, Author: u, Content: content, MentionsBot: mentionsBot})
}

// PostWith writes a message as described.
func (s *Server) PostWith(p PostOptions) Message {
	s.mu.Lock()
	defer s.mu.Unlock()
	c := s.channels[p.ChannelID]
	if c == nil {
		panic("discordtest: no channel " + p.ChannelID)
	}
	m := &Message{ID: s.newID(), ChannelID: c.ID, GuildID: c.GuildID, Author: p.Author, Content: p.Content, Time: time.Now().UTC(), ReferenceID: p.ReplyTo,
		Attachments: p.Attachments}
	if p.MentionsBot {
		m.Content = "<@" + s.BotID + "> " + p.Content
		m.Mentions = append(m.Mentions, s.BotID)
	}
	if p.ReplyTo != "" {
		if ref := s.messages[p.ReplyTo]; ref != nil && !containsStr(m.Mentions, ref.Author.ID) {
			m.Mentions = append(m.Mentions, ref.Author.ID)
		}
	}
	s.storeLocked(m)
	s.dispatchMessageLocked("MESSAGE_CREATE", m)
	return *m
}

// ForumPost opens a post in a forum: a thread whose id is its first
// message's id. It dispatches THREAD_CREATE and MESSAGE_CREATE.
func (s *Server) ForumPost(forumID string, u User, title, content string) (threadID string, first Message) {
	s.mu.Lock()
	defer s.mu.Unlock()
	f := s.channels[forumID]
	if f == nil || f.Type != TypeForum {
		panic("discordtest: no forum " + forumID)
	}
	id := s.newID()
	th := &channel{Channel{ID: id, GuildID: f.GuildID, Name: title, Type: TypeThread, ParentID: forumID, OwnerID: u.ID}}
	s.channels[id] = th
	s.dispatchLocked("THREAD_CREATE", intentGuilds, s.threadCreatePayloadLocked(th))
	m := &Message{ID: id, ChannelID: id, GuildID: f.GuildID, Author: u, Content: content, Time: time.Now().UTC()}
	s.storeLocked(m)
	s.dispatchMessageLocked("MESSAGE_CREATE", m)
	return id, *m
}

// React adds a user's reaction and dispatches MESSAGE_REACTION_ADD.
func (s *Server) React(channelID, messageID string, u User, emoji string) {
	s.reaction("MESSAGE_REACTION_ADD", channelID, messageID, u, emoji)
}

// Unreact removes a user's reaction and dispatches MESSAGE_REACTION_REMOVE.
func (s *Server) Unreact(channelID, messageID string, u User, emoji string) {
	s.reaction("MESSAGE_REACTION_REMOVE", channelID, messageID, u, emoji)
}

func (s *Server) reaction(t, channelID, messageID string, u User, emoji string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	c := s.channels[channelID]
	if c == nil {
		panic("discordtest: no channel " + channelID)
	}
	d := map[string]any{
		"user_id":    u.ID,
		"channel_id": channelID,
		"message_id": messageID,
		"emoji":      map[string]any{"id": nil, "name": emoji},
	}
	intent := intentDirectReactions
	if c.GuildID != "" {
		d["guild_id"] = c.GuildID
		intent = intentGuildReactions
		if t == "MESSAGE_REACTION_ADD" {
			d["member"] = s.memberPayload(u, true)
		}
	}
	s.dispatchLocked(t, intent, d)
}

// SlashCommand runs a chat-input command as a user; args goes into the
// command's first registered option (or "text"). It returns the
// interaction id.
func (s *Server) SlashCommand(channelID string, u User, name, args string) string {
	s.mu.Lock()
	defer s.mu.Unlock()
	c := s.channels[channelID]
	if c == nil {
		panic("discordtest: no channel " + channelID)
	}
	data := map[string]any{"id": s.commandIDLocked(c.GuildID, name, 1), "name": name, "type": 1}
	if args != "" {
		opt := "text"
		if cmd, ok := s.findCommandLocked(c.GuildID, name, 1); ok && len(cmd.Options) > 0 {
			opt = cmd.Options[0].Name
		}
		data["options"] = []map[string]any{{"name": opt, "type": 3, "value": args}}
	}
	return s.interactionLocked(c, u, 2, data, nil)
}

// MessageCommand runs a message context-menu command on a message.
func (s *Server) MessageCommand(channelID string, u User, name, targetID string) string {
	s.mu.Lock()
	defer s.mu.Unlock()
	c := s.channels[channelID]
	target := s.messages[targetID]
	if c == nil || target == nil {
		panic("discordtest: no channel or message")
	}
	data := map[string]any{
		"id": s.commandIDLocked(c.GuildID, name, 3), "name": name, "type": 3, "target_id": targetID,
		"resolved": map[string]any{"messages": map[string]any{targetID: s.messagePayloadLocked(target, true)}},
	}
	return s.interactionLocked(c, u, 2, data, nil)
}

// ClickButton clicks a button (by custom id) on a message.
func (s *Server) ClickButton(channelID, messageID string, u User, customID string) string {
	s.mu.Lock()
	defer s.mu.Unlock()
	c := s.channels[channelID]
	m := s.messages[messageID]
	if c == nil || m == nil {
		panic("discordtest: no channel or message")
	}
	data := map[string]any{"custom_id": customID, "component_type": 2}
	return s.interactionLocked(c, u, 3, data, m)
}

func (s *Server) interactionLocked(c *channel, u User, typ int, data map[string]any, msg *Message) string {
	ia := &interaction{id: s.newID(), appID: s.AppID, channelID: c.ID, guildID: c.GuildID, created: time.Now(), component: typ == 3}
	ia.token = interactionTokenPrefix + ia.id
	if msg != nil {
		ia.original = msg.ID
	}
	s.interactions[ia.id] = ia
	s.interactionBy[ia.token] = ia.id
	d := map[string]any{
		"id": ia.id, "application_id": s.AppID, "type": typ, "data": data,
		"channel_id": c.ID, "token": ia.token, "version": 1, "locale": "en-US",
		"channel": s.channelPayloadLocked(c), "app_permissions": "309237730368",
	}
	if c.GuildID != "" {
		d["guild_id"] = c.GuildID
		d["member"] = s.memberPayload(u, true)
	} else {
		d["user"] = userPayload(u)
	}
	if msg != nil {
		d["message"] = s.messagePayloadLocked(msg, true)
	}
	// Interactions need no intent.
	s.dispatchLocked("INTERACTION_CREATE", 0, d)
	return ia.id
}

// InteractionToken returns the token of an interaction, as INTERACTION_CREATE
// carried it.
func (s *Server) InteractionToken(id string) string {
	s.mu.Lock()
	defer s.mu.Unlock()
	if ia := s.interactions[id]; ia != nil {
		return ia.token
	}
	return ""
}

// InteractionTokenLife is how long an interaction token opens the webhook
// endpoints (edit @original, follow-ups): 15 minutes, as on Discord.
const InteractionTokenLife = 15 * time.Minute

// ExpireInteraction ends an interaction token's life now, as 15 minutes
// passing would: the webhook endpoints answer it 401 with code 50027
// (Invalid Webhook Token), as Discord does for an expired token.
func (s *Server) ExpireInteraction(id string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if ia := s.interactions[id]; ia != nil {
		ia.expired = true
	}
}

func (s *Server) commandIDLocked(guildID, name string, typ int) string {
	if c, ok := s.findCommandLocked(guildID, name, typ); ok {
		return c.ID
	}
	return "0"
}

func (s *Server) findCommandLocked(guildID, name string, typ int) (Command, bool) {
	for _, key := range []string{guildID, ""} {
		for _, c := range s.commands[key] {
			if c.Name == name && c.Type == typ {
				return c, true
			}
		}
	}
	return Command{}, false
}

func (s *Server) storeLocked(m *Message) {
	s.messages[m.ID] = m
	s.byChannel[m.ChannelID] = append(s.byChannel[m.ChannelID], m.ID)
	if c := s.channels[m.ChannelID]; c != nil && c.Type == TypeThread && c.Archived && m.Flags&flagEphemeral == 0 {
		// A message in an archived thread opens it again, as on Discord
		// (one only its recipient sees does not).
		c.Archived = false
		s.dispatchLocked("THREAD_UPDATE", intentGuilds, s.channelPayloadLocked(c))
	}
}

// Messages returns the messages of a channel or thread, oldest first,
// without deleted ones.
func (s *Server) Messages(channelID string) []Message {
	s.mu.Lock()
	defer s.mu.Unlock()
	var out []Message
	for _, id := range s.byChannel[channelID] {
		if m := s.messages[id]; m != nil && !m.Deleted {
			out = append(out, *m)
		}
	}
	return out
}

// BotMessages returns the bot's messages in a channel or thread.
func (s *Server) BotMessages(channelID string) []Message {
	var out []Message
	for _, m := range s.Messages(channelID) {
		if m.Author.ID == s.BotID {
			out = append(out, m)
		}
	}
	return out
}

// AllBotMessages returns every message the bot posted, by channel id.
func (s *Server) AllBotMessages() map[string][]Message {
	s.mu.Lock()
	ids := make([]string, 0, len(s.byChannel))
	for id := range s.byChannel {
		ids = append(ids, id)
	}
	s.mu.Unlock()
	out := map[string][]Message{}
	for _, id := range ids {
		if ms := s.BotMessages(id); len(ms) > 0 {
			out[id] = ms
		}
	}
	return out
}

// ThreadStarts returns the threads the bot started from messages.
func (s *Server) ThreadStarts() []ThreadStart {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]ThreadStart(nil), s.threadStarts...)
}

// InteractionResponses returns the responses to an interaction ("" = all).
func (s *Server) InteractionResponses(interactionID string) []InteractionResponse {
	s.mu.Lock()
	defer s.mu.Unlock()
	var out []InteractionResponse
	for _, r := range s.responses {
		if interactionID == "" || r.InteractionID == interactionID {
			out = append(out, r)
		}
	}
	return out
}

// Typing returns the typing indicators the bot sent.
func (s *Server) Typing() []TypingCall {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]TypingCall(nil), s.typing...)
}

// Commands returns the commands registered for a guild ("" = global),
// sorted by name.
func (s *Server) Commands(guildID string) []Command {
	s.mu.Lock()
	defer s.mu.Unlock()
	out := append([]Command(nil), s.commands[guildID]...)
	sort.Slice(out, func(i, j int) bool { return out[i].Name < out[j].Name })
	return out
}

// Identifies counts IDENTIFY payloads accepted; Resumes counts RESUMEs.
func (s *Server) Identifies() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.identifies
}

// CompressedIdentifies counts the accepted IDENTIFY payloads that asked for
// per-payload zlib compression ("compress": true).
func (s *Server) CompressedIdentifies() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.compressedIdentifies
}

// RateLimited counts the requests answered with 429.
func (s *Server) RateLimited() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.nLimited
}

// Resumes counts accepted RESUME payloads.
func (s *Server) Resumes() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.resumes
}

// Connected reports how many gateway connections are identified or resumed.
func (s *Server) Connected() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	n := 0
	for _, ss := range s.sessions {
		if ss.conn != nil {
			n++
		}
	}
	return n
}

// WaitConnected waits until a session is connected.
func (s *Server) WaitConnected(timeout time.Duration) bool {
	deadline := time.Now().Add(timeout)
	for time.Now().Before(deadline) {
		if s.Connected() > 0 {
			return true
		}
		time.Sleep(5 * time.Millisecond)
	}
	return false
}

// Disconnect drops every gateway connection without a close frame, as a
// network failure would; clients resume.
func (s *Server) Disconnect() {
	s.mu.Lock()
	conns := make([]*gwConn, 0, len(s.conns))
	for c := range s.conns {
		conns = append(conns, c)
	}
	s.mu.Unlock()
	for _, c := range conns {
		c.drop()
	}
}

// Payloads in Discord's wire format.

func userPayload(u User) map[string]any {
	p := map[string]any{
		"id": u.ID, "username": strings.ToLower(strings.ReplaceAll(u.Name, " ", "_")), "global_name": u.Name,
		"discriminator": "0", "avatar": nil, "public_flags": 0,
	}
	if u.Avatar != "" {
		p["avatar"] = u.Avatar
	}
	if u.Bot {
		p["bot"] = true
	}
	return p
}

func (s *Server) memberPayload(u User, withUser bool) map[string]any {
	roles := u.Roles
	if roles == nil {
		roles = []string{}
	}
	p := map[string]any{"roles": roles, "nick": nil, "joined_at": "2024-01-01T00:00:00+00:00", "deaf": false, "mute": false, "flags": 0}
	if withUser {
		p["user"] = userPayload(u)
	}
	return p
}

func (s *Server) messagePayloadLocked(m *Message, withContent bool) map[string]any {
	mentions := []any{}
	for _, id := range m.Mentions {
		if u, ok := s.users[id]; ok {
			mentions = append(mentions, userPayload(u))
		}
	}
	content := m.Content
	components := s.componentsPayload(m)
	if !withContent {
		content = ""
		components = []any{}
	}
	author := userPayload(m.Author)
	if m.WebhookID != "" {
		author["username"], author["global_name"] = m.Author.Name, nil
		if m.AvatarURL == "" {
			author["avatar"] = nil
		}
	}
	p := map[string]any{
		"id": m.ID, "channel_id": m.ChannelID, "author": author, "content": content,
		"timestamp": m.Time.Format(time.RFC3339Nano), "edited_timestamp": nil, "tts": false,
		"mention_everyone": false, "mentions": mentions, "mention_roles": []any{}, "attachments": []any{},
		"embeds": []any{}, "components": components, "pinned": false, "type": 0, "flags": m.Flags,
	}
	if len(m.Attachments) > 0 && withContent {
		var atts []any
		for i, name := range m.Attachments {
			atts = append(atts, map[string]any{"id": fmt.Sprintf("%s%d", m.ID, i), "filename": name, "size": 1024,
				"url": AttachmentURL(m.ChannelID, m.ID, i, name), "proxy_url": strings.Replace(AttachmentURL(m.ChannelID, m.ID, i, name), "cdn.discordapp.com", "media.discordapp.net", 1)})
		}
		p["attachments"] = atts
	}
	if m.Edited {
		p["edited_timestamp"] = time.Now().UTC().Format(time.RFC3339Nano)
	}
	if m.GuildID != "" {
		p["guild_id"] = m.GuildID
		if m.Interaction == "" && m.WebhookID == "" {
			p["member"] = s.memberPayload(m.Author, false)
		}
	}
	if m.ReferenceID != "" {
		p["type"] = 19
		p["message_reference"] = map[string]any{"message_id": m.ReferenceID, "channel_id": m.ChannelID, "guild_id": m.GuildID}
		if ref := s.messages[m.ReferenceID]; ref != nil {
			p["referenced_message"] = s.messagePayloadLocked(&Message{ID: ref.ID, ChannelID: ref.ChannelID, GuildID: ref.GuildID, Author: ref.Author, Content: ref.Content, Time: ref.Time}, withContent)
		}
	}
	if m.Interaction != "" {
		p["application_id"] = s.AppID
		p["webhook_id"] = s.AppID
		p["type"] = 20
	}
	if m.WebhookID != "" {
		p["webhook_id"] = m.WebhookID
		if wh := s.webhooks[m.WebhookID]; wh != nil {
			p["application_id"] = wh.ApplicationID
		}
	}
	if c := s.channels[m.ID]; c != nil && c.Type == TypeThread && c.ParentID == m.ChannelID {
		p["thread"] = s.channelPayloadLocked(c)
	}
	return p
}

func (s *Server) componentsPayload(m *Message) []any {
	rows := []any{}
	for _, row := range m.Buttons {
		comps := []any{}
		for _, b := range row {
			comps = append(comps, map[string]any{"type": 2, "style": b.Style, "label": b.Label, "custom_id": b.CustomID})
		}
		rows = append(rows, map[string]any{"type": 1, "components": comps})
	}
	return rows
}

func (s *Server) channelPayloadLocked(c *channel) map[string]any {
	p := map[string]any{
		"id": c.ID, "type": c.Type, "name": c.Name, "permission_overwrites": []any{},
		"position": 0, "flags": 0, "nsfw": false,
	}
	if c.GuildID != "" {
		p["guild_id"] = c.GuildID
	}
	if c.ParentID != "" {
		p["parent_id"] = c.ParentID
	} else {
		p["parent_id"] = nil
	}
	if c.Type == TypeDM {
		if u, ok := s.users[c.OwnerID]; ok {
			p["recipients"] = []any{userPayload(u)}
		}
	}
	if c.Type == TypeForum {
		tags := []any{}
		for _, t := range c.Tags {
			tags = append(tags, map[string]any{"id": t.ID, "name": t.Name, "moderated": t.Moderated, "emoji_id": nil, "emoji_name": nil})
		}
		p["available_tags"] = tags
	}
	if c.Type == TypeThread {
		p["owner_id"] = c.OwnerID
		p["message_count"] = len(s.byChannel[c.ID])
		p["member_count"] = 1
		p["rate_limit_per_user"] = 0
		p["applied_tags"] = append([]string{}, c.AppliedTags...)
		p["thread_metadata"] = map[string]any{
			"archived": c.Archived, "auto_archive_duration": 1440, "locked": false,
			"archive_timestamp": time.Now().UTC().Format(time.RFC3339Nano),
		}
	}
	return p
}

func (s *Server) threadCreatePayloadLocked(c *channel) map[string]any {
	p := s.channelPayloadLocked(c)
	p["newly_created"] = true
	return p
}

func (s *Server) guildPayloadLocked(g *guild) map[string]any {
	roles := []any{}
	for i, r := range g.Roles {
		roles = append(roles, map[string]any{
			"id": r.ID, "name": r.Name, "color": 0, "hoist": false, "position": i,
			"permissions": "0", "managed": false, "mentionable": false, "flags": 0,
		})
	}
	channels, threads := []any{}, []any{}
	ids := make([]string, 0)
	for id, c := range s.channels {
		if c.GuildID == g.ID {
			ids = append(ids, id)
		}
	}
	sort.Strings(ids)
	for _, id := range ids {
		c := s.channels[id]
		if c.Type == TypeThread {
			threads = append(threads, s.channelPayloadLocked(c))
		} else {
			channels = append(channels, s.channelPayloadLocked(c))
		}
	}
	return map[string]any{
		"id": g.ID, "name": g.Name, "icon": nil, "owner_id": "1", "roles": roles,
		"channels": channels, "threads": threads, "members": []any{}, "member_count": len(s.users),
		"unavailable": false, "large": false, "joined_at": "2024-01-01T00:00:00+00:00",
		"emojis": []any{}, "stickers": []any{}, "features": []any{}, "voice_states": []any{},
		"presences": []any{}, "stage_instances": []any{}, "guild_scheduled_events": []any{},
		"verification_level": 0, "premium_tier": 0, "preferred_locale": "en-US",
	}
}

func containsStr(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}

func mustJSON(v any) []byte {
	b, err := json.Marshal(v)
	if err != nil {
		panic(err)
	}
	return b
}

// conns tracked for Disconnect and Close.
func (s *Server) track(c *gwConn, on bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if on {
		s.conns[c] = true
	} else {
		delete(s.conns, c)
	}
}

var upgrader = websocket.Upgrader{CheckOrigin: func(*http.Request) bool { return true }}

// AttachmentURL is where the fake says the i-th file of a message is.
func AttachmentURL(channelID, messageID string, i int, name string) string {
	return fmt.Sprintf("https://cdn.discordapp.com/attachments/%s/%s%d/%s", channelID, messageID, i, name)
}
