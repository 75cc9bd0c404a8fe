package discordtest

import (
	"encoding/json"
	"strconv"
	"time"
	"unicode/utf8"
)

// Create Message takes a nonce (an integer or a string of at most 25
// characters) and, with enforce_nonce true, checks it for uniqueness over
// the last few minutes: when the same author created a message with the
// same nonce in that time, Discord answers with that message and creates
// none (a deleted one answers 10008 Unknown Message). Discord documents
// the check as per author; the fake also requires the same channel, the
// narrower reading, so a bot cannot rely on more than Discord promises.
// Without enforce_nonce a nonce is only echoed.

// defaultNonceWindow is how long the fake remembers an enforced nonce.
// Discord says "the past few minutes" and publishes no figure.
const defaultNonceWindow = 2 * time.Minute

type nonceKey struct{ author, channel, nonce string }

type nonceSeen struct {
	messageID string
	at        time.Time
}

// parseNonce reads a nonce as Discord takes it; ok is false when it is
// neither an integer nor a string of at most 25 characters.
func parseNonce(raw json.RawMessage) (nonce string, ok bool) {
	if len(raw) == 0 || string(raw) == "null" {
		return "", true
	}
	var str string
	if err := json.Unmarshal(raw, &str); err == nil {
		return str, utf8.RuneCountInString(str) <= 25
	}
	var n int64
	if err := json.Unmarshal(raw, &n); err == nil {
		return strconv.FormatInt(n, 10), true
	}
	return "", false
}

// enforcedLocked returns the message the author created with this nonce in
// channelID within the window, if any.
func (s *Server) enforcedLocked(author, channelID, nonce string) (*Message, bool) {
	k := nonceKey{author, channelID, nonce}
	seen, ok := s.nonces[k]
	if !ok {
		return nil, false
	}
	if time.Since(seen.at) > s.opts.NonceWindow {
		delete(s.nonces, k)
		return nil, false
	}
	return s.messages[seen.messageID], true
}

// rememberNonceLocked keeps m's enforced nonce for the window, dropping
// the expired ones now and then so a long run does not grow without bound.
func (s *Server) rememberNonceLocked(m *Message, nonce string) {
	if s.nonces == nil {
		s.nonces = map[nonceKey]nonceSeen{}
	}
	if len(s.nonces) >= 1024 && len(s.nonces)%1024 == 0 {
		for k, v := range s.nonces {
			if time.Since(v.at) > s.opts.NonceWindow {
				delete(s.nonces, k)
			}
		}
	}
	s.nonces[nonceKey{m.Author.ID, m.ChannelID, nonce}] = nonceSeen{m.ID, time.Now()}
}

// NonceReplays tells how often Create Message answered with an existing
// message because of an enforced nonce.
func (s *Server) NonceReplays() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.nonceReplays
}

// withNonce adds the nonce to a created message's payload: Discord echoes
// it in the answer to Create Message (not when the message is read later).
func withNonce(p map[string]any, nonce string) map[string]any {
	if nonce != "" {
		p["nonce"] = nonce
	}
	return p
}
