package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"github.com/einsatz/einsatz/adapters/discord/discordtest"
	"io"
	"log/slog"
	"net"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/einsatz/einsatz/bot/config"
)

// einsatz runs the CLI in-process and returns stdout, stderr and the error.
func einsatz(t *testing.T, stdin string, args ...string) (string, string, error) {
	t.Helper()
	var out, errOut bytes.Buffer
	cmd := newRootCmd(strings.NewReader(stdin), &out, &errOut)
	cmd.SetArgs(args)
	err := cmd.ExecuteContext(context.Background())
	return out.String(), errOut.String(), err
}

func writeConfig(t testing.TB, body string) string {
	t.Helper()
	path := filepath.Join(t.TempDir(), "config.yaml")
	if err := os.WriteFile(path, []byte(body), 0o600); err != nil {
		t.Fatal(err)
	}
	return path
}

func TestConfigCheckReportsEveryProblemWithLines(t *testing.T) {
	t.Setenv("SLACK_BOT_TOKEN", "xoxb-test")
	path := writeConfig(t, `bot:
  name: Einsatz
storage:
  pathh: ./data
slack:
  mode: socket
  bot_token: ${SLACK_BOT_TOKEN}
`)
	_, _, err := einsatz(t, "", "config", "check", "--config", path)
	if err == nil {
		t.Fatal("config check passed a broken file")
	}
	for _, want := range []string{
		path + ":4: storage.pathh: unknown key",
		path + ":5: slack.app_token: missing (set SLACK_APP_TOKEN)",
	} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("error lacks %q:\n%v", want, err)
		}
	}
}

func TestConfigCheckShippedFile(t *testing.T) {
	out, _, err := einsatz(t, "", "config", "check", "--config", "config.yaml")
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(out, "config.yaml: OK") || !strings.Contains(out, "slack: off") {
		t.Fatalf("output:\n%s", out)
	}
}

func TestChatAnswersFromExampleKnowledgeBase(t *testing.T) {
	t.Setenv("EINSATZ_DATA", t.TempDir())
	out, _, err := einsatz(t, "What is Einsatz?\nWas ist Einsatz?\n", "chat", "--config", "config.yaml")
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{
		"Einsatz: Einsatz is a self-hosted community engagement bot",
		"knowledge/en/what-is-einsatz.md",
		"Einsatz: Einsatz ist ein selbst gehosteter Bot",
		"knowledge/de/was-ist-einsatz.md",
	} {
		if !strings.Contains(out, want) {
			t.Errorf("chat output lacks %q:\n%s", want, out)
		}
	}
}

func TestBadInputNamesTheThingAndTheFix(t *testing.T) {
	kb := t.TempDir()
	if err := os.WriteFile(filepath.Join(kb, "latin1.md"), []byte("# Caf\xe9\n\nBad bytes.\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	locked := t.TempDir()
	a, err := newApp(context.Background(), mustLoad(t, writeConfig(t, "storage:\n  path: "+locked+"\n")), discard(), nil)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { a.close() })

	tests := []struct {
		name, config string
		want         []string
	}{
		{"knowledge file not UTF-8", "storage:\n  path: " + t.TempDir() + "\nknowledge:\n  paths: [" + kb + "]\n",
			[]string{"latin1.md", "not valid UTF-8", "save the file as UTF-8"}},
		{"database locked", "storage:\n  path: " + locked + "\n",
			[]string{locked, "already running"}},
		{"unknown key", "storag:\n  path: x\n", []string{":1: storag: unknown key", `did you mean "storage"`}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, _, err := einsatz(t, "", "chat", "--config", writeConfig(t, tt.config))
			if err == nil {
				t.Fatal("want an error")
			}
			for _, w := range tt.want {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("error %q lacks %q", err, w)
				}
			}
		})
	}
}

func TestVersion(t *testing.T) {
	out, _, err := einsatz(t, "", "version")
	if err != nil || !strings.HasPrefix(out, "einsatz ") {
		t.Fatalf("version = %q, %v", out, err)
	}
}

func mustLoad(t *testing.T, path string) *config.Config {
	t.Helper()
	cfg, err := config.Load(path)
	if err != nil {
		t.Fatal(err)
	}
	return cfg
}

func discard() *slog.Logger { return slog.New(slog.NewTextHandler(io.Discard, nil)) }

