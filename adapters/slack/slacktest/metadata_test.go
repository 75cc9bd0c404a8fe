package slacktest

import (
	"encoding/json"
	"net/http"
	"net/url"
	"testing"

	"github.com/slack-go/slack"
)

// Message metadata as slack-go sends and reads it: chat.postMessage keeps
// it and echoes it; conversations.replies and conversations.history return
// it only with include_all_metadata; a malformed one is refused.
func TestMessageMetadata(t *testing.T) {
	s := New(Options{})
	t.Cleanup(s.Close)
	s.AddUser("U1", "ann")
	s.AddChannel("C1", "general", Public)
	parent := s.Post("C1", "U1", "a question", "")
	api := slack.New(s.BotToken(), slack.OptionAPIURL(s.APIURL()))
	md := slack.SlackMetadata{EventType: "einsatz_reply", EventPayload: map[string]any{"event": "k1", "part": 2}}
	_, ts, err := api.PostMessage("C1", slack.MsgOptionText("an answer", false), slack.MsgOptionTS(parent), slack.MsgOptionMetadata(md))
	if err != nil {
		t.Fatal(err)
	}
	if got := s.Posted(); len(got) != 1 || got[0].Metadata == nil || got[0].Metadata.EventType != "einsatz_reply" {
		t.Fatalf("posted = %+v, want the metadata kept", got)
	}
	if _, top, err := api.PostMessage("C1", slack.MsgOptionText("top", false), slack.MsgOptionMetadata(md)); err != nil || top == "" {
		t.Fatalf("top-level post with metadata: %v", err)
	}

	for _, all := range []bool{false, true} {
		msgs, _, _, err := api.GetConversationReplies(&slack.GetConversationRepliesParameters{ChannelID: "C1", Timestamp: parent, IncludeAllMetadata: all})
		if err != nil || len(msgs) != 2 || msgs[1].Timestamp != ts {
			t.Fatalf("replies = %+v, %v", msgs, err)
		}
		got := msgs[1].Metadata
		if !all && got.EventType != "" {
			t.Errorf("replies without include_all_metadata returned %+v", got)
		}
		if all && (got.EventType != "einsatz_reply" || got.EventPayload["event"] != "k1" || got.EventPayload["part"] != float64(2)) {
			t.Errorf("replies with include_all_metadata: %+v", got)
		}
		res, err := api.GetConversationHistory(&slack.GetConversationHistoryParameters{ChannelID: "C1", IncludeAllMetadata: all})
		if err != nil || len(res.Messages) != 2 {
			t.Fatalf("history = %+v, %v", res, err)
		}
		if got := res.Messages[0].Metadata.EventType; (got == "einsatz_reply") != all {
			t.Errorf("history include_all_metadata=%v: event_type %q", all, got)
		}
	}

	for _, raw := range []string{"{", `{"event_payload":{}}`, `{"event_type":"x"}`} {
		resp, err := http.PostForm(s.APIURL()+"chat.postMessage", url.Values{"token": {s.BotToken()}, "channel": {"C1"}, "text": {"x"}, "metadata": {raw}})
		if err != nil {
			t.Fatal(err)
		}
		var out struct {
			OK    bool   `json:"ok"`
			Error string `json:"error"`
		}
		err = json.NewDecoder(resp.Body).Decode(&out)
		resp.Body.Close()
		if err != nil || out.OK || out.Error != "invalid_metadata_format" {
			t.Errorf("metadata %s: %+v, %v; want invalid_metadata_format", raw, out, err)
		}
	}
}
