package support

import (
	"strings"
	"sync"

	"github.com/blevesearch/bleve/v2/analysis"
	"github.com/blevesearch/bleve/v2/analysis/lang/de"
	"github.com/blevesearch/bleve/v2/analysis/lang/en"
	"github.com/blevesearch/bleve/v2/registry"

	"github.com/einsatz/einsatz/bot/lang"
)

// The English and German analyzers of the knowledge base's index (stop
// words, stemming), so "How do I reset my password?" and "password reset
// not working" share the terms "reset" and "password".
var analyzers = sync.OnceValues(func() (map[string]analysis.Analyzer, error) {
	cache := registry.NewCache()
	out := map[string]analysis.Analyzer{}
	for _, name := range []string{en.AnalyzerName, de.AnalyzerName} {
		a, err := cache.AnalyzerNamed(name)
		if err != nil {
			return nil, err
		}
		out[name] = a
	}
	return out, nil
})

// isFiller reports whether a lower-case word says nothing about a
// question's topic: lang's fillers, and for telling repeated questions
// apart also the modal verbs, wants and particles people add when they ask
// again ("could", "need", "still", "können", "immer noch").
func isFiller(w string) bool { return lang.IsFiller(w) || moreFillers[w] }

var moreFillers = func() map[string]bool {
	m := map[string]bool{}
	for _, w := range strings.Fields(`could would should anyway still again get got need want kann könnt können immer noch`) {
		m[w] = true
	}
	return m
}()

// Terms are the normalised content words of a text: words that are stop
// words in neither English nor German and no filler, stemmed by the
// analyzer of lang (German for "de", else English).
func Terms(text, lang string) map[string]bool {
	as, err := analyzers()
	if err != nil {
		return lowerWords(text)
	}
	input := []byte(strings.ToLower(text))
	keep := map[int]int{} // token position → analyzers keeping it
	streams := map[string]analysis.TokenStream{}
	for name, a := range as {
		ts := a.Analyze(input)
		streams[name] = ts
		for _, t := range ts {
			if !isFiller(string(input[t.Start:t.End])) {
				keep[t.Position]++
			}
		}
	}
	use := en.AnalyzerName
	if strings.HasPrefix(strings.ToLower(lang), "de") {
		use = de.AnalyzerName
	}
	out := map[string]bool{}
	for _, t := range streams[use] {
		if keep[t.Position] == len(as) {
			out[string(t.Term)] = true
		}
	}
	return out
}

func lowerWords(text string) map[string]bool {
	out := map[string]bool{}
	for _, w := range strings.FieldsFunc(strings.ToLower(text), func(r rune) bool {
		return !(r >= 'a' && r <= 'z' || r >= '0' && r <= '9' || r > 127)
	}) {
		if !isFiller(w) {
			out[w] = true
		}
	}
	return out
}

// Similarity is the Jaccard similarity of two term sets (0..1); two empty
// sets are not similar.
func Similarity(a, b map[string]bool) float64 {
	if len(a) == 0 || len(b) == 0 {
		return 0
	}
	inter := 0
	for t := range a {
		if b[t] {
			inter++
		}
	}
	return float64(inter) / float64(len(a)+len(b)-inter)
}
