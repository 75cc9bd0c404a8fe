package knowledge

import (
	"cmp"
	"context"
	"fmt"
	"math"
	"slices"
	"strings"
	"sync"
	"unicode/utf8"

	"github.com/blevesearch/bleve/v2"
	"github.com/blevesearch/bleve/v2/analysis"
	"github.com/blevesearch/bleve/v2/index/scorch"
	"github.com/blevesearch/bleve/v2/mapping"
	"github.com/blevesearch/bleve/v2/search/query"

	"github.com/einsatz/einsatz/bot/kb"
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
	// English page when there is no German one. A knowledge base usually
	// has a page in each language for a topic, and a title match in the
	// other language ("Übernahme durch den Support" for "when does the bot
	// call in a person from support") should not beat the page the asker
	// can read.
	sameLang = 1.0
	// sameDoc is the weight of the best other chunk of the same document in
	// a chunk's score: a section of a page that is about the question as a
	// whole beats a lone section elsewhere that shares a word or two with it
	// (an overview page, a "Chatting in the terminal" for "ideas people post
	// in chat").
	sameDoc = 0.3
	// docCredit is the share of a question term's weight a chunk that
	// lacks it gets in Rare when another chunk of its document has it.
	docCredit = 0.5
	// minCandidates is the number of chunks fetched from the index before
	// the language and document preferences reorder them.
	minCandidates = 40
)

// Compound splitting (German): a query word that the index does not know
// ("Stimmungsverlauf") is replaced by its parts when the index knows its
// head ("verlauf") and, if given, its modifier ("stimmung", after dropping a
// linking "s"); and words of German chunks are indexed with the parts of
// such compounds as well, so "Stimmung" finds "Stimmungsanalyse".
const (
	minCompound = 8 // runes of a word worth splitting
	minPart     = 4 // runes of a part
)

// queryFillers are words of questions that say nothing about the topic
// ("What is Einsatz exactly?") and that neither the stop word lists nor
// lang.IsFiller drop.
var queryFillers = map[string]bool{"exactly": true, "precisely": true, "genau": true, "exakt": true,
	// sign-offs: "… ein? lg", "thx, vg"
	"lg": true, "vg": true, "mfg": true, "gruß": true, "gruss": true, "grüße": true, "cheers": true, "thx": true, "ty": true,
	// "we dont want …": the negation of the asking verb, not a topic
	"dont": true, "don't": true,
	// pronominal adverbs: "dafür", "dazu" point back, they name nothing
	"dafür": true, "dazu": true, "damit": true, "davon": true, "darauf": true, "dabei": true, "darüber": true,
	// German contractions of a preposition and "das", and modal verbs the
	// stop word list lacks ("fürs Reiseland", "darf ich …?")
	"fürs": true, "aufs": true, "ans": true, "ums": true, "übers": true, "durchs": true, "vors": true,
	"darf": true, "darfst": true, "dürfen": true, "möchte": true, "möchten": true, "müssen": true, "musst": true}

// askingVerbs are verbs of chat questions (and a few chat words) that
// carry the asking, not its topic: "Do I need …?", "Brauche ich dafür …?", "Where do I put …?",
// "where do requests end up?", "Was macht der Bot?", "Welche Sprachen
// versteht er?". They are left out of a question when no chunk has them
// (the knowledge base never says "versteht", so it cannot count as a word
// the answer lacks); where a knowledge base uses one, it stays a term
// ("make" in the Go FAQ names a built-in function).
var askingVerbs = map[string]bool{
	"need": true, "needs": true, "needed": true, "want": true, "wants": true, "make": true, "makes": true,
	"put": true, "end": true, "happen": true, "happens": true, "happened": true, "understand": true, "understands": true,
	"brauche": true, "brauchst": true, "braucht": true, "brauchen": true, "benötige": true, "benötigt": true,
	"macht": true, "machen": true, "mache": true, "tun": true, "tut": true, "passiert": true, "passieren": true,
	"versteht": true, "verstehen": true, "verstehe": true, "klappt": true, "klappen": true,
	"see": true, "sees": true, "seh": true, "sehe": true, "siehst": true, "sieht": true, "pack": true, "packen": true, "packe": true,
	// and the words of chat around it ("kinda weird that …", "why did they
	// bother …", "I always mix them up")
	"kinda": true, "sorta": true, "weird": true, "strange": true, "whole": true, "bother": true, "always": true,
	"komisch": true, "seltsam": true, "ständig": true, "immer": true,
}

