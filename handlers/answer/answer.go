// Package answer answers community questions from the knowledge base. With
// no LLM it is extractive: the best matching passage, with its source. With
// an LLM (any OpenAI-compatible API, see adapters/openai) it asks the model
// to answer from the retrieved passages only, citing them, in the user's
// language, after redacting personal data and secrets; while the model
// fails, a circuit breaker keeps answers extractive. Either way, when
// nothing covers the question it says so honestly, offers a human and
// raises the escalation signal.
package answer

import (
	"context"
	"fmt"
	"log/slog"
	"strings"
	"time"
	"unicode"

	"github.com/einsatz/einsatz/bot"
	"github.com/einsatz/einsatz/bot/kb"
	"github.com/einsatz/einsatz/bot/qa"
	"github.com/einsatz/einsatz/handlers/knowledge"
)

// Searcher finds knowledge-base passages for a question.
type Searcher interface {
	Search(ctx context.Context, query string, k int) ([]knowledge.Hit, error)
}

// Handler answers questions. Build it with New.
type Handler struct {
	opts    Options
	persona string
	log     *slog.Logger
	breaker *breaker
}

// Options configure a Handler.
type Options struct {
	Search Searcher
	// Text returns a community-facing text ("dont_know", "greeting",
	// "llm_unavailable", "handoff_button") in a language.
	Text func(lang, key string) string
	// MinConfidence is the confidence (0..1, see confidence.go) the best
	// passage must reach to be offered as the answer (or, with an LLM, for
	// the model to be asked at all); default DefaultMinConfidence.
	MinConfidence float64
	// MinSimilarity, when > 0, also lets a passage whose embedding
	// similarity to the question reaches it support an answer (a paraphrase
	// that shares few words).
	MinSimilarity float64
	// MaxChars bounds the passage quoted; default 900.
	MaxChars int

	// LLM, when set, writes the answers from the retrieved passages; nil
	// keeps the extractive answers.
	LLM LLM
	// Escalator is told of every honest "I don't know"; nil = nobody.
	Escalator Escalator
	// Persona is the bot's role in the system message; {bot} is replaced
	// by BotName. Default DefaultPersona.
	Persona string
	BotName string // default "Einsatz"
	// K is how many passages are retrieved for the model; default 4.
	K int
	// Timeout is the total deadline of one LLM answer, retrieval and
	// retries included; default 20s.
	Timeout time.Duration
	// HistoryTokens bounds the thread history sent to the model, counted
	// as runes/4; default 1500.
	HistoryTokens int
	// NoRedact sends questions and history to the model as they are;
	// by default personal data and secrets are redacted first.
	NoRedact bool
	// BreakerFailures is how many failed LLM answers in a row open the
	// circuit (answers are extractive at once while it is open); default 3.
	BreakerFailures int
	// BreakerCooldown is how long the circuit stays open before one probe
	// may try the LLM again; default 30s.
	BreakerCooldown time.Duration
	// Clock drives the breaker's cooldown; default bot.SystemClock.
	Clock bot.Clock
	// Logger gets LLM failures and breaker changes (never message text);
	// default slog.Default().
	Logger *slog.Logger
}

// Result is an answer with what later features need to know about it.
type Result struct {
	Replies []bot.Reply
	// Question is the question as it may be stored and as the LLM saw it:
	// redacted unless NoRedact.
	Question  string
	Outcome   string
	Escalated bool // the Escalator accepted the "I don't know"
	// Confidence is the decision's confidence in its best passage, whose
	// source is Candidate ("" when the search found nothing), whether or
	// not it was good enough to answer with.
	Confidence float64
	Candidate  string
}

