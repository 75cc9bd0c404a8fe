package inbox

import (
	"context"
	"crypto/sha256"
	"fmt"
	"math"
	"strconv"
	"strings"
	"sync"

	"github.com/blevesearch/bleve/v2"
	"github.com/blevesearch/bleve/v2/analysis"
	"github.com/blevesearch/bleve/v2/analysis/analyzer/keyword"
	"github.com/blevesearch/bleve/v2/analysis/lang/de"
	"github.com/blevesearch/bleve/v2/analysis/lang/en"
	"github.com/blevesearch/bleve/v2/analysis/tokenizer/unicode"
	"github.com/blevesearch/bleve/v2/index/scorch"
	"github.com/blevesearch/bleve/v2/search/query"

	"github.com/einsatz/einsatz/bot/request"
)

// Full-text search of the inbox (the dashboard's search box, `einsatz
// inbox search`, the admin API's ?q=). The items' titles, summaries,
// mention texts and tags sit in an in-memory bleve index, analysed twice:
// with bleve's English analysis (stop words, Porter stemming) and with its
// German one (stop words, umlaut folding, light stemming) — the analyzers
// the knowledge base and the support numbers use — so "exporting" finds
// "export" and "Kalenderexporte" finds "Kalenderexport". The store is the
// truth: before each search the index takes in the items whose words
// changed since the last one (by a hash of their words) and drops those
// that are gone, so it needs no hook in every write.
//
// The knowledge base's own index (handlers/knowledge) is not reused: it is
// built once from a fixed set of chunks and ranks the top few chunks for a
// question, while a search box filters every item that has all the words.

// Search fields and their boosts: a word in the title says more.
const (
	fTitleEN = "title_en"
	fTitleDE = "title_de"
	fTextEN  = "text_en"
	fTextDE  = "text_de"
	fTags    = "tags"

	boostTitle = 2.0
)

type searchIndex struct {
	mu     sync.Mutex
	idx    bleve.Index
	fp     map[int][32]byte           // item id → hash of the words indexed for it
	tf     map[int]map[string]float64 // item id → its analysed terms' counts, for Similar
	closed bool                       // dropped (erasure); searches in flight fail

	analyzers [2]analysis.Analyzer // English, German
}

func newSearchIndex() (*searchIndex, error) {
	doc := bleve.NewDocumentStaticMapping()
	for field, an := range map[string]string{fTitleEN: en.AnalyzerName, fTitleDE: de.AnalyzerName, fTextEN: en.AnalyzerName,
		fTextDE: de.AnalyzerName, fTags: keyword.Name} {
		fm := bleve.NewTextFieldMapping()
		fm.Analyzer = an
		fm.Store, fm.IncludeInAll, fm.IncludeTermVectors, fm.DocValues = false, false, false, false
		doc.AddFieldMappingsAt(field, fm)
	}
	m := bleve.NewIndexMapping()
	m.DefaultMapping = doc
	m.DefaultAnalyzer = en.AnalyzerName
	m.ScoringModel = "bm25"
	idx, err := bleve.NewUsing("", m, scorch.Name, scorch.Name, nil)
	if err != nil {
		return nil, fmt.Errorf("inbox: create search index: %w", err)
	}
	x := &searchIndex{idx: idx, fp: map[int][32]byte{}, tf: map[int]map[string]float64{}}
	x.analyzers = [2]analysis.Analyzer{m.AnalyzerNamed(en.AnalyzerName), m.AnalyzerNamed(de.AnalyzerName)}
	return x, nil
}

// searchText is what an item is found by, apart from its title.
func searchText(it request.Item) string {
	parts := append([]string{it.Summary}, mentionTexts(it)...)
	return strings.Join(append(parts, it.Tags...), "\n")
}

func fingerprint(it request.Item) [32]byte {
	h := sha256.New()
	for _, s := range append([]string{it.Title, searchText(it)}, it.Tags...) {
		h.Write([]byte(strconv.Itoa(len(s))))
		h.Write([]byte{0})
		h.Write([]byte(s))
	}
	var out [32]byte
	copy(out[:], h.Sum(nil))
	return out
}

