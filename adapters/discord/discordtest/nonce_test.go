package discordtest

import (
	"encoding/json"
	"strings"
	"testing"
	"time"

	"github.com/bwmarrin/discordgo"
)

// Create Message with enforce_nonce, as discordgo sends a body it is given:
// the same nonce by the same author in the same channel within the window
// answers with the first message and creates none; without enforce_nonce,
// in another channel, after the window or with another nonce a message is
// created; a deleted message answers 10008; a nonce over 25 characters is
// refused (50035).
func TestEnforceNonce(t *testing.T) {
	srv := New(t, Options{NonceWindow: 200 * time.Millisecond})
	s := restSession(t, srv, "Bot "+srv.Token)
	general := srv.TextChannel(srv.Guild, "general")
	other := srv.TextChannel(srv.Guild, "other")
	type created struct {
		ID    string `json:"id"`
		Nonce string `json:"nonce"`
	}
	create := func(ch, text string, nonce any, enforce bool) (*created, error) {
		t.Helper()
		body := map[string]any{"content": text, "enforce_nonce": enforce}
		if nonce != nil {
			body["nonce"] = nonce
		}
		ep := discordgo.EndpointChannelMessages(ch)
		resp, err := s.RequestWithBucketID("POST", ep, body, ep)
		if err != nil {
			return nil, err
		}
		var m created
		if err := json.Unmarshal(resp, &m); err != nil {
			t.Fatal(err)
		}
		return &m, nil
	}

	first, err := create(general, "one", "n1", true)
	if err != nil {
		t.Fatal(err)
	}
	if first.Nonce != "n1" {
		t.Errorf("created message's nonce = %q, want it echoed", first.Nonce)
	}
	tests := []struct {
		name    string
		ch      string
		nonce   any
		enforce bool
		same    bool // answered with the first message
	}{
		{"same nonce, enforced", general, "n1", true, true},
		{"same nonce, not enforced", general, "n1", false, false},
		{"same nonce, other channel", other, "n1", true, false},
		{"other nonce", general, "n2", true, false},
		{"integer nonce", general, 42, true, false},
		{"integer nonce again", general, 42, true, false}, // answered with the previous row's message
	}
	var prev string
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			m, err := create(tt.ch, "again", tt.nonce, tt.enforce)
			if err != nil {
				t.Fatal(err)
			}
			if got := m.ID == first.ID; got != tt.same {
				t.Errorf("answered with the first message: %v, want %v", got, tt.same)
			}
			if tt.name == "integer nonce again" && m.ID != prev {
				t.Errorf("integer nonce repeated: new message %s, want %s", m.ID, prev)
			}
			prev = m.ID
		})
	}
	if n := len(srv.BotMessages(general)); n != 4 {
		t.Errorf("%d messages in general, want 4 (n1, n1 not enforced, n2, 42)", n)
	}
	if n := srv.NonceReplays(); n != 2 {
		t.Errorf("NonceReplays = %d, want 2", n)
	}

	if _, err := create(general, "long", strings.Repeat("x", 26), true); code(err) != 50035 {
		t.Errorf("26-character nonce: %v, want 50035", err)
	}

	gone, err := create(general, "to delete", "n3", true)
	if err != nil {
		t.Fatal(err)
	}
	if err := s.ChannelMessageDelete(general, gone.ID); err != nil {
		t.Fatal(err)
	}
	if _, err := create(general, "to delete", "n3", true); code(err) != 10008 {
		t.Errorf("nonce of a deleted message: %v, want 10008", err)
	}

	time.Sleep(250 * time.Millisecond) // past the window
	if m, err := create(general, "one", "n1", true); err != nil || m.ID == first.ID {
		t.Errorf("after the window: %v, %v; want a new message", m, err)
	}
}
