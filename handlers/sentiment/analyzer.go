// Package sentiment is Einsatz's offline sentiment analyzer for English and German chat
// messages: a lexicon pass in the manner of VADER (negation, intensifiers and dampeners, contrast,
// emoji and emoticons, elongations, caps, chat slang, questions) followed by a small learned
// combiner. It needs no network and no model files beyond what it embeds. See docs/sentiment.md.
package sentiment

import (
	"math"
	"math/bits"
	"strings"
	"sync"
	"unicode"
	"unicode/utf8"
)

// Result is the sentiment of one message.
type Result struct {
	Label string  // "positive", "neutral" or "negative"
	Score float64 // in [-1, 1]: P(positive) - P(negative)
	Lang  string  // "en" or "de"
}

// Labels.
const (
	Positive = "positive"
	Neutral  = "neutral"
	Negative = "negative"
)

// Bounds on the work per message: longer texts are judged by their first MaxBytes bytes.
const (
	MaxBytes  = 4096
	maxTokens = 512
)

// Analyzer scores messages. It is immutable after New and safe for concurrent use.
type Analyzer struct {
	lx          *lexicon
	lexiconOnly bool
	threshold   float64 // lexicon-only decision threshold on the compound score
	pool        sync.Pool
}

// New loads the embedded lexicons and model. The tables are parsed once per process; further
// calls share them.
func New() *Analyzer {
	lx, err := loadLexicon()
	if err != nil {
		// The data is embedded and checked by the tests: this is a build defect.
		panic("sentiment: embedded data: " + err.Error())
	}
	return newAnalyzer(lx, false)
}

func newAnalyzer(lx *lexicon, lexiconOnly bool) *Analyzer {
	a := &Analyzer{lx: lx, lexiconOnly: lexiconOnly, threshold: 0.05}
	if lx.models[en].empty() || lx.models[de].empty() {
		a.lexiconOnly = true
	}
	a.pool.New = func() any { return new(scratch) }
	return a
}

// AnalyzeLang scores text in the given language ("en" or "de"; "" or anything else detects it).
func (a *Analyzer) AnalyzeLang(text, lang string) Result {
	s := a.pool.Get().(*scratch)
	x, l := a.features(s, text, langIndex(lang))
	a.pool.Put(s)
	return a.decide(&x, l)
}

func (a *Analyzer) decide(x *[nFeatures]float64, l int) Result {
	r := Result{Lang: langNames[l], Label: Neutral}
	if x[xBias] == 0 {
		return r
	}
	if a.lexiconOnly {
		c := x[xCompound]
		r.Score = c
		switch {
		case c >= a.threshold:
			r.Label = Positive
		case c <= -a.threshold:
			r.Label = Negative
		default:
			r.Label = Neutral
		}
		return r
	}
	p := a.lx.models[l].predict(x)
	best := cNeu
	for c := range nClasses {
		if p[c] > p[best] {
			best = c
		}
	}
	r.Label = labels[best]
	r.Score = math.Max(-1, math.Min(1, p[cPos]-p[cNeg]))
	return r
}

// langIndex maps a language tag to en/de, or -1 to detect.
func langIndex(lang string) int {
	switch {
	case lang == "":
		return -1
	case len(lang) >= 2 && (lang[0]|0x20) == 'e' && (lang[1]|0x20) == 'n' && (len(lang) == 2 || lang[2] == '-' || lang[2] == '_' || strings.EqualFold(lang, "english")):
		return en
	case len(lang) >= 2 && (lang[0]|0x20) == 'd' && (lang[1]|0x20) == 'e' && (len(lang) == 2 || lang[2] == '-' || lang[2] == '_' || strings.EqualFold(lang, "deutsch")):
		return de
	case strings.EqualFold(lang, "german"):
		return de
	}
	return -1
}

// token kinds
const (
	kWord = iota
	kEmoji
)