// New returns the answer handler.
func New(opts Options) *Handler {
	if opts.MinConfidence <= 0 {
		opts.MinConfidence = DefaultMinConfidence
	}
	if opts.MaxChars <= 0 {
		opts.MaxChars = 900
	}
	if opts.Persona == "" {
		opts.Persona = DefaultPersona
	}
	if opts.BotName == "" {
		opts.BotName = "Einsatz"
	}
	if opts.K <= 0 {
		opts.K = DefaultK
	}
	if opts.Timeout <= 0 {
		opts.Timeout = DefaultTimeout
	}
	if opts.HistoryTokens <= 0 {
		opts.HistoryTokens = DefaultHistoryTokens
	}
	if opts.BreakerFailures <= 0 {
		opts.BreakerFailures = DefaultBreakerFailures
	}
	if opts.BreakerCooldown <= 0 {
		opts.BreakerCooldown = DefaultBreakerCooldown
	}
	if opts.Logger == nil {
		opts.Logger = slog.Default()
	}
	if opts.Clock == nil {
		opts.Clock = bot.SystemClock{}
	}
	h := &Handler{opts: opts, log: opts.Logger, persona: strings.ReplaceAll(opts.Persona, "{bot}", opts.BotName)}
	h.breaker = newBreaker(opts.Clock, opts.BreakerFailures, opts.BreakerCooldown, func(from, to string) {
		h.log.Warn("answer: LLM circuit changed", "from", from, "to", to)
	})
	return h
}

// BreakerState is the LLM circuit's state: "closed", "open" or "half-open".
func (h *Handler) BreakerState() string { return h.breaker.State() }

// Handle answers the event's text (or the arguments of /ask).
func (h *Handler) Handle(ctx context.Context, ev *bot.Event) ([]bot.Reply, error) {
	res, err := h.Answer(ctx, ev)
	return res.Replies, err
}

// Answer is Handle with the details of the answer. An LLM failure is never
// an error (the answer degrades); a failing knowledge base is.
func (h *Handler) Answer(ctx context.Context, ev *bot.Event) (Result, error) {
	if ev.Kind == bot.KindInteraction {
		return Result{Outcome: qa.OutcomeIgnored}, nil // button clicks are for their own routes
	}
	q := strings.TrimSpace(ev.Text)
	if ev.Kind == bot.KindCommand {
		q = strings.TrimSpace(ev.Args)
	}
	if q == "" || isGreeting(q) {
		return Result{Outcome: qa.OutcomeGreeting, Question: q, Replies: []bot.Reply{{Text: h.opts.Text(ev.Lang, "greeting")}}}, nil
	}
	res := Result{Question: q}
	var redacted *string
	if !h.opts.NoRedact {
		res.Question = Redact(q)
		redacted = &res.Question
	}
	core := coreOf(q, redacted)
	if aboutYou(core) {
		core = "What is " + h.opts.BotName + "?"
		if ev.Lang == "de" {
			core = "Was ist " + h.opts.BotName + "?"
		}
	}
	if qs := Questions(core); len(qs) > 1 {
		err := h.answerMany(ctx, ev, qs, res.Question, &res)
		return res, err
	}
	if h.opts.LLM != nil {
		err := h.answerLLM(ctx, ev, core, res.Question, &res)
		return res, err
	}
	_, _, best, ok, err := h.decide(ctx, core, searchHits, ev.Lang, &res)
	if err != nil {
		return res, err
	}
	if !ok {
		h.dontKnow(ctx, ev, res.Question, &res)
		return res, nil
	}
	res.Outcome = qa.OutcomeExtractive
	res.Replies = []bot.Reply{{
		Text:    excerpt(best.Text, h.opts.MaxChars),
		Sources: []bot.Source{source(best.Chunk)},
	}}
	return res, nil
}

// decisionHits is the number of passages the answer decision weighs (the
// confidence model is fitted on the first three a search returns), and
// searchHits the number it looks at for them: the score gap of a passage
// is measured against the best one of another document among these, so
// three passages of one page that all mention the question's one common
// word do not count as a clear winner.
const (
	decisionHits = 3
	searchHits   = 10
)

