// Package slacktest is a fake Slack on loopback that the unmodified slack-go
// library talks to: the Web API methods Einsatz uses (with Slack's token,
// scope, channel, length and rate-limit rules), a Socket Mode websocket
// (hello, envelopes, acks with their latency, server pings, disconnect and
// reconnect with a fresh single-use URL, redelivery of unacknowledged
// envelopes) and, in HTTP mode, signed deliveries to a request URL with
// forged, stale and unsigned variants for tests.
//
// Tests drive it like a workspace: add channels and users, Post messages
// (a mention arrives as app_mention and as message, like on Slack), React,
// run SlashCommand, Shortcut and Click, then look at what the bot Posted and
// at the Acks. cmd/fakeslack runs it standalone for manual checks.
package slacktest

import (
	"encoding/json"
	"fmt"
	"log"
	"net"
	"net/http"
	"net/http/httptest"
	"sort"
	"strings"
	"sync"
	"time"

	"github.com/gorilla/websocket"
)

// Default credentials of a fake workspace.
const (
	DefaultBotToken      = "xoxb-fake-bot-token"
	DefaultAppToken      = "xapp-fake-app-token"
	DefaultSigningSecret = "fake-signing-secret"
	DefaultTeamID        = "T0FAKE"
	DefaultAppID         = "A0FAKE"
	DefaultBotUserID     = "U0BOT"
	DefaultBotID         = "B0BOT"
	DefaultBotName       = "einsatz"
)

// Modes: how events reach the app.
const (
	ModeSocket = "socket"
	ModeHTTP   = "http"
)

// AllScopes are the bot scopes the fake grants unless told otherwise.
var AllScopes = []string{
	"app_mentions:read", "channels:history", "groups:history", "im:history",
	"chat:write", "reactions:read", "reactions:write", "users:read",
	"usergroups:read", "channels:read", "groups:read", "im:read", "im:write", "commands",
	"chat:write.customize",
}

// Options configure a fake workspace. Zero values get the defaults noted.
type Options struct {
	Addr          string // listen address; default "127.0.0.1:0"
	BotToken      string // default DefaultBotToken
	AppToken      string // default DefaultAppToken
	SigningSecret string // default DefaultSigningSecret
	BotUserID     string // default DefaultBotUserID
	BotID         string // default DefaultBotID
	BotName       string // default DefaultBotName
	Mode          string // ModeSocket (default) or ModeHTTP
	// EventsURL is where HTTP mode delivers (also settable later with
	// SetEventsURL).
	EventsURL string
	// AckTimeout is how long an envelope or HTTP delivery may stay
	// unacknowledged before it is sent again; Slack's is 3s.
	AckTimeout time.Duration
	// MaxRetries is how often an unacknowledged delivery is retried; default 3.
	MaxRetries int
	// PingInterval is how often the server pings each websocket; default 5s.
	PingInterval time.Duration
	// Scopes granted to the bot token; default AllScopes.
	Scopes []string
	// OnPost is called for every message the bot posts or updates.
	OnPost func(Message)
	// Logf logs what happens; default silent.
	Logf func(format string, args ...any)
}

// Message is a message in the fake workspace.
type Message struct {
	Channel  string          `json:"channel"`
	TS       string          `json:"ts"`
	ThreadTS string          `json:"thread_ts,omitempty"`
	User     string          `json:"user"`
	BotID    string          `json:"bot_id,omitempty"`
	Text     string          `json:"text"`
	Blocks   json.RawMessage `json:"blocks,omitempty"`
	// Files are the names of files shared with the message (subtype
	// file_share); FileLink gives each one's permalink.
	Files  []string `json:"files,omitempty"`
	Edited bool     `json:"edited,omitempty"`
	// Username is the name a bot message was posted under (chat.postMessage
	// username, honoured with chat:write.customize as on Slack).
	Username string `json:"username,omitempty"`
	// IconURL is the icon_url a bot message was posted with (also
	// chat:write.customize).
	IconURL string `json:"icon_url,omitempty"`
	// Deleted: chat.delete removed it (it stays in Posted, marked).
	Deleted bool `json:"deleted,omitempty"`
	// EphemeralFor is the only user who sees an ephemeral message
	// (chat.postEphemeral); "" for ordinary messages. Ephemeral messages
	// cannot be threaded under, updated or linked to, as on Slack.
	EphemeralFor string `json:"ephemeral_for,omitempty"`
	// Metadata is the message metadata it was posted with (metadata.go).
	Metadata *Metadata `json:"metadata,omitempty"`
}

