package discordtest

import (
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"net/http"
	"strings"
	"time"
	"unicode/utf8"
)

// Webhook is a channel webhook the bot created (POST
// /channels/{id}/webhooks). Executing it posts a message under any
// username and avatar_url; into a thread of its channel with ?thread_id=.
type Webhook struct {
	ID            string
	Token         string
	ChannelID     string
	GuildID       string
	Name          string
	ApplicationID string
	CreatorID     string
}

// maxWebhooks is Discord's limit of webhooks per channel (30007).
const maxWebhooks = 15

// SetWebhooksDenied takes Manage Webhooks from the bot (denied) or gives
// it back: creating and listing channel webhooks answer 403 Missing
// Permissions (50013) while it is denied. Executing a webhook needs no
// permission, as on Discord.
func (s *Server) SetWebhooksDenied(denied bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.noWebhooks = denied
}

// Webhooks returns the webhooks of a channel.
func (s *Server) Webhooks(channelID string) []Webhook {
	s.mu.Lock()
	defer s.mu.Unlock()
	var out []Webhook
	for _, wh := range s.webhooks {
		if wh.ChannelID == channelID {
			out = append(out, *wh)
		}
	}
	return out
}

// ownLocked says whether the bot posted m, itself or through a webhook
// its application owns.
func (s *Server) ownLocked(m *Message) bool {
	if m.Author.ID == s.BotID {
		return true
	}
	wh := s.webhooks[m.WebhookID]
	return m.WebhookID != "" && wh != nil && wh.ApplicationID == s.AppID
}

func (s *Server) webhookPayload(wh *Webhook) map[string]any {
	return map[string]any{
		"id": wh.ID, "type": 1, "guild_id": wh.GuildID, "channel_id": wh.ChannelID, "name": wh.Name,
		"avatar": nil, "token": wh.Token, "application_id": wh.ApplicationID, "user": userPayload(s.users[wh.CreatorID]),
	}
}

// badName is Discord's rule for webhook and username names: 1 to 80
// characters, and neither "clyde" nor "discord" in them.
func badName(name string) string {
	n := utf8.RuneCountInString(name)
	lower := strings.ToLower(name)
	switch {
	case n < 1 || n > 80:
		return "Must be between 1 and 80 in length."
	case strings.Contains(lower, "clyde"), strings.Contains(lower, "discord"):
		return "Username cannot contain \"clyde\" or \"discord\""
	}
	return ""
}

// channelWebhookLocked checks the channel of a webhook request; it writes
// the error and returns nil when the request cannot go on.
func (s *Server) channelWebhookLocked(w http.ResponseWriter, r *http.Request) *channel {
	c := s.channels[r.PathValue("cid")]
	switch {
	case c == nil:
		apiError(w, 404, 10003, "Unknown Channel")
		return nil
	case c.Type != TypeText && c.Type != TypeNews && c.Type != TypeForum:
		apiError(w, 400, 50024, "Cannot execute action on this channel type")
		return nil
	case s.noWebhooks:
		apiError(w, 403, 50013, "Missing Permissions")
		return nil
	}
	return c
}

