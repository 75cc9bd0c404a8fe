package discordtest

import (
	"crypto/sha1"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"regexp"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"
)

const api = "/api/v9"

func (s *Server) routes() http.Handler {
	mux := http.NewServeMux()
	mux.HandleFunc("GET /gateway", s.serveGateway)
	mux.HandleFunc("GET /gateway/", s.serveGateway)

	open := func(pattern string, h http.HandlerFunc) { mux.Handle(pattern, s.limited(h)) }
	authed := func(pattern string, h http.HandlerFunc) { mux.Handle(pattern, s.limited(s.auth(h))) }

	open("GET "+api+"/gateway", s.getGateway)
	authed("GET "+api+"/gateway/bot", s.getGatewayBot)
	authed("GET "+api+"/users/@me", func(w http.ResponseWriter, _ *http.Request) { writeJSON(w, 200, userPayload(s.botUser)) })
	authed("GET "+api+"/oauth2/applications/@me", s.getApplication)
	authed("GET "+api+"/applications/@me", s.getApplication)
	authed("GET "+api+"/applications/{app}/commands", s.getCommands)
	authed("PUT "+api+"/applications/{app}/commands", s.putCommands)
	authed("GET "+api+"/applications/{app}/guilds/{guild}/commands", s.getCommands)
	authed("PUT "+api+"/applications/{app}/guilds/{guild}/commands", s.putCommands)
	authed("POST "+api+"/users/@me/channels", s.createDM)
	authed("GET "+api+"/channels/{cid}", s.getChannel)
	authed("PATCH "+api+"/channels/{cid}", s.patchThread)
	authed("POST "+api+"/channels/{cid}/messages", s.postMessage)
	authed("GET "+api+"/channels/{cid}/messages", s.getMessages)
	authed("GET "+api+"/guilds/{gid}/members/{uid}", s.getMember)
	authed("GET "+api+"/channels/{cid}/messages/{mid}", s.getMessage)
	authed("PATCH "+api+"/channels/{cid}/messages/{mid}", s.patchMessage)
	authed("DELETE "+api+"/channels/{cid}/messages/{mid}", s.deleteMessage)
	authed("POST "+api+"/channels/{cid}/messages/{mid}/threads", s.startThread)
	authed("POST "+api+"/channels/{cid}/typing", s.postTyping)
	authed("PUT "+api+"/channels/{cid}/messages/{mid}/reactions/{emoji}/@me", s.putReaction)
	// Interaction endpoints authenticate with the interaction token in the path.
	open("POST "+api+"/interactions/{iid}/{token}/callback", s.interactionCallback)
	open("PATCH "+api+"/webhooks/{app}/{token}/messages/@original", s.editOriginal)
	open("DELETE "+api+"/webhooks/{app}/{token}/messages/@original", s.deleteOriginal)
	open("POST "+api+"/webhooks/{app}/{token}", s.webhookPost)
	open("PATCH "+api+"/webhooks/{app}/{token}/messages/{mid}", s.webhookEdit)
	open("DELETE "+api+"/webhooks/{app}/{token}/messages/{mid}", s.webhookDelete)
	authed("POST "+api+"/channels/{cid}/webhooks", s.createWebhook)
	authed("GET "+api+"/channels/{cid}/webhooks", s.channelWebhooks)
	// OAuth2 for people signing in to a website (oauth.go): the browser's
	// consent page, the token exchange and the user behind a Bearer token.
	mux.HandleFunc("GET /oauth2/authorize", s.oauthAuthorize)
	open("POST /api/oauth2/token", s.oauthToken)
	open("GET /api/users/@me", s.oauthMe)
	mux.HandleFunc("/", func(w http.ResponseWriter, r *http.Request) {
		s.logf("rest: %s %s not served by the fake", r.Method, r.URL.Path)
		apiError(w, 404, 0, "404: Not Found")
	})
	return mux
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	_, _ = w.Write(mustJSON(v))
}

func apiError(w http.ResponseWriter, status, code int, msg string) {
	writeJSON(w, status, map[string]any{"message": msg, "code": code})
}