// Call is one Web API request the fake answered.
type Call struct {
	Method string
	Token  string
	Params map[string]string
	Error  string // "" when ok; "ratelimited" for a 429
}

// Ack is an acknowledgement the fake received over Socket Mode, or the
// answer to an HTTP delivery.
type Ack struct {
	EnvelopeID string
	Type       string // events_api, slash_commands, interactive
	Attempt    int    // 0 for the first delivery
	Latency    time.Duration
	Status     int  // HTTP mode: response status
	Lost       bool // dropped on purpose by LoseAcks: Slack never saw it
}

type channel struct {
	ID, Name string
	Kind     ChannelKind
	User     string // an IM opened by conversations.open: the person
}

// ChannelKind is the kind of a conversation.
type ChannelKind string

// Conversation kinds.
const (
	Public  ChannelKind = "channel"
	Private ChannelKind = "group"
	IM      ChannelKind = "im"
)

type user struct {
	ID, Name, BotID string
}

type rateLimit struct {
	n          int
	retryAfter int
}

// Server is a fake Slack workspace.
type Server struct {
	opts Options
	srv  *httptest.Server
	up   websocket.Upgrader

	mu         sync.Mutex
	cond       *sync.Cond
	seq        int64
	start      int64
	channels   map[string]*channel
	users      map[string]*user
	groups     map[string][]string
	messages   []*Message
	calls      []Call
	reacted    map[string]bool // channel/ts/name the bot reacted with (already_reacted)
	scopes     map[string]bool
	limits     map[string]*rateLimit
	failNext   map[string]string
	tickets    map[string]bool // single-use websocket URLs, true once used
	conns      []*wsConn
	connCount  int
	pending    []*envelope // delivered, not yet acked
	waiting    []*envelope // no connection to deliver to yet
	acks       []Ack
	loseAcks   int
	envelopes  int
	eventsURL  string
	httpQueue  chan *envelope
	closed     bool
	done       chan struct{}
	background sync.WaitGroup
	oidc       oidcFake // "Sign in with Slack" (oidc.go), under its own lock
}

// New starts a fake workspace on loopback. Close it when done.
func New(opts Options) *Server {
	if opts.Addr == "" {
		opts.Addr = "127.0.0.1:0"
	}
	def := func(p *string, v string) {
		if *p == "" {
			*p = v
		}
	}
	def(&opts.BotToken, DefaultBotToken)
	def(&opts.AppToken, DefaultAppToken)
	def(&opts.SigningSecret, DefaultSigningSecret)
	def(&opts.BotUserID, DefaultBotUserID)
	def(&opts.BotID, DefaultBotID)
	def(&opts.BotName, DefaultBotName)
	def(&opts.Mode, ModeSocket)
	if opts.AckTimeout <= 0 {
		opts.AckTimeout = 3 * time.Second
	}
	if opts.MaxRetries <= 0 {
		opts.MaxRetries = 3
	}
	if opts.PingInterval <= 0 {
		opts.PingInterval = 5 * time.Second
	}
	if opts.Scopes == nil {
		opts.Scopes = AllScopes
	}
	if opts.Logf == nil {
		opts.Logf = func(string, ...any) {}
	}
	s := &Server{
		opts:      opts,
		channels:  map[string]*channel{},
		reacted:   map[string]bool{},
		users:     map[string]*user{},
		groups:    map[string][]string{},
		scopes:    map[string]bool{},
		limits:    map[string]*rateLimit{},
		failNext:  map[string]string{},
		tickets:   map[string]bool{},
		start:     time.Now().Unix(),
		eventsURL: opts.EventsURL,
		httpQueue: make(chan *envelope, 4096),
		done:      make(chan struct{}),
	}
	s.cond = sync.NewCond(&s.mu)
	// slack-go dials with Origin: https://api.slack.com, like Slack's SDKs.
	s.up.CheckOrigin = func(*http.Request) bool { return true }
	for _, sc := range opts.Scopes {
		s.scopes[sc] = true
	}
	s.users[opts.BotUserID] = &user{ID: opts.BotUserID, Name: opts.BotName, BotID: opts.BotID}
	mux := http.NewServeMux()
	mux.HandleFunc("/api/", s.serveAPI)
	mux.HandleFunc("GET /openid/connect/authorize", s.oidcAuthorize)
	mux.HandleFunc("/api/openid.connect.token", s.oidcToken)
	mux.HandleFunc("/api/openid.connect.userInfo", s.oidcUserInfo)
	mux.HandleFunc("/link/", s.serveSocket)
	s.srv = httptest.NewUnstartedServer(mux)
	ln, err := net.Listen("tcp", opts.Addr)
	if err != nil {
		log.Panicf("slacktest: listen on %s: %v", opts.Addr, err)
	}
	s.srv.Listener = ln
	s.srv.Start()
	s.background.Add(2)
	go s.redeliverLoop()
	go s.httpLoop()
	return s
}

