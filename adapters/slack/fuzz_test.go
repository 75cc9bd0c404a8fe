package slack

import (
	"errors"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/einsatz/einsatz/bot"
)

// addJSONSeeds seeds a fuzz target with the recorded payloads in testdata/.
func addJSONSeeds(f *testing.F) {
	f.Helper()
	files, err := filepath.Glob(filepath.Join("testdata", "*.json"))
	if err != nil || len(files) == 0 {
		f.Fatalf("no recorded payloads: %v", err)
	}
	for _, name := range files {
		data, err := os.ReadFile(name)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(data)
	}
	f.Add([]byte(`{}`))
	f.Add([]byte(`null`))
	f.Add([]byte(`{"type":"event_callback","event":{"type":"message","channel":"D1","ts":"1.2","text":"<@U0LAN0Z89|bot> hi &amp; bye \xff"}}`))
}

// checkEvent asserts what every translated event must satisfy: keyed and
// placed on Slack, and every text in it valid UTF-8 (it goes to the store,
// the LLM and JSON APIs).
func checkEvent(t *testing.T, ev bot.Event, err error) {
	t.Helper()
	if err != nil {
		if ev.Key != "" {
			t.Errorf("error %v with a non-empty event %+v", err, ev)
		}
		if !strings.HasPrefix(err.Error(), "slack: ") {
			t.Errorf("error %q does not say it is Slack's", err)
		}
		return
	}
	if !strings.HasPrefix(ev.Key, "slack:") || ev.Platform != bot.PlatformSlack || ev.ChannelID == "" {
		t.Errorf("event not keyed or placed: %+v", ev)
	}
	if ev.User.Platform != bot.PlatformSlack || ev.User.ID == "" && ev.Kind != bot.KindMessage {
		t.Errorf("event without its user: %+v", ev)
	}
	if ev.Kind == bot.KindMessage && ev.Text != strings.TrimSpace(ev.Text) {
		t.Errorf("message text not trimmed: %q", ev.Text)
	}
	checkUTF8(t, reflect.ValueOf(ev), "Event")
}

// checkUTF8 walks a value and reports every string that is not valid UTF-8.
func checkUTF8(t *testing.T, v reflect.Value, path string) {
	t.Helper()
	switch v.Kind() {
	case reflect.String:
		if !utf8.ValidString(v.String()) {
			t.Errorf("%s is not valid UTF-8: %q", path, v.String())
		}
	case reflect.Pointer, reflect.Interface:
		if !v.IsNil() {
			checkUTF8(t, v.Elem(), path)
		}
	case reflect.Struct:
		for i := range v.NumField() {
			if v.Type().Field(i).IsExported() {
				checkUTF8(t, v.Field(i), path+"."+v.Type().Field(i).Name)
			}
		}
	case reflect.Slice, reflect.Array:
		for i := range v.Len() {
			checkUTF8(t, v.Index(i), path)
		}
	case reflect.Map:
		for it := v.MapRange(); it.Next(); {
			checkUTF8(t, it.Key(), path)
			checkUTF8(t, it.Value(), path)
		}
	}
}

func FuzzTranslateEvent(f *testing.F) {
	addJSONSeeds(f)
	env := testEnv()
	env.TeamURL = "https://acme.slack.com/"
	f.Fuzz(func(t *testing.T, payload []byte) {
		ev, err := TranslateEvent(payload, env)
		checkEvent(t, ev, err)
		if err != nil {
			return
		}
		switch ev.Kind {
		case bot.KindMessage, bot.KindReaction, bot.KindEdit, bot.KindDelete:
		default:
			t.Errorf("kind %q from the Events API", ev.Kind)
		}
		if ev.Kind == bot.KindMessage && strings.Contains(ev.Text, "<@"+env.BotUserID+">") {
			// The bot's own mention is removed before handlers see the text
			// (only when it is one, not when the removal glues one together).
			if strings.Count(string(payload), env.BotUserID) == 1 {
				t.Errorf("bot mention left in %q", ev.Text)
			}
		}
		// The same payload gives the same event (redeliveries are deduplicated by key).
		again, err := TranslateEvent(payload, env)
		if err != nil || !reflect.DeepEqual(again, ev) {
			t.Errorf("translating twice differs: %+v / %+v (%v)", ev, again, err)
		}
	})
}

