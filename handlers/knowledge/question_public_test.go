package knowledge

import (
	"strings"
	"testing"

	"github.com/einsatz/einsatz/bot/lang/scan/scantest"
)

// publicMessage is a line of the development sets from other people's words
// in testdata/public at the repository root (sources, licences and how they
// were labelled: testdata/public/README.md). They carry both labels; this
// package uses question.
type publicMessage struct {
	scantest.Message
	Question       bool `json:"question"`
	FeatureRequest bool `json:"feature_request"`
}

const publicDir = "../../testdata/public/"

// TestIsQuestionPublicDev measures the question detector on chat written by
// other people: a sample of IRC messages (#ubuntu, #stripe, #rust,
// #mediawiki, #ubuntu-meeting) labelled by hand, and the queries people sent
// to a public-transport chatbot (all questions or requests for information,
// so only recall means something there). Nothing is fitted or tuned on these
// sets; they are development figures (docs/detectors.md). The floors are
// the figures measured when the sets were added, less a margin, so the test
// catches regressions; run with -v for the figures and every wrong answer.
func TestIsQuestionPublicDev(t *testing.T) {
	tests := []struct {
		file                    string
		minPrecision, minRecall float64 // 0: not checked (a set of only questions has no precision)
	}{
		{"irc_chat.jsonl", 0.85, 0.85},
		{"chatbot_queries.jsonl", 0, 0.72},
	}
	for _, tt := range tests {
		t.Run(strings.TrimSuffix(tt.file, ".jsonl"), func(t *testing.T) {
			msgs := scantest.ReadLabelled[publicMessage](t, publicDir+tt.file)
			var all, noMark scantest.Confusion
			for _, m := range msgs {
				got := IsQuestion(m.Text)
				all.Add(m.Question, got)
				if m.Question && !strings.HasSuffix(strings.TrimSpace(m.Text), "?") {
					noMark.Add(m.Question, got)
				}
				if got != m.Question {
					t.Logf("wrong: question=%-5v score %.2f %q (%s)", m.Question, QuestionScore(m.Text), m.Text, m.Note)
				}
			}
			t.Logf("%s: %v", tt.file, all)
			t.Logf("questions without '?': %d of %d recognised", noMark.TP, noMark.TP+noMark.FN)
			if all.TP+all.FN == 0 {
				t.Fatalf("%s has no questions", tt.file)
			}
			if tt.minPrecision > 0 && all.Precision() < tt.minPrecision {
				t.Errorf("precision %.3f, want >= %.2f", all.Precision(), tt.minPrecision)
			}
			if all.Recall() < tt.minRecall {
				t.Errorf("recall %.3f, want >= %.2f", all.Recall(), tt.minRecall)
			}
		})
	}
}
