package sentiment

import "math"

// The learned component: a three-class logistic regression over a handful of message-level
// features that the lexicon pass computes (not over words, so it cannot memorise texts). One
// weight set per language, trained on the dev files with strong L2 regularisation; see
// train_test.go and docs/sentiment.md.

// Feature indices.
const (
	xBias     = iota
	xCompound // lexicon compound score in [-1, 1]
	xPos      // log1p(sum of positive valences)
	xNeg      // log1p(sum of |negative valences|)
	xEmoPos   // log1p(positive emoji and emoticon valence)
	xEmoNeg   // log1p(|negative emoji and emoticon valence|)
	xQuestion // a question mark
	xExclaim  // exclamation marks, capped at 3, /3
	xURL      // a link
	xMention  // an @mention
	xHashtag  // a #hashtag
	xLength   // log1p(words)/4
	xNegation // a negator anywhere
	xContrast // a contrast word ("but", "aber")
	xMixed    // both positive and negative words
	xAbs      // |compound|
	xLexPos   // compound >= 0.05 (the lexicon's own vote)
	xLexNeg   // compound <= -0.05
	xPerson   // a first- or second-person word: evaluative talk rather than reporting
	xNumber   // a number: times, prices, versions - factual reporting
	xIrony    // a positive word read as irony (its valence was flipped)
	xMaxAbs   // the strongest single sentiment word, |valence|/4: weak words alone are not an evaluation
	xLitotes  // a negated negative word ("not bad", "without problems"): mild praise, not a complaint
	nFeatures
)

var featureNames = [nFeatures]string{"bias", "compound", "pos", "neg", "emo_pos", "emo_neg",
	"question", "exclaim", "url", "mention", "hashtag", "length", "negation", "contrast", "mixed", "abs", "lex_pos", "lex_neg", "person", "number", "irony", "max_abs", "litotes"}

// Classes, in the order of the model's weight rows.
const (
	cNeg = iota
	cNeu
	cPos
	nClasses
)

var labels = [nClasses]string{"negative", "neutral", "positive"}

type model struct {
	W [nClasses][nFeatures]float64 `json:"w"`
}

type modelFile struct {
	Note string `json:"note"`
	EN   model  `json:"en"`
	DE   model  `json:"de"`
}

// predict below is written for three classes.
var (
	_ [nClasses - 3]struct{}
	_ [3 - nClasses]struct{}
)

// predict returns class probabilities.
func (m *model) predict(x *[nFeatures]float64) (p [nClasses]float64) {
	// The three dot products run side by side; each sums in feature order, as a plain loop would.
	var z [nClasses]float64
	var s0, s1, s2 float64
	for j := range nFeatures {
		xj := x[j]
		s0 += m.W[cNeg][j] * xj
		s1 += m.W[cNeu][j] * xj
		s2 += m.W[cPos][j] * xj
	}
	z[cNeg], z[cNeu], z[cPos] = s0, s1, s2
	mx := math.Inf(-1)
	for c := range nClasses {
		mx = max(mx, z[c])
	}
	sum := 0.0
	for c := range nClasses {
		if d := z[c] - mx; d == 0 {
			z[c] = 1 // math.Exp(0), exactly
		} else {
			z[c] = math.Exp(d)
		}
		sum += z[c]
	}
	for c := range nClasses {
		p[c] = z[c] / sum
	}
	return p
}

func (m *model) empty() bool {
	for c := range nClasses {
		for _, w := range m.W[c] {
			if w != 0 {
				return false
			}
		}
	}
	return true
}