func FuzzTranslateInteraction(f *testing.F) {
	addJSONSeeds(f)
	f.Fuzz(func(t *testing.T, payload []byte) {
		ev, err := TranslateInteraction(payload, testEnv())
		checkEvent(t, ev, err)
		if err != nil {
			return
		}
		switch ev.Kind {
		case bot.KindCommand:
			// Go's JSON decoder matches keys case-insensitively, so the payload
			// text cannot tell whether a callback id was given: a shortcut
			// without one is skipped, never a command named "".
			if ev.Target == nil || ev.Command == "" {
				t.Errorf("shortcut without target or command: %+v", ev)
			}
		case bot.KindInteraction:
			if strings.Contains(ev.Action, "#") && ev.Action != actionName(ev.Action) {
				t.Errorf("action %q keeps Send's #n suffix", ev.Action)
			}
		default:
			t.Errorf("kind %q from an interaction", ev.Kind)
		}
	})
}

func FuzzTranslateCommand(f *testing.F) {
	addJSONSeeds(f)
	f.Add([]byte(`{"command":"/einsatz","text":"  FEEDBACK  the &lt;search&gt; is slow ","channel_id":"C1","user_id":"U1","trigger_id":"1.2.3"}`))
	f.Add([]byte(`{"command":"/custom","text":"x","channel_id":"D1","user_id":"U1","trigger_id":"t"}`))
	env := testEnv()
	f.Fuzz(func(t *testing.T, payload []byte) {
		c, err := SlashCommandFromJSON(payload)
		if err != nil {
			return
		}
		ev, err := TranslateCommand(c, env)
		if err != nil {
			if !errors.Is(err, ErrSkip) {
				t.Errorf("error %v is not a skip", err)
			}
			return
		}
		checkEvent(t, ev, nil)
		if ev.Kind != bot.KindCommand || ev.Command == "" && c.Command == "/einsatz" {
			t.Errorf("not a command: %+v", ev)
		}
		if (c.Command == "" || c.Command == "/einsatz") && !contains(env.Commands, ev.Command) && ev.Command != "help" {
			t.Errorf("/einsatz %q became the unknown command %q", c.Text, ev.Command)
		}
		if ev.Args != strings.TrimSpace(ev.Args) && !strings.Contains(c.Text, "&") {
			t.Errorf("args not trimmed: %q", ev.Args)
		}
	})
}

func FuzzMrkdwn(f *testing.F) {
	for _, s := range []string{
		"# Install\n\nRun **`einsatz run`** and see [the guide](https://example.org/a?b=1&c=2).",
		"- one\n  - two\n* three\n1. four\n> quote & <tag>",
		"```go\nif a < b && c > d {}\n```\nafter ~~old~~ _new_ __bold__ ***both***",
		"<https://example.org/x|y> <!channel> <@U123> <mailto:a@b.c>",
		"[everyone](!channel) [me](@U0LAN0Z89) [rel](/docs/install.md)",
		"![logo](https://example.org/l.png \"Logo\") [a [nested] link](https://x.y/(z))",
		"\\*not italic\\* snake_case_word 2*3*4 ~~~\ncode\n~~~",
		"---\n***\n### Heading ###\n####### no",
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, md string) {
		out := Mrkdwn(md)
		if utf8.ValidString(md) && !utf8.ValidString(out) {
			t.Errorf("Mrkdwn(%q) = %q: not valid UTF-8", md, out)
		}
		checkMrkdwnSyntax(t, md, out)
	})
}

