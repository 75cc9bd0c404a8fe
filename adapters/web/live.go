package web

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/einsatz/einsatz/bot"
	"github.com/einsatz/einsatz/bot/lang"
)

// The live chat: every message of a web conversation (the visitor's, the
// bot's answers, late posts such as a staff reply or the inbox's thanks)
// and the typing indicator go out as server-sent events on
// GET /api/chat/{conversation_id}/events. A bounded backlog per
// conversation lets a client that reconnects resume after the last event
// it saw (Last-Event-ID) without gaps or duplicates.

// Limits of the live chat's memory.
const (
	maxLiveConversations = 10000    // conversations with a backlog
	maxBacklog           = 64       // events kept per conversation for resuming
	maxConvBytes         = 64 << 10 // … and at most this much of their data
	maxLiveBytes         = 32 << 20 // the backlogs of all conversations together
	maxStreamsPerConv    = 4        // open streams of one conversation (tabs)
	maxStreams           = 2000     // open streams in all
	streamBuffer         = 32       // events queued for one slow stream before it is dropped
	streamWriteWait      = 10 * time.Second
	sweepEvery           = time.Minute
)

// ChatReply is a reply in a chat API response: the bot's reply with the id
// of its event on the conversation's stream, so a client that reads both
// shows it once.
type ChatReply struct {
	bot.Reply
	EventID int64 `json:"event_id,omitempty"`
	Edited  bool  `json:"edited,omitempty"` // staff changed it after it was sent
}

// StreamEvent is the data of a "message", "edit", "delete" or "typing"
// event on the stream.
type StreamEvent struct {
	ID int64 `json:"id,omitempty"`
	// Role of a message: "user" (the visitor), "bot" or "staff" (a reply
	// with an author, AuthorName).
	Role string `json:"role,omitempty"`
	// MessageID is the visitor's message id (role "user"), so the page
	// that sent it does not show it twice.
	MessageID string `json:"message_id,omitempty"`
	// Target is the message an "edit" or "delete" event changes (its
	// event id).
	Target int64 `json:"target,omitempty"`
	// Edited marks a message staff changed after it was sent (the message
	// as kept for resuming, and "edit" events).
	Edited bool `json:"edited,omitempty"`
	bot.Reply
	Typing *bool `json:"typing,omitempty"` // typing events: started or stopped
}

// streamItem is one encoded event.
type streamItem struct {
	id      int64
	name    string // SSE event name: "message", "edit", "delete" or "typing"
	data    []byte
	buttons []bot.Button // offered with a message: the clicks the conversation may send
	msgID   string       // the visitor's message id (role "user")
}

type subscriber struct {
	ch   chan streamItem
	gone chan struct{} // closed when the stream is dropped (too slow, evicted)
}

// liveConv is one conversation's stream state, guarded by Server.mu.
type liveConv struct {
	last    int64
	backlog []streamItem
	subs    map[*subscriber]struct{}
	typing  bool
	lang    string // of the visitor's last message, for their button clicks
	active  time.Time
	bytes   int // data held in backlog
}

// nextID is the conversation's next event id: the clock in microseconds,
// or one more than the last id. Time-based ids keep increasing after a
// restart or after an idle conversation expired, so a client resuming
// with an old Last-Event-ID never skips new events.
func (c *liveConv) nextID(now time.Time) int64 {
	c.last = max(c.last+1, now.UnixMicro())
	return c.last
}

// liveConvLocked returns the conversation's state, making it when create
// is set (nil when it cannot: every slot is held by an open stream).
func (s *Server) liveConvLocked(conv string, create bool) *liveConv {
	now := s.opts.Clock.Now()
	if c, ok := s.live[conv]; ok {
		c.active = now
		return c
	}
	if !create {
		return nil
	}
	if now.Sub(s.swept) >= sweepEvery || len(s.live) >= maxLiveConversations {
		s.sweepLocked(now)
	}
	if len(s.live) >= maxLiveConversations && !s.evictLocked("") {
		return nil
	}
	c := &liveConv{subs: map[*subscriber]struct{}{}, active: now}
	s.live[conv] = c
	return c
}

// evictLocked forgets the conversation idle longest that nobody streams,
// other than keep; it reports false when there is none.
func (s *Server) evictLocked(keep string) bool {
	var oldest string
	var at time.Time
	for id, c := range s.live {
		if id != keep && len(c.subs) == 0 && (oldest == "" || c.active.Before(at)) {
			oldest, at = id, c.active
		}
	}
	if oldest == "" {
		return false
	}
	s.dropLocked(oldest)
	return true
}

