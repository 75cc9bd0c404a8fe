package slacktest

import (
	"encoding/json"
	"fmt"
	"net/http"
	"regexp"
	"strconv"
	"strings"
	"unicode/utf8"
)

// Slack's limits the fake enforces.
const (
	MaxTextLen        = 40000 // chat.postMessage text
	MaxBlocks         = 50
	MaxSectionTextLen = 3000
	MaxContextElems   = 10
	MaxActionsElems   = 25
	MaxButtonTextLen  = 75
)

var tsPattern = regexp.MustCompile(`^\d+\.\d+$`)

// scopeFor returns the scope a method needs with the bot token ("" = none).
func scopeFor(method, channelID string) string {
	switch method {
	case "chat.postMessage", "chat.postEphemeral", "chat.update", "chat.delete":
		return "chat:write"
	case "reactions.add":
		return "reactions:write"
	case "users.info":
		return "users:read"
	case "usergroups.users.list":
		return "usergroups:read"
	case "conversations.open":
		return "im:write"
	case "conversations.history", "conversations.replies":
		switch {
		case strings.HasPrefix(channelID, "D"):
			return "im:history"
		case strings.HasPrefix(channelID, "G"):
			return "groups:history"
		}
		return "channels:history"
	case "conversations.info":
		switch {
		case strings.HasPrefix(channelID, "D"):
			return "im:read"
		case strings.HasPrefix(channelID, "G"):
			return "groups:read"
		}
		return "channels:read"
	}
	return ""
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json; charset=utf-8")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(v)
}

type obj = map[string]any

func (s *Server) serveAPI(w http.ResponseWriter, r *http.Request) {
	method := strings.TrimPrefix(r.URL.Path, "/api/")
	if err := r.ParseForm(); err != nil {
		writeJSON(w, http.StatusOK, obj{"ok": false, "error": "invalid_form_data"})
		return
	}
	token := strings.TrimPrefix(r.Header.Get("Authorization"), "Bearer ")
	if token == "" {
		token = r.Form.Get("token")
	}
	params := map[string]string{}
	for k := range r.Form {
		if k != "token" {
			params[k] = r.Form.Get(k)
		}
	}
	call := Call{Method: method, Token: redact(token), Params: params}

	s.mu.Lock()
	if lim := s.limits[method]; lim != nil && lim.n > 0 {
		lim.n--
		call.Error = "ratelimited"
		s.calls = append(s.calls, call)
		s.mu.Unlock()
		w.Header().Set("Retry-After", strconv.Itoa(lim.retryAfter))
		writeJSON(w, http.StatusTooManyRequests, obj{"ok": false, "error": "ratelimited"})
		return
	}
	resp, postEvent := s.apiLocked(method, token, params)
	if ok, _ := resp["ok"].(bool); !ok {
		call.Error, _ = resp["error"].(string)
	}
	s.calls = append(s.calls, call)
	onPost := s.opts.OnPost
	s.mu.Unlock()

	writeJSON(w, http.StatusOK, resp)
	if postEvent != nil {
		if onPost != nil {
			onPost(*postEvent)
		}
		if !postEvent.Edited {
			// Slack sends the app its own messages as events too.
			s.deliverMessage(*postEvent, false)
		}
	}
}

func redact(token string) string {
	if i := strings.Index(token, "-"); i > 0 {
		return token[:i] + "-…"
	}
	return token
}

func fail(code string) obj { return obj{"ok": false, "error": code} }

