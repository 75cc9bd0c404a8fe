package discordtest

import (
	"net/http"
	"sort"
	"strconv"
)

// getMessages lists a channel's (or thread's) messages as
// GET /channels/{id}/messages does: at most limit (1–100, default 50);
// with after=ID the oldest ones after that id, with before=ID the newest
// ones before it, else the newest; always newest first. As on Discord,
// REST message objects carry no guild_id and no member (only gateway
// dispatches do), and a channel the bot cannot see answers 403 50001.
func (s *Server) getMessages(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	limit := 50
	if v := q.Get("limit"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < 1 || n > 100 {
			formError(w, "limit", "NUMBER_TYPE_MAX", "int value should be less than or equal to 100.")
			return
		}
		limit = n
	}
	after, before := snowflake(q.Get("after")), snowflake(q.Get("before"))
	s.mu.Lock()
	defer s.mu.Unlock()
	c := s.channels[r.PathValue("cid")]
	switch {
	case c == nil:
		apiError(w, 404, 10003, "Unknown Channel")
		return
	case s.denied[c.ID]:
		apiError(w, 403, 50001, "Missing Access")
		return
	}
	var msgs []*Message
	for _, id := range s.byChannel[c.ID] {
		m := s.messages[id]
		if m == nil || m.Deleted {
			continue
		}
		n := snowflake(m.ID)
		if (q.Has("after") && n <= after) || (q.Has("before") && n >= before) {
			continue
		}
		msgs = append(msgs, m)
	}
	sort.Slice(msgs, func(i, j int) bool { return snowflake(msgs[i].ID) < snowflake(msgs[j].ID) })
	if len(msgs) > limit {
		if q.Has("after") {
			msgs = msgs[:limit] // the ones right after the id
		} else {
			msgs = msgs[len(msgs)-limit:]
		}
	}
	out := make([]any, 0, len(msgs))
	for i := len(msgs) - 1; i >= 0; i-- {
		p := s.messagePayloadLocked(msgs[i], true)
		delete(p, "guild_id")
		delete(p, "member")
		out = append(out, p)
	}
	writeJSON(w, 200, out)
}

func snowflake(id string) uint64 {
	n, _ := strconv.ParseUint(id, 10, 64)
	return n
}

// getMember answers GET /guilds/{gid}/members/{uid} (no privileged intent
// needed, unlike listing members): the member with their roles and user.
// Every user of the fake is a member of every guild.
func (s *Server) getMember(w http.ResponseWriter, r *http.Request) {
	s.mu.Lock()
	defer s.mu.Unlock()
	known := false
	for _, g := range s.guilds {
		known = known || g.ID == r.PathValue("gid")
	}
	if !known {
		apiError(w, 404, 10004, "Unknown Guild")
		return
	}
	u, ok := s.users[r.PathValue("uid")]
	if !ok {
		apiError(w, 404, 10013, "Unknown User")
		return
	}
	writeJSON(w, 200, s.memberPayload(u, true))
}