func (s *Server) dropLocked(conv string) {
	if c, ok := s.live[conv]; ok {
		s.liveBytes -= c.bytes
		delete(s.live, conv)
	}
}

// sweepLocked forgets conversations nobody watches that were idle longer
// than Options.LiveIdle.
func (s *Server) sweepLocked(now time.Time) {
	s.swept = now
	for id, c := range s.live {
		if len(c.subs) == 0 && now.Sub(c.active) > s.opts.LiveIdle {
			s.dropLocked(id)
		}
	}
}

// publishLocked adds an event to the conversation's backlog (unless it is
// a typing event, which only the streams open now get) and sends it to its
// streams. It returns the event's id.
func (s *Server) publishLocked(conv string, c *liveConv, name string, ev StreamEvent) int64 {
	ev.ID = c.nextID(s.opts.Clock.Now())
	data, err := json.Marshal(ev)
	if err != nil { // cannot happen with these types; do not take the chat down for it
		s.log.Error("web: encode stream event", "err", err)
		return 0
	}
	it := streamItem{id: ev.ID, name: name, data: data, buttons: ev.Buttons, msgID: ev.MessageID}
	if name != "typing" {
		c.backlog = append(c.backlog, it)
		c.bytes += len(data)
		s.liveBytes += len(data)
		drop := 0
		for len(c.backlog)-drop > maxBacklog || (c.bytes > maxConvBytes && len(c.backlog)-drop > 1) {
			c.bytes -= len(c.backlog[drop].data)
			s.liveBytes -= len(c.backlog[drop].data)
			drop++
		}
		if drop > 0 {
			c.backlog = append(c.backlog[:0:0], c.backlog[drop:]...)
		}
		for s.liveBytes > maxLiveBytes {
			if !s.evictLocked(conv) {
				break
			}
		}
	}
	for sub := range c.subs {
		select {
		case sub.ch <- it:
		default:
			// Too slow to read: drop it; the client reconnects and
			// resumes from the backlog.
			delete(c.subs, sub)
			close(sub.gone)
			s.streams--
		}
	}
	return ev.ID
}

// recordReplyLocked publishes a reply into the conversation's stream.
func (s *Server) recordReplyLocked(conv string, r bot.Reply) ChatReply {
	c := s.liveConvLocked(conv, true)
	if c == nil {
		return ChatReply{Reply: r}
	}
	role := "bot"
	if r.AuthorName != "" {
		role = "staff"
	}
	return ChatReply{Reply: r, EventID: s.publishLocked(conv, c, "message", StreamEvent{Role: role, Reply: r})}
}

// recordVisitorLocked publishes the visitor's own message.
func (s *Server) recordVisitorLocked(conv, messageID, text string) {
	c := s.liveConvLocked(conv, true)
	if c == nil {
		return
	}
	c.lang = lang.Detect(text)
	for _, it := range c.backlog {
		if it.msgID == messageID {
			return // a retry of a message shown already
		}
	}
	s.publishLocked(conv, c, "message", StreamEvent{Role: "user", MessageID: messageID, Reply: bot.Reply{Text: text}})
}

// setTypingLocked starts or stops the conversation's typing indicator.
func (s *Server) setTypingLocked(conv string, on bool) {
	c := s.liveConvLocked(conv, on)
	if c == nil || c.typing == on {
		return
	}
	c.typing = on
	s.publishLocked(conv, c, "typing", StreamEvent{Typing: &on})
}

// offeredLocked reports whether the conversation was offered a button with
// this action and value by a message still in its backlog, and the
// language to answer the click in. A web visitor can click only what the
// bot showed them, as on Discord and Slack.
func (s *Server) offeredLocked(conv, action, value string) (string, bool) {
	c := s.liveConvLocked(conv, false)
	if c == nil {
		return "", false
	}
	for _, it := range c.backlog {
		for _, b := range it.buttons {
			if b.Action == action && b.Value == value {
				return c.lang, true
			}
		}
	}
	return "", false
}

// Typing shows the typing indicator on the conversation's stream until the
// event is completed or answered.
func (s *Server) Typing(_ context.Context, in bot.ThreadRef) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.setTypingLocked(in.ThreadID, true)
	return nil
}

var errStreamsFull = errors.New("too many open chat streams")

// subscribe opens a stream of the conversation and returns the events
// after lastID and whether the bot is typing now.
func (s *Server) subscribe(conv string, lastID int64) (*subscriber, []streamItem, bool, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.streams >= maxStreams {
		return nil, nil, false, errStreamsFull
	}
	c := s.liveConvLocked(conv, true)
	if c == nil || len(c.subs) >= maxStreamsPerConv {
		return nil, nil, false, errStreamsFull
	}
	var missed []streamItem
	for _, it := range c.backlog {
		if it.id > lastID {
			missed = append(missed, it)
		}
	}
	sub := &subscriber{ch: make(chan streamItem, streamBuffer), gone: make(chan struct{})}
	c.subs[sub] = struct{}{}
	s.streams++
	return sub, missed, c.typing, nil
}

