package main

import (
	"fmt"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/einsatz/einsatz/adapters/discord/discordtest"
	"github.com/einsatz/einsatz/adapters/openai/openaitest"
	"github.com/einsatz/einsatz/adapters/slack/slacktest"
)

// einsatz run, as shipped, against the fake Discord and the fake Slack:
// a mention on each platform is answered in its thread from the example
// knowledge base.
func TestRunAnswersOnDiscordAndSlack(t *testing.T) {
	fd := discordtest.New(t, discordtest.Options{})
	general := fd.TextChannel(fd.Guild, "general")
	alice := fd.NewUser("alice")
	fs := slacktest.New(slacktest.Options{})
	t.Cleanup(fs.Close)
	fs.AddUser("U123", "bob")
	fs.AddChannel("C123", "general", slacktest.Public)

	dataDir := filepath.Join(t.TempDir(), "data")
	cfg := platformsConfig(t, dataDir, fd, fs, "")
	srv := startServer(t, cfg, dataDir)
	if !srv.printed("adapters enabled: web, discord, slack") {
		t.Fatalf("einsatz run output:\n%s", srv.out.String())
	}
	if !fs.WaitConnected(1, 10*time.Second) || !fd.WaitConnected(10*time.Second) {
		t.Fatalf("the adapters did not connect:\n%s", srv.out.String())
	}

	q := fd.Post(general, alice, "What is Einsatz?", true)
	deadline := time.Now().Add(15 * time.Second)
	for {
		// The answer goes into a thread started from the question: it has the question's id.
		if msgs := fd.BotMessages(q.ID); len(msgs) > 0 {
			if !strings.Contains(msgs[0].Content, "community engagement bot") {
				t.Fatalf("Discord answer = %q", msgs[0].Content)
			}
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("no answer on Discord:\n%s", srv.out.String())
		}
		time.Sleep(20 * time.Millisecond)
	}

	ts := fs.Post("C123", "U123", "@"+slacktest.DefaultBotName+" Was ist Einsatz?", "")
	posted := fs.WaitPosted(1, 15*time.Second)
	if len(posted) != 1 || posted[0].ThreadTS != ts || !strings.Contains(posted[0].Text, "selbst gehosteter Bot") {
		t.Fatalf("Slack answers = %+v, want one German answer in the thread of %s\n%s", posted, ts, srv.out.String())
	}
	srv.stop(t)
	if _, err := os.Stat(filepath.Join(dataDir, "admin.json")); !os.IsNotExist(err) {
		t.Fatalf("the local admin credential is left behind after a clean stop: %v", err)
	}
}

// With llm.base_url pointing at the fake OpenAI server, a web chat question
// is answered with the model's text and a sources list; with no LLM the
// same question gets the extractive answer.
func TestRunAnswersWithTheLLMAndWithout(t *testing.T) {
	fo := openaitest.Start(t, openaitest.Options{APIKey: "sk-test", Reply: func(req openaitest.Request) openaitest.Reply {
		return openaitest.Reply{Content: "Einsatz is a community bot you run yourself [1]."}
	}})
	for _, tt := range []struct {
		name, llm string
		want      string
		calls     int
	}{
		{"llm", fmt.Sprintf("llm:\n  base_url: %s\n  api_key: ${OPENAI_API_KEY}\n", fo.URL), "Einsatz is a community bot you run yourself [1].", 1},
		{"no llm", "", "Einsatz is a self-hosted community engagement bot", 0},
		// With an embedding model the knowledge base is embedded at start and
		// each question once (the chat call comes on top).
		{"llm with embeddings", fmt.Sprintf("llm:\n  base_url: %s\n  api_key: ${OPENAI_API_KEY}\n  embedding_model: text-embedding-3-small\n", fo.URL),
			"Einsatz is a community bot you run yourself [1].", -1},
	} {
		t.Run(tt.name, func(t *testing.T) {
			before := len(fo.Requests())
			t.Setenv("OPENAI_API_KEY", "sk-test")
			dataDir := filepath.Join(t.TempDir(), "data")
			cfg := writeConfig(t, fmt.Sprintf("storage:\n  path: %s\nweb:\n  addr: 127.0.0.1:0\n%s", dataDir, tt.llm))
			srv := startServer(t, cfg, dataDir)
			out, err := send(&http.Client{Timeout: 20 * time.Second}, srv.client.URL, "c1", "m1")
			if err != nil {
				t.Fatal(err)
			}
			if len(out.Replies) != 1 || !strings.HasPrefix(out.Replies[0].Text, tt.want) {
				t.Fatalf("replies = %+v, want %q", out.Replies, tt.want)
			}
			if src := out.Replies[0].Sources; len(src) == 0 || src[0].Path != "en/what-is-einsatz.md" || src[0].URL == "" {
				t.Fatalf("sources = %+v", src)
			}
			reqs := fo.Requests()[before:]
			embeds := 0
			for _, r := range reqs {
				if r.Path == openaitest.PathEmbeddings {
					embeds++
				}
			}
			switch {
			case tt.calls >= 0 && len(reqs) != tt.calls:
				t.Fatalf("%d LLM calls, want %d", len(reqs), tt.calls)
			case tt.calls < 0 && (embeds < 2 || len(reqs)-embeds != 1):
				t.Fatalf("%d embedding calls and %d chat calls, want the knowledge base and the question embedded and one chat call", embeds, len(reqs)-embeds)
			}
			srv.stop(t)
		})
	}
}

