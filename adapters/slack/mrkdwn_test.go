package slack

import (
	"encoding/json"
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/einsatz/einsatz/bot"
)

func TestMrkdwn(t *testing.T) {
	tests := []struct{ name, in, want string }{
		{"plain", "Hello there", "Hello there"},
		{"link", "See [the docs](https://example.com/a?b=1&c=2).", "See <https://example.com/a?b=1&amp;c=2|the docs>."},
		{"link with parens", "[wiki](https://en.wikipedia.org/wiki/Go_(language))", "<https://en.wikipedia.org/wiki/Go_(language)|wiki>"},
		{"link text formatting dropped", "[**bold** link](https://x.io)", "<https://x.io|bold link>"},
		{"link pipe in url", "[a](https://x.io/a|b)", "[a](https://x.io/a|b)"},
		{"image", "![logo](https://x.io/l.png)", "<https://x.io/l.png|logo>"},
		{"autolink", "<https://x.io/path>", "<https://x.io/path>"},
		{"bold", "**bold** and __also__", "*bold* and *also*"},
		{"italic", "*it* and _it_", "_it_ and _it_"},
		{"bold italic", "***both***", "*_both_*"},
		{"strike", "~~gone~~", "~gone~"},
		{"snake_case stays", "use snake_case_names and a_b", "use snake_case_names and a_b"},
		{"lone star", "2 * 3 = 6", "2 * 3 = 6"},
		{"escape", "a < b && c > d", "a &lt; b &amp;&amp; c &gt; d"},
		{"inline code untouched", "run `go test **./...** <x>` now", "run `go test **./...** &lt;x&gt;` now"},
		{"emphasis around code", "**use `a*b`**", "*use `a*b`*"},
		{"fenced code", "```go\nfunc a() { return **x** }\nif a < b {}\n```", "```\nfunc a() { return **x** }\nif a &lt; b {}\n```"},
		{"unclosed fence closed", "```\ncode", "```\ncode\n```"},
		{"heading", "## Setup steps", "*Setup steps*"},
		{"heading with bold", "# **Title**", "*Title*"},
		{"bullets", "- one\n* two\n+ three\n  - nested", "• one\n• two\n• three\n  ◦ nested"},
		{"numbered", "1. first\n2. **second**", "1. first\n2. *second*"},
		{"quote", "> quoted *text*", "> quoted _text_"},
		{"rule", "---", "───"},
		{"escaped markdown", `\*not italic\*`, "*not italic*"},
		{"html-ish", "<div>&nbsp;</div>", "&lt;div&gt;&amp;nbsp;&lt;/div&gt;"},
		{"mailto", "[mail us](mailto:team@example.com)", "<mailto:team@example.com|mail us>"},
		{"url bare", "https://example.com/a_b_c", "https://example.com/a_b_c"},
		{"crlf", "a\r\nb", "a\nb"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := Mrkdwn(tt.in); got != tt.want {
				t.Errorf("Mrkdwn(%q)\n got %q\nwant %q", tt.in, got, tt.want)
			}
		})
	}
}

func TestSplit(t *testing.T) {
	t.Run("short stays whole", func(t *testing.T) {
		if got := Split("hello", 100); len(got) != 1 || got[0] != "hello" {
			t.Errorf("got %q", got)
		}
	})
	t.Run("paragraphs", func(t *testing.T) {
		para := strings.Repeat("word ", 50) // 250 bytes
		text := strings.TrimSpace(strings.Repeat(para+"\n\n", 10))
		parts := Split(text, 600)
		if len(parts) < 5 {
			t.Fatalf("got %d parts", len(parts))
		}
		for _, p := range parts {
			if len(p) > 600 {
				t.Errorf("part of %d bytes", len(p))
			}
			if strings.HasPrefix(p, "\n") || strings.HasSuffix(p, " ") {
				t.Errorf("untrimmed part %q", p[:10])
			}
		}
		if got := strings.Join(parts, "\n\n"); strings.Join(strings.Fields(got), " ") != strings.Join(strings.Fields(text), " ") {
			t.Error("words lost or changed")
		}
	})
	t.Run("code fence reopened", func(t *testing.T) {
		code := "```\n" + strings.Repeat("line of code\n", 100) + "```"
		parts := Split(code, 300)
		for i, p := range parts {
			if strings.Count(p, "```")%2 != 0 {
				t.Errorf("part %d has an unbalanced fence: %q", i, p)
			}
			if len(p) > 300 {
				t.Errorf("part %d has %d bytes", i, len(p))
			}
		}
	})
	t.Run("no spaces, multibyte", func(t *testing.T) {
		text := strings.Repeat("ü", 1000) // 2000 bytes
		parts := Split(text, 301)
		for _, p := range parts {
			if !utf8.ValidString(p) || len(p) > 301 {
				t.Errorf("bad part: valid=%v len=%d", utf8.ValidString(p), len(p))
			}
		}
		if strings.Join(parts, "") != text {
			t.Error("text changed")
		}
	})
	t.Run("escape not cut", func(t *testing.T) {
		text := strings.Repeat("&amp;", 100)
		for _, p := range Split(text, 52) {
			if strings.Count(p, "&") != strings.Count(p, "&amp;") {
				t.Errorf("escape cut: %q", p)
			}
		}
	})
}

