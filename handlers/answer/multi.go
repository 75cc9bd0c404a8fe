package answer

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"unicode"

	"github.com/einsatz/einsatz/bot"
	"github.com/einsatz/einsatz/bot/qa"
	"github.com/einsatz/einsatz/handlers/knowledge"
)

// maxQuestions bounds the questions one message is answered as: more are
// asked together with the last.
const maxQuestions = 3

// Questions splits a message's core (see Core) into the questions it asks:
// its sentences that end in "?", and clauses joined by "and", "und",
// "also" or "außerdem" that each read as a question ("What is Einsatz and
// does it need an LLM?"). A sentence that asks nothing is context and goes
// with the question before it (after the first, whose start the confidence
// features read). A core with one question is returned as it is, so such a
// message is answered exactly as before.
func Questions(core string) []string {
	var qs []string
	var pending []string // context before the first question
	for _, s := range sentences(core) {
		cl := clauses(s)
		if len(cl) < 2 && !strings.HasSuffix(s, "?") {
			if len(qs) == 0 {
				pending = append(pending, s)
			} else {
				qs[len(qs)-1] += " " + s
			}
			continue
		}
		for _, q := range cl {
			if len(qs) > 0 && followUp(q) {
				qs[len(qs)-1] += " " + q // "are they cheaper?" is about the question before
				continue
			}
			qs = append(qs, q)
		}
	}
	if len(qs) < 2 {
		return []string{core}
	}
	if len(pending) > 0 {
		qs[0] += " " + strings.Join(pending, " ")
	}
	if len(qs) > maxQuestions {
		qs = append(qs[:maxQuestions-1], strings.Join(qs[maxQuestions-1:], " "))
	}
	return qs
}

// clauses splits a sentence at the connectors before a clause that reads as
// a question, when the part before reads as one too; each part is trimmed
// of its leading connector or greeting and ends in "?".
func clauses(s string) []string {
	words := strings.Fields(s)
	start := lead(words)
	// The question may follow a short preamble ("quick q: how do I …").
	found := false
	for i := start; i < len(words) && i <= start+maxPreamble; i++ {
		if asks(words[i:]) {
			start, found = i, true
			break
		}
	}
	if !found {
		return []string{strings.Join(words[lead(words):], " ")}
	}
	var out []string
	from := start
	for i := start + 1; i < len(words)-1; i++ {
		if !connectors[bare(words[i])] || i-from < 2 {
			continue
		}
		next := i + 1 // "and also does it …": connectors in a row
		for next < len(words)-1 && connectors[bare(words[next])] {
			next++
		}
		if asks(words[next:]) {
			out = append(out, question(words[from:i]))
			from, i = next, next
		}
	}
	return append(out, question(words[from:]))
}

// followUp reports whether a question only follows up on the one before:
// a short question whose subject is a pronoun ("are they cheaper?", "is it
// free?", "geht das?") names nothing to search for on its own.
func followUp(q string) bool {
	words := strings.Fields(q)
	return len(words) >= 2 && len(words) <= maxFollowUp && auxWords[bare(words[0])] && pronouns[bare(words[1])]
}

// maxFollowUp is the most words a follow-up question has.
const maxFollowUp = 3

var pronouns = map[string]bool{
	"it": true, "they": true, "that": true, "this": true, "these": true, "those": true,
	"es": true, "sie": true, "das": true, "dies": true, "er": true,
}

// maxPreamble is how many words before a question clauses looks past
// ("hey there 👋 quick q:").
const maxPreamble = 6

// lead is the number of leading connectors and greetings ("hey,", "and",
// "außerdem") before what a sentence says.
func lead(words []string) int {
	i := 0
	for i < len(words)-1 && (connectors[bare(words[i])] || greetingWords[bare(words[i])] || bare(words[i]) == "oh") {
		i++
	}
	return i
}

func question(words []string) string {
	q := strings.TrimRightFunc(strings.Join(words, " "), func(r rune) bool { return r == ',' || r == ';' || unicode.IsSpace(r) })
	if !strings.HasSuffix(q, "?") {
		q += "?"
	}
	r := []rune(q) // a clause shown on its own line starts as a sentence
	r[0] = unicode.ToUpper(r[0])
	return string(r)
}

func bare(w string) string {
	return strings.ToLower(strings.TrimFunc(w, func(r rune) bool { return unicode.IsPunct(r) }))
}

// asks reports whether words read as a question: a question word, or an
// auxiliary verb followed by its subject ("can I", "gibt es").
func asks(words []string) bool {
	if len(words) < 2 {
		return false
	}
	w := bare(words[0])
	return whWords[w] || (auxWords[w] && subjects[bare(words[1])])
}