type token struct {
	v      float32 // valence in the chosen language (set by resolve)
	b      float32 // booster value
	fl     uint16  // entry flags in the chosen language
	ent    int32   // lexicon entry, -1 if none, <= -2 a German prefix
	start  uint16  // the lowercased word in scratch.buf (words only)
	end    uint16
	clause uint16
	kind   uint8
	caps   bool
	plain  bool // unknown word of 4+ ASCII letters: its spelling may hint at the language
	ironic bool // followed by an ellipsis ("great…") or in quotes ("great" service): read as irony in a negative context
}

type scratch struct {
	buf  [MaxBytes + 64]byte
	toks [maxTokens]token
}

// byteKind classes bytes for scan: isSpace, and ASCII letters and digits (isAlnum).
const (
	bSpace = 1 << iota
	bAlnum
)

var byteKind = func() (tab [256]uint8) {
	for b := range tab {
		if isSpace(byte(b)) {
			tab[b] |= bSpace
		}
		if isAlnum(byte(b)) {
			tab[b] |= bAlnum
		}
	}
	return tab
}()

func isSpace(c byte) bool {
	return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\f' || c == '\v'
}

func isLower(c byte) bool { return c >= 'a' && c <= 'z' }

func isAlnum(c byte) bool {
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9')
}

func isClausePunct(c byte) bool {
	return c == '.' || c == ',' || c == ';' || c == ':' || c == '!' || c == '?' || c == '(' || c == ')'
}

// tokenizer state for one message
type tz struct {
	lx      *lexicon
	s       *scratch
	n       int    // tokens
	p       int    // bytes used in buf
	clause  uint16 // current clause id
	evEN    int
	evDE    int
	excl    int
	quest   int
	url     bool
	mention bool
	hashtag bool
	words   int
	capsW   int // words in caps (2+ letters)
	lettW   int // words with 2+ letters
	nums    int // numbers ("10", "2.3", "17:30"): factual reporting
	quoteAt int // 1 + the index of the token after an opening quote, 0 if none
}

// irony marks the last token when it is a word: an ellipsis follows it, or it closes a quote
// opened right before it.
func (t *tz) irony() {
	if t.n > 0 && t.s.toks[t.n-1].kind == kWord {
		t.s.toks[t.n-1].ironic = true
	}
}

// quote handles a quotation mark: it closes a one-word quote ("great") or opens one.
func (t *tz) quote() {
	if t.quoteAt > 0 && t.quoteAt == t.n {
		t.irony()
		t.quoteAt = 0
		return
	}
	t.quoteAt = t.n + 1
}

func (t *tz) boundary() {
	if t.n > 0 && t.s.toks[t.n-1].clause == t.clause {
		t.clause++
	}
}

func (t *tz) lookup(w []byte) int32 { return tableGet(t.lx.tab, w) }

func (t *tz) emit(tok token) {
	if t.n < maxTokens {
		t.s.toks[t.n] = tok
		t.n++
	}
}

// features tokenizes and scores text; l is the language index or -1 to detect it.
func (a *Analyzer) features(s *scratch, text string, l int) (x [nFeatures]float64, lang int) {
	if len(text) > MaxBytes {
		cut := MaxBytes
		for cut > 0 && !utf8.RuneStart(text[cut]) {
			cut--
		}
		text = text[:cut]
	}
	t := tz{lx: a.lx, s: s}
	t.scan(text)
	if l < 0 {
		if d := t.evDE - t.evEN; d >= -1 && d <= 1 {
			// undecided so far: consult the spelling of unknown words ("-ung", "sch", "-ing")
			for i := range t.n {
				if tok := &t.s.toks[i]; tok.plain {
					t.spelling(t.s.buf[tok.start:tok.end])
				}
			}
		}
		l = en
		if t.evDE > t.evEN {
			l = de
		}
	}
	if l == de {
		t.germanFallback()
	}
	t.score(l, &x)
	if t.n == 0 {
		x[xBias] = 0 // nothing to judge: decide() answers neutral, 0
	}
	return x, l
}

