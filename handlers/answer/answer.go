// Package answer answers community questions from the knowledge base. With
// no LLM it is extractive: the best matching passage, with its source, or an
// honest "I don't know" when nothing matches well enough.
package answer

import (
	"context"
	"fmt"
	"strings"
	"unicode"

	"github.com/einsatz/einsatz/bot"
	"github.com/einsatz/einsatz/handlers/knowledge"
)

// Searcher finds knowledge-base passages for a question.
type Searcher interface {
	Search(ctx context.Context, query string, k int) ([]knowledge.Hit, error)
}

// Handler answers questions. Build it with New.
type Handler struct {
	search      Searcher
	text        func(lang, key string) string
	minCoverage float64
	maxChars    int
}

// Options configure a Handler.
type Options struct {
	Search Searcher
	// Text returns a community-facing text ("dont_know", "greeting") in a language.
	Text func(lang, key string) string
	// MinCoverage is the share of the question's content words a passage
	// must contain to be offered as the answer; default 0.5.
	MinCoverage float64
	// MaxChars bounds the passage quoted; default 900.
	MaxChars int
}

// New returns the answer handler.
func New(opts Options) *Handler {
	if opts.MinCoverage <= 0 {
		opts.MinCoverage = 0.5
	}
	if opts.MaxChars <= 0 {
		opts.MaxChars = 900
	}
	return &Handler{search: opts.Search, text: opts.Text, minCoverage: opts.MinCoverage, maxChars: opts.MaxChars}
}

// Handle answers the event's text (or the arguments of /ask).
func (h *Handler) Handle(ctx context.Context, ev *bot.Event) ([]bot.Reply, error) {
	q := strings.TrimSpace(ev.Text)
	if ev.Kind == bot.KindCommand {
		q = strings.TrimSpace(ev.Args)
	}
	if q == "" || isGreeting(q) {
		return []bot.Reply{{Text: h.text(ev.Lang, "greeting")}}, nil
	}
	hits, err := h.search.Search(ctx, q, 3)
	if err != nil {
		return nil, fmt.Errorf("answer: search knowledge base: %w", err)
	}
	best, ok := h.best(hits, ev.Lang)
	if !ok {
		return []bot.Reply{{Text: h.text(ev.Lang, "dont_know")}}, nil
	}
	return []bot.Reply{{
		Text:    excerpt(best.Text, h.maxChars),
		Sources: []bot.Source{source(best.Chunk)},
	}}, nil
}

// best picks the top hit that covers enough of the question, preferring
// one in the asker's language among hits that cover the question as well.
func (h *Handler) best(hits []knowledge.Hit, lang string) (knowledge.Hit, bool) {
	var found knowledge.Hit
	ok := false
	for _, hit := range hits {
		if hit.Coverage < h.minCoverage {
			continue
		}
		if !ok || (hit.Lang == lang && found.Lang != lang && hit.Coverage >= found.Coverage) {
			found, ok = hit, true
		}
	}
	return found, ok
}

func source(c knowledge.Chunk) bot.Source {
	title := c.Title
	if c.Heading != "" {
		title += " › " + c.Heading
	}
	return bot.Source{Title: title, URL: c.URL, Path: c.Source}
}

// excerpt shortens a passage at a paragraph or sentence boundary.
func excerpt(text string, max int) string {
	text = strings.TrimSpace(text)
	if len(text) <= max {
		return text
	}
	cut := text[:max]
	if i := strings.LastIndex(cut, "\n\n"); i > max/3 {
		return strings.TrimSpace(cut[:i])
	}
	if i := strings.LastIndexAny(cut, ".!?"); i > max/3 {
		return cut[:i+1]
	}
	if i := strings.LastIndexFunc(cut, unicode.IsSpace); i > 0 {
		cut = cut[:i]
	}
	return strings.TrimSpace(cut) + " …"
}

var greetings = map[string]bool{
	"hi": true, "hello": true, "hey": true, "hallo": true, "moin": true, "servus": true,
	"good morning": true, "guten morgen": true, "guten tag": true, "hi there": true,
}

func isGreeting(q string) bool {
	q = strings.ToLower(strings.TrimFunc(q, func(r rune) bool { return unicode.IsPunct(r) || unicode.IsSpace(r) }))
	return greetings[q]
}

// IsQuestion is the rule the "auto" channel policy uses to decide whether a
// message asks something: a question mark at the end, or an English or
// German question word or inverted verb at the start.
func IsQuestion(text string) bool {
	t := strings.TrimSpace(text)
	if strings.HasSuffix(t, "?") {
		return true
	}
	first, _, _ := strings.Cut(strings.ToLower(t), " ")
	return questionStarts[strings.TrimFunc(first, unicode.IsPunct)]
}

var questionStarts = map[string]bool{
	"what": true, "how": true, "why": true, "where": true, "when": true, "which": true, "who": true,
	"can": true, "could": true, "does": true, "do": true, "is": true, "are": true, "should": true,
	"was": true, "wie": true, "warum": true, "wieso": true, "wo": true, "wann": true, "welche": true,
	"welcher": true, "welches": true, "wer": true, "kann": true, "können": true, "gibt": true, "ist": true,
	"sind": true, "muss": true, "soll": true,
}
