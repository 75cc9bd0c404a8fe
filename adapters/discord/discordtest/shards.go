package discordtest

import (
	"encoding/json"
	"net/http"
	"strconv"
	"time"
)

// Sharding, as Discord does it: GET /gateway/bot tells the recommended
// shard count and the session start limit, an IDENTIFY names its shard
// [shard_id, num_shards] and uses up one session start, and a guild's
// events go only to the session of shard (guild_id >> 22) % num_shards;
// direct messages go to shard 0.

// GatewayBot is what GET /gateway/bot reports: the recommended shard
// count and the session start limit.
type GatewayBot struct {
	Shards         int
	Total          int
	Remaining      int
	ResetAfter     time.Duration
	MaxConcurrency int
}

// IdentifyRecord is one accepted IDENTIFY.
type IdentifyRecord struct {
	Shard, Shards int
	At            time.Time
}

// shardState is the fake's sharding: the limits it reports and the
// IDENTIFYs it accepted. Under Server.mu.
type shardState struct {
	set       bool
	limits    GatewayBot
	log       []IdentifyRecord
	overdrawn int // IDENTIFYs accepted with no session start left
}

func (st *shardState) limitsLocked() GatewayBot {
	if !st.set {
		st.limits = GatewayBot{Shards: 1, Total: 1000, Remaining: 1000, ResetAfter: 24 * time.Hour, MaxConcurrency: 1}
		st.set = true
	}
	return st.limits
}

// SetGatewayBot sets what GET /gateway/bot reports from now on; each
// IDENTIFY then takes one from Remaining. By default: 1 shard, 1,000 of
// 1,000 session starts, max_concurrency 1.
func (s *Server) SetGatewayBot(g GatewayBot) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.shards.limits, s.shards.set = g, true
}

// GatewayBotLimits is what GET /gateway/bot reports now.
func (s *Server) GatewayBotLimits() GatewayBot {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.shards.limitsLocked()
}

// IdentifyLog lists the accepted IDENTIFYs in order, with their shards.
func (s *Server) IdentifyLog() []IdentifyRecord {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]IdentifyRecord(nil), s.shards.log...)
}

// Overdrawn counts IDENTIFYs accepted after the session starts ran out
// (Discord would reset the token; the fake only counts them).
func (s *Server) Overdrawn() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.shards.overdrawn
}

// ShardSessions counts, per shard, the sessions connected now.
func (s *Server) ShardSessions() map[int]int {
	s.mu.Lock()
	defer s.mu.Unlock()
	out := map[int]int{}
	for _, ss := range s.sessions {
		if ss.conn != nil {
			out[ss.shard]++
		}
	}
	return out
}

// AddGuildOnShard creates a guild whose id puts it on shard of shards by
// Discord's formula (guild_id >> 22) % shards.
func (s *Server) AddGuildOnShard(name string, shard, shards int) string {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.nextID++
	ms := time.Now().UnixMilli() - 1420070400000
	ms = ms - ms%int64(shards) + int64(shard)
	g := &guild{ID: strconv.FormatInt(ms<<22|(s.nextID%(1<<22)), 10), Name: name}
	g.Roles = append(g.Roles, role{ID: g.ID, Name: "@everyone"})
	s.guilds = append(s.guilds, g)
	s.dispatchLocked("GUILD_CREATE", intentGuilds, s.guildPayloadLocked(g))
	return g.ID
}

// ShardOf is the shard of a guild by Discord's formula.
func ShardOf(guildID string, shards int) int {
	id, _ := strconv.ParseUint(guildID, 10, 64)
	if shards < 1 {
		return 0
	}
	return int((id >> 22) % uint64(shards))
}

func (s *Server) getGatewayBot(w http.ResponseWriter, _ *http.Request) {
	s.mu.Lock()
	g := s.shards.limitsLocked()
	s.mu.Unlock()
	writeJSON(w, 200, map[string]any{
		"url": s.wsURL, "shards": g.Shards,
		"session_start_limit": map[string]any{"total": g.Total, "remaining": g.Remaining,
			"reset_after": g.ResetAfter.Milliseconds(), "max_concurrency": g.MaxConcurrency},
	})
}

// validShard checks an IDENTIFY's [shard_id, num_shards] (none: 0 of 1).
func validShard(shard *[2]int) bool {
	return shard == nil || (shard[1] >= 1 && shard[0] >= 0 && shard[0] < shard[1])
}

// identifyShardLocked records the session's shard and takes a session
// start.
func (s *Server) identifyShardLocked(ss *session, shard *[2]int) {
	ss.shard, ss.shards = 0, 1
	if shard != nil {
		ss.shard, ss.shards = shard[0], shard[1]
	}
	st := &s.shards
	st.limitsLocked()
	if st.limits.Remaining > 0 {
		st.limits.Remaining--
	} else {
		st.overdrawn++
	}
	st.log = append(st.log, IdentifyRecord{Shard: ss.shard, Shards: ss.shards, At: time.Now()})
}

// onShardLocked reports whether an event belongs to the session's shard:
// a guild's events to shard (guild_id >> 22) % num_shards, the rest
// (direct messages) to shard 0.
func (s *Server) onShardLocked(ss *session, t string, d any) bool {
	if ss.shards <= 1 || t == "READY" {
		return true
	}
	raw, err := json.Marshal(d)
	if err != nil {
		return true
	}
	var p struct {
		ID      string `json:"id"`
		GuildID string `json:"guild_id"`
	}
	_ = json.Unmarshal(raw, &p)
	g := p.GuildID
	if t == "GUILD_CREATE" || t == "GUILD_UPDATE" || t == "GUILD_DELETE" {
		g = p.ID
	}
	if g == "" {
		return ss.shard == 0
	}
	return ShardOf(g, ss.shards) == ss.shard
}