// howToVerbs are German verbs (as the German analysis leaves them) that
// ask how to do something to the thing a question names ("Wie richte ich
// Slack ein?" — after joinParticles "einrichte"): a page about Slack need
// not say "einrichten" to answer it.
var howToVerbs = map[string]bool{"einricht": true, "benutz": true, "verwend": true, "nutz": true}

// countFull is the number of positions every analyzer keeps.
func countFull(positions map[int]int) int {
	n := 0
	for _, c := range positions {
		if c == len(analyzers) {
			n++
		}
	}
	return n
}

// maxQueryTerms caps the distinct content words taken from a question, so that
// a pasted wall of text does not become a query with thousands of clauses.
const maxQueryTerms = 64

var analyzers = []string{enAnalyzer, deAnalyzer}

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
	{"context_en", enAnalyzer, boostContext},
	{"context_de", deAnalyzer, boostContext},
	{"text_en", enAnalyzer, boostText},
	{"text_de", deAnalyzer, boostText},
}

// Hit is a chunk found by Search.
type Hit struct {
	kb.Chunk
	// Score ranks the hits: the BM25 score of the chunk, doubled when the
	// chunk is in the language of the question, plus a share of the score
	// of the best other chunk of its document.
	Score float64
	// Lexical is the hit's score from the word index alone (Score before
	// hybrid search fuses it with the embedding ranking; 0 for a chunk only
	// the embeddings found): the scale the answer decision's score gap is
	// measured on.
	Lexical float64
	// Coverage is the fraction (0..1) of the query's distinct content terms
	// (after analysis: stop words removed, stemmed) that occur in this
	// chunk's title, heading and text, under the English or the German
	// analysis, whichever covers more.
	Coverage float64
	// Similarity is the cosine similarity of the chunk's embedding to the
	// question's (hybrid search only; 0 without embeddings). See Relevant.
	Similarity float64
	// Rare is Coverage weighted by how rare each term is in the knowledge
	// base (inverse document frequency over chunks): covering "teams" and
	// "microsoft" says more than covering "support". A term no chunk has
	// weighs most, so a question about something the knowledge base never
	// mentions has low Rare coverage on every hit. A term the chunk lacks
	// counts half when the chunk has a related word (related.go) or another
	// chunk of its document has the term.
	Rare float64
	// Context is the IDF-weighted share of the question's terms found in
	// the chunk's title and heading.
	Context float64
	// TitleMatch is the IDF-weighted share of the question's terms found in the
	// title of the chunk's document: a question about what a page is about
	// as a whole.
	TitleMatch float64
	// Missing is the weight of the rarest question term the chunk lacks,
	// relative to a term no chunk has (0 when it lacks none).
	Missing float64
	// Terms is the number of the question's content terms (in the analysis
	// Coverage was computed with).
	Terms int
	// Phrase is the share of the question's neighbouring content terms
	// ("syncthing logs", "duplicate feature requests") that are neighbours
	// in the chunk too (stop words between them aside), in either order:
	// a chunk that only mentions each word somewhere says less.
	Phrase float64
	// Asked is the IDF-weighted share of the terms of the chunk's title and
	// heading that the question has: a question that names what a section
	// is about ("… the Syncthing logs?" and "Syncthing's database is
	// corrupt") rather than only touching it.
	Asked float64
}

