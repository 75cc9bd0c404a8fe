package answer

import (
	"context"
	"reflect"
	"strings"
	"sync"
	"testing"

	"github.com/einsatz/einsatz/bot"
	"github.com/einsatz/einsatz/bot/qa"
)

func TestQuestions(t *testing.T) {
	tests := []struct {
		msg  string
		want []string
	}{
		{"What is Einsatz?", []string{"What is Einsatz?"}},
		{"How do I connect Discord and Slack?", []string{"How do I connect Discord and Slack?"}},
		{"thanks, and how do I connect Slack?", []string{"thanks, and how do I connect Slack?"}},
		{"Hi! I run Einsatz in Docker. How do I update it?", []string{"I run Einsatz in Docker. How do I update it?"}},
		{"hey, how do I connect Slack? and can I run it without an LLM?",
			[]string{"How do I connect Slack?", "Can I run it without an LLM?"}},
		{"What is Einsatz and does it need an LLM?", []string{"What is Einsatz?", "Does it need an LLM?"}},
		{"Wie verbinde ich Slack und kann ich es ohne Sprachmodell betreiben?",
			[]string{"Wie verbinde ich Slack?", "Kann ich es ohne Sprachmodell betreiben?"}},
		{"Was ist Einsatz? Außerdem: wie installiere ich es?", []string{"Was ist Einsatz?", "Wie installiere ich es?"}},
		{"I use Docker. How do I update? And how do I back up the data?",
			[]string{"How do I update? I use Docker.", "How do I back up the data?"}},
		{"hey there 👋 quick q: how do i hook up slack and also does it work with ollama?",
			[]string{"How do i hook up slack?", "Does it work with ollama?"}},
		// a short follow-up with a pronoun for its subject stays with its question
		{"hey, why does go use goroutines and not threads? are they cheaper? and how do I start one?",
			[]string{"Why does go use goroutines and not threads? Are they cheaper?", "How do I start one?"}},
		{"Was ist Einsatz? Ist das kostenlos? Wie installiere ich es?",
			[]string{"Was ist Einsatz? Ist das kostenlos?", "Wie installiere ich es?"}},
		{"What is it? How do I install it? Where is the config? Who made it?",
			[]string{"What is it?", "How do I install it?", "Where is the config? Who made it?"}},
	}
	for _, tt := range tests {
		t.Run(tt.msg, func(t *testing.T) {
			if got := Questions(Core(tt.msg)); !reflect.DeepEqual(got, tt.want) {
				t.Fatalf("Questions = %q, want %q", got, tt.want)
			}
		})
	}
}

type countEscalations struct {
	mu sync.Mutex
	n  int
}

func (e *countEscalations) Escalate(context.Context, *bot.Event, string, string) error {
	e.mu.Lock()
	defer e.mu.Unlock()
	e.n++
	return nil
}

// Several questions in one message get one reply against the example
// knowledge base: an answer with its source for each question it covers,
// and an honest line (and one escalation) for each it does not.
func TestSeveralQuestionsExampleKnowledgeBase(t *testing.T) {
	ix := exampleIndex(t)
	tests := []struct {
		name, msg, lang string
		wantPaths       []string
		wantUnknown     string // the question the reply says it does not know about
	}{
		{"english", "hey, how do I connect Slack? and can I run it without an LLM?", "en",
			[]string{"en/connecting-discord-and-slack.md", "en/llm-setup.md"}, ""},
		{"german", "Wie verbinde ich Slack? Und kann ich Einsatz ohne Sprachmodell benutzen?", "de",
			[]string{"de/discord-und-slack-verbinden.md", "de/sprachmodell-einrichten.md"}, ""},
		{"english answered and unknown", "How do I connect Slack? And does Einsatz support Microsoft Teams?", "en",
			[]string{"en/connecting-discord-and-slack.md"}, "I don't know about “Does Einsatz support Microsoft Teams?”"},
		{"german answered and unknown", "Wie verbinde ich Slack und gibt es eine mobile App?", "de",
			[]string{"de/discord-und-slack-verbinden.md"}, "Zu „Gibt es eine mobile App?“ weiß ich noch keine Antwort"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			esc := &countEscalations{}
			h := New(Options{Search: ix, Text: text, Escalator: esc})
			res, err := h.Answer(context.Background(), &bot.Event{Text: tt.msg, Lang: tt.lang})
			if err != nil {
				t.Fatal(err)
			}
			if res.Outcome != qa.OutcomeExtractive || len(res.Replies) != 1 {
				t.Fatalf("result = %+v, want one extractive reply", res)
			}
			r := res.Replies[0]
			var paths []string
			for _, s := range r.Sources {
				paths = append(paths, s.Path)
			}
			if !reflect.DeepEqual(paths, tt.wantPaths) {
				t.Errorf("sources = %q, want %q", paths, tt.wantPaths)
			}
			for _, q := range Questions(Core(tt.msg))[:len(tt.wantPaths)] {
				if !strings.Contains(r.Text, q) {
					t.Errorf("reply lacks the question %q it answers:\n%s", q, r.Text)
				}
			}
			if tt.wantUnknown == "" {
				if esc.n != 0 || res.Escalated || len(r.Buttons) != 0 {
					t.Errorf("escalations %d, buttons %+v, want none", esc.n, r.Buttons)
				}
				return
			}
			if !strings.Contains(r.Text, tt.wantUnknown) {
				t.Errorf("reply lacks %q:\n%s", tt.wantUnknown, r.Text)
			}
			if esc.n != 1 || !res.Escalated || len(r.Buttons) != 1 || r.Buttons[0].Action != ActionHandoff {
				t.Errorf("escalations %d (escalated %v), buttons %+v, want one escalation and the handoff button", esc.n, res.Escalated, r.Buttons)
			}
		})
	}

	// Nothing known: the plain "I don't know", escalated once.
	esc := &countEscalations{}
	h := New(Options{Search: ix, Text: text, Escalator: esc})
	res, err := h.Answer(context.Background(), &bot.Event{Text: "Does Einsatz support Microsoft Teams? And is there a mobile app?", Lang: "en"})
	if err != nil {
		t.Fatal(err)
	}
	if res.Outcome != qa.OutcomeDontKnow || len(res.Replies) != 1 || res.Replies[0].Text != "en:dont_know" || esc.n != 1 {
		t.Fatalf("result = %+v, escalations %d, want one dont_know escalated once", res, esc.n)
	}
}
