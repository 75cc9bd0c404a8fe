package main

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/einsatz/einsatz/adapters/discord/discordtest"
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
	cfg := writeConfig(t, fmt.Sprintf(`storage:
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
`, dataDir, fd.URL, fs.APIURL()))
	t.Setenv("DISCORD_TOKEN", fd.Token)
	t.Setenv("SLACK_BOT_TOKEN", fs.BotToken())
	t.Setenv("SLACK_APP_TOKEN", fs.AppToken())
	srv := startServer(t, cfg, dataDir)
	if !strings.Contains(srv.out.String(), "adapters enabled: web, discord, slack") {
		t.Fatalf("einsatz run output:\n%s", srv.out.String())
	}
	if !fs.WaitConnected(1, 10*time.Second) {
		t.Fatalf("the Slack adapter did not connect:\n%s", srv.out.String())
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
