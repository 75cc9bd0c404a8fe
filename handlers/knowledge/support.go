package knowledge

import (
	"strings"
	"sync"
	"unicode"

	"github.com/blevesearch/bleve/v2"
	"github.com/blevesearch/bleve/v2/analysis"

	"github.com/einsatz/einsatz/bot/lang"
)

// textAnalyzers are the English and German analyses of the index, built
// once: Terms and Support analyse texts outside any index.
var textAnalyzers = sync.OnceValue(func() [2]analysis.Analyzer {
	m := bleve.NewIndexMapping()
	return [2]analysis.Analyzer{m.AnalyzerNamed(enAnalyzer), m.AnalyzerNamed(deAnalyzer)}
})

// Terms are the analysed words of passages, in English and in German
// analysis, for Support.
type Terms struct {
	sets []map[string]map[string]bool // per passage: analyzer name → terms
}

// NewTerms analyses texts.
func NewTerms(texts ...string) Terms {
	an := textAnalyzers()
	set := map[string]map[string]bool{enAnalyzer: {}, deAnalyzer: {}}
	for _, s := range texts {
		for _, tok := range an[0].Analyze([]byte(s)) {
			set[enAnalyzer][string(tok.Term)] = true
		}
		for _, tok := range an[1].Analyze([]byte(s)) {
			set[deAnalyzer][string(tok.Term)] = true
		}
	}
	return Terms{sets: []map[string]map[string]bool{set}}
}

// AnalyzeHits are the terms of the hits' titles, headings and texts.
func AnalyzeHits(hits []Hit) Terms {
	var t Terms
	for _, h := range hits {
		t.sets = append(t.sets, NewTerms(h.Title, h.Heading, h.Text).sets...)
	}
	return t
}

// HitTerms is AnalyzeHits with the terms the index keeps for its chunks
// (no analysis per answer).
func (ix *Index) HitTerms(hits []Hit) Terms {
	var t Terms
	for _, h := range hits {
		if e := ix.chunks[h.ID]; e != nil {
			t.sets = append(t.sets, e.terms)
		} else {
			t.sets = append(t.sets, AnalyzeHits([]Hit{h}).sets...)
		}
	}
	return t
}

// HitTerms is Index.HitTerms on the current index.
func (b *Base) HitTerms(hits []Hit) Terms {
	b.mu.RLock()
	defer b.mu.RUnlock()
	if b.index == nil {
		return AnalyzeHits(hits)
	}
	return b.index.HitTerms(hits)
}

func (t Terms) has(name string, ts analysis.TokenStream) bool {
	for _, set := range t.sets {
		if hasAll(set[name], ts) {
			return true
		}
	}
	return false
}

// Support is the share (0..1) of the content words of sentence that occur
// in the texts of t, under the English or the German analysis, and the
// number of content words. A content word is one that neither language's
// stop words nor the chat fillers hold ("the", "und", "please"), so a
// supported sentence is one whose topic words come from the passages.
func (t Terms) Support(sentence string) (float64, int) {
	an := textAnalyzers()
	n, found := 0, 0
	for _, w := range strings.FieldsFunc(sentence, func(r rune) bool {
		return !unicode.IsLetter(r) && !unicode.IsDigit(r) && r != '_' && r != '-' && r != '.' && r != '/'
	}) {
		w = strings.Trim(w, ".-/")
		if w == "" || lang.IsFiller(strings.ToLower(w)) {
			continue
		}
		e, d := an[0].Analyze([]byte(w)), an[1].Analyze([]byte(w))
		if len(e) == 0 || len(d) == 0 {
			continue // a stop word in either language
		}
		n++
		if t.has(enAnalyzer, e) || t.has(deAnalyzer, d) {
			found++
		}
	}
	if n == 0 {
		return 1, 0
	}
	return float64(found) / float64(n), n
}

func hasAll(set map[string]bool, ts analysis.TokenStream) bool {
	for _, t := range ts {
		if !set[string(t.Term)] {
			return false
		}
	}
	return true
}
