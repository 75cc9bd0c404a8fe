package knowledge

import (
	"context"
	"slices"
	"testing"

	"github.com/einsatz/einsatz/bot/kb"
)

func TestSlip(t *testing.T) {
	for _, tt := range []struct {
		typed, intended string
		want            bool
	}{
		{"discrod", "discord", true},    // neighbours swapped
		{"conect", "connect", true},     // a letter left out
		{"olama", "ollama", true},       // a letter left out
		{"slaack", "slack", true},       // a letter added
		{"slsck", "slack", true},        // s is next to a
		{"tokem", "token", true},        // m is next to n
		{"discord", "discord", false},   // the same word
		{"sprechen", "sprachen", false}, // e and a are not neighbours: another word
		{"uninstall", "install", false}, // two letters
		{"memory", "member", false},
		{"bother", "other", false}, // a first letter added or left out: another word
		{"other", "bother", false},
		{"zeit", "yeit", true}, // y and z swap places between QWERTY and QWERTZ
	} {
		if got := slip([]rune(tt.typed), []rune(tt.intended)); got != tt.want {
			t.Errorf("slip(%q, %q) = %v, want %v", tt.typed, tt.intended, got, tt.want)
		}
	}
}

func TestSearchToleratesTypos(t *testing.T) {
	ix, err := NewIndex([]kb.Chunk{
		{ID: "d", Source: "discord.md", Title: "Connecting Discord", Lang: "en", Text: "Connect the bot to Discord with a bot token."},
		{ID: "o", Source: "ollama.md", Title: "Local models", Lang: "en", Text: "Run a local model with Ollama."},
		{ID: "s", Source: "slack.md", Title: "Slack einrichten", Lang: "de", Text: "So richtet man Slack ein: App anlegen, Token eintragen."},
	})
	if err != nil {
		t.Fatal(err)
	}
	defer ix.Close()
	for _, tt := range []struct{ q, want string }{
		{"how do i conect the bot to discrod?", "discord.md"},
		{"can it run with olama locally", "ollama.md"},
		{"wie richte ich slakc ein?", "slack.md"},
	} {
		hits, err := ix.Search(context.Background(), tt.q, 3)
		if err != nil {
			t.Fatal(err)
		}
		if len(hits) == 0 || hits[0].Source != tt.want || hits[0].Rare < 0.99 {
			t.Errorf("%q: got %+v, want %s first with every term covered", tt.q, hits, tt.want)
		}
	}
	// A word the knowledge base lacks, one slip from none of its words,
	// stays uncovered.
	hits, err := ix.Search(context.Background(), "does the bot support voice channels", 3)
	if err != nil {
		t.Fatal(err)
	}
	for _, h := range hits {
		if h.Rare > 0.5 {
			t.Errorf("voice question: %s covers %.2f of it, want ≤ 0.5", h.Source, h.Rare)
		}
	}
}

func TestJoinParticles(t *testing.T) {
	known := func(w string) bool { return w == "einrichte" || w == "anmelde" }
	for _, tt := range []struct{ q, want string }{
		{"Wie richte ich Slack ein?", "Wie einrichte ich Slack ?"},
		{"wie melde ich mich an", "wie anmelde ich mich"},
		{"Wie richte ich den Bot ein, und was kostet das?", "Wie einrichte ich den Bot , und was kostet das?"},
		{"Ich komme aus Berlin.", "Ich komme aus Berlin."}, // "ausberlin" is unknown
		{"Was ist Einsatz?", "Was ist Einsatz?"},
	} {
		if got := joinParticles(tt.q, known); got != tt.want {
			t.Errorf("joinParticles(%q) = %q, want %q", tt.q, got, tt.want)
		}
	}
}

func TestPhraseAndAsked(t *testing.T) {
	ix, err := NewIndex([]kb.Chunk{
		{ID: "a", Source: "logs.md", Title: "Where are the logs?", Lang: "en", Text: "Syncthing logs go to the standard output."},
		{ID: "b", Source: "db.md", Title: "My database is corrupt", Lang: "en", Text: "Check the log first. Then Syncthing rebuilds the index."},
	})
	if err != nil {
		t.Fatal(err)
	}
	defer ix.Close()
	hits, err := ix.Search(context.Background(), "where are the syncthing logs", 2)
	if err != nil {
		t.Fatal(err)
	}
	by := map[string]Hit{}
	for _, h := range hits {
		by[h.Source] = h
	}
	if a, b := by["logs.md"], by["db.md"]; a.Phrase != 1 || b.Phrase != 0 || a.Asked != 1 || b.Asked != 0 {
		t.Errorf("phrase/asked: logs.md %.2f/%.2f, db.md %.2f/%.2f; want 1/1 and 0/0", a.Phrase, a.Asked, b.Phrase, b.Asked)
	}
}

// A how-to verb and a sign-off are not what a question is about: "Wie
// richte ich Discord ein? lg" asks about Discord; a question of a how-to
// verb alone keeps it.
func TestHowToVerbsAndSignOffsLeftOut(t *testing.T) {
	ix, err := NewIndex([]kb.Chunk{
		{ID: "d", Source: "discord.md", Title: "Discord verbinden", Lang: "de", Text: "Einen Bot-Token anlegen und eintragen."},
		{ID: "s", Source: "sprachmodell.md", Title: "Sprachmodell einrichten", Lang: "de", Text: "Das Sprachmodell einrichten."},
	})
	if err != nil {
		t.Fatal(err)
	}
	defer ix.Close()
	for _, tt := range []struct {
		q    string
		want []string
	}{
		{"Hallo! wie richte ich Discord ein? lg", []string{"discord"}},
		{"Kann ich das Sprachmodell benutzen?", []string{"sprachmodell"}},
		{"Wie richte ich das ein?", []string{"einricht"}},
	} {
		if got := ix.analyzeQuery(tt.q)[deAnalyzer]; !slices.Equal(got, tt.want) {
			t.Errorf("%q: German terms %q, want %q", tt.q, got, tt.want)
		}
	}
}
