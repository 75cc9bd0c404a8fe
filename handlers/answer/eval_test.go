package answer

import (
	"context"
	"fmt"
	"github.com/einsatz/einsatz/bot/qa"
	"os"
	"strings"
	"testing"

	"github.com/einsatz/einsatz/bot"
	"github.com/einsatz/einsatz/bot/lang/scan/scantest"
	"github.com/einsatz/einsatz/handlers/knowledge"
)

// devSet is a development set and the knowledge base it is asked against;
// frozen sets are evaluation only: nothing is fitted on any of their lines.
type devSet struct {
	file, kb string
	frozen   bool
	// pairs: the set's questions come two per FAQ entry on neighbouring
	// lines, and its halves split by entry, so that no page has a question
	// in both.
	pairs bool
	// The floors TestEvalDevSets asserts on both halves: what the model
	// reaches today less a margin, a guard against regressions. The goals of
	// issue 15 (≥ 85% right, ≤ 5% wrong, ≥ 90% abstain) are not all reached
	// yet; see testdata/README.md.
	minCorrect, maxWrong, minAbstain float64
}

var devSets = []devSet{
	{file: "../../testdata/answers/example-kb.jsonl", kb: "../../knowledge", minCorrect: 0.50, maxWrong: 0.12, minAbstain: 0.85},
	{file: "../../testdata/messages.jsonl", kb: "../../knowledge", frozen: true, minCorrect: 0.60, maxWrong: 0.12, minAbstain: 0.85},
	{file: "../../testdata/answers/syncthing.jsonl", kb: "../../testdata/answers/syncthing-kb", minCorrect: 0.60, maxWrong: 0.05, minAbstain: 0.70},
	{file: "../../testdata/answers/gofaq.jsonl", kb: "../../testdata/answers/gofaq-kb", pairs: true, minCorrect: 0.35, maxWrong: 0.10, minAbstain: 0.80},
	{file: "../../testdata/answers/cwa.jsonl", kb: "../../testdata/answers/cwa-kb", pairs: true, minCorrect: 0.30, maxWrong: 0.10, minAbstain: 0.80},
}

func loadIndex(tb testing.TB, dir string) *knowledge.Index {
	tb.Helper()
	chunks, err := knowledge.LoadFS(os.DirFS(dir), ".")
	if err != nil {
		tb.Fatal(err)
	}
	ix, err := knowledge.NewIndex(chunks)
	if err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(func() { ix.Close() })
	return ix
}

func loadCases(tb testing.TB, file string) []Case {
	tb.Helper()
	f, err := os.Open(file)
	if err != nil {
		tb.Fatal(err)
	}
	defer f.Close()
	cases, err := ReadCases(f)
	if err != nil {
		tb.Fatalf("%s: %v", file, err)
	}
	return cases
}

// split is the training half (even lines, or even pairs of lines) or the
// held-out half (odd).
func (ds devSet) split(cases []Case, train bool) []Case {
	var out []Case
	for i, c := range cases {
		if ds.pairs {
			i /= 2
		}
		if (i%2 == 0) == train {
			out = append(out, c)
		}
	}
	return out
}

func TestReadCases(t *testing.T) {
	in := `{"q": "What is Einsatz?", "lang": "en", "expect": "/en/what-is-einsatz.md"}

{"q": "Teams?", "lang": "en", "expect": ""}
{"text": "hi", "lang": "en", "reading": "greeting", "response": "greeting"}
{"text": "Was ist Einsatz?", "lang": "de", "reading": "question", "response": "answer", "expect": "de/was-ist-einsatz.md"}`
	cases, err := ReadCases(strings.NewReader(in))
	if err != nil {
		t.Fatal(err)
	}
	if len(cases) != 3 || cases[0].Expect != "en/what-is-einsatz.md" || cases[1].Covered() || cases[2].Q != "Was ist Einsatz?" {
		t.Fatalf("cases = %+v", cases)
	}
	for _, bad := range []string{`{"q": ""}`, `{"q": "x", "extra": 1}`, `not json`} {
		if _, err := ReadCases(strings.NewReader(bad)); err == nil || !strings.Contains(err.Error(), "line 1") {
			t.Errorf("%s: err = %v, want one naming line 1", bad, err)
		}
	}
}

