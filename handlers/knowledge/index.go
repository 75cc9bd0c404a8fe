package knowledge

import (
	"context"
	"fmt"
	"strings"
	"sync"

	"github.com/blevesearch/bleve/v2"
	"github.com/blevesearch/bleve/v2/analysis"
	"github.com/blevesearch/bleve/v2/analysis/analyzer/keyword"
	"github.com/blevesearch/bleve/v2/analysis/lang/de"
	"github.com/blevesearch/bleve/v2/analysis/lang/en"
	"github.com/blevesearch/bleve/v2/index/scorch"
	"github.com/blevesearch/bleve/v2/mapping"
	"github.com/blevesearch/bleve/v2/search/query"

	"github.com/einsatz/einsatz/bot/lang"
)

// Field boosts: a question's words in the document title or the section
// heading say more about a chunk than the same words somewhere in its text.
const (
	boostContext = 2.0
	boostText    = 1.0
	// sameLang is the extra weight of chunks in the language of the
	// question, when it can be told: their match score counts 1+sameLang
	// times, so "What is Einsatz?" prefers the English page and "Was ist
	// Einsatz?" the German one, while a German question still finds an
	// English page when there is no German one.
	sameLang = 0.3
)

// maxQueryTerms caps the distinct content words taken from a question, so that
// a pasted wall of text does not become a query with thousands of clauses.
const maxQueryTerms = 64

var analyzers = []string{en.AnalyzerName, de.AnalyzerName}

type field struct {
	name     string
	analyzer string
	boost    float64
}

// The indexed fields: "context" is the title and heading path of a chunk
// ("Getting started > Installation"), "text" its text, each analyzed in
// English and in German. Title and heading share one field so that a title,
// which repeats in every chunk of a document, weighs as much as a heading.
var fields = []field{
	{"context_en", en.AnalyzerName, boostContext},
	{"context_de", de.AnalyzerName, boostContext},
	{"text_en", en.AnalyzerName, boostText},
	{"text_de", de.AnalyzerName, boostText},
}

// Hit is a chunk found by Search.
type Hit struct {
	Chunk
	Score float64 // bleve score
	// Coverage is the fraction (0..1) of the query's distinct content terms
	// (after analysis: stop words removed, stemmed) that occur in this
	// chunk's title, heading and text, under the English or the German
	// analysis, whichever covers more.
	Coverage float64
}

// Index is an in-memory full-text index over chunks. It is safe for
// concurrent use.
type Index struct {
	idx       bleve.Index
	analyzers map[string]analysis.Analyzer
	chunks    map[string]*entry // by Chunk.ID

	closeOnce sync.Once
	closeErr  error
}

type entry struct {
	chunk Chunk
	terms map[string]map[string]bool // analyzer name → set of terms of title+heading+text
}

// NewIndex indexes chunks in memory. Chunk IDs must be unique and non-empty.
func NewIndex(chunks []Chunk) (*Index, error) {
	m := newMapping()
	idx, err := bleve.NewUsing("", m, scorch.Name, scorch.Name, nil)
	if err != nil {
		return nil, fmt.Errorf("knowledge: create index: %w", err)
	}
	ix := &Index{
		idx:       idx,
		analyzers: make(map[string]analysis.Analyzer, len(analyzers)),
		chunks:    make(map[string]*entry, len(chunks)),
	}
	for _, name := range analyzers {
		a := idx.Mapping().AnalyzerNamed(name)
		if a == nil {
			idx.Close()
			return nil, fmt.Errorf("knowledge: analyzer %q is not registered", name)
		}
		ix.analyzers[name] = a
	}

	batch := idx.NewBatch()
	for _, c := range chunks {
		if c.ID == "" {
			idx.Close()
			return nil, fmt.Errorf("knowledge: chunk from %q has no ID", c.Source)
		}
		if _, dup := ix.chunks[c.ID]; dup {
			idx.Close()
			return nil, fmt.Errorf("knowledge: duplicate chunk ID %q", c.ID)
		}
		text := indexText(c.Text)
		e := &entry{chunk: c, terms: make(map[string]map[string]bool, len(analyzers))}
		for name, a := range ix.analyzers {
			set := make(map[string]bool)
			for _, s := range []string{c.Title, c.Heading, text} {
				for _, t := range a.Analyze([]byte(s)) {
					set[string(t.Term)] = true
				}
			}
			e.terms[name] = set
		}
		ix.chunks[c.ID] = e
		ctxText := c.Title
		if c.Heading != "" {
			ctxText += " > " + c.Heading
		}
		doc := map[string]any{
			"context_en": ctxText,
			"context_de": ctxText,
			"text_en":    text,
			"text_de":    text,
			"lang":       c.Lang,
		}
		if err := batch.Index(c.ID, doc); err != nil {
			idx.Close()
			return nil, fmt.Errorf("knowledge: index %s: %w", c.ID, err)
		}
	}
	if err := idx.Batch(batch); err != nil {
		idx.Close()
		return nil, fmt.Errorf("knowledge: index: %w", err)
	}
	return ix, nil
}

