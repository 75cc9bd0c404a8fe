package main

import (
	"path/filepath"
	"testing"
	"time"

	"github.com/einsatz/einsatz/adapters/discord/discordtest"
	"github.com/einsatz/einsatz/adapters/slack/slacktest"
)

// Messages posted while einsatz run is down, which neither platform
// delivers after the restart (Discord replays nothing after a fresh
// IDENTIFY; Slack gave up on the undelivered envelopes), are answered once
// after the restart, from the channels' histories; what was answered before
// the restart is not answered again.
func TestCatchUpAnswersWhatWasPostedWhileDown(t *testing.T) {
	fd := discordtest.New(t, discordtest.Options{})
	general := fd.TextChannel(fd.Guild, "general")
	alice := fd.NewUser("alice")
	fs := slacktest.New(slacktest.Options{})
	t.Cleanup(fs.Close)
	fs.AddUser("U123", "bob")
	fs.AddChannel("C123", "general", slacktest.Public)

	dataDir := filepath.Join(t.TempDir(), "data")
	cfg := platformsConfig(t, dataDir, fd, fs, "catchup:\n  window: 10m\n")

	waitFor := func(srv *server, what string, cond func() bool) {
		t.Helper()
		deadline := time.Now().Add(20 * time.Second)
		for !cond() {
			if time.Now().After(deadline) {
				t.Fatalf("timed out waiting for %s\n%s", what, srv.out.String())
			}
			time.Sleep(20 * time.Millisecond)
		}
	}
	slackAnswers := func(threadTS string) int {
		n := 0
		for _, m := range fs.Posted() {
			if m.ThreadTS == threadTS && m.BotID != "" {
				n++
			}
		}
		return n
	}

	srv := startServer(t, cfg, dataDir)
	if !fs.WaitConnected(1, 10*time.Second) || !fd.WaitConnected(10*time.Second) {
		t.Fatalf("the adapters did not connect:\n%s", srv.out.String())
	}
	before := fd.Post(general, alice, "What is Einsatz?", true)
	beforeTS := fs.Post("C123", "U123", "@"+slacktest.DefaultBotName+" What is Einsatz?", "")
	waitFor(srv, "the answers before the restart", func() bool {
		return len(fd.BotMessages(before.ID)) == 1 && slackAnswers(beforeTS) == 1
	})
	srv.stop(t)

	// Down: members keep writing, at the top level and in a thread.
	waitFor(srv, "the gateway to see the bot gone", func() bool { return fd.Connected() == 0 })
	down := fd.Post(general, alice, "How do I install Einsatz?", true)
	downTS := fs.Post("C123", "U123", "@"+slacktest.DefaultBotName+" How do I install Einsatz?", "")
	replyTS := fs.Post("C123", "U123", "@"+slacktest.DefaultBotName+" Which licence does Einsatz have?", beforeTS)
	if n := fs.DiscardUndelivered(); n == 0 {
		t.Fatal("the fake Slack had nothing waiting: the test would not show the catch-up")
	}

	srv = startServer(t, cfg, dataDir)
	waitFor(srv, "the answers to what was posted while down", func() bool {
		return len(fd.BotMessages(down.ID)) >= 1 && slackAnswers(downTS) >= 1 && slackAnswers(beforeTS) >= 2
	})
	if !srv.printed("caught up on messages missed while down") {
		t.Fatalf("no catch-up logged:\n%s", srv.out.String())
	}
	// Give a second answer time to show up, were there one.
	time.Sleep(time.Second)
	if n := len(fd.BotMessages(before.ID)); n != 1 {
		t.Errorf("Discord: the question from before the restart answered %d times", n)
	}
	if n := len(fd.BotMessages(down.ID)); n != 1 {
		t.Errorf("Discord: the question from the downtime answered %d times", n)
	}
	if n := slackAnswers(downTS); n != 1 {
		t.Errorf("Slack: the question from the downtime answered %d times", n)
	}
	if n := slackAnswers(beforeTS); n != 2 {
		t.Errorf("Slack: the thread of the question from before has %d answers, want 2 (its own and the follow-up's %s)", n, replyTS)
	}
	srv.stop(t)
	if t.Failed() {
		t.Logf("server output:\n%s", srv.out.String())
	}
}