// TestEvalDevSets runs eval answers on every development set and asserts
// the goals of issue 15 on the held-out halves and on the realistic
// messages (which nothing is fitted on but half of).
func TestEvalDevSets(t *testing.T) {
	var heldOut []Outcome
	defer func() { logPooled(t, "all held-out halves", heldOut) }()
	for _, ds := range devSets {
		ix := loadIndex(t, ds.kb)
		h := New(Options{Search: ix, Text: text})
		for _, half := range []string{"all", "held-out"} {
			cases := loadCases(t, ds.file)
			if half == "held-out" && !ds.frozen {
				cases = ds.split(cases, false) // a frozen set is held out whole
			}
			rep, err := Eval(context.Background(), h, cases)
			if err != nil {
				t.Fatal(err)
			}
			if half == "held-out" {
				heldOut = append(heldOut, rep.Outcomes...)
			}
			var b strings.Builder
			rep.Write(&b)
			t.Logf("%s (%s):\n%s", ds.file, half, b.String())
			if testing.Verbose() && half == "all" {
				for _, o := range rep.Outcomes {
					if (o.Case.Covered() && !o.Case.matches(o.Source)) || (!o.Case.Covered() && o.Source != "") {
						t.Logf("  miss %q want %q got %q (cand %s %.2f)", o.Case.Q, o.Case.Expect, o.Source, o.Candidate, o.Confidence)
					}
				}
			}
			var tot Tally
			for _, tl := range rep.ByLang {
				tot.Covered += tl.Covered
				tot.Correct += tl.Correct
				tot.Wrong += tl.Wrong
				tot.Uncovered += tl.Uncovered
				tot.UAbstain += tl.UAbstain
			}
			if r := ratio(tot.Correct, tot.Covered); r < ds.minCorrect {
				t.Errorf("%s (%s): covered right %.0f%%, want ≥ %.0f%%", ds.file, half, 100*r, 100*ds.minCorrect)
			}
			if r := ratio(tot.Wrong, tot.Covered); r > ds.maxWrong {
				t.Errorf("%s (%s): covered wrong %.0f%%, want ≤ %.0f%%", ds.file, half, 100*r, 100*ds.maxWrong)
			}
			if r := ratio(tot.UAbstain, tot.Uncovered); r < ds.minAbstain {
				t.Errorf("%s (%s): uncovered abstain %.0f%%, want ≥ %.0f%%", ds.file, half, 100*r, 100*ds.minAbstain)
			}
		}
	}
}

// logPooled logs, over outcomes of several sets (the held-out halves, or
// the cross-validated training folds the default threshold is chosen on),
// the covered-right, covered-wrong and uncovered-abstain rates a
// min_confidence would give.
func logPooled(t *testing.T, what string, outs []Outcome) {
	var b strings.Builder
	fmt.Fprintf(&b, "%s pooled (%d questions):\nmin_confidence  covered-right  covered-wrong  uncovered-abstain\n", what, len(outs))
	for thr := 0.40; thr < 0.86; thr += 0.05 {
		var cov, right, wrong, unc, abst int
		for _, o := range outs {
			answered := o.Candidate != "" && o.Confidence >= thr
			if o.Case.Covered() {
				cov++
				switch {
				case answered && o.Case.matches(o.Candidate):
					right++
				case answered:
					wrong++
				}
			} else {
				unc++
				if !answered {
					abst++
				}
			}
		}
		fmt.Fprintf(&b, "%14.2f  %12.0f%%  %12.0f%%  %16.0f%%\n", thr, 100*ratio(right, cov), 100*ratio(wrong, cov), 100*ratio(abst, unc))
	}
	t.Log(b.String())
}

// TestTrainConfidence fits confidenceWeights on the training halves of the
// development sets that are not frozen (testdata/messages.jsonl is only
// evaluated): every one of the top three passages of a question is
// an example, labelled 1 when it is from the expected document.
func TestTrainConfidence(t *testing.T) {
	if os.Getenv("EINSATZ_TRAIN_CONFIDENCE") != "1" {
		t.Skip("set EINSATZ_TRAIN_CONFIDENCE=1 to fit the answer confidence")
	}
	var xs [][]float64
	var ys []float64
	for _, ds := range devSets {
		if ds.frozen {
			continue
		}
		ix := loadIndex(t, ds.kb)
		h := New(Options{Search: ix, Text: text})
		for _, c := range ds.split(loadCases(t, ds.file), true) {
			// The reading the decision takes (see Handler.decide).
			var r Result
			core, hits, _, _, err := h.decide(context.Background(), Core(c.Q), searchHits, c.Lang, &r)
			if err != nil {
				t.Fatal(err)
			}
			for i, h := range hits[:min(len(hits), decisionHits)] {
				f := features(core, hits, i)
				xs = append(xs, f[:])
				y := 0.0
				if c.matches(h.Source) {
					y = 1
				}
				ys = append(ys, y)
			}
		}
	}
	w := scantest.FitLogistic(xs, ys, cBias, 0.003, 20000, 0.5)
	t.Logf("%d examples\n%s", len(xs), scantest.GoWeights("confidenceWeights", "cNumFeatures", w, cFeatureNames[:]))
}

