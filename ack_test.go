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

// A feature request in the web chat gets its answer and then the inbox's
// thanks in the same response, not the thanks with the next message.
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
	if n := len(out.Replies); n < 2 || !strings.Contains(out.Replies[n-1].Text, thanks) {
		t.Fatalf("replies = %+v, want the answer and then the thanks", out.Replies)
	}
	for _, r := range out.Replies[:len(out.Replies)-1] {
		if strings.Contains(r.Text, thanks) {
			t.Fatalf("replies = %+v: the thanks came before the answer", out.Replies)
		}
	}
	out = chat("m2", "What is Einsatz?")
	for _, r := range out.Replies {
		if strings.Contains(r.Text, thanks) {
			t.Fatalf("the thanks came again with the next message: %+v", out.Replies)
		}
	}
	srv.stop(t)
}
