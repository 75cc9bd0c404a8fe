package sentiment

import (
	"bufio"
	"embed"
	"encoding/json"
	"fmt"
	"strconv"
	"strings"
	"sync"
	"unicode/utf8"
)

// The shipped data: see docs/sentiment.md for sources and licences.
//
//go:embed data/vader_lexicon.tsv data/shared.txt data/en.txt data/de.txt data/model.json
var dataFS embed.FS

const (
	en = 0 // index of English in per-language arrays
	de = 1 // index of German
)

var langNames = [2]string{"en", "de"}

// entry flags, per language
const (
	fVal      uint16 = 1 << iota // has a valence
	fNeg                         // negator (scope: the next three tokens of the clause)
	fPostNeg                     // German negator that may follow what it negates ("mag ich nicht")
	fBoost                       // intensifier (boost > 0) or dampener (boost < 0)
	fContrast                    // "but": the clause after it weighs more
	fStop                        // evidence that the text is in this language
	fKnown                       // listed in the language's valence section (even with valence 0)
	fPerson                      // first or second person ("I", "you", "ich", "du"): talk about oneself or to someone evaluates
	fAgain                       // "again", "wieder", "typical": a repeated nuisance, context for irony
)

type entry struct {
	val   [2]float32
	boost [2]float32
	flags [2]uint16
}

type prefix struct {
	p   string
	val float32
}

// lexicon is the immutable, shared word table: one map lookup per token answers for both
// languages.
type lexicon struct {
	words   map[string]int32 // used while building
	tab     *table           // used for lookups
	entries []entry
	prefDE  []prefix
	// valEntries is entries (sharing its array), then an empty entry (no word), then one per
	// German prefix (valence in German only): what a token's ent stands for, in the order
	// valence indexes it
	valEntries []entry
	// prefFirst[b] has bit i set when prefDE[i] could start a word beginning with byte b
	prefFirst [256]uint64
	models    [2]model
}

var (
	lexOnce sync.Once
	lexData *lexicon
	lexErr  error
)

func loadLexicon() (*lexicon, error) {
	lexOnce.Do(func() { lexData, lexErr = buildLexicon() })
	return lexData, lexErr
}

func (lx *lexicon) get(w string) *entry {
	if i, ok := lx.words[w]; ok {
		return &lx.entries[i]
	}
	i := int32(len(lx.entries))
	lx.entries = append(lx.entries, entry{})
	lx.words[w] = i
	return &lx.entries[i]
}

func buildLexicon() (*lexicon, error) {
	lx := &lexicon{words: make(map[string]int32, 9000)}
	vader, err := dataFS.ReadFile("data/vader_lexicon.tsv")
	if err != nil {
		return nil, err
	}
	for ln, line := range strings.Split(string(vader), "\n") {
		if line == "" {
			continue
		}
		w, v, ok := strings.Cut(line, "\t")
		f, err := strconv.ParseFloat(v, 32)
		if !ok || err != nil {
			return nil, fmt.Errorf("vader_lexicon.tsv:%d: bad line", ln+1)
		}
		e := lx.get(w)
		e.val[en] = float32(f)
		e.flags[en] |= fVal
	}
	for _, f := range []struct {
		file  string
		langs []int
	}{{"data/shared.txt", []int{en, de}}, {"data/en.txt", []int{en}}, {"data/de.txt", []int{de}}} {
		if err := lx.parseRules(f.file, f.langs); err != nil {
			return nil, err
		}
	}
	for _, w := range []string{"nicht", "nie", "niemals", "nimmer", "nimmermehr"} {
		lx.get(w).flags[de] |= fPostNeg
	}
	// Sentiment words that exist in German only are language evidence too ("toll", "geil").
	for i := range lx.entries {
		e := &lx.entries[i]
		if e.flags[de]&fVal != 0 && e.flags[en] == 0 {
			e.flags[de] |= fStop
		}
	}
	m, err := dataFS.ReadFile("data/model.json")
	if err != nil {
		return nil, err
	}
	var mf modelFile
	if err := json.Unmarshal(m, &mf); err != nil {
		return nil, fmt.Errorf("model.json: %w", err)
	}
	lx.models[en], lx.models[de] = mf.EN, mf.DE
	lx.tab = newTable(lx.words)
	lx.indexPrefixes()
	n := len(lx.entries)
	lx.valEntries = append(lx.entries, entry{})
	for _, p := range lx.prefDE {
		var e entry
		e.val[de], e.flags[de] = p.val, fVal
		lx.valEntries = append(lx.valEntries, e)
	}
	lx.entries = lx.valEntries[:n:n]
	return lx, nil
}

