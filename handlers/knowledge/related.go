package knowledge

import (
	"slices"
	"sync"
)

// Related words: a question and the page that answers it often name the
// same thing with different words that are not synonyms ("auf Deutsch
// antworten" and a section "Sprachen"; "my app crashes" and "errors").
// Unlike the synonyms (synonyms.go), which are analysed to one term, a
// related word counts only a little and only in the answer decision: a
// chunk that lacks a word of the question but has a related one gets
// relatedCredit of that word's weight in the features the decision weighs.
// Search ranking is left alone: as extra search clauses, related words
// changed which page ranks first for some questions and helped none on the
// development sets (bleve scales a chunk's score by the share of clauses
// it matches, so no boost keeps such clauses weak). The list is general
// support vocabulary in English and German, written by the project for
// Einsatz (no word of one knowledge base); every word of a group is
// related to every other.
var relatedGroups = [][]string{
	// languages and the word for them
	{"language", "languages", "english", "german", "french", "spanish", "sprache", "sprachen", "deutsch", "englisch", "französisch", "spanisch"},
	// things going wrong
	{"error", "errors", "bug", "crash", "crashes", "failure", "fails", "broken", "problem", "issue"},
	{"fehler", "fehlermeldung", "bug", "absturz", "abstürze", "stürzt", "problem", "probleme", "störung", "kaputt"},
	{"fix", "solve", "resolve", "repair", "workaround"},
	{"beheben", "lösen", "lösung", "reparieren", "workaround"},
	// signing in and secrets
	{"password", "passphrase", "login", "credentials", "sign"},
	{"passwort", "kennwort", "anmeldung", "anmelden", "login", "zugangsdaten"},
	{"token", "key", "secret", "credentials", "schlüssel", "geheimnis", "zugangsdaten"},
	{"account", "profile", "register", "signup", "konto", "profil", "registrieren", "registrierung"},
	// devices
	{"phone", "mobile", "smartphone", "android", "iphone", "ios", "handy", "telefon", "mobil", "tablet"},
	{"computer", "pc", "laptop", "desktop", "rechner", "notebook"},
	// running
	{"start", "launch", "run", "boot", "starten", "ausführen", "laufen"},
	{"stop", "quit", "exit", "shutdown", "beenden", "stoppen", "herunterfahren"},
	// resources
	{"memory", "ram", "arbeitsspeicher", "speicher"},
	{"disk", "storage", "space", "festplatte", "speicherplatz"},
	{"slow", "fast", "speed", "performance", "langsam", "schnell", "geschwindigkeit", "leistung"},
	// money
	{"price", "cost", "costs", "pay", "free", "pricing", "preis", "kosten", "bezahlen", "kostenlos", "gratis"},
	// talking
	{"message", "messages", "post", "nachricht", "nachrichten", "beitrag"},
	{"answer", "answers", "reply", "replies", "respond", "response", "antwort", "antworten", "beantworten"},
	{"notification", "notify", "alert", "warning", "benachrichtigung", "benachrichtigen", "warnung", "hinweis"},
	{"share", "send", "teilen", "senden", "schicken", "übermitteln"},
	// people
	{"admin", "administrator", "moderator", "staff", "team", "mod"},
	{"user", "users", "member", "members", "people", "nutzer", "benutzer", "mitglied", "mitglieder", "leute"},
	// setting things up
	{"configure", "configuration", "config", "settings", "option", "options", "konfiguration", "konfigurieren", "einstellungen", "option", "optionen"},
	{"docs", "documentation", "manual", "guide", "tutorial", "anleitung", "dokumentation", "doku", "handbuch"},
	{"version", "release", "versionen", "veröffentlichung"},
	// language models, by kind and by the names people know them by
	{"llm", "llms", "ai", "ki", "model", "modell", "sprachmodell", "openai", "chatgpt", "gpt"},
	// needing something, and doing without it
	{"need", "needs", "required", "require", "requires", "necessary", "mandatory", "brauchen", "braucht", "benötigt", "nötig", "erforderlich", "notwendig", "voraussetzung"},
	{"without", "offline"}, // "ohne" is a German stop word
	// how many
	{"multiple", "several", "many", "various", "mehrere", "viele", "verschiedene"},
	// mood
	{"mood", "sentiment", "feeling", "feelings", "emotion", "stimmung", "laune", "gefühl"},
	// files and data
	{"folder", "directory", "ordner", "verzeichnis"},
	{"backup", "restore", "sicherung", "wiederherstellen"},
	{"privacy", "gdpr", "personal", "datenschutz", "dsgvo", "personenbezogen"},
	{"log", "logs", "logging", "protokoll", "protokolliert", "protokollieren"},
}

// relatedCredit is the share of a question word's weight a chunk that
// lacks it gets for a related word, in the features the answer decision
// weighs (Rare, Context, TitleMatch, Asked; see Index.features).
const relatedCredit = 0.5

// relatedTerms maps, per analyzer, each analysed word of relatedGroups to
// the analysed other words of its groups.
var relatedTerms = sync.OnceValue(func() map[string]map[string][]string {
	an := textAnalyzers()
	out := make(map[string]map[string][]string, len(analyzers))
	for i, name := range analyzers {
		m := make(map[string][]string)
		for _, g := range relatedGroups {
			var terms []string
			for _, w := range g {
				if ts := an[i].Analyze([]byte(w)); len(ts) == 1 {
					terms = append(terms, string(ts[0].Term))
				}
			}
			for _, a := range terms {
				for _, b := range terms {
					if a != b && !slices.Contains(m[a], b) {
						m[a] = append(m[a], b)
					}
				}
			}
		}
		out[name] = m
	}
	return out
})

// relatedIn reports whether set has a term related to t.
func relatedIn(name, t string, set map[string]bool) bool {
	for _, r := range relatedTerms()[name][t] {
		if set[r] {
			return true
		}
	}
	return false
}

// relatedAny reports whether ts has a term related to t.
func relatedAny(name, t string, ts []string) bool {
	for _, r := range relatedTerms()[name][t] {
		if slices.Contains(ts, r) {
			return true
		}
	}
	return false
}