// scan splits text into whitespace-separated chunks and those into words, emoji and emoticons.
func (t *tz) scan(text string) {
	i := 0
	for i < len(text) && t.n < maxTokens {
		for i < len(text) && isSpace(text[i]) {
			i++
		}
		j := i
		var other uint8 // bAlnum once a byte is not an ASCII letter or digit
		for j < len(text) {
			f := byteKind[text[j]]
			if f&bSpace != 0 {
				break
			}
			other |= ^f & bAlnum
			j++
		}
		if j > i {
			if other == 0 {
				// only ASCII letters and digits: no mention, URL or emoticon, so chunk would
				// go straight to its loop, whose first step is a word
				c := text[i:j]
				if k := t.word(c, 0); k < len(c) {
					t.parts(c, k)
				}
			} else {
				t.chunk(text[i:j])
			}
		}
		i = j
	}
}

func isAlpha(c byte) bool { return (c|0x20) >= 'a' && (c|0x20) <= 'z' }

// isURL reports whether c starts with "http://", "https://" or "www.", ignoring case as
// strings.EqualFold does: the prefixes are ASCII, and EqualFold never matches a multi-byte rune
// against an equally long ASCII string, so byte-wise ASCII case folding answers the same.
func isURL(c string) bool {
	if len(c) < 4 {
		return false
	}
	if c[0]|0x20 == 'w' {
		return c[1]|0x20 == 'w' && c[2]|0x20 == 'w' && c[3] == '.'
	}
	if len(c) < 7 || c[1]|0x20 != 't' || c[2]|0x20 != 't' || c[3]|0x20 != 'p' {
		return false
	}
	if c[4] == ':' {
		return c[5] == '/' && c[6] == '/'
	}
	return len(c) >= 8 && c[4]|0x20 == 's' && c[5] == ':' && c[6] == '/' && c[7] == '/'
}

func (t *tz) chunk(c string) {
	switch c[0] {
	case '@':
		if len(c) > 1 {
			t.mention = true
			return
		}
	case 'h', 'H', 'w', 'W':
		if isURL(c) {
			t.url = true
			return
		}
	}
	// a word ("ok,", "The") or a single character is never an emoticon: skip the call
	if len(c) >= 2 && !(isLower(c[1]) && isAlpha(c[0])) && t.emoticon(c) {
		t.boundary()
		return
	}
	t.parts(c, 0)
}

// parts splits chunk c from k into words, emoji, emoticons and punctuation.
func (t *tz) parts(c string, k int) {
	for k < len(c) {
		b := c[k]
		if b < utf8.RuneSelf {
			if isAlnum(b) || (b == '#' && k+1 < len(c) && isAlnum(c[k+1])) {
				k = t.word(c, k)
				continue
			}
			// a run of ASCII punctuation: counts, clause ends, attached emoticons ("toll:)")
			q := k
			for q < len(c) && c[q] < utf8.RuneSelf && !isAlnum(c[q]) {
				q++
			}
			run := c[k:q]
			if q-k >= 2 && q-k <= 4 {
				if q < len(c) && strings.IndexByte("DPpO3S", c[q]) >= 0 && (q+1 == len(c) || !isAlnum(c[q+1])) {
					if t.emoticon(c[k : q+1]) {
						t.boundary()
						k = q + 1
						continue
					}
				}
				if t.emoticon(run) {
					t.boundary()
					k = q
					continue
				}
			}
			clause := false
			if run[0] == '"' {
				t.quote()
			}
			if len(run) > 1 && run[len(run)-1] == '"' {
				t.quote()
			}
			for i := 0; i < len(run); i++ {
				switch run[i] {
				case '!':
					t.excl++
				case '?':
					t.quest++
				case '.':
					if i+1 < len(run) && run[i+1] == '.' {
						t.irony()
					}
				}
				if isClausePunct(run[i]) {
					clause = true
				}
			}
			if clause {
				t.boundary()
			}
			k = q
			continue
		}
		r, size := utf8.DecodeRuneInString(c[k:])
		switch {
		case r == utf8.RuneError && size == 1:
			k++ // invalid byte: a separator
		case unicode.IsLetter(r) || unicode.IsDigit(r):
			k = t.word(c, k)
		case r >= 0x2100:
			if r == 0xFE0F || r == 0x200D || r == 0x20E3 || (r >= 0x1F3FB && r <= 0x1F3FF) {
				k += size
				continue
			}
			if i := t.lookupStr(c[k : k+size]); i >= 0 {
				t.emit(token{ent: i, kind: kEmoji, clause: t.clause})
			}
			k += size
		default: // other punctuation: … „ “ – ‼ ⁉
			switch r {
			case '…':
				t.irony()
				t.boundary()
			case '–', '—':
				t.boundary()
			case '„', '“', '”', '«', '»':
				t.quote()
			case '‼':
				t.excl += 2
				t.boundary()
			case '⁉', '¿':
				t.quest++
				t.boundary()
			case '¡':
				t.excl++
			}
			k += size
		}
	}
}