// parseRules reads a rules file: "[section]" headers, then one item per line ("word value" for
// valence, booster and prefix; bare words for negation and contrast; many words a line for stop).
func (lx *lexicon) parseRules(file string, langs []int) error {
	b, err := dataFS.ReadFile(file)
	if err != nil {
		return err
	}
	sc := bufio.NewScanner(strings.NewReader(string(b)))
	section, ln := "", 0
	for sc.Scan() {
		ln++
		line := strings.TrimSpace(sc.Text())
		if line == "" || (strings.HasPrefix(line, "# ") || line == "#") {
			continue
		}
		if strings.HasPrefix(line, "[") && strings.HasSuffix(line, "]") {
			section = line[1 : len(line)-1]
			continue
		}
		fields := strings.Fields(line)
		num := func() (float32, error) {
			if len(fields) != 2 {
				return 0, fmt.Errorf("%s:%d: want \"word value\"", file, ln)
			}
			f, err := strconv.ParseFloat(fields[1], 32)
			if err != nil {
				return 0, fmt.Errorf("%s:%d: %v", file, ln, err)
			}
			return float32(f), nil
		}
		word := strings.ReplaceAll(fields[0], "\uFE0F", "")
		if !utf8.ValidString(word) {
			return fmt.Errorf("%s:%d: invalid UTF-8", file, ln)
		}
		switch section {
		case "valence":
			v, err := num()
			if err != nil {
				return err
			}
			e := lx.get(word)
			for _, l := range langs {
				e.val[l] = v
				e.flags[l] |= fKnown
				if v != 0 {
					e.flags[l] |= fVal
				} else {
					e.flags[l] &^= fVal
				}
			}
		case "booster":
			v, err := num()
			if err != nil {
				return err
			}
			e := lx.get(word)
			for _, l := range langs {
				e.boost[l] = v
				e.flags[l] |= fBoost
			}
		case "negation", "contrast":
			fl := fNeg
			if section == "contrast" {
				fl = fContrast
			}
			e := lx.get(word)
			for _, l := range langs {
				e.flags[l] |= fl
			}
		case "stop", "person", "again":
			fl := fStop
			switch section {
			case "person":
				fl = fPerson
			case "again":
				fl = fAgain
			}
			for _, w := range fields {
				e := lx.get(w)
				for _, l := range langs {
					e.flags[l] |= fl
				}
			}
		case "prefix":
			v, err := num()
			if err != nil {
				return err
			}
			lx.prefDE = append(lx.prefDE, prefix{word, v})
		default:
			return fmt.Errorf("%s:%d: unknown section %q", file, ln, section)
		}
	}
	return sc.Err()
}

// indexPrefixes fills prefFirst. An empty prefix matches any first byte; past 64 prefixes
// every byte lists the first 64 and germanFallback checks the rest in order after them.
func (lx *lexicon) indexPrefixes() {
	for i, p := range lx.prefDE[:min(len(lx.prefDE), 64)] {
		for b := range lx.prefFirst {
			if p.p == "" || p.p[0] == byte(b) {
				lx.prefFirst[b] |= 1 << i
			}
		}
	}
}
