package web_test

import (
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"github.com/einsatz/einsatz/adapters/web/webtest"
)

// A web visitor asks for a person on the chat page and keeps it open;
// staff claim the escalation on the desk, in another browser, and reply;
// the visitor's page shows the reply, in the staff member's name, without
// the visitor sending anything.
func TestBrowserDeskReplyReachesOpenChatPage(t *testing.T) {
	srv, _ := startDesk(t, 30*time.Minute)

	visitor := webtest.Browser(t)
	webtest.Do(t, visitor,
		chromedp.Navigate(srv.URL()+"/"),
		chromedp.WaitVisible(chromedp.ID("text")),
		chromedp.SendKeys(chromedp.ID("text"), "I want to talk to a human please"),
		chromedp.Click(chromedp.CSS("#ask button")),
		chromedp.WaitVisible(chromedp.CSS("#log li.bot")),
	)

	staff := webtest.Browser(t)
	webtest.Do(t, staff, chromedp.Navigate(srv.LoginURL()), chromedp.WaitVisible(chromedp.CSS("main.dash")),
		chromedp.Navigate(srv.URL()+"/dashboard/escalations?state=unclaimed"), chromedp.WaitVisible(chromedp.CSS("a.desk-link")),
		chromedp.Click(chromedp.CSS("a.desk-link")), chromedp.WaitVisible(chromedp.ID("do-claim")),
		chromedp.Click(chromedp.ID("do-claim")))
	webtest.WaitFor(t, staff, `document.querySelector("#status-now") && document.querySelector("#status-now").textContent == "claimed"`)
	webtest.Do(t, staff, chromedp.WaitVisible(chromedp.ID("reply-text")),
		chromedp.SendKeys(chromedp.ID("reply-text"), "Hi, Anna from the team here. What went wrong?"),
		chromedp.Click(chromedp.ID("reply-submit")))
	webtest.WaitFor(t, staff, `document.querySelector("#status-now") && document.querySelector("#status-now").textContent == "answered"`)

	// The visitor has sent nothing since; the open page shows the reply.
	webtest.Do(t, visitor, chromedp.WaitVisible(chromedp.CSS("#log li.staff")))
	who := webtest.Run(t, visitor, chromedp.Text(chromedp.CSS("#log li.staff .author strong")))
	text := webtest.Run(t, visitor, chromedp.Text(chromedp.CSS("#log li.staff .text")))
	if who != "admin" || !strings.Contains(text, "What went wrong?") {
		t.Fatalf("staff reply on the visitor's page: author %q, text %q", who, text)
	}
	// The bot stayed silent: the visitor's question, the bot's hand-off
	// notice, the takeover notice and the staff reply; no bot answer.
	log := webtest.Run(t, visitor, chromedp.Evaluate[string](`document.getElementById("log").innerText`))
	if strings.Contains(log, "answer to") {
		t.Fatalf("the bot answered in a thread staff hold:\n%s", log)
	}

	// Staff correct the reply on the desk: the visitor's page follows.
	webtest.Do(t, staff, chromedp.Click(chromedp.CSS("#changes details.revise summary")),
		chromedp.WaitVisible(chromedp.CSS("#changes form.edit-reply textarea")),
		chromedp.SendKeys(chromedp.CSS("#changes form.edit-reply textarea"), "Hi, Anna from the team here. What went wrong, and when?"),
		chromedp.Click(chromedp.CSS("#changes form.edit-reply button")))
	webtest.WaitFor(t, staff, `document.querySelector("#changes .reply-edited") !== null`)
	webtest.WaitFor(t, visitor, `document.querySelector("#log li.staff .text")?.textContent === "Hi, Anna from the team here. What went wrong, and when?"`)
	webtest.WaitFor(t, visitor, `document.querySelector("#log li.staff .edited") !== null`)
	// … and take it back.
	webtest.Do(t, staff, chromedp.Click(chromedp.CSS("#changes form.delete-reply button")))
	webtest.WaitFor(t, staff, `document.querySelector("#changes .reply-deleted") !== null && !document.querySelector("#changes form.delete-reply")`)
	webtest.WaitFor(t, visitor, `document.querySelectorAll("#log li.staff").length === 0`)
	webtest.Do(t, visitor, chromedp.Reload(), chromedp.WaitVisible(chromedp.CSS("#log li.bot")))
	time.Sleep(300 * time.Millisecond) // room for the deleted reply to (wrongly) come back
	if n := webtest.Run(t, visitor, chromedp.Evaluate[float64](`document.querySelectorAll("#log li.staff").length`)); n != 0 {
		t.Fatalf("after a reload the deleted reply is back (%v staff replies)", n)
	}
}
