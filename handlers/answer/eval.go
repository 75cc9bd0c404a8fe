package answer

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"slices"
	"strings"

	"github.com/einsatz/einsatz/bot"
	"github.com/einsatz/einsatz/bot/qa"
)

// Case is one line of an answer evaluation set (see testdata/README.md):
// a question, its language, and the document that answers it, or "" when
// the knowledge base does not cover it and the right response is "I don't
// know". Lines of the realistic-message set (testdata/messages.jsonl) are
// read too: their "text" is the question, and only those whose reading is
// "question" are evaluated.
type Case struct {
	Q      string `json:"q"`
	Text   string `json:"text"` // the question, in the realistic-message set
	Lang   string `json:"lang"`
	Expect string `json:"expect"`
	// Reading and Response label the realistic-message set; a line with a
	// reading other than "question" is skipped.
	Reading  string `json:"reading"`
	Response string `json:"response"`
	Note     string `json:"note"`
}

// Covered reports whether the knowledge base answers the case.
func (c Case) Covered() bool { return c.Expect != "" }

// matches reports whether an answer from source is the expected document.
func (c Case) matches(source string) bool {
	return c.Expect != "" && (source == c.Expect || strings.HasSuffix(source, "/"+c.Expect))
}

// ReadCases reads an evaluation set of JSON lines. Errors name the line.
func ReadCases(r io.Reader) ([]Case, error) {
	var cases []Case
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 0, 64*1024), 1<<20)
	for n := 1; sc.Scan(); n++ {
		line := bytes.TrimSpace(sc.Bytes())
		if len(line) == 0 {
			continue
		}
		var c Case
		dec := json.NewDecoder(bytes.NewReader(line))
		dec.DisallowUnknownFields()
		if err := dec.Decode(&c); err != nil {
			return nil, fmt.Errorf("line %d: %w", n, err)
		}
		if c.Q == "" {
			c.Q = c.Text
		}
		c.Q = strings.TrimSpace(c.Q)
		c.Expect = strings.Trim(strings.TrimSpace(c.Expect), "/")
		if c.Q == "" {
			return nil, fmt.Errorf("line %d: missing \"q\"", n)
		}
		if c.Reading != "" && c.Reading != "question" {
			continue
		}
		cases = append(cases, c)
	}
	if err := sc.Err(); err != nil {
		return nil, err
	}
	return cases, nil
}

// Tally counts the responses to one language's cases.
type Tally struct {
	Covered, Correct, Wrong, Abstain int // covered questions: right page, wrong page, "I don't know"
	Uncovered, UAbstain, UWrong      int // uncovered questions: "I don't know", answered anyway
}

// Point is one threshold of the precision–coverage curve: of all cases,
// how many would be answered at this min_confidence (Answered), how many of
// those from the right page (Precision), the share of covered questions
// answered right (Coverage) and of uncovered ones declined (Abstain).
type Point struct {
	Threshold, Precision, Coverage, Abstain float64
	Answered                                int
}

// Outcome is what one case got.
type Outcome struct {
	Case       Case
	Source     string // the page answered from, "" for "I don't know"
	Candidate  string // the best passage's page, answered from or not
	Confidence float64
}

// Report is the result of an evaluation.
type Report struct {
	ByLang   map[string]*Tally
	Curve    []Point
	Outcomes []Outcome
}

// Eval runs every case through the handler's answer path, as a message in
// its own conversation, and tallies the responses.
func Eval(ctx context.Context, h *Handler, cases []Case) (Report, error) {
	rep := Report{ByLang: map[string]*Tally{}}
	for _, c := range cases {
		res, err := h.Answer(ctx, &bot.Event{Kind: bot.KindMessage, Text: c.Q, Lang: c.Lang, Platform: "eval", ChannelID: "eval", ThreadID: c.Q})
		if err != nil {
			return Report{}, fmt.Errorf("answer %q: %w", c.Q, err)
		}
		o := Outcome{Case: c, Candidate: res.Candidate, Confidence: res.Confidence}
		if res.Outcome != qa.OutcomeDontKnow && res.Outcome != qa.OutcomeGreeting && len(res.Replies) > 0 && len(res.Replies[0].Sources) > 0 {
			o.Source = res.Replies[0].Sources[0].Path
		}
		rep.Outcomes = append(rep.Outcomes, o)
		t := rep.ByLang[c.Lang]
		if t == nil {
			t = &Tally{}
			rep.ByLang[c.Lang] = t
		}
		switch {
		case c.Covered() && o.Source == "":
			t.Covered++
			t.Abstain++
		case c.Covered() && c.matches(o.Source):
			t.Covered++
			t.Correct++
		case c.Covered():
			t.Covered++
			t.Wrong++
		case o.Source == "":
			t.Uncovered++
			t.UAbstain++
		default:
			t.Uncovered++
			t.UWrong++
		}
	}
	rep.Curve = curve(rep.Outcomes)
	return rep, nil
}

// curve is the precision–coverage curve over thresholds 0, 0.05 … 0.95.
func curve(outs []Outcome) []Point {
	var pts []Point
	covered, uncovered := 0, 0
	for _, o := range outs {
		if o.Case.Covered() {
			covered++
		} else {
			uncovered++
		}
	}
	for i := 0; i < 20; i++ {
		p := Point{Threshold: float64(i) / 20}
		right, declined := 0, 0
		for _, o := range outs {
			answered := o.Candidate != "" && o.Confidence >= p.Threshold
			if answered {
				p.Answered++
				if o.Case.matches(o.Candidate) {
					right++
				}
			} else if !o.Case.Covered() {
				declined++
			}
		}
		p.Precision = ratio(right, p.Answered)
		p.Coverage = ratio(right, covered)
		p.Abstain = ratio(declined, uncovered)
		pts = append(pts, p)
	}
	return pts
}

func ratio(a, b int) float64 {
	if b == 0 {
		return 0
	}
	return float64(a) / float64(b)
}

// Write prints the report: a table per language, then the curve.
func (r Report) Write(w io.Writer) error {
	var b strings.Builder
	langs := make([]string, 0, len(r.ByLang))
	for l := range r.ByLang {
		langs = append(langs, l)
	}
	slices.Sort(langs)
	fmt.Fprintf(&b, "%-5s %8s %8s %8s %8s   %9s %8s %8s\n", "lang", "covered", "correct", "wrong", "abstain", "uncovered", "abstain", "wrong")
	for _, l := range langs {
		t := r.ByLang[l]
		fmt.Fprintf(&b, "%-5s %8d %7.0f%% %7.0f%% %7.0f%%   %9d %7.0f%% %7.0f%%\n", l, t.Covered,
			100*ratio(t.Correct, t.Covered), 100*ratio(t.Wrong, t.Covered), 100*ratio(t.Abstain, t.Covered),
			t.Uncovered, 100*ratio(t.UAbstain, t.Uncovered), 100*ratio(t.UWrong, t.Uncovered))
	}
	b.WriteString("\nmin_confidence  answered  precision  covered-right  uncovered-abstain\n")
	for _, p := range r.Curve {
		fmt.Fprintf(&b, "%14.2f  %8d  %8.0f%%  %12.0f%%  %16.0f%%\n", p.Threshold, p.Answered, 100*p.Precision, 100*p.Coverage, 100*p.Abstain)
	}
	_, err := io.WriteString(w, b.String())
	return err
}
