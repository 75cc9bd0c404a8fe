package answer

import (
	"math"
	"math/big"
	"regexp"
	"strings"
	"unicode"
)

// Placeholders that replace what Redact removes.
const (
	RedactedEmail  = "[email]"
	RedactedPhone  = "[phone]"
	RedactedSecret = "[secret]"
	RedactedIBAN   = "[iban]"
	RedactedCard   = "[card]"
)

// Redact replaces personal data and credentials in text with placeholders
// before text leaves for a language model: e-mail addresses, phone numbers,
// API keys and tokens (sk-…, xoxb-…, ghp_…, JWTs, "Bearer …", "password:
// …", "my password is …", "mein Passwort ist …", long hex or base64
// strings), IBANs (checksum-valid) and card numbers
// (Luhn-valid). Links stay readable: inside a URL only credentials are
// removed (user:password@, token-like query values, known token formats),
// so "https://medium.com/@alice" is left alone. It errs on the side of
// removing: a 40-digit git hash counts as a secret. Zero-width and other
// invisible characters are dropped first (they could split an address).
func Redact(text string) string {
	if text == "" {
		return text
	}
	// Invisible characters would hide an address from the patterns
	// ("jane\u200b@example.com"); the model does not need them either.
	text = invisible.Replace(text)
	var b strings.Builder
	last := 0
	for _, loc := range urlRe.FindAllStringIndex(text, -1) {
		b.WriteString(redactPlain(text[last:loc[0]]))
		b.WriteString(redactURL(text[loc[0]:loc[1]]))
		last = loc[1]
	}
	b.WriteString(redactPlain(text[last:]))
	return b.String()
}

var (
	urlRe = regexp.MustCompile("(?i)\\b(?:https?|ftp|wss?)://[^\\s<>\"'`]+")

	urlUserinfo = regexp.MustCompile(`(?i)^([a-z][a-z0-9+.-]*://[^/@\s:]*):[^/@\s]+@`)
	urlParam    = regexp.MustCompile(`(?i)([?&#](?:access_token|id_token|refresh_token|token|api_key|apikey|key|secret|client_secret|password|pwd|sig|signature|auth|code)=)[^&#\s]+`)

	bearer   = regexp.MustCompile(`(?i)\b(bearer|basic|token)(\s+)[A-Za-z0-9._~+/=-]{12,}`)
	keyValue = regexp.MustCompile(`(?i)\b(password|passwd|passwort|kennwort|pwd|secret|client[_-]?secret|token|access[_-]?token|api[_-]?key|apikey|access[_-]?key)(["']?\s*[:=]\s*["']?)([^\s"',;]{4,})`)

	knownTokens = []*regexp.Regexp{
		regexp.MustCompile(`-----BEGIN [A-Z ]*PRIVATE KEY-----[\s\S]*?-----END [A-Z ]*PRIVATE KEY-----`),
		regexp.MustCompile(`\bsk-(?:proj-|ant-|live-|test-)?[A-Za-z0-9_-]{16,}`),
		regexp.MustCompile(`\b(?:rk|pk)_(?:live|test)_[A-Za-z0-9]{16,}`),
		regexp.MustCompile(`\bxox[abposre]-[A-Za-z0-9-]{10,}`),
		regexp.MustCompile(`\bxapp-[A-Za-z0-9-]{10,}`),
		regexp.MustCompile(`\bgh[pousr]_[A-Za-z0-9]{20,}`),
		regexp.MustCompile(`\bgithub_pat_[A-Za-z0-9_]{20,}`),
		regexp.MustCompile(`\bglpat-[A-Za-z0-9_-]{20,}`),
		regexp.MustCompile(`\bAKIA[0-9A-Z]{16}\b`),
		regexp.MustCompile(`\bAIza[0-9A-Za-z_-]{35}`),
		regexp.MustCompile(`\beyJ[A-Za-z0-9_-]{8,}\.[A-Za-z0-9_-]{8,}\.[A-Za-z0-9_-]{8,}`),        // JWT
		regexp.MustCompile(`\b[MNO][A-Za-z0-9_-]{23,27}\.[A-Za-z0-9_-]{6}\.[A-Za-z0-9_-]{27,40}`), // Discord bot token
	}

	// "my password is hunter2", "das Kennwort lautet …": the word after.
	passwordSentence = regexp.MustCompile(`(?i)\b(password|passwort|kennwort|passphrase|passcode|passwd|pin)(\s+(?:is|was|ist|war|lautet|lautete)\s+)(\S+)`)

	// International numbers written without spaces (+4917012345678) are
	// taken before card numbers could hold their digits aside.
	intlPhone = regexp.MustCompile(`\+[1-9]\d{0,3}(?:[ ./-]?\(?\d{1,5}\)?){2,6}`)

	invisible = strings.NewReplacer(
		"\u200b", "", "\u200c", "", "\u200d", "", "\u2060", "", "\ufeff", "", "\u00ad", "", "\u180e", "",
		"\uff20", "@", "\ufe6b", "@", "\uff0e", ".",
	)

	email = regexp.MustCompile(`[A-Za-z0-9._%+-]+@[A-Za-z0-9-]+(?:\.[A-Za-z0-9-]+)*\.[A-Za-z]{2,}\b`)

	ibanCandidate = regexp.MustCompile(`(?i)\b[A-Z]{2}\d{2}(?:[ -]?[A-Z0-9]){11,32}`)
	cardCandidate = regexp.MustCompile(`\b\d(?:[ -]?\d){12,18}\b`)

	phones = []*regexp.Regexp{
		regexp.MustCompile(`(?:\+|\b00)[1-9]\d{0,3}(?:[ ./-]?\(?\d{1,5}\)?){2,6}`), // +49 30 1234567, 0044 20 …
		regexp.MustCompile(`\(?\b0\d{2,5}\)?(?:[ /-]?\d{2,8}){1,4}`),               // 030 1234567, 0151-23456789
		regexp.MustCompile(`\(?\b[2-9]\d{2}\)?[ .-]?\d{3}[ .-]\d{4}\b`),            // (555) 123-4567
	}

	longHex    = regexp.MustCompile(`\b[0-9a-fA-F]{32,}\b`)
	longBase64 = regexp.MustCompile(`[A-Za-z0-9+/_-]{32,}={0,2}`)
)