// decide searches the knowledge base for the question's core and decides
// on its best passage (best). When the core is a question followed by
// statements ("can it run without openai? we dont want to send data out"),
// the question sentences alone are searched too, and the more confident
// of the two readings is taken: what follows a question may name its topic
// or only dilute it. Statements before the question are always kept: they
// often hold what the question refers to ("I don't like the theme. Can it
// be changed?"). It returns the reading taken (the core or its question sentences),
// with its hits, k at most, and records the decision in res.
func (h *Handler) decide(ctx context.Context, core string, k int, lang string, res *Result) (string, []knowledge.Hit, knowledge.Hit, bool, error) {
	q := core
	hits, err := h.opts.Search.Search(ctx, core, k)
	if err != nil {
		return q, nil, knowledge.Hit{}, false, fmt.Errorf("answer: search knowledge base: %w", err)
	}
	best, ok := h.best(core, hits, lang, res)
	if asked := askedSentences(core); asked != "" && asked != core {
		var r Result
		ahits, err := h.opts.Search.Search(ctx, asked, k)
		if err != nil {
			return q, nil, knowledge.Hit{}, false, fmt.Errorf("answer: search knowledge base: %w", err)
		}
		if abest, aok := h.best(asked, ahits, lang, &r); r.Candidate != "" && r.Confidence > res.Confidence {
			q, hits, best, ok = asked, ahits, abest, aok
			res.Confidence, res.Candidate = r.Confidence, r.Candidate
		}
	}
	return q, hits, best, ok, nil
}

// askedSentences is core without the statements after its last question
// when it starts with a question ("" when it does not).
func askedSentences(core string) string {
	ss := sentences(core)
	if len(ss) == 0 || !strings.HasSuffix(ss[0], "?") {
		return ""
	}
	last := 0
	for i, s := range ss {
		if strings.HasSuffix(s, "?") {
			last = i
		}
	}
	return strings.Join(ss[:last+1], " ")
}

// best is the passage to answer the question's core with: the most
// confident of the first decisionHits hits (see confidence.go), preferring
// one in the asker's language among those as confident, when its confidence
// reaches Options.MinConfidence or its embedding similarity
// Options.MinSimilarity. It records the candidate and its confidence in res
// either way.
func (h *Handler) best(core string, hits []knowledge.Hit, lang string, res *Result) (knowledge.Hit, bool) {
	var found knowledge.Hit
	conf, i0 := -1.0, -1
	for i, hit := range hits[:min(len(hits), decisionHits)] {
		c := confidence(features(core, hits, i))
		if i0 < 0 || c > conf+0.05 || (hit.Lang == lang && found.Lang != lang && c >= conf-0.05) {
			found, conf, i0 = hit, c, i
		}
	}
	if i0 < 0 {
		return found, false
	}
	res.Confidence, res.Candidate = conf, found.Source
	ok := conf >= h.opts.MinConfidence || (h.opts.MinSimilarity > 0 && found.Similarity >= h.opts.MinSimilarity)
	return found, ok
}

func source(c kb.Chunk) bot.Source {
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

// aboutYou reports whether a question asks the bot what it is or does ("hey
// bot, what can you do?", "Wer bist du?"): it names nothing to search for
// but the bot, so it is searched as "What is <BotName>?" ("Was ist …?").
func aboutYou(core string) bool {
	l := strings.ToLower(strings.TrimSpace(core))
	l = strings.TrimRightFunc(l, func(r rune) bool { return unicode.IsPunct(r) || unicode.IsSpace(r) })
	for _, p := range []string{"hey bot,", "hi bot,", "hallo bot,", "bot,", "hey bot", "hi bot", "hallo bot"} {
		if rest, ok := strings.CutPrefix(l, p); ok {
			l = strings.TrimSpace(rest)
			break
		}
	}
	return aboutYouQuestions[l]
}

var aboutYouQuestions = map[string]bool{
	"what can you do": true, "what do you do": true, "who are you": true, "what are you": true,
	"what can the bot do": true, "what does the bot do": true, "what is this bot": true,
	"was kannst du": true, "was machst du": true, "wer bist du": true, "was bist du": true,
	"was kann der bot": true, "was macht der bot": true, "was ist das für ein bot": true,
}

var greetings = map[string]bool{
	"hi": true, "hello": true, "hey": true, "hallo": true, "moin": true, "servus": true,
	"good morning": true, "guten morgen": true, "guten tag": true, "hi there": true,
}

func isGreeting(q string) bool {
	q = strings.ToLower(strings.TrimFunc(q, func(r rune) bool { return unicode.IsPunct(r) || unicode.IsSpace(r) }))
	return greetings[q]
}
