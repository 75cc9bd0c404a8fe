package handoff_test

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"github.com/einsatz/einsatz/adapters/slack"
	"github.com/einsatz/einsatz/adapters/slack/slacktest"
	"github.com/einsatz/einsatz/adapters/web"
	"github.com/einsatz/einsatz/adapters/web/webtest"
	"github.com/einsatz/einsatz/bot"
	"github.com/einsatz/einsatz/bot/config"
	"github.com/einsatz/einsatz/handlers/handoff"
	"github.com/einsatz/einsatz/storage"
)

// A web visitor's open chat page, in Chromium, follows what staff do in
// the Slack staff thread without the visitor sending anything: anna's
// reply appears in her name, her edit rewrites it (marked as edited), her
// deletion removes a reply, and her 📝 on a reply already shown takes it
// back as a note. A reload shows the conversation as it is now: the edit,
// and neither removed reply. In English and in German (the page's words
// and the thread's language).
func TestRelayWebChatFollowsStaffEditsInBrowser(t *testing.T) {
	for _, tc := range []struct {
		lang, acceptLanguage, ask, edited, badge string
	}{
		{"en", "en-US,en", "The export fails. I want to talk to a human please", "edited", "Staff"},
		{"de", "de-DE,de", "Der Export geht nicht. Ich möchte mit einem Menschen sprechen", "bearbeitet", "Team"},
	} {
		t.Run(tc.lang, func(t *testing.T) {
			webChatFollowsStaffEdits(t, tc.lang, tc.acceptLanguage, tc.ask, tc.edited, tc.badge)
		})
	}
}

func webChatFollowsStaffEdits(t *testing.T, lang, acceptLanguage, ask, edited, badge string) {
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
		Poster: core, Logger: discard, Text: config.Texts{}.Get, StaffChannel: bot.ThreadRef{Platform: bot.PlatformSlack, ChannelID: slackStaff}})
	core.Route(svc.Routes()...)
	core.Observe(svc)
	sa, err := slack.New(slack.Options{BotToken: fs.BotToken(), AppToken: fs.AppToken(), APIURL: fs.APIURL(),
		StaffUsers: []string{slackAnna}, Logger: discard, PingTimeout: time.Second, NameWait: time.Second})
	if err != nil {
		t.Fatal(err)
	}
	site, err := web.New(web.Options{Addr: "127.0.0.1:0", Store: store, Core: core, Logger: discard, BotName: "Einsatz"})
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

	b := webtest.Browser(t)
	webtest.Do(t, b,
		webtest.AcceptLanguage(acceptLanguage),
		chromedp.EmulateViewport(1280, 900),
		chromedp.Navigate(site.URL()+"/"),
		chromedp.WaitVisible(chromedp.ID("text")),
		chromedp.SendKeys(chromedp.ID("text"), ask),
		chromedp.Click(chromedp.CSS("#ask button")),
		chromedp.WaitVisible(chromedp.CSS("#log li.bot")),
	)
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
	staffTexts := `Array.from(document.querySelectorAll("#log li.staff .text")).map(e => e.textContent).join("|")`

	// From here on the visitor only watches.
	waitUntil(t, "the first line of the staff thread", func() bool {
		return countText(slackThread(fs, slackStaff, root.TS), "Replies in this thread go to") == 1
	})
	first := fs.Post(slackStaff, slackAnna, "Hi! Which version do you run?", root.TS)
	webtest.WaitFor(t, b, staffTexts+` === "Hi! Which version do you run?"`)
	fs.Edit(slackStaff, first, "Hi! Which version and which OS do you run?")
	webtest.WaitFor(t, b, staffTexts+` === "Hi! Which version and which OS do you run?"`)
	webtest.WaitFor(t, b, `document.querySelector("#log li.staff .badge")?.textContent === "`+badge+`"`)
	webtest.WaitFor(t, b, `document.querySelector("#log li.staff .edited")?.textContent === "`+edited+`"`)

	oops := fs.Post(slackStaff, slackAnna, "Account 4711 belongs to billing", root.TS)
	webtest.WaitFor(t, b, `document.querySelectorAll("#log li.staff").length === 2`)
	fs.Delete(slackStaff, oops)
	webtest.WaitFor(t, b, staffTexts+` === "Hi! Which version and which OS do you run?"`)

	note := fs.Post(slackStaff, slackAnna, "She is on the legacy plan", root.TS)
	webtest.WaitFor(t, b, `document.querySelectorAll("#log li.staff").length === 2`)
	fs.React(slackStaff, slackAnna, note, "memo", false)
	webtest.WaitFor(t, b, staffTexts+` === "Hi! Which version and which OS do you run?"`)
	member := bot.ThreadRef{Platform: bot.PlatformWeb, ChannelID: "web",
		ThreadID: webtest.Run(t, b, chromedp.Evaluate[string](`sessionStorage.getItem("einsatz-conversation")`))}
	waitUntil(t, "the note on the escalation", func() bool {
		e, _, _ := storage.NewHandoff(store).Escalation(context.Background(), member)
		for _, c := range e.Changes {
			if c.Action == "note" && strings.Contains(c.Text, "legacy plan") {
				return true
			}
		}
		return false
	})
	for _, m := range slackThread(fs, slackStaff, root.TS) {
		if strings.Contains(m.Text, "cannot be taken back") {
			t.Fatalf("the staff thread was told the web copy stays: %q", m.Text)
		}
	}
	if lang == "en" {
		shootChat(t, b)
	}

	// A reload: the conversation as it is now, each message once.
	webtest.Do(t, b, chromedp.Reload(), chromedp.WaitVisible(chromedp.CSS("#log li.staff")))
	time.Sleep(300 * time.Millisecond) // room for a removed reply to come back
	if got := webtest.Run(t, b, chromedp.Evaluate[string](staffTexts)); got != "Hi! Which version and which OS do you run?" {
		t.Fatalf("after a reload the staff replies read %q", got)
	}
	if n := webtest.Run(t, b, chromedp.Evaluate[float64](`document.querySelectorAll("#log li.staff .edited").length`)); n != 1 {
		t.Fatalf("after a reload %v replies are marked edited, want 1", n)
	}
}

// shootChat saves the chat page at 1280 and 390 px to $SHOTS_DIR as
// chat-staff-edited-*.png (docs/screenshots/); without SHOTS_DIR, nothing.
func shootChat(t *testing.T, b context.Context) {
	t.Helper()
	dir := os.Getenv("SHOTS_DIR")
	if dir == "" {
		return
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	for _, width := range []int64{1280, 390} {
		webtest.Do(t, b, chromedp.EmulateViewport(width, 900))
		png := webtest.Run(t, b, chromedp.FullScreenshot(100))
		if err := os.WriteFile(filepath.Join(dir, "chat-staff-edited-"+map[int64]string{1280: "1280", 390: "390"}[width]+".png"), png, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	webtest.Do(t, b, chromedp.EmulateViewport(1280, 900))
}