func newMapping() *mapping.IndexMappingImpl {
	doc := bleve.NewDocumentStaticMapping()
	for _, f := range fields {
		fm := bleve.NewTextFieldMapping()
		fm.Analyzer = f.analyzer
		fm.Store = false
		fm.IncludeInAll = false
		fm.IncludeTermVectors = false
		fm.DocValues = false
		doc.AddFieldMappingsAt(f.name, fm)
	}
	lang := bleve.NewKeywordFieldMapping()
	lang.Analyzer = keyword.Name
	lang.Store = false
	lang.IncludeInAll = false
	lang.IncludeTermVectors = false
	lang.DocValues = false
	doc.AddFieldMappingsAt("lang", lang)

	m := bleve.NewIndexMapping()
	m.DefaultMapping = doc
	m.DefaultAnalyzer = en.AnalyzerName
	m.ScoringModel = "bm25"
	return m
}

// Len returns the number of indexed chunks.
func (ix *Index) Len() int { return len(ix.chunks) }

// Close releases the index. Search fails after Close.
func (ix *Index) Close() error {
	ix.closeOnce.Do(func() { ix.closeErr = ix.idx.Close() })
	return ix.closeErr
}

// fillerWords are words of chat questions that the stop word lists of the
// analyzers lack but that say nothing about the topic: English modal verbs
// ("Can I ...?"), German question words ("Wann ...?", "Gibt es ...?") and
// greetings. They are dropped from queries only.
var fillerWords = func() map[string]bool {
	m := map[string]bool{}
	for _, w := range strings.Fields(`can will may might must shall please hi hello hey thanks thank
		wann warum wieso weshalb wer wen wem wessen gibt gib geht bitte hallo danke`) {
		m[w] = true
	}
	return m
}()

// queryTerms are the analyzed content words of a question.
type queryTerms map[string][]string // analyzer name → distinct terms

// analyzeQuery returns the question's content terms per analyzer. A word is
// content when it survives the stop word filters of both languages ("what",
// "ist", "die" do not), so the English and German term lists stem from the
// same words and coverage is comparable between them.
func (ix *Index) analyzeQuery(q string) queryTerms {
	input := []byte(q)
	streams := make(map[string]analysis.TokenStream, len(analyzers))
	positions := make(map[int]int) // token position → number of analyzers keeping it
	for _, name := range analyzers {
		ts := ix.analyzers[name].Analyze(input)
		streams[name] = ts
		for _, t := range ts {
			if !fillerWords[strings.ToLower(string(input[t.Start:t.End]))] {
				positions[t.Position]++
			}
		}
	}
	qt := make(queryTerms, len(analyzers))
	for _, name := range analyzers {
		seen := make(map[string]bool)
		for _, t := range streams[name] {
			term := string(t.Term)
			if positions[t.Position] < len(analyzers) || seen[term] || len(seen) >= maxQueryTerms {
				continue
			}
			seen[term] = true
			qt[name] = append(qt[name], term)
		}
	}
	return qt
}

// search is the bleve query for the terms. If sure, chunks in lang match a
// second, scaled-down copy of the query as well.
func (qt queryTerms) search(lang string, sure bool) query.Query {
	q := qt.query(1)
	if !sure {
		return q
	}
	lq := query.NewTermQuery(lang)
	lq.SetField("lang")
	lq.SetBoost(0)
	return query.NewBooleanQuery(
		[]query.Query{q},
		[]query.Query{query.NewConjunctionQuery([]query.Query{qt.query(sameLang), lq})},
		nil)
}

// query is a disjunction of the terms in every field, boosts multiplied by
// boost.
func (qt queryTerms) query(boost float64) query.Query {
	var clauses []query.Query
	for _, f := range fields {
		for _, t := range qt[f.analyzer] {
			tq := query.NewTermQuery(t)
			tq.SetField(f.name)
			tq.SetBoost(f.boost * boost)
			clauses = append(clauses, tq)
		}
	}
	return query.NewDisjunctionQuery(clauses)
}

func (qt queryTerms) empty() bool {
	for _, ts := range qt {
		if len(ts) > 0 {
			return false
		}
	}
	return true
}

// coverage is the largest fraction of the query terms of one analyzer that
// occur in the chunk under the same analyzer.
func (qt queryTerms) coverage(e *entry) float64 {
	best := 0.0
	for name, ts := range qt {
		if len(ts) == 0 {
			continue
		}
		n := 0
		for _, t := range ts {
			if e.terms[name][t] {
				n++
			}
		}
		if c := float64(n) / float64(len(ts)); c > best {
			best = c
		}
	}
	return best
}

// Search returns up to k chunks matching query, best first. Question words
// are matched in English and German analysis (stemmed, stop words removed),
// title and heading matches count more, and chunks in the question's language
// are preferred. A query of stop words only ("what is it?") has no content
// terms and finds nothing; so does k <= 0.
func (ix *Index) Search(ctx context.Context, q string, k int) ([]Hit, error) {
	if k <= 0 {
		return nil, nil
	}
	qt := ix.analyzeQuery(q)
	if qt.empty() {
		return nil, ctx.Err()
	}

	req := bleve.NewSearchRequestOptions(qt.search(lang.Guess(q)), k, 0, false)
	req.SortBy([]string{"-_score", "_id"})
	res, err := ix.idx.SearchInContext(ctx, req)
	if err != nil {
		return nil, fmt.Errorf("knowledge: search: %w", err)
	}
	hits := make([]Hit, 0, len(res.Hits))
	for _, h := range res.Hits {
		e, ok := ix.chunks[h.ID]
		if !ok {
			continue
		}
		cov := qt.coverage(e)
		if cov == 0 {
			continue
		}
		hits = append(hits, Hit{Chunk: e.chunk, Score: h.Score, Coverage: cov})
	}
	return hits, nil
}
