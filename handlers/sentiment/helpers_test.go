package sentiment

// The product passes the message's language to AnalyzeLang; the tests
// mostly let it detect the language.

// Analyze scores text, detecting its language (English or German).
func (a *Analyzer) Analyze(text string) Result { return a.AnalyzeLang(text, "") }
