package web

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"regexp"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"golang.org/x/time/rate"

	"github.com/einsatz/einsatz/bot"
)

// ChatRequest is the body of POST /api/chat.
type ChatRequest struct {
	ConversationID string `json:"conversation_id"`
	Text           string `json:"text"`
	// MessageID makes a retry of the same message idempotent; the server
	// makes one up when it is missing.
	MessageID string `json:"message_id,omitempty"`
	User      string `json:"user,omitempty"` // display name, optional
	// Action and Value are a click on a button of an earlier reply
	// (instead of Text): the button's action and value as the reply
	// offered them. Only buttons offered to this conversation are taken.
	Action string `json:"action,omitempty"`
	Value  string `json:"value,omitempty"`
}

// ChatResponse is the answer of POST /api/chat.
type ChatResponse struct {
	ConversationID string `json:"conversation_id"`
	MessageID      string `json:"message_id"`
	// Status: answered, silent, duplicate (this message_id was handled
	// before), queued (the bot is busy: the answer comes with a later
	// request), pending (not answered within the wait), failed.
	Status  string      `json:"status"`
	Replies []ChatReply `json:"replies"`
}

var idPattern = regexp.MustCompile(`^[A-Za-z0-9_-]{1,128}$`)

const maxChatText = 4000

func (s *Server) chatPage(w http.ResponseWriter, r *http.Request) {
	lang := requestLang(r)
	data := map[string]any{"Lang": lang, "T": chatTexts[lang]}
	if s.opts.APIKey != "" {
		data["PageToken"] = s.pageToken(time.Now().Add(12 * time.Hour))
	}
	s.render(w, r, http.StatusOK, "chat.html", data)
}

// chatTexts are the chat page's own words; the bot's answers come in the
// language of the question.
var chatTexts = map[string]map[string]string{
	"en": {"title": "Chat", "placeholder": "Ask a question…", "send": "Send", "intro": "Ask me about the project. I answer from the knowledge base and say so when I don't know.", "error": "Something went wrong. Please try again.", "busy": "I'm busy; your message is queued.", "typing": "%s is typing…", "staff": "Staff", "edited": "edited", "open": "Chat with us", "close": "Close the chat"},
	"de": {"title": "Chat", "placeholder": "Stell eine Frage…", "send": "Senden", "intro": "Frag mich zum Projekt. Ich antworte aus der Wissensdatenbank und sage es, wenn ich etwas nicht weiß.", "error": "Da ist etwas schiefgegangen. Bitte versuch es noch einmal.", "busy": "Ich bin gerade beschäftigt; deine Nachricht ist in der Warteschlange.", "typing": "%s schreibt …", "staff": "Team", "edited": "bearbeitet", "open": "Chatte mit uns", "close": "Chat schließen"},
}

func pageLang(acceptLanguage string) string {
	for _, part := range strings.Split(acceptLanguage, ",") {
		tag, _, _ := strings.Cut(strings.TrimSpace(part), ";")
		switch strings.ToLower(strings.SplitN(tag, "-", 2)[0]) {
		case "de":
			return "de"
		case "en":
			return "en"
		}
	}
	return "en"
}

