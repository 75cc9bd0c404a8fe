package web_test

import (
	"context"
	"net/http"
	"strings"
	"testing"

	"github.com/chromedp/cdproto/cdp"
	"github.com/chromedp/cdproto/page"
	"github.com/chromedp/chromedp"

	"github.com/einsatz/einsatz/adapters/web"
	"github.com/einsatz/einsatz/adapters/web/webtest"
)

// Pages carry a Content-Security-Policy and are never cached; so is every
// other response behind the staff login or the admin API.
func TestPagesHaveCSPAndNoStore(t *testing.T) {
	s := startSite(t, web.Options{}, nil)
	c := noRedirect(newJar(t))
	resp, err := c.Get(s.LoginURL())
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	for _, path := range []string{"/", "/login", "/dashboard"} {
		resp, err := c.Get(s.URL() + path)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != http.StatusOK {
			t.Fatalf("%s: %d", path, resp.StatusCode)
		}
		if csp := resp.Header.Get("Content-Security-Policy"); !strings.Contains(csp, "script-src 'self'") || !strings.Contains(csp, "frame-ancestors 'none'") {
			t.Errorf("%s: Content-Security-Policy = %q", path, csp)
		}
		if cc := resp.Header.Get("Cache-Control"); cc != "no-store" {
			t.Errorf("%s: Cache-Control = %q, want no-store", path, cc)
		}
	}
	req, _ := http.NewRequest(http.MethodGet, s.URL()+"/api/admin/whoami", nil)
	req.Header.Set("Authorization", "Bearer wrong")
	resp, err = http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if cc := resp.Header.Get("Cache-Control"); cc != "no-store" {
		t.Errorf("admin API: Cache-Control = %q, want no-store", cc)
	}
}

// Under the policy the pages still load their script and style and nothing
// is refused: the chat answers (TestBrowserChatAnswers) and the dashboard
// is styled, with no violation reported.
func TestBrowserPagesBreakNoContentSecurityPolicy(t *testing.T) {
	s := startSite(t, web.Options{}, nil)
	ctx := webtest.Browser(t)
	webtest.Do(t, ctx, func(ctx context.Context, tg *chromedp.Target) (chromedp.Void, error) {
		_, err := cdp.Call(ctx, tg, page.AddScriptToEvaluateOnNewDocument, page.AddScriptToEvaluateOnNewDocumentParams{
			Source: `window.cspViolations = []; document.addEventListener("securitypolicyviolation", e => window.cspViolations.push(e.violatedDirective + " " + e.blockedURI));`,
		})
		return chromedp.Void{}, err
	})
	for _, u := range []string{s.LoginURL(), s.URL() + "/dashboard", s.URL() + "/"} {
		webtest.Do(t, ctx, chromedp.Navigate(u), chromedp.WaitReady(chromedp.CSS("main")))
		if v := webtest.Run(t, ctx, chromedp.Evaluate[[]string](`window.cspViolations`)); len(v) != 0 {
			t.Errorf("%s: CSP violations %q", u, v)
		}
		if n := webtest.Run(t, ctx, chromedp.Evaluate[int](`document.styleSheets.length`)); n < 1 {
			t.Errorf("%s: the stylesheet did not load", u)
		}
	}
}
