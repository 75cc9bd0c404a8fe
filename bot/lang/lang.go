// Package lang guesses whether a chat message is English or German, the two
// languages Einsatz speaks. It is a cheap stop-word and letter vote, good
// enough to pick the language of a reply; it never says anything but "en" or
// "de". It also holds the small text helpers the features share (Excerpt,
// IsFiller).
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
	enWords = wordSet(`the a an is are am be been were what how why who where when which can could would should
		do does did i me you he she it its we our they their my your this that these those there here with for to of
		on at by into as than not no yes please thanks thank and or but if then about from have has had get got any
		some just hi hello hey help need want know don't doesn't isn't can't won't i'm it's`)
	deWords = wordSet(`der das dem den des ein eine einen einem einer und oder ist sind war waren bin sein wird werden wurde
		nicht kein keine ich du er sie wir ihr mein dein sich mit für von zu zum zur auf aus bei nach über unter wie
		warum wieso weshalb wann wo welche welcher welches wer auch noch nur schon kann können könnte muss müssen
		soll sollte würde darf hat haben habe hatte dass wenn aber doch ja nein mir mich dir dich uns euch ihm ihn im
		am vom beim ins es man dies diese dieser dort bitte danke dann gibt gab hallo moin servus hilfe brauche
		möchte weiß mal gerne geht funktioniert`)
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
	l, _ := Guess(text)
	return l
}

// Guess is Detect that also says whether there was any evidence: sure is
// false when no word pointed either way or the counts tied.
func Guess(text string) (lang string, sure bool) {
	en, de := 0, 0
	for _, w := range strings.FieldsFunc(strings.ToLower(text), func(r rune) bool {
		return !unicode.IsLetter(r) && r != '\''
	}) {
		w = strings.Trim(w, "'")
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
	switch {
	case de > en:
		return German, true
	case en > de:
		return English, true
	}
	return English, false
}
