package discordtest

import (
	"bytes"
	"compress/zlib"
	"encoding/json"
	"net/http"
	"sync"
	"time"

	"github.com/gorilla/websocket"
)

// session is a gateway session: it outlives connections, so that a client
// can RESUME and get what it missed.
type session struct {
	id       string
	intents  int
	compress bool
	seq      int64
	log      []frame // the last sessionLogSize dispatches
	conn     *gwConn // nil while disconnected
	// shard of shards this session gets the events of (shards.go)
	shard, shards int
}

type frame struct {
	seq  int64
	data []byte
}

// gwConn is one websocket connection; a single writer goroutine keeps the
// frames in order.
type gwConn struct {
	srv      *Server
	ws       *websocket.Conn
	out      chan []byte
	done     chan struct{}
	once     sync.Once
	compress bool
	sess     *session
}

type gatewayPayload struct {
	Op int             `json:"op"`
	D  json.RawMessage `json:"d"`
	S  *int64          `json:"s,omitempty"`
	T  string          `json:"t,omitempty"`
}

func (s *Server) serveGateway(w http.ResponseWriter, r *http.Request) {
	ws, err := upgrader.Upgrade(w, r, nil)
	if err != nil {
		return
	}
	c := &gwConn{srv: s, ws: ws, out: make(chan []byte, connQueueSize), done: make(chan struct{})}
	s.track(c, true)
	defer s.track(c, false)
	go c.writer()
	defer c.drop()

	c.sendRaw(mustJSON(map[string]any{"op": 10, "d": map[string]any{"heartbeat_interval": s.opts.HeartbeatInterval.Milliseconds()}, "s": nil, "t": nil}))
	authed := false
	for {
		_, data, err := ws.ReadMessage()
		if err != nil {
			return
		}
		var p gatewayPayload
		if err := json.Unmarshal(data, &p); err != nil {
			c.close(4002, "Error while decoding payload.")
			return
		}
		switch p.Op {
		case 1: // heartbeat
			c.sendRaw(mustJSON(map[string]any{"op": 11, "d": nil}))
		case 2: // identify
			if authed {
				c.close(4005, "Already authenticated.")
				return
			}
			if !s.identify(c, p.D) {
				return
			}
			authed = true
		case 6: // resume
			if authed {
				c.close(4005, "Already authenticated.")
				return
			}
			if !s.resume(c, p.D) {
				return
			}
			authed = c.sess != nil // after op 9 the client identifies anew
		default:
			if !authed {
				c.close(4003, "Not authenticated.")
				return
			}
		}
	}
}

func (s *Server) tokenOK(t string) bool {
	return t == s.Token || t == "Bot "+s.Token // the gateway accepts either
}

