package config

import (
	"errors"
	"os"
	"strings"
	"testing"
)

// FuzzParse checks Parse on any file: it returns a configuration or an
// *Error, never both; every problem names a line of the file or a key;
// and a secret given in the environment is never echoed in a message.
func FuzzParse(f *testing.F) {
	for _, name := range []string{"testdata/full.yaml", "../../config.yaml"} {
		data, err := os.ReadFile(name)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(data)
	}
	for _, s := range []string{
		"",
		"bot:\n  name: Einsatz\n  langauge: en\n",
		"slack:\n  bot_token: xoxb-literal-in-file\n",
		"web:\n  addr: ${WEB_ADDR:-:8080}\n  port: ${PORT}\n",
		"staff:\n  web:\n    - name: a\n      role: boss\n",
		"a: &x {b: 1}\nbot: *x\n<<: *x\n",
		"bot: [1, 2\n",
		"bot:\n  name: x\n---\nbot: {}\n",
		"\tbot: tab\n",
		"bot:\n  name: \"${UNCLOSED\"\n",
		"bot:\n  name: *nope\n",
		"bot:\n  name: \xff\n",
		"bot:\n  name: x\n  x: \x01\n",
	} {
		f.Add([]byte(s))
	}
	const secret = "xoxb-0000-environment-secret"
	lookup := func(name string) (string, bool) {
		if strings.HasSuffix(name, "TOKEN") || strings.HasSuffix(name, "KEY") || strings.HasSuffix(name, "SECRET") {
			return secret, true
		}
		return "", false
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		cfg, err := Parse(data, "config.yaml", lookup)
		if err == nil {
			if cfg == nil {
				t.Fatal("no configuration and no error")
			}
			return
		}
		if cfg != nil {
			t.Fatalf("configuration and error %v", err)
		}
		var e *Error
		if !errors.As(err, &e) || len(e.Problems) == 0 {
			t.Fatalf("error %v is not an *Error with problems", err)
		}
		// Lines as YAML counts them: a lone CR breaks a line too ("\r0"
		// is two lines, the value on the second).
		lines := strings.Count(strings.ReplaceAll(strings.ReplaceAll(string(data), "\r\n", "\n"), "\r", "\n"), "\n") + 1
		for _, p := range e.Problems {
			if p.Line == 0 && p.Path == "" {
				t.Errorf("problem %q names no line and no key", p.Msg)
			}
			if p.Line < 0 || p.Line > lines {
				t.Errorf("problem %q on line %d of %d", p.Msg, p.Line, lines)
			}
		}
		if strings.Contains(err.Error(), secret) && !strings.Contains(string(data), secret) {
			t.Errorf("a secret from the environment is in the message: %v", err)
		}
		if !strings.HasPrefix(err.Error(), "config.yaml") {
			t.Errorf("error %q does not start with the file name", err)
		}
	})
}

// A value read from the environment is never quoted in a problem: it may
// be a token put in the wrong key (found by FuzzParse).
func TestProblemsQuoteTheFileNotTheEnvironment(t *testing.T) {
	const secret = "xoxb-0000-environment-secret"
	lookup := func(string) (string, bool) { return secret, true }
	for _, data := range []string{
		"slack: ${SLACK_TOKEN}\n",
		"slack:\n  !0000 ${TOKEY}",
		"core:\n  concurrency: ${SLACK_TOKEN}\n",
	} {
		_, err := Parse([]byte(data), "config.yaml", lookup)
		if err == nil {
			t.Fatalf("%q: no error", data)
		}
		if strings.Contains(err.Error(), secret) {
			t.Errorf("%q: the environment's value is in the message: %v", data, err)
		}
		if !strings.Contains(err.Error(), "${") {
			t.Errorf("%q: the message does not quote the file's text: %v", data, err)
		}
	}
}
