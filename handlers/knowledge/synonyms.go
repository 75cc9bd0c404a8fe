package knowledge

import (
	"github.com/blevesearch/bleve/v2/analysis"
	"github.com/blevesearch/bleve/v2/analysis/lang/en"
	"github.com/blevesearch/bleve/v2/analysis/token/lowercase"
	"github.com/blevesearch/bleve/v2/analysis/token/porter"
	"github.com/blevesearch/bleve/v2/analysis/tokenizer/unicode"
	"github.com/blevesearch/bleve/v2/registry"
)

// enAnalyzer is bleve's English analysis (possessives, lower case, stop
// words, Porter stemming) followed by the product-support synonyms below.
const enAnalyzer = "einsatz_en"

// synonyms are groups of words a question and a page use for the same
// thing in product support ("update" Syncthing, the page says "upgrade";
// "delete" a message, the page says "remove"). Every word of a group is
// analysed to the root of its first word, at index and query time alike,
// so they meet without counting as two terms. Only general support
// vocabulary belongs here, no word of one knowledge base: a group that is
// wrong for some page makes that page match questions it does not answer.
var synonyms = map[string][][]string{
	enAnalyzer: {
		{"upgrade", "update"},
		{"computer", "machine"},
		{"delete", "erase", "remove"},
		{"install", "installation", "setup"},
		{"connect", "connection"},
		{"settings", "preferences"},
		{"sync", "synchronize", "synchronise", "synchronization", "synchronisation"},
	},
	deAnalyzer: {
		{"aktualisieren", "aktualisierung", "update", "upgrade"},
		{"rechner", "computer", "maschine"},
		{"löschen", "entfernen"},
		{"installation", "installieren", "setup"},
		{"verbinden", "verbindung", "anbinden", "anbindung"},
		{"einstellungen", "einstellung"},
		{"synchronisieren", "synchronisation", "sync"},
	},
}

// synonymFilter replaces each analysed term by the root of its group.
type synonymFilter map[string]string

func (f synonymFilter) Filter(input analysis.TokenStream) analysis.TokenStream {
	for _, t := range input {
		if r, ok := f[string(t.Term)]; ok {
			t.Term = []byte(r)
		}
	}
	return input
}

// newSynonymFilter analyses the groups with filters (the analysis the
// synonym filter follows) and maps every root to its group's first.
func newSynonymFilter(groups [][]string, tok analysis.Tokenizer, filters []analysis.TokenFilter) synonymFilter {
	a := &analysis.DefaultAnalyzer{Tokenizer: tok, TokenFilters: filters}
	root := func(w string) string {
		ts := a.Analyze([]byte(w))
		if len(ts) != 1 {
			return ""
		}
		return string(ts[0].Term)
	}
	f := make(synonymFilter)
	for _, g := range groups {
		head := root(g[0])
		if head == "" {
			continue
		}
		for _, w := range g[1:] {
			if r := root(w); r != "" && r != head {
				f[r] = head
			}
		}
	}
	return f
}

func englishAnalyzer(_ map[string]any, cache *registry.Cache) (analysis.Analyzer, error) {
	tok, err := cache.TokenizerNamed(unicode.Name)
	if err != nil {
		return nil, err
	}
	var filters []analysis.TokenFilter
	for _, name := range []string{en.PossessiveName, lowercase.Name, en.StopName, porter.Name} {
		f, err := cache.TokenFilterNamed(name)
		if err != nil {
			return nil, err
		}
		filters = append(filters, f)
	}
	filters = append(filters, newSynonymFilter(synonyms[enAnalyzer], tok, filters))
	return &analysis.DefaultAnalyzer{Tokenizer: tok, TokenFilters: filters}, nil
}

func init() {
	if err := registry.RegisterAnalyzer(enAnalyzer, englishAnalyzer); err != nil {
		panic(err)
	}
}