func (t *tz) lookupStr(w string) int32 { return tableGet(t.lx.tab, w) }

// emoticon looks up an ASCII chunk such as ":-)", ":DDD" or "<333" as an emoticon.
func (t *tz) emoticon(c string) bool {
	if len(c) < 2 || len(c) > 16 {
		return false
	}
	if isLower(c[1]) && (isLower(c[0]) || (c[0] >= 'A' && c[0] <= 'Z')) {
		return false // a word ("ok,", "The")
	}
	letters, punct := 0, false
	for i := 0; i < len(c); i++ {
		b := c[i]
		if b >= utf8.RuneSelf {
			return false
		}
		if (b >= 'a' && b <= 'z') || (b >= 'A' && b <= 'Z') {
			if i == 0 || c[i-1] != b {
				letters++
			}
		} else if !(b >= '0' && b <= '9') {
			punct = true
		}
	}
	if !punct || letters > 2 {
		return false
	}
	i := t.lookupStr(c)
	if i < 0 {
		// collapse repeats: ":)))" -> ":)", "*____*" -> "*_*"
		var tmp [16]byte
		n := 0
		for k := 0; k < len(c); k++ {
			if n == 0 || tmp[n-1] != c[k] {
				tmp[n] = c[k]
				n++
			}
		}
		if n == len(c) {
			return false
		}
		i = t.lookup(tmp[:n])
		if i < 0 {
			return false
		}
	}
	if t.lx.entries[i].flags[en]&fVal == 0 && t.lx.entries[i].flags[de]&fVal == 0 {
		return false
	}
	t.emit(token{ent: i, kind: kEmoji, clause: t.clause})
	return true
}

