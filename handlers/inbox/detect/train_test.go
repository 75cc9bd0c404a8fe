package detect

import (
	"fmt"
	"go/format"
	"math"
	"math/rand/v2"
	"os"
	"strings"
	"testing"

	"github.com/einsatz/einsatz/bot/lang/scan"
	"github.com/einsatz/einsatz/bot/lang/scan/scantest"
)

// devSources are the development sets the model is fitted and
// cross-validated on (docs/detectors.md says where each comes from, its
// licence and how it was labelled). The frozen set at the repository
// root is not among them: it is never fitted on.
//
// The sets from other people's words in testdata/public at the repository
// root are fitted on too, so their figures that count are the
// cross-validated ones (TestCrossValidated), not TestPublicDev's.
var devSources = []struct{ name, file string }{
	{"project", trainSet}, // written by the Einsatz project
	// written by the Einsatz project: advice, asks for help, personal
	// wishes, replies about requests and bug reports, beside requests
	// addressed to the product, in English and German
	{"lookalikes", lookalikeSet},
	{"bugzilla", "testdata/dev/bugzilla_en.jsonl"},
	{"vscode-de", "testdata/dev/vscode_de.jsonl"},
	{"irc-cues", publicDir + "irc_request_cues.jsonl"},
	{"irc-chat", publicDir + "irc_chat.jsonl"},
	{"wikibugs", publicDir + "wikibugs.jsonl"},
	{"se-titles", publicDir + "se_titles.jsonl"},
	{"chatbot", publicDir + "chatbot_queries.jsonl"},
	{"forum", publicDir + "forum_sentences.jsonl"},
	{"dewiki", publicDir + "dewiki_sentences.jsonl"},
}

// readDev reads a development set; the public ones carry a question label
// too, which the detector does not use.
func readDev(tb testing.TB, file string) []publicMessage {
	tb.Helper()
	return scantest.ReadLabelled[publicMessage](tb, file)
}

// example is one message as the trainer sees it.
type example struct {
	src    int
	public bool // from testdata/public
	y      float64
	f      [numFeatures]float64
	grams  []uint32
	text   string
}

func loadExamples(t testing.TB) []example {
	t.Helper()
	var exs []example
	for i, s := range devSources {
		for _, m := range readDev(t, s.file) {
			var p parsed
			analyze(m.Text, m.Lang, &p)
			ex := example{src: i, f: p.f, grams: append([]uint32(nil), p.grams[:p.ng]...), text: m.Text,
				public: strings.HasPrefix(s.file, publicDir)}
			if m.FeatureRequest {
				ex.y = 1
			}
			exs = append(exs, ex)
		}
	}
	return exs
}

// model is a fitted model: rule weights and n-gram weights.
//
// dom is a training-only intercept of the sets from other people's
// words (public chat and bug trackers, where few messages are addressed
// to a product at all): it takes up their lower share of requests so that
// the shared weights are not pulled down by it. The shipped model has no
// such term, and the cross-validated figures are computed without it, as
// the product scores.
type model struct {
	rule [numFeatures]float64
	ng   []float64
	dom  float64
}

func (m *model) prob(ex *example) float64 {
	return scan.Sigmoid(m.z(ex))
}

// trainProb is prob with the training-only domain intercept.
func (m *model) trainProb(ex *example) float64 {
	z := m.z(ex)
	if ex.public {
		z += m.dom
	}
	return scan.Sigmoid(z)
}

func (m *model) z(ex *example) float64 {
	z := 0.0
	for i, w := range m.rule {
		z += w * ex.f[i]
	}
	if n := len(ex.grams); n > 0 {
		g := 0.0
		for _, b := range ex.grams {
			g += m.ng[b]
		}
		z += g * ngramScale(n)
	}
	return z
}

// Training settings: L2 penalties on the rule weights (not the bias) and
// on the n-gram weights, full-batch Adam steps, and the weights of the
// examples: the project's own messages (a community chat, the product's
// setting) count four times, the Bugzilla and VS Code sets once, the sets
// from other people's words in testdata/public half (chat between people
// and bug-tracker titles, a setting the product is not in; docs/detectors.md
// says how these were chosen).
const (
	lambdaRule    = 1e-3
	lambdaNgram   = 1e-3
	trainSteps    = 400
	trainRate     = 0.05
	projectWeight = 4.0
	publicWeight  = 0.5
)

