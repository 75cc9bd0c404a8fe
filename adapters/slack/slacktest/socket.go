package slacktest

import (
	"bytes"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"net/http"
	"sync"
	"time"

	"github.com/gorilla/websocket"
)

// Envelope types.
const (
	TypeEventsAPI     = "events_api"
	TypeSlashCommands = "slash_commands"
	TypeInteractive   = "interactive"
)

type envelope struct {
	id      string
	typ     string
	payload json.RawMessage
	accepts bool
	attempt int
	sentAt  time.Time
	reason  string
}

type wsConn struct {
	conn *websocket.Conn
	wmu  sync.Mutex
	once sync.Once
	done chan struct{}
}

func (c *wsConn) write(v any) error {
	b, err := json.Marshal(v)
	if err != nil {
		return err
	}
	c.wmu.Lock()
	defer c.wmu.Unlock()
	_ = c.conn.SetWriteDeadline(time.Now().Add(5 * time.Second))
	return c.conn.WriteMessage(websocket.TextMessage, b)
}

func (c *wsConn) close() {
	c.once.Do(func() {
		close(c.done)
		_ = c.conn.Close()
	})
}

func randomID() string {
	var b [8]byte
	_, _ = rand.Read(b[:])
	return hex.EncodeToString(b[:])
}

// serveSocket accepts a websocket on a single-use URL from apps.connections.open.
func (s *Server) serveSocket(w http.ResponseWriter, r *http.Request) {
	ticket := r.URL.Query().Get("ticket")
	s.mu.Lock()
	used, known := s.tickets[ticket]
	if known && !used {
		s.tickets[ticket] = true
	}
	s.mu.Unlock()
	if !known || used {
		http.Error(w, "invalid or used socket URL: call apps.connections.open for a new one", http.StatusUnauthorized)
		return
	}
	conn, err := s.up.Upgrade(w, r, nil)
	if err != nil {
		return
	}
	c := &wsConn{conn: conn, done: make(chan struct{})}
	s.mu.Lock()
	if s.closed {
		s.mu.Unlock()
		c.close()
		return
	}
	s.conns = append(s.conns, c)
	s.connCount++
	n := len(s.conns)
	waiting := s.waiting
	s.waiting = nil
	s.mu.Unlock()
	s.opts.Logf("socket: connection %d opened", n)

	_ = c.write(obj{"type": "hello", "num_connections": n,
		"debug_info":      obj{"host": "fakeslack", "approximate_connection_time": 18060},
		"connection_info": obj{"app_id": DefaultAppID}})
	for _, env := range waiting {
		s.send(env)
	}
	go s.pingLoop(c)
	s.readLoop(c)
}

func (s *Server) pingLoop(c *wsConn) {
	t := time.NewTicker(s.opts.PingInterval)
	defer t.Stop()
	for {
		select {
		case <-c.done:
			return
		case <-t.C:
			if err := c.conn.WriteControl(websocket.PingMessage, []byte("ping"), time.Now().Add(time.Second)); err != nil {
				return
			}
		}
	}
}

// readLoop records acks until the connection ends.
func (s *Server) readLoop(c *wsConn) {
	defer func() {
		c.close()
		s.mu.Lock()
		for i, x := range s.conns {
			if x == c {
				s.conns = append(s.conns[:i], s.conns[i+1:]...)
				break
			}
		}
		s.mu.Unlock()
		s.opts.Logf("socket: connection closed")
	}()
	for {
		_, data, err := c.conn.ReadMessage()
		if err != nil {
			return
		}
		var ack struct {
			EnvelopeID string `json:"envelope_id"`
		}
		if json.Unmarshal(data, &ack) != nil || ack.EnvelopeID == "" {
			continue
		}
		s.ack(ack.EnvelopeID, 0)
	}
}

func (s *Server) ack(id string, status int) {
	s.mu.Lock()
	defer s.mu.Unlock()
	for i, env := range s.pending {
		if env.id != id {
			continue
		}
		a := Ack{EnvelopeID: id, Type: env.typ, Attempt: env.attempt, Latency: time.Since(env.sentAt), Status: status}
		if s.loseAcks > 0 && status == 0 {
			s.loseAcks--
			a.Lost = true
			s.acks = append(s.acks, a)
			return
		}
		s.acks = append(s.acks, a)
		s.pending = append(s.pending[:i], s.pending[i+1:]...)
		return
	}
}

// enqueue delivers a new envelope in the configured mode.
func (s *Server) enqueue(typ string, payload any, accepts bool) string {
	raw, _ := json.Marshal(payload)
	env := &envelope{id: randomID(), typ: typ, payload: raw, accepts: accepts}
	s.mu.Lock()
	s.envelopes++
	mode := s.opts.Mode
	s.mu.Unlock()
	if mode == ModeHTTP {
		select {
		case s.httpQueue <- env:
		case <-s.done:
		}
		return env.id
	}
	s.send(env)
	return env.id
}