// apiLocked answers one Web API call. It returns the message the bot posted
// or changed, if any.
func (s *Server) apiLocked(method, token string, p map[string]string) (obj, *Message) {
	if code, ok := s.failNext[method]; ok {
		delete(s.failNext, method)
		return fail(code), nil
	}
	// Token rules.
	switch {
	case token == "":
		return fail("not_authed"), nil
	case method == "apps.connections.open":
		if token == s.opts.BotToken {
			return fail("not_allowed_token_type"), nil
		}
		if token != s.opts.AppToken {
			return fail("invalid_auth"), nil
		}
	case token == s.opts.AppToken:
		return fail("not_allowed_token_type"), nil
	case token != s.opts.BotToken:
		return fail("invalid_auth"), nil
	}
	if sc := scopeFor(method, p["channel"]); sc != "" && !s.scopes[sc] {
		return obj{"ok": false, "error": "missing_scope", "needed": sc, "provided": strings.Join(sortedKeys(s.scopes), ",")}, nil
	}

	switch method {
	case "auth.test":
		return obj{"ok": true, "url": "https://fake.slack.com/", "team": "Fake", "user": s.opts.BotName,
			"team_id": DefaultTeamID, "user_id": s.opts.BotUserID, "bot_id": s.opts.BotID}, nil

	case "apps.connections.open":
		ticket := randomID()
		s.tickets[ticket] = false
		u := "ws" + strings.TrimPrefix(s.srv.URL, "http") + "/link/?ticket=" + ticket
		return obj{"ok": true, "url": u}, nil

	case "chat.postMessage":
		c := s.channelLocked(p["channel"])
		if c == nil {
			return fail("channel_not_found"), nil
		}
		text, blocks := p["text"], p["blocks"]
		if text == "" && blocks == "" {
			return fail("no_text"), nil
		}
		if utf8.RuneCountInString(text) > MaxTextLen {
			return fail("msg_too_long"), nil
		}
		if blocks != "" {
			if err := checkBlocks(blocks); err != "" {
				return obj{"ok": false, "error": "invalid_blocks", "errors": []string{err}}, nil
			}
		}
		thread := p["thread_ts"]
		if thread != "" {
			parent := s.messageLocked(c.ID, thread)
			if parent == nil || (parent.ThreadTS != "" && parent.ThreadTS != parent.TS) {
				// thread_ts must be the parent message's ts.
				return fail("invalid_thread_ts"), nil
			}
		}
		if (p["username"] != "" || p["icon_url"] != "" || p["icon_emoji"] != "") && !s.scopes["chat:write.customize"] {
			// A custom author needs chat:write.customize.
			return obj{"ok": false, "error": "missing_scope", "needed": "chat:write.customize",
				"provided": strings.Join(sortedKeys(s.scopes), ",")}, nil
		}
		md, bad := parseMetadata(p["metadata"])
		if bad != "" {
			return fail(bad), nil
		}
		m := &Message{Channel: c.ID, TS: s.nextTSLocked(), ThreadTS: thread, User: s.opts.BotUserID,
			BotID: s.opts.BotID, Text: text, Username: p["username"], IconURL: p["icon_url"], Metadata: md}
		if blocks != "" {
			m.Blocks = json.RawMessage(blocks)
		}
		s.messages = append(s.messages, m)
		s.cond.Broadcast()
		cp := *m
		return obj{"ok": true, "channel": c.ID, "ts": m.TS, "message": withMetadata(messageJSON(m), m, map[string]string{"include_all_metadata": "1"})}, &cp

	case "chat.postEphemeral":
		// Shown to one user of the channel; Slack answers with message_ts.
		c := s.channelLocked(p["channel"])
		if c == nil {
			return fail("channel_not_found"), nil
		}
		if p["user"] == "" {
			return fail("user_not_found"), nil
		}
		text, blocks := p["text"], p["blocks"]
		if text == "" && blocks == "" {
			return fail("no_text"), nil
		}
		if utf8.RuneCountInString(text) > MaxTextLen {
			return fail("msg_too_long"), nil
		}
		if blocks != "" {
			if err := checkBlocks(blocks); err != "" {
				return obj{"ok": false, "error": "invalid_blocks", "errors": []string{err}}, nil
			}
		}
		m := &Message{Channel: c.ID, TS: s.nextTSLocked(), ThreadTS: p["thread_ts"], User: s.opts.BotUserID,
			BotID: s.opts.BotID, Text: text, EphemeralFor: p["user"]}
		if blocks != "" {
			m.Blocks = json.RawMessage(blocks)
		}
		s.messages = append(s.messages, m)
		s.cond.Broadcast()
		return obj{"ok": true, "message_ts": m.TS}, nil // no message event for ephemeral messages

	case "chat.update":
		m := s.messageLocked(p["channel"], p["ts"])
		if s.channelLocked(p["channel"]) == nil {
			return fail("channel_not_found"), nil
		}
		if m == nil {
			return fail("message_not_found"), nil
		}
		if m.User != s.opts.BotUserID {
			return fail("cant_update_message"), nil
		}
		if utf8.RuneCountInString(p["text"]) > MaxTextLen {
			return fail("msg_too_long"), nil
		}
		if b := p["blocks"]; b != "" {
			if err := checkBlocks(b); err != "" {
				return obj{"ok": false, "error": "invalid_blocks", "errors": []string{err}}, nil
			}
			m.Blocks = json.RawMessage(b)
		}
		m.Text = p["text"]
		m.Edited = true
		cp := *m
		return obj{"ok": true, "channel": m.Channel, "ts": m.TS, "text": m.Text}, &cp

	case "chat.delete":
		m := s.messageLocked(p["channel"], p["ts"])
		if s.channelLocked(p["channel"]) == nil {
			return fail("channel_not_found"), nil
		}
		if m == nil || m.Deleted {
			return fail("message_not_found"), nil
		}
		if m.User != s.opts.BotUserID {
			return fail("cant_delete_message"), nil
		}
		m.Deleted = true
		return obj{"ok": true, "channel": m.Channel, "ts": m.TS}, nil

	case "chat.getPermalink":
		m := s.messageLocked(p["channel"], p["message_ts"])
		if s.channelLocked(p["channel"]) == nil {
			return fail("channel_not_found"), nil
		}
		if m == nil {
			return fail("message_not_found"), nil
		}
		return obj{"ok": true, "channel": m.Channel, "permalink": permalink(m.Channel, m.TS, m.ThreadTS)}, nil

	case "reactions.add":
		if s.channelLocked(p["channel"]) == nil {
			return fail("channel_not_found"), nil
		}
		if s.messageLocked(p["channel"], p["timestamp"]) == nil {
			return fail("message_not_found"), nil
		}
		if p["name"] == "" || strings.Contains(p["name"], ":") {
			return fail("invalid_name"), nil
		}
		key := p["channel"] + "/" + p["timestamp"] + "/" + p["name"]
		if s.reacted[key] {
			return fail("already_reacted"), nil
		}
		s.reacted[key] = true
		return obj{"ok": true}, nil

	case "users.info":
		u, ok := s.users[p["user"]]
		if !ok {
			return fail("user_not_found"), nil
		}
		return obj{"ok": true, "user": obj{"id": u.ID, "team_id": DefaultTeamID, "name": u.Name, "real_name": u.Name,
			"is_bot": u.BotID != "", "profile": obj{"real_name": u.Name, "display_name": u.Name, "bot_id": u.BotID,
				"image_48": AvatarURL(u.ID, 48), "image_72": AvatarURL(u.ID, 72), "image_192": AvatarURL(u.ID, 192)}}}, nil

	case "conversations.info":
		c := s.channelLocked(p["channel"])
		if c == nil {
			return fail("channel_not_found"), nil
		}
		return obj{"ok": true, "channel": obj{"id": c.ID, "name": c.Name, "is_channel": c.Kind == Public,
			"is_group": c.Kind == Private, "is_private": c.Kind != Public, "is_im": c.Kind == IM}}, nil

	case "conversations.open":
		// One person: their IM with the bot (opened on first use). Group
		// DMs (several users) and reopening by channel are not faked.
		if p["channel"] != "" {
			return fail("not_supported"), nil
		}
		users := strings.Split(p["users"], ",")
		switch {
		case p["users"] == "":
			return fail("users_list_not_supplied"), nil
		case len(users) > 1:
			return fail("not_supported"), nil
		}
		u, ok := s.users[users[0]]
		if !ok {
			return fail("user_not_found"), nil
		}
		if u.BotID != "" {
			return fail("cannot_dm_bot"), nil
		}
		for _, c := range s.channels {
			if c.Kind == IM && c.User == u.ID {
				return obj{"ok": true, "no_op": true, "already_open": true, "channel": obj{"id": c.ID}}, nil
			}
		}
		s.seq++
		c := &channel{ID: fmt.Sprintf("D%d%06d", s.start, s.seq), Name: "dm-" + u.Name, Kind: IM, User: u.ID}
		s.channels[c.ID] = c
		return obj{"ok": true, "channel": obj{"id": c.ID}}, nil

	case "conversations.history":
		return s.historyLocked(p), nil

	case "conversations.replies":
		return s.repliesLocked(p), nil

	case "usergroups.users.list":
		members, ok := s.groups[p["usergroup"]]
		if !ok {
			return fail("no_such_subteam"), nil
		}
		return obj{"ok": true, "users": members}, nil
	}
	return fail("unknown_method"), nil
}