func (s *Server) identify(c *gwConn, raw json.RawMessage) bool {
	var d struct {
		Token    string  `json:"token"`
		Intents  int     `json:"intents"`
		Compress bool    `json:"compress"`
		Shard    *[2]int `json:"shard"`
	}
	if err := json.Unmarshal(raw, &d); err != nil {
		c.close(4002, "Error while decoding payload.")
		return false
	}
	if !s.tokenOK(d.Token) {
		s.logf("gateway: IDENTIFY with a wrong token: closing 4004")
		c.close(4004, "Authentication failed.")
		return false
	}
	if d.Intents&intentMessageContent != 0 && s.opts.NoMessageContentIntent {
		s.logf("gateway: IDENTIFY asks for MESSAGE_CONTENT, not enabled: closing 4014")
		c.close(4014, "Disallowed intent(s).")
		return false
	}
	if !validShard(d.Shard) {
		c.close(4010, "Invalid shard.")
		return false
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	s.identifies++
	if d.Compress {
		s.compressedIdentifies++
	}
	ss := &session{id: "session-" + s.newID(), intents: d.Intents, compress: d.Compress, conn: c}
	s.identifyShardLocked(ss, d.Shard)
	s.sessions[ss.id] = ss
	c.sess = ss
	c.compress = d.Compress
	guilds := []any{}
	for _, g := range s.guilds {
		if ShardOf(g.ID, ss.shards) == ss.shard {
			guilds = append(guilds, map[string]any{"id": g.ID, "unavailable": true})
		}
	}
	s.dispatchToLocked(ss, "READY", map[string]any{
		"v": 9, "user": userPayload(s.botUser), "guilds": guilds, "session_id": ss.id,
		"resume_gateway_url": s.wsURL, "private_channels": []any{}, "relationships": []any{},
		"application": map[string]any{"id": s.AppID, "flags": 0},
	})
	if d.Intents&intentGuilds != 0 {
		for _, g := range s.guilds {
			s.dispatchToLocked(ss, "GUILD_CREATE", s.guildPayloadLocked(g))
		}
	}
	s.logf("gateway: session %s identified (intents %d, compress %v)", ss.id, d.Intents, d.Compress)
	return true
}

func (s *Server) resume(c *gwConn, raw json.RawMessage) bool {
	var d struct {
		Token     string `json:"token"`
		SessionID string `json:"session_id"`
		Seq       int64  `json:"seq"`
	}
	if err := json.Unmarshal(raw, &d); err != nil {
		c.close(4002, "Error while decoding payload.")
		return false
	}
	if !s.tokenOK(d.Token) {
		c.close(4004, "Authentication failed.")
		return false
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	ss := s.sessions[d.SessionID]
	if ss == nil || d.Seq > ss.seq {
		c.sendRaw(mustJSON(map[string]any{"op": 9, "d": false}))
		return true // the client identifies anew on this connection
	}
	if old := ss.conn; old != nil && old != c {
		go old.drop()
	}
	s.resumes++
	ss.conn = c
	c.sess = ss
	c.compress = ss.compress
	from := d.Seq - int64(s.opts.ResumeRedeliver)
	replayed := 0
	for _, f := range ss.log {
		if f.seq > from {
			c.send(f.data)
			replayed++
		}
	}
	ss.seq++
	c.send(mustJSON(map[string]any{"op": 0, "t": "RESUMED", "s": ss.seq, "d": map[string]any{}}))
	s.logf("gateway: session %s resumed from seq %d, %d events replayed", ss.id, d.Seq, replayed)
	return true
}

// dispatchLocked sends an event to every session that asked for intent
// (0 = always).
func (s *Server) dispatchLocked(t string, intent int, d any) {
	for _, ss := range s.sessions {
		if intent != 0 && ss.intents&intent == 0 {
			continue
		}
		s.dispatchToLocked(ss, t, d)
	}
}

func (s *Server) dispatchToLocked(ss *session, t string, d any) {
	if !s.onShardLocked(ss, t, d) {
		return
	}
	ss.seq++
	data := mustJSON(map[string]any{"op": 0, "t": t, "s": ss.seq, "d": d})
	ss.log = append(ss.log, frame{seq: ss.seq, data: data})
	if len(ss.log) > sessionLogSize {
		ss.log = ss.log[len(ss.log)-sessionLogSize:]
	}
	if ss.conn != nil {
		ss.conn.send(data)
	}
}

// dispatchMessageLocked sends MESSAGE_CREATE/UPDATE, redacting the content
// for sessions without MESSAGE_CONTENT as Discord does: the text,
// attachments, embeds and components of guild messages are empty unless the
// message mentions the bot or is the bot's own.
func (s *Server) dispatchMessageLocked(t string, m *Message) {
	if m.Flags&flagEphemeral != 0 {
		return // ephemeral messages reach only the user who clicked
	}
	intent := intentDirectMessages
	if m.GuildID != "" {
		intent = intentGuildMessages
	}
	for _, ss := range s.sessions {
		if ss.intents&intent == 0 {
			continue
		}
		withContent := ss.intents&intentMessageContent != 0 || m.GuildID == "" ||
			m.Author.ID == s.BotID || containsStr(m.Mentions, s.BotID)
		s.dispatchToLocked(ss, t, s.messagePayloadLocked(m, withContent))
	}
	if s.ownLocked(m) && s.opts.OnMessage != nil {
		mm := *m
		go s.opts.OnMessage(mm)
	}
}

func (c *gwConn) send(data []byte) {
	if c.compress {
		var b bytes.Buffer
		// discordgo inflates every binary frame on its own (a fresh zlib
		// reader per message), which is Discord's payload compression
		// ("compress": true in IDENTIFY), not the shared zlib-stream.
		zw := zlib.NewWriter(&b)
		_, _ = zw.Write(data)
		_ = zw.Close()
		data = append([]byte{1}, b.Bytes()...) // 1 marks binary for the writer
	} else {
		data = append([]byte{0}, data...)
	}
	c.sendRaw0(data)
}

func (c *gwConn) sendRaw(data []byte) { c.sendRaw0(append([]byte{0}, data...)) }

func (c *gwConn) sendRaw0(data []byte) {
	select {
	case <-c.done:
	case c.out <- data:
	default:
		// A client this far behind is dropped; it resumes and gets the log.
		go c.drop()
	}
}

func (c *gwConn) writer() {
	for {
		select {
		case <-c.done:
			return
		case data := <-c.out:
			typ := websocket.TextMessage
			if data[0] == 1 {
				typ = websocket.BinaryMessage
			}
			_ = c.ws.SetWriteDeadline(time.Now().Add(10 * time.Second))
			if err := c.ws.WriteMessage(typ, data[1:]); err != nil {
				c.drop()
				return
			}
		}
	}
}

// close sends a close frame with a gateway close code, then drops.
func (c *gwConn) close(code int, reason string) {
	// Let the writer flush what is queued (HELLO), then close in order.
	deadline := time.Now().Add(time.Second)
	for len(c.out) > 0 && time.Now().Before(deadline) {
		time.Sleep(time.Millisecond)
	}
	_ = c.ws.WriteControl(websocket.CloseMessage, websocket.FormatCloseMessage(code, reason), time.Now().Add(time.Second))
	time.Sleep(20 * time.Millisecond)
	c.drop()
}

// drop ends the connection without a close frame; the session stays for a
// RESUME.
func (c *gwConn) drop() {
	c.once.Do(func() {
		close(c.done)
		_ = c.ws.UnderlyingConn().Close()
		c.srv.mu.Lock()
		if c.sess != nil && c.sess.conn == c {
			c.sess.conn = nil
		}
		c.srv.mu.Unlock()
	})
}
