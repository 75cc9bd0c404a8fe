package sentiment

import (
	"bufio"
	"encoding/json"
	"os"
	"strings"
	"testing"

	"github.com/jonreiter/govader"
)

// publicDir holds the development sets from other people's words (sources,
// licences and labelling: testdata/public/README.md and docs/sentiment.md):
// Stack Overflow posts with the Senti4SD gold labels (developers asking and
// answering about their tools) and IRC support and project chat labelled by
// hand.
const publicDir = "../../testdata/public/"

// TestPublicDevSentiment measures the analyzer, as shipped and with the
// language detected as in production, on the sets in publicDir, which
// nothing was fitted or tuned on, next to govader (threshold 0.05) on the
// same texts. The floors are the figures measured when the sets were added,
// less a margin, so the test catches regressions; run with -v for the table.
func TestPublicDevSentiment(t *testing.T) {
	tests := []struct {
		file                        string
		minItems                    int
		minMacroRecall, minAccuracy float64
	}{
		{"sentiment_so.jsonl", 1000, 0.76, 0.74},
		{"sentiment_irc.jsonl", 400, 0.66, 0.71},
	}
	a := New()
	gv := govader.NewSentimentIntensityAnalyzer()
	for _, tt := range tests {
		t.Run(strings.TrimSuffix(tt.file, ".jsonl"), func(t *testing.T) {
			name := publicDir + tt.file
			f, err := os.Open(name)
			if err != nil {
				t.Fatal(err)
			}
			defer f.Close()
			var gold, ours, vader []int
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
					t.Fatalf("%s:%d: %v", name, n, err)
				}
				c := classIndex(it.Label)
				if c < 0 || it.Text == "" {
					t.Fatalf("%s:%d: label %q, text %q", name, n, it.Label, it.Text)
				}
				gold = append(gold, c)
				ours = append(ours, classIndex(a.AnalyzeLang(it.Text, "").Label))
				vader = append(vader, lexiconLabel(gv.PolarityScores(it.Text).Compound, 0.05))
			}
			if err := sc.Err(); err != nil {
				t.Fatal(err)
			}
			if len(gold) < tt.minItems {
				t.Fatalf("%s: %d items, want >= %d", name, len(gold), tt.minItems)
			}
			row := func(analyzer string, pred []int) scores {
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
				t.Logf("| %s | %s | %d | %.1f / %.1f / %.1f (%d / %d) |", tt.file, analyzer, s.n, 100*s.macroRecall, 100*s.macroF1, 100*s.acc, np, nn)
				return s
			}
			t.Logf("mR / macro-F1 / micro-F1 (%%), neutral called positive / negative")
			got := row("einsatz (shipped)", ours)
			row("govader (th 0.05)", vader)
			if got.macroRecall < tt.minMacroRecall || got.acc < tt.minAccuracy {
				t.Errorf("macro-recall %.3f, micro-F1 %.3f; want >= %.2f and >= %.2f", got.macroRecall, got.acc, tt.minMacroRecall, tt.minAccuracy)
			}
		})
	}
}