// AvatarURL is the profile picture users.info gives a user of the fake
// (never fetched by anything).
func AvatarURL(userID string, size int) string {
	return fmt.Sprintf("https://avatars.slack-edge.test/%s_%d.png", userID, size)
}

func messageJSON(m *Message) obj {
	o := obj{"type": "message", "user": m.User, "text": m.Text, "ts": m.TS}
	if m.Username != "" {
		o["username"] = m.Username
	}
	if m.IconURL != "" {
		o["icons"] = obj{"image_48": m.IconURL}
	}
	if m.BotID != "" {
		o["bot_id"] = m.BotID
	}
	if m.ThreadTS != "" {
		o["thread_ts"] = m.ThreadTS
	}
	if len(m.Blocks) > 0 {
		o["blocks"] = m.Blocks
	}
	return o
}

// checkBlocks applies the Block Kit limits the adapter must respect.
func checkBlocks(raw string) string {
	var blocks []struct {
		Type string `json:"type"`
		Text *struct {
			Type string `json:"type"`
			Text string `json:"text"`
		} `json:"text"`
		Elements []struct {
			Type     string `json:"type"`
			ActionID string `json:"action_id"`
			Text     any    `json:"text"`
		} `json:"elements"`
	}
	if err := json.Unmarshal([]byte(raw), &blocks); err != nil {
		return "blocks are not a JSON array of blocks"
	}
	if len(blocks) > MaxBlocks {
		return "more than 50 blocks"
	}
	for i, b := range blocks {
		switch b.Type {
		case "section":
			if b.Text == nil || b.Text.Text == "" {
				return "section without text at " + strconv.Itoa(i)
			}
			if utf8.RuneCountInString(b.Text.Text) > MaxSectionTextLen {
				return "section text longer than 3000 characters at " + strconv.Itoa(i)
			}
		case "context":
			if len(b.Elements) == 0 || len(b.Elements) > MaxContextElems {
				return "context block needs 1-10 elements"
			}
		case "actions":
			if len(b.Elements) == 0 || len(b.Elements) > MaxActionsElems {
				return "actions block needs 1-25 elements"
			}
			seen := map[string]bool{}
			for _, e := range b.Elements {
				if e.ActionID != "" && seen[e.ActionID] {
					return "duplicate action_id " + e.ActionID
				}
				seen[e.ActionID] = true
				if t, ok := e.Text.(map[string]any); ok {
					if s, _ := t["text"].(string); utf8.RuneCountInString(s) > MaxButtonTextLen {
						return "button text longer than 75 characters"
					}
				}
			}
		case "divider", "header", "rich_text", "markdown", "image":
		default:
			return "unknown block type " + b.Type
		}
	}
	return ""
}
