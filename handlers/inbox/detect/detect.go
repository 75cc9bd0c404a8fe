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
// thanks and social phrases ("please add me to the beta"). Other rules
// tell a request to the product from what merely sounds like one in a
// chat between people: advice to a person ("you should try", "du solltest
// … installieren", "your fstab", "sudo"), asks for help ("if someone could
// explain", "kann mir jemand helfen"), personal wishes ("I wish I had more
// time", "ich wünschte, ich hätte"), hindsight ("should have checked"),
// replies about requests ("good idea, please file an issue"), a bare "that
// would be nice", and a message addressed to a nick ("nick: …"); and on
// the other side a wish aimed at the product ("if the bot could", "wenn
// man … könnte", "please make") and capabilities ("option", "setting",
// "Einstellung"). A logistic regression over those features and hashed
// word n-grams (weights in model.go and ngrams.bin, fitted by TestTrain;
// see docs/detectors.md) turns them into a probability.
//
// It runs offline, is deterministic and safe for concurrent use, and takes
// a few microseconds; DetectLang does not allocate.
package detect

import (
	"bytes"
	"math"

	"github.com/einsatz/einsatz/bot/lang"
	"github.com/einsatz/einsatz/bot/lang/scan"
)

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

// DetectLang judges text written in lang ("en" or "de"; anything else is
// treated as English).
func DetectLang(text, language string) Result {
	if language != lang.German {
		language = lang.English
	}
	p := Score(text, language)
	return Result{FeatureRequest: p >= DefaultThreshold, Score: p, Lang: language}
}

// Score is the probability (0..1) that text, written in language, asks for
// a feature.
func Score(text, language string) float64 {
	var p parsed
	analyze(text, language, &p)
	return scan.Sigmoid(p.z())
}

// parsed is what the model sees of a message: the rule features and the
// hashed word n-grams (words, pairs of adjacent words within a clause,
// and each clause's first word), as bucket numbers.
type parsed struct {
	f     [numFeatures]float64
	grams [3 * maxTokens]uint32
	ng    int
}

// z is the model's log-odds: the rule features' weighted sum plus the
// n-grams' weights, scaled by 1/√n so that a long message does not win on
// length alone.
func (p *parsed) z() float64 {
	z := 0.0
	for i, w := range weights {
		z += w * p.f[i]
	}
	if p.ng > 0 {
		g := 0.0
		for _, b := range p.grams[:p.ng] {
			g += float64(ngramWeights[b])
		}
		z += g * ngramScale(p.ng)
	}
	return z
}

// ngramScale is the factor of the n-gram weights' sum for n n-grams.
func ngramScale(n int) float64 { return 1 / math.Sqrt(float64(n)) }

// Features of a message; fBias is always 1.
const (
	fBias       = iota
	fAsk        // a request to the developers: "could you add", "könntet ihr … einbauen"
	fImper      // an imperative: "please add", "let us", "bitte baut", "gebt uns"
	fWish       // "would be great", "wäre schön", "would help"
	fDesire     // "I wish", "would love", "hätte gern", "wünsche mir"
	fPlan       // "any plans", "on the roadmap", "any chance", "hoffentlich", "geplant"
	fWhen       // "when will", "wann kommt", "kommt … irgendwann"
	fLabel      // "feature request:", "idea:", "Vorschlag:" at the start
	fMissing    // "still no", "no way to", "es fehlt", "ich vermisse", "immer noch kein"
	fLost       // something specific is missing: "missing the last row", "fehlt die Zeile"
	fNeed       // "we need", "should be possible", "man sollte", "bräuchten"
	fPossible   // "would it be possible", "how about", "wie wär's"
	fPlusOne    // "+1"
	fBug        // bug vocabulary: "crash", "error", "kaputt", "Fehler"
	fRegress    // "since the update", "no longer", "nicht mehr"
	fQuestion   // a question about what exists: "how do I", "wie kann ich", "is there"
	fHelp       // a request for help: "explain", "anyone know", "erklären"
	fPraise     // praise: "love", "great job", "super", "Lob"
	fThanks     // "thanks", "danke"
	fDone       // something already done: "thanks for adding", "eingebaut habt"
	fSocial     // "add me to", "let me know", "see you", "wünsch euch"
	fQEnd       // ends with "?"
	fShort      // fewer than four words
	fGerman     // the message is German
	fAdvice     // advice to a person: "you should try", "you may need", "du solltest … installieren", "probier mal"
	fYour       // the reader's own things: "your resolv.conf", "deine Config"
	fHindsight  // "should have done", "should've", "hätte … sollen"
	fPersonal   // a personal wish: "I wish I knew", "wish it was", "ich wünschte, ich hätte"
	fToProduct  // a wish aimed at the product: "if it could", "if you could add", "wenn es … könnte"
	fCapability // a capability: "option", "setting", "ability to", "by default", "Einstellung", "Möglichkeit"
	fAddressed  // starts with a name and ":" or ",": "nick: …", said to a person
	fBareWish   // a wish with nothing wished for: "that would be nice.", "would be awesome", "wäre schön :)"
	fReply      // a reply about a request, not one: "that's a good feature request", "please file an issue", "gute Idee, gebe ich weiter"
	fCommand    // a command or path the reader can use now: "sudo", "/etc/fstab", "Terminal"
	fHelpAsk    // an ask for help or a service now: "if someone could explain", "any help would be great", "kann mir jemand helfen"
	numFeatures
)