func TestRunStopsWhenThePortIsTaken(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	cfg := writeConfig(t, fmt.Sprintf("storage:\n  path: %s\nweb:\n  addr: %s\n", t.TempDir(), ln.Addr()))
	done := make(chan error, 1)
	go func() {
		_, _, err := einsatz(t, "", "run", "--config", cfg)
		done <- err
	}()
	select {
	case err := <-done:
		if err == nil || !strings.Contains(err.Error(), "web.addr") {
			t.Fatalf("run with a taken port: %v, want an error naming web.addr", err)
		}
	case <-time.After(20 * time.Second):
		t.Fatal("einsatz run hangs when its port is taken")
	}
}

// einsatz analyze scores each line with the live detectors, keeps a bad
// line's place with an error, and takes the feature-request threshold
// from the config's inbox.threshold.
func TestAnalyzeUsesLiveDetectorsAndConfigThreshold(t *testing.T) {
	in := `{"text": "Please add a dark mode to the dashboard, it would really help at night"}
{"text": "How do I connect Slack?"}

{"text": "Das Update ist super, danke!", "lang": "de"}
`
	type line struct {
		Error     string `json:"error"`
		Lang      string `json:"lang"`
		Sentiment struct {
			Label string `json:"label"`
		} `json:"sentiment"`
		Intent struct {
			FeatureRequest bool `json:"feature_request"`
			Question       bool `json:"question"`
		} `json:"intent"`
	}
	parse := func(out string) []line {
		t.Helper()
		var lines []line
		for _, l := range strings.Split(strings.TrimSuffix(out, "\n"), "\n") {
			var v line
			if err := json.Unmarshal([]byte(l), &v); err != nil {
				t.Fatalf("output line %q: %v", l, err)
			}
			lines = append(lines, v)
		}
		return lines
	}
	tests := []struct {
		name, threshold string
		wantRequest     bool
	}{
		{"default threshold", "", true},
		{"threshold above any score", "inbox:\n  threshold: 0.999999\n", false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			cfg := writeConfig(t, "log:\n  level: warn\n"+tt.threshold)
			out, _, err := einsatz(t, in, "analyze", "--config", cfg)
			if err != nil {
				t.Fatal(err)
			}
			got := parse(out)
			if len(got) != 4 {
				t.Fatalf("%d output lines for 4 input lines:\n%s", len(got), out)
			}
			if got[0].Intent.FeatureRequest != tt.wantRequest || got[0].Intent.Question {
				t.Errorf("dark mode request: %+v, want feature_request %v", got[0].Intent, tt.wantRequest)
			}
			if !got[1].Intent.Question || got[1].Intent.FeatureRequest {
				t.Errorf("question: %+v", got[1].Intent)
			}
			if got[2].Error == "" {
				t.Errorf("the blank line gave %+v, want an error in its place", got[2])
			}
			if got[3].Lang != "de" || got[3].Sentiment.Label != "positive" {
				t.Errorf("German praise: %+v", got[3])
			}
		})
	}
}

// The setup commands: `einsatz slack manifest` prints the manifest for the
// configured mode, and `einsatz discord invite-url` asks the (fake) Discord
// for the application id and prints the invite URL with the permissions.
func TestSetupCommands(t *testing.T) {
	cfg := writeConfig(t, "web:\n  public_url: https://bot.example.org\nslack:\n  mode: http\n")
	out, _, err := einsatz(t, "", "slack", "manifest", "--config", cfg)
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"chat:write", "https://bot.example.org/slack/events", "/einsatz", "callback_id: mark_solution"} {
		if !strings.Contains(out, want) {
			t.Errorf("manifest lacks %q:\n%s", want, out)
		}
	}

	fd := discordtest.New(t, discordtest.Options{})
	t.Setenv("DISCORD_TOKEN", fd.Token)
	cfg = writeConfig(t, fmt.Sprintf("discord:\n  token: ${DISCORD_TOKEN}\n  api_url: %s\n", fd.URL))
	out, _, err = einsatz(t, "", "discord", "invite-url", "--config", cfg)
	if err != nil {
		t.Fatal(err)
	}
	u, err := url.Parse(strings.TrimSpace(out))
	if err != nil || u.Host != "discord.com" || u.Query().Get("client_id") == "" ||
		u.Query().Get("scope") != "bot applications.commands" || u.Query().Get("permissions") != "326954470464" {
		t.Fatalf("invite URL %q (%v)", out, err)
	}

	t.Setenv("DISCORD_TOKEN", "wrong")
	if _, _, err := einsatz(t, "", "discord", "invite-url", "--config", cfg); err == nil || !strings.Contains(err.Error(), "discord.token") {
		t.Fatalf("a wrong token: %v, want an error naming discord.token", err)
	}
}
