package web_test

import (
	"strings"
	"testing"

	"github.com/chromedp/chromedp"

	"github.com/einsatz/einsatz/adapters/web"
	"github.com/einsatz/einsatz/adapters/web/webtest"
)

// These tests drive the pages in headless Chromium.

func TestBrowserChatAnswers(t *testing.T) {
	s := startSite(t, web.Options{}, nil)
	ctx := webtest.Browser(t)
	webtest.Do(t, ctx,
		chromedp.Navigate(s.URL()+"/"),
		chromedp.WaitVisible(chromedp.ID("text")),
		chromedp.SendKeys(chromedp.ID("text"), "What is Einsatz?"),
		chromedp.Click(chromedp.CSS("#ask button")),
		chromedp.WaitVisible(chromedp.CSS("#log li.bot")),
	)
	answer := webtest.Run(t, ctx, chromedp.Text(chromedp.CSS("#log li.bot")))
	if !strings.Contains(answer, "community engagement bot") || !strings.Contains(answer, "What is Einsatz?") {
		t.Fatalf("answer on the page = %q, want the knowledge-base passage and its source", answer)
	}
	href := webtest.Run(t, ctx, chromedp.Evaluate[string](`document.querySelector("#log li.bot .sources a").href`))
	if !strings.HasSuffix(href, "knowledge/en/what-is-einsatz.md") {
		t.Fatalf("source link = %q", href)
	}
}

func TestBrowserDashboardNeedsLogin(t *testing.T) {
	s := startSite(t, web.Options{}, nil)
	ctx := webtest.Browser(t)
	webtest.Do(t, ctx, chromedp.Navigate(s.URL()+"/dashboard"), chromedp.WaitVisible(chromedp.CSS("main.login")))
	loc := webtest.Run(t, ctx, chromedp.Location())
	if !strings.Contains(loc, "/login?next=%2Fdashboard") {
		t.Fatalf("dashboard without session ended at %s, want the login page", loc)
	}
}

func TestBrowserOneTimeLoginLinkWorksOnce(t *testing.T) {
	s := startSite(t, web.Options{}, nil)
	link := s.LoginURL()
	if link == "" {
		t.Fatal("no one-time login link without configured accounts")
	}
	first := webtest.Browser(t)
	webtest.Do(t, first, chromedp.Navigate(link), chromedp.WaitVisible(chromedp.CSS("main.dash")))
	heading := webtest.Run(t, first, chromedp.Text(chromedp.CSS("main.dash h1")))
	who := webtest.Run(t, first, chromedp.Text(chromedp.CSS(".logout span")))
	if heading != "Overview" || who != "admin (admin)" {
		t.Fatalf("after the login link: heading %q, user %q", heading, who)
	}

	second := webtest.Browser(t) // another person with the same link
	webtest.Do(t, second, chromedp.Navigate(link), chromedp.WaitVisible(chromedp.CSS("main.login .error")))
	msg := webtest.Run(t, second, chromedp.Text(chromedp.CSS("main.login .error")))
	if !strings.Contains(msg, "used already") {
		t.Fatalf("second use of the link: %q", msg)
	}
	webtest.Do(t, second, chromedp.Navigate(s.URL()+"/dashboard"), chromedp.WaitVisible(chromedp.CSS("main.login")))
}

func TestBrowserFormPostWithoutCSRFRefused(t *testing.T) {
	s := startSite(t, web.Options{}, nil)
	ctx := webtest.Browser(t)
	webtest.Do(t, ctx, chromedp.Navigate(s.LoginURL()), chromedp.WaitVisible(chromedp.CSS("main.dash")))
	// A form post like one another site could make: the session cookie
	// goes along, the CSRF token does not.
	status := webtest.Run(t, ctx, chromedp.Evaluate[float64](`fetch("/logout", {method: "POST", body: new URLSearchParams({}), redirect: "manual"}).then(r => r.status)`, chromedp.EvalAwaitPromise))
	if status != 403 {
		t.Fatalf("logout form without CSRF token: status %v, want 403", status)
	}
	// The page's own form carries the token and works.
	webtest.Do(t, ctx, chromedp.Click(chromedp.CSS(".logout button")), chromedp.WaitVisible(chromedp.CSS("main.login")))
}
