package sentiment

import (
	"bufio"
	"encoding/json"
	"flag"
	"fmt"
	"math"
	"math/rand/v2"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/jonreiter/govader"
)

// The dev files live in shared/data beside the repository (../shared/data from the repo root).

type devItem struct {
	Text  string `json:"text"`
	Label string `json:"label"`
	lang  int
	class int
}

type devSet struct {
	name  string
	lang  int
	items []devItem
}

// findDevDir resolves shared/data relative to the repository root (the directory with go.mod).
func findDevDir() (string, error) {
	dir, err := os.Getwd()
	if err != nil {
		return "", err
	}
	for {
		if _, err := os.Stat(filepath.Join(dir, "go.mod")); err == nil {
			break
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			return "", fmt.Errorf("repository root not found")
		}
		dir = parent
	}
	d := filepath.Join(dir, "..", "shared", "data")
	if _, err := os.Stat(filepath.Join(d, "tweeteval_sentiment_val.jsonl")); err != nil {
		return "", fmt.Errorf("dev data not present in %s", d)
	}
	return d, nil
}

func devDir(t testing.TB) string {
	d, err := findDevDir()
	if err != nil {
		t.Skip(err)
	}
	return d
}

func jsonUnmarshal(s string, v any) error { return json.Unmarshal([]byte(s), v) }

func jsonString(s string) string {
	b, _ := json.Marshal(s)
	return string(b)
}

func classIndex(label string) int {
	for c, l := range labels {
		if l == label {
			return c
		}
	}
	return -1
}

// loadDev reads the three dev files; PotTS "mixed" items are dropped.
func loadDev(t testing.TB) []devSet {
	d := devDir(t)
	var sets []devSet
	for _, f := range []struct {
		name, file string
		lang       int
	}{
		{"TweetEval val (en)", "tweeteval_sentiment_val.jsonl", en},
		{"SB10k dev (de)", "sb10k_dev.jsonl", de},
		{"PotTS dev (de, mixed dropped)", "potts_dev.jsonl", de},
	} {
		fh, err := os.Open(filepath.Join(d, f.file))
		if err != nil {
			t.Fatal(err)
		}
		set := devSet{name: f.name, lang: f.lang}
		sc := bufio.NewScanner(fh)
		sc.Buffer(make([]byte, 1<<20), 1<<20)
		for sc.Scan() {
			var it devItem
			if err := json.Unmarshal(sc.Bytes(), &it); err != nil {
				t.Fatalf("%s: %v", f.file, err)
			}
			it.class = classIndex(it.Label)
			if it.class < 0 {
				continue // mixed
			}
			it.lang = f.lang
			set.items = append(set.items, it)
		}
		fh.Close()
		sets = append(sets, set)
	}
	return sets
}

type scores struct {
	macroRecall, macroF1, acc float64
	n                         int
}

func evaluate(gold, pred []int) scores {
	var conf [nClasses][nClasses]float64
	for i := range gold {
		conf[gold[i]][pred[i]]++
	}
	var s scores
	s.n = len(gold)
	correct := 0.0
	for c := range nClasses {
		tp := conf[c][c]
		correct += tp
		var rowSum, colSum float64
		for k := range nClasses {
			rowSum += conf[c][k]
			colSum += conf[k][c]
		}
		rec, prec := 0.0, 0.0
		if rowSum > 0 {
			rec = tp / rowSum
		}
		if colSum > 0 {
			prec = tp / colSum
		}
		f1 := 0.0
		if rec+prec > 0 {
			f1 = 2 * rec * prec / (rec + prec)
		}
		s.macroRecall += rec / nClasses
		s.macroF1 += f1 / nClasses
	}
	s.acc = correct / float64(len(gold))
	return s
}

// featurize computes the feature vectors with language detection, as Analyze does.
func featurize(a *Analyzer, items []devItem) (xs [][nFeatures]float64, langs []int) {
	s := new(scratch)
	for _, it := range items {
		x, l := a.features(s, it.Text, -1)
		xs = append(xs, x)
		langs = append(langs, l)
	}
	return xs, langs
}

func lexiconLabel(compound, th float64) int {
	switch {
	case compound >= th:
		return cPos
	case compound <= -th:
		return cNeg
	}
	return cNeu
}

