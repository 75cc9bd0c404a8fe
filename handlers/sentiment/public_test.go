package sentiment

import (
	"bufio"
	"encoding/json"
	"os"
	"testing"

	"github.com/jonreiter/govader"
)

// publicSentiment is the development set from other people's words in
// testdata/public at the repository root: Stack Overflow posts (developers
// asking and answering about their tools, the closest licence-clean thing to
// product chat we found) with the Senti4SD gold labels. Source, licence and
// labelling: testdata/public/README.md and docs/sentiment.md.
const publicSentiment = "../../testdata/public/sentiment_so.jsonl"

// TestPublicDevSentiment measures the analyzer, as shipped and with the
// language detected as in production, on publicSentiment, which nothing was
// fitted or tuned on, next to govader (threshold 0.05) on the same texts. The
// floors are the figures measured when the set was added, less a margin, so
// the test catches regressions; run with -v for the table.
func TestPublicDevSentiment(t *testing.T) {
	f, err := os.Open(publicSentiment)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	var gold, ours, vader []int
	a := New()
	gv := govader.NewSentimentIntensityAnalyzer()
	sc := bufio.NewScanner(f)
	sc.Buffer(make([]byte, 1<<20), 1<<20)
	for n := 1; sc.Scan(); n++ {
		var it struct {
			Text  string `json:"text"`
			Lang  string `json:"lang"`
			Label string `json:"label"`
			Note  string `json:"note"`
		}
		if err := json.Unmarshal(sc.Bytes(), &it); err != nil {
			t.Fatalf("%s:%d: %v", publicSentiment, n, err)
		}
		c := classIndex(it.Label)
		if c < 0 || it.Text == "" {
			t.Fatalf("%s:%d: label %q, text %q", publicSentiment, n, it.Label, it.Text)
		}
		gold = append(gold, c)
		ours = append(ours, classIndex(a.AnalyzeLang(it.Text, "").Label))
		vader = append(vader, lexiconLabel(gv.PolarityScores(it.Text).Compound, 0.05))
	}
	if err := sc.Err(); err != nil {
		t.Fatal(err)
	}
	if len(gold) < 1000 {
		t.Fatalf("%s: %d items, want >= 1000", publicSentiment, len(gold))
	}
	row := func(name string, pred []int) scores {
		s := evaluate(gold, pred)
		var np, nn int
		for i, g := range gold {
			if labels[g] == Neutral {
				switch labels[pred[i]] {
				case Positive:
					np++
				case Negative:
					nn++
				}
			}
		}
		t.Logf("| %s | %d | %.1f / %.1f / %.1f (%d / %d) |", name, s.n, 100*s.macroRecall, 100*s.macroF1, 100*s.acc, np, nn)
		return s
	}
	t.Logf("%s: mR / macro-F1 / micro-F1 (%%), neutral called positive / negative", publicSentiment)
	got := row("einsatz (shipped)", ours)
	row("govader (th 0.05)", vader)
	const minMacroRecall, minAccuracy = 0.76, 0.74
	if got.macroRecall < minMacroRecall || got.acc < minAccuracy {
		t.Errorf("macro-recall %.3f, micro-F1 %.3f; want >= %.2f and >= %.2f", got.macroRecall, got.acc, minMacroRecall, minAccuracy)
	}
}
