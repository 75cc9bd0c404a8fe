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

// bestThreshold picks the lexicon-only threshold with the best macro-recall on the given items.
func bestThreshold(xs [][nFeatures]float64, gold []int) float64 {
	best, bestS := 0.05, -1.0
	for th := 0.05; th <= 0.7; th += 0.05 {
		pred := make([]int, len(xs))
		for i := range xs {
			pred[i] = lexiconLabel(xs[i][xCompound], th)
		}
		if s := evaluate(gold, pred).macroRecall; s > bestS {
			best, bestS = th, s
		}
	}
	return best
}

const cvFolds = 5

var trainLambda = 0.05

// TestDevFigures prints the figures reported in docs/sentiment.md:
//
//	go test ./handlers/sentiment/ -run TestDevFigures -v
func TestDevFigures(t *testing.T) {
	sets := loadDev(t)
	lx, err := loadLexicon()
	if err != nil {
		t.Fatal(err)
	}
	a := newAnalyzer(lx, true)
	var b strings.Builder
	fmt.Fprintf(&b, "\n| set | n | lang detected | govader (th 0.05) mR / mF1 | lexicon-only (th 0.05) mR / mF1 | lexicon-only, CV threshold mR / mF1 | lexicon + learned combiner, %d-fold CV mR / mF1 | shipped model (trained on all dev) mR / mF1 |\n|---|---|---|---|---|---|---|---|\n", cvFolds)
	gv := govader.NewSentimentIntensityAnalyzer()
	// German training data is SB10k and PotTS together; folds are per set so both are split.
	train := map[int][]devItem{}
	for _, s := range sets {
		train[s.lang] = append(train[s.lang], s.items...)
	}
	full := New()
	for _, s := range sets {
		xs, langs := featurize(a, s.items)
		gold := make([]int, len(s.items))
		right := 0
		for i, it := range s.items {
			gold[i] = it.class
			if langs[i] == s.lang {
				right++
			}
		}
		pred := make([]int, len(xs))
		for i := range xs {
			pred[i] = lexiconLabel(xs[i][xCompound], 0.05)
		}
		lex := evaluate(gold, pred)

		// cross-validation: the other German set is always in the training part
		f := folds(s.items, cvFolds)
		var others []devItem
		for _, o := range sets {
			if o.lang == s.lang && o.name != s.name {
				others = append(others, o.items...)
			}
		}
		oxs, _ := featurize(a, others)
		ogold := make([]int, len(others))
		for i, it := range others {
			ogold[i] = it.class
		}
		cvLex := make([]int, len(xs))
		cvModel := make([]int, len(xs))
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
			th := bestThreshold(trX, trY)
			m := trainModel(trX, trY)
			for i := range xs {
				if f[i] == k {
					cvLex[i] = lexiconLabel(xs[i][xCompound], th)
					p := m.predict(&xs[i])
					cvModel[i] = argmax(p)
				}
			}
		}
		cl, cm := evaluate(gold, cvLex), evaluate(gold, cvModel)
		shipped := make([]int, len(xs))
		for i, it := range s.items {
			shipped[i] = classIndex(full.Analyze(it.Text).Label)
		}
		sh := evaluate(gold, shipped)
		gpred := make([]int, len(xs))
		for i, it := range s.items {
			gpred[i] = lexiconLabel(gv.PolarityScores(it.Text).Compound, 0.05)
		}
		g := evaluate(gold, gpred)
		fmt.Fprintf(&b, "| %s | %d | %.1f%% | %.1f / %.1f | %.1f / %.1f | %.1f / %.1f | **%.1f / %.1f** | %.1f / %.1f |\n", s.name, len(s.items),
			100*float64(right)/float64(len(s.items)), 100*g.macroRecall, 100*g.macroF1, 100*lex.macroRecall, 100*lex.macroF1,
			100*cl.macroRecall, 100*cl.macroF1, 100*cm.macroRecall, 100*cm.macroF1, 100*sh.macroRecall, 100*sh.macroF1)
	}
	// Cross-corpus transfer for German: the combiner trained on one set, tested on the other.
	fmt.Fprintf(&b, "\nGerman cross-corpus (combiner trained on one set only):\n\n| train -> test | mR / mF1 |\n|---|---|\n")
	for _, pair := range [][2]int{{1, 2}, {2, 1}} {
		trX, _ := featurize(a, sets[pair[0]].items)
		trY := make([]int, len(trX))
		for i, it := range sets[pair[0]].items {
			trY[i] = it.class
		}
		m := trainModel(trX, trY)
		teX, _ := featurize(a, sets[pair[1]].items)
		gold := make([]int, len(teX))
		pred := make([]int, len(teX))
		for i, it := range sets[pair[1]].items {
			gold[i] = it.class
			pred[i] = argmax(m.predict(&teX[i]))
		}
		sc := evaluate(gold, pred)
		fmt.Fprintf(&b, "| %s -> %s | %.1f / %.1f |\n", sets[pair[0]].name, sets[pair[1]].name, 100*sc.macroRecall, 100*sc.macroF1)
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
		strings.Join(featureNames[:], ", ") + ". Trained by TestTrainModel on TweetEval val (en), SB10k dev + PotTS dev without mixed (de)."
	for _, l := range []int{en, de} {
		var items []devItem
		for _, s := range sets {
			if s.lang == l {
				items = append(items, s.items...)
			}
		}
		xs, _ := featurize(a, items)
		ys := make([]int, len(items))
		for i, it := range items {
			ys[i] = it.class
		}
		m := trainModel(xs, ys)
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
