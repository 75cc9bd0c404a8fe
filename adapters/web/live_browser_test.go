package web_test

import (
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"github.com/einsatz/einsatz/adapters/web"
	"github.com/einsatz/einsatz/adapters/web/webtest"
	"github.com/einsatz/einsatz/bot"
	"github.com/einsatz/einsatz/handlers/answer"
	"github.com/einsatz/einsatz/handlers/support"
	"github.com/einsatz/einsatz/storage"
)

// startSupportSite answers through the support log, as the program does:
// answers carry Helpful / Not helpful, and the votes count in the report.
func startSupportSite(t *testing.T, opts web.Options) *site {
	t.Helper()
	return startSiteWith(t, opts, nil, func(s *site, answers *answer.Handler) {
		sup := support.New(support.Options{Answer: answers, Store: storage.NewSupport(s.store), Poster: s.core, Logger: discard(),
			Text: func(lang, key string) string { return support.DefaultTexts[key][0] }})
		s.core.Fallback(sup)
		s.core.Route(sup.Routes()...)
		s.AddSupport(storage.NewSupport(s.store), support.Settings{})
	})
}

// askOnPage opens the chat page, asks a question and waits for the answer
// with its buttons; it returns the page's conversation id.
func askOnPage(t *testing.T, ctx context.Context, s *site, question string) string {
	t.Helper()
	webtest.Do(t, ctx,
		chromedp.Navigate(s.URL()+"/"),
		chromedp.WaitVisible(chromedp.ID("text")),
		chromedp.SendKeys(chromedp.ID("text"), question),
		chromedp.Click(chromedp.CSS("#ask button")),
		chromedp.WaitVisible(chromedp.CSS("#log li.bot .buttons button")),
	)
	return webtest.Run(t, ctx, chromedp.Evaluate[string](`sessionStorage.getItem("einsatz-conversation")`))
}

func TestBrowserChatShowsLateStaffReplyLive(t *testing.T) {
	s := startSupportSite(t, web.Options{})
	ctx := webtest.Browser(t)
	conv := askOnPage(t, ctx, s, "What is Einsatz?")
	labels := webtest.Run(t, ctx, chromedp.Evaluate[[]string](`Array.from(document.querySelectorAll("#log li.bot .buttons button")).map(b => b.textContent)`))
	if strings.Join(labels, "|") != "Helpful|Not helpful" {
		t.Fatalf("buttons on the answer = %q", labels)
	}

	// The visitor does nothing more; a staff reply comes through the core.
	if err := s.core.Post(context.Background(), webThread(conv), bot.Reply{Text: "Hi, I'm from the team: anything else?", AuthorName: "Alice Example"}); err != nil {
		t.Fatal(err)
	}
	webtest.Do(t, ctx, chromedp.WaitVisible(chromedp.CSS("#log li.staff")))
	who := webtest.Run(t, ctx, chromedp.Text(chromedp.CSS("#log li.staff .author strong")))
	badge := webtest.Run(t, ctx, chromedp.Evaluate[string](`document.querySelector("#log li.staff .badge").textContent`))
	text := webtest.Run(t, ctx, chromedp.Text(chromedp.CSS("#log li.staff .text")))
	if who != "Alice Example" || badge != "Staff" || !strings.Contains(text, "from the team") {
		t.Fatalf("staff reply on the page: %q %q %q", who, badge, text)
	}
	count := `document.querySelectorAll("#log > li").length`
	if n := webtest.Run(t, ctx, chromedp.Evaluate[float64](count)); n != 3 {
		t.Fatalf("%v messages on the page, want question, answer, staff reply", n)
	}

	// A reload draws the conversation again from the stream, each message once.
	webtest.Do(t, ctx, chromedp.Reload(), chromedp.WaitVisible(chromedp.CSS("#log li.staff")))
	time.Sleep(300 * time.Millisecond) // room for a duplicate to show up
	if n := webtest.Run(t, ctx, chromedp.Evaluate[float64](count)); n != 3 {
		html := webtest.Run(t, ctx, chromedp.Evaluate[string](`document.getElementById("log").innerText`))
		t.Fatalf("after a reload %v messages, want 3:\n%s", n, html)
	}

	if dir := os.Getenv("EINSATZ_SHOTS"); dir != "" {
		for _, width := range []int64{1280, 390} {
			webtest.Do(t, ctx, chromedp.EmulateViewport(width, 900), chromedp.Reload(), chromedp.WaitVisible(chromedp.CSS("#log li.staff")))
			shot := webtest.Run(t, ctx, chromedp.FullScreenshot(100))
			name := filepath.Join(dir, "livechat-"+map[int64]string{1280: "1280", 390: "390"}[width]+".png")
			if err := os.WriteFile(name, shot, 0o644); err != nil {
				t.Fatal(err)
			}
		}
	}
}

