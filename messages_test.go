package main

import (
	"bufio"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/einsatz/einsatz/bot/config"
)

// TestRealisticMessagesGetOneResponseOfTheirKind runs the frozen realistic
// messages (testdata/messages.jsonl: greetings, introductions, typos, PII,
// German, thanks, requests, complaints, "I need a human"), each in its own
// conversation, through `einsatz chat` with the example knowledge base and
// no LLM, and checks that each gets at most one reply, of the kind it asks
// for. A question counts as answered right by kind whether it gets an
// answer or an honest "I don't know" (which is right is measured by
// `einsatz eval answers`); both figures are logged.
func TestRealisticMessagesGetOneResponseOfTheirKind(t *testing.T) {
	type message struct {
		Text, Lang, Reading, Response string
	}
	f, err := os.Open("testdata/messages.jsonl")
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	var msgs []message
	var in strings.Builder
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		var m message
		if err := json.Unmarshal(sc.Bytes(), &m); err != nil {
			t.Fatal(err)
		}
		msgs = append(msgs, m)
		// One conversation each; the console takes one line a message.
		fmt.Fprintf(&in, ":thread m%d\n%s\n", len(msgs), strings.ReplaceAll(m.Text, "\n", " "))
	}
	t.Setenv("EINSATZ_DATA", filepath.Join(t.TempDir(), "data"))
	cfg := writeConfig(t, "core:\n  rate_limit:\n    per_minute: 10000\n    burst: 10000\n")
	out, _, err := einsatz(t, in.String(), "chat", "--config", cfg)
	if err != nil {
		t.Fatal(err)
	}
	replies := map[string][]string{}
	line := regexp.MustCompile(`^\[(m\d+)\] Einsatz: (.*)$`)
	for _, l := range strings.Split(out, "\n") {
		if m := line.FindStringSubmatch(l); m != nil {
			replies[m[1]] = append(replies[m[1]], m[2])
		}
	}
	texts := config.Default().Texts
	ack := func(lang, r string) bool {
		pre, post, _ := strings.Cut(texts.Get(lang, config.TextFeatureAck), "{id}")
		return strings.HasPrefix(r, pre) && strings.HasSuffix(r, post)
	}
	kind := func(lang string, got []string) string {
		if len(got) == 0 {
			return "none_or_welcome"
		}
		r := got[0]
		is := func(key string) bool {
			want := strings.ReplaceAll(texts.Get(lang, key), "{bot}", "Einsatz")
			return r == want || r == strings.ReplaceAll(texts.Get("en", key), "{bot}", "Einsatz")
		}
		switch {
		case is(config.TextDontKnow):
			return "dont_know"
		case is(config.TextWelcome):
			return "none_or_welcome"
		case is(config.TextGreeting):
			return "greeting"
		case is(config.TextHandoffAsked), is(config.TextHandoffAfterHours):
			return "handoff"
		case is(config.TextFrustration):
			return "acknowledge_escalate"
		case ack(lang, r) || ack("en", r):
			return "inbox_thanks"
		}
		return "answer"
	}
	sameKind := func(want, got string) bool {
		if want == "answer" || want == "dont_know" {
			return got == "answer" || got == "dont_know"
		}
		return want == got
	}
	right, exact, doubles := 0, 0, 0
	for i, m := range msgs {
		got := replies[fmt.Sprintf("m%d", i+1)]
		if len(got) > 1 {
			doubles++
			t.Errorf("%q got %d replies: %q", m.Text, len(got), got)
		}
		k := kind(m.Lang, got)
		if k == m.Response {
			exact++
		}
		mark := ""
		if sameKind(m.Response, k) {
			right++
		} else {
			mark = "  <- wrong kind"
		}
		// The table of the closing note: go test -run Realistic -v .
		t.Logf("%-16s %-20s %-20s %q%s", m.Reading, m.Response, k, m.Text, mark)
	}
	t.Logf("%d messages: %d (%.1f%%) the right kind of response, %d (%.1f%%) exactly (answer vs \"I don't know\" too), %d double replies",
		len(msgs), right, 100*float64(right)/float64(len(msgs)), exact, 100*float64(exact)/float64(len(msgs)), doubles)
	if float64(right) < 0.95*float64(len(msgs)) {
		t.Errorf("%d of %d messages got the right kind of response, want at least 95%%", right, len(msgs))
	}
}

// TestChatAnswersWhetherAnLLMIsNeeded: questions about running without an
// LLM, asked as people ask them (a provider's name, a reason after the
// question, German, two questions at once), are answered through `einsatz
// chat` with the example knowledge base and no LLM, from the LLM page (or
// the overview page for "what is it"), never with "I don't know" (issue 15).
func TestChatAnswersWhetherAnLLMIsNeeded(t *testing.T) {
	cases := []struct{ text, lang, page string }{
		{"can einsatz run without openai? we dont want to send data out", "en", "knowledge/en/llm-setup.md"},
		{"Brauche ich dafür OpenAI?", "de", "knowledge/de/sprachmodell-einrichten.md"},
		{"Hi! Was ist Einsatz eigentlich? Und brauche ich dafür OpenAI?", "de", "knowledge/de/sprachmodell-einrichten.md"},
		{"hey, does it work offline without chatgpt?", "en", "knowledge/en/llm-setup.md"}, // "offline" meets "without"
	}
	var in strings.Builder
	for i, c := range cases {
		fmt.Fprintf(&in, ":thread q%d\n%s\n", i, c.text)
	}
	t.Setenv("EINSATZ_DATA", filepath.Join(t.TempDir(), "data"))
	out, _, err := einsatz(t, in.String(), "chat", "--config", writeConfig(t, ""))
	if err != nil {
		t.Fatal(err)
	}
	texts := config.Default().Texts
	for i, c := range cases {
		// A reply runs from its "[qN] Einsatz:" line to the next message's.
		tag := fmt.Sprintf("[q%d] Einsatz: ", i)
		_, reply, ok := strings.Cut(out, tag)
		if !ok {
			t.Errorf("%q: no reply in\n%s", c.text, out)
			continue
		}
		if j := strings.Index(reply, "\n["); j >= 0 {
			reply = reply[:j]
		}
		if strings.Contains(reply, texts.Get(c.lang, config.TextDontKnow)) || !strings.Contains(reply, c.page) {
			t.Errorf("%q: want an answer citing %s, got\n%s", c.text, c.page, reply)
		}
	}
}
