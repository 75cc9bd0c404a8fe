// Package detect tells whether a chat message (English or German) asks for
// a feature: "could you add …", "it would be great if …", "wäre schön,
// wenn …", "bitte baut …", "any plans to support …", "wann kommt …?", and
// complaints about something missing ("why is there still no dark mode",
// "es gibt immer noch keinen Export"). Bug reports, questions about what
// exists, praise, rants without a request, thanks and greetings are not
// feature requests.
//
// The detector is rules plus a small model. The rules are phrase patterns
// (patterns.go), each of which sets one feature of the message: a request
// addressed to the developers ("could you add", "könntet ihr … einbauen"),
// a wish ("would be great", "wäre schön"), a plan question ("any plans",
// "wann kommt"), a label ("feature request:", "Vorschlag:"), a complaint
// about something missing ("still no", "es fehlt"), and the signs of the
// look-alikes: bug vocabulary ("crashes", "seit dem Update", "Fehler"),
// questions about existing behaviour ("how do I", "wie kann ich"), praise,
// thanks and social phrases ("please add me to the beta"). A logistic
// regression (weights in model.go, fitted by TestTrain on
// testdata/train.jsonl) turns the features into a probability.
//
// It runs offline, is deterministic and safe for concurrent use, and takes
// a few microseconds; DetectLang does not allocate.
package detect

import (
	"math"
	"unicode"
	"unicode/utf8"

	"github.com/einsatz/einsatz/bot/lang"
)

// DefaultThreshold is the score from which a message counts as a feature
// request.
const DefaultThreshold = 0.5

// Result is the verdict on one message.
type Result struct {
	// FeatureRequest is Score >= DefaultThreshold.
	FeatureRequest bool
	// Score is the model's probability (0..1) that the message asks for a
	// feature. Callers with their own threshold compare it themselves.
	Score float64
	// Lang is the language the message was judged in: "en" or "de".
	Lang string
}

// Detect judges text, guessing its language with lang.Guess.
func Detect(text string) Result {
	l, _ := lang.Guess(text)
	return DetectLang(text, l)
}

// DetectLang judges text written in lang ("en" or "de"; anything else is
// treated as English).
func DetectLang(text, language string) Result {
	if language != lang.German {
		language = lang.English
	}
	p := Score(text, language)
	return Result{FeatureRequest: p >= DefaultThreshold, Score: p, Lang: language}
}

// IsFeatureRequest reports whether text (language guessed) scores at least
// threshold.
func IsFeatureRequest(text string, threshold float64) bool {
	return Detect(text).Score >= threshold
}

// Score is the probability (0..1) that text, written in language, asks for
// a feature.
func Score(text, language string) float64 {
	f := features(text, language)
	return sigmoid(dot(&weights, &f))
}

func sigmoid(x float64) float64 { return 1 / (1 + math.Exp(-x)) }

func dot(w, f *[numFeatures]float64) float64 {
	s := 0.0
	for i := range w {
		s += w[i] * f[i]
	}
	return s
}

// Features of a message; fBias is always 1.
const (
	fBias     = iota
	fAsk      // a request to the developers: "could you add", "könntet ihr … einbauen"
	fImper    // an imperative: "please add", "let us", "bitte baut", "gebt uns"
	fWish     // "would be great", "wäre schön", "would help"
	fDesire   // "I wish", "would love", "hätte gern", "wünsche mir"
	fPlan     // "any plans", "on the roadmap", "any chance", "hoffentlich", "geplant"
	fWhen     // "when will", "wann kommt", "kommt … irgendwann"
	fLabel    // "feature request:", "idea:", "Vorschlag:" at the start
	fMissing  // "still no", "no way to", "es fehlt", "ich vermisse", "immer noch kein"
	fLost     // something specific is missing: "missing the last row", "fehlt die Zeile"
	fNeed     // "we need", "should be possible", "man sollte", "bräuchten"
	fPossible // "would it be possible", "how about", "wie wär's"
	fPlusOne  // "+1"
	fBug      // bug vocabulary: "crash", "error", "kaputt", "Fehler"
	fRegress  // "since the update", "no longer", "nicht mehr"
	fQuestion // a question about what exists: "how do I", "wie kann ich", "is there"
	fHelp     // a request for help: "explain", "anyone know", "erklären"
	fPraise   // praise: "love", "great job", "super", "Lob"
	fThanks   // "thanks", "danke"
	fDone     // something already done: "thanks for adding", "eingebaut habt"
	fSocial   // "add me to", "let me know", "see you", "wünsch euch"
	fQEnd     // ends with "?"
	fShort    // fewer than four words
	fGerman   // the message is German
	numFeatures
)

var featureNames = [numFeatures]string{
	"bias", "ask", "imperative", "wish", "desire", "plan", "when", "label", "missing", "lost", "need",
	"possible", "+1", "bug", "regression", "question", "help", "praise", "thanks", "done",
	"social", "end?", "short", "german",
}

// A message longer than window bytes is judged by its first and last
// window/2 bytes.
const window = 512

// maxTokens bounds the words looked at.
const maxTokens = 96

// token is a word of the message: buf[start:end], and the strongest
// punctuation that follows it before the next word (0 if none).
type token struct {
	start, end int
	brk        byte
}

// scan is a lower-cased message and its words.
type scan struct {
	buf  [window + 16]byte
	n    int
	toks [maxTokens]token
	nt   int
}

func (s *scan) word(i int) []byte {
	if i < 0 || i >= s.nt {
		return nil
	}
	return s.buf[s.toks[i].start:s.toks[i].end]
}