// word reads a word starting at c[k] (letters, digits, inner apostrophes; a leading '#' is
// dropped), lowercases it into the scratch buffer, looks it up and emits a token. It returns the
// index after the word.
func (t *tz) word(c string, k int) int {
	if c[k] == '#' {
		t.hashtag = true
		k++
	}
	buf := t.s.buf[:]
	start := t.p
	p := t.p
	upper, letters := 0, 0
	umlaut := false
	h := uint32(2166136261) // FNV-1a of the lowercased word, as hashWord computes it
loop:
	for k < len(c) && p+4 < len(buf) {
		b := c[k]
		if b < utf8.RuneSelf {
			switch {
			case b >= 'a' && b <= 'z':
				letters++
			case b >= 'A' && b <= 'Z':
				letters++
				upper++
				b |= 0x20
			case b >= '0' && b <= '9':
			case b == '\'' && p > start && k+1 < len(c) && isAlnum(c[k+1]):
			default:
				break loop
			}
			buf[p] = b
			p++
			k++
			h = (h ^ uint32(b)) * 16777619
			continue
		}
		r, size := utf8.DecodeRuneInString(c[k:])
		q := p
		switch {
		case r == 0x2019 && p > start && k+size < len(c) && isAlnum(c[k+size]): // ’
			buf[p] = '\''
			p++
		case unicode.IsLetter(r) || unicode.IsMark(r):
			letters++
			if unicode.IsUpper(r) {
				upper++
				r = unicode.ToLower(r)
			}
			if r == 'ä' || r == 'ö' || r == 'ü' || r == 'ß' {
				umlaut = true
			}
			p += utf8.EncodeRune(buf[p:], r)
		case unicode.IsDigit(r):
			p += utf8.EncodeRune(buf[p:], r)
		default:
			break loop
		}
		for _, b := range buf[q:p] {
			h = (h ^ uint32(b)) * 16777619
		}
		k += size
	}
	if h == 0 {
		h = 1
	}
	if p == start {
		// nothing usable (e.g. an apostrophe alone): skip one byte so the caller advances
		if k < len(c) && t.p == p {
			return k + 1
		}
		return k
	}
	if letters == 0 { // a number
		t.nums++
		return k
	}
	t.words++
	if letters >= 2 {
		t.lettW++
		if upper == letters {
			t.capsW++
		}
	}
	w := buf[start:p]
	ent := tableGetH(t.lx.tab, w, h)
	if ent < 0 && tripled(w) {
		ent = t.collapse(w, p)
	}
	if ent < 0 && len(w) > 3 && w[len(w)-3] == 'n' && w[len(w)-2] == '\'' && w[len(w)-1] == 't' {
		ent = t.lookupStr("not")
	}
	if ent >= 0 {
		e := &t.lx.entries[ent]
		if e.flags[en]&fStop != 0 {
			t.evEN++
		}
		if e.flags[de]&fStop != 0 {
			t.evDE++
		}
	}
	if umlaut {
		t.evDE++
	}
	t.p = p
	if t.n < maxTokens {
		tok := &t.s.toks[t.n]
		tok.ent, tok.start, tok.end, tok.clause, tok.kind = ent, uint16(start), uint16(p), t.clause, kWord
		tok.caps = letters >= 2 && upper == letters
		tok.plain = ent < 0 && !umlaut && letters >= 4 && letters == len(w)
		tok.ironic = false // the scratch is reused
		t.n++
	}
	return k
}

// collapse retries an elongated word ("soooo", "guuut", "suuuper"): runs of three or more
// letters shrink to two, then to one. The candidates are written after the word in the buffer.
func (t *tz) collapse(w []byte, p int) int32 {
	buf := t.s.buf[:]
	for _, keep := range [2]int{2, 1} {
		if p+len(w) > len(buf) {
			return -1
		}
		q := p
		for i := 0; i < len(w); {
			j := i
			for j < len(w) && w[j] == w[i] {
				j++
			}
			n := j - i
			if n >= 3 {
				n = keep
			}
			for range n {
				buf[q] = w[i]
				q++
			}
			i = j
		}
		if i := t.lookup(buf[p:q]); i >= 0 {
			return i
		}
	}
	// multi-byte letters elongated ("süüüß") are left as they are
	return -1
}

func hasSuffix(w []byte, s string) bool {
	return len(w) > len(s) && string(w[len(w)-len(s):]) == s
}

// spelling adds weak language evidence from the spelling of an unknown word: German
// "-ung", "-keit", "-lich", "sch", "ge...t"; English "-ing", "th", "wh-", "-ly".
func (t *tz) spelling(w []byte) {
	n := len(w)
	switch {
	case w[n-1] == 'g' && hasSuffix(w, "ung"), w[n-1] == 'n' && (hasSuffix(w, "ungen") || hasSuffix(w, "igen")),
		w[n-1] == 't' && (hasSuffix(w, "keit") || hasSuffix(w, "heit")),
		w[n-1] == 'h' && (hasSuffix(w, "lich") || hasSuffix(w, "isch")), hasSuffix(w, "chen"),
		n >= 6 && w[0] == 'g' && w[1] == 'e' && w[n-1] == 't':
		t.evDE++
		return
	case w[n-1] == 'g' && hasSuffix(w, "ing"), w[n-1] == 'y' && hasSuffix(w, "ly"), hasSuffix(w, "ous"),
		hasSuffix(w, "ness"), w[0] == 'w' && w[1] == 'h':
		t.evEN++
		return
	}
	for i := 0; i+1 < n; i++ {
		switch w[i] {
		case 's':
			if i+2 < n && w[i+1] == 'c' && w[i+2] == 'h' {
				t.evDE++
				return
			}
		case 't':
			if w[i+1] == 'z' {
				t.evDE++
				return
			}
			if w[i+1] == 'h' {
				t.evEN++
				return
			}
		}
	}
}