// TestCrossValidateConfidence is how the default min_confidence is chosen
// without looking at the held-out halves: the training halves are split in
// two folds (by line, or by pair of lines), the weights fitted on one fold
// and the other scored, both ways; it logs the pooled curve of the scored
// folds.
func TestCrossValidateConfidence(t *testing.T) {
	if os.Getenv("EINSATZ_TRAIN_CONFIDENCE") != "1" {
		t.Skip("set EINSATZ_TRAIN_CONFIDENCE=1 to cross-validate the answer confidence")
	}
	fitted := confidenceWeights
	defer func() { confidenceWeights = fitted }()
	type set struct {
		h     *Handler
		folds [2][]Case
	}
	var sets []set
	for _, ds := range devSets {
		if ds.frozen {
			continue
		}
		s := set{h: New(Options{Search: loadIndex(t, ds.kb), Text: text})}
		for i, c := range ds.split(loadCases(t, ds.file), true) {
			if ds.pairs {
				i /= 2
			}
			s.folds[i%2] = append(s.folds[i%2], c)
		}
		sets = append(sets, s)
	}
	var outs []Outcome
	for k := range 2 {
		confidenceWeights = fitted // the readings the examples are taken in
		var xs [][]float64
		var ys []float64
		for _, s := range sets {
			for _, c := range s.folds[1-k] {
				var r Result
				core, hits, _, _, err := s.h.decide(context.Background(), Core(c.Q), searchHits, c.Lang, &r)
				if err != nil {
					t.Fatal(err)
				}
				for i, h := range hits[:min(len(hits), decisionHits)] {
					f := features(core, hits, i)
					xs = append(xs, f[:])
					y := 0.0
					if c.matches(h.Source) {
						y = 1
					}
					ys = append(ys, y)
				}
			}
		}
		copy(confidenceWeights[:], scantest.FitLogistic(xs, ys, cBias, 0.003, 20000, 0.5))
		for _, s := range sets {
			rep, err := Eval(context.Background(), s.h, s.folds[k])
			if err != nil {
				t.Fatal(err)
			}
			outs = append(outs, rep.Outcomes...)
		}
	}
	logPooled(t, "the training halves, 2-fold cross-validated", outs)
}

// TestAnswersAroundSmallTalk: an introduction, a filler word or contact
// details around a question do not make the bot abstain, and a question to
// the bot about itself is answered from the page about it (issue 15).
func TestAnswersAroundSmallTalk(t *testing.T) {
	h := New(Options{Search: loadIndex(t, "../../knowledge"), Text: text})
	for _, tt := range []struct{ q, lang, want string }{
		{"Hi everyone! I just joined and I run a small gaming Discord. What is Einsatz exactly?", "en", "en/what-is-einsatz.md"},
		{"What is Einsatz? My mail is jane.doe@example.com", "en", "en/what-is-einsatz.md"},
		{"Wie installiere ich Einsatz auf meinem Server?", "de", "de/erste-schritte.md"},
		{"How do I install Einsatz on my server?", "en", "en/getting-started.md"},
		// asked of the bot itself: "what is Einsatz?"
		{"hey bot, what can you do?", "en", "en/what-is-einsatz.md"},
		{"Wer bist du?", "de", "de/was-ist-einsatz.md"},
	} {
		res, err := h.Answer(context.Background(), &bot.Event{Kind: bot.KindMessage, Text: tt.q, Lang: tt.lang})
		if err != nil {
			t.Fatal(err)
		}
		if res.Outcome != qa.OutcomeExtractive || len(res.Replies) != 1 || len(res.Replies[0].Sources) != 1 || res.Replies[0].Sources[0].Path != tt.want {
			t.Errorf("%q: outcome %s, candidate %s (%.2f), want an answer from %s", tt.q, res.Outcome, res.Candidate, res.Confidence, tt.want)
		}
	}
}