// lower appends text to buf: lower-cased, typographic apostrophes replaced
// by ASCII ones, at most limit bytes in all.
func (s *scan) lower(text string, limit int) {
	n := s.n
	for i := 0; i < len(text) && n < limit; {
		c := text[i]
		if c < utf8.RuneSelf {
			if 'A' <= c && c <= 'Z' {
				c += 'a' - 'A'
			}
			s.buf[n] = c
			n++
			i++
			continue
		}
		r, size := utf8.DecodeRuneInString(text[i:])
		switch r {
		case '’', '‘', '`', '´':
			s.buf[n] = '\''
			n++
		case '“', '”', '„', '«', '»':
			s.buf[n] = '"'
			n++
		case '–', '—':
			s.buf[n] = '-'
			n++
		default:
			if lr := unicode.ToLower(r); utf8.RuneLen(lr) == size {
				r = lr
			}
			if n+utf8.RuneLen(r) > limit {
				s.n = n
				return
			}
			n += utf8.EncodeRune(s.buf[n:], r)
		}
		i += size
	}
	s.n = n
}

func isWordRune(r rune) bool {
	if r < utf8.RuneSelf {
		return asciiWord[r]
	}
	return unicode.IsLetter(r) || unicode.IsDigit(r)
}

var asciiWord = func() (t [utf8.RuneSelf]bool) {
	for c := range t {
		t[c] = c == '_' || c == '#' || c == '/' || 'a' <= c && c <= 'z' || '0' <= c && c <= '9'
	}
	return t
}()

func (s *scan) runeAt(i int) (rune, int) {
	if i >= s.n || i < 0 {
		return utf8.RuneError, 0
	}
	if c := s.buf[i]; c < utf8.RuneSelf {
		return rune(c), 1
	}
	return utf8.DecodeRune(s.buf[i:s.n])
}

func (s *scan) wordAt(i int) bool {
	r, size := s.runeAt(i)
	return size > 0 && isWordRune(r)
}

// tokenize splits buf into words and the punctuation between them. "+1"
// is a word; apostrophes, hyphens and dots inside a word keep it together.
func (s *scan) tokenize() {
	s.nt = 0
	setBrk := func(b byte) {
		if s.nt == 0 {
			return
		}
		t := &s.toks[s.nt-1]
		if rank(b) > rank(t.brk) {
			t.brk = b
		}
	}
	for i := 0; i < s.n && s.nt < maxTokens; {
		r, size := s.runeAt(i)
		switch {
		case isWordRune(r) || r == '+' && s.wordAt(i+1):
			start := i
			i += size
			for i < s.n {
				r, size := s.runeAt(i)
				if isWordRune(r) {
					i += size
					continue
				}
				if (r == '\'' || r == '-' || r == '.') && s.wordAt(i+1) {
					i++
					continue
				}
				break
			}
			s.toks[s.nt] = token{start: start, end: i}
			s.nt++
			continue
		case r == '?' || r == '!' || r == '.' || r == ',' || r == ':' || r == ';' || r == '\n' || r == '-' || r == '(' || r == ')' || r == '[' || r == ']':
			b := byte(r)
			if r == '-' || r == '(' || r == ')' {
				b = ','
			}
			if r == '[' || r == ']' {
				b = ':'
			}
			setBrk(b)
		}
		i += size
	}
}

func rank(b byte) int {
	switch b {
	case '?':
		return 7
	case '!':
		return 6
	case '.':
		return 5
	case '\n':
		return 4
	case ':', ';':
		return 3
	case ',':
		return 2
	}
	return 0
}

// sentenceEnd reports whether punctuation ends a sentence.
func sentenceEnd(b byte) bool { return b == '?' || b == '!' || b == '.' || b == '\n' || b == ';' }

// features computes the features of text.
func features(text, language string) [numFeatures]float64 {
	var f [numFeatures]float64
	f[fBias] = 1
	if language == lang.German {
		f[fGerman] = 1
	}
	var s scan
	if len(text) <= window {
		s.lower(text, window)
	} else {
		s.lower(text[:runeCut(text, window/2)], window/2)
		s.buf[s.n], s.buf[s.n+1] = '\n', ' '
		s.n += 2
		s.lower(text[runeCut(text, len(text)-window/2+2):], window+2)
	}
	s.tokenize()
	if s.nt == 0 {
		return f
	}
	if s.nt < 4 {
		f[fShort] = 1
	}
	if s.toks[s.nt-1].brk == '?' {
		f[fQEnd] = 1
	}
	for i := 0; i < s.nt; i++ {
		w := s.word(i)
		if len(w) > maxFirstLen {
			matchPrefixes(&s, i, &f)
			continue
		}
		for _, p := range patternIndex[string(w)] {
			if f[p.feature] == 1 || p.atStart && !atClauseStart(&s, i) {
				continue
			}
			if p.match(&s, i) {
				f[p.feature] = 1
			}
		}
		matchPrefixes(&s, i, &f)
	}
	return f
}

// atClauseStart reports whether word i opens a clause, possibly after
// fillers ("hey", "so", "also").
func atClauseStart(s *scan, i int) bool {
	for i > 0 {
		if s.toks[i-1].brk != 0 {
			return true
		}
		if !fillers[string(s.word(i-1))] {
			return false
		}
		i--
	}
	return true
}

// runeCut moves i back to the start of a rune.
func runeCut(s string, i int) int {
	for i > 0 && !utf8.RuneStart(s[i]) {
		i--
	}
	return i
}

func matchPrefixes(s *scan, i int, f *[numFeatures]float64) {
	w := s.word(i)
	for _, p := range prefixFeatures {
		if len(w) >= len(p.prefix) && string(w[:len(p.prefix)]) == p.prefix {
			f[p.feature] = 1
		}
	}
}
