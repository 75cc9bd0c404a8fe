package knowledge

import (
	"context"
	"errors"
	"fmt"
	"math"
	"os"
	"reflect"
	"slices"
	"strings"
	"testing"

	"github.com/einsatz/einsatz/bot/kb"
)

func TestReadRetrievalCases(t *testing.T) {
	in := `{"query": "How do I connect Slack?", "expected": "en/connecting-discord-and-slack.md"}

  {"query": " Was ist Einsatz? ", "expected": "was-ist-einsatz.md"}
`
	got, err := ReadRetrievalCases(strings.NewReader(in))
	if err != nil {
		t.Fatal(err)
	}
	want := []RetrievalCase{
		{Query: "How do I connect Slack?", Expected: "en/connecting-discord-and-slack.md"},
		{Query: "Was ist Einsatz?", Expected: "was-ist-einsatz.md"},
	}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("ReadRetrievalCases = %#v, want %#v", got, want)
	}

	errs := []struct{ in, want string }{
		{`{"query": "a", "expected": "b"}` + "\n" + `{"query": "a"`, "line 2: "},
		{"\n\n" + `{"query": "", "expected": "b"}`, `line 3: missing "query"`},
		{`{"query": "a"}`, `line 1: missing "expected"`},
		{`{"query": "a", "expected": "b", "extra": 1}`, `line 1: json: unknown field "extra"`},
		{`{"query": "a", "expected": "b"} {"query": "c", "expected": "d"}`, "line 1: more than one JSON value"},
		{`["a", "b"]`, "line 1: "},
		{strings.Repeat("x", 2<<20), "line 1: longer than"},
	}
	for _, tt := range errs {
		_, err := ReadRetrievalCases(strings.NewReader(tt.in))
		if err == nil || !strings.HasPrefix(err.Error(), tt.want) {
			t.Errorf("ReadRetrievalCases(%.40q) error = %v, want prefix %q", tt.in, err, tt.want)
		}
	}
}

func TestEvalRetrieval(t *testing.T) {
	// Fake search results by query: the sources of the hits, best first.
	results := map[string][]string{
		"first":   {"en/a.md", "en/b.md"},
		"second":  {"en/b.md", "en/b.md", "de/a.md", "en/a.md"}, // b twice: one document, a is second
		"fifth":   {"x", "y", "z", "w", "en/a.md"},
		"tenth":   {"1", "2", "3", "4", "5", "6", "7", "8", "9", "en/a.md"},
		"eleven":  {"1", "2", "3", "4", "5", "6", "7", "8", "9", "10", "en/a.md"},
		"none":    nil,
		"suffix":  {"knowledge/en/a.md"},
		"partial": {"en/data.md"}, // "a.md" must not match "data.md"
	}
	search := func(_ context.Context, q string, k int) ([]Hit, error) {
		if q == "fail" {
			return nil, errors.New("boom")
		}
		var hits []Hit
		for i, src := range results[q] {
			if i == k {
				break
			}
			hits = append(hits, Hit{Chunk: kb.Chunk{ID: fmt.Sprint(src, "#", i), Source: src}})
		}
		return hits, nil
	}
	var cases []RetrievalCase
	for _, q := range []string{"first", "second", "fifth", "tenth", "eleven", "none", "suffix", "partial"} {
		cases = append(cases, RetrievalCase{Query: q, Expected: "en/a.md"})
	}
	cases[6].Expected = "a.md"
	cases[7].Expected = "a.md"
	got, err := EvalRetrieval(context.Background(), search, cases)
	if err != nil {
		t.Fatal(err)
	}
	// Ranks: 1, 3 (b, de/a.md, en/a.md), 5, 10, miss, miss, 1, miss.
	n := 8.0
	want := RetrievalScores{
		N:        8,
		MRR10:    (1 + 1.0/3 + 0.2 + 0.1 + 1) / n,
		Recall1:  2 / n,
		Recall5:  4 / n,
		Recall10: 5 / n,
		Misses:   []RetrievalCase{cases[4], cases[5], cases[7]},
	}
	if math.Abs(got.MRR10-want.MRR10) > 1e-12 {
		t.Errorf("MRR10 = %v, want %v", got.MRR10, want.MRR10)
	}
	got.MRR10 = want.MRR10
	if !reflect.DeepEqual(got, want) {
		t.Errorf("EvalRetrieval = %+v, want %+v", got, want)
	}

	if _, err := EvalRetrieval(context.Background(), search, []RetrievalCase{{Query: "fail", Expected: "a"}}); err == nil || !strings.Contains(err.Error(), "boom") {
		t.Errorf("EvalRetrieval with a failing search: %v", err)
	}
	if s, err := EvalRetrieval(context.Background(), search, nil); err != nil || s.N != 0 || s.MRR10 != 0 {
		t.Errorf("EvalRetrieval of no cases = %+v, %v", s, err)
	}
}

