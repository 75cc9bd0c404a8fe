package lang

import "strings"

// Excerpt puts s on one line (runs of white space become one space) and
// shortens it to at most n runes: a longer text keeps its first n-1 runes
// and ends with "…". Titles, summaries and log or report lines use it.
func Excerpt(s string, n int) string {
	s = strings.Join(strings.Fields(s), " ")
	if r := []rune(s); len(r) > n {
		return strings.TrimSpace(string(r[:max(n-1, 0)])) + "…"
	}
	return s
}

// IsFiller reports whether word (in lower case) is a word of chat questions
// that the stop word lists of the search analyzers lack but that says
// nothing about the topic: English modal verbs ("Can I …?"), German
// question words ("Wann …?", "Gibt es …?"), greetings, and the particles
// and pronouns of chat ("actually", "anyone", "eigentlich", "jemand").
func IsFiller(word string) bool { return fillers[word] }

var fillers = func() map[string]bool {
	m := map[string]bool{}
	for _, w := range strings.Fields(`can will may might must shall please hi hello hey thanks thank
		actually really basically just even anyone anybody someone somebody guys pls plz
		wann warum wieso weshalb wer wen wem wessen gibt gib geht bitte hallo danke
		eigentlich überhaupt halt eben mal nochmal irgendwie jemand leute`) {
		m[w] = true
	}
	return m
}()