var featureNames = [numFeatures]string{
	"bias", "ask", "imperative", "wish", "desire", "plan", "when", "label", "missing", "lost", "need",
	"possible", "+1", "bug", "regression", "question", "help", "praise", "thanks", "done",
	"social", "end?", "short", "german", "advice", "your", "hindsight", "personal", "to product",
	"capability", "addressed", "bare wish", "reply", "command", "help ask",
}

// A message longer than window bytes is judged by its first and last
// window/2 bytes.
const window = 512

// maxTokens bounds the words looked at.
const maxTokens = 96

// scanner scans messages for the detector: "#help" and "a/b" are words,
// and dashes are folded into "-".
var scanner = scan.New(scan.Config{WordChars: "_#/", FoldDashes: true})

// tokenize splits s into words and the punctuation between them. "+1"
// is a word; apostrophes, hyphens and dots inside a word keep it together.
func tokenize(s *scan.Text) {
	for i := 0; i < s.N && !s.Full(); {
		r, size := s.RuneAt(i)
		switch {
		case s.IsWordRune(r) || r == '+' && s.WordAt(i+1):
			start := i
			i = s.WordEnd(i + size)
			s.AddWord(start, i)
			continue
		case r == '?' || r == '!' || r == '.' || r == ',' || r == ':' || r == ';' || r == '\n' || r == '-' || r == '(' || r == ')' || r == '[' || r == ']':
			b := byte(r)
			if r == '-' || r == '(' || r == ')' {
				b = ','
			}
			if r == '[' || r == ']' {
				b = ':'
			}
			s.Break(b)
		}
		i += size
	}
}

// sentenceEnd reports whether punctuation ends a sentence.
func sentenceEnd(b byte) bool { return b == '?' || b == '!' || b == '.' || b == '\n' || b == ';' }

// features computes the rule features of text.
func features(text, language string) [numFeatures]float64 {
	var p parsed
	analyze(text, language, &p)
	return p.f
}

// analyze fills p with the rule features and n-grams of text.
func analyze(text, language string, p *parsed) {
	f := &p.f
	f[fBias] = 1
	if language == lang.German {
		f[fGerman] = 1
	}
	var buf [window + 16]byte
	var toks [maxTokens]scan.Token
	s := scanner.Text(buf[:], toks[:])
	if len(text) <= window {
		s.Lower(text, window)
	} else {
		s.Lower(text[:scan.RuneCut(text, window/2)], window/2)
		s.Buf[s.N], s.Buf[s.N+1] = '\n', ' '
		s.N += 2
		s.Lower(text[scan.RuneCut(text, len(text)-window/2+2):], window+2)
	}
	tokenize(&s)
	if s.NT == 0 {
		return
	}
	p.ng = ngrams(&s, &p.grams)
	if s.NT < 4 {
		f[fShort] = 1
	}
	if s.Toks[s.NT-1].Brk == '?' {
		f[fQEnd] = 1
	}
	for i := 0; i < s.NT; i++ {
		w := s.Word(i)
		if string(w) == "should" && hindsight(&s, i) {
			f[fHindsight] = 1
		}
		if f[fCommand] == 0 && isPath(w) {
			f[fCommand] = 1
		}
		if f[fBareWish] == 0 && isBe(w) && bareWish(&s, i) {
			f[fBareWish] = 1
		}
		if len(w) > maxFirstLen {
			matchPrefixes(&s, i, f)
			continue
		}
		for _, pat := range patternIndex[string(w)] {
			if f[pat.feature] == 1 || pat.atStart && !atClauseStart(&s, i) {
				continue
			}
			if pat.match(&s, i) {
				f[pat.feature] = 1
			}
		}
		matchPrefixes(&s, i, f)
	}
	if s.NT > 2 && (s.Toks[0].Brk == ':' || s.Toks[0].Brk == ',') && f[fLabel] == 0 && !fillers[string(s.Word(0))] && !notNames[string(s.Word(0))] {
		f[fAddressed] = 1
	}
}