// folds assigns items to k stratified folds with a fixed seed.
func folds(items []devItem, k int) []int {
	f := make([]int, len(items))
	r := rand.New(rand.NewPCG(42, 7))
	for c := range nClasses {
		var idx []int
		for i, it := range items {
			if it.class == c {
				idx = append(idx, i)
			}
		}
		r.Shuffle(len(idx), func(a, b int) { idx[a], idx[b] = idx[b], idx[a] })
		for j, i := range idx {
			f[i] = j % k
		}
	}
	return f
}

const cvFolds = 5

// trainLambda: L2 strength, chosen by 5-fold CV on the English dev set among 0.05, 0.01, 0.002
// (macro-recall 61.9, 63.2, 63.3; the middle one, as the smallest gains are noise).
var trainLambda = 0.01

// calibrationMetric is what each language's neutral offset is chosen for: English is judged by
// macro-averaged recall (SemEval-2017), German by micro-F1 (accuracy; the measure of the SB10k
// and PotTS literature, and the one that punishes calling neutral reports polar).
var calibrationMetric = [2]func(scores) float64{
	en: func(s scores) float64 { return s.macroRecall },
	de: func(s scores) float64 { return s.acc },
}

// oof returns out-of-fold class probabilities: for each fold, the combiner trained on the other
// folds plus extra (always in the training part).
func oof(xs [][nFeatures]float64, gold, f []int, extraX [][nFeatures]float64, extraY []int) [][nClasses]float64 {
	ps := make([][nClasses]float64, len(xs))
	for k := range cvFolds {
		var trX [][nFeatures]float64
		var trY []int
		for i := range xs {
			if f[i] != k {
				trX = append(trX, xs[i])
				trY = append(trY, gold[i])
			}
		}
		trX = append(trX, extraX...)
		trY = append(trY, extraY...)
		m := trainModel(trX, trY)
		for i := range xs {
			if f[i] == k {
				ps[i] = m.predict(&xs[i])
			}
		}
	}
	return ps
}

// withOffset is the label when delta is added to the neutral logit.
func withOffset(p [nClasses]float64, delta float64) int {
	p[cNeu] *= math.Exp(delta)
	return argmax(p)
}

// neutralOffset picks the offset of the neutral logit that maximises metric on (out-of-fold)
// probabilities: the neutral band, calibrated by cross-validation. Ties go to the smaller |δ|.
func neutralOffset(ps [][nClasses]float64, gold []int, metric func(scores) float64) float64 {
	best, bestS := 0.0, -1.0
	pred := make([]int, len(ps))
	for _, d := range offsetGrid() {
		for i := range ps {
			pred[i] = withOffset(ps[i], d)
		}
		if s := metric(evaluate(gold, pred)); s > bestS+1e-9 || (math.Abs(s-bestS) <= 1e-9 && math.Abs(d) < math.Abs(best)) {
			best, bestS = d, s
		}
	}
	return best
}

func offsetGrid() []float64 {
	var g []float64
	for d := -1.0; d <= 2.0001; d += 0.05 {
		g = append(g, math.Round(d*100)/100)
	}
	return g
}

// calibratedModel trains the combiner on xs and sets its neutral offset from a 5-fold
// cross-validation on the same data.
func calibratedModel(xs [][nFeatures]float64, ys []int, metric func(scores) float64) (model, float64) {
	items := make([]devItem, len(ys))
	for i, y := range ys {
		items[i].class = y
	}
	d := neutralOffset(oof(xs, ys, folds(items, cvFolds), nil, nil), ys, metric)
	m := trainModel(xs, ys)
	m.W[cNeu][xBias] += d
	return m, d
}

func labelsOf(items []devItem) []int {
	g := make([]int, len(items))
	for i, it := range items {
		g[i] = it.class
	}
	return g
}

var figures = flag.Bool("figures", false, "run TestDevFigures (nested cross-validation, ~40 s; minutes under -race)")

