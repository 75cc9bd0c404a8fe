package answer

import (
	"regexp"
	"strings"
	"unicode"
)

// Core is the part of a message the knowledge base is searched with: the
// question without what does not count against it. Greetings, thanks and
// self-introductions ("Hi everyone! I just joined and I run a small gaming
// Discord."), contact details and other personal data, signatures (after a
// "--" line, or a sign-off with a name at the end: "… LG Max", "Thanks,
// Jana") and pasted code or log lines are dropped; what remains of a
// message that is all of that is the message as it was.
func Core(text string) string { return coreOf(text, nil) }

// coreOf is Core; redacted, when not nil, is Redact(text) already computed,
// used when nothing was cut from text before its redaction (a message that
// is all question), so that it is not redacted a second time.
func coreOf(text string, redacted *string) string {
	t := strings.ReplaceAll(text, "\r\n", "\n")
	t = codeBlock.ReplaceAllString(t, " ")
	if i := signature.FindStringIndex(t); i != nil {
		t = t[:i[0]]
	}
	t = cutSignOff(t)
	var lines []string
	for _, l := range strings.Split(t, "\n") {
		if !logLine.MatchString(l) {
			lines = append(lines, l)
		}
	}
	if t = strings.Join(lines, "\n"); redacted != nil && t == text {
		t = *redacted
	} else {
		t = Redact(t)
	}
	var keep []string
	for _, s := range sentences(t) {
		if filler(s) {
			continue
		}
		s = placeholder.ReplaceAllString(s, " ")
		if strings.TrimFunc(s, func(r rune) bool { return !unicode.IsLetter(r) && !unicode.IsDigit(r) }) != "" {
			keep = append(keep, strings.TrimSpace(s))
		}
	}
	if len(keep) == 0 {
		return strings.TrimSpace(text)
	}
	return strings.Join(keep, " ")
}

var (
	codeBlock   = regexp.MustCompile("(?s)```.*?(```|$)")
	signature   = regexp.MustCompile(`(?m)^\s*--\s*$`)
	logLine     = regexp.MustCompile(`^\s*(\d{4}-\d\d-\d\d[T ]\d\d:\d\d|\[?(ERROR|WARN|INFO|DEBUG)\]?\s|at \S+\(|goroutine \d+|panic:)`)
	placeholder = regexp.MustCompile(`\[(email|phone|secret|iban|card)\]`)
	sentenceEnd = regexp.MustCompile(`[.!?\n]+\s*`)
)

// signOff is a closing greeting at the end of a message, with up to two
// words of a name after it ("… ein? LG Max", "Thanks, Jana", "Viele
// Grüße\nAnna Schmidt").
var signOff = regexp.MustCompile(`(?i)(?:^|([.!?,;:)\n])|\s)\s*(lg|vg|mfg|liebe grüße|viele grüße|beste grüße|schöne grüße|grüße|gruß|gruss|cheers|thanks|thank you|thx|ty|danke|best|regards|best regards|kind regards)(\s*,)?(?:\s+\p{L}[\p{L}'.-]*(?:\s+\p{L}[\p{L}'-]*)?)?[\s.!]*$`)

// cutSignOff drops a sign-off and the name after it from the end of t. A
// sign-off word counts as one only where a sign-off stands: after the end
// of a sentence or a line, or followed by a comma ("Thanks, Jana"), or
// when it is an abbreviation no sentence ends with ("… ein lg max"); "is
// there a thank you page" keeps its words.
func cutSignOff(t string) string {
	m := signOff.FindStringSubmatchIndex(t)
	if m == nil {
		return t
	}
	word := strings.ToLower(t[m[4]:m[5]])
	if m[0] == 0 || m[2] >= 0 || m[6] >= 0 || word == "lg" || word == "vg" || word == "mfg" {
		return strings.TrimRight(t[:m[4]], " \t\n,;:")
	}
	return t
}

// sentences splits text after ".", "!", "?" and line breaks.
func sentences(t string) []string {
	var out []string
	last := 0
	for _, m := range sentenceEnd.FindAllStringIndex(t, -1) {
		if s := strings.TrimSpace(t[last:m[1]]); s != "" {
			out = append(out, s)
		}
		last = m[1]
	}
	if s := strings.TrimSpace(t[last:]); s != "" {
		out = append(out, s)
	}
	return out
}

// filler reports whether a sentence is small talk around a question: a
// greeting, thanks, an introduction, or contact details. A sentence that
// asks ("?") is never filler.
func filler(s string) bool {
	l := strings.ToLower(strings.TrimSpace(s))
	if strings.HasSuffix(l, "?") {
		return false
	}
	if placeholder.MatchString(l) && len(strings.Fields(placeholder.ReplaceAllString(l, ""))) <= 6 {
		return true
	}
	words := strings.FieldsFunc(l, func(r rune) bool { return !unicode.IsLetter(r) && r != '\'' })
	if len(words) == 0 {
		return true
	}
	if isGreeting(l) || (len(words) <= 4 && (greetingWords[words[0]] || thanksWords[words[0]])) {
		return true
	}
	for _, p := range introPhrases {
		if strings.Contains(l, p) {
			return true
		}
	}
	return false
}

var greetingWords = map[string]bool{
	"hi": true, "hello": true, "hey": true, "hallo": true, "moin": true, "servus": true, "yo": true,
	"morning": true, "evening": true, "hiya": true, "greetings": true, "howdy": true, "grüß": true, "huhu": true,
}

var thanksWords = map[string]bool{
	"thanks": true, "thank": true, "thx": true, "ty": true, "danke": true, "vielen": true, "merci": true,
	"great": true, "super": true, "perfect": true, "cool": true, "nice": true, "ok": true, "okay": true, "nochmal": true,
}

var introPhrases = []string{
	"i just joined", "i'm new", "i am new", "new here", "my name is", "i'm from", "i am from", "i run a ", "i moderate",
	"long time lurker", "quick one", "quick question",
	"ich bin neu", "neu hier", " betreue ", "mein name", "ich betreue", "ich moderiere", "ich habe gerade angefangen",
	"my mail", "my e-mail", "my email", "contact me", "reach me", "meine adresse", "meine mail", "erreichbar",
}
