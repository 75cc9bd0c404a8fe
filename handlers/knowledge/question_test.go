package knowledge

import (
	"math"
	"os"
	"strings"
	"testing"

	"github.com/einsatz/einsatz/bot/lang/scan"
	"github.com/einsatz/einsatz/bot/lang/scan/scantest"
)

// labelledMessage is a line of testdata/questions.jsonl (the frozen
// evaluation set at the repository root) or of
// testdata/questions_train.jsonl (the training set of the model).
type labelledMessage struct {
	scantest.Message
	Question bool `json:"question"`
}

const (
	questionsFrozen = "../../testdata/questions.jsonl"
	questionsTrain  = "testdata/questions_train.jsonl"
)

func readLabelled(tb testing.TB, name string) []labelledMessage {
	tb.Helper()
	return scantest.ReadLabelled[labelledMessage](tb, name)
}

// confusion is the figures of the question detector, which come with the
// accuracy.
type confusion struct{ scantest.Confusion }

func (c confusion) String() string { return c.StringAccuracy() }

// evalQuestions runs IsQuestion over msgs and logs the figures overall, per
// language, on hard negatives and on questions without "?", and the errors.
func evalQuestions(t *testing.T, msgs []labelledMessage) confusion {
	t.Helper()
	var all, hardNeg, noMark confusion
	perLang := map[string]*confusion{"en": {}, "de": {}}
	for _, m := range msgs {
		got := IsQuestion(m.Text)
		all.Add(m.Question, got)
		perLang[m.Lang].Add(m.Question, got)
		if strings.HasPrefix(m.Note, "hard negative") {
			hardNeg.Add(m.Question, got)
		}
		if m.Question && !strings.HasSuffix(strings.TrimSpace(m.Text), "?") {
			noMark.Add(m.Question, got)
		}
		if got != m.Question {
			t.Logf("wrong: question=%-5v score %.2f %q (%s)", m.Question, QuestionScore(m.Text), m.Text, m.Note)
		}
	}
	t.Logf("all: %v", all)
	t.Logf("en:  %v", *perLang["en"])
	t.Logf("de:  %v", *perLang["de"])
	t.Logf("hard negatives: %d of %d recognised as statements", hardNeg.TN, hardNeg.TN+hardNeg.FP)
	t.Logf("questions without '?': %d of %d recognised", noMark.TP, noMark.TP+noMark.FN)
	return all
}

// TestIsQuestionFrozenSet measures the detector on the labelled set at the
// repository root, which was written before the detector and is not used
// to fit or tune it. Run with -v for the figures.
func TestIsQuestionFrozenSet(t *testing.T) {
	msgs := readLabelled(t, questionsFrozen)
	// The set is what the README promises.
	langs := map[string]int{}
	hard, noMark := 0, 0
	for _, m := range msgs {
		langs[m.Lang]++
		if strings.HasPrefix(m.Note, "hard negative") {
			hard++
			if m.Question {
				t.Errorf("hard negative labelled as a question: %q", m.Text)
			}
		}
		if m.Question && !strings.HasSuffix(strings.TrimSpace(m.Text), "?") {
			noMark++
		}
	}
	if len(msgs) < 150 || langs["en"] < 60 || langs["de"] < 60 || hard < 40 || noMark < 25 {
		t.Errorf("frozen set: %d messages (%v), %d hard negatives, %d questions without '?'; want >= 150, 60 per language, 40, 25",
			len(msgs), langs, hard, noMark)
	}

	c := evalQuestions(t, msgs)
	const minPrecision, minRecall, minF1 = 0.85, 0.85, 0.85
	if c.Precision() < minPrecision || c.Recall() < minRecall || c.F1() < minF1 {
		t.Errorf("question detection on %s: %v; want precision >= %.2f, recall >= %.2f, F1 >= %.2f",
			questionsFrozen, c, minPrecision, minRecall, minF1)
	}
}

// TestIsQuestionTrainSet reports the figures on the training set (which the
// model has seen, so they are optimistic).
func TestIsQuestionTrainSet(t *testing.T) {
	c := evalQuestions(t, readLabelled(t, questionsTrain))
	if c.F1() < 0.9 {
		t.Errorf("question detection on the training set: %v; want F1 >= 0.9", c)
	}
}

