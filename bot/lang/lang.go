// Package lang guesses whether a chat message is English or German, the two
// languages Einsatz speaks. It is a cheap stop-word and letter vote, good
// enough to pick the language of a reply; it never says anything but "en" or
// "de".
package lang

import (
	"strings"
	"unicode"
)

// Languages the bot answers in.
const (
	English = "en"
	German  = "de"
)

// Words that are frequent in one language and rare in the other. Shared
// spellings ("in", "was", "will", "also") are left out on purpose.
var (
	enWords = wordSet("the a an is are am be been what how why who where when which can could would should do does did i you he she it we they my your this that these those there with for to of on not no yes please thanks thank and or but if then about from have has had get got any some just hi hello hey help need want know don't doesn't isn't can't won't i'm it's")
	deWords = wordSet("der die das ist sind bin sein wie warum wieso weshalb wer wo wann welche welcher welches kann könnte würde sollte ich du er sie es wir ihr mein dein dies diese dieser dort mit für zu von auf nicht nein ja bitte danke und oder aber wenn dann über aus habe hat hatte gibt gab kein keine nur hallo moin servus hilfe brauche möchte weiß den dem des ein eine einen einem einer auch noch schon mal doch gerne geht funktioniert")
)

func wordSet(s string) map[string]bool {
	m := map[string]bool{}
	for _, w := range strings.Fields(s) {
		m[w] = true
	}
	return m
}

// Detect returns "de" when the text reads as German and "en" otherwise
// (English is the fallback for empty, mixed or unknown text).
func Detect(text string) string {
	en, de := 0, 0
	for _, w := range strings.FieldsFunc(strings.ToLower(text), func(r rune) bool {
		return !unicode.IsLetter(r) && r != '\''
	}) {
		if enWords[w] {
			en++
		}
		if deWords[w] {
			de++
		}
		if strings.ContainsAny(w, "äöüß") {
			de++
		}
	}
	if de > en {
		return German
	}
	return English
}
