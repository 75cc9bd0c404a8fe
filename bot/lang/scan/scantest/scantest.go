// Package scantest is the evaluation and training harness shared by the
// tests of the message classifiers built on package scan (the question
// detector in handlers/knowledge, the feature-request detector in
// handlers/inbox/detect): reading labelled messages from JSON lines,
// precision, recall and F1, and fitting logistic regression weights. It is
// meant for tests only.
package scantest

import (
	"bufio"
	"encoding/json"
	"fmt"
	"math"
	"os"
	"strings"
	"testing"

	"github.com/einsatz/einsatz/bot/lang/scan"
)

// Message is what every labelled message has. A labelled set's line type
// embeds it and adds its label, such as
//
//	type labelled struct {
//		scantest.Message
//		Question bool `json:"question"`
//	}
type Message struct {
	Text string `json:"text"`
	Lang string `json:"lang"` // "en" or "de"
	Note string `json:"note"`
}

// Common returns m; it makes the types embedding a Message Labelled.
func (m Message) Common() Message { return m }

// Labelled is a line of a labelled set.
type Labelled interface{ Common() Message }

// ReadLabelled reads a labelled set of JSON lines, one message a line
// (blank lines are skipped), and fails tb on a line that does not decode
// into a T, has a field T does not know, an empty text or a language other
// than "en" and "de".
func ReadLabelled[T Labelled](tb testing.TB, name string) []T {
	tb.Helper()
	f, err := os.Open(name)
	if err != nil {
		tb.Fatal(err)
	}
	defer f.Close()
	var msgs []T
	sc := bufio.NewScanner(f)
	for n := 1; sc.Scan(); n++ {
		line := strings.TrimSpace(sc.Text())
		if line == "" {
			continue
		}
		var m T
		dec := json.NewDecoder(strings.NewReader(line))
		dec.DisallowUnknownFields()
		if err := dec.Decode(&m); err != nil {
			tb.Fatalf("%s:%d: %v", name, n, err)
		}
		if c := m.Common(); c.Text == "" || (c.Lang != "en" && c.Lang != "de") {
			tb.Fatalf("%s:%d: empty text or lang %q", name, n, c.Lang)
		}
		msgs = append(msgs, m)
	}
	if err := sc.Err(); err != nil {
		tb.Fatal(err)
	}
	return msgs
}

// Confusion counts a classifier's verdicts against the labels: true and
// false positives, false and true negatives.
type Confusion struct{ TP, FP, FN, TN int }

// Add counts one verdict: want is the label, got the classifier's.
func (c *Confusion) Add(want, got bool) {
	switch {
	case want && got:
		c.TP++
	case !want && got:
		c.FP++
	case want && !got:
		c.FN++
	default:
		c.TN++
	}
}

// N is the number of verdicts counted.
func (c Confusion) N() int { return c.TP + c.FP + c.FN + c.TN }

// Precision is the share of positive verdicts that are right (0 if none).
func (c Confusion) Precision() float64 { return Ratio(c.TP, c.TP+c.FP) }

// Recall is the share of positives found (0 if none).
func (c Confusion) Recall() float64 { return Ratio(c.TP, c.TP+c.FN) }

// F1 is the harmonic mean of precision and recall.
func (c Confusion) F1() float64 {
	p, r := c.Precision(), c.Recall()
	if p+r == 0 {
		return 0
	}
	return 2 * p * r / (p + r)
}

// Accuracy is the share of verdicts that are right (0 if none).
func (c Confusion) Accuracy() float64 { return Ratio(c.TP+c.TN, c.TP+c.TN+c.FP+c.FN) }

// String gives the figures: "n=… precision … recall … F1 … (tp … fp … fn
// … tn …)".
func (c Confusion) String() string {
	return fmt.Sprintf("n=%3d precision %.3f recall %.3f F1 %.3f (tp %d fp %d fn %d tn %d)",
		c.N(), c.Precision(), c.Recall(), c.F1(), c.TP, c.FP, c.FN, c.TN)
}

// StringAccuracy is String with the accuracy after F1.
func (c Confusion) StringAccuracy() string {
	return fmt.Sprintf("n=%3d precision %.3f recall %.3f F1 %.3f accuracy %.3f (tp %d fp %d fn %d tn %d)",
		c.N(), c.Precision(), c.Recall(), c.F1(), c.Accuracy(), c.TP, c.FP, c.FN, c.TN)
}

// Ratio is a/b, or 0 if b is 0.
func Ratio(a, b int) float64 {
	if b == 0 {
		return 0
	}
	return float64(a) / float64(b)
}

// FitLogistic fits logistic regression weights to the feature vectors xs
// (all as long) and the labels ys (0 or 1) by full-batch gradient descent
// on the mean log loss plus an L2 penalty of lambda on all weights but the
// bias (feature bias), iters steps of the given rate. The weights are
// rounded to two decimals, as they are written in the code.
func FitLogistic(xs [][]float64, ys []float64, bias int, lambda float64, iters int, rate float64) []float64 {
	if len(xs) == 0 {
		return nil
	}
	nf := len(xs[0])
	w := make([]float64, nf)
	grad := make([]float64, nf)
	n := float64(len(xs))
	for range iters {
		clear(grad)
		for i := range xs {
			d := scan.Logistic(w, xs[i]) - ys[i]
			for k := range grad {
				grad[k] += d * xs[i][k] / n
			}
		}
		for k := range w {
			if k != bias {
				grad[k] += lambda * w[k]
			}
			w[k] -= rate * grad[k]
		}
	}
	for k := range w {
		w[k] = math.Round(w[k]*100) / 100
	}
	return w
}

// GoWeights writes weights as the Go declaration "var name = [size]float64{…}",
// one weight a line with its feature's name as a comment.
func GoWeights(name, size string, w []float64, names []string) string {
	var b strings.Builder
	fmt.Fprintf(&b, "var %s = [%s]float64{\n", name, size)
	for i, v := range w {
		fmt.Fprintf(&b, "\t%.2f, // %s\n", v, names[i])
	}
	b.WriteString("}")
	return b.String()
}
