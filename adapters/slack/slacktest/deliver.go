package slacktest

import (
	"bytes"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"time"
)

// Sign returns Slack's v0 request signature of body at timestamp ts:
// "v0=" + hex(HMAC-SHA256(secret, "v0:<ts>:<body>")).
func Sign(secret string, ts int64, body []byte) string {
	mac := hmac.New(sha256.New, []byte(secret))
	fmt.Fprintf(mac, "v0:%d:", ts)
	mac.Write(body)
	return "v0=" + hex.EncodeToString(mac.Sum(nil))
}

func sign(req *http.Request, secret string, ts int64, body []byte) {
	req.Header.Set("X-Slack-Request-Timestamp", fmt.Sprint(ts))
	req.Header.Set("X-Slack-Signature", Sign(secret, ts, body))
}

// Variant says how a test request is signed.
type Variant int

// Request variants.
const (
	Signed   Variant = iota // correctly signed now
	Forged                  // signed with the wrong secret
	Stale                   // correctly signed, 10 minutes ago
	Unsigned                // no signature headers
	Tampered                // signed, then the body changed
)

// Request builds a delivery to url like Slack's, signed as v says.
// contentType is "application/json" (events) or
// "application/x-www-form-urlencoded" (commands, interactivity).
func (s *Server) Request(url string, v Variant, contentType string, body []byte) *http.Request {
	sent := body
	if v == Tampered {
		sent = append(append([]byte(nil), body...), ' ')
	}
	req, _ := http.NewRequest(http.MethodPost, url, bytes.NewReader(sent))
	req.Header.Set("Content-Type", contentType)
	now := time.Now().Unix()
	switch v {
	case Signed, Tampered:
		sign(req, s.opts.SigningSecret, now, body)
	case Forged:
		sign(req, s.opts.SigningSecret+"-not", now, body)
	case Stale:
		sign(req, s.opts.SigningSecret, now-600, body)
	case Unsigned:
	}
	return req
}

// httpBody encodes an envelope's payload as Slack does over HTTP.
func httpBody(env *envelope) ([]byte, string) {
	switch env.typ {
	case TypeSlashCommands:
		var fields map[string]any
		_ = json.Unmarshal(env.payload, &fields)
		form := url.Values{}
		for k, v := range fields {
			form.Set(k, fmt.Sprint(v))
		}
		return []byte(form.Encode()), "application/x-www-form-urlencoded"
	case TypeInteractive:
		return []byte(url.Values{"payload": {string(env.payload)}}.Encode()), "application/x-www-form-urlencoded"
	}
	return env.payload, "application/json"
}

// EventCallback wraps an inner event the way the Events API sends it.
func (s *Server) EventCallback(event map[string]any) map[string]any {
	return obj{
		"token": "fake-verification-token", "team_id": DefaultTeamID, "api_app_id": DefaultAppID,
		"event": event, "type": "event_callback", "event_id": s.nextID("Ev"),
		"event_time":     time.Now().Unix(),
		"authorizations": []obj{{"team_id": DefaultTeamID, "user_id": s.opts.BotUserID, "is_bot": true}},
		"event_context":  "4-fake",
	}
}

// MessageBody is the JSON body of a message event, for HTTP tests that
// build their own requests.
func (s *Server) MessageBody(channelID, userID, text string) []byte {
	s.mu.Lock()
	ts := s.nextTSLocked()
	s.mu.Unlock()
	b, _ := json.Marshal(s.EventCallback(obj{"type": "message", "user": userID, "text": text, "ts": ts,
		"channel": channelID, "channel_type": s.channelType(channelID), "event_ts": ts}))
	return b
}

// Post has a user write text in a channel (in the thread of threadTS when
// set) and delivers it to the app: a mention of the bot (<@BOTID>, or
// "@name" which is rewritten to it) arrives as app_mention and as message.
// It returns the message's ts.
func (s *Server) Post(channelID, userID, text, threadTS string) string {
	return s.PostFiles(channelID, userID, text, threadTS)
}

// PostFiles is Post with files shared along (a message of subtype
// file_share whose files carry their permalinks, FileLink).
func (s *Server) PostFiles(channelID, userID, text, threadTS string, files ...string) string {
	text = strings.ReplaceAll(text, "@"+s.opts.BotName, "<@"+s.opts.BotUserID+">")
	s.mu.Lock()
	m := &Message{Channel: channelID, TS: s.nextTSLocked(), ThreadTS: threadTS, User: userID, Text: text, Files: files}
	if u, ok := s.users[userID]; ok {
		m.BotID = u.BotID
	}
	s.messages = append(s.messages, m)
	s.mu.Unlock()
	s.deliverMessage(*m, strings.Contains(text, "<@"+s.opts.BotUserID+">"))
	return m.TS
}