func (s *Server) chatAPI(w http.ResponseWriter, r *http.Request) {
	if !s.cors(w, r) {
		jsonError(w, http.StatusForbidden, "origin not allowed (web.cors_origins)")
		return
	}
	if r.Method == http.MethodOptions {
		w.WriteHeader(http.StatusNoContent)
		return
	}
	if !s.chatAuthorized(r) {
		jsonError(w, http.StatusUnauthorized, "missing or wrong API key")
		return
	}
	if !s.allowIP(s.clientIP(r)) {
		w.Header().Set("Retry-After", strconv.Itoa(s.retryAfterSeconds()))
		jsonError(w, http.StatusTooManyRequests, "too many requests; slow down")
		return
	}
	var req ChatRequest
	dec := json.NewDecoder(http.MaxBytesReader(w, r.Body, 64<<10))
	if err := dec.Decode(&req); err != nil {
		jsonError(w, http.StatusBadRequest, "body must be JSON: {\"conversation_id\": \"...\", \"text\": \"...\"}")
		return
	}
	req.Text = strings.TrimSpace(req.Text)
	if req.MessageID == "" {
		req.MessageID = randomToken()[:16]
	}
	switch {
	case !idPattern.MatchString(req.ConversationID):
		jsonError(w, http.StatusBadRequest, "conversation_id: 1-128 characters of A-Z, a-z, 0-9, _ and -")
		return
	case !idPattern.MatchString(req.MessageID):
		jsonError(w, http.StatusBadRequest, "message_id: 1-128 characters of A-Z, a-z, 0-9, _ and -")
		return
	case req.Action == "" && (req.Text == "" || !utf8.ValidString(req.Text) || len(req.Text) > maxChatText):
		jsonError(w, http.StatusBadRequest, fmt.Sprintf("text: 1-%d bytes of UTF-8", maxChatText))
		return
	case req.Action != "" && req.Text != "":
		jsonError(w, http.StatusBadRequest, "send either text or a button's action and value")
		return
	}
	name := req.User
	if name == "" || len(name) > 64 {
		name = "visitor"
	}
	ev := bot.Event{
		Key:       "web:" + req.ConversationID + ":" + req.MessageID,
		Kind:      bot.KindMessage,
		Platform:  bot.PlatformWeb,
		ChannelID: "web",
		ThreadID:  req.ConversationID,
		// A visitor's message ids are theirs (every API client may start
		// at "m1"): within the one "web" channel they are unique only
		// with the conversation's id in front.
		MessageID: req.ConversationID + ":" + req.MessageID,
		DM:        true, // a web chat is one-to-one
		User:      bot.User{Platform: bot.PlatformWeb, ID: req.ConversationID, Name: name},
		Text:      req.Text,
		Time:      time.Now(),
	}
	resp := ChatResponse{ConversationID: req.ConversationID, MessageID: req.MessageID, Replies: []ChatReply{}}

	wt := &waiter{done: make(chan struct{})}
	s.mu.Lock()
	if req.Action != "" {
		// A click goes the way a Discord or Slack button click goes: an
		// interaction event for the routes of that action.
		lang, ok := s.offeredLocked(req.ConversationID, req.Action, req.Value)
		if !ok {
			s.mu.Unlock()
			jsonError(w, http.StatusConflict, "that button was not offered in this conversation (or has expired)")
			return
		}
		ev.Kind, ev.Action, ev.Value, ev.Lang = bot.KindInteraction, req.Action, req.Value, lang
	} else {
		s.recordVisitorLocked(req.ConversationID, req.MessageID, req.Text)
	}
	sink := s.sink
	resp.Replies = append(resp.Replies, s.mailbox[req.ConversationID]...)
	delete(s.mailbox, req.ConversationID)
	s.waiters[ev.Key] = wt
	s.mu.Unlock()
	if sink == nil {
		s.forget(ev.Key)
		jsonError(w, http.StatusServiceUnavailable, "the bot is not running")
		return
	}
	switch err := sink.Submit(ev); {
	case errors.Is(err, bot.ErrQueueFull):
		s.forget(ev.Key)
		resp.Status = "queued"
		writeJSON(w, http.StatusAccepted, resp)
		return
	case err != nil:
		s.forget(ev.Key)
		s.log.Error("web: chat message not accepted", "err", err)
		jsonError(w, http.StatusServiceUnavailable, "the message could not be accepted; try again")
		return
	}
	// The wait for the answer is not writing: it comes on top of the
	// server's write timeout.
	extendWrite(w, s.opts.ChatTimeout+s.opts.WriteTimeout)
	timer := time.NewTimer(s.opts.ChatTimeout)
	defer timer.Stop()
	select {
	case <-wt.done:
		s.mu.Lock()
		resp.Replies = append(resp.Replies, wt.replies...)
		resp.Status = wt.outcome
		s.mu.Unlock()
		writeJSON(w, http.StatusOK, resp)
	case <-timer.C:
		s.forget(ev.Key)
		resp.Status = "pending"
		writeJSON(w, http.StatusAccepted, resp)
	case <-r.Context().Done():
		s.forget(ev.Key)
	}
}

// forget stops waiting for an event; later replies go to the mailbox.
func (s *Server) forget(key string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if w, ok := s.waiters[key]; ok {
		delete(s.waiters, key)
		if len(w.replies) > 0 {
			conv := strings.SplitN(strings.TrimPrefix(key, "web:"), ":", 2)[0]
			s.mailbox[conv] = append(s.mailbox[conv], w.replies...)
		}
	}
}