// sync brings the index up to date with items (all of the inbox).
func (x *searchIndex) sync(items []request.Item) error {
	b := x.idx.NewBatch()
	seen := make(map[int]bool, len(items))
	for _, it := range items {
		seen[it.ID] = true
		fp := fingerprint(it)
		if old, ok := x.fp[it.ID]; ok && old == fp {
			continue
		}
		text := searchText(it)
		tags := make([]string, len(it.Tags))
		for i, t := range it.Tags {
			tags[i] = strings.ToLower(t)
		}
		if err := b.Index(strconv.Itoa(it.ID), map[string]any{fTitleEN: it.Title, fTitleDE: it.Title, fTextEN: text, fTextDE: text, fTags: tags}); err != nil {
			return err
		}
		x.fp[it.ID] = fp
		x.tf[it.ID] = x.termCounts(it)
	}
	for id := range x.fp {
		if !seen[id] {
			b.Delete(strconv.Itoa(id))
			delete(x.fp, id)
			delete(x.tf, id)
		}
	}
	if b.Size() == 0 {
		return nil
	}
	if err := x.idx.Batch(b); err != nil {
		clear(x.fp) // start over next time rather than trust a half-written batch
		clear(x.tf)
		return err
	}
	return nil
}

// words are the query's content words: those neither analysis drops as
// a stop word ("the", "und", "mit"). Each must match somewhere.
func (x *searchIndex) words(q string) []string {
	tok := unicode.NewUnicodeTokenizer()
	var out []string
	for _, t := range tok.Tokenize([]byte(strings.ToLower(q))) {
		w := string(t.Term)
		keep := true
		for _, a := range x.analyzers {
			if len(a.Analyze([]byte(w))) == 0 {
				keep = false
			}
		}
		if keep {
			out = append(out, w)
		}
	}
	return out
}

// query matches an item that has every word of q, each in its English or
// its German analysis, in the title, the text or as a tag.
func (x *searchIndex) query(words []string) query.Query {
	var all []query.Query
	for _, w := range words {
		var any []query.Query
		for _, f := range []struct {
			name  string
			boost float64
		}{{fTitleEN, boostTitle}, {fTitleDE, boostTitle}, {fTextEN, 1}, {fTextDE, 1}} {
			m := bleve.NewMatchQuery(w)
			m.SetField(f.name)
			m.SetBoost(f.boost)
			any = append(any, m)
		}
		t := bleve.NewTermQuery(w)
		t.SetField(fTags)
		t.SetBoost(boostTitle)
		any = append(any, t)
		all = append(all, bleve.NewDisjunctionQuery(any...))
	}
	return bleve.NewConjunctionQuery(all...)
}

// search returns the items (of all) that have every content word of q,
// with their relevance (BM25; higher is better). A query of stop words
// only matches nothing.
func (x *searchIndex) search(ctx context.Context, all []request.Item, q string) (map[int]float64, error) {
	x.mu.Lock()
	defer x.mu.Unlock()
	if x.closed {
		return nil, fmt.Errorf("inbox: search: the index was dropped; search again")
	}
	if err := x.sync(all); err != nil {
		return nil, fmt.Errorf("inbox: update search index: %w", err)
	}
	words := x.words(q)
	out := map[int]float64{}
	if len(words) == 0 || len(x.fp) == 0 {
		return out, nil
	}
	req := bleve.NewSearchRequestOptions(x.query(words), len(x.fp), 0, false)
	res, err := x.idx.SearchInContext(ctx, req)
	if err != nil {
		return nil, fmt.Errorf("inbox: search: %w", err)
	}
	for _, h := range res.Hits {
		if id, err := strconv.Atoi(h.ID); err == nil {
			out[id] = h.Score
		}
	}
	return out, nil
}

func (x *searchIndex) close() error { return x.idx.Close() }