// fit fits a model on exs[i] for the i in idx by minimising the weighted
// mean log loss plus the L2 penalties.
func fit(exs []example, idx []int) model {
	m := model{ng: make([]float64, numBuckets)}
	dom := numFeatures + numBuckets // the domain intercept's index
	nw := dom + 1
	w := make([]float64, nw) // rule weights, n-gram weights, domain intercept
	g := make([]float64, nw)
	mom := make([]float64, nw)
	vel := make([]float64, nw)
	const b1, b2, eps = 0.9, 0.999, 1e-8
	total := 0.0
	for _, i := range idx {
		total += exWeight(&exs[i])
	}
	for step := 1; step <= trainSteps; step++ {
		copy(m.rule[:], w[:numFeatures])
		copy(m.ng, w[numFeatures:dom])
		m.dom = w[dom]
		clear(g)
		for _, i := range idx {
			ex := &exs[i]
			d := (m.trainProb(ex) - ex.y) * exWeight(ex) / total
			for k, v := range ex.f {
				g[k] += d * v
			}
			if ex.public {
				g[dom] += d
			}
			sc := d * ngramScale(len(ex.grams))
			for _, b := range ex.grams {
				g[numFeatures+int(b)] += sc
			}
		}
		for k := range w {
			switch {
			case k == fBias || k == dom:
			case k < numFeatures:
				g[k] += lambdaRule * w[k]
			default:
				g[k] += lambdaNgram * w[k]
			}
			mom[k] = b1*mom[k] + (1-b1)*g[k]
			vel[k] = b2*vel[k] + (1-b2)*g[k]*g[k]
			mh := mom[k] / (1 - math.Pow(b1, float64(step)))
			vh := vel[k] / (1 - math.Pow(b2, float64(step)))
			w[k] -= trainRate * mh / (math.Sqrt(vh) + eps)
		}
	}
	copy(m.rule[:], w[:numFeatures])
	copy(m.ng, w[numFeatures:dom])
	m.dom = w[dom]
	return m
}

func exWeight(ex *example) float64 {
	switch devSources[ex.src].name {
	case "project", "lookalikes":
		return projectWeight
	case "bugzilla", "vscode-de":
		return 1
	}
	return publicWeight
}

// crossValidate returns each example's probability from a model fitted
// without its fold: k folds, stratified by source and label, fixed seed.
func crossValidate(exs []example, k int) []float64 {
	fold := make([]int, len(exs))
	groups := map[[2]int][]int{}
	for i, ex := range exs {
		key := [2]int{ex.src, int(ex.y)}
		groups[key] = append(groups[key], i)
	}
	rng := rand.New(rand.NewPCG(20, 2026))
	for s := range devSources {
		for y := range 2 {
			g := groups[[2]int{s, y}]
			rng.Shuffle(len(g), func(a, b int) { g[a], g[b] = g[b], g[a] })
			for j, i := range g {
				fold[i] = j % k
			}
		}
	}
	probs := make([]float64, len(exs))
	for f := range k {
		var train []int
		for i := range exs {
			if fold[i] != f && exWeight(&exs[i]) > 0 {
				train = append(train, i)
			}
		}
		m := fit(exs, train)
		for i := range exs {
			if fold[i] == f {
				probs[i] = m.prob(&exs[i])
			}
		}
	}
	return probs
}

// perSource counts the confusion of each source at threshold t.
func perSource(exs []example, probs []float64, t float64) []scantest.Confusion {
	cs := make([]scantest.Confusion, len(devSources))
	for i, ex := range exs {
		cs[ex.src].Add(ex.y == 1, probs[i] >= t)
	}
	return cs
}

// pickThreshold is the lowest threshold from `from` on (in steps of 0.01)
// at which every source with at least minPositives requests in it reaches
// precision p, and no source without requests has more than maxFP of its
// messages flagged. (A source with one or two requests says nothing about
// precision: one miss would be 0.)
func pickThreshold(exs []example, probs []float64, from, p, maxFP float64) float64 {
	for t := from; t < 0.99; t += 0.01 {
		t = math.Round(t*100) / 100
		ok := true
		for i, c := range perSource(exs, probs, t) {
			if precisionCounts(i, c) && c.Precision() < p || c.TP+c.FN == 0 && scantest.Ratio(c.FP, c.N()) > maxFP {
				ok = false
			}
		}
		if ok {
			return t
		}
	}
	return 0.99
}

// minPositives is the number of requests a source needs for its precision
// to count.
const minPositives = 5

