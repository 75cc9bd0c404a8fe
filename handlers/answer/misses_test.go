package answer

import (
	"context"
	"testing"

	"github.com/einsatz/einsatz/bot"
)

// TestKnownMisses: the language question finds the example knowledge
// base's language section as its candidate, and a sign-off's name does not
// make a question go unanswered.
func TestKnownMisses(t *testing.T) {
	h := New(Options{Search: loadIndex(t, "../../knowledge"), Text: text})
	for _, tt := range []struct {
		q, lang, want string
		answered      bool
	}{
		{"kann der bot auch auf deutsch antworten?", "de", "de/was-ist-einsatz.md", false},
		{"Which languages does the bot speak?", "en", "en/what-is-einsatz.md", true},
		{"Wie richte ich Slack ein? LG Max", "de", "de/discord-und-slack-verbinden.md", true},
		{"How do I connect Slack? Thanks, Jana", "en", "en/connecting-discord-and-slack.md", true},
		{"how do I connect slack thanks, Jana", "en", "en/connecting-discord-and-slack.md", true},
	} {
		res, err := h.Answer(context.Background(), &bot.Event{Kind: bot.KindMessage, Text: tt.q, Lang: tt.lang})
		if err != nil {
			t.Fatal(err)
		}
		answered := len(res.Replies) == 1 && len(res.Replies[0].Sources) == 1 && res.Replies[0].Sources[0].Path == tt.want
		if res.Candidate != tt.want || (tt.answered && !answered) {
			t.Errorf("%q: outcome %s, candidate %s (%.2f), want candidate %s (answered: %v)", tt.q, res.Outcome, res.Candidate, res.Confidence, tt.want, tt.answered)
		}
	}
}