// The n-gram hash: FNV-1a (32 bits), folded into numBuckets buckets.
const (
	hashBits   = 13
	numBuckets = 1 << hashBits
	fnvOffset  = 2166136261
	fnvPrime   = 16777619
)

func fnvAdd(h uint32, b []byte) uint32 {
	for _, c := range b {
		h ^= uint32(c)
		h *= fnvPrime
	}
	return h
}

func fnvByte(h uint32, c byte) uint32 { return (h ^ uint32(c)) * fnvPrime }

// ngrams writes the buckets of s's words, of each pair of adjacent words
// with no punctuation between them, and of each clause's first word
// (marked "^"), and returns how many it wrote.
func ngrams(s *scan.Text, out *[3 * maxTokens]uint32) int {
	n := 0
	var prev uint32
	for i := 0; i < s.NT; i++ {
		h := fnvAdd(fnvOffset, s.Word(i))
		out[n] = h >> (32 - hashBits)
		n++
		if i == 0 || s.Toks[i-1].Brk != 0 {
			out[n] = fnvAdd(fnvByte(fnvOffset, '^'), s.Word(i)) >> (32 - hashBits)
		} else {
			out[n] = fnvAdd(fnvByte(prev, ' '), s.Word(i)) >> (32 - hashBits)
		}
		n++
		prev = h
	}
	return n
}

// atClauseStart reports whether word i opens a clause, possibly after
// fillers ("hey", "so", "also").
func atClauseStart(s *scan.Text, i int) bool {
	for i > 0 {
		if s.Toks[i-1].Brk != 0 {
			return true
		}
		if !fillers[string(s.Word(i-1))] {
			return false
		}
		i--
	}
	return true
}

// hindsight reports whether "should" at word i looks back: "should have"
// at the end of a clause or before a past participle ("should have
// checked", "should have been").
func hindsight(s *scan.Text, i int) bool {
	if i+1 >= s.NT || s.Toks[i].Brk != 0 || string(s.Word(i+1)) != "have" {
		return false
	}
	if i+2 >= s.NT || s.Toks[i+1].Brk != 0 {
		return true
	}
	w := s.Word(i + 2)
	n := len(w)
	return n > 3 && (string(w[n-2:]) == "ed" || string(w[n-2:]) == "en" || string(w[n-2:]) == "wn") || participles[string(w)]
}

// isPath reports whether w looks like a file path ("/etc/fstab",
// "~/.bashrc", "resolv.conf"), which a reader can open now.
func isPath(w []byte) bool {
	n := len(w)
	if n < 4 {
		return false
	}
	if (w[0] == '/' || w[0] == '~') && bytes.IndexByte(w[1:], '/') >= 0 {
		return true
	}
	switch w[n-1] {
	case 'f':
		return bytes.HasSuffix(w, []byte(".conf"))
	case 'g':
		return bytes.HasSuffix(w, []byte(".cfg"))
	case 'i':
		return bytes.HasSuffix(w, []byte(".ini"))
	}
	return false
}

// isBe reports whether w is "be" or "wäre", which a wish's adjective
// follows ("would be nice", "wäre schön").
func isBe(w []byte) bool {
	switch string(w) {
	case "be", "wäre", "wär", "wärs", "wär's", "wäre's":
		return true
	}
	return false
}

// bareWish reports whether the "be" at word be starts a wish that says
// neither what is wished for nor about what: an adjective within three
// words of it ("would be really nice"), only a pronoun before it in the
// clause ("that would be nice", "would be awesome", "wäre toll"; not "a
// dark mode would be nice"), and nothing after the adjective but the end
// of a sentence or a trailer ("would be nice though").
func bareWish(s *scan.Text, be int) bool {
	i := -1
	for j := be + 1; j < s.NT && j <= be+3; j++ {
		if wishAdjectives[string(s.Word(j))] {
			i = j
			break
		}
		if s.Toks[j].Brk != 0 {
			break
		}
	}
	if i < 0 || s.Toks[be].Brk != 0 {
		return false
	}
	for j := be - 1; j >= 0 && s.Toks[j].Brk == 0; j-- {
		if !bareSubjects[string(s.Word(j))] {
			return false
		}
	}
	if i+1 >= s.NT || sentenceEnd(s.Toks[i].Brk) {
		return true
	}
	return s.Toks[i].Brk == 0 && trailers[string(s.Word(i+1))]
}

func matchPrefixes(s *scan.Text, i int, f *[numFeatures]float64) {
	w := s.Word(i)
	for _, p := range prefixFeatures {
		if len(w) >= len(p.prefix) && string(w[:len(p.prefix)]) == p.prefix {
			f[p.feature] = 1
		}
	}
}
