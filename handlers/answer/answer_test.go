package answer

import (
	"context"
	"errors"
	"os"
	"strings"
	"testing"

	"github.com/einsatz/einsatz/bot"
	"github.com/einsatz/einsatz/bot/config"
	"github.com/einsatz/einsatz/bot/kb"
	"github.com/einsatz/einsatz/handlers/knowledge"
)

type searchFunc func(ctx context.Context, q string, k int) ([]knowledge.Hit, error)

func (f searchFunc) Search(ctx context.Context, q string, k int) ([]knowledge.Hit, error) {
	return f(ctx, q, k)
}

func hits(h ...knowledge.Hit) searchFunc {
	return func(context.Context, string, int) ([]knowledge.Hit, error) { return h, nil }
}

func hit(title, lang, text string, coverage float64) knowledge.Hit {
	return knowledge.Hit{Chunk: kb.Chunk{Title: title, Lang: lang, Text: text, URL: "https://kb/" + title, Source: lang + "/" + title + ".md"}, Coverage: coverage,
		// The other features the answer decision weighs, as a passage with
		// this share of a two-term question would have them (in its
		// title, too, and as a phrase).
		Rare: coverage, Context: coverage, TitleMatch: coverage, Missing: 1 - coverage, Terms: 2,
		Phrase: coverage, Asked: coverage, Score: coverage, Lexical: coverage}
}

// text names the key for most texts; the line about an unknown question of
// several is the real one, as tests look for the question in it.
func text(lang, key string) string {
	if key == TextDontKnowPart {
		return config.Texts{}.Get(lang, key)
	}
	return lang + ":" + key
}

func TestHandle(t *testing.T) {
	tests := []struct {
		name       string
		ev         bot.Event
		search     searchFunc
		want       string
		wantSource string
	}{
		{"best covering passage", bot.Event{Text: "What is Einsatz?", Lang: "en"},
			hits(hit("weak", "en", "nope", 0.2), hit("what", "en", "Einsatz is a bot.", 1)), "Einsatz is a bot.", "what"},
		{"nothing good enough", bot.Event{Text: "quantum banana", Lang: "en"},
			hits(hit("weak", "en", "nope", 0.3), hit("other", "en", "nope either", 0.3)), "en:dont_know", ""},
		{"no hits in German", bot.Event{Text: "Quantenbanane?", Lang: "de"}, hits(), "de:dont_know", ""},
		{"prefers the asker's language at equal coverage", bot.Event{Text: "Was ist Einsatz?", Lang: "de"},
			hits(hit("what", "en", "Einsatz is a bot.", 1), hit("was", "de", "Einsatz ist ein Bot.", 1)), "Einsatz ist ein Bot.", "was"},
		{"keeps better coverage over language", bot.Event{Text: "x", Lang: "de"},
			hits(hit("what", "en", "exact", 1), hit("was", "de", "partial", 0.6)), "exact", "what"},
		{"ask command uses its arguments", bot.Event{Kind: bot.KindCommand, Command: "ask", Args: "What is Einsatz?", Lang: "en"},
			func(_ context.Context, q string, _ int) ([]knowledge.Hit, error) {
				if q != "What is Einsatz?" {
					return nil, errors.New("wrong query " + q)
				}
				return []knowledge.Hit{hit("what", "en", "Einsatz is a bot.", 1)}, nil
			}, "Einsatz is a bot.", "what"},
		{"greeting", bot.Event{Text: "Hallo!", Lang: "de"}, hits(), "de:greeting", ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			h := New(Options{Search: tt.search, Text: text})
			replies, err := h.Handle(context.Background(), &tt.ev)
			if err != nil {
				t.Fatal(err)
			}
			if len(replies) != 1 || replies[0].Text != tt.want {
				t.Fatalf("replies = %+v, want text %q", replies, tt.want)
			}
			if tt.wantSource == "" {
				if len(replies[0].Sources) != 0 {
					t.Fatalf("sources = %+v, want none", replies[0].Sources)
				}
				return
			}
			if len(replies[0].Sources) != 1 || replies[0].Sources[0].Title != tt.wantSource || replies[0].Sources[0].URL == "" {
				t.Fatalf("sources = %+v, want %q with URL", replies[0].Sources, tt.wantSource)
			}
		})
	}
}

func TestSearchErrorIsReturned(t *testing.T) {
	h := New(Options{Search: searchFunc(func(context.Context, string, int) ([]knowledge.Hit, error) {
		return nil, errors.New("index closed")
	}), Text: text})
	if _, err := h.Handle(context.Background(), &bot.Event{Text: "What?"}); err == nil {
		t.Fatal("want error")
	}
}

func TestExcerpt(t *testing.T) {
	long := strings.Repeat("Word ", 50) + "end.\n\n" + strings.Repeat("More ", 200)
	tests := []struct {
		name, text string
		max        int
		want       string
	}{
		{"short stays", "Short.", 100, "Short."},
		{"paragraph boundary", long, 400, strings.TrimSpace(strings.Repeat("Word ", 50) + "end.")},
		{"sentence boundary", "One two three. Four five six seven eight nine ten.", 30, "One two three."},
		{"word boundary", "alpha beta gamma delta epsilon", 17, "alpha beta gamma …"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := excerpt(tt.text, tt.max); got != tt.want {
				t.Fatalf("excerpt = %q, want %q", got, tt.want)
			}
		})
	}
}

// The real example knowledge base answers the README's first question.
func TestExampleKnowledgeBase(t *testing.T) {
	ix := exampleIndex(t)
	h := New(Options{Search: ix, Text: text})
	tests := []struct {
		q, lang, wantPath string
	}{
		{"What is Einsatz?", "en", "en/what-is-einsatz.md"},
		{"Was ist Einsatz?", "de", "de/was-ist-einsatz.md"},
		{"How do I connect Slack?", "en", "en/connecting-discord-and-slack.md"},
	}
	for _, tt := range tests {
		t.Run(tt.q, func(t *testing.T) {
			replies, err := h.Handle(context.Background(), &bot.Event{Text: tt.q, Lang: tt.lang})
			if err != nil {
				t.Fatal(err)
			}
			if len(replies) != 1 || len(replies[0].Sources) != 1 || replies[0].Sources[0].Path != tt.wantPath {
				t.Fatalf("replies = %+v, want source %s", replies, tt.wantPath)
			}
		})
	}
	replies, _ := h.Handle(context.Background(), &bot.Event{Text: "quantum banana weather forecast", Lang: "en"})
	if len(replies) != 1 || replies[0].Text != "en:dont_know" {
		t.Fatalf("nonsense question got %+v, want dont_know", replies)
	}
}

// exampleIndex is the search index of the shipped example knowledge base.
func exampleIndex(t *testing.T) *knowledge.Index {
	t.Helper()
	chunks, err := knowledge.LoadFS(os.DirFS("../../knowledge"), ".")
	if err != nil {
		t.Fatal(err)
	}
	ix, err := knowledge.NewIndex(chunks)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { ix.Close() })
	return ix
}
