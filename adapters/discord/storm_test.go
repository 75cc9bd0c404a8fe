package discord_test

import (
	"fmt"
	"testing"
	"time"

	"github.com/einsatz/einsatz/adapters/discord/discordtest"
	"github.com/einsatz/einsatz/bot"
)

// Fault: a storm of gateway disconnects while members keep posting. The
// connection drops again and again (each time as soon as the session
// resumed), RESUME replays already delivered events as Discord may, and
// messages keep coming all along: every message is answered exactly once,
// and the bot never falls back to a fresh IDENTIFY.
func TestDisconnectStormLosesNothingAnswersNothingTwice(t *testing.T) {
	t.Parallel()
	const cuts, perCut = 4, 6
	e := start(t, envOptions{fake: discordtest.Options{ResumeRedeliver: 100}})
	alice := e.srv.NewUser("Alice")
	channels := []string{e.general, e.srv.TextChannel(e.srv.Guild, "help"), e.srv.TextChannel(e.srv.Guild, "random")}

	var posted []discordtest.Message
	post := func(n int) {
		for range n {
			i := len(posted)
			posted = append(posted, e.srv.Post(channels[i%len(channels)], alice, fmt.Sprintf("question %d", i), true))
			time.Sleep(10 * time.Millisecond)
		}
	}
	post(perCut)
	for cut := range cuts {
		e.srv.Disconnect()
		post(perCut) // while the gateway is down or resuming
		// discordgo waits a second before it reconnects; give it up to 5 s.
		deadline := time.Now().Add(5 * time.Second)
		for e.srv.Resumes() < cut+1 || e.srv.Connected() != 1 {
			if time.Now().After(deadline) {
				t.Fatalf("cut %d: %d resumes, %d connected", cut+1, e.srv.Resumes(), e.srv.Connected())
			}
			time.Sleep(5 * time.Millisecond)
		}
	}
	post(perCut)
	e.eventually("every message answered", func() bool {
		for _, m := range posted {
			if len(e.botMessages(m.ID)) == 0 {
				return false
			}
		}
		return true
	})
	e.settle()

	for _, m := range posted {
		if n := len(e.botMessages(m.ID)); n != 1 {
			t.Errorf("%q answered %d times, want once", m.Content, n)
		}
	}
	if n := e.srv.Identifies(); n != 1 {
		t.Errorf("%d IDENTIFYs, want 1 (every cut resumed)", n)
	}
	if n := len(e.srv.ThreadStarts()); n != len(posted) {
		t.Errorf("%d threads started for %d messages", n, len(posted))
	}
	if d := e.core.Stats().Dropped[bot.DropDuplicate]; d < cuts {
		t.Errorf("%d replayed events recognised as duplicates, want at least one per cut (%d)", d, cuts)
	}
	t.Logf("%d messages over %d cuts: each answered once; %d replays dropped as duplicates", len(posted), cuts, e.core.Stats().Dropped[bot.DropDuplicate])
}
