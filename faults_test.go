package main

import (
	"fmt"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/einsatz/einsatz/adapters/discord/discordtest"
	"github.com/einsatz/einsatz/adapters/slack/slacktest"
)

// einsatz run killed with SIGKILL while Discord and Slack traffic flows
// (members keep posting before, during and after the outage) and restarted
// on the same data: every message is answered, including those whose Slack
// envelope it had acknowledged just before the kill, those Discord had
// delivered to it, and those posted while it was down; and none is answered
// twice.
//
// The core keeps an accepted event as unfinished in the same write as its
// "seen" mark and resumes it at the next start (bot.Bot.resume). The kill
// comes the moment the fifth answer shows up, when replies the platform
// took are often not yet recorded on disk (their history turn and the
// unfinished record's delete ride the next group commit): the resumed
// events' replies must not be posted again. Discord's enforced nonce and
// the Slack adapter's metadata look-up (bot.Resender) see to that.
func TestKillUnderPlatformLoadLosesNothing(t *testing.T) {
	fd := discordtest.New(t, discordtest.Options{})
	fs := slacktest.New(slacktest.Options{})
	t.Cleanup(fs.Close)
	const channels = 4
	var dChans, sChans []string
	for i := range channels {
		dChans = append(dChans, fd.TextChannel(fd.Guild, fmt.Sprint("general-", i)))
		id := fmt.Sprint("C10", i)
		fs.AddChannel(id, fmt.Sprint("general-", i), slacktest.Public)
		sChans = append(sChans, id)
	}
	alice := fd.NewUser("alice")
	fs.AddUser("U123", "bob")

	dataDir := filepath.Join(t.TempDir(), "data")
	// The rate limit is off: one member posts the whole stream.
	cfg := platformsConfig(t, dataDir, fd, fs, "core:\n  rate_limit:\n    per_minute: 0\ncatchup:\n  window: 10m\n")

	srv := startServer(t, cfg, dataDir)
	if !fs.WaitConnected(1, 10*time.Second) || !fd.WaitConnected(10*time.Second) {
		t.Fatalf("the adapters did not connect:\n%s", srv.out.String())
	}

	// The stream: one message every 20 ms (50/s), alternating platforms
	// and channels, until stop is closed.
	var mu sync.Mutex
	var discordIDs, slackTS []string
	var discordAt, slackAt []time.Time // when each was posted, for the failure message
	posted := func() int {
		mu.Lock()
		defer mu.Unlock()
		return len(discordIDs) + len(slackTS)
	}
	stop := make(chan struct{})
	streamDone := make(chan struct{})
	go func() {
		defer close(streamDone)
		tick := time.NewTicker(20 * time.Millisecond)
		defer tick.Stop()
		for i := 0; ; i++ {
			select {
			case <-stop:
				return
			case <-tick.C:
			}
			text := fmt.Sprintf("What is Einsatz? (%d)", i)
			if i%2 == 0 {
				m := fd.Post(dChans[(i/2)%channels], alice, text, true)
				mu.Lock()
				discordIDs = append(discordIDs, m.ID)
				discordAt = append(discordAt, time.Now())
				mu.Unlock()
			} else {
				ts := fs.Post(sChans[(i/2)%channels], "U123", "@"+slacktest.DefaultBotName+" "+text, "")
				mu.Lock()
				slackTS = append(slackTS, ts)
				slackAt = append(slackAt, time.Now())
				mu.Unlock()
			}
		}
	}()
	defer func() {
		select {
		case <-stop:
		default:
			close(stop)
		}
		<-streamDone
	}()

	slackAnswers := func() map[string]int {
		n := map[string]int{}
		for _, m := range fs.Posted() {
			if m.ThreadTS != "" && m.BotID != "" {
				n[m.ThreadTS]++
			}
		}
		return n
	}
	answered := func() (discord, slack int) {
		mu.Lock()
		ids, tss := append([]string(nil), discordIDs...), append([]string(nil), slackTS...)
		mu.Unlock()
		for _, id := range ids {
			if len(fd.BotMessages(id)) > 0 {
				discord++
			}
		}
		sa := slackAnswers()
		for _, ts := range tss {
			if sa[ts] > 0 {
				slack++
			}
		}
		return discord, slack
	}
	var restartAt time.Time
	// unanswered names each unanswered message with its channel and when
	// it was posted relative to the restart (after the stream stopped).
	unanswered := func() string {
		var out []string
		at := func(t time.Time) string { return t.Sub(restartAt).Round(time.Millisecond).String() }
		for i, id := range discordIDs {
			if len(fd.BotMessages(id)) == 0 {
				out = append(out, fmt.Sprintf("discord#%d (general-%d, %s after the restart)", i, i%channels, at(discordAt[i])))
			}
		}
		sa := slackAnswers()
		for i, ts := range slackTS {
			if sa[ts] == 0 {
				out = append(out, fmt.Sprintf("slack#%d (general-%d, %s after the restart)", i, i%channels, at(slackAt[i])))
			}
		}
		return strings.Join(out, ", ")
	}
	waitFor := func(what string, cond func() bool) {
		t.Helper()
		deadline := time.Now().Add(30 * time.Second)
		for !cond() {
			if time.Now().After(deadline) {
				t.Fatalf("timed out waiting for %s\n%s", what, srv.out.String())
			}
			time.Sleep(20 * time.Millisecond)
		}
	}

	// Kill once answers flow on both platforms, with the stream running.
	waitFor("answers on both platforms", func() bool {
		d, s := answered()
		return d >= 5 && s >= 5
	})
	if err := srv.cmd.Process.Kill(); err != nil {
		t.Fatal(err)
	}
	srv.cmd.Wait()
	atKill := posted()
	dKill, sKill := answered()
	waitFor("the gateway to see the bot gone", func() bool { return fd.Connected() == 0 })
	time.Sleep(500 * time.Millisecond) // down for a while: members keep posting

	restartAt = time.Now()
	srv = startServer(t, cfg, dataDir)
	waitFor("the restarted bot to answer new messages", func() bool {
		d, s := answered()
		return d > dKill+5 && s > sKill+5
	})
	close(stop)
	<-streamDone
	total := posted()
	deadline := time.Now().Add(30 * time.Second)
	for d, s := answered(); d+s < total; d, s = answered() {
		if time.Now().After(deadline) {
			t.Fatalf("%d of %d messages answered (Discord %d of %d, Slack %d of %d; %d posted before the kill); unanswered: %s\n%s",
				d+s, total, d, len(discordIDs), s, len(slackTS), atKill, unanswered(), srv.out.String())
		}
		time.Sleep(20 * time.Millisecond)
	}
	time.Sleep(time.Second) // a second answer would show up by now
	for _, id := range discordIDs {
		if n := len(fd.BotMessages(id)); n != 1 {
			t.Errorf("Discord message %s answered %d times", id, n)
		}
	}
	sa := slackAnswers()
	for _, ts := range slackTS {
		if n := sa[ts]; n != 1 {
			t.Errorf("Slack message %s answered %d times", ts, n)
		}
	}
	srv.stop(t)
	if t.Failed() {
		t.Logf("server output:\n%s", srv.out.String())
	}
	t.Logf("%d messages posted, %d before the SIGKILL (%d+%d answered by then); all answered once; replies of resumed events not posted again: Discord %d (enforced nonce), Slack %d (metadata)",
		total, atKill, dKill, sKill, fd.NonceReplays(), strings.Count(srv.out.String(), "was posted before the restart: not posted again"))
}