// termCounts are an item's words as both analyses leave them (English
// terms and German terms apart), from its title, summary and first
// mentionsCompared mentions: what Similar compares.
func (x *searchIndex) termCounts(it request.Item) map[string]float64 {
	texts := append([]string{it.Title, it.Summary}, mentionTexts(it)[:min(len(it.Mentions), mentionsCompared)]...)
	out := map[string]float64{}
	for _, t := range texts {
		in := []byte(strings.ToLower(t))
		for i, a := range x.analyzers {
			for _, tok := range a.Analyze(in) {
				out[string(rune('e'+i))+":"+string(tok.Term)]++
			}
		}
	}
	return out
}

// similar scores every open item but id against item id: the TF-IDF
// cosine of their analysed words, idf over the open items.
func (x *searchIndex) similar(all []request.Item, id int) (map[int]float64, error) {
	x.mu.Lock()
	defer x.mu.Unlock()
	if x.closed {
		return nil, fmt.Errorf("inbox: similar: the index was dropped; try again")
	}
	if err := x.sync(all); err != nil {
		return nil, fmt.Errorf("inbox: update search index: %w", err)
	}
	df := map[string]int{}
	n := 0
	for _, it := range all {
		if Open(it.Status) || it.ID == id {
			n++
			for t := range x.tf[it.ID] {
				df[t]++
			}
		}
	}
	weigh := func(tf map[string]float64) (map[string]float64, float64) {
		w := make(map[string]float64, len(tf))
		norm := 0.0
		for t, c := range tf {
			v := (1 + math.Log(c)) * (math.Log(float64(n+1)/float64(df[t]+1)) + 1)
			w[t] = v
			norm += v * v
		}
		return w, math.Sqrt(norm)
	}
	q, qn := weigh(x.tf[id])
	out := map[int]float64{}
	if qn == 0 {
		return out, nil
	}
	for _, it := range all {
		if it.ID == id || !Open(it.Status) {
			continue
		}
		d, dn := weigh(x.tf[it.ID])
		if dn == 0 {
			continue
		}
		dot := 0.0
		for t, v := range d {
			dot += v * q[t]
		}
		if dot > 0 {
			out[it.ID] = dot / (qn * dn)
		}
	}
	return out, nil
}

// searchIndex returns the search index, made at the first use.
func (s *Service) searchIndex() (*searchIndex, error) {
	s.searchMu.Lock()
	defer s.searchMu.Unlock()
	if s.search == nil {
		x, err := newSearchIndex()
		if err != nil {
			return nil, err
		}
		s.search = x
	}
	return s.search, nil
}

// searchItems narrows all to the items matching q (all of them when q is
// blank) and returns their relevance.
func (s *Service) searchItems(ctx context.Context, all []request.Item, q string) ([]request.Item, map[int]float64, error) {
	if strings.TrimSpace(q) == "" {
		return all, nil, nil
	}
	x, err := s.searchIndex()
	if err != nil {
		return nil, nil, err
	}
	scores, err := x.search(ctx, all, q)
	if err != nil {
		return nil, nil, err
	}
	var out []request.Item
	for _, it := range all {
		if _, ok := scores[it.ID]; ok {
			out = append(out, it)
		}
	}
	return out, scores, nil
}

// dropSearch forgets the search index (erasure: no erased word stays in
// memory); the next search builds it again from the store.
func (s *Service) dropSearch() {
	s.searchMu.Lock()
	x := s.search
	s.search = nil
	s.searchMu.Unlock()
	if x != nil {
		x.mu.Lock() // a search in flight finishes first
		defer x.mu.Unlock()
		x.closed = true
		if err := x.close(); err != nil {
			s.o.Logger.Warn("inbox: close search index", "err", err)
		}
	}
}

// Search lists the items matching q that the filter selects; with no
// sort given, the best match comes first.
func (s *Service) Search(ctx context.Context, q string, f Filter) ([]request.Item, error) {
	f.Q = q
	return s.List(ctx, f)
}