func formError(w http.ResponseWriter, field, code, msg string) {
	writeJSON(w, 400, map[string]any{
		"message": "Invalid Form Body", "code": 50035,
		"errors": map[string]any{field: map[string]any{"_errors": []any{map[string]any{"code": code, "message": msg}}}},
	})
}

// auth enforces the bot token with its "Bot " prefix, as Discord's REST
// API does (401 without it).
func (s *Server) auth(next http.HandlerFunc) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		if r.Header.Get("Authorization") != "Bot "+s.Token {
			s.logf("rest: %s %s: 401 (authorization %q is not \"Bot <token>\")", r.Method, r.URL.Path, redact(r.Header.Get("Authorization")))
			apiError(w, 401, 0, "401: Unauthorized")
			return
		}
		next(w, r)
	}
}

func redact(a string) string {
	if len(a) > 8 {
		return a[:4] + "…"
	}
	return a
}

// limited adds Discord's rate-limit headers and answers 429 when a route
// takes more than RateLimit requests in a second.
func (s *Server) limited(next http.HandlerFunc) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		key := r.Method + " " + r.URL.Path
		now := time.Now()
		s.mu.Lock()
		b := s.buckets[key]
		if b == nil || now.Sub(b.window) >= time.Second {
			b = &bucket{window: now}
			s.buckets[key] = b
		}
		b.used++
		used := b.used
		if used > s.opts.RateLimit {
			s.nLimited++
		}
		reset := b.window.Add(time.Second)
		s.mu.Unlock()
		sum := sha1.Sum([]byte(key))
		h := w.Header()
		h.Set("X-RateLimit-Bucket", hex.EncodeToString(sum[:8]))
		h.Set("X-RateLimit-Limit", strconv.Itoa(s.opts.RateLimit))
		h.Set("X-RateLimit-Remaining", strconv.Itoa(max(0, s.opts.RateLimit-used)))
		h.Set("X-RateLimit-Reset", strconv.FormatFloat(float64(reset.UnixMilli())/1000, 'f', 3, 64))
		h.Set("X-RateLimit-Reset-After", strconv.FormatFloat(max(0, reset.Sub(now).Seconds()), 'f', 3, 64))
		if used > s.opts.RateLimit {
			after := max(0.001, reset.Sub(now).Seconds())
			h.Set("Retry-After", strconv.Itoa(int(after)+1))
			h.Set("X-RateLimit-Scope", "user")
			writeJSON(w, 429, map[string]any{"message": "You are being rate limited.", "retry_after": after, "global": false})
			return
		}
		next(w, r)
	}
}

func (s *Server) getGateway(w http.ResponseWriter, _ *http.Request) {
	writeJSON(w, 200, map[string]any{
		"url": s.wsURL, "shards": 1,
		"session_start_limit": map[string]any{"total": 1000, "remaining": 999, "reset_after": 0, "max_concurrency": 1},
	})
}

func (s *Server) getApplication(w http.ResponseWriter, _ *http.Request) {
	writeJSON(w, 200, map[string]any{
		"id": s.AppID, "name": "Einsatz", "description": "", "icon": nil,
		"bot_public": true, "bot_require_code_grant": false, "flags": 0,
		"bot": userPayload(s.botUser), "verify_key": "00",
	})
}

var commandName = regexp.MustCompile(`^[-_\p{L}\p{N}]{1,32}$`)

// locales are the locales Discord accepts in name_localizations.
var locales = map[string]bool{}

func init() {
	for _, l := range strings.Fields("id da de en-GB en-US es-ES es-419 fr hr it lt hu nl no pl pt-BR ro fi sv-SE vi tr cs el bg ru uk hi th zh-CN ja zh-TW ko") {
		locales[l] = true
	}
}

func (s *Server) getCommands(w http.ResponseWriter, r *http.Request) {
	if r.PathValue("app") != s.AppID {
		apiError(w, 403, 50001, "Missing Access")
		return
	}
	s.mu.Lock()
	cmds := append([]Command{}, s.commands[r.PathValue("guild")]...)
	s.mu.Unlock()
	writeJSON(w, 200, s.commandsPayload(cmds))
}