func (s *Server) createWebhook(w http.ResponseWriter, r *http.Request) {
	var b struct {
		Name   string  `json:"name"`
		Avatar *string `json:"avatar"`
	}
	if !decodeJSON(w, r, &b) {
		return
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	c := s.channelWebhookLocked(w, r)
	if c == nil {
		return
	}
	if msg := badName(b.Name); msg != "" {
		formError(w, "name", "BASE_TYPE_BAD_LENGTH", msg)
		return
	}
	n := 0
	for _, wh := range s.webhooks {
		if wh.ChannelID == c.ID {
			n++
		}
	}
	if n >= maxWebhooks {
		apiError(w, 400, 30007, "Maximum number of webhooks reached (15)")
		return
	}
	var tok [34]byte
	_, _ = rand.Read(tok[:])
	wh := &Webhook{ID: s.newID(), Token: hex.EncodeToString(tok[:]), ChannelID: c.ID, GuildID: c.GuildID, Name: b.Name,
		ApplicationID: s.AppID, CreatorID: s.BotID}
	s.webhooks[wh.ID] = wh
	s.logf("rest: webhook %s %q created in channel %s", wh.ID, wh.Name, c.ID)
	writeJSON(w, 200, s.webhookPayload(wh))
}

func (s *Server) channelWebhooks(w http.ResponseWriter, r *http.Request) {
	s.mu.Lock()
	defer s.mu.Unlock()
	c := s.channelWebhookLocked(w, r)
	if c == nil {
		return
	}
	out := []any{}
	for _, wh := range s.webhooks {
		if wh.ChannelID == c.ID {
			out = append(out, s.webhookPayload(wh))
		}
	}
	writeJSON(w, 200, out)
}

// pathWebhookLocked is the webhook of /webhooks/{app}/{token}, nil when
// the path names none (then it may be an interaction's token).
func (s *Server) pathWebhookLocked(r *http.Request) *Webhook {
	wh := s.webhooks[r.PathValue("app")]
	if wh == nil || wh.Token != r.PathValue("token") {
		return nil
	}
	return wh
}

// webhookTargetLocked is the channel a webhook request acts in: the
// webhook's channel, or with ?thread_id= a thread of it. It writes the
// error and returns "" when there is none.
func (s *Server) webhookTargetLocked(w http.ResponseWriter, r *http.Request, wh *Webhook) string {
	tid := r.URL.Query().Get("thread_id")
	if tid == "" {
		return wh.ChannelID
	}
	th := s.channels[tid]
	if th == nil || th.Type != TypeThread || th.ParentID != wh.ChannelID {
		apiError(w, 404, 10003, "Unknown Channel")
		return ""
	}
	return th.ID
}

// webhookPost executes a channel webhook, or follows up an interaction
// (both are POST /webhooks/{id}/{token}; an interaction's id is the
// application's).
func (s *Server) webhookPost(w http.ResponseWriter, r *http.Request) {
	s.mu.Lock()
	wh := s.pathWebhookLocked(r)
	s.mu.Unlock()
	if wh == nil {
		s.followup(w, r)
		return
	}
	var b struct {
		messageBody
		Username  string `json:"username"`
		AvatarURL string `json:"avatar_url"`
	}
	if !decodeJSON(w, r, &b) {
		return
	}
	rows, ok := validate(w, b.messageBody, true)
	if !ok {
		return
	}
	name := wh.Name
	if b.Username != "" {
		if msg := badName(b.Username); msg != "" {
			formError(w, "username", "USERNAME_INVALID", msg)
			return
		}
		name = b.Username
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	target := s.webhookTargetLocked(w, r, wh)
	if target == "" {
		return
	}
	if c := s.channels[target]; c.Type == TypeForum {
		apiError(w, 400, 220001, "Webhooks posted to forum channels must have a thread_name or thread_id")
		return
	}
	m := &Message{ID: s.newID(), ChannelID: target, GuildID: wh.GuildID, Author: User{ID: wh.ID, Name: name, Bot: true},
		Buttons: rows, AllowedMentions: b.AllowedMentions, WebhookID: wh.ID, AvatarURL: b.AvatarURL, Time: time.Now().UTC()}
	if b.Content != nil {
		m.Content = *b.Content
	}
	m.Mentions = s.pingsLocked(m)
	m.RoleMentions = s.rolePingsLocked(m)
	s.storeLocked(m)
	s.dispatchMessageLocked("MESSAGE_CREATE", m)
	if r.URL.Query().Get("wait") != "true" {
		w.WriteHeader(http.StatusNoContent)
		return
	}
	writeJSON(w, 200, s.messagePayloadLocked(m, true))
}

// webhookMessageLocked is the message {mid} the webhook posted in the
// request's channel (?thread_id= for a thread); 10008 otherwise.
func (s *Server) webhookMessageLocked(w http.ResponseWriter, r *http.Request) *Message {
	wh := s.pathWebhookLocked(r)
	if wh == nil {
		apiError(w, 404, 10015, "Unknown Webhook")
		return nil
	}
	target := s.webhookTargetLocked(w, r, wh)
	if target == "" {
		return nil
	}
	m := s.messages[r.PathValue("mid")]
	if m == nil || m.Deleted || m.WebhookID != wh.ID || m.ChannelID != target {
		apiError(w, 404, 10008, "Unknown Message")
		return nil
	}
	return m
}

func (s *Server) webhookEdit(w http.ResponseWriter, r *http.Request) {
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
	m := s.webhookMessageLocked(w, r)
	if m == nil {
		return
	}
	s.applyEditLocked(m, b, rows)
	writeJSON(w, 200, s.messagePayloadLocked(m, true))
}

func (s *Server) webhookDelete(w http.ResponseWriter, r *http.Request) {
	s.mu.Lock()
	defer s.mu.Unlock()
	m := s.webhookMessageLocked(w, r)
	if m == nil {
		return
	}
	s.deleteMessageLocked(m)
	w.WriteHeader(http.StatusNoContent)
}

// decodeJSON reads a JSON body into v; it writes Discord's error and
// reports false when the body is not JSON.
func decodeJSON(w http.ResponseWriter, r *http.Request, v any) bool {
	if err := json.NewDecoder(r.Body).Decode(v); err != nil {
		apiError(w, 400, 50109, "The request body contains invalid JSON.")
		return false
	}
	return true
}

// DeleteWebhook deletes a webhook as an admin would in the channel's
// settings; executing it afterwards answers 404 Unknown Webhook (10015).
func (s *Server) DeleteWebhook(id string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.webhooks[id] == nil {
		panic("discordtest: no webhook " + id)
	}
	delete(s.webhooks, id)
}