// send writes an envelope to an open connection, or keeps it for the next.
func (s *Server) send(env *envelope) {
	s.mu.Lock()
	if s.closed {
		s.mu.Unlock()
		return
	}
	if len(s.conns) == 0 {
		s.waiting = append(s.waiting, env)
		s.mu.Unlock()
		return
	}
	c := s.conns[len(s.conns)-1]
	env.sentAt = time.Now()
	found := false
	for _, p := range s.pending {
		if p == env {
			found = true
		}
	}
	if !found {
		s.pending = append(s.pending, env)
	}
	msg := obj{"envelope_id": env.id, "type": env.typ, "payload": env.payload,
		"accepts_response_payload": env.accepts, "retry_attempt": env.attempt, "retry_reason": env.reason}
	s.mu.Unlock()
	if err := c.write(msg); err != nil {
		s.opts.Logf("socket: write envelope: %v", err)
	}
}

// redeliverLoop sends unacknowledged envelopes again, like Slack.
func (s *Server) redeliverLoop() {
	defer s.background.Done()
	tick := max(s.opts.AckTimeout/5, 10*time.Millisecond)
	t := time.NewTicker(tick)
	defer t.Stop()
	for {
		select {
		case <-s.done:
			return
		case <-t.C:
		}
		var again []*envelope
		s.mu.Lock()
		keep := s.pending[:0]
		for _, env := range s.pending {
			if time.Since(env.sentAt) < s.opts.AckTimeout {
				keep = append(keep, env)
				continue
			}
			if env.attempt >= s.opts.MaxRetries {
				s.opts.Logf("socket: envelope %s given up after %d retries", env.id, env.attempt)
				continue
			}
			env.attempt++
			env.reason = "timeout"
			keep = append(keep, env)
			again = append(again, env)
		}
		s.pending = keep
		s.mu.Unlock()
		for _, env := range again {
			s.opts.Logf("socket: redelivering %s (retry_attempt %d)", env.id, env.attempt)
			s.send(env)
		}
	}
}

// Disconnect asks every connected client to reconnect, as Slack does
// before it recycles a connection; the server closes the old socket after
// grace.
func (s *Server) Disconnect(grace time.Duration) {
	s.mu.Lock()
	conns := append([]*wsConn(nil), s.conns...)
	s.mu.Unlock()
	for _, c := range conns {
		_ = c.write(obj{"type": "disconnect", "reason": "refresh_requested", "debug_info": obj{"host": "fakeslack"}})
		go func(c *wsConn) {
			select {
			case <-time.After(grace):
			case <-c.done:
			}
			c.close()
		}(c)
	}
}

// DropConnections closes every websocket without warning.
func (s *Server) DropConnections() {
	s.mu.Lock()
	conns := append([]*wsConn(nil), s.conns...)
	s.mu.Unlock()
	for _, c := range conns {
		c.close()
	}
}

// httpLoop delivers envelopes in HTTP mode one at a time, in order, with
// Slack's retries (X-Slack-Retry-Num) when the app does not answer 200 in time.
func (s *Server) httpLoop() {
	defer s.background.Done()
	client := &http.Client{Timeout: s.opts.AckTimeout}
	for {
		var env *envelope
		select {
		case <-s.done:
			return
		case env = <-s.httpQueue:
		}
		for attempt := 0; attempt <= s.opts.MaxRetries; attempt++ {
			s.mu.Lock()
			target := s.eventsURL
			s.mu.Unlock()
			if target == "" {
				s.opts.Logf("http: no events URL set; delivery dropped")
				break
			}
			body, ctype := httpBody(env)
			req, _ := http.NewRequest(http.MethodPost, target, bytes.NewReader(body))
			req.Header.Set("Content-Type", ctype)
			sign(req, s.opts.SigningSecret, time.Now().Unix(), body)
			if attempt > 0 {
				req.Header.Set("X-Slack-Retry-Num", itoa(attempt))
				req.Header.Set("X-Slack-Retry-Reason", env.reason)
			}
			start := time.Now()
			resp, err := client.Do(req)
			a := Ack{EnvelopeID: env.id, Type: env.typ, Attempt: attempt, Latency: time.Since(start)}
			if err == nil {
				a.Status = resp.StatusCode
				resp.Body.Close()
			}
			s.mu.Lock()
			s.acks = append(s.acks, a)
			lose := false
			if err == nil && resp.StatusCode == http.StatusOK && s.loseAcks > 0 {
				s.loseAcks--
				lose = true
				s.acks[len(s.acks)-1].Lost = true
			}
			s.mu.Unlock()
			if err == nil && resp.StatusCode == http.StatusOK && !lose {
				break
			}
			if err != nil {
				env.reason = "http_timeout"
			} else {
				env.reason = "http_error"
			}
			select {
			case <-s.done:
				return
			case <-time.After(10 * time.Millisecond):
			}
		}
	}
}

func itoa(n int) string {
	b, _ := json.Marshal(n)
	return string(b)
}