// Close stops the server and drops every connection.
func (s *Server) Close() {
	s.mu.Lock()
	if s.closed {
		s.mu.Unlock()
		return
	}
	s.closed = true
	close(s.done)
	conns := append([]*wsConn(nil), s.conns...)
	s.cond.Broadcast()
	s.mu.Unlock()
	for _, c := range conns {
		c.close()
	}
	s.background.Wait()
	s.srv.CloseClientConnections()
	s.srv.Close()
}

// URL is the server's base URL.
func (s *Server) URL() string { return s.srv.URL }

// APIURL is the Web API base for slack.OptionAPIURL; it ends with "/".
func (s *Server) APIURL() string { return s.srv.URL + "/api/" }

// BotToken, AppToken and SigningSecret are the workspace's credentials.
func (s *Server) BotToken() string { return s.opts.BotToken }

// AppToken is the app-level token apps.connections.open wants.
func (s *Server) AppToken() string { return s.opts.AppToken }

// SigningSecret signs HTTP deliveries.
func (s *Server) SigningSecret() string { return s.opts.SigningSecret }

// BotUserID is the bot's user id (what <@...> mentions).
func (s *Server) BotUserID() string { return s.opts.BotUserID }

// SetEventsURL sets where HTTP mode delivers.
func (s *Server) SetEventsURL(u string) {
	s.mu.Lock()
	s.eventsURL = u
	s.mu.Unlock()
}

// AddChannel adds a conversation; an IM is a direct message with the bot.
func (s *Server) AddChannel(id, name string, kind ChannelKind) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.channels[id] = &channel{ID: id, Name: name, Kind: kind}
}

// AddUser adds a human.
func (s *Server) AddUser(id, name string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.users[id] = &user{ID: id, Name: name}
}

// AddBot adds another bot user: its messages carry a bot_id.
func (s *Server) AddBot(userID, botID, name string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.users[userID] = &user{ID: userID, Name: name, BotID: botID}
}

// AddUserGroup adds a user group (subteam) with its members.
func (s *Server) AddUserGroup(id string, members ...string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.groups[id] = append([]string(nil), members...)
}

// SetScopes replaces the bot token's scopes; methods that need another
// answer missing_scope.
func (s *Server) SetScopes(scopes ...string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.scopes = map[string]bool{}
	for _, sc := range scopes {
		s.scopes[sc] = true
	}
}

// RateLimit makes the next n calls of a Web API method answer 429 with
// Retry-After: retryAfter seconds.
func (s *Server) RateLimit(method string, n, retryAfter int) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.limits[method] = &rateLimit{n: n, retryAfter: retryAfter}
}

// FailNext makes the next call of a method answer {"ok":false,"error":code}.
func (s *Server) FailNext(method, code string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.failNext[method] = code
}

// LoseAcks drops the next n Socket Mode acks as if they never reached
// Slack, so those envelopes are redelivered after the ack timeout.
func (s *Server) LoseAcks(n int) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.loseAcks += n
}

