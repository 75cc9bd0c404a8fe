package main

import (
	"encoding/json"
	"fmt"
	"net/http"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/einsatz/einsatz/adapters/web"
)

// A feature request in the web chat gets one reply, the inbox's thanks, in
// its own response (not with the next message), and no answer beside it.
func TestWebChatGetsTheThanksWithTheAnswer(t *testing.T) {
	dataDir := filepath.Join(t.TempDir(), "data")
	srv := startServer(t, chatConfig(t, dataDir), dataDir)
	c := &http.Client{Timeout: 20 * time.Second}
	chat := func(msg, text string) web.ChatResponse {
		t.Helper()
		body := fmt.Sprintf(`{"conversation_id":"c1","message_id":%q,"text":%q}`, msg, text)
		resp, err := c.Post(srv.client.URL+"/api/chat", "application/json", strings.NewReader(body))
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		var out web.ChatResponse
		if err := json.NewDecoder(resp.Body).Decode(&out); err != nil || resp.StatusCode != http.StatusOK {
			t.Fatalf("%s: status %d, %v", msg, resp.StatusCode, err)
		}
		return out
	}
	const thanks = "passed this to the product team as #1"
	out := chat("m1", "Please add a dark mode to the dashboard, it would really help at night")
	if len(out.Replies) != 1 || !strings.Contains(out.Replies[0].Text, thanks) {
		t.Fatalf("replies = %+v, want the thanks alone", out.Replies)
	}
	out = chat("m2", "What is Einsatz?")
	for _, r := range out.Replies {
		if strings.Contains(r.Text, thanks) {
			t.Fatalf("the thanks came again with the next message: %+v", out.Replies)
		}
	}
	// Another visitor whose client also numbers its messages from m1 files
	// a request of their own: message ids are the conversation's.
	body := `{"conversation_id":"c2","message_id":"m1","text":"Could you add an export to Notion? That would help us a lot"}`
	resp, err := c.Post(srv.client.URL+"/api/chat", "application/json", strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var second web.ChatResponse
	if err := json.NewDecoder(resp.Body).Decode(&second); err != nil {
		t.Fatal(err)
	}
	if len(second.Replies) != 1 || !strings.Contains(second.Replies[0].Text, "passed this to the product team as #2") {
		t.Fatalf("second visitor's request: %+v, want the thanks for #2", second)
	}
	srv.stop(t)
}
