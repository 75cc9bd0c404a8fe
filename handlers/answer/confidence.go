package answer

import (
	"math"
	"strings"

	"github.com/einsatz/einsatz/handlers/knowledge"
)

// The answer/abstain decision: a confidence that the best passage answers
// the question, from a small logistic model over features of the question
// and the retrieved passages (no word features, so it carries over to any
// knowledge base). The weights (confidenceWeights) are fitted by
// TestTrainConfidence on the training halves of the FAQ sets in
// testdata/answers; their other halves and testdata/messages.jsonl (never
// fitted on) are what TestEvalDevSets measures.

// Features of a candidate passage; cBias is always 1.
const (
	cBias     = iota
	cRare     // IDF-weighted share of the question's terms in the passage
	cCoverage // plain share of the question's terms in the passage
	cContext  // IDF-weighted share of the question's terms in its title and heading
	cMissing  // weight of the rarest question term the passage lacks (0..1)
	cGap      // score gap to the best passage of another document, relative to the first
	cShort    // 1/number of question terms: one matching word is weak evidence
	cSim      // embedding similarity (0 without embeddings)
	cYesNo    // a yes/no question ("Does it support …?", "Gibt es …?"): often about what is not there
	cTitle    // IDF-weighted share of the question's terms in its document's title
	cDefine   // a "what is …?" question and the passage opens its document
	cPhrase   // share of the question's neighbouring terms that are neighbours in the passage
	cAsked    // IDF-weighted share of the passage's title and heading terms the question has
	cRareGap  // rare × gap: a clear winner that also covers the question
	cAgree    // share of the first passages' score that is this passage's document's
	cKind     // the question asks as its document's title does ("Why …?" and "Why is …?")
	cNumFeatures
)

var cFeatureNames = [cNumFeatures]string{"bias", "rare", "coverage", "context", "missing", "gap", "short", "sim", "yesno", "title", "define", "phrase", "asked", "raregap", "agree", "kind"}

// DefaultMinConfidence is the default knowledge.min_confidence: chosen for
// precision on the development sets (see testdata/README.md).
const DefaultMinConfidence = 0.65

// features describes how well hits[i] answers the question q.
func features(q string, hits []knowledge.Hit, i int) [cNumFeatures]float64 {
	var f [cNumFeatures]float64
	h := hits[i]
	f[cBias] = 1
	f[cRare] = h.Rare
	f[cCoverage] = h.Coverage
	f[cContext] = h.Context
	f[cMissing] = h.Missing
	if h.Lexical > 0 {
		next := 0.0
		for j, o := range hits {
			if j != i && o.Source != h.Source && o.Lexical > next {
				next = o.Lexical
			}
		}
		f[cGap] = max(0, (h.Lexical-next)/h.Lexical)
	}
	if h.Terms > 0 {
		f[cShort] = 1 / float64(h.Terms)
	}
	f[cSim] = h.Similarity
	if yesNo(q) {
		f[cYesNo] = 1
	}
	f[cTitle] = h.TitleMatch
	if h.Heading == "" && definition(q) {
		f[cDefine] = 1
	}
	f[cRareGap] = h.Rare * f[cGap]
	f[cPhrase] = h.Phrase
	f[cAsked] = h.Asked
	var all, doc float64
	for _, o := range hits[:min(len(hits), agreeHits)] {
		all += o.Lexical
		if o.Source == h.Source {
			doc += o.Lexical
		}
	}
	if all > 0 {
		f[cAgree] = doc / all
	}
	if k := askKind(q); k != "" && k == askKind(h.Title) {
		f[cKind] = 1
	}
	return f
}

// confidence is the model's probability that the passage answers.
func confidence(f [cNumFeatures]float64) float64 {
	z := 0.0
	for i, w := range confidenceWeights {
		z += w * f[i]
	}
	return 1 / (1 + math.Exp(-z))
}

// agreeHits is the number of first passages cAgree is measured over.
const agreeHits = 5

// askKind is the kind of question s asks by its first word ("why",
// "how", "what", …; German ones as their English kind), "" for none.
func askKind(s string) string {
	first, _, _ := strings.Cut(strings.ToLower(strings.TrimSpace(s)), " ")
	return askKinds[strings.Trim(first, "¿?,.!:;\"'")]
}

var askKinds = map[string]string{
	"why": "why", "warum": "why", "wieso": "why", "weshalb": "why",
	"how": "how", "wie": "how",
	"what": "what", "what's": "what", "whats": "what", "was": "what", "which": "what", "welche": "what", "welcher": "what", "welches": "what",
	"when": "when", "wann": "when", "where": "where", "wo": "where", "who": "who", "wer": "who",
	"can": "can", "kann": "can", "können": "can", "could": "can",
	"is": "is", "are": "is", "ist": "is", "sind": "is", "does": "is", "do": "is", "gibt": "is", "werden": "is", "wird": "is",
}

var yesNoStarts = map[string]bool{
	"does": true, "do": true, "is": true, "are": true, "can": true, "will": true, "has": true,
	"gibt": true, "unterstützt": true, "kann": true, "hat": true, "ist": true, "läuft": true, "bietet": true,
}

// definition reports whether q asks what something is or does ("What is
// Einsatz?", "Was macht der Bot?"): the opening of a page answers it.
func definition(q string) bool {
	l := strings.ToLower(strings.TrimSpace(q))
	for _, p := range definitionStarts {
		if strings.HasPrefix(l, p) {
			return true
		}
	}
	return false
}

var definitionStarts = []string{"what is ", "what's ", "whats ", "what does ", "what are ", "was ist ", "was sind ", "was macht ", "was kann "}

func yesNo(q string) bool {
	first, _, _ := strings.Cut(strings.ToLower(strings.TrimSpace(q)), " ")
	return yesNoStarts[first]
}