// German endings to strip, longest first, by the word's last byte.
var deSuffixes = [256][]string{
	'n': {"esten", "sten", "eren", "ern", "en", "n"},
	'r': {"ester", "ster", "erer", "er"},
	's': {"estes", "stes", "eres", "es", "s"},
	'e': {"este", "ste", "ere", "e"},
	'm': {"em"},
	't': {"st", "t"},
}

// deSuffix is a deSuffixes ending as a number: its bytes, the last one lowest (as tail5 packs a
// word's last five bytes), and the mask of its length.
type deSuffix struct {
	n         int
	val, mask uint64
}

var deSuffixVals = func() (tab [256][]deSuffix) {
	for c, list := range deSuffixes {
		for _, suf := range list {
			var v uint64
			for i := 0; i < len(suf); i++ {
				v = v<<8 | uint64(suf[i])
			}
			tab[c] = append(tab[c], deSuffix{n: len(suf), val: v, mask: 1<<(8*len(suf)) - 1})
		}
	}
	return tab
}()

// tail5 packs the last five bytes of w (len(w) >= 5), the last one lowest.
func tail5(w []byte) uint64 {
	w = w[len(w)-5:]
	return uint64(w[0])<<32 | uint64(w[1])<<24 | uint64(w[2])<<16 | uint64(w[3])<<8 | uint64(w[4])
}

// maxFallbackWord: germanFallback skips words this long or longer.
const maxFallbackWord = 48

// germanFallback finds inflected forms and compounds for German words the table lacks:
// "schönen" -> "schön", "Scheißwetter" -> prefix "scheiß".
func (t *tz) germanFallback() {
	for i := 0; i < t.n; i++ {
		tok := &t.s.toks[i]
		if tok.kind != kWord {
			continue
		}
		if tok.ent >= 0 && t.lx.entries[tok.ent].flags[de] != 0 {
			continue
		}
		w := t.s.buf[tok.start:tok.end]
		if len(w) < 5 || len(w) >= maxFallbackWord {
			continue
		}
		// FNV-1a hash of the stem w[:hp], extended as the candidate stems grow (shortest first)
		h, hp := uint32(2166136261), 0
		found := false
		tail := tail5(w)
		for _, suf := range deSuffixVals[w[len(w)-1]] {
			// suf.n <= 5 <= len(w): tail holds the ending (string(w[n:]) == the suffix)
			if n := len(w) - suf.n; n >= 3 && tail&suf.mask == suf.val {
				for ; hp < n; hp++ {
					h = (h ^ uint32(w[hp])) * 16777619
				}
				hn := h
				if hn == 0 {
					hn = 1
				}
				if e := tableGetH(t.lx.tab, w[:n], hn); e >= 0 && t.lx.entries[e].flags[de]&fVal != 0 {
					tok.ent = e
					found = true
					break
				}
			}
		}
		if found || len(w) < 7 {
			continue
		}
		// the prefixes that may start w, in list order (first match wins)
		for m := t.lx.prefFirst[w[0]]; m != 0; m &= m - 1 {
			pi := bits.TrailingZeros64(m)
			if pr := t.lx.prefDE[pi]; len(w)-len(pr.p) >= 3 && string(w[:len(pr.p)]) == pr.p {
				tok.ent = -2 - int32(pi) // prefix valence
				found = true
				break
			}
		}
		for pi := 64; !found && pi < len(t.lx.prefDE); pi++ { // only with more than 64 prefixes
			if pr := t.lx.prefDE[pi]; len(w)-len(pr.p) >= 3 && string(w[:len(pr.p)]) == pr.p {
				tok.ent = -2 - int32(pi)
				break
			}
		}
	}
}

// Scoring constants (VADER's where it has them).
const (
	negScalar   = -0.74
	capsIncr    = 0.733
	elongIncr   = 0.4
	exclIncr    = 0.292
	beforeBut   = 0.5
	afterBut    = 1.5
	questionMul = 0.75
	alpha       = 15
)