func (s *Server) deliverMessage(m Message, mention bool) {
	ev := obj{"type": "message", "user": m.User, "text": m.Text, "ts": m.TS, "channel": m.Channel,
		"channel_type": s.channelType(m.Channel), "event_ts": m.TS}
	if m.ThreadTS != "" {
		ev["thread_ts"] = m.ThreadTS
	}
	if len(m.Files) > 0 {
		ev["subtype"] = "file_share"
		var files []obj
		for i, name := range m.Files {
			id := fmt.Sprintf("F%s%d", strings.ReplaceAll(m.TS, ".", ""), i)
			files = append(files, obj{"id": id, "name": name, "title": name, "user": m.User,
				"url_private": "https://files.fake.slack.com/files-pri/" + DefaultTeamID + "-" + id + "/" + name,
				"permalink":   FileLink(m.User, id, name)})
		}
		ev["files"] = files
	}
	if m.BotID != "" {
		ev["bot_id"] = m.BotID
		ev["bot_profile"] = obj{"id": m.BotID, "name": s.userName(m.User)}
	} else {
		ev["client_msg_id"] = randomID()
	}
	if mention {
		am := obj{"type": "app_mention", "user": m.User, "text": m.Text, "ts": m.TS, "channel": m.Channel, "event_ts": m.TS}
		if m.ThreadTS != "" {
			am["thread_ts"] = m.ThreadTS
		}
		if m.BotID != "" {
			am["bot_id"] = m.BotID
		}
		s.enqueue(TypeEventsAPI, s.EventCallback(am), false)
	}
	s.enqueue(TypeEventsAPI, s.EventCallback(ev), false)
}

// Edit has a user change the text of their message and delivers
// message_changed (message: as it is now, previous_message: as it was).
func (s *Server) Edit(channelID, ts, text string) {
	s.mu.Lock()
	m := s.messageLocked(channelID, ts)
	if m == nil {
		s.mu.Unlock()
		panic("slacktest: no message " + ts + " in " + channelID)
	}
	prev := *m
	m.Text, m.Edited = text, true
	now := *m
	evTS := s.nextTSLocked()
	s.mu.Unlock()
	s.enqueue(TypeEventsAPI, s.EventCallback(obj{"type": "message", "subtype": "message_changed", "hidden": true,
		"channel": channelID, "channel_type": s.channelType(channelID), "ts": evTS, "event_ts": evTS,
		"message": changedJSON(now), "previous_message": changedJSON(prev)}), false)
}

// Delete has a user delete their message and delivers message_deleted.
func (s *Server) Delete(channelID, ts string) {
	s.mu.Lock()
	m := s.messageLocked(channelID, ts)
	if m == nil {
		s.mu.Unlock()
		panic("slacktest: no message " + ts + " in " + channelID)
	}
	m.Deleted = true
	prev := *m
	evTS := s.nextTSLocked()
	s.mu.Unlock()
	s.enqueue(TypeEventsAPI, s.EventCallback(obj{"type": "message", "subtype": "message_deleted", "hidden": true,
		"channel": channelID, "channel_type": s.channelType(channelID), "ts": evTS, "event_ts": evTS,
		"deleted_ts": ts, "previous_message": changedJSON(prev)}), false)
}

func changedJSON(m Message) obj {
	o := obj{"type": "message", "user": m.User, "text": m.Text, "ts": m.TS}
	if m.ThreadTS != "" {
		o["thread_ts"] = m.ThreadTS
	}
	if m.BotID != "" {
		o["bot_id"] = m.BotID
	}
	return o
}

// React has a user add (or remove) a reaction to a message.
func (s *Server) React(channelID, userID, ts, reaction string, removed bool) {
	s.mu.Lock()
	itemUser := ""
	if m := s.messageLocked(channelID, ts); m != nil {
		itemUser = m.User
	}
	evTS := s.nextTSLocked()
	s.mu.Unlock()
	typ := "reaction_added"
	if removed {
		typ = "reaction_removed"
	}
	s.enqueue(TypeEventsAPI, s.EventCallback(obj{"type": typ, "user": userID, "reaction": reaction, "item_user": itemUser,
		"item": obj{"type": "message", "channel": channelID, "ts": ts}, "event_ts": evTS}), false)
}

// SlashCommand has a user run "/einsatz <text>" in a channel. It returns
// the trigger_id.
func (s *Server) SlashCommand(channelID, userID, command, text string) string {
	trigger := s.nextID("") + "." + randomID()
	s.mu.Lock()
	name := ""
	if c := s.channelLocked(channelID); c != nil {
		name = c.Name
	}
	s.mu.Unlock()
	s.enqueue(TypeSlashCommands, obj{
		"token": "fake-verification-token", "team_id": DefaultTeamID, "team_domain": "fake",
		"channel_id": channelID, "channel_name": name, "user_id": userID, "user_name": s.userName(userID),
		"command": command, "text": text, "api_app_id": DefaultAppID, "is_enterprise_install": "false",
		"response_url": s.URL() + "/commands/" + trigger, "trigger_id": trigger,
	}, true)
	return trigger
}