// checkMrkdwnSyntax asserts that text converted to mrkdwn has no Slack
// control sequence but the links Mrkdwn writes itself: every "<" opens
// <http…>, <https…> or <mailto:…> closed by ">" (so no <!channel>, no
// <@U…> mention from a member's text), and every "&" is one of the three
// escapes.
func checkMrkdwnSyntax(t *testing.T, md, out string) {
	t.Helper()
	for i := 0; i < len(out); i++ {
		switch out[i] {
		case '<':
			end := strings.IndexByte(out[i:], '>')
			if end < 0 {
				t.Fatalf("Mrkdwn(%q) = %q: unclosed < at %d", md, out, i)
			}
			inner := out[i+1 : i+end]
			if !isURL(inner) || strings.Contains(inner, "<") {
				t.Fatalf("Mrkdwn(%q) = %q: control sequence <%s>", md, out, inner)
			}
			i += end
		case '>':
			// Only a quote marker at the start of a line may be a raw ">".
			lineStart := strings.LastIndexByte(out[:i], '\n') + 1
			if strings.TrimLeft(out[lineStart:i], " \t") != "" {
				t.Fatalf("Mrkdwn(%q) = %q: raw > at %d", md, out, i)
			}
		case '&':
			if !strings.HasPrefix(out[i:], "&amp;") && !strings.HasPrefix(out[i:], "&lt;") && !strings.HasPrefix(out[i:], "&gt;") {
				t.Fatalf("Mrkdwn(%q) = %q: raw & at %d", md, out, i)
			}
		}
	}
}

func FuzzSplit(f *testing.F) {
	long := strings.Repeat("A sentence that goes on. ", 200)
	f.Add(long, 3000)
	f.Add("```\n"+strings.Repeat("code line &amp; more\n", 300)+"```\nafter", 3000)
	f.Add(strings.Repeat("x", 7000), 3000)
	f.Add(strings.Repeat("ä€😀", 900), 100)
	f.Add("para one\n\npara two\n\n"+strings.Repeat("&lt;", 50), 40)
	f.Fuzz(func(t *testing.T, s string, limit int) {
		// Slack's section limit is 3000; smaller limits exercise the same
		// code on short inputs. Below ~16 a closing fence does not fit.
		limit = 16 + abs(limit)%3000
		parts := Split(s, limit)
		for i, p := range parts {
			if len(p) > limit {
				t.Fatalf("part %d has %d bytes, limit %d: %q", i, len(p), limit, p)
			}
			if strings.TrimSpace(p) == "" {
				t.Errorf("part %d is blank", i)
			}
			if utf8.ValidString(s) && !utf8.ValidString(p) {
				t.Errorf("part %d cuts a character: %q", i, p)
			}
		}
		// Split only cuts at white space and closes and reopens fences: the
		// text without white space and backticks is unchanged.
		if got, want := squeeze(strings.Join(parts, "")), squeeze(s); got != want {
			t.Errorf("content changed:\n got %q\nwant %q", got, want)
		}
		// An escape Mrkdwn wrote is never cut in two: when every "&" of the
		// text starts an escape, every "&" of every part does.
		if allEscapes(s) {
			for i, p := range parts {
				if !allEscapes(p) {
					t.Errorf("part %d cuts an escape: %q", i, p)
				}
			}
		}
	})
}

// allEscapes reports whether every "&" in s starts &amp;, &lt; or &gt;.
func allEscapes(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] == '&' && !strings.HasPrefix(s[i:], "&amp;") && !strings.HasPrefix(s[i:], "&lt;") && !strings.HasPrefix(s[i:], "&gt;") {
			return false
		}
	}
	return true
}

// squeeze drops white space and backticks.
func squeeze(s string) string {
	return strings.Map(func(r rune) rune {
		if r == '`' || r == ' ' || r == '\n' || r == '\t' || r == '\r' || r == '\v' || r == '\f' {
			return -1
		}
		return r
	}, s)
}

func abs(n int) int {
	if n < 0 {
		if n == -n { // math.MinInt
			return 0
		}
		return -n
	}
	return n
}
