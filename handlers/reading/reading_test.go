package reading_test

import (
	"bufio"
	"encoding/json"
	"os"
	"testing"

	"github.com/einsatz/einsatz/bot"
	"github.com/einsatz/einsatz/handlers/handoff"
	"github.com/einsatz/einsatz/handlers/inbox/detect"
	"github.com/einsatz/einsatz/handlers/knowledge"
	"github.com/einsatz/einsatz/handlers/reading"
	"github.com/einsatz/einsatz/handlers/sentiment"
)

// live is the reader as the bot builds it, with the real detectors.
func live() *reading.Reader {
	a := sentiment.New()
	return reading.New(reading.Options{
		Question:  knowledge.QuestionScore,
		Request:   detect.Score,
		Human:     handoff.AsksForHuman,
		Sentiment: func(text, lang string) float64 { return a.AnalyzeLang(text, lang).Score },
	})
}

// Test: one reading per message, the way members write (cases written for
// this test; the frozen set is measured in TestFrozenMessages).
func TestRead(t *testing.T) {
	r := live()
	for _, tc := range []struct {
		text string
		lang string
		want bot.Reading
	}{
		{"How do I connect Slack?", "en", bot.ReadingQuestion},
		{"hey folks! quick one: how do I reset the dashboard password", "en", bot.ReadingQuestion},
		{"thanks! and how do I add a second channel?", "en", bot.ReadingQuestion},
		{"Moin! Wie verbinde ich den Bot mit Discord?", "de", bot.ReadingQuestion},
		{"the bot doesn't answer in our support channel since yesterday", "en", bot.ReadingQuestion},
		{"please add an export to PDF", "en", bot.ReadingRequest},
		{"Es wäre toll, wenn ihr eine Matrix-Anbindung hättet", "de", bot.ReadingRequest},
		{"can I speak to a human?", "en", bot.ReadingHuman},
		{"I want to talk to a real person, this is urgent", "en", bot.ReadingHuman},
		{"this bot is garbage and I'm fed up with it", "en", bot.ReadingFrustration},
		{"Echt unverschämt, seit Tagen keine Antwort!", "de", bot.ReadingFrustration},
		{"thank you!!", "en", bot.ReadingThanks},
		{"Thanks, that helped a lot!", "en", bot.ReadingThanks},
		{"danke dir, das hat mir echt geholfen", "de", bot.ReadingThanks},
		{"thanks, but it still crashes when I start it", "en", bot.ReadingQuestion},
		{"vielen dank, passt", "de", bot.ReadingThanks},
		{"hello!", "en", bot.ReadingGreeting},
		{"Guten Morgen zusammen", "de", bot.ReadingGreeting},
		{"hi, I'm Sam and I run a small book club server", "en", bot.ReadingGreeting},
		{"how's it going?", "en", bot.ReadingGreeting},
		{"ok", "en", bot.ReadingThanks},
		{"I love this bot, it answered everything in seconds", "en", bot.ReadingThanks},
		{"great bot, thanks for building it", "en", bot.ReadingThanks},
		{"Echt klasse Bot, gute Arbeit!", "de", bot.ReadingThanks},
		{"I love the bot but it doesn't answer in our support channel", "en", bot.ReadingQuestion},
		{"the bot is great, only the answers in German are missing", "en", bot.ReadingQuestion},
		{"Der Bot ist toll, aber er antwortet nicht auf Deutsch", "de", bot.ReadingQuestion},
		{"asdf", "en", bot.ReadingOther},
	} {
		if got := r.Read(tc.text, tc.lang); got != tc.want {
			t.Errorf("Read(%q) = %s, want %s", tc.text, got, tc.want)
		}
	}
}

// Test: the question's core leaves out greetings, introductions, pasted
// logs, redacted data and sign-offs.
func TestCore(t *testing.T) {
	for _, tc := range []struct{ in, want string }{
		{"Hi everyone! I just joined and I run a small gaming Discord. What is Einsatz exactly?", "What is Einsatz exactly?"},
		{"What is Einsatz? My mail is [email]", "What is Einsatz? My mail is"},
		{"Hallo zusammen, wie installiere ich Einsatz?", "wie installiere ich Einsatz?"},
		{"why does it crash?\n2026-01-02T10:00:00Z ERROR panic in handler\nthanks", "why does it crash?"},
		{"hi", ""},
	} {
		if got := reading.Core(tc.in); got != tc.want {
			t.Errorf("Core(%q) = %q, want %q", tc.in, got, tc.want)
		}
	}
}

// TestFrozenMessages measures the reader on testdata/messages.jsonl, the
// realistic messages frozen before the reader was written: at least 95%
// must get their expected reading. (The reader was adjusted after a first
// look at this set; its figure is a development figure.)
func TestFrozenMessages(t *testing.T) {
	f, err := os.Open("../../testdata/messages.jsonl")
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	r := live()
	n, ok := 0, 0
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		var m struct {
			Text, Lang string
			Reading    string `json:"reading"`
		}
		if err := json.Unmarshal(sc.Bytes(), &m); err != nil {
			t.Fatal(err)
		}
		n++
		if got := r.Read(m.Text, m.Lang); string(got) == m.Reading {
			ok++
		} else {
			t.Logf("%-16s want %-16s %q", got, m.Reading, m.Text)
		}
	}
	acc := float64(ok) / float64(n)
	t.Logf("readings: %d of %d right (%.1f%%)", ok, n, 100*acc)
	if acc < 0.95 {
		t.Errorf("readings right %.1f%%, want at least 95%%", 100*acc)
	}
}