var connectors = map[string]bool{"and": true, "und": true, "also": true, "außerdem": true, "ausserdem": true, "plus": true}

var whWords = map[string]bool{
	"how": true, "what": true, "what's": true, "whats": true, "where": true, "why": true, "when": true, "which": true, "who": true,
	"wie": true, "was": true, "wo": true, "wohin": true, "woher": true, "warum": true, "wieso": true, "weshalb": true, "wann": true,
	"welche": true, "welcher": true, "welches": true, "welchen": true, "wer": true, "womit": true, "wofür": true, "worüber": true,
}

var auxWords = map[string]bool{
	"can": true, "could": true, "do": true, "does": true, "did": true, "is": true, "are": true, "will": true, "would": true,
	"should": true, "may": true, "must": true, "has": true, "have": true,
	"kann": true, "können": true, "muss": true, "müssen": true, "gibt": true, "ist": true, "sind": true, "hat": true,
	"haben": true, "soll": true, "sollte": true, "darf": true, "läuft": true, "unterstützt": true, "braucht": true,
	"brauche": true, "geht": true, "funktioniert": true, "wird": true, "werden": true,
}

var subjects = map[string]bool{
	"i": true, "it": true, "you": true, "we": true, "they": true, "einsatz": true, "the": true, "this": true, "that": true,
	"there": true, "my": true, "your": true, "a": true, "an": true, "he": true, "she": true,
	"ich": true, "es": true, "man": true, "du": true, "ihr": true, "wir": true, "sie": true, "der": true, "die": true,
	"das": true, "den": true, "dem": true, "mein": true, "meine": true, "ein": true, "eine": true,
}

// asked is one question of several that the knowledge base answers, with
// its passages.
type asked struct {
	q    string
	best knowledge.Hit
	hits []knowledge.Hit
}

// answerMany answers a message of several questions in one reply: each is
// decided as a question on its own would be; the answered ones are
// answered together (by the model in one call, when there is one), and
// the others get a line saying the bot does not know about them, with one
// escalation for the message.
func (h *Handler) answerMany(ctx context.Context, ev *bot.Event, qs []string, redacted string, res *Result) error {
	k := searchHits
	if h.opts.LLM != nil {
		var cancel context.CancelFunc
		ctx, cancel = context.WithTimeout(ctx, h.opts.Timeout)
		defer cancel()
		k = max(h.opts.K, searchHits)
	}
	var known []asked
	var unknown []string
	for i, q := range qs {
		hits, err := h.opts.Search.Search(ctx, q, k)
		if err != nil {
			return fmt.Errorf("answer: search knowledge base: %w", err)
		}
		var r Result
		best, ok := h.best(q, hits, ev.Lang, &r)
		if i == 0 { // what the Result reports: the decision on the first question
			res.Confidence, res.Candidate = r.Confidence, r.Candidate
		}
		if !ok {
			unknown = append(unknown, q)
			continue
		}
		known = append(known, asked{q: q, best: best, hits: hits[:min(len(hits), h.opts.K)]})
	}
	if len(known) > 0 && h.opts.LLM != nil {
		unknown = append(unknown, h.manyLLM(ctx, ev, known, res)...)
	} else if len(known) > 0 {
		h.manyExtractive(ev, known, "", qa.OutcomeExtractive, res)
	}
	if len(res.Replies) == 0 {
		h.dontKnow(ctx, ev, redacted, res)
		return nil
	}
	if len(unknown) > 0 {
		h.dontKnowAbout(ctx, ev, unknown, redacted, res)
	}
	return nil
}

// manyExtractive answers each question with its best passage, shortened so
// the reply stays short; a passage that answers several questions is
// quoted once, under all of them.
func (h *Handler) manyExtractive(ev *bot.Event, known []asked, note, outcome string, res *Result) {
	type group struct {
		qs  []string
		hit knowledge.Hit
	}
	var groups []*group
	byPassage := map[string]*group{}
	for _, a := range known {
		key := a.best.Source + "#" + a.best.Heading + "#" + a.best.Text
		if g, ok := byPassage[key]; ok {
			g.qs = append(g.qs, a.q)
			continue
		}
		g := &group{qs: []string{a.q}, hit: a.best}
		byPassage[key] = g
		groups = append(groups, g)
	}
	limit := max(h.opts.MaxChars/len(groups), 300)
	var parts []string
	if note != "" {
		parts = append(parts, note)
	}
	var sources []bot.Source
	for _, g := range groups {
		parts = append(parts, strings.Join(g.qs, "\n")+"\n"+excerpt(g.hit.Text, limit))
		sources = appendSource(sources, source(g.hit.Chunk))
	}
	res.Outcome = outcome
	res.Replies = []bot.Reply{{Text: strings.Join(parts, "\n\n"), Sources: sources}}
}