func TestIsQuestion(t *testing.T) {
	tests := []struct {
		text string
		want bool
	}{
		{"", false},
		{"   ", false},
		{"?", false},
		{"how do I reset my password", true},
		{"Does it run on FreeBSD?", true},
		{"Gibt es eine Anleitung für Docker?", true},
		{"weiß jemand wie man das updatet", true},
		{"Can someone explain the sentiment chart", true},
		{"any idea how to enable auto mode", true},
		{"Who even writes XML by hand anymore?", false},
		{"Wer liest schon die Doku?", false},
		{"What a mess!", false},
		{"thanks!!", false},
		{"Guten Morgen!", false},
		{"The bot does not start after the update.", false},
		{"He said 'how do I install it?' and left", false},
		// A long message is judged by its start and its end.
		{"I tried everything. " + strings.Repeat("Lots of log output here. ", 100) + "Where do I go from here?", true},
		{"Where do I go from here? " + strings.Repeat("Lots of log output here. ", 100) + "I tried everything.", true},
		{strings.Repeat("Lots of log output here. ", 100), false},
		// Invalid UTF-8 and odd input do not panic.
		{"\xff\xfe \xc3 \xa4", false},
		{strings.Repeat("ä", 1000) + "?", true},
	}
	for _, tt := range tests {
		if got := IsQuestion(tt.text); got != tt.want {
			name := tt.text
			if len(name) > 60 {
				name = name[:60] + "…"
			}
			t.Errorf("IsQuestion(%q) = %v (score %.2f), want %v", name, got, QuestionScore(tt.text), tt.want)
		}
	}
}

func TestIsQuestionAllocs(t *testing.T) {
	msgs := []string{
		"Weiß jemand, wie man die Daten eines Users löscht?",
		"Bug: when I ask 'what is einsatz?' the bot answers in German",
		strings.Repeat("long message ", 200) + "how do I fix this?",
	}
	for _, m := range msgs {
		if n := testing.AllocsPerRun(100, func() { IsQuestion(m) }); n > 0 {
			t.Errorf("IsQuestion allocates %.0f times for %.40q", n, m)
		}
	}
}

// TestTrainQuestionModel fits the logistic regression weights of the
// detector on the training set and prints them as Go code for
// questionWeights. It runs only with EINSATZ_TRAIN_QUESTIONS=1:
//
//	EINSATZ_TRAIN_QUESTIONS=1 go test -run TestTrainQuestionModel -v ./handlers/knowledge/
//
// It never reads the frozen evaluation set.
func TestTrainQuestionModel(t *testing.T) {
	if os.Getenv("EINSATZ_TRAIN_QUESTIONS") != "1" {
		t.Skip("set EINSATZ_TRAIN_QUESTIONS=1 to fit the question detector")
	}
	msgs := readLabelled(t, questionsTrain)
	xs := make([][]float64, len(msgs))
	ys := make([]float64, len(msgs))
	for i, m := range msgs {
		f := questionFeatures(m.Text)
		xs[i] = f[:]
		if m.Question {
			ys[i] = 1
		}
	}
	w := scantest.FitLogistic(xs, ys, qBias, 0.003, 20000, 0.5)
	t.Log("\n" + scantest.GoWeights("questionWeights", "qNumFeatures", w, qFeatureNames[:]))

	var c confusion
	for i := range xs {
		c.Add(ys[i] == 1, scan.Logistic(w, xs[i]) > 0.5)
	}
	t.Logf("training set with the new weights: %v", c)
}

// FuzzIsQuestion checks that no input panics or allocates differently; the
// seeds run with go test.
func FuzzIsQuestion(f *testing.F) {
	for _, s := range []string{"", "?", "'", "\"„“", "wie?'\"", "\xff\xfe", strings.Repeat("ä", 300) + "?", strings.Repeat("a, ", 400)} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		if p := QuestionScore(s); p < 0 || p > 1 || math.IsNaN(p) {
			t.Errorf("QuestionScore(%q) = %v", s, p)
		}
	})
}
