// Package scan is the text scanner shared by the bot's small message
// classifiers (the question detector in handlers/knowledge and the
// feature-request detector in handlers/inbox/detect): it lower-cases a
// chat message into a fixed buffer, folds typographic quotes (and, if
// asked, dashes) into ASCII ones, and splits it into words, each with the
// strongest punctuation that follows it. It also holds the logistic
// function both detectors score their features with.
//
// Nothing here allocates: a Text works in storage the caller provides,
// normally arrays on the caller's stack, and looks words up by byte
// slices. How a message is split into words (quotes, "+1", brackets) is
// the caller's, built from the primitives of Text.
package scan

import (
	"math"
	"unicode"
	"unicode/utf8"
)

// A Scanner says what belongs to a word and how text is folded. Its zero
// value is not useful; build one with New. It is safe for concurrent use.
type Scanner struct {
	word       [utf8.RuneSelf]bool
	foldDashes bool
}

// Config configures a Scanner.
type Config struct {
	// WordChars are the ASCII characters other than letters and digits
	// that belong to a word, such as "_@#" ("@einsatz", "#help").
	WordChars string
	// FoldDashes replaces en and em dashes by "-" when lower-casing.
	FoldDashes bool
}

// New returns a Scanner configured by c.
func New(c Config) *Scanner {
	sc := &Scanner{foldDashes: c.FoldDashes}
	for ch := range sc.word {
		sc.word[ch] = 'a' <= ch && ch <= 'z' || 'A' <= ch && ch <= 'Z' || '0' <= ch && ch <= '9'
	}
	for i := 0; i < len(c.WordChars); i++ {
		if ch := c.WordChars[i]; ch < utf8.RuneSelf {
			sc.word[ch] = true
		}
	}
	return sc
}

// IsWordRune reports whether r belongs to a word: a letter, a digit or one
// of the configured word characters.
func (sc *Scanner) IsWordRune(r rune) bool {
	if r < utf8.RuneSelf {
		return sc.word[r]
	}
	return isLetterOrDigit(r)
}

// isLetterOrDigit is the slow path of IsWordRune, kept apart so that the
// ASCII path inlines.
func isLetterOrDigit(r rune) bool { return unicode.IsLetter(r) || unicode.IsDigit(r) }

// Token is a word of a Text: Buf[Start:End], and the strongest punctuation
// that follows it before the next word (0 if none; see Rank).
type Token struct {
	Start, End int
	Brk        byte
}

// Text is a lower-cased message, Buf[:N], and its words, Toks[:NT].
type Text struct {
	sc   *Scanner
	Buf  []byte
	N    int
	Toks []Token
	NT   int
}

// Text returns an empty Text that lower-cases into buf and records at most
// len(toks) words in toks.
func (sc *Scanner) Text(buf []byte, toks []Token) Text {
	return Text{sc: sc, Buf: buf, Toks: toks}
}

// Lower appends text to Buf: lower-cased, typographic apostrophes and
// quotes replaced by ASCII ones (and dashes, if the Scanner folds them),
// until Buf holds limit bytes (at most len(Buf)). A rune that does not fit
// is left out with all that follows; invalid UTF-8 becomes U+FFFD, which
// is no letter.
func (s *Text) Lower(text string, limit int) {
	n := s.N
	for i := 0; i < len(text) && n < limit; {
		c := text[i]
		if c < utf8.RuneSelf {
			if 'A' <= c && c <= 'Z' {
				c += 'a' - 'A'
			}
			s.Buf[n] = c
			n++
			i++
			continue
		}
		r, size := utf8.DecodeRuneInString(text[i:])
		switch {
		case r == '’' || r == '‘' || r == '`' || r == '´':
			s.Buf[n] = '\''
			n++
		case r == '“' || r == '”' || r == '„' || r == '«' || r == '»':
			s.Buf[n] = '"'
			n++
		case s.sc.foldDashes && (r == '–' || r == '—'):
			s.Buf[n] = '-'
			n++
		default:
			if lr := unicode.ToLower(r); utf8.RuneLen(lr) == size {
				r = lr
			}
			if n+utf8.RuneLen(r) > limit {
				s.N = n
				return
			}
			n += utf8.EncodeRune(s.Buf[n:], r)
		}
		i += size
	}
	s.N = n
}

// Word returns the i-th word (lower case) as a byte slice of Buf, or nil if
// there is none.
func (s *Text) Word(i int) []byte {
	if i < 0 || i >= s.NT {
		return nil
	}
	return s.Buf[s.Toks[i].Start:s.Toks[i].End]
}

// RuneAt decodes the rune at Buf[i] (utf8.RuneError, 0 outside Buf[:N]).
func (s *Text) RuneAt(i int) (rune, int) {
	if i >= s.N || i < 0 {
		return utf8.RuneError, 0
	}
	if c := s.Buf[i]; c < utf8.RuneSelf {
		return rune(c), 1
	}
	return s.decodeRune(i)
}

// decodeRune is the slow path of RuneAt.
func (s *Text) decodeRune(i int) (rune, int) { return utf8.DecodeRune(s.Buf[i:s.N]) }

// IsWordRune reports whether r belongs to a word.
func (s *Text) IsWordRune(r rune) bool { return s.sc.IsWordRune(r) }

// WordAt reports whether a word rune starts at Buf[i].
func (s *Text) WordAt(i int) bool {
	r, size := s.RuneAt(i)
	return size > 0 && s.sc.IsWordRune(r)
}

// WordEnd returns the end of the word that continues at Buf[i]: word runes,
// and apostrophes, hyphens and dots between them ("what's", "gibt's",
// "Research-Inbox", "config.yaml").
func (s *Text) WordEnd(i int) int {
	for i < s.N {
		r, size := s.RuneAt(i)
		if s.sc.IsWordRune(r) {
			i += size
			continue
		}
		if (r == '\'' || r == '-' || r == '.') && s.WordAt(i+1) {
			i++
			continue
		}
		break
	}
	return i
}

// Full reports whether Toks has no room for another word.
func (s *Text) Full() bool { return s.NT >= len(s.Toks) }

// AddWord records Buf[start:end] as the next word; the caller checks Full.
func (s *Text) AddWord(start, end int) {
	s.Toks[s.NT] = Token{Start: start, End: end}
	s.NT++
}

// Break records punctuation b after the last word if it says more than
// what is there (see Rank). Punctuation before the first word is dropped.
func (s *Text) Break(b byte) {
	if s.NT == 0 {
		return
	}
	t := &s.Toks[s.NT-1]
	if Rank(b) > Rank(t.Brk) {
		t.Brk = b
	}
}

// Rank orders punctuation by how much it says: "?!" ends a question.
func Rank(b byte) int {
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

// RuneCut moves i back to the start of a rune of s.
func RuneCut(s string, i int) int {
	for i > 0 && !utf8.RuneStart(s[i]) {
		i--
	}
	return i
}

// Sigmoid is the logistic function 1/(1+e^-x).
func Sigmoid(x float64) float64 { return 1 / (1 + math.Exp(-x)) }

// Logistic is the probability a logistic regression with weights w gives
// to features f: Sigmoid of their dot product. f is at least as long as w.
func Logistic(w, f []float64) float64 {
	s := 0.0
	for i := range w {
		s += w[i] * f[i]
	}
	return Sigmoid(s)
}