// TestDevFigures prints the figures reported in docs/sentiment.md, and
// checks that the shipped method (the combiner with its neutral offset,
// nested CV) beats govader's macro-recall on every dev set:
//
//	go test ./handlers/sentiment/ -run TestDevFigures -figures -v
//
// It trains 60 models, so it runs only when asked for (the suite under
// -race spent 150-185 s on it).
//
// Everything is cross-validated (5 stratified folds, fixed seed); the neutral offset of the
// calibrated column is chosen by an inner 5-fold cross-validation on each outer training part
// (nested), so no figure is in-sample except the last column.
func TestDevFigures(t *testing.T) {
	if !*figures {
		t.Skip("a report: run with -figures")
	}
	sets := loadDev(t)
	lx, err := loadLexicon()
	if err != nil {
		t.Fatal(err)
	}
	a := newAnalyzer(lx, true)
	var b strings.Builder
	fmt.Fprintf(&b, "\nmR / macro-F1 / micro-F1 (%%), neutral items called positive / negative\n\n")
	fmt.Fprintf(&b, "| set | n | neutral | lang detected | govader (th 0.05) | lexicon only (th 0.05) | combiner, CV, no offset | **combiner + neutral offset, nested CV** | shipped (in-sample) |\n|---|---|---|---|---|---|---|---|---|\n")
	gv := govader.NewSentimentIntensityAnalyzer()
	full := New()
	cell := func(gold, pred []int) string {
		s := evaluate(gold, pred)
		np, nn := 0, 0
		for i := range gold {
			if gold[i] == cNeu && pred[i] == cPos {
				np++
			}
			if gold[i] == cNeu && pred[i] == cNeg {
				nn++
			}
		}
		return fmt.Sprintf("%.1f / %.1f / %.1f (%d / %d)", 100*s.macroRecall, 100*s.macroF1, 100*s.acc, np, nn)
	}
	for _, s := range sets {
		xs, langs := featurize(a, s.items)
		gold := labelsOf(s.items)
		right, neutral := 0, 0
		for i, it := range s.items {
			if langs[i] == s.lang {
				right++
			}
			if it.class == cNeu {
				neutral++
			}
		}
		lex := make([]int, len(xs))
		for i := range xs {
			lex[i] = lexiconLabel(xs[i][xCompound], 0.05)
		}
		// the other German set is always in the training part
		var others []devItem
		for _, o := range sets {
			if o.lang == s.lang && o.name != s.name {
				others = append(others, o.items...)
			}
		}
		oxs, _ := featurize(a, others)
		ogold := labelsOf(others)
		f := folds(s.items, cvFolds)
		plain := make([]int, len(xs))
		calib := make([]int, len(xs))
		for k := range cvFolds {
			var trX [][nFeatures]float64
			var trY []int
			for i := range xs {
				if f[i] != k {
					trX = append(trX, xs[i])
					trY = append(trY, gold[i])
				}
			}
			trX = append(trX, oxs...)
			trY = append(trY, ogold...)
			m := trainModel(trX, trY)
			mc, _ := calibratedModel(trX, trY, calibrationMetric[s.lang])
			for i := range xs {
				if f[i] == k {
					plain[i] = argmax(m.predict(&xs[i]))
					calib[i] = argmax(mc.predict(&xs[i]))
				}
			}
		}
		shipped := make([]int, len(xs))
		gpred := make([]int, len(xs))
		for i, it := range s.items {
			shipped[i] = classIndex(full.Analyze(it.Text).Label)
			gpred[i] = lexiconLabel(gv.PolarityScores(it.Text).Compound, 0.05)
		}
		if ours, theirs := evaluate(gold, calib).macroRecall, evaluate(gold, gpred).macroRecall; ours < theirs {
			t.Errorf("%s: macro-recall %.3f (nested CV) below govader's %.3f", s.name, ours, theirs)
		}
		fmt.Fprintf(&b, "| %s | %d | %d | %.1f%% | %s | %s | %s | **%s** | %s |\n", s.name, len(s.items), neutral,
			100*float64(right)/float64(len(s.items)), cell(gold, gpred), cell(gold, lex), cell(gold, plain), cell(gold, calib), cell(gold, shipped))
	}
	// Cross-corpus transfer for German: the combiner trained (and calibrated) on one set only.
	fmt.Fprintf(&b, "\nGerman cross-corpus (combiner trained and calibrated on one set only):\n\n| train -> test | mR / macro-F1 / micro-F1 (neutral -> pos / neg) |\n|---|---|\n")
	for _, pair := range [][2]int{{1, 2}, {2, 1}} {
		trX, _ := featurize(a, sets[pair[0]].items)
		m, _ := calibratedModel(trX, labelsOf(sets[pair[0]].items), calibrationMetric[de])
		teX, _ := featurize(a, sets[pair[1]].items)
		gold := labelsOf(sets[pair[1]].items)
		pred := make([]int, len(teX))
		for i := range teX {
			pred[i] = argmax(m.predict(&teX[i]))
		}
		fmt.Fprintf(&b, "| %s -> %s | %s |\n", sets[pair[0]].name, sets[pair[1]].name, cell(gold, pred))
	}
	t.Log(b.String())
}

