package knowledge

import (
	"testing"

	"github.com/blevesearch/bleve/v2"
)

// TestSynonymsMeet: words of one synonym group analyse to one term, at
// index and query time alike; words outside the groups keep their own.
func TestSynonymsMeet(t *testing.T) {
	m := bleve.NewIndexMapping()
	for _, tt := range []struct {
		analyzer, a, b string
		same           bool
	}{
		{enAnalyzer, "update", "upgrading", true},
		{enAnalyzer, "machine", "computers", true},
		{enAnalyzer, "erase", "removed", true},
		{enAnalyzer, "setup", "installation", true},
		{enAnalyzer, "synced", "synchronized", true},
		{enAnalyzer, "update", "delete", false},
		{enAnalyzer, "token", "secret", false},
		{deAnalyzer, "löschen", "entfernen", true},
		{deAnalyzer, "aktualisiere", "Update", true},
		{deAnalyzer, "installiere", "Setup", true},
		{deAnalyzer, "Rechner", "Computer", true},
		{deAnalyzer, "synchronisiert", "Sync", true},
		{deAnalyzer, "löschen", "installieren", false},
	} {
		a := m.AnalyzerNamed(tt.analyzer)
		if a == nil {
			t.Fatalf("analyzer %s not registered", tt.analyzer)
		}
		ta, tb := a.Analyze([]byte(tt.a)), a.Analyze([]byte(tt.b))
		if len(ta) != 1 || len(tb) != 1 {
			t.Fatalf("%s: %q → %v, %q → %v, want one term each", tt.analyzer, tt.a, ta, tt.b, tb)
		}
		if same := string(ta[0].Term) == string(tb[0].Term); same != tt.same {
			t.Errorf("%s: %q → %s, %q → %s, same = %v, want %v", tt.analyzer, tt.a, ta[0].Term, tt.b, tb[0].Term, same, tt.same)
		}
	}
}
