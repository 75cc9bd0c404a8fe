package knowledge

import (
	"context"
	"math"
	"testing"

	"github.com/einsatz/einsatz/bot/kb"
)

// TestRelatedAndDocumentCredit: a chunk that lacks a word of the question
// gets half its weight for a related word ("german" and a section
// "Languages") or when another section of its page has the word ("bot"),
// in the features only: unrelated words get none, and ranking is left to
// the question's own words.
func TestRelatedAndDocumentCredit(t *testing.T) {
	ix, err := NewIndex([]kb.Chunk{
		{ID: "a", Source: "about.md", Title: "About", Heading: "Languages", Lang: "en", Text: "It replies in the language people write in."},
		{ID: "b", Source: "about.md", Title: "About", Lang: "en", Text: "Einsatz is a bot for communities."},
		{ID: "c", Source: "setup.md", Title: "Setup", Lang: "en", Text: "Install the bot as one binary."},
	})
	if err != nil {
		t.Fatal(err)
	}
	defer ix.Close()
	hit := func(q string) Hit {
		t.Helper()
		hits, err := ix.Search(context.Background(), q, 3)
		if err != nil {
			t.Fatal(err)
		}
		for _, h := range hits {
			if h.ID == "a" {
				return h
			}
		}
		t.Fatalf("%q: chunk a not found in %s", q, describe(hits))
		return Hit{}
	}
	near := func(a, b float64) bool { return math.Abs(a-b) < 1e-9 }

	de := hit("can the bot reply in german?")
	if de.Context <= 0 || de.Asked <= 0 || !near(de.Missing, 0.5) || de.Rare >= 1 || de.Rare <= de.Coverage {
		t.Errorf("german: context %.2f asked %.2f missing %.2f rare %.2f coverage %.2f; want context and asked > 0, missing 0.5, coverage < rare < 1",
			de.Context, de.Asked, de.Missing, de.Rare, de.Coverage)
	}
	bin := hit("can the bot reply in binary?")
	if bin.Context != 0 || bin.Asked != 0 {
		t.Errorf("binary: context %.2f asked %.2f, want 0: not related to Languages", bin.Context, bin.Asked)
	}
	// "bot" is in chunk b of the same page: half credit, never missing in full.
	own := hit("does the bot reply?")
	if own.Rare <= own.Coverage || own.Rare >= 1 || own.Missing <= 0 || own.Missing >= 0.5 {
		t.Errorf("bot: rare %.2f coverage %.2f missing %.2f; want coverage < rare < 1 and 0 < missing < 0.5", own.Rare, own.Coverage, own.Missing)
	}
}

// TestRelatedGroupsAnalyse: every related word is one term in each
// analysis, so no group member is silently dropped.
func TestRelatedGroupsAnalyse(t *testing.T) {
	rel := relatedTerms()
	for _, name := range analyzers {
		if got := rel[name]["german"]; len(got) == 0 {
			t.Errorf("%s: german has no related terms", name)
		}
	}
	an := textAnalyzers()
	for _, g := range relatedGroups {
		for _, w := range g {
			for i, a := range an {
				if ts := a.Analyze([]byte(w)); len(ts) != 1 {
					t.Errorf("%s: %q analyses to %d terms, want 1", analyzers[i], w, len(ts))
				}
			}
		}
	}
}