func (t *tz) valence(tok *token, l int) (v float32, fl uint16, boost float32) {
	// ent >= 0: the entry; -1: none; <= -2: a German prefix. valEntries lists them all, in that
	// order, so this needs no branch: ent, or len(entries) + (-1 - ent).
	m := tok.ent >> 31
	e := &t.lx.valEntries[int(tok.ent^m)+int(int32(len(t.lx.entries))&m)]
	return e.val[l], e.flags[l], e.boost[l]
}

func sign(v float64) float64 {
	if v < 0 {
		return -1
	}
	return 1
}

// score walks the tokens in language l and fills the feature vector.
func (t *tz) score(l int, x *[nFeatures]float64) {
	toks := t.s.toks[:t.n]
	capsDiff := t.capsW > 0 && t.capsW < t.lettW
	shout := t.capsW >= 3 && t.capsW == t.lettW
	contrast := -1
	negAny, person, again, negWord := false, false, false, false
	for i := range toks {
		tok := &toks[i]
		v, fl, b := t.valence(tok, l)
		tok.v, tok.fl, tok.b = v, fl, b
		if fl&fContrast != 0 {
			contrast = i
		}
		if fl&fNeg != 0 {
			negAny = true
		}
		person = person || fl&fPerson != 0
		again = again || fl&fAgain != 0
		negWord = negWord || (fl&fVal != 0 && v < 0)
	}
	var sum, pos, neg, emoPos, emoNeg, maxAbs float64
	npos, nneg := 0, 0
	irony, litotes := false, false
	for i := range toks {
		tok := &toks[i]
		v, fl := float64(tok.v), tok.fl
		if fl&fVal == 0 || v == 0 {
			continue
		}
		if tok.kind == kWord {
			if fl&fBoost != 0 && t.modifiesNext(toks, i) {
				continue // "mega gut": mega is the booster here, not a sentiment of its own
			}
			if tok.caps && capsDiff {
				v += sign(v) * capsIncr
			}
			if t.elongated(tok) {
				v += sign(v) * elongIncr
			}
			negated := false
			for d := 1; d <= 3 && i-d >= 0; d++ {
				pt := &toks[i-d]
				if pt.clause != tok.clause || pt.kind != kWord {
					break
				}
				pfl, b := pt.fl, float64(pt.b)
				if pfl&fBoost != 0 && b != 0 {
					scale := [4]float64{0, 1, 0.95, 0.9}[d]
					if pt.caps && capsDiff {
						b += sign(b) * 0.2
					}
					nv := v + sign(v)*b*scale
					if sign(nv) != sign(v) { // a dampener never flips the sign
						nv = 0
					}
					v = nv
				}
				if pfl&fNeg != 0 {
					negated = true
				}
			}
			if !negated && l == de {
				// "Das gefällt mir nicht." - a clause-final nicht negates what came before.
				for d := 1; d <= 3 && i+d < len(toks); d++ {
					nt := &toks[i+d]
					if nt.clause != tok.clause {
						break
					}
					if nt.fl&fPostNeg != 0 && (i+d+1 == len(toks) || toks[i+d+1].clause != tok.clause) {
						negated = true
						break
					}
				}
			}
			if negated {
				litotes = litotes || v < 0
				v *= negScalar
			} else if v > 0 && (again || negWord) && t.ironic(toks, i, again && negWord) {
				// "late AGAIN, great…", "thanks a lot, crashed again": praise in a
				// complaint reads as irony
				v = -v
				irony = true
			}
		}
		if contrast >= 0 {
			if i < contrast {
				v *= beforeBut
			} else {
				v *= afterBut
			}
		}
		sum += v
		maxAbs = max(maxAbs, math.Abs(v))
		if v > 0 {
			pos += v
			npos++
			if tok.kind == kEmoji {
				emoPos += v
			}
		} else {
			neg -= v
			nneg++
			if tok.kind == kEmoji {
				emoNeg -= v
			}
		}
	}
	if sum != 0 {
		sum += sign(sum) * float64(min(t.excl, 4)) * exclIncr
		if shout {
			sum *= 1.15
		}
		if t.quest > 0 {
			sum *= questionMul
		}
	}
	compound := sum / math.Sqrt(sum*sum+alpha)
	x[xBias] = 1
	x[xCompound] = compound
	x[xPos] = log1p0(pos)
	x[xNeg] = log1p0(neg)
	x[xEmoPos] = log1p0(emoPos)
	x[xEmoNeg] = log1p0(emoNeg)
	x[xQuestion] = b2f(t.quest > 0)
	x[xExclaim] = float64(min(t.excl, 3)) / 3
	x[xURL] = b2f(t.url)
	x[xMention] = b2f(t.mention)
	x[xHashtag] = b2f(t.hashtag)
	if t.words < len(lengthFeature) {
		x[xLength] = lengthFeature[t.words]
	} else {
		x[xLength] = math.Log1p(float64(t.words)) / 4
	}
	x[xNegation] = b2f(negAny)
	x[xContrast] = b2f(contrast >= 0)
	x[xMixed] = b2f(npos > 0 && nneg > 0)
	x[xAbs] = math.Abs(compound)
	x[xLexPos] = b2f(compound >= 0.05)
	x[xLexNeg] = b2f(compound <= -0.05)
	x[xPerson] = b2f(person)
	x[xNumber] = b2f(t.nums > 0)
	x[xIrony] = b2f(irony)
	x[xMaxAbs] = min(maxAbs, 4) / 4
	x[xLitotes] = b2f(litotes)
}