// redactURL removes credentials from a link and leaves the rest.
func redactURL(u string) string {
	u = urlUserinfo.ReplaceAllString(u, "${1}:"+RedactedSecret+"@")
	u = urlParam.ReplaceAllString(u, "${1}"+RedactedSecret)
	for _, re := range knownTokens {
		u = re.ReplaceAllString(u, RedactedSecret)
	}
	return u
}

func redactPlain(s string) string {
	if s == "" {
		return s
	}
	for _, re := range knownTokens {
		s = re.ReplaceAllString(s, RedactedSecret)
	}
	s = bearer.ReplaceAllString(s, "${1}${2}"+RedactedSecret)
	s = keyValue.ReplaceAllStringFunc(s, func(m string) string {
		sub := keyValue.FindStringSubmatch(m)
		if sub[3] == RedactedSecret || strings.HasPrefix(sub[3], "[") {
			return m // already redacted
		}
		return sub[1] + sub[2] + RedactedSecret
	})
	s = passwordSentence.ReplaceAllStringFunc(s, func(m string) string {
		sub := passwordSentence.FindStringSubmatch(m)
		word := sub[3]
		start := len(word) - len(strings.TrimLeft(word, quotes))
		// Sentence punctuation after the word is not part of it; inside
		// quotes everything is.
		end := len(strings.TrimRight(strings.TrimRight(word, ".,;:!?)"), quotes))
		if end <= start {
			return m
		}
		core := word[start:end]
		if strings.HasPrefix(core, "[") || notASecret[strings.ToLower(core)] {
			return m // already redacted, or talk about the password
		}
		return sub[1] + sub[2] + word[:start] + RedactedSecret + word[end:]
	})
	s = email.ReplaceAllStringFunc(s, func(m string) string {
		if strings.HasPrefix(m, "git@") {
			return m // an SSH remote (git@github.com:org/repo.git), not a person
		}
		return RedactedEmail
	})
	// IBAN- and card-shaped numbers that fail their checksum are left as
	// they are: held aside so that the phone and secret patterns below do
	// not take them apart.
	var kept []string
	keep := func(m string) string {
		if m == "" {
			return ""
		}
		kept = append(kept, m)
		return string(rune(keepBase + len(kept) - 1))
	}
	if strings.ContainsFunc(s, func(r rune) bool { return r >= keepBase }) {
		// Runes of the placeholders' range already in the text are held
		// aside too, or restoring would take them for placeholders.
		var b strings.Builder
		for _, r := range s {
			if r >= keepBase {
				b.WriteString(keep(string(r)))
				continue
			}
			b.WriteRune(r)
		}
		s = b.String()
	}
	s = replaceSpans(s, intlPhone, func(m string) bool {
		n := len(digitsOf(m))
		return n >= 8 && n <= 15
	}, RedactedPhone)
	s = replaceIBANs(s, keep)
	s = cardCandidate.ReplaceAllStringFunc(s, func(m string) string {
		if luhn(digitsOf(m)) {
			return RedactedCard
		}
		return keep(m)
	})
	for _, re := range phones {
		s = replaceSpans(s, re, func(m string) bool {
			n := len(digitsOf(m))
			return n >= 8 && n <= 15
		}, RedactedPhone)
	}
	s = longHex.ReplaceAllString(s, RedactedSecret)
	s = longBase64.ReplaceAllStringFunc(s, func(m string) string {
		if looksRandom(m) {
			return RedactedSecret
		}
		return m
	})
	if len(kept) > 0 {
		var b strings.Builder
		for _, r := range s {
			if i := int(r) - keepBase; i >= 0 && i < len(kept) {
				b.WriteString(kept[i])
				continue
			}
			b.WriteRune(r)
		}
		s = b.String()
	}
	return s
}