func appendSource(sources []bot.Source, s bot.Source) []bot.Source {
	for _, o := range sources {
		if o == s {
			return sources
		}
	}
	return append(sources, s)
}

// manyLLM asks the model to answer the questions from all their passages in
// one call, and returns the questions it said the passages do not cover
// (when its paragraphs can be told apart). When the model fails, or its
// answer cannot be posted, the answers are extractive, as for one question.
func (h *Handler) manyLLM(ctx context.Context, ev *bot.Event, known []asked, res *Result) (notCovered []string) {
	var hits []knowledge.Hit
	seen := map[string]bool{}
	var qs []string
	for _, a := range known {
		qs = append(qs, a.q)
		for _, hit := range a.hits {
			key := hit.ID + "#" + hit.Source + "#" + hit.Heading + "#" + hit.Text
			if !seen[key] {
				seen[key] = true
				hits = append(hits, hit)
			}
		}
	}
	text, err := h.complete(ctx, h.promptMany(ev, qs, hits))
	if err != nil {
		if errors.Is(err, errCircuitOpen) {
			h.log.Debug("answer: LLM circuit open, answering extractively")
		} else {
			h.log.Warn("answer: LLM failed, answering extractively", "err", err, "breaker", h.breaker.State())
		}
		h.manyExtractive(ev, known, h.opts.Text(ev.Lang, TextLLMUnavailable), qa.OutcomeDegraded, res)
		return nil
	}
	// One paragraph a question: the model's marker in one says that
	// question is not covered, and the marker is never shown.
	paras := strings.Split(strings.TrimSpace(text), "\n\n")
	var keep []string
	for i, p := range paras {
		if !HasSentinel(p) {
			if strings.TrimSpace(p) != "" {
				keep = append(keep, p)
			}
			continue
		}
		if len(paras) == len(known) {
			notCovered = append(notCovered, known[i].q)
		}
		if rest := StripSentinel(p); rest != "" && len(paras) != len(known) {
			keep = append(keep, rest)
		}
	}
	if len(keep) == 0 {
		return qs // nothing covered: the caller says it does not know
	}
	text, sources, ok := cite(strings.Join(keep, "\n\n"), hits)
	if !ok || !h.supported(text, hits) {
		h.log.Debug("answer: the model's answer to several questions cannot be posted, answering extractively")
		h.manyExtractive(ev, known, "", qa.OutcomeExtractive, res)
		return nil
	}
	res.Outcome = qa.OutcomeAnswered
	res.Replies = []bot.Reply{{Text: text, Sources: sources}}
	return notCovered
}

// promptMany is Prompt for several questions: the passages of all of them,
// the questions numbered, and the request to answer each in turn.
func (h *Handler) promptMany(ev *bot.Event, qs []string, hits []knowledge.Hit) []Message {
	var b strings.Builder
	for i, q := range qs {
		fmt.Fprintf(&b, "%d. %s\n", i+1, q)
	}
	msgs := h.Prompt(ev, strings.TrimSpace(b.String()), hits)
	last := &msgs[len(msgs)-1]
	last.Content += fmt.Sprintf("\n\nThe <question> section holds %d numbered questions. Answer each of them, in their order, "+
		"in its own paragraph separated by a blank line; for a question the passages do not answer, write exactly %s as its paragraph.",
		len(qs), Sentinel)
	return msgs
}

// dontKnowAbout adds to the reply a line for each question the bot cannot
// answer, offers a human and raises the escalation signal once for the
// message, as dontKnow does.
func (h *Handler) dontKnowAbout(ctx context.Context, ev *bot.Event, unknown []string, redacted string, res *Result) {
	r := &res.Replies[0]
	for _, q := range unknown {
		r.Text += "\n\n" + strings.ReplaceAll(h.opts.Text(ev.Lang, TextDontKnowPart), "{question}", q)
	}
	r.Buttons = append(r.Buttons, bot.Button{Label: h.opts.Text(ev.Lang, TextHandoffButton), Action: ActionHandoff})
	if h.opts.Escalator == nil {
		return
	}
	if err := h.opts.Escalator.Escalate(context.WithoutCancel(ctx), ev, ReasonDontKnow, summary(redacted)); err != nil {
		h.log.Warn("answer: escalation failed", "err", err)
		return
	}
	res.Escalated = true
}
