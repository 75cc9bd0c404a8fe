package monitor

import "github.com/einsatz/einsatz/handlers/sentiment"

// SentimentAnalyzer is the offline sentiment analyzer as the monitor's
// Analyzer.
func SentimentAnalyzer(a *sentiment.Analyzer) Analyzer {
	return func(text, lang string) Score {
		r := a.AnalyzeLang(text, lang)
		return Score{Label: r.Label, Score: r.Score, Lang: r.Lang}
	}
}