const quotes = "\"'„“”‘’«»"

// notASecret are words after "password is" that talk about the password
// rather than tell it (English and German).
var notASecret = wordSet(`not no wrong incorrect correct right invalid expired too the my a an
	still already being set reset changed required empty blank missing same different case-sensitive
	nicht kein keine falsch richtig korrekt ungültig abgelaufen zu das mein meine noch schon leer
	gesperrt geändert erforderlich gleich anders`)

func wordSet(words string) map[string]bool {
	set := map[string]bool{}
	for _, w := range strings.Fields(words) {
		set[w] = true
	}
	return set
}

// keepBase is the first of the Unicode private-use runes that stand in for
// numbers held aside while redacting (no pattern matches them).
const keepBase = 0xF0000

// replaceSpans replaces the matches of re that ok accepts and that are not
// glued to a following letter or digit.
func replaceSpans(s string, re *regexp.Regexp, ok func(string) bool, with string) string {
	locs := re.FindAllStringIndex(s, -1)
	if locs == nil {
		return s
	}
	var b strings.Builder
	last := 0
	for _, loc := range locs {
		m := s[loc[0]:loc[1]]
		if loc[1] < len(s) && isAlnum(rune(s[loc[1]])) || !ok(m) {
			continue
		}
		// A leading "(" belongs to the number only when it is closed inside.
		start := loc[0]
		if strings.HasPrefix(m, "(") && !strings.Contains(m, ")") {
			start++
		}
		b.WriteString(s[last:start])
		b.WriteString(with)
		last = loc[1]
	}
	b.WriteString(s[last:])
	return b.String()
}

func isAlnum(r rune) bool { return r < 128 && (unicode.IsLetter(r) || unicode.IsDigit(r)) }

