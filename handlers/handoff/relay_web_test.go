package handoff_test

import (
	"bufio"
	"context"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/einsatz/einsatz/adapters/slack"
	"github.com/einsatz/einsatz/adapters/slack/slacktest"
	"github.com/einsatz/einsatz/adapters/web"
	"github.com/einsatz/einsatz/bot"
	"github.com/einsatz/einsatz/handlers/handoff"
	"github.com/einsatz/einsatz/storage"
)

// A web visitor's escalation answered from a Slack staff thread: anna's
// message there reaches the visitor's open conversation stream in her
// name, without the visitor sending anything.
func TestRelayWebVisitorSlackStaff(t *testing.T) {
	fs := slacktest.New(slacktest.Options{AckTimeout: 3 * time.Second, PingInterval: 100 * time.Millisecond})
	t.Cleanup(fs.Close)
	fs.AddChannel(slackStaff, "staff", slacktest.Private)
	fs.AddUser(slackAnna, "anna")
	store, err := storage.Open(storage.Options{InMemory: true, Logger: discard})
	if err != nil {
		t.Fatal(err)
	}
	answer := bot.HandlerFunc(func(_ context.Context, ev *bot.Event) ([]bot.Reply, error) {
		return []bot.Reply{{Text: "answer: " + ev.Text}}, nil
	})
	core := bot.New(bot.Options{Store: store, Router: bot.NewRouter(answer), Logger: discard})
	svc := handoff.New(handoff.Options{Store: storage.NewHandoff(store), Owners: store, History: store, Relays: storage.NewRelay(store),
		Poster: core, Logger: discard, Text: text, StaffChannel: bot.ThreadRef{Platform: bot.PlatformSlack, ChannelID: slackStaff}})
	core.Route(svc.Routes()...)
	core.Observe(svc)
	sa, err := slack.New(slack.Options{BotToken: fs.BotToken(), AppToken: fs.AppToken(), APIURL: fs.APIURL(),
		StaffUsers: []string{slackAnna}, Logger: discard, PingTimeout: time.Second, NameWait: time.Second})
	if err != nil {
		t.Fatal(err)
	}
	site, err := web.New(web.Options{Addr: "127.0.0.1:0", Store: store, Core: core, Logger: discard, APIKey: "sekret",
		Accounts: []web.Account{{Name: "sam", Role: "staff", Token: "staff-token"}}})
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- core.Run(ctx, sa, site) }()
	t.Cleanup(func() { cancel(); <-done; store.Close() })
	if !fs.WaitConnected(1, 10*time.Second) {
		t.Fatal("slack did not connect")
	}
	base := site.URL()

	// The visitor's page listens to the conversation's stream.
	sctx, scancel := context.WithCancel(ctx)
	defer scancel()
	req, _ := http.NewRequestWithContext(sctx, http.MethodGet, base+"/api/chat/conv-7/events", nil)
	req.Header.Set("X-API-Key", "sekret")
	resp, err := http.DefaultClient.Do(req)
	if err != nil || resp.StatusCode != 200 {
		t.Fatalf("events stream: %v %v", resp, err)
	}
	defer resp.Body.Close()
	lines := make(chan string, 256)
	go func() {
		defer close(lines)
		sc := bufio.NewScanner(resp.Body)
		for sc.Scan() {
			lines <- sc.Text()
		}
	}()

	chat, _ := http.NewRequest(http.MethodPost, base+"/api/chat",
		strings.NewReader(`{"conversation_id":"conv-7","message_id":"m1","text":"I want to talk to a human please"}`))
	chat.Header.Set("Content-Type", "application/json")
	chat.Header.Set("X-API-Key", "sekret")
	cr, err := http.DefaultClient.Do(chat)
	if err != nil || cr.StatusCode != 200 {
		t.Fatalf("chat: %v %v", cr, err)
	}
	cr.Body.Close()

	var root slacktest.Message
	waitUntil(t, "the escalation in the Slack staff channel", func() bool {
		for _, m := range fs.Posted() {
			if m.Channel == slackStaff && m.ThreadTS == "" && strings.Contains(m.Text, "Escalation") {
				root = m
				return true
			}
		}
		return false
	})
	if !strings.Contains(root.Text, "in web/") {
		t.Fatalf("root: %s", root.Text)
	}
	fs.Post(slackStaff, slackAnna, "Hello! Anna from support here, how can I help?", root.TS)

	deadline := time.After(10 * time.Second)
	for {
		select {
		case l, ok := <-lines:
			if !ok {
				t.Fatal("the stream ended before anna's reply")
			}
			if strings.Contains(l, "Anna from support here") {
				if !strings.Contains(l, `"author_name":"anna"`) || !strings.Contains(l, `"role":"staff"`) {
					t.Fatalf("anna's reply on the stream: %s", l)
				}
				return
			}
		case <-deadline:
			t.Fatal("anna's reply did not reach the visitor's stream")
		}
	}
}
