package knowledge

import (
	"slices"
	"strings"
	"unicode/utf8"

	"github.com/blevesearch/bleve/v2/analysis"
	"github.com/blevesearch/bleve/v2/analysis/lang/de"
	"github.com/blevesearch/bleve/v2/analysis/token/lowercase"
	"github.com/blevesearch/bleve/v2/analysis/tokenizer/unicode"
	"github.com/blevesearch/bleve/v2/registry"
)

// deAnalyzer is bleve's German analysis (lower case, stop words, umlaut
// normalisation, light stemming) with verbNoun before the stemmer, so that
// a question's verb reaches the noun a page uses and back: "Wie installiere
// ich …" finds "Installation", "verbinde" finds "Verbindung", "konfiguriert"
// finds "Konfiguration". The light stemmer alone strips inflections only
// ("installieren" → "installi", "installiert" stays, "Installation" stays).
// Chunks and questions are analysed alike, so the index and the query meet
// on the same root.
const deAnalyzer = "einsatz_de"

// verbNounName is the registered name of the verbNoun token filter.
const verbNounName = "einsatz_de_verb_noun"

// minRoot is the fewest runes a root may keep: shorter ones are more often a
// different word that happens to end like a suffix ("Station", "Wert").
const minRoot = 4

// verbNounSuffixes are cut from a word (umlauts already folded), longest
// first, the first that leaves a root of minRoot runes:
//   - the "-ieren" verbs and their nouns ("installiere", "installiert",
//     "installieren", "Installation", "Aktivierung" → "install", "aktiv");
//   - "-ung" nouns ("Verbindung" → "verbind", like "verbinden" after
//     stemming; "Speicherung" → "speicher", stemmed like "speichern");
//   - the third person of verbs in -d/-t ("verbindet" → "verbind",
//     "richtet" → "richt"), which the light stemmer keeps, and of verbs in
//     -er ("speichert" → "speicher"). A bare "-t" is not cut: "Export",
//     "Produkt", "Bot" end in it;
//   - the "-s" plural of loanwords after a vowel, "p" or "y" ("Apps",
//     "Handys", see loanPluralBefore).
var verbNounSuffixes = []string{
	"ierungen", "ierung", "ationen", "ation",
	"ierten", "ierter", "iertes", "iertem", "ierte", "iert", "ierst", "ieren", "iere",
	"ungen", "ung",
}

func verbNoun(w string) string {
	for _, s := range verbNounSuffixes {
		if root, ok := strings.CutSuffix(w, s); ok && utf8.RuneCountInString(root) >= minRoot {
			return root
		}
	}
	if root, ok := strings.CutSuffix(w, "et"); ok && utf8.RuneCountInString(root) >= minRoot &&
		(strings.HasSuffix(root, "d") || strings.HasSuffix(root, "t")) {
		return root
	}
	if root, ok := strings.CutSuffix(w, "ert"); ok && utf8.RuneCountInString(root) >= minRoot {
		return root + "er"
	}
	if root, ok := strings.CutSuffix(w, "s"); ok && utf8.RuneCountInString(root) >= 3 && strings.ContainsAny(root[len(root)-1:], loanPluralBefore) {
		return root
	}
	return w
}

// loanPluralBefore are the letters before the "-s" plural of loanwords
// ("Apps", "Handys", "Fotos", "Kameras", "Tipps") that the light stemmer
// keeps: it cuts "-s" only after the letters German words end in before a
// genitive "s" ("Tages", "Bots"). verbNoun cuts it after these too, so the
// plural meets the singular ("handys" → "handy").
const loanPluralBefore = "aiopy"

type verbNounFilter struct{}

func (verbNounFilter) Filter(input analysis.TokenStream) analysis.TokenStream {
	for _, t := range input {
		if r := verbNoun(string(t.Term)); len(r) != len(t.Term) {
			t.Term = []byte(r)
		}
	}
	return input
}

func init() {
	// bleve looks token filters and analyzers up by name in its registry,
	// which registration at init time fills.
	if err := registry.RegisterTokenFilter(verbNounName, func(map[string]any, *registry.Cache) (analysis.TokenFilter, error) {
		return verbNounFilter{}, nil
	}); err != nil {
		panic(err)
	}
	if err := registry.RegisterAnalyzer(deAnalyzer, germanAnalyzer); err != nil {
		panic(err)
	}
}

func germanAnalyzer(_ map[string]any, cache *registry.Cache) (analysis.Analyzer, error) {
	tok, err := cache.TokenizerNamed(unicode.Name)
	if err != nil {
		return nil, err
	}
	var filters []analysis.TokenFilter
	for _, name := range []string{lowercase.Name, de.StopName, de.NormalizeName, verbNounName, de.LightStemmerName} {
		f, err := cache.TokenFilterNamed(name)
		if err != nil {
			return nil, err
		}
		filters = append(filters, f)
	}
	filters = append(filters, newSynonymFilter(synonyms[deAnalyzer], tok, filters))
	return &analysis.DefaultAnalyzer{Tokenizer: tok, TokenFilters: filters}, nil
}

// Separable verbs: German splits "einrichten" in a question into "richte
// … ein", "anmelden" into "melde … an"; the particle ends the clause and
// is a stop word, so the question would be about "richten". joinParticles
// puts a clause-final particle back in front of a word of its clause when
// the knowledge base knows the joined word ("Wie richte ich Slack ein?" →
// "Wie einrichte ich Slack?"), so the question meets "Slack einrichten".
var separableParticles = map[string]bool{
	"ab": true, "an": true, "auf": true, "aus": true, "bei": true, "ein": true, "fest": true,
	"her": true, "hin": true, "los": true, "mit": true, "nach": true, "um": true, "vor": true,
	"weg": true, "zu": true, "zurück": true, "zusammen": true,
}

// joinParticles rewrites q's separated verbs; known reports whether the
// knowledge base has a (German) word.
func joinParticles(q string, known func(word string) bool) string {
	words := strings.FieldsFunc(q, func(r rune) bool { return r == ' ' || r == '\t' || r == '\n' })
	changed := false
	start := 0 // first word of the clause
	for i, w := range words {
		core := strings.TrimRightFunc(w, isClauseEnd)
		if core == w && i < len(words)-1 {
			continue // not the end of a clause
		}
		particle := strings.ToLower(core)
		if separableParticles[particle] && i > start {
			for j := i - 1; j >= start; j-- {
				verb := strings.ToLower(strings.TrimFunc(words[j], isClauseEnd))
				if len([]rune(verb)) >= 3 && !separableParticles[verb] && known(particle+verb) {
					words[j] = particle + verb
					words[i] = w[len(core):] // keep the punctuation
					changed = true
					break
				}
			}
		}
		start = i + 1
	}
	if !changed {
		return q
	}
	return strings.Join(slices.DeleteFunc(words, func(s string) bool { return s == "" }), " ")
}

func isClauseEnd(r rune) bool { return strings.ContainsRune("?!.,;:", r) }
