package web_test

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"github.com/einsatz/einsatz/adapters/web"
	"github.com/einsatz/einsatz/adapters/web/webtest"
	"github.com/einsatz/einsatz/bot"
	"github.com/einsatz/einsatz/handlers/handoff"
	"github.com/einsatz/einsatz/storage"
)

// startDesk runs a core with the hand-off wired as in main.go (routes,
// observer, reclaimer) behind the web adapter with the desk.
func startDesk(t *testing.T, sla time.Duration) (*web.Server, *handoff.Service) {
	t.Helper()
	store, err := storage.Open(storage.Options{InMemory: true, Logger: discard()})
	if err != nil {
		t.Fatal(err)
	}
	router := bot.NewRouter(bot.HandlerFunc(func(_ context.Context, ev *bot.Event) ([]bot.Reply, error) {
		return []bot.Reply{{Text: "answer to " + ev.Text, Sources: []bot.Source{{Title: "Install guide", URL: "https://docs.example/install"}}}}, nil
	}))
	core := bot.New(bot.Options{Store: store, Router: router, Logger: discard()})
	svc := handoff.New(handoff.Options{Store: storage.NewHandoff(store), Owners: store, History: store, Poster: core, Logger: discard(),
		SLA: sla, Text: func(_, k string) string { return k }})
	for _, r := range svc.Routes() {
		router.Add(r)
	}
	core.Observe(svc)
	core.Reclaim(svc)
	srv, err := web.New(web.Options{Addr: "127.0.0.1:0", Store: store, Core: core, Logger: discard()})
	if err != nil {
		t.Fatal(err)
	}
	srv.AddHandoff(svc, nil)
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- core.Run(ctx, srv) }()
	<-srv.Ready()
	t.Cleanup(func() { cancel(); <-done; store.Close() })
	return srv, svc
}

// A web visitor asks for a person; staff claim the escalation on the desk
// and reply there; the reply, in the staff member's name, is what the
// visitor's conversation receives next — and the bot stays silent.
func TestBrowserDeskClaimAndReplyToWebVisitor(t *testing.T) {
	srv, _ := startDesk(t, 30*time.Minute)
	_, first := postChat(t, srv.URL(), `{"conversation_id":"v1","message_id":"m1","text":"How do I install it?"}`, nil)
	_, asked := postChat(t, srv.URL(), `{"conversation_id":"v1","message_id":"m2","text":"I want to talk to a human"}`, nil)
	if len(first.Replies) != 1 || len(asked.Replies) != 1 || asked.Replies[0].Text != "handoff_asked" {
		t.Fatalf("before staff: %+v / %+v", first, asked)
	}

	ctx := webtest.Browser(t)
	webtest.Do(t, ctx, chromedp.Navigate(srv.LoginURL()), chromedp.WaitVisible(chromedp.CSS("main.dash")),
		chromedp.Navigate(srv.URL()+"/dashboard/escalations?state=unclaimed"), chromedp.WaitVisible(chromedp.CSS("a.desk-link")))
	shoot(t, ctx, "desk-list", 1280)
	webtest.Do(t, ctx, chromedp.Click(chromedp.CSS("a.desk-link")), chromedp.WaitVisible(chromedp.ID("do-claim")))
	transcript := webtest.Run(t, ctx, chromedp.Text(chromedp.ID("transcript")))
	if !strings.Contains(transcript, "How do I install it?") || !strings.Contains(transcript, "Install guide") {
		t.Fatalf("transcript on the desk = %q, want the question and the answer's source", transcript)
	}
	webtest.Do(t, ctx, chromedp.Click(chromedp.ID("do-claim")))
	webtest.WaitFor(t, ctx, `document.querySelector("#status-now") && document.querySelector("#status-now").textContent == "claimed"`)
	webtest.Do(t, ctx, chromedp.WaitVisible(chromedp.ID("reply-text")),
		chromedp.SendKeys(chromedp.ID("reply-text"), "Hi, Anna from the team here. Which version do you run?"),
		chromedp.Click(chromedp.ID("reply-submit")))
	webtest.WaitFor(t, ctx, `document.querySelector("#status-now") && document.querySelector("#status-now").textContent == "answered"`)
	webtest.Do(t, ctx, chromedp.SendKeys(chromedp.ID("note-text"), "Probably the 2.x upgrade bug."), chromedp.Click(chromedp.ID("note-submit")))
	webtest.WaitFor(t, ctx, `document.querySelector("#changes") && document.querySelector("#changes").textContent.includes("2.x upgrade")`)
	shoot(t, ctx, "desk-detail", 1280)
	shoot(t, ctx, "desk-detail", 390)
	webtest.Do(t, ctx, chromedp.Navigate(srv.URL()+"/dashboard/escalations"), chromedp.WaitVisible(chromedp.CSS("a.desk-link")))
	shoot(t, ctx, "desk-list", 390)

	// The visitor's next request brings what was posted meanwhile, and the
	// bot, silent in the claimed thread, adds nothing.
	_, next := postChat(t, srv.URL(), `{"conversation_id":"v1","message_id":"m3","text":"2.4"}`, nil)
	var staff *bot.Reply
	for i, r := range next.Replies {
		if strings.HasPrefix(r.Text, "answer to") {
			t.Fatalf("the bot answered in a claimed thread: %+v", next.Replies)
		}
		if strings.Contains(r.Text, "Which version") {
			staff = &next.Replies[i].Reply
		}
	}
	if staff == nil || staff.AuthorName != "admin" {
		t.Fatalf("the visitor's conversation got %+v, want the staff reply by admin", next.Replies)
	}
	if n := strings.Count(strings.Join(texts(next.Replies), "|"), "takeover"); n != 1 {
		t.Fatalf("takeover notice %d times, want once: %+v", n, next.Replies)
	}
}

func texts(rs []web.ChatReply) []string {
	out := make([]string, len(rs))
	for i, r := range rs {
		out[i] = r.Text
	}
	return out
}

// shoot saves a full-page screenshot at a width to
// $SHOTS_DIR/name-width.png (SHOTS_DIR=/tmp/shots); without it, nothing.
func shoot(t *testing.T, ctx context.Context, name string, width int64) {
	t.Helper()
	dir := os.Getenv("SHOTS_DIR")
	if dir == "" {
		return
	}
	webtest.Do(t, ctx, chromedp.EmulateViewport(width, 900))
	png := webtest.Run(t, ctx, chromedp.FullScreenshot(100))
	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	suffix := "-1280"
	if width < 1000 {
		suffix = "-390"
	}
	if err := os.WriteFile(filepath.Join(dir, name+suffix+".png"), png, 0o644); err != nil {
		t.Fatal(err)
	}
	webtest.Do(t, ctx, chromedp.EmulateViewport(1280, 900))
}