// einsatz run with Slack in HTTP mode (the Events API on the web server's
// /slack/events): a signed mention is answered in its thread.
func TestRunAnswersSlackInHTTPMode(t *testing.T) {
	fs := slacktest.New(slacktest.Options{Mode: slacktest.ModeHTTP})
	t.Cleanup(fs.Close)
	fs.AddUser("U123", "bob")
	fs.AddChannel("C123", "general", slacktest.Public)

	dataDir := filepath.Join(t.TempDir(), "data")
	cfg := writeConfig(t, fmt.Sprintf(`storage:
  path: %s
web:
  addr: 127.0.0.1:0
slack:
  mode: http
  bot_token: ${SLACK_BOT_TOKEN}
  signing_secret: ${SLACK_SIGNING_SECRET}
  api_url: %s
`, dataDir, fs.APIURL()))
	t.Setenv("SLACK_BOT_TOKEN", fs.BotToken())
	t.Setenv("SLACK_SIGNING_SECRET", fs.SigningSecret())
	srv := startServer(t, cfg, dataDir)
	if !srv.printed("adapters enabled: web, slack") {
		t.Fatalf("einsatz run output:\n%s", srv.out.String())
	}
	fs.SetEventsURL(srv.client.URL + "/slack/events")

	ts := fs.Post("C123", "U123", "@"+slacktest.DefaultBotName+" What is Einsatz?", "")
	posted := fs.WaitPosted(1, 15*time.Second)
	if len(posted) != 1 || posted[0].ThreadTS != ts || !strings.Contains(posted[0].Text, "community engagement bot") {
		t.Fatalf("Slack answers = %+v, want one answer in the thread of %s\n%s", posted, ts, srv.out.String())
	}
	for _, a := range fs.Acks() {
		if a.Status != http.StatusOK {
			t.Errorf("delivery answered %d, want 200: %+v", a.Status, a)
		}
	}
	srv.stop(t)
}

// A wrong Discord token: einsatz run says so at start, naming the setting,
// and the web chat keeps answering.
func TestRunWithWrongDiscordTokenKeepsWebChat(t *testing.T) {
	fd := discordtest.New(t, discordtest.Options{})
	dataDir := filepath.Join(t.TempDir(), "data")
	cfg := writeConfig(t, fmt.Sprintf("storage:\n  path: %s\nweb:\n  addr: 127.0.0.1:0\ndiscord:\n  token: ${DISCORD_TOKEN}\n  api_url: %s\n", dataDir, fd.URL))
	t.Setenv("DISCORD_TOKEN", "not-the-right-token")
	srv := startServer(t, cfg, dataDir)
	deadline := time.Now().Add(10 * time.Second)
	for !strings.Contains(srv.out.String(), "DISCORD_TOKEN") {
		if time.Now().After(deadline) {
			t.Fatalf("no error naming the token:\n%s", srv.out.String())
		}
		time.Sleep(20 * time.Millisecond)
	}
	if !strings.Contains(srv.out.String(), "discord.token") {
		t.Errorf("the error does not name discord.token:\n%s", srv.out.String())
	}
	out, err := send(&http.Client{Timeout: 20 * time.Second}, srv.client.URL, "c1", "m1")
	if err != nil {
		t.Fatal(err)
	}
	if len(out.Replies) != 1 || !strings.Contains(out.Replies[0].Text, "community engagement bot") {
		t.Fatalf("web chat replies = %+v", out.Replies)
	}
	// Stopped, it reports the adapter's failure once more in its exit status.
	srv.cmd.Process.Signal(syscall.SIGTERM)
	if err := srv.cmd.Wait(); err == nil || !strings.Contains(srv.out.String(), "einsatz: discord adapter:") {
		t.Fatalf("exit %v, want a failure naming the Discord adapter:\n%s", err, srv.out.String())
	}
}

// platformsConfig writes a config for einsatz run against the fake Discord
// fd and the fake Slack fs (Socket Mode), storing in dataDir, with extra
// YAML appended, and puts both fakes' tokens in the environment.
func platformsConfig(t *testing.T, dataDir string, fd *discordtest.Server, fs *slacktest.Server, extra string) string {
	t.Helper()
	t.Setenv("DISCORD_TOKEN", fd.Token)
	t.Setenv("SLACK_BOT_TOKEN", fs.BotToken())
	t.Setenv("SLACK_APP_TOKEN", fs.AppToken())
	return writeConfig(t, fmt.Sprintf(`storage:
  path: %s
web:
  addr: 127.0.0.1:0
discord:
  token: ${DISCORD_TOKEN}
  api_url: %s
slack:
  mode: socket
  bot_token: ${SLACK_BOT_TOKEN}
  app_token: ${SLACK_APP_TOKEN}
  api_url: %s
`, dataDir, fd.URL, fs.APIURL())+extra)
}