// precisionCounts reports whether source i's precision is held to the
// targets: it has at least minPositives requests, and its messages were not
// picked or written for looking like requests. irc-cues (every message has
// a wish or request phrase; 16 % are requests) and lookalikes (written as
// look-alikes, 10 requests among 55) were: their precision is reported and
// kept from falling (TestCrossValidated), not used to pick thresholds.
// dewiki's seven requests are terse wish-list titles ("Möglichkeit zur
// Suche im Quelltext") that the model hardly scores, so its precision
// rests on one or two flagged sentences; its flagged share is bounded
// instead (cvFloors).
func precisionCounts(i int, c scantest.Confusion) bool {
	n := devSources[i].name
	return c.TP+c.FN >= minPositives && n != "irc-cues" && n != "lookalikes" && n != "dewiki"
}

func table(exs []example, probs []float64, t float64) string {
	var b strings.Builder
	fmt.Fprintf(&b, "threshold %.2f\n| source | n | precision | recall | F1 | flagged |\n|---|---|---|---|---|---|\n", t)
	for i, c := range perSource(exs, probs, t) {
		fmt.Fprintf(&b, "| %s | %d | %.2f | %.2f | %.2f | %d |\n", devSources[i].name, c.N(), c.Precision(), c.Recall(), c.F1(), c.TP+c.FP)
	}
	return b.String()
}

// sweep is a line per threshold: each source's precision / recall (or,
// with no requests in it, the share of its messages flagged).
func sweep(exs []example, probs []float64) string {
	var b strings.Builder
	b.WriteString("| threshold |")
	for _, s := range devSources {
		fmt.Fprintf(&b, " %s |", s.name)
	}
	b.WriteString("\n")
	for t := 0.30; t < 0.96; t += 0.05 {
		fmt.Fprintf(&b, "| %.2f |", t)
		for _, c := range perSource(exs, probs, t) {
			if c.TP+c.FN == 0 {
				fmt.Fprintf(&b, " %.1f %% |", 100*scantest.Ratio(c.FP, c.N()))
			} else {
				fmt.Fprintf(&b, " %.2f / %.2f |", c.Precision(), c.Recall())
			}
		}
		b.WriteString("\n")
	}
	return b.String()
}

// TestCrossValidated fits the model five times, each time without one
// fifth of the development sets, and checks the figures on the held-out
// fifths at DefaultThreshold: precision at least 0.60 on every source
// whose precision counts (precisionCounts), and the floors of cvFloors.
// Run with -v for the threshold sweep, the tables at both thresholds and
// the out-of-fold errors outside the project's own set (docs/detectors.md).
func TestCrossValidated(t *testing.T) {
	if raceEnabled || testing.Short() {
		t.Skip("fits the model five times: too slow under -race or -short")
	}
	exs := loadExamples(t)
	probs := crossValidate(exs, 5)
	if testing.Verbose() {
		t.Log("\n" + sweep(exs, probs))
	}
	t.Log("\n" + table(exs, probs, DefaultThreshold))
	t.Log("\n" + table(exs, probs, AutoFileThreshold))
	for i, ex := range exs {
		if (probs[i] >= DefaultThreshold) != (ex.y == 1) && devSources[ex.src].name != "project" {
			t.Logf("wrong (out of fold): %s request=%v score %.2f %q", devSources[ex.src].name, ex.y == 1, probs[i], ex.text)
		}
	}
	for i, c := range perSource(exs, probs, DefaultThreshold) {
		if precisionCounts(i, c) && c.Precision() < 0.60 {
			t.Errorf("%s: cross-validated precision %.2f at %.2f, want >= 0.60", devSources[i].name, c.Precision(), DefaultThreshold)
		}
		// Floors a little under the figures measured when the look-alike
		// features were added (docs/detectors.md), so a regression on
		// other people's words shows: the share of non-requests flagged,
		// and the precision where it is not held to 0.60.
		fl, ok := cvFloors[devSources[i].name]
		if !ok {
			continue
		}
		if flagged := scantest.Ratio(c.FP, c.FP+c.TN); flagged > fl.maxFlagged {
			t.Errorf("%s: %.1f %% of the non-requests flagged out of fold at %.2f, want <= %.1f %%", devSources[i].name, 100*flagged, DefaultThreshold, 100*fl.maxFlagged)
		}
		if c.TP+c.FN > 0 && c.Precision() < fl.minPrecision {
			t.Errorf("%s: cross-validated precision %.2f at %.2f, want >= %.2f", devSources[i].name, c.Precision(), DefaultThreshold, fl.minPrecision)
		}
	}
}