// Posted returns the messages the bot posted, oldest first.
func (s *Server) Posted() []Message {
	s.mu.Lock()
	defer s.mu.Unlock()
	var out []Message
	for _, m := range s.messages {
		if m.User == s.opts.BotUserID {
			out = append(out, *m)
		}
	}
	return out
}

// WaitPosted waits until the bot has posted at least n messages or the
// timeout passes, and returns what it posted.
func (s *Server) WaitPosted(n int, timeout time.Duration) []Message {
	deadline := time.Now().Add(timeout)
	for {
		posted := s.Posted()
		if len(posted) >= n || time.Now().After(deadline) {
			return posted
		}
		time.Sleep(5 * time.Millisecond)
	}
}

// DirectMessages returns the bot's messages in the direct-message
// conversations conversations.open opened with the user, oldest first.
func (s *Server) DirectMessages(userID string) []Message {
	s.mu.Lock()
	defer s.mu.Unlock()
	var out []Message
	for _, m := range s.messages {
		if c := s.channelLocked(m.Channel); c != nil && c.Kind == IM && c.User == userID && m.User == s.opts.BotUserID {
			out = append(out, *m)
		}
	}
	return out
}

// Calls returns the Web API calls answered so far; with a method, only those.
func (s *Server) Calls(method string) []Call {
	s.mu.Lock()
	defer s.mu.Unlock()
	var out []Call
	for _, c := range s.calls {
		if method == "" || c.Method == method {
			out = append(out, c)
		}
	}
	return out
}

// Acks returns the acknowledgements received so far.
func (s *Server) Acks() []Ack {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]Ack(nil), s.acks...)
}

// Unacked is the number of delivered envelopes still waiting for an ack.
func (s *Server) Unacked() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return len(s.pending) + len(s.waiting)
}

// WaitConnected waits until n connections were accepted in total and one is
// open, or the timeout passes.
func (s *Server) WaitConnected(n int, timeout time.Duration) bool {
	deadline := time.Now().Add(timeout)
	for time.Now().Before(deadline) {
		s.mu.Lock()
		ok := s.connCount >= n && len(s.conns) > 0
		s.mu.Unlock()
		if ok {
			return true
		}
		time.Sleep(5 * time.Millisecond)
	}
	return false
}

// nextTS returns a fresh, increasing message timestamp.
func (s *Server) nextTSLocked() string {
	s.seq++
	return fmt.Sprintf("%d.%06d", s.start, s.seq)
}

func (s *Server) nextID(prefix string) string {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.seq++
	return fmt.Sprintf("%s%d%06d", prefix, s.start, s.seq)
}

// messageLocked finds an ordinary (not ephemeral) message.
func (s *Server) messageLocked(channelID, ts string) *Message {
	if m := s.anyMessageLocked(channelID, ts); m != nil && m.EphemeralFor == "" {
		return m
	}
	return nil
}

// anyMessageLocked finds a message, ephemeral ones included.
func (s *Server) anyMessageLocked(channelID, ts string) *Message {
	for _, m := range s.messages {
		if m.Channel == channelID && m.TS == ts {
			return m
		}
	}
	return nil
}

func (s *Server) channelLocked(id string) *channel {
	if c, ok := s.channels[id]; ok {
		return c
	}
	return nil
}

func (s *Server) channelType(id string) string {
	s.mu.Lock()
	defer s.mu.Unlock()
	if c := s.channelLocked(id); c != nil {
		return string(c.Kind)
	}
	return string(Public)
}

func (s *Server) userName(id string) string {
	s.mu.Lock()
	defer s.mu.Unlock()
	if u, ok := s.users[id]; ok {
		return u.Name
	}
	return id
}

func sortedKeys(m map[string]bool) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}

func permalink(channelID, ts, threadTS string) string {
	link := "https://fake.slack.com/archives/" + channelID + "/p" + strings.ReplaceAll(ts, ".", "")
	if threadTS != "" && threadTS != ts {
		link += "?thread_ts=" + threadTS + "&cid=" + channelID
	}
	return link
}
