package web_test

import (
	"context"
	"strings"
	"testing"

	"github.com/chromedp/chromedp"

	"github.com/einsatz/einsatz/adapters/web"
	"github.com/einsatz/einsatz/adapters/web/webtest"
	"github.com/einsatz/einsatz/bot"
)

// The web chat keeps its conversations in the server's memory, so after a
// kill the server cannot tell what a page has shown: a resumed event's
// reply reaches the page again, on its stream or with its next request,
// under a new event id but under the same name (reply_to and part, the
// same in every run). The page draws a named reply once; another reply of
// the same message (the next part) is drawn.
func TestBrowserChatDrawsAResentReplyOnce(t *testing.T) {
	s := startSupportSite(t, web.Options{})
	ctx := webtest.Browser(t)
	conv := askOnPage(t, ctx, s, "What is Einsatz?")
	name := webtest.Run(t, ctx, chromedp.Evaluate[string](`document.querySelector("#log li.bot").dataset.reply || ""`))
	key, part, ok := strings.Cut(name, "#")
	if !ok || part != "0" || !strings.HasPrefix(key, "web:"+conv+":") {
		t.Fatalf("the answer's name on the page = %q, want web:%s:…#0", name, conv)
	}

	// What the resumed event sends after a restart: its replies again.
	for _, r := range []bot.Reply{
		{Text: "The same answer, sent again", ReplyTo: key, Part: 0},
		{Text: "A second reply of that message", ReplyTo: key, Part: 1},
	} {
		if err := s.Send(context.Background(), webThread(conv), r); err != nil {
			t.Fatal(err)
		}
	}
	webtest.WaitFor(t, ctx, `Array.from(document.querySelectorAll("#log li.bot")).some(li => li.textContent.includes("A second reply"))`)
	texts := webtest.Run(t, ctx, chromedp.Evaluate[[]string](`Array.from(document.querySelectorAll("#log li.bot .text")).map(e => e.textContent)`))
	if len(texts) != 2 || strings.Contains(strings.Join(texts, "|"), "sent again") {
		t.Fatalf("bot messages on the page = %q, want the answer once and the second reply", texts)
	}
}