func (s *Server) interactionBase(typ, channelID, userID string) obj {
	s.mu.Lock()
	name := ""
	if c := s.channelLocked(channelID); c != nil {
		name = c.Name
	}
	s.mu.Unlock()
	uname := s.userName(userID)
	return obj{
		"type": typ, "token": "fake-verification-token", "api_app_id": DefaultAppID,
		"team":       obj{"id": DefaultTeamID, "domain": "fake"},
		"user":       obj{"id": userID, "username": uname, "name": uname, "team_id": DefaultTeamID},
		"channel":    obj{"id": channelID, "name": name},
		"trigger_id": s.nextID("") + "." + randomID(), "is_enterprise_install": false,
	}
}

// Shortcut has a user run the message shortcut callbackID on a message.
func (s *Server) Shortcut(channelID, userID, callbackID, messageTS string) error {
	s.mu.Lock()
	m := s.messageLocked(channelID, messageTS)
	var cp Message
	if m != nil {
		cp = *m
	}
	actionTS := s.nextTSLocked()
	s.mu.Unlock()
	if m == nil {
		return fmt.Errorf("slacktest: no message %s in %s", messageTS, channelID)
	}
	p := s.interactionBase("message_action", channelID, userID)
	p["callback_id"] = callbackID
	p["action_ts"] = actionTS
	p["message_ts"] = messageTS
	p["response_url"] = s.URL() + "/actions/" + actionTS
	p["message"] = messageJSON(&cp)
	s.enqueue(TypeInteractive, p, false)
	return nil
}

// Click has a user click the button labelled label on a message the bot
// posted; the action_id and value come from the message's blocks.
func (s *Server) Click(channelID, userID, messageTS, label string) error {
	s.mu.Lock()
	m := s.anyMessageLocked(channelID, messageTS)
	var cp Message
	if m != nil {
		cp = *m
	}
	actionTS := s.nextTSLocked()
	s.mu.Unlock()
	if m == nil {
		return fmt.Errorf("slacktest: no message %s in %s", messageTS, channelID)
	}
	if cp.EphemeralFor != "" && cp.EphemeralFor != userID {
		return fmt.Errorf("slacktest: %s cannot see the ephemeral message %s (it is for %s)", userID, messageTS, cp.EphemeralFor)
	}
	var blocks []struct {
		Type     string `json:"type"`
		BlockID  string `json:"block_id"`
		Elements []struct {
			Type     string `json:"type"`
			ActionID string `json:"action_id"`
			Value    string `json:"value"`
			Text     struct {
				Text string `json:"text"`
			} `json:"text"`
		} `json:"elements"`
	}
	_ = json.Unmarshal(cp.Blocks, &blocks)
	for _, b := range blocks {
		if b.Type != "actions" {
			continue
		}
		for _, e := range b.Elements {
			if e.Type != "button" || e.Text.Text != label {
				continue
			}
			p := s.interactionBase("block_actions", channelID, userID)
			p["container"] = obj{"type": "message", "message_ts": cp.TS, "channel_id": channelID, "is_ephemeral": cp.EphemeralFor != ""}
			if cp.EphemeralFor == "" {
				p["message"] = messageJSON(&cp) // Slack sends no message for ephemeral ones
			}
			p["response_url"] = s.URL() + "/actions/" + actionTS
			p["state"] = obj{"values": obj{}}
			p["actions"] = []obj{{"type": "button", "action_id": e.ActionID, "block_id": b.BlockID, "value": e.Value,
				"text": obj{"type": "plain_text", "text": e.Text.Text, "emoji": true}, "action_ts": actionTS}}
			s.enqueue(TypeInteractive, p, false)
			return nil
		}
	}
	return fmt.Errorf("slacktest: message %s has no button %q", messageTS, label)
}

// ButtonLabels lists the labels of the buttons on a message.
func ButtonLabels(m Message) []string {
	var blocks []struct {
		Type     string `json:"type"`
		Elements []struct {
			Type string `json:"type"`
			Text struct {
				Text string `json:"text"`
			} `json:"text"`
		} `json:"elements"`
	}
	_ = json.Unmarshal(m.Blocks, &blocks)
	var labels []string
	for _, b := range blocks {
		if b.Type != "actions" {
			continue
		}
		for _, e := range b.Elements {
			if e.Type == "button" {
				labels = append(labels, e.Text.Text)
			}
		}
	}
	return labels
}

// FileLink is the permalink of a file shared in the fake workspace.
func FileLink(userID, fileID, name string) string {
	return "https://fake.slack.com/files/" + userID + "/" + fileID + "/" + name
}