// cors applies the allow-list. It reports false for a cross-origin request
// from an origin that is not allowed.
func (s *Server) cors(w http.ResponseWriter, r *http.Request) bool {
	origin := r.Header.Get("Origin")
	if origin == "" || s.sameOrigin(origin, r) {
		return true
	}
	for _, o := range s.opts.CORSOrigins {
		if o == "*" || strings.EqualFold(strings.TrimSuffix(o, "/"), origin) {
			h := w.Header()
			h.Set("Access-Control-Allow-Origin", origin)
			h.Add("Vary", "Origin")
			h.Set("Access-Control-Allow-Methods", "GET, POST, OPTIONS")
			h.Set("Access-Control-Allow-Headers", "Content-Type, X-API-Key, Authorization, X-Chat-Token, Last-Event-ID")
			h.Set("Access-Control-Max-Age", "600")
			return true
		}
	}
	return false
}

// sameOrigin tells whether a browser request comes from this site's own
// pages. Behind a proxy that terminates TLS the request arrives as plain
// http while the page's origin is https: the origin of web.public_url
// counts, and with web.trust_proxy the proxy's X-Forwarded-Proto and
// X-Forwarded-Host do (a client could set those itself without a proxy).
func (s *Server) sameOrigin(origin string, r *http.Request) bool {
	scheme := "http"
	if r.TLS != nil {
		scheme = "https"
	}
	if strings.EqualFold(origin, scheme+"://"+r.Host) {
		return true
	}
	if u, err := url.Parse(s.opts.PublicURL); err == nil && u.Host != "" && strings.EqualFold(origin, u.Scheme+"://"+u.Host) {
		return true
	}
	if s.opts.TrustProxy {
		proto, host := lastValue(r.Header.Get("X-Forwarded-Proto")), lastValue(r.Header.Get("X-Forwarded-Host"))
		if host == "" {
			host = r.Host
		}
		if proto == "http" || proto == "https" {
			return strings.EqualFold(origin, proto+"://"+host)
		}
	}
	return false
}

// lastValue is the last entry of a comma-separated forwarding header: the
// one our proxy wrote (the ones before are whatever the client sent).
func lastValue(h string) string {
	parts := strings.Split(h, ",")
	return strings.TrimSpace(parts[len(parts)-1])
}

// chatAuthorized checks the optional API key; the chat page carries a
// signed page token instead.
func (s *Server) chatAuthorized(r *http.Request) bool {
	if s.opts.APIKey == "" {
		return true
	}
	key := r.Header.Get("X-API-Key")
	if key == "" {
		key, _ = strings.CutPrefix(r.Header.Get("Authorization"), "Bearer ")
	}
	if key != "" && equal(key, s.opts.APIKey) {
		return true
	}
	return s.validPageToken(r.Header.Get("X-Chat-Token"))
}

// pageToken is "expiry.signature": the chat page may use the API until expiry.
func (s *Server) pageToken(expiry time.Time) string {
	exp := strconv.FormatInt(expiry.Unix(), 10)
	return exp + "." + s.sign("chat:"+exp)
}

func (s *Server) validPageToken(tok string) bool {
	exp, sig, ok := strings.Cut(tok, ".")
	if !ok {
		return false
	}
	unix, err := strconv.ParseInt(exp, 10, 64)
	if err != nil || time.Now().Unix() > unix {
		return false
	}
	return hmac.Equal([]byte(sig), []byte(s.sign("chat:"+exp)))
}

func (s *Server) sign(msg string) string {
	m := hmac.New(sha256.New, s.secret)
	m.Write([]byte(msg))
	return hex.EncodeToString(m.Sum(nil))
}

// allowIP is the per-IP token bucket of the chat API.
func (s *Server) allowIP(ip string) bool {
	if s.opts.ChatPerMin <= 0 {
		return true
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	l, ok := s.limiters[ip]
	if !ok {
		if len(s.limiters) > 10000 {
			for k, old := range s.limiters {
				if old.Tokens() >= float64(s.opts.ChatBurst) {
					delete(s.limiters, k)
				}
			}
		}
		l = rate.NewLimiter(rate.Limit(s.opts.ChatPerMin/60), max(1, s.opts.ChatBurst))
		s.limiters[ip] = l
	}
	return l.Allow()
}

func (s *Server) retryAfterSeconds() int {
	if s.opts.ChatPerMin <= 0 {
		return 1
	}
	return max(1, int(60/s.opts.ChatPerMin+0.5))
}
