package detect

import "github.com/einsatz/einsatz/bot/lang"

// The product always knows the message's language (bot.Event.Lang) and
// calls DetectLang; the tests judge unlabelled text with these.

// Detect judges text, guessing its language with lang.Guess.
func Detect(text string) Result {
	l, _ := lang.Guess(text)
	return DetectLang(text, l)
}

// IsFeatureRequest reports whether text (language guessed) scores at least
// threshold.
func IsFeatureRequest(text string, threshold float64) bool {
	return Detect(text).Score >= threshold
}