func TestRender(t *testing.T) {
	long := strings.TrimSpace(strings.Repeat(strings.Repeat("lorem ipsum ", 40)+"\n\n", 120)) // ~58k chars
	msgs := render(bot.Reply{
		Text:    long,
		Sources: []bot.Source{{Title: "Setup <guide>", URL: "https://docs.example.com/setup"}, {Title: "FAQ", Path: "kb/faq.md"}},
		Buttons: []bot.Button{{Label: "Helpful", Action: "feedback", Value: "up"}, {Label: "Not helpful", Action: "feedback", Value: "down"}, {Label: "Talk to a human", Action: "handoff"}},
	})
	if len(msgs) < 2 {
		t.Fatalf("a ~58k reply should take several messages, got %d", len(msgs))
	}
	for i, m := range msgs {
		if n := utf8.RuneCountInString(m.text); n > 40000 {
			t.Errorf("message %d text has %d chars", i, n)
		}
		if len(m.blocks) > 50 {
			t.Errorf("message %d has %d blocks", i, len(m.blocks))
		}
		raw, _ := json.Marshal(m.blocks)
		var blocks []struct {
			Type string `json:"type"`
			Text struct {
				Text string `json:"text"`
			} `json:"text"`
		}
		_ = json.Unmarshal(raw, &blocks)
		for _, b := range blocks {
			if b.Type == "section" && utf8.RuneCountInString(b.Text.Text) > 3000 {
				t.Errorf("section of %d chars", utf8.RuneCountInString(b.Text.Text))
			}
		}
	}
	var buf strings.Builder
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false)
	_ = enc.Encode(msgs[len(msgs)-1].blocks[len(msgs[len(msgs)-1].blocks)-2:])
	last := strings.NewReplacer(`\u003c`, "<", `\u003e`, ">", `\u0026`, "&").Replace(buf.String())
	for _, want := range []string{`"context"`, `<https://docs.example.com/setup|Setup &lt;guide&gt;>`, "kb/faq.md",
		`"actions"`, `"feedback#0"`, `"feedback#1"`, `"handoff"`} {
		if !strings.Contains(last, want) {
			t.Errorf("last message lacks %s: %s", want, last)
		}
	}
	first, _ := json.Marshal(msgs[0].blocks)
	if strings.Contains(string(first), `"actions"`) {
		t.Error("buttons belong on the last message only")
	}
	if got := actionName("feedback#1"); got != "feedback" {
		t.Errorf("actionName = %q", got)
	}
}

// A reply's Ping (handoff.mention, e.g. <!subteam^S123>) goes first and
// unescaped, so Slack notifies the group; the same syntax inside the text
// is escaped and notifies nobody.
func TestRenderPing(t *testing.T) {
	msgs := render(bot.Reply{Ping: "<!subteam^S0ONCALL>", Text: "Escalation: mia quoted <!channel> & <@U1>"})
	if len(msgs) != 1 {
		t.Fatalf("%d messages", len(msgs))
	}
	want := "<!subteam^S0ONCALL> Escalation: mia quoted &lt;!channel&gt; &amp; &lt;@U1&gt;"
	if msgs[0].text != want {
		t.Errorf("text %q, want %q", msgs[0].text, want)
	}
	if only := render(bot.Reply{Ping: "<@U2>"}); len(only) != 1 || only[0].text != "<@U2>" {
		t.Errorf("a ping alone: %+v", only)
	}
}

// A staff reply from the desk names its author, marked as staff in the
// member's language.
func TestRenderAuthorName(t *testing.T) {
	for _, tc := range []struct{ mark, want string }{
		{"", "*Anna* (staff): Which version?"},
		{"staff", "*Anna* (staff): Which version?"},
		{"Team", "*Anna* (Team): Which version?"},
	} {
		msgs := render(bot.Reply{Text: "Which version?", AuthorName: "Anna", AuthorMark: tc.mark})
		if len(msgs) != 1 || msgs[0].text != tc.want {
			t.Errorf("mark %q: render = %+v, want %q", tc.mark, msgs, tc.want)
		}
	}
}
