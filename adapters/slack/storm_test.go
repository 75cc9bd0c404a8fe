package slack_test

import (
	"fmt"
	"testing"
	"time"

	"github.com/einsatz/einsatz/adapters/slack/slacktest"
	"github.com/einsatz/einsatz/bot"
)

// Fault: a redelivery storm while members keep posting. Slack never sees
// the first 40 acks, so it delivers those envelopes again (with
// retry_attempt) after its ack timeout, and the socket drops halfway, so
// what was in flight on it comes again over the new connection: every
// message is handled and answered exactly once, and nothing stays
// unacknowledged.
func TestRedeliveryStormLosesNothingAnswersNothingTwice(t *testing.T) {
	const n = 30
	h := start(t, config{fake: slacktest.Options{AckTimeout: 150 * time.Millisecond, MaxRetries: 3}})
	h.fake.LoseAcks(40)
	var posted []string
	for i := range n {
		if i == n/2 {
			h.fake.DropConnections()
		}
		posted = append(posted, h.fake.Post(general, alice, fmt.Sprintf("@einsatz question %d", i), ""))
		time.Sleep(5 * time.Millisecond)
	}
	answers := func() map[string]int {
		out := map[string]int{}
		for _, m := range h.fake.Posted() {
			out[m.ThreadTS]++
		}
		return out
	}
	waitFor(t, 15*time.Second, "every message answered", func() bool {
		a := answers()
		for _, ts := range posted {
			if a[ts] == 0 {
				return false
			}
		}
		return true
	})
	h.settle()
	time.Sleep(300 * time.Millisecond) // past another ack timeout: a late redelivery would be handled by now
	h.settle()

	a := answers()
	for i, ts := range posted {
		if a[ts] != 1 {
			t.Errorf("question %d (%s) answered %d times, want once", i, ts, a[ts])
		}
	}
	handled := map[string]int{}
	for _, ev := range h.events() {
		handled[ev.MessageID]++
	}
	for i, ts := range posted {
		if handled[ts] != 1 {
			t.Errorf("question %d (%s) handled %d times, want once", i, ts, handled[ts])
		}
	}
	retried, lost := 0, 0
	for _, ack := range h.fake.Acks() {
		if ack.Attempt > 0 {
			retried++
		}
		if ack.Lost {
			lost++
		}
	}
	if lost != 40 || retried < 40 {
		t.Errorf("%d acks lost and %d redeliveries; the storm did not happen as set up (want 40 lost, at least 40 redelivered)", lost, retried)
	}
	if d := h.bot.Stats().Dropped[bot.DropDuplicate]; d < 40 {
		t.Errorf("%d duplicates dropped by the core, want at least the 40 redeliveries", d)
	}
	t.Logf("%d messages, %d acks lost, %d redeliveries: each handled and answered once", n, lost, retried)
}