func (s *Server) unsubscribe(conv string, sub *subscriber) {
	s.mu.Lock()
	defer s.mu.Unlock()
	c, ok := s.live[conv]
	if !ok {
		return
	}
	if _, ok := c.subs[sub]; ok {
		delete(c.subs, sub)
		s.streams--
	}
	c.active = s.opts.Clock.Now()
}

// watchedLocked reports whether a stream of the conversation is open.
func (s *Server) watchedLocked(conv string) bool {
	c, ok := s.live[conv]
	return ok && len(c.subs) > 0
}

// chatEvents serves GET /api/chat/{conversation_id}/events. EventSource
// cannot send headers, so the page token may come as ?token=; resuming
// works with the Last-Event-ID header (sent by EventSource on reconnect)
// or ?last_event_id= (a reloaded page that remembers where it was).
func (s *Server) chatEvents(w http.ResponseWriter, r *http.Request) {
	if !s.cors(w, r) {
		jsonError(w, http.StatusForbidden, "origin not allowed (web.cors_origins)")
		return
	}
	if r.Method == http.MethodOptions {
		w.WriteHeader(http.StatusNoContent)
		return
	}
	if !s.chatAuthorized(r) && !s.validPageToken(r.URL.Query().Get("token")) {
		jsonError(w, http.StatusUnauthorized, "missing or wrong API key")
		return
	}
	conv := r.PathValue("conversation_id")
	if !idPattern.MatchString(conv) {
		jsonError(w, http.StatusBadRequest, "conversation_id: 1-128 characters of A-Z, a-z, 0-9, _ and -")
		return
	}
	last := r.Header.Get("Last-Event-ID")
	if last == "" {
		last = r.URL.Query().Get("last_event_id")
	}
	var lastID int64
	if last != "" {
		n, err := strconv.ParseInt(last, 10, 64)
		if err != nil || n < 0 {
			jsonError(w, http.StatusBadRequest, "Last-Event-ID: a number")
			return
		}
		lastID = n
	}
	if !s.allowIP(s.clientIP(r)) {
		w.Header().Set("Retry-After", strconv.Itoa(s.retryAfterSeconds()))
		jsonError(w, http.StatusTooManyRequests, "too many requests; slow down")
		return
	}
	sub, missed, typing, err := s.subscribe(conv, lastID)
	if err != nil {
		w.Header().Set("Retry-After", "30")
		jsonError(w, http.StatusServiceUnavailable, err.Error())
		return
	}
	defer s.unsubscribe(conv, sub)

	h := w.Header()
	h.Set("Content-Type", "text/event-stream")
	h.Set("Cache-Control", "no-store")
	h.Set("X-Accel-Buffering", "no") // nginx: do not hold events back
	w.WriteHeader(http.StatusOK)
	rc := http.NewResponseController(w)
	write := func(chunk string) bool {
		// A stream lives longer than the server's WriteTimeout: each write
		// gets its own deadline instead, so a stuck client is let go.
		if err := rc.SetWriteDeadline(time.Now().Add(streamWriteWait)); err != nil && !errors.Is(err, http.ErrNotSupported) {
			return false
		}
		if _, err := io.WriteString(w, chunk); err != nil {
			return false
		}
		return rc.Flush() == nil
	}
	var b strings.Builder
	b.WriteString("retry: 3000\n\n")
	for _, it := range missed {
		b.WriteString(it.encode())
	}
	if typing {
		// The current state, without an id: it is not part of the backlog.
		b.WriteString("event: typing\ndata: {\"typing\":true}\n\n")
	}
	if !write(b.String()) {
		return
	}
	beat := time.NewTicker(s.opts.StreamHeartbeat)
	defer beat.Stop()
	for {
		select {
		case it := <-sub.ch:
			if !write(it.encode()) {
				return
			}
		case <-beat.C:
			// A comment line keeps proxies from closing an idle stream and
			// finds dead connections.
			if !write(": ping\n\n") {
				return
			}
		case <-sub.gone:
			return
		case <-s.closing:
			return
		case <-r.Context().Done():
			return
		}
	}
}

func (it streamItem) encode() string {
	return fmt.Sprintf("id: %d\nevent: %s\ndata: %s\n\n", it.id, it.name, it.data)
}