// ironic reports whether the positive word at i reads as irony, given that the message has a
// complaint context (a negative word or "again"): it is marked (an ellipsis after it, or
// quotes around it), or, when both a negative word and "again" occur, it stands in a short
// clause of its own ("great, crashed again", "thanks a lot, down again").
func (t *tz) ironic(toks []token, i int, both bool) bool {
	if toks[i].ironic {
		return true
	}
	if !both {
		return false
	}
	c, n := toks[i].clause, 0
	for j := i; j >= 0 && toks[j].clause == c; j-- {
		n++
	}
	for j := i + 1; j < len(toks) && toks[j].clause == c; j++ {
		n++
	}
	return n <= 3
}

// log1p0 is math.Log1p, skipping the call for the common +0 (Log1p(+0) = +0).
func log1p0(v float64) float64 {
	if v == 0 && !math.Signbit(v) {
		return 0
	}
	return math.Log1p(v)
}

// lengthFeature[n] = math.Log1p(float64(n)) / 4, the xLength feature for n words.
var lengthFeature = func() (tab [256]float64) {
	for n := range tab {
		tab[n] = math.Log1p(float64(n)) / 4
	}
	return tab
}()

func b2f(b bool) float64 {
	if b {
		return 1
	}
	return 0
}

// modifiesNext reports whether the booster at i has a sentiment word within the next three
// tokens of its clause.
func (t *tz) modifiesNext(toks []token, i int) bool {
	for d := 1; d <= 3 && i+d < len(toks); d++ {
		nt := &toks[i+d]
		if nt.clause != toks[i].clause || nt.kind != kWord {
			return false
		}
		if nt.fl&fVal != 0 {
			return true
		}
	}
	return false
}

func (t *tz) elongated(tok *token) bool { return tripled(t.s.buf[tok.start:tok.end]) }

// tripled reports a run of three equal ASCII letters ("soooo").
func tripled(w []byte) bool {
	for i := 2; i < len(w); i++ {
		if w[i] == w[i-1] && w[i] == w[i-2] && w[i] >= 'a' && w[i] <= 'z' {
			return true
		}
	}
	return false
}

// Label is AnalyzeLang's label and score, the shape the hand-off's
// escalations take (handoff.Options.Sentiment).
func (a *Analyzer) Label(text, lang string) (string, float64) {
	r := a.AnalyzeLang(text, lang)
	return r.Label, r.Score
}

// Score is AnalyzeLang's score alone (inbox.Options.Sentiment).
func (a *Analyzer) Score(text, lang string) float64 { return a.AnalyzeLang(text, lang).Score }