// TestRetrievalExampleKB runs the evaluation set at the repository root
// against the example knowledge base and asserts floors. Run with -v for
// the figures and the misses.
func TestRetrievalExampleKB(t *testing.T) {
	f, err := os.Open("../../testdata/retrieval.jsonl")
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	cases, err := ReadRetrievalCases(f)
	if err != nil {
		t.Fatal(err)
	}
	ix := newTestIndex(t, loadKB(t))
	perLang := map[string][]RetrievalCase{}
	for _, c := range cases {
		l, _, _ := strings.Cut(c.Expected, "/")
		perLang[l] = append(perLang[l], c)
	}
	if len(cases) < 60 || len(perLang["en"]) < 25 || len(perLang["de"]) < 25 {
		t.Errorf("retrieval set: %d cases, %d en, %d de; want >= 60, 25, 25", len(cases), len(perLang["en"]), len(perLang["de"]))
	}

	floors := map[string]RetrievalScores{
		"all": {MRR10: 0.84, Recall1: 0.75, Recall5: 0.94, Recall10: 0.97},
		"en":  {MRR10: 0.86, Recall1: 0.78, Recall5: 0.94, Recall10: 0.97},
		"de":  {MRR10: 0.80, Recall1: 0.70, Recall5: 0.94, Recall10: 0.94},
	}
	t.Logf("%-4s %4s %6s %6s %6s %6s", "set", "n", "MRR10", "R@1", "R@5", "R@10")
	for _, name := range []string{"all", "en", "de"} {
		cs := cases
		if name != "all" {
			cs = perLang[name]
		}
		s, err := EvalRetrieval(context.Background(), ix.Search, cs)
		if err != nil {
			t.Fatal(err)
		}
		t.Logf("%-4s %4d %6.3f %6.3f %6.3f %6.3f", name, s.N, s.MRR10, s.Recall1, s.Recall5, s.Recall10)
		if name == "all" {
			for _, c := range cases {
				hits, _ := ix.Search(context.Background(), c.Query, 3)
				if len(hits) == 0 || !c.matches(hits[0].Source) {
					t.Logf("  not first: %q → want %s, got%s", c.Query, c.Expected, describe(hits))
				}
			}
		}
		fl := floors[name]
		if s.MRR10 < fl.MRR10 || s.Recall1 < fl.Recall1 || s.Recall5 < fl.Recall5 || s.Recall10 < fl.Recall10 {
			t.Errorf("%s: MRR10 %.3f R@1 %.3f R@5 %.3f R@10 %.3f; want at least %.2f %.2f %.2f %.2f",
				name, s.MRR10, s.Recall1, s.Recall5, s.Recall10, fl.MRR10, fl.Recall1, fl.Recall5, fl.Recall10)
		}
	}
}

// The general ranking fixes that misses on testdata/retrieval.jsonl prompted,
// each tested on a small index (so that set is a development set, not held out).