func TestBrowserChatHelpfulClickCountsInSupportReport(t *testing.T) {
	s := startSupportSite(t, web.Options{})
	ctx := webtest.Browser(t)
	askOnPage(t, ctx, s, "What is Einsatz?")
	webtest.Do(t, ctx,
		chromedp.Click(chromedp.CSS(`#log li.bot .buttons button[data-action="feedback_up"]`)),
		chromedp.WaitVisible(chromedp.CSS("#log li.notice")),
	)
	thanks := webtest.Run(t, ctx, chromedp.Text(chromedp.CSS("#log li.notice")))
	if thanks != support.DefaultTexts[support.TextThanks][0] {
		t.Fatalf("after the click: %q", thanks)
	}
	disabled := webtest.Run(t, ctx, chromedp.Evaluate[bool](`Array.from(document.querySelectorAll("#log li.bot .buttons button")).every(b => b.disabled)`))
	if !disabled {
		t.Fatal("the buttons can still be clicked after the vote")
	}

	client, err := web.Running(context.Background(), filepath.Dir(s.cred))
	if err != nil {
		t.Fatal(err)
	}
	var rows []support.Row
	if err := client.GetJSON(context.Background(), "/api/admin/support/report?since=7d", &rows); err != nil {
		t.Fatal(err)
	}
	if len(rows) != 1 || rows[0].Platform != bot.PlatformWeb || rows[0].Rated != 1 || rows[0].Helpful != 1 || rows[0].ResolvedByVote != 1 {
		t.Fatalf("support report = %+v, want one web question rated helpful", rows)
	}
}

func TestBrowserWidgetOnAnotherSite(t *testing.T) {
	host := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/html; charset=utf-8")
		fmt.Fprintf(w, `<!doctype html><html><head><title>Host</title></head><body><h1>Another site</h1><script src="%s/widget.js" defer></script></body></html>`, r.URL.Query().Get("bot"))
	}))
	t.Cleanup(host.Close)
	s := startSupportSite(t, web.Options{APIKey: "sekret", CORSOrigins: []string{host.URL}})
	ctx := webtest.Browser(t)
	root := `document.getElementById("einsatz-widget").shadowRoot`
	webtest.Do(t, ctx, chromedp.Navigate(host.URL+"/?bot="+url.QueryEscape(s.URL())))
	webtest.WaitFor(t, ctx, `!!document.getElementById("einsatz-widget")`)
	webtest.Run(t, ctx, chromedp.Evaluate[bool](`(() => { const r = `+root+`; r.querySelector(".bubble").click(); r.querySelector("input").value = "What is Einsatz?"; r.querySelector("form").requestSubmit(); return true })()`))
	webtest.WaitFor(t, ctx, root+`.querySelector("li.bot .buttons button") !== null`)
	answer := webtest.Run(t, ctx, chromedp.Evaluate[string](root+`.querySelector("li.bot").textContent`))
	if !strings.Contains(answer, "community engagement bot") {
		t.Fatalf("widget answer = %q", answer)
	}
	conv := webtest.Run(t, ctx, chromedp.Evaluate[string](`sessionStorage.getItem("einsatz-widget-conversation")`))
	if err := s.core.Post(context.Background(), webThread(conv), bot.Reply{Text: "Hello from the team.", AuthorName: "Bo"}); err != nil {
		t.Fatal(err)
	}
	webtest.WaitFor(t, ctx, root+`.querySelector("li.staff .author strong")?.textContent === "Bo"`)
	webtest.Run(t, ctx, chromedp.Evaluate[bool](root+`.querySelector('li.bot .buttons button[data-action="feedback_up"]').click() || true`))
	webtest.WaitFor(t, ctx, root+`.querySelector("li.notice")?.textContent === "Thanks for the feedback!"`)

	// Staff change their replies: the widget follows (edit, delete).
	bg := context.Background()
	fix, err := s.core.Publish(bg, webThread(conv), bot.Reply{Text: "Try version 2.", AuthorName: "Bo"})
	if err != nil {
		t.Fatal(err)
	}
	gone, err := s.core.Publish(bg, webThread(conv), bot.Reply{Text: "Wrong thread, sorry.", AuthorName: "Bo"})
	if err != nil {
		t.Fatal(err)
	}
	webtest.WaitFor(t, ctx, root+`.querySelectorAll("li.staff").length === 3`)
	if err := s.core.EditMessage(bg, webThread(conv), fix, bot.Reply{Text: "Try version 2.1.", AuthorName: "Bo"}); err != nil {
		t.Fatal(err)
	}
	if err := s.core.DeleteMessage(bg, webThread(conv), gone); err != nil {
		t.Fatal(err)
	}
	webtest.WaitFor(t, ctx, root+`.querySelectorAll("li.staff").length === 2`)
	webtest.WaitFor(t, ctx, `Array.from(`+root+`.querySelectorAll("li.staff .text")).map(e => e.textContent).join("|") === "Hello from the team.|Try version 2.1."`)
	webtest.WaitFor(t, ctx, root+`.querySelectorAll("li.staff .edited").length === 1`)

	if dir := os.Getenv("EINSATZ_SHOTS"); dir != "" {
		for _, width := range []int64{1280, 390} {
			webtest.Do(t, ctx, chromedp.EmulateViewport(width, 800))
			time.Sleep(200 * time.Millisecond)
			shot := webtest.Run(t, ctx, chromedp.FullScreenshot(100))
			if err := os.WriteFile(filepath.Join(dir, fmt.Sprintf("livechat-widget-%d.png", width)), shot, 0o644); err != nil {
				t.Fatal(err)
			}
		}
	}
}