func argmax(p [nClasses]float64) int {
	best := 0
	for c := range nClasses {
		if p[c] > p[best] {
			best = c
		}
	}
	return best
}

// trainModel fits the multinomial logistic regression with class-balanced weights and L2
// (not on the bias) by full-batch gradient descent.
func trainModel(xs [][nFeatures]float64, ys []int) model {
	const (
		iters = 1500
		lr    = 0.5
	)
	var count [nClasses]float64
	for _, y := range ys {
		count[y]++
	}
	var cw [nClasses]float64
	for c := range nClasses {
		if count[c] > 0 {
			cw[c] = float64(len(ys)) / (nClasses * count[c])
		}
	}
	var m model
	var wsum float64
	for _, y := range ys {
		wsum += cw[y]
	}
	for range iters {
		var g [nClasses][nFeatures]float64
		for i := range xs {
			p := m.predict(&xs[i])
			for c := range nClasses {
				d := p[c]
				if c == ys[i] {
					d -= 1
				}
				d *= cw[ys[i]]
				for j, v := range xs[i] {
					g[c][j] += d * v
				}
			}
		}
		for c := range nClasses {
			for j := range nFeatures {
				gr := g[c][j] / wsum
				if j != xBias {
					gr += trainLambda * m.W[c][j]
				}
				m.W[c][j] -= lr * gr
			}
		}
	}
	for c := range nClasses {
		for j := range nFeatures {
			m.W[c][j] = math.Round(m.W[c][j]*1e4) / 1e4
		}
	}
	return m
}

var update = flag.Bool("update", false, "retrain data/model.json from the dev files")

// TestTrainModel retrains the shipped combiner on all dev data:
//
//	go test ./handlers/sentiment/ -run TestTrainModel -update
func TestTrainModel(t *testing.T) {
	if !*update {
		t.Skip("run with -update to retrain data/model.json")
	}
	sets := loadDev(t)
	lx, err := loadLexicon()
	if err != nil {
		t.Fatal(err)
	}
	a := newAnalyzer(lx, true)
	var mf modelFile
	mf.Note = "Learned combiner (see docs/sentiment.md): rows negative, neutral, positive; columns " +
		strings.Join(featureNames[:], ", ") + ". Trained by TestTrainModel on TweetEval val (en), SB10k dev + PotTS dev without mixed (de); " +
		"the neutral row's bias includes the neutral offset chosen by 5-fold CV (en for macro-recall, de for micro-F1)."
	for _, l := range []int{en, de} {
		var items []devItem
		for _, s := range sets {
			if s.lang == l {
				items = append(items, s.items...)
			}
		}
		xs, _ := featurize(a, items)
		m, d := calibratedModel(xs, labelsOf(items), calibrationMetric[l])
		t.Logf("%s: neutral offset %.2f (5-fold CV)", langNames[l], d)
		if l == en {
			mf.EN = m
		} else {
			mf.DE = m
		}
	}
	var out strings.Builder
	note, _ := json.Marshal(mf.Note)
	fmt.Fprintf(&out, "{\n \"note\": %s,\n", note)
	for li, m := range []model{mf.EN, mf.DE} {
		fmt.Fprintf(&out, " %q: {\"w\": [\n", langNames[li])
		for c := range nClasses {
			row, _ := json.Marshal(m.W[c])
			sep := ","
			if c == nClasses-1 {
				sep = ""
			}
			fmt.Fprintf(&out, "  %s%s\n", row, sep)
		}
		if li == 0 {
			out.WriteString(" ]},\n")
		} else {
			out.WriteString(" ]}\n}\n")
		}
	}
	if err := os.WriteFile("data/model.json", []byte(out.String()), 0o644); err != nil {
		t.Fatal(err)
	}
}
