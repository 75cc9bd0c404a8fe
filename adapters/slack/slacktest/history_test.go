package slacktest

import (
	"testing"

	"github.com/slack-go/slack"
)

// conversations.history and conversations.replies as slack-go calls them:
// history holds top-level messages newest first (a parent with its
// reply_count), pages with a cursor and filters by oldest; replies gives
// the parent, then the replies oldest first; the scopes are checked.
func TestHistoryAndReplies(t *testing.T) {
	s := New(Options{})
	t.Cleanup(s.Close)
	s.AddUser("U1", "ann")
	s.AddChannel("C1", "general", Public)
	first := s.Post("C1", "U1", "first", "")
	second := s.Post("C1", "U1", "second", "")
	reply := s.Post("C1", "U1", "a reply", first)
	third := s.Post("C1", "U1", "third", "")
	api := slack.New(s.BotToken(), slack.OptionAPIURL(s.APIURL()))

	res, err := api.GetConversationHistory(&slack.GetConversationHistoryParameters{ChannelID: "C1", Limit: 2})
	if err != nil {
		t.Fatal(err)
	}
	if len(res.Messages) != 2 || res.Messages[0].Timestamp != third || res.Messages[1].Timestamp != second || !res.HasMore {
		t.Fatalf("page 1 = %+v (has_more %v), want third, second and more", res.Messages, res.HasMore)
	}
	res, err = api.GetConversationHistory(&slack.GetConversationHistoryParameters{ChannelID: "C1", Limit: 2, Cursor: res.ResponseMetaData.NextCursor})
	if err != nil {
		t.Fatal(err)
	}
	if len(res.Messages) != 1 || res.Messages[0].Timestamp != first || res.Messages[0].ReplyCount != 1 || res.HasMore {
		t.Fatalf("page 2 = %+v, want the first message with its reply count, no more", res.Messages)
	}
	res, err = api.GetConversationHistory(&slack.GetConversationHistoryParameters{ChannelID: "C1", Oldest: second})
	if err != nil || len(res.Messages) != 1 || res.Messages[0].Timestamp != third {
		t.Fatalf("after oldest=second: %+v, %v; want only third (exclusive)", res, err)
	}
	msgs, _, _, err := api.GetConversationReplies(&slack.GetConversationRepliesParameters{ChannelID: "C1", Timestamp: first})
	if err != nil || len(msgs) != 2 || msgs[0].Timestamp != first || msgs[1].Timestamp != reply {
		t.Fatalf("replies = %+v, %v; want the parent, then the reply", msgs, err)
	}
	s.SetScopes("chat:write")
	if _, err := api.GetConversationHistory(&slack.GetConversationHistoryParameters{ChannelID: "C1"}); err == nil || err.Error() != "missing_scope" {
		t.Fatalf("without channels:history: %v, want missing_scope", err)
	}
}
