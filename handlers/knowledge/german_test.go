package knowledge

import (
	"context"
	"testing"
)

func TestVerbNoun(t *testing.T) {
	for _, tt := range []struct{ word, want string }{
		// -ieren verbs and their nouns meet on one root.
		{"installiere", "install"},
		{"installiert", "install"},
		{"installieren", "install"},
		{"installation", "install"},
		{"installationen", "install"},
		{"konfiguriere", "konfigur"},
		{"konfiguration", "konfigur"},
		{"aktivierung", "aktiv"},
		// -ung nouns and -et/-ert verb forms.
		{"verbindung", "verbind"},
		{"verbindet", "verbind"},
		{"richtet", "richt"},
		{"speichert", "speicher"},
		// The -s plural of loanwords after a vowel, p or y.
		{"apps", "app"},
		{"handys", "handy"},
		{"fotos", "foto"},
		{"tipps", "tipp"},
		{"kameras", "kamera"},
		// Too short a root, or no verb ending: unchanged.
		{"status", "status"},
		{"los", "los"},
		{"station", "station"},
		{"wert", "wert"},
		{"export", "export"},
		{"paket", "paket"},
		{"internet", "internet"},
		{"bot", "bot"},
	} {
		if got := verbNoun(tt.word); got != tt.want {
			t.Errorf("verbNoun(%q) = %q, want %q", tt.word, got, tt.want)
		}
	}
}

// TestGermanVerbFormsReachNouns: the example knowledge base's installation
// section says "Installation"; the question says "installiere".
func TestGermanVerbFormsReachNouns(t *testing.T) {
	ix := newTestIndex(t, loadKB(t))
	for _, tt := range []struct{ q, source, heading string }{
		{"Wie installiere ich Einsatz auf meinem Server?", "de/erste-schritte.md", "Installation"},
		{"Wie installiert man Einsatz?", "de/erste-schritte.md", "Installation"},
		{"How do I install Einsatz on my server?", "en/getting-started.md", "Installation"},
		{"Wie verbinde ich den Bot mit Slack?", "de/discord-und-slack-verbinden.md", ""},
		{"Wo konfiguriere ich die Kanalrichtlinien?", "de/konfiguration.md", ""},
	} {
		hits, err := ix.Search(context.Background(), tt.q, 3)
		if err != nil {
			t.Fatal(err)
		}
		if len(hits) == 0 || hits[0].Source != tt.source || (tt.heading != "" && hits[0].Heading != tt.heading) {
			t.Errorf("Search(%q) = %s, want %s [%s] first", tt.q, describe(hits), tt.source, tt.heading)
		}
	}
}

func TestTermsSupport(t *testing.T) {
	terms := NewTerms("Installation", "Für die Installation klont man das Repository und baut es mit go build.")
	for _, tt := range []struct {
		sentence string
		share    float64
		n        int
	}{
		{"Man installiert es mit go build aus dem Repository.", 1, 4}, // installiert→install, go, build, repository (man, es, mit, aus, dem: stop words)
		{"Installiere Einsatz mit Helm auf Kubernetes.", 0.25, 4},
		{"Danke!", 1, 0},
	} {
		share, n := terms.Support(tt.sentence)
		if n != tt.n || share != tt.share {
			t.Errorf("Support(%q) = %.2f of %d words, want %.2f of %d", tt.sentence, share, n, tt.share, tt.n)
		}
	}
}

// The index's terms of its chunks support a sentence as analysing the
// chunks anew does.
func TestHitTermsFromIndex(t *testing.T) {
	ix := newTestIndex(t, loadKB(t))
	hits, err := ix.Search(context.Background(), "Wie installiere ich Einsatz?", 3)
	if err != nil || len(hits) == 0 {
		t.Fatalf("Search = %v, %v", hits, err)
	}
	for _, s := range []string{"Man klont das Repository und baut es mit go build.", "Installiere Einsatz mit Helm auf Kubernetes."} {
		got, n := ix.HitTerms(hits).Support(s)
		want, wn := AnalyzeHits(hits).Support(s)
		if got != want || n != wn {
			t.Errorf("Support(%q) = %.2f of %d from the index, %.2f of %d analysed anew", s, got, n, want, wn)
		}
	}
}