// replaceIBANs replaces checksum-valid IBANs. A candidate may run on into
// the following words ("DE89 3704 0044 0532 0130 00 and"), so the longest
// valid prefix that ends at a group boundary wins.
func replaceIBANs(s string, keep func(string) string) string {
	locs := ibanCandidate.FindAllStringIndex(s, -1)
	if locs == nil {
		return s
	}
	var b strings.Builder
	last := 0
	for _, loc := range locs {
		cand := s[loc[0]:loc[1]]
		end := validIBANPrefix(cand)
		b.WriteString(s[last:loc[0]])
		if end == 0 {
			n := ibanShaped(cand)
			b.WriteString(keep(cand[:n]))
			b.WriteString(cand[n:])
			last = loc[1]
			continue
		}
		b.WriteString(RedactedIBAN)
		last = loc[0] + end
	}
	b.WriteString(s[last:])
	return b.String()
}

// validIBANPrefix returns the length of the longest prefix of cand that is
// a valid IBAN ending at a separator or the end of cand, or 0.
func validIBANPrefix(cand string) int {
	for end := len(cand); end > 0; end-- {
		if end < len(cand) && cand[end] != ' ' && cand[end] != '-' {
			continue // would cut a group in two
		}
		compact := strings.ToUpper(strings.NewReplacer(" ", "", "-", "").Replace(cand[:end]))
		if len(compact) >= 15 && len(compact) <= 34 && ibanValid(compact) {
			return end
		}
	}
	return 0
}

// ibanShaped returns the length of the longest prefix of cand written like
// an IBAN (compact, or in groups of four with a shorter last group, at
// least 15 characters), or 0.
func ibanShaped(cand string) int {
	n, chars, group := 0, 0, 0
	for i := 0; i <= len(cand); i++ {
		if i < len(cand) && cand[i] != ' ' && cand[i] != '-' {
			group++
			continue
		}
		// A group ends at i.
		if group == 0 {
			return n // two separators in a row
		}
		if chars+group > 34 {
			break
		}
		compact := chars == 0 && i == len(cand) // no separators at all
		if group != 4 && !compact {
			if group < 4 && chars+group >= 15 {
				n = i // a shorter last group
			}
			break
		}
		chars += group
		group = 0
		if chars >= 15 {
			n = i
		}
	}
	return n
}

// ibanValid checks the ISO 13616 mod-97 checksum of a compact IBAN.
func ibanValid(iban string) bool {
	rearranged := iban[4:] + iban[:4]
	var digits strings.Builder
	for _, r := range rearranged {
		switch {
		case r >= '0' && r <= '9':
			digits.WriteRune(r)
		case r >= 'A' && r <= 'Z':
			digits.WriteString(big.NewInt(int64(r - 'A' + 10)).String())
		default:
			return false
		}
	}
	n, ok := new(big.Int).SetString(digits.String(), 10)
	return ok && new(big.Int).Mod(n, big.NewInt(97)).Int64() == 1
}

func digitsOf(s string) string {
	var b strings.Builder
	for _, r := range s {
		if r >= '0' && r <= '9' {
			b.WriteRune(r)
		}
	}
	return b.String()
}

// luhn checks a card number's check digit.
func luhn(digits string) bool {
	if len(digits) < 13 || len(digits) > 19 {
		return false
	}
	sum := 0
	double := false
	for i := len(digits) - 1; i >= 0; i-- {
		d := int(digits[i] - '0')
		if double {
			d *= 2
			if d > 9 {
				d -= 9
			}
		}
		sum += d
		double = !double
	}
	return sum%10 == 0
}

// looksRandom tells a base64-like secret from a long identifier or path:
// letters and digits mixed, and close to random in its character use.
func looksRandom(s string) bool {
	var upper, lower, digit bool
	counts := map[rune]int{}
	for _, r := range s {
		switch {
		case r >= 'A' && r <= 'Z':
			upper = true
		case r >= 'a' && r <= 'z':
			lower = true
		case r >= '0' && r <= '9':
			digit = true
		}
		counts[r]++
	}
	if !digit || !(upper || lower) {
		return false
	}
	var entropy float64
	n := float64(len(s))
	for _, c := range counts {
		p := float64(c) / n
		entropy -= p * math.Log2(p)
	}
	return entropy >= 4.2
}