// cvFloors bound the cross-validated figures at DefaultThreshold.
var cvFloors = map[string]struct{ maxFlagged, minPrecision float64 }{
	"project":    {0.02, 0.95},
	"lookalikes": {0.25, 0.40},
	"bugzilla":   {0.02, 0},
	"irc-cues":   {0.20, 0.28},
	"irc-chat":   {0.02, 0},
	"se-titles":  {0.02, 0},
	"chatbot":    {0.025, 0},
	"forum":      {0.06, 0.60},
	"dewiki":     {0.06, 0},
}

// TestTrain fits the model on all development sets and writes it
// (model.go and ngrams.bin), with the thresholds chosen on the
// cross-validated probabilities. It runs only with EINSATZ_TRAIN_FR=1:
//
//	EINSATZ_TRAIN_FR=1 go test -run TestTrain -v ./handlers/inbox/detect/
//
// It never reads the frozen set.
func TestTrain(t *testing.T) {
	if os.Getenv("EINSATZ_TRAIN_FR") != "1" {
		t.Skip("set EINSATZ_TRAIN_FR=1 to fit the feature-request model")
	}
	exs := loadExamples(t)
	probs := crossValidate(exs, 5)
	// Precision is held on the sources with requests (the project's,
	// wikibugs; not irc-cues, see precisionCounts), and the flagged share
	// low on every source without requests (bug reports, Q&A titles,
	// chatbot queries). The threshold never goes below the previous
	// detector's 0.5 (docs/detectors.md).
	maybe := pickThreshold(exs, probs, 0.50, 0.60, 0.02)
	file := pickThreshold(exs, probs, 0.50, 0.80, 0.005)
	t.Log("\ncross-validated, maybe threshold:\n" + table(exs, probs, maybe))
	t.Log("\ncross-validated, auto-file threshold:\n" + table(exs, probs, file))
	var idx []int
	for i := range exs {
		if exWeight(&exs[i]) > 0 {
			idx = append(idx, i)
		}
	}
	m := fit(exs, idx)
	ng := make([]float32, numBuckets)
	for i, v := range m.ng {
		ng[i] = float32(v)
	}
	if err := os.WriteFile("ngrams.bin", encodeNgrams(ng), 0o644); err != nil {
		t.Fatal(err)
	}
	src, err := format.Source([]byte(modelSource(m.rule[:], maybe, file)))
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile("model.go", src, 0o644); err != nil {
		t.Fatal(err)
	}
	all := make([]float64, len(exs))
	for i := range exs {
		all[i] = m.prob(&exs[i])
	}
	t.Log("\nin-sample (optimistic), maybe threshold:\n" + table(exs, all, maybe))
}

func modelSource(rule []float64, maybe, file float64) string {
	var b strings.Builder
	b.WriteString(`// Code generated by TestTrain (EINSATZ_TRAIN_FR=1); DO NOT EDIT.

package detect

// The model: logistic regression over the rule features (weights) and
// hashed word n-grams (ngrams.bin), fitted by TestTrain on the development
// sets (testdata/train.jsonl and testdata/lookalikes.jsonl, written by the
// Einsatz project, the sets from other people's words in testdata/dev and
// testdata/public at the repository root; sources and licences in
// docs/detectors.md). The frozen evaluation set,
// testdata/feature_requests.jsonl at the repository root, is never used to
// fit them.

`)
	fmt.Fprintf(&b, `// DefaultThreshold is the score from which a message counts as a feature
// request: the lowest from 0.50 at which the cross-validated precision is
// at least 0.60 on every development source with requests (but the two
// picked or written for looking like requests) and at most 2 %% of the
// messages of each source without requests (bug reports, Q&A titles,
// chatbot queries) are flagged.
const DefaultThreshold = %.2f

// AutoFileThreshold is the score from which a request is filed without a
// staff member's confirmation: the same with precision at least 0.80 and
// at most 0.5 %% flagged. Requests scoring between DefaultThreshold and it
// are borderline ("maybe").
const AutoFileThreshold = %.2f

`, maybe, file)
	b.WriteString(scantest.GoWeights("weights", "numFeatures", rule, featureNames[:]))
	b.WriteString("\n")
	return b.String()
}
