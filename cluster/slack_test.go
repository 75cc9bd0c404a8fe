package cluster_test

import (
	"fmt"
	"net/http"
	"sync"
	"testing"
	"time"

	"github.com/einsatz/einsatz/adapters/slack/slacktest"
)

// balancer spreads requests over the nodes' Slack endpoints in turn, as a
// load balancer in front of the cluster would.
type balancer struct {
	mu       sync.Mutex
	backends []http.Handler
	next     int
	served   []int
}

func (b *balancer) add(h http.Handler) {
	b.mu.Lock()
	defer b.mu.Unlock()
	b.backends = append(b.backends, h)
	b.served = append(b.served, 0)
}

func (b *balancer) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	b.mu.Lock()
	i := b.next % len(b.backends)
	b.next++
	b.served[i]++
	h := b.backends[i]
	b.mu.Unlock()
	h.ServeHTTP(w, r)
}

func (b *balancer) counts() []int {
	b.mu.Lock()
	defer b.mu.Unlock()
	return append([]int(nil), b.served...)
}

// Slack's HTTP Events API behind a load balancer: each delivery reaches
// one node, which publishes it and answers 200 at once; the node holding
// the thread's partition answers, once, in the thread.
func testSlackHTTP(t *testing.T, fs *slacktest.Server, lb *balancer) {
	fs.AddUser("U123", "bob")
	fs.AddChannel("C123", "general", slacktest.Public)
	const questions = 15
	want := map[string]bool{}
	for i := range questions {
		want[fs.Post("C123", "U123", fmt.Sprintf("@%s question %d?", slacktest.DefaultBotName, i), "")] = true
	}
	fs.WaitPosted(questions, 20*time.Second)
	time.Sleep(300 * time.Millisecond) // a second answer would show now
	got := map[string][]string{}
	for _, m := range fs.Posted() {
		got[m.ThreadTS] = append(got[m.ThreadTS], m.Text)
	}
	for ts := range want {
		if len(got[ts]) != 1 {
			t.Errorf("thread %s: %d answers %q, want one", ts, len(got[ts]), got[ts])
		}
	}
	for _, a := range fs.Acks() {
		if a.Status != http.StatusOK {
			t.Errorf("delivery answered %d, want 200: %+v", a.Status, a)
		}
	}
	spread := 0
	for _, c := range lb.counts() {
		if c > 0 {
			spread++
		}
	}
	if spread < 2 {
		t.Errorf("the balancer sent every delivery to one node: %v", lb.counts())
	}
	t.Logf("%d questions over the load balancer (deliveries per node %v: messages, app mentions and the bot's own posts), each answered once", questions, lb.counts())
}