func TestSearchGermanCompounds(t *testing.T) {
	ix := newTestIndex(t, []kb.Chunk{
		{ID: "a#0", Source: "a", Title: "Stimmung", Heading: "Verlauf", Text: "Der Verlauf der Stimmung pro Kanal.", Lang: "de"},
		{ID: "b#0", Source: "b", Title: "Daten", Heading: "Löschung", Text: "Die Löschung der Daten auf Anfrage.", Lang: "de"},
		{ID: "c#0", Source: "c", Title: "Funktionswünsche", Text: "Funktionswünsche werden gesammelt.", Lang: "de"},
		{ID: "d#0", Source: "d", Title: "Rechnung", Text: "Die Rechnung kommt per Post.", Lang: "de"},
		{ID: "e#0", Source: "e", Title: "Abstimmung", Text: "Wünsche sammeln Stimmen.", Lang: "de"},
	})
	tests := []struct {
		query    string
		want     string
		coverage float64
	}{
		{"Stimmungsverlauf", "a#0", 1},         // split against the index: stimmung + verlauf
		{"Datenlöschung?", "b#0", 1},           // daten + löschung
		{"Wie kommen Rechnungen?", "d#0", 0.5}, // stemming; "kommen" ≠ "kommt" in the light stemmer
		{"Quantenbananenwetter", "", 0},        // no part known: no hit
		{"Stimmungsquantenbanane", "", 0},      // unknown head: not split
		{"Funktionswunschliste", "", 0},        // unknown head "liste": not split
	}
	for _, tt := range tests {
		hits, err := ix.Search(context.Background(), tt.query, 3)
		if err != nil {
			t.Fatal(err)
		}
		if tt.want == "" {
			if len(hits) > 0 {
				t.Errorf("Search(%q) = %s, want no hits", tt.query, describe(hits))
			}
			continue
		}
		if len(hits) == 0 || hits[0].ID != tt.want || math.Abs(hits[0].Coverage-tt.coverage) > 1e-9 {
			t.Errorf("Search(%q) = %s (coverage %v), want %s first with coverage %v", tt.query, describe(hits), coverages(hits), tt.want, tt.coverage)
		}
	}

	// The indexed compound "Funktionswünsche" was split, its head
	// "wunsch" being known from e#0: "Wünsche" finds c#0 too.
	hits, err := ix.Search(context.Background(), "Wünsche", 3)
	if err != nil {
		t.Fatal(err)
	}
	if !slices.ContainsFunc(hits, func(h Hit) bool { return h.ID == "c#0" }) {
		t.Errorf("Search(Wünsche) = %s, want c#0 among the hits", describe(hits))
	}
	// The head is the longest known last part, the modifier is kept when
	// known (after a linking "s"). Parts are analysed like words, "-ung"
	// nouns reduced to their verb's root (see german.go).
	for q, want := range map[string][]string{
		"Rechnungsverlauf":  {"rechn", "verlauf"},
		"Quantenverlauf":    {"quantenverlauf", "verlauf"},
		"Stimmungsrechnung": {"stimm", "rechn"},
		"Rechnung":          {"rechn"},
	} {
		if got := ix.analyzeQuery(q)[deAnalyzer]; !slices.Equal(got, want) {
			t.Errorf("German terms of %q = %q, want %q", q, got, want)
		}
	}
}

func coverages(hits []Hit) []float64 {
	var cs []float64
	for _, h := range hits {
		cs = append(cs, h.Coverage)
	}
	return cs
}

func TestSearchLanguagePreference(t *testing.T) {
	ix := newTestIndex(t, []kb.Chunk{
		{ID: "en#0", Source: "en/takeover.md", Title: "Staff takeover", Heading: "When the bot asks for a human",
			Text: "A person from the team can take over the thread.", Lang: "en"},
		{ID: "de#0", Source: "de/support.md", Title: "Übernahme durch den Support", Heading: "Wenn der Bot einen Menschen holt",
			Text: "Kann der Bot eine Frage nicht beantworten, bietet er einen Menschen an.", Lang: "de"},
		{ID: "de#1", Source: "de/slack.md", Title: "Slack verbinden", Text: "Den Bot an den Slack-Workspace anbinden.", Lang: "de"},
		{ID: "en#1", Source: "en/slack.md", Title: "Connecting Slack", Text: "Connect the bot to the Slack workspace.", Lang: "en"},
	})
	tests := []struct{ query, want string }{
		// English (lang.Guess): the English page, though the German one
		// has "support" and "bot" in its title and heading.
		{"when does the bot call in a person from support", "en#0"},
		{"Wann holt der Bot den Support?", "de#0"},
		// No stop word tells the language; "anbinden" occurs in German
		// chunks only.
		{"slack workspace anbinden", "de#1"},
		{"slack workspace connect", "en#1"},
	}
	for _, tt := range tests {
		hits, err := ix.Search(context.Background(), tt.query, 3)
		if err != nil {
			t.Fatal(err)
		}
		if len(hits) == 0 || hits[0].ID != tt.want {
			t.Errorf("Search(%q) = %s, want %s first", tt.query, describe(hits), tt.want)
		}
	}
}

func TestSearchDocumentContext(t *testing.T) {
	// Both a#1 and b#0 mention chat; a's other section is about ideas as
	// well, so a#1 wins.
	ix := newTestIndex(t, []kb.Chunk{
		{ID: "a#0", Source: "a", Title: "Feature requests", Text: "Ideas from chat threads are collected.", Lang: "en"},
		{ID: "a#1", Source: "a", Title: "Feature requests", Heading: "Status", Text: "People learn what happened to their idea in chat.", Lang: "en"},
		{ID: "b#0", Source: "b", Title: "Terminal", Heading: "Chatting in the terminal", Text: "Chat with the bot in a terminal.", Lang: "en"},
	})
	hits, err := ix.Search(context.Background(), "what happens to the ideas people post in chat", 3)
	if err != nil {
		t.Fatal(err)
	}
	if len(hits) == 0 || hits[0].Source != "a" {
		t.Errorf("hits %s, want a document a chunk first", describe(hits))
	}
}