// Index is an in-memory full-text index over chunks. It is safe for
// concurrent use.
type Index struct {
	idx       bleve.Index
	analyzers map[string]analysis.Analyzer
	chunks    map[string]*entry // by Chunk.ID
	// words maps the German terms of the chunks (stemmed, before compound
	// splitting) to the languages of the chunks they occur in
	// (langEN|langDE). It is the dictionary compounds are split against,
	// and it tells the language of a question that lang.Guess cannot
	// ("slack workspace anbinden").
	words map[string]uint8
	// df is the number of chunks each term occurs in, per analyzer.
	df map[string]map[string]int
	// vocab is every term of the chunks by length, per analyzer: the
	// candidates of typo correction (typo.go).
	vocab map[string]vocabulary

	closeOnce sync.Once
	closeErr  error
}

type entry struct {
	chunk kb.Chunk
	terms map[string]map[string]bool // analyzer name → set of terms of title+heading+text
	ctx   map[string]map[string]bool // analyzer name → set of terms of title+heading
	pairs map[string]map[pair]bool   // analyzer name → neighbouring terms of title, heading and text
	title map[string]map[string]bool // analyzer name → set of terms of title
	doc   map[string]map[string]bool // analyzer name → set of terms of every chunk of the document
}

// NewIndex indexes chunks in memory. Chunk IDs must be unique and non-empty.
func NewIndex(chunks []kb.Chunk) (*Index, error) {
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

	// First pass: the terms of every chunk, and the German vocabulary.
	ix.words = make(map[string]uint8)
	entries := make([]*entry, 0, len(chunks))
	for _, c := range chunks {
		if c.ID == "" {
			idx.Close()
			return nil, fmt.Errorf("knowledge: chunk from %q has no ID", c.Source)
		}
		if _, dup := ix.chunks[c.ID]; dup {
			idx.Close()
			return nil, fmt.Errorf("knowledge: duplicate chunk ID %q", c.ID)
		}
		e := &entry{chunk: c, terms: make(map[string]map[string]bool, len(analyzers)), ctx: make(map[string]map[string]bool, len(analyzers)),
			title: make(map[string]map[string]bool, len(analyzers)), pairs: make(map[string]map[pair]bool, len(analyzers))}
		for name, a := range ix.analyzers {
			set := make(map[string]bool)
			ctx := make(map[string]bool)
			title := make(map[string]bool)
			pairs := make(map[pair]bool)
			for i, s := range []string{c.Title, c.Heading, indexText(c.Text)} {
				prev := ""
				for _, t := range a.Analyze([]byte(s)) {
					term := string(t.Term)
					if prev != "" && prev != term {
						pairs[newPair(prev, term)] = true
					}
					prev = term
					set[string(t.Term)] = true
					if i < 2 {
						ctx[string(t.Term)] = true
					}
					if i == 0 {
						title[string(t.Term)] = true
					}
				}
			}
			e.terms[name] = set
			e.pairs[name] = pairs
			e.ctx[name] = ctx
			e.title[name] = title
		}
		for t := range e.terms[deAnalyzer] {
			ix.words[t] |= langBit(c.Lang)
		}
		ix.chunks[c.ID] = e
		entries = append(entries, e)
	}

	// The terms of each document, for the chunks that lack a term of a
	// question the rest of their page has (features).
	docs := make(map[string]map[string]map[string]bool)
	for _, e := range entries {
		d := docs[e.chunk.Source]
		if d == nil {
			d = make(map[string]map[string]bool, len(analyzers))
			for name := range ix.analyzers {
				d[name] = make(map[string]bool)
			}
			docs[e.chunk.Source] = d
		}
		for name, set := range e.terms {
			for t := range set {
				d[name][t] = true
			}
		}
		e.doc = d
	}

	// Second pass: split the compounds of German chunks and index.
	sp := ix.newSplitter()
	batch := idx.NewBatch()
	for _, e := range entries {
		c := e.chunk
		text := indexText(c.Text)
		ctxText := c.Title
		if c.Heading != "" {
			ctxText += " > " + c.Heading
		}
		ctxDE, textDE := ctxText, text
		if c.Lang == lang.German {
			var parts []string
			ctxDE, parts = sp.withParts(ctxText, parts)
			textDE, parts = sp.withParts(text, parts)
			for _, p := range parts {
				e.terms[deAnalyzer][p] = true
			}
		}
		doc := map[string]any{
			"context_en": ctxText,
			"context_de": ctxDE,
			"text_en":    text,
			"text_de":    textDE,
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
	ix.df = make(map[string]map[string]int, len(analyzers))
	for name := range ix.analyzers {
		df := make(map[string]int)
		for _, e := range entries {
			for t := range e.terms[name] {
				df[t]++
			}
		}
		ix.df[name] = df
	}
	ix.vocab = make(map[string]vocabulary, len(analyzers))
	for name, df := range ix.df {
		ix.vocab[name] = newVocabulary(df)
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
	m := bleve.NewIndexMapping()
	m.DefaultMapping = doc
	m.DefaultAnalyzer = enAnalyzer
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

// queryTerms are the analyzed content words of a question.
type queryTerms map[string][]string // analyzer name → distinct terms

// analyzeQuery returns the question's content terms per analyzer. A word is
// content when it survives the stop word filters of both languages ("what",
// "ist", "die" do not), so the English and German term lists stem from the
// same words and coverage is comparable between them. A German term the
// index does not know is replaced by the parts of the compound it is, if
// the index knows them ("stimmungsverlauf" → "stimmung", "verlauf"), or
// joined by its head if the index knows only that ("bananenstatus" →
// "bananenstatus", "status": half covered at best). A term no chunk has
// that is one typing slip from one that does is replaced by it (typo.go),
// separated German verbs are joined first ("richte … ein", joinParticles),
// and German how-to verbs and sign-offs do not count when the question
// names something else.
func (ix *Index) analyzeQuery(q string) queryTerms {
	input := []byte(joinParticles(q, ix.knownGerman))
	streams := make(map[string]analysis.TokenStream, len(analyzers))
	positions := make(map[int]int) // token position → number of analyzers keeping it
	for _, name := range analyzers {
		ts := ix.analyzers[name].Analyze(input)
		streams[name] = ts
		for _, t := range ts {
			if w := strings.ToLower(string(input[t.Start:t.End])); !lang.IsFiller(w) && !queryFillers[w] {
				positions[t.Position]++
			}
		}
	}
	// A how-to verb ("einrichten", "benutzen") says how, not what: it is
	// left out when the question names something else.
	generic := make(map[int]bool)
	for _, t := range streams[deAnalyzer] {
		if howToVerbs[string(t.Term)] && positions[t.Position] == len(analyzers) {
			generic[t.Position] = true
		}
	}
	if len(generic) > 0 && len(generic) < countFull(positions) {
		for p := range generic {
			positions[p] = 0
		}
	}
	var sp *splitter
	qt := make(queryTerms, len(analyzers))
	for _, name := range analyzers {
		seen := make(map[string]bool)
		add := func(term string) {
			if !seen[term] && len(seen) < maxQueryTerms {
				seen[term] = true
				qt[name] = append(qt[name], term)
			}
		}
		for _, t := range streams[name] {
			if positions[t.Position] < len(analyzers) {
				continue
			}
			term := string(t.Term)
			if ix.df[name][term] > 0 {
				add(term)
				continue
			}
			if askingVerbs[strings.ToLower(string(input[t.Start:t.End]))] {
				continue
			}
			if name == deAnalyzer {
				if sp == nil {
					sp = ix.newSplitter()
				}
				if parts := sp.split(string(input[t.Start:t.End])); len(parts) > 1 {
					for _, p := range parts {
						add(p)
					}
					continue
				} else if len(parts) == 1 {
					if fixed := ix.correct(name, term); fixed != "" {
						add(fixed) // a typo of a known word, not a compound
						continue
					}
					// The modifier is unknown: it stays a term of the
					// question, which no chunk covers.
					add(term)
					add(parts[0])
					continue
				}
			}
			if fixed := ix.correct(name, term); fixed != "" {
				term = fixed
			}
			add(term)
		}
	}
	return qt
}

// knownGerman reports whether a German word, analysed, is a term of the
// chunks.
func (ix *Index) knownGerman(word string) bool {
	ts := ix.analyzers[deAnalyzer].Analyze([]byte(word))
	return len(ts) == 1 && ix.df[deAnalyzer][string(ts[0].Term)] > 0
}

// correct returns the known term a term no chunk has is a typo of, or "".
// Terms with digits (versions, ids) are never corrected.
func (ix *Index) correct(name, term string) string {
	if strings.ContainsAny(term, "0123456789") {
		return ""
	}
	return ix.vocab[name].correct(term, ix.df[name])
}

// query is a disjunction of the terms in every field (of the analyzer only,
// if not "").
func (qt queryTerms) query(only string) query.Query {
	var clauses []query.Query
	for _, f := range fields {
		if only != "" && f.analyzer != only {
			continue
		}
		for _, t := range qt[f.analyzer] {
			tq := query.NewTermQuery(t)
			tq.SetField(f.name)
			tq.SetBoost(f.boost)
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

// idf is the inverse document frequency of a term under an analyzer: a
// term in every chunk weighs about 0.7, a term no chunk has the most.
func (ix *Index) idf(name, term string) float64 {
	n := float64(len(ix.chunks))
	return math.Log(1 + n/(float64(ix.df[name][term])+0.5))
}

// features sets the hit's Coverage and the features the answer decision
// weighs (Rare, Context, TitleMatch, Missing, Terms), from the analysis (English or
// German) that covers the question best.
func (ix *Index) features(qt queryTerms, h *Hit) {
	e := ix.chunks[h.ID]
	if e == nil {
		return
	}
	h.Coverage = qt.coverage(e)
	maxIDF := math.Log(1 + float64(len(ix.chunks))/0.5)
	bestRare := -1.0
	for _, name := range analyzers {
		ts := qt[name]
		if len(ts) == 0 {
			continue
		}
		var all, got, ctx, title, missing float64
		n := 0
		for _, t := range ts {
			if ix.df[name][t] == 0 && strings.ContainsAny(t, "0123456789") {
				continue // an id, a version, a message number no chunk has: noise, not topic
			}
			n++
			w := ix.idf(name, t)
			all += w
			switch {
			case e.terms[name][t]:
				got += w
			case relatedIn(name, t, e.terms[name]):
				// A related word (related.go): some credit, and the
				// term is missing by the rest of its weight.
				got += relatedCredit * w
				missing = max(missing, (1-relatedCredit)*w)
			case e.doc[name][t]:
				// Another section of the page has it ("Sprachen" does
				// not say "Bot", its page does).
				got += docCredit * w
				missing = max(missing, (1-docCredit)*w)
			case w > missing:
				missing = w
			}
			switch {
			case e.ctx[name][t]:
				ctx += w
			case relatedIn(name, t, e.ctx[name]):
				ctx += relatedCredit * w
			}
			switch {
			case e.title[name][t]:
				title += w
			case relatedIn(name, t, e.title[name]):
				title += relatedCredit * w
			}
		}
		if all == 0 {
			continue
		}
		if rare := got / all; rare > bestRare {
			bestRare = rare
			h.Rare, h.Context, h.TitleMatch, h.Missing, h.Terms = rare, ctx/all, title/all, missing/maxIDF, n
			h.Phrase = phrase(ts, e.pairs[name])
			h.Asked = ix.asked(name, ts, e.ctx[name])
		}
	}
}

// pair is two neighbouring terms, in either order.
type pair struct{ a, b string }

func newPair(a, b string) pair {
	if a > b {
		a, b = b, a
	}
	return pair{a, b}
}

// phrase is the share of the neighbouring terms of ts that are neighbours
// in pairs; 0 for a question of one term.
func phrase(ts []string, pairs map[pair]bool) float64 {
	if len(ts) < 2 {
		return 0
	}
	n := 0
	for i := 1; i < len(ts); i++ {
		if pairs[newPair(ts[i-1], ts[i])] {
			n++
		}
	}
	return float64(n) / float64(len(ts)-1)
}

// asked is the IDF-weighted share of the context terms (title and
// heading) that the question's terms ts include (a related term counts
// relatedCredit).
func (ix *Index) asked(name string, ts []string, ctx map[string]bool) float64 {
	var all, got float64
	for t := range ctx {
		w := ix.idf(name, t)
		all += w
		switch {
		case slices.Contains(ts, t):
			got += w
		case relatedAny(name, t, ts):
			got += relatedCredit * w
		}
	}
	if all == 0 {
		return 0
	}
	return got / all
}

// Search returns up to k chunks matching query, best first. Question words
// are matched in the analysis of the question's language (stemmed, stop
// words removed, German compounds split; English and German when the
// language cannot be told) against chunks of both languages, title and
// heading matches count more, chunks in the question's language are
// preferred, and so are chunks whose document matches the question in more
// than one section. A query of stop words only ("what is it?") has no
// content terms and finds nothing; so does k <= 0.
func (ix *Index) Search(ctx context.Context, q string, k int) ([]Hit, error) {
	if k <= 0 {
		return nil, nil
	}
	qt := ix.analyzeQuery(q)
	if qt.empty() {
		return nil, ctx.Err()
	}
	qLang, sure := ix.guessLang(q)

	n := max(k, minCandidates)
	// Sorted by score only: a tie-break on the document ID would make
	// bleve look up the ID of every candidate. Ties are broken below.
	req := bleve.NewSearchRequestOptions(qt.query(onlyAnalyzer(qLang, sure)), n, 0, false)
	res, err := ix.idx.SearchInContext(ctx, req)
	if err != nil {
		return nil, fmt.Errorf("knowledge: search: %w", err)
	}
	// Candidates are ranked as pointers and scores; only the k returned
	// become Hits (a Hit copies its chunk and carries a dozen features).
	type cand struct {
		e     *entry
		score float64
	}
	cands := make([]cand, 0, len(res.Hits))
	for _, h := range res.Hits {
		e, ok := ix.chunks[h.ID]
		if !ok {
			continue
		}
		score := h.Score
		if sure && e.chunk.Lang == qLang {
			score *= 1 + sameLang
		}
		cands = append(cands, cand{e: e, score: score})
	}
	// The best and second best score of each document.
	type best struct{ first, second float64 }
	docs := make(map[string]best, len(cands))
	for _, c := range cands {
		b := docs[c.e.chunk.Source]
		switch {
		case c.score > b.first:
			b.second, b.first = b.first, c.score
		case c.score > b.second:
			b.second = c.score
		}
		docs[c.e.chunk.Source] = b
	}
	for i := range cands {
		b := docs[cands[i].e.chunk.Source]
		other := b.first
		if cands[i].score == b.first {
			other = b.second
		}
		cands[i].score += sameDoc * other
	}
	slices.SortStableFunc(cands, func(a, b cand) int {
		if c := cmp.Compare(b.score, a.score); c != 0 {
			return c
		}
		return strings.Compare(a.e.chunk.ID, b.e.chunk.ID)
	})
	// Coverage, for the hits returned only. Every hit matched a term of
	// the query, so none has coverage 0.
	if len(cands) > k {
		cands = cands[:k]
	}
	hits := make([]Hit, len(cands))
	for i, c := range cands {
		hits[i] = Hit{Chunk: c.e.chunk, Score: c.score, Lexical: c.score}
		ix.features(qt, &hits[i])
	}
	return hits, nil
}

const (
	langEN uint8 = 1 << iota
	langDE
)

func langBit(l string) uint8 {
	switch l {
	case lang.English:
		return langEN
	case lang.German:
		return langDE
	}
	return 0
}

// guessLang is the language of a question: lang.Guess, and when that has
// no evidence, the language of the chunks whose words the question uses
// ("slack workspace anbinden" is German: "anbinden" stems to a term that
// occurs in German chunks only).
func (ix *Index) guessLang(q string) (string, bool) {
	if l, sure := lang.Guess(q); sure {
		return l, true
	}
	nEN, nDE := 0, 0
	for _, t := range ix.analyzers[deAnalyzer].Analyze([]byte(q)) {
		switch ix.words[string(t.Term)] {
		case langEN:
			nEN++
		case langDE:
			nDE++
		}
	}
	switch {
	case nEN > nDE:
		return lang.English, true
	case nDE > nEN:
		return lang.German, true
	}
	return lang.English, false
}

// splitter splits German compounds against the vocabulary of an index. It
// caches its results and is not safe for concurrent use.
type splitter struct {
	vocab map[string]uint8
	de    analysis.Analyzer
	cache map[string][]string
}

func (ix *Index) newSplitter() *splitter {
	return &splitter{vocab: ix.words, de: ix.analyzers[deAnalyzer], cache: map[string][]string{}}
}

// term is the German analysis of a single word ("" for a stop word).
func (sp *splitter) term(word string) string {
	ts := sp.de.Analyze([]byte(word))
	if len(ts) != 1 {
		return ""
	}
	return string(ts[0].Term)
}

// split returns the German terms of the parts of the compound word, or nil
// when it is not one: the longest head (last part, at least minPart runes)
// the vocabulary knows, and before it the modifier if the vocabulary knows
// it too, with or without a linking "s", "es", "n" or "en"
// ("Stimmungsverlauf" → "stimmung", "verlauf"; "Funktionswünsche" →
// "wunsch" when "funktion" is unknown).
func (sp *splitter) split(word string) []string {
	if parts, ok := sp.cache[word]; ok {
		return parts
	}
	var parts []string
	runes := []rune(strings.ToLower(word))
	if len(runes) >= minCompound {
		for i := minPart; i <= len(runes)-minPart; i++ {
			head := sp.term(string(runes[i:]))
			if _, known := sp.vocab[head]; head == "" || !known {
				continue
			}
			mod := string(runes[:i])
			parts = []string{head}
			for _, link := range []string{"", "s", "es", "n", "en"} {
				m, ok := strings.CutSuffix(mod, link)
				if !ok || utf8.RuneCountInString(m) < minPart {
					continue
				}
				t := sp.term(m)
				if _, known := sp.vocab[t]; t != "" && known {
					parts = []string{t, head}
					break
				}
			}
			break
		}
	}
	sp.cache[word] = parts
	return parts
}

// withParts returns text with the parts of its compound words appended
// (words the vocabulary knows only as part of compounds are not split), and
// parts extended by the new parts.
func (sp *splitter) withParts(text string, parts []string) (string, []string) {
	var extra []string
	for _, t := range sp.de.Analyze([]byte(text)) {
		if utf8.RuneCount(t.Term) < minCompound {
			continue
		}
		extra = append(extra, sp.split(text[t.Start:t.End])...)
	}
	if len(extra) == 0 {
		return text, parts
	}
	return text + "\n" + strings.Join(extra, " "), append(parts, extra...)
}

// onlyAnalyzer is the analyzer whose fields a question in language l is
// searched in: when the language is known, only its own analysis (which
// covers chunks of both languages, so a German question still finds an
// English page), else both (""). Searching one analysis instead of two
// halves the postings a query reads, and the language preference decides
// the ranking between languages anyway.
func onlyAnalyzer(l string, sure bool) string {
	if !sure {
		return ""
	}
	if l == lang.German {
		return deAnalyzer
	}
	return enAnalyzer
}