func (s *Server) commandsPayload(cmds []Command) []any {
	out := []any{}
	for _, c := range cmds {
		var v map[string]any
		_ = json.Unmarshal(mustJSON(c), &v)
		v["application_id"] = s.AppID
		v["version"] = "1"
		if c.GuildID != "" {
			v["guild_id"] = c.GuildID
		}
		out = append(out, v)
	}
	return out
}

func (s *Server) putCommands(w http.ResponseWriter, r *http.Request) {
	if r.PathValue("app") != s.AppID {
		apiError(w, 403, 50001, "Missing Access")
		return
	}
	guildID := r.PathValue("guild")
	var in []Command
	if err := json.NewDecoder(r.Body).Decode(&in); err != nil {
		apiError(w, 400, 50109, "The request body contains invalid JSON.")
		return
	}
	seen := map[string]bool{}
	for i, c := range in {
		if c.Type == 0 {
			c.Type = 1
			in[i].Type = 1
		}
		field := fmt.Sprintf("%d.name", i)
		if c.Type == 1 && (!commandName.MatchString(c.Name) || strings.ToLower(c.Name) != c.Name) {
			formError(w, field, "APPLICATION_COMMAND_INVALID_NAME", "Command name is invalid")
			return
		}
		if n := utf8.RuneCountInString(c.Name); n < 1 || n > 32 {
			formError(w, field, "BASE_TYPE_BAD_LENGTH", "Must be between 1 and 32 in length.")
			return
		}
		for loc, name := range c.NameLocalizations {
			lf := fmt.Sprintf("%d.name_localizations.%s", i, loc)
			if !locales[loc] {
				formError(w, lf, "LOCALE_INVALID", "Invalid locale")
				return
			}
			if n := utf8.RuneCountInString(name); n < 1 || n > 32 || (c.Type == 1 && (!commandName.MatchString(name) || strings.ToLower(name) != name)) {
				formError(w, lf, "APPLICATION_COMMAND_INVALID_NAME", "Command name is invalid")
				return
			}
		}
		if c.Type == 1 {
			if n := utf8.RuneCountInString(c.Description); n < 1 || n > 100 {
				formError(w, fmt.Sprintf("%d.description", i), "BASE_TYPE_BAD_LENGTH", "Must be between 1 and 100 in length.")
				return
			}
		} else if c.Description != "" {
			formError(w, fmt.Sprintf("%d.description", i), "APPLICATION_COMMAND_INVALID_DESCRIPTION", "Context menu commands cannot have description")
			return
		}
		for j, o := range c.Options {
			if !commandName.MatchString(o.Name) || strings.ToLower(o.Name) != o.Name {
				formError(w, fmt.Sprintf("%d.options.%d.name", i, j), "APPLICATION_COMMAND_INVALID_NAME", "Command name is invalid")
				return
			}
			if n := utf8.RuneCountInString(o.Description); n < 1 || n > 100 {
				formError(w, fmt.Sprintf("%d.options.%d.description", i, j), "BASE_TYPE_BAD_LENGTH", "Must be between 1 and 100 in length.")
				return
			}
		}
		k := fmt.Sprintf("%d/%s", c.Type, c.Name)
		if seen[k] {
			apiError(w, 400, 50035, "Application command names must be unique")
			return
		}
		seen[k] = true
	}
	s.mu.Lock()
	old := s.commands[guildID]
	for i := range in {
		in[i].GuildID = guildID
		in[i].ID = ""
		for _, o := range old {
			if o.Name == in[i].Name && o.Type == in[i].Type {
				in[i].ID = o.ID // an overwrite keeps the ids of commands that stay
			}
		}
		if in[i].ID == "" {
			in[i].ID = s.newID()
		}
	}
	s.commands[guildID] = in
	s.mu.Unlock()
	s.logf("rest: %d commands registered (guild %q)", len(in), guildID)
	writeJSON(w, 200, s.commandsPayload(in))
}

func (s *Server) getChannel(w http.ResponseWriter, r *http.Request) {
	s.mu.Lock()
	defer s.mu.Unlock()
	c := s.channels[r.PathValue("cid")]
	if c == nil {
		apiError(w, 404, 10003, "Unknown Channel")
		return
	}
	writeJSON(w, 200, s.channelPayloadLocked(c))
}

