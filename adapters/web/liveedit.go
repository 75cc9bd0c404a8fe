package web

import (
	"context"
	"encoding/json"
	"fmt"
	"strconv"

	"github.com/einsatz/einsatz/bot"
)

// Edits and deletions on the live chat (bot.Editor). A message's id is its
// event id on the conversation's stream (Publish returns it). An edit
// rewrites the message in the backlog and goes out as an "edit" event; a
// deletion takes the message out of the backlog and goes out as a
// "delete" event. Both name the message in Target. So a page open now
// changes at once, and a page that resumes after a reconnect, or is
// reloaded, gets the message as it is now: edited, or not at all. A reply
// waiting in the conversation's mailbox changes the same way.

var _ bot.Editor = (*Server)(nil)

// Edit replaces the text of a message the bot posted into a web chat.
func (s *Server) Edit(_ context.Context, in bot.ThreadRef, messageID string, r bot.Reply) error {
	id, err := eventID(messageID)
	if err != nil {
		return err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	conv := in.ThreadID
	c := s.liveConvLocked(conv, true)
	if c == nil {
		return nil // no room for the conversation: no page can show it
	}
	role := "bot"
	if r.AuthorName != "" {
		role = "staff"
	}
	for i, it := range c.backlog {
		if it.id != id || it.name != "message" {
			continue
		}
		var ev StreamEvent
		if json.Unmarshal(it.data, &ev) != nil || ev.Role == "user" {
			return fmt.Errorf("web: edit %s: not a message of the bot", messageID)
		}
		ev.Text, ev.Edited, role = r.Text, true, ev.Role
		if data, err := json.Marshal(ev); err == nil {
			c.bytes += len(data) - len(it.data)
			s.liveBytes += len(data) - len(it.data)
			c.backlog[i].data = data
		}
	}
	for i, cr := range s.mailbox[conv] {
		if cr.EventID == id {
			s.mailbox[conv][i].Text = r.Text
			s.mailbox[conv][i].Edited = true
		}
	}
	s.publishLocked(conv, c, "edit", StreamEvent{Role: role, Target: id, Edited: true, Reply: bot.Reply{Text: r.Text, AuthorName: r.AuthorName}})
	return nil
}

// Delete takes a message the bot posted out of a web chat.
func (s *Server) Delete(_ context.Context, in bot.ThreadRef, messageID string) error {
	id, err := eventID(messageID)
	if err != nil {
		return err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	conv := in.ThreadID
	c := s.liveConvLocked(conv, true)
	if c == nil {
		return nil
	}
	for i, it := range c.backlog {
		if it.id == id && it.name == "message" {
			c.bytes -= len(it.data)
			s.liveBytes -= len(it.data)
			c.backlog = append(c.backlog[:i:i], c.backlog[i+1:]...)
			break
		}
	}
	if box, ok := s.mailbox[conv]; ok {
		kept := box[:0:0]
		for _, cr := range box {
			if cr.EventID != id {
				kept = append(kept, cr)
			}
		}
		s.mailbox[conv] = kept
	}
	s.publishLocked(conv, c, "delete", StreamEvent{Target: id})
	return nil
}

func eventID(messageID string) (int64, error) {
	id, err := strconv.ParseInt(messageID, 10, 64)
	if err != nil || id <= 0 {
		return 0, fmt.Errorf("web: %q is not a message id of the live chat", messageID)
	}
	return id, nil
}
