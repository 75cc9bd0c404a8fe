package slacktest

import (
	"sort"
	"strconv"
	"strings"
)

// historyLocked answers conversations.history: the channel's top-level
// messages (thread replies stay in their thread, as on Slack; a parent
// carries thread_ts and reply_count) newest first, between oldest and
// latest (exclusive unless inclusive=true), at most limit (default 100,
// max 999) per page, with has_more and response_metadata.next_cursor.
func (s *Server) historyLocked(p map[string]string) obj {
	c := s.channelLocked(p["channel"])
	if c == nil {
		return fail("channel_not_found")
	}
	var top []*Message
	for _, m := range s.messages {
		if m.Channel == c.ID && !m.Deleted && m.EphemeralFor == "" && (m.ThreadTS == "" || m.ThreadTS == m.TS) {
			top = append(top, m)
		}
	}
	return s.pageLocked(p, top, true)
}

// repliesLocked answers conversations.replies: a thread's parent first,
// then its replies oldest first, the replies between oldest and latest.
// Given the ts of a reply it answers, as Slack does, with that reply alone
// (its thread_ts names the thread).
func (s *Server) repliesLocked(p map[string]string) obj {
	c := s.channelLocked(p["channel"])
	if c == nil {
		return fail("channel_not_found")
	}
	parent := s.messageLocked(c.ID, p["ts"])
	if parent == nil || parent.Deleted {
		return fail("thread_not_found")
	}
	var replies []*Message
	for _, m := range s.messages {
		if m.Channel == c.ID && m.ThreadTS == parent.TS && m.TS != parent.TS && !m.Deleted && m.EphemeralFor == "" {
			replies = append(replies, m)
		}
	}
	res := s.pageLocked(p, replies, false)
	if msgs, ok := res["messages"].([]obj); ok {
		res["messages"] = append([]obj{withMetadata(s.historyJSONLocked(parent), parent, p)}, msgs...)
	}
	return res
}

// pageLocked filters msgs by oldest, latest and inclusive and returns one
// page, newest first or oldest first. The cursor is the ts the next page
// continues after.
func (s *Server) pageLocked(p map[string]string, msgs []*Message, newestFirst bool) obj {
	limit := 100
	if v := p["limit"]; v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < 1 {
			return fail("invalid_limit")
		}
		limit = min(n, 999)
	}
	inclusive := p["inclusive"] == "true" || p["inclusive"] == "1"
	oldest, latest := p["oldest"], p["latest"]
	var kept []*Message
	for _, m := range msgs {
		if oldest != "" && (tsLess(m.TS, oldest) || (!inclusive && m.TS == oldest)) {
			continue
		}
		if latest != "" && (tsLess(latest, m.TS) || (!inclusive && m.TS == latest)) {
			continue
		}
		kept = append(kept, m)
	}
	sort.Slice(kept, func(i, j int) bool {
		if newestFirst {
			return tsLess(kept[j].TS, kept[i].TS)
		}
		return tsLess(kept[i].TS, kept[j].TS)
	})
	if cur := strings.TrimPrefix(p["cursor"], "ts:"); cur != "" {
		for i, m := range kept {
			if m.TS == cur {
				kept = kept[i+1:]
				break
			}
		}
	}
	more := len(kept) > limit
	if more {
		kept = kept[:limit]
	}
	out := make([]obj, 0, len(kept))
	for _, m := range kept {
		out = append(out, withMetadata(s.historyJSONLocked(m), m, p))
	}
	next := ""
	if more {
		next = "ts:" + kept[len(kept)-1].TS
	}
	return obj{"ok": true, "messages": out, "has_more": more, "response_metadata": obj{"next_cursor": next}}
}

// historyJSONLocked is a message as the history methods show it.
func (s *Server) historyJSONLocked(m *Message) obj {
	o := messageJSON(m)
	if m.ThreadTS == m.TS || m.ThreadTS == "" {
		n := 0
		for _, r := range s.messages {
			if r.Channel == m.Channel && r.ThreadTS == m.TS && r.TS != m.TS && !r.Deleted {
				n++
			}
		}
		if n > 0 {
			o["thread_ts"], o["reply_count"] = m.TS, n
		}
	}
	return o
}

// tsLess compares Slack timestamps ("1700000000.000123") as numbers.
func tsLess(a, b string) bool {
	as, af, _ := strings.Cut(a, ".")
	bs, bf, _ := strings.Cut(b, ".")
	x, _ := strconv.ParseInt(as, 10, 64)
	y, _ := strconv.ParseInt(bs, 10, 64)
	if x != y {
		return x < y
	}
	xf, _ := strconv.ParseInt((af + "000000")[:6], 10, 64)
	yf, _ := strconv.ParseInt((bf + "000000")[:6], 10, 64)
	return xf < yf
}

// DiscardUndelivered drops the events that wait for the app to connect,
// as Slack does once its retries give up: what was posted while the app
// was away is then only in the channel's history. It returns how many
// were dropped.
func (s *Server) DiscardUndelivered() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	n := len(s.waiting)
	s.waiting = nil
	return n
}