// createDM opens (or returns) the DM channel with a user, as
// POST /users/@me/channels does: body {"recipient_id": "…"}, answer the
// channel object (type 1, with the recipient).
func (s *Server) createDM(w http.ResponseWriter, r *http.Request) {
	var b struct {
		RecipientID string `json:"recipient_id"`
	}
	data, err := io.ReadAll(r.Body)
	if err == nil {
		err = json.Unmarshal(data, &b)
	}
	if err != nil {
		apiError(w, 400, 50109, "The request body contains invalid JSON.")
		return
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	u, ok := s.users[b.RecipientID]
	if !ok || u.Bot || u.ID == s.botUser.ID {
		apiError(w, 400, 50033, "Invalid Recipient(s)")
		return
	}
	id := s.dmChannelLocked(u)
	s.logf("rest: DM channel %s with %s opened", id, u.Name)
	writeJSON(w, 200, s.channelPayloadLocked(s.channels[id]))
}

// pathMessageLocked is the live message {mid} of channel {cid} of the
// request path; when there is none it writes Discord's error and returns nil.
func (s *Server) pathMessageLocked(w http.ResponseWriter, r *http.Request) *Message {
	if s.channels[r.PathValue("cid")] == nil {
		apiError(w, 404, 10003, "Unknown Channel")
		return nil
	}
	m := s.messages[r.PathValue("mid")]
	if m == nil || m.Deleted || m.ChannelID != r.PathValue("cid") {
		apiError(w, 404, 10008, "Unknown Message")
		return nil
	}
	return m
}

func (s *Server) getMessage(w http.ResponseWriter, r *http.Request) {
	s.mu.Lock()
	defer s.mu.Unlock()
	m := s.pathMessageLocked(w, r)
	if m == nil {
		return
	}
	writeJSON(w, 200, s.messagePayloadLocked(m, true))
}

// messageBody is what the bot sends to create or edit a message.
type messageBody struct {
	Content          *string           `json:"content"`
	Components       []json.RawMessage `json:"components"`
	Embeds           []json.RawMessage `json:"embeds"`
	AllowedMentions  *AllowedMentions  `json:"allowed_mentions"`
	Flags            int               `json:"flags"`
	MessageReference *struct {
		MessageID string `json:"message_id"`
	} `json:"message_reference"`
	Nonce        json.RawMessage `json:"nonce"` // an integer or a string (nonce.go)
	EnforceNonce bool            `json:"enforce_nonce"`
}

func readBody(w http.ResponseWriter, r *http.Request) (messageBody, bool) {
	var b messageBody
	data, err := io.ReadAll(r.Body)
	if err == nil {
		err = json.Unmarshal(data, &b)
	}
	if err != nil {
		apiError(w, 400, 50109, "The request body contains invalid JSON.")
		return b, false
	}
	return b, true
}

// validate applies Discord's limits; it writes the error and reports false.
func validate(w http.ResponseWriter, b messageBody, creating bool) ([][]Button, bool) {
	content := ""
	if b.Content != nil {
		content = *b.Content
	}
	if utf8.RuneCountInString(content) > maxContent {
		formError(w, "content", "BASE_TYPE_MAX_LENGTH", "Must be 2000 or fewer in length.")
		return nil, false
	}
	if len(b.Components) > 5 {
		formError(w, "components", "BASE_TYPE_MAX_LENGTH", "Must be 5 or fewer in length.")
		return nil, false
	}
	var rows [][]Button
	for i, raw := range b.Components {
		var row struct {
			Type       int `json:"type"`
			Components []struct {
				Type     int    `json:"type"`
				Style    int    `json:"style"`
				Label    string `json:"label"`
				CustomID string `json:"custom_id"`
				URL      string `json:"url"`
			} `json:"components"`
		}
		if err := json.Unmarshal(raw, &row); err != nil || row.Type != 1 {
			formError(w, fmt.Sprintf("components.%d.type", i), "COMPONENT_LAYOUT_WIDTH_EXCEEDED", "Top-level components must be action rows")
			return nil, false
		}
		if len(row.Components) == 0 || len(row.Components) > 5 {
			formError(w, fmt.Sprintf("components.%d.components", i), "BASE_TYPE_BAD_LENGTH", "Must be between 1 and 5 in length.")
			return nil, false
		}
		var btns []Button
		for j, c := range row.Components {
			if c.Type != 2 {
				continue
			}
			if utf8.RuneCountInString(c.Label) > 80 {
				formError(w, fmt.Sprintf("components.%d.components.%d.label", i, j), "BASE_TYPE_MAX_LENGTH", "Must be 80 or fewer in length.")
				return nil, false
			}
			if c.Style != 5 && (c.CustomID == "" || utf8.RuneCountInString(c.CustomID) > 100) {
				formError(w, fmt.Sprintf("components.%d.components.%d.custom_id", i, j), "BASE_TYPE_BAD_LENGTH", "Must be between 1 and 100 in length.")
				return nil, false
			}
			btns = append(btns, Button{Label: c.Label, CustomID: c.CustomID, Style: c.Style})
		}
		rows = append(rows, btns)
	}
	if creating && content == "" && len(b.Components) == 0 && len(b.Embeds) == 0 {
		apiError(w, 400, 50006, "Cannot send an empty message")
		return nil, false
	}
	return rows, true
}

func (s *Server) postMessage(w http.ResponseWriter, r *http.Request) {
	b, ok := readBody(w, r)
	if !ok {
		return
	}
	rows, ok := validate(w, b, true)
	if !ok {
		return
	}
	nonce, ok := parseNonce(b.Nonce)
	if !ok {
		formError(w, "nonce", "BASE_TYPE_MAX_LENGTH", "Must be 25 or fewer in length.")
		return
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	c := s.channels[r.PathValue("cid")]
	switch {
	case c == nil:
		apiError(w, 404, 10003, "Unknown Channel")
		return
	case s.denied[c.ID]:
		apiError(w, 403, 50013, "Missing Permissions")
		return
	case c.Type == TypeForum:
		apiError(w, 400, 50008, "Cannot send messages in a non-text channel")
		return
	case c.Type == TypeDM && s.dmBlocked[c.OwnerID]:
		apiError(w, 403, 50007, "Cannot send messages to this user")
		return
	}
	enforce := b.EnforceNonce && nonce != ""
	if enforce {
		if prev, ok := s.enforcedLocked(s.botUser.ID, c.ID, nonce); ok {
			if prev == nil || prev.Deleted {
				apiError(w, 404, 10008, "Unknown Message")
				return
			}
			s.nonceReplays++
			writeJSON(w, 200, withNonce(s.messagePayloadLocked(prev, true), prev.Nonce))
			return
		}
	}
	m := &Message{ID: s.newID(), ChannelID: c.ID, GuildID: c.GuildID, Author: s.botUser, Buttons: rows,
		AllowedMentions: b.AllowedMentions, Flags: b.Flags, Time: time.Now().UTC(), Nonce: nonce}
	if b.Content != nil {
		m.Content = *b.Content
	}
	if b.MessageReference != nil {
		ref := s.messages[b.MessageReference.MessageID]
		if ref == nil || ref.Deleted {
			formError(w, "message_reference", "MESSAGE_REFERENCE_UNKNOWN_MESSAGE", "Unknown message")
			return
		}
		m.ReferenceID = ref.ID
	}
	m.Mentions = s.pingsLocked(m)
	m.RoleMentions = s.rolePingsLocked(m)
	s.storeLocked(m)
	if enforce {
		s.rememberNonceLocked(m, nonce)
	}
	s.dispatchMessageLocked("MESSAGE_CREATE", m)
	writeJSON(w, 200, withNonce(s.messagePayloadLocked(m, true), nonce))
}

// pingsLocked works out whom a bot message pings, honouring
// allowed_mentions the way Discord does (no allowed_mentions = parse all).
func (s *Server) pingsLocked(m *Message) []string {
	var out []string
	am := m.AllowedMentions
	for _, match := range regexp.MustCompile(`<@!?(\d+)>`).FindAllStringSubmatch(m.Content, -1) {
		id := match[1]
		if am == nil || containsStr(am.Parse, "users") || containsStr(am.Users, id) {
			if !containsStr(out, id) {
				out = append(out, id)
			}
		}
	}
	return out
}

// rolePingsLocked is which roles named in the content Discord would ping,
// given the allowed mentions.
func (s *Server) rolePingsLocked(m *Message) []string {
	var out []string
	am := m.AllowedMentions
	for _, match := range regexp.MustCompile(`<@&(\d+)>`).FindAllStringSubmatch(m.Content, -1) {
		id := match[1]
		if (am == nil || containsStr(am.Parse, "roles") || containsStr(am.Roles, id)) && !containsStr(out, id) {
			out = append(out, id)
		}
	}
	return out
}

func (s *Server) patchMessage(w http.ResponseWriter, r *http.Request) {
	b, ok := readBody(w, r)
	if !ok {
		return
	}
	rows, ok := validate(w, b, false)
	if !ok {
		return
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	m := s.pathMessageLocked(w, r)
	if m == nil {
		return
	}
	if m.Author.ID != s.BotID {
		apiError(w, 403, 50005, "Cannot edit a message authored by another user")
		return
	}
	s.applyEditLocked(m, b, rows)
	writeJSON(w, 200, s.messagePayloadLocked(m, true))
}

// deleteMessage deletes one of the bot's own messages (no Manage Messages
// for others' in the fake) and dispatches MESSAGE_DELETE.
func (s *Server) deleteMessage(w http.ResponseWriter, r *http.Request) {
	s.mu.Lock()
	defer s.mu.Unlock()
	m := s.pathMessageLocked(w, r)
	if m == nil {
		return
	}
	if m.Author.ID != s.BotID {
		apiError(w, 403, 50013, "Missing Permissions")
		return
	}
	s.deleteMessageLocked(m)
	w.WriteHeader(http.StatusNoContent)
}

func (s *Server) applyEditLocked(m *Message, b messageBody, rows [][]Button) {
	if b.Content != nil {
		m.Content = *b.Content
	}
	if b.Components != nil {
		m.Buttons = rows
	}
	if b.AllowedMentions != nil {
		m.AllowedMentions = b.AllowedMentions
	}
	m.Flags &^= flagLoading
	m.Edited = true
	s.dispatchMessageLocked("MESSAGE_UPDATE", m)
}

func (s *Server) startThread(w http.ResponseWriter, r *http.Request) {
	var b struct {
		Name                string `json:"name"`
		AutoArchiveDuration int    `json:"auto_archive_duration"`
	}
	if err := json.NewDecoder(r.Body).Decode(&b); err != nil {
		apiError(w, 400, 50109, "The request body contains invalid JSON.")
		return
	}
	if n := utf8.RuneCountInString(b.Name); n < 1 || n > 100 {
		formError(w, "name", "BASE_TYPE_BAD_LENGTH", "Must be between 1 and 100 in length.")
		return
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	c := s.channels[r.PathValue("cid")]
	m := s.messages[r.PathValue("mid")]
	switch {
	case c == nil:
		apiError(w, 404, 10003, "Unknown Channel")
		return
	case m == nil || m.Deleted || m.ChannelID != c.ID:
		apiError(w, 404, 10008, "Unknown Message")
		return
	case s.denied[c.ID]:
		apiError(w, 403, 50013, "Missing Permissions")
		return
	case c.Type != TypeText && c.Type != TypeNews:
		apiError(w, 400, 50024, "Cannot execute action on this channel type")
		return
	case s.channels[m.ID] != nil:
		apiError(w, 400, 160004, "A thread has already been created for this message")
		return
	}
	// A thread started from a message takes the message's id.
	th := &channel{Channel{ID: m.ID, GuildID: c.GuildID, Name: b.Name, Type: TypeThread, ParentID: c.ID, OwnerID: s.BotID}}
	s.channels[th.ID] = th
	s.threadStarts = append(s.threadStarts, ThreadStart{ParentID: c.ID, MessageID: m.ID, ThreadID: th.ID, Name: b.Name})
	s.dispatchLocked("THREAD_CREATE", intentGuilds, s.threadCreatePayloadLocked(th))
	writeJSON(w, 201, s.channelPayloadLocked(th))
}

func (s *Server) postTyping(w http.ResponseWriter, r *http.Request) {
	s.mu.Lock()
	defer s.mu.Unlock()
	c := s.channels[r.PathValue("cid")]
	if c == nil {
		apiError(w, 404, 10003, "Unknown Channel")
		return
	}
	if s.denied[c.ID] {
		apiError(w, 403, 50013, "Missing Permissions")
		return
	}
	s.typing = append(s.typing, TypingCall{ChannelID: c.ID, At: time.Now()})
	w.WriteHeader(204)
}

func (s *Server) putReaction(w http.ResponseWriter, r *http.Request) {
	s.mu.Lock()
	defer s.mu.Unlock()
	m := s.pathMessageLocked(w, r)
	if m == nil {
		return
	}
	emoji := r.PathValue("emoji")
	d := map[string]any{"user_id": s.BotID, "channel_id": m.ChannelID, "message_id": m.ID, "emoji": map[string]any{"id": nil, "name": emoji}}
	intent := intentDirectReactions
	if m.GuildID != "" {
		d["guild_id"] = m.GuildID
		d["member"] = s.memberPayload(s.botUser, true)
		intent = intentGuildReactions
	}
	s.dispatchLocked("MESSAGE_REACTION_ADD", intent, d)
	w.WriteHeader(204)
}

func (s *Server) recordLocked(ia *interaction, kind string, typ int, content string, flags, status int) {
	s.responses = append(s.responses, InteractionResponse{
		InteractionID: ia.id, Kind: kind, Type: typ, Content: content, Flags: flags,
		After: time.Since(ia.created), Status: status,
	})
}

func (s *Server) interactionCallback(w http.ResponseWriter, r *http.Request) {
	var b struct {
		Type int          `json:"type"`
		Data *messageBody `json:"data"`
	}
	if err := json.NewDecoder(r.Body).Decode(&b); err != nil {
		apiError(w, 400, 50109, "The request body contains invalid JSON.")
		return
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	ia := s.interactions[r.PathValue("iid")]
	if ia == nil || ia.token != r.PathValue("token") {
		apiError(w, 404, 10062, "Unknown interaction")
		return
	}
	content, flags := "", 0
	if b.Data != nil {
		if b.Data.Content != nil {
			content = *b.Data.Content
		}
		flags = b.Data.Flags
	}
	if time.Since(ia.created) > s.deadline {
		s.recordLocked(ia, "callback", b.Type, content, flags, 404)
		s.logf("rest: interaction %s answered after %v: 10062", ia.id, time.Since(ia.created).Round(time.Millisecond))
		apiError(w, 404, 10062, "Unknown interaction")
		return
	}
	if ia.responded {
		s.recordLocked(ia, "callback", b.Type, content, flags, 400)
		apiError(w, 400, 40060, "Interaction has already been acknowledged.")
		return
	}
	var rows [][]Button
	if b.Data != nil {
		var ok bool
		if rows, ok = validate(w, *b.Data, false); !ok {
			s.recordLocked(ia, "callback", b.Type, content, flags, 400)
			return
		}
	}
	switch b.Type {
	case 4, 5: // message, deferred message
		m := &Message{ID: s.newID(), ChannelID: ia.channelID, GuildID: ia.guildID, Author: s.botUser,
			Content: content, Buttons: rows, Flags: flags & flagEphemeral, Interaction: ia.id, Time: time.Now().UTC()}
		if b.Type == 5 {
			m.Flags |= flagLoading
		}
		if b.Data != nil {
			m.AllowedMentions = b.Data.AllowedMentions
		}
		ia.ephemeral = flags&flagEphemeral != 0
		ia.original = m.ID
		s.storeLocked(m)
		s.dispatchMessageLocked("MESSAGE_CREATE", m)
	case 6: // deferred update: @original stays the clicked message
		if !ia.component {
			s.recordLocked(ia, "callback", b.Type, content, flags, 400)
			formError(w, "type", "INTERACTION_RESPONSE_TYPE_INVALID", "Invalid interaction response type")
			return
		}
	case 7:
		if m := s.messages[ia.original]; ia.component && m != nil {
			s.applyEditLocked(m, *b.Data, rows)
		}
	default:
		s.recordLocked(ia, "callback", b.Type, content, flags, 400)
		formError(w, "type", "INTERACTION_RESPONSE_TYPE_INVALID", "Invalid interaction response type")
		return
	}
	ia.responded = true
	s.recordLocked(ia, "callback", b.Type, content, flags, 204)
	w.WriteHeader(204)
}

// webhookInteraction finds the interaction of a webhook path; it writes
// the error when there is none.
func (s *Server) webhookInteractionLocked(w http.ResponseWriter, r *http.Request) *interaction {
	id, ok := s.interactionBy[r.PathValue("token")]
	ia := s.interactions[id]
	if !ok || ia == nil || r.PathValue("app") != ia.appID {
		apiError(w, 404, 10015, "Unknown Webhook")
		return nil
	}
	if ia.expired || time.Since(ia.created) > InteractionTokenLife {
		s.logf("rest: interaction %s: webhook request with an expired token: 50027", ia.id)
		apiError(w, 401, 50027, "Invalid Webhook Token")
		return nil
	}
	if !ia.responded {
		apiError(w, 404, 10015, "Unknown Webhook")
		return nil
	}
	return ia
}

func (s *Server) editOriginal(w http.ResponseWriter, r *http.Request) {
	b, ok := readBody(w, r)
	if !ok {
		return
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	ia := s.webhookInteractionLocked(w, r)
	if ia == nil {
		return
	}
	content := ""
	if b.Content != nil {
		content = *b.Content
	}
	rows, ok := validate(w, b, false)
	if !ok {
		s.recordLocked(ia, "edit", 0, content, b.Flags, 400)
		return
	}
	m := s.messages[ia.original]
	if m == nil || m.Deleted {
		s.recordLocked(ia, "edit", 0, content, b.Flags, 404)
		apiError(w, 404, 10008, "Unknown Message")
		return
	}
	s.applyEditLocked(m, b, rows)
	s.recordLocked(ia, "edit", 0, content, m.Flags, 200)
	writeJSON(w, 200, s.messagePayloadLocked(m, true))
}

func (s *Server) deleteOriginal(w http.ResponseWriter, r *http.Request) {
	s.mu.Lock()
	defer s.mu.Unlock()
	ia := s.webhookInteractionLocked(w, r)
	if ia == nil {
		return
	}
	m := s.messages[ia.original]
	if m == nil || m.Deleted {
		s.recordLocked(ia, "delete", 0, "", 0, 404)
		apiError(w, 404, 10008, "Unknown Message")
		return
	}
	m.Deleted = true
	s.recordLocked(ia, "delete", 0, "", 0, 204)
	if m.Flags&flagEphemeral == 0 {
		intent := intentDirectMessages
		d := map[string]any{"id": m.ID, "channel_id": m.ChannelID}
		if m.GuildID != "" {
			intent = intentGuildMessages
			d["guild_id"] = m.GuildID
		}
		s.dispatchLocked("MESSAGE_DELETE", intent, d)
	}
	w.WriteHeader(204)
}

func (s *Server) followup(w http.ResponseWriter, r *http.Request) {
	b, ok := readBody(w, r)
	if !ok {
		return
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	ia := s.webhookInteractionLocked(w, r)
	if ia == nil {
		return
	}
	content := ""
	if b.Content != nil {
		content = *b.Content
	}
	rows, ok := validate(w, b, true)
	if !ok {
		s.recordLocked(ia, "followup", 0, content, b.Flags, 400)
		return
	}
	m := &Message{ID: s.newID(), ChannelID: ia.channelID, GuildID: ia.guildID, Author: s.botUser, Content: content,
		Buttons: rows, AllowedMentions: b.AllowedMentions, Flags: b.Flags & flagEphemeral, Interaction: ia.id, Time: time.Now().UTC()}
	m.Mentions = s.pingsLocked(m)
	m.RoleMentions = s.rolePingsLocked(m)
	s.storeLocked(m)
	s.dispatchMessageLocked("MESSAGE_CREATE", m)
	s.recordLocked(ia, "followup", 0, content, m.Flags, 200)
	writeJSON(w, 200, s.messagePayloadLocked(m, true))
}
