package web_test

import (
	"strings"
	"testing"

	"github.com/chromedp/chromedp"

	"github.com/einsatz/einsatz/adapters/discord/discordtest"
	"github.com/einsatz/einsatz/adapters/web/webtest"
)

// A visitor opens the roadmap in Chromium, signs in through the fake
// Discord's OAuth2 (the browser follows the authorize redirect), votes,
// sees the count go up, and cannot vote twice — not with the page's form
// (gone) nor by posting it again. The page is checked at 1,280 and 390 px
// (no sideways scrolling, axe-core) signed out, signed in and in German.
func TestBrowserRoadmapDiscordVote(t *testing.T) {
	rs := startRoadmap(t, "")
	rs.discord.SignInAs(discordtest.User{ID: "777000000000000007", Name: "Visitor"}, false)
	ctx := webtest.Browser(t)
	check := func(name string) {
		t.Helper()
		for _, width := range []int64{1280, 390} {
			webtest.Do(t, ctx, chromedp.EmulateViewport(width, 900))
			if over := webtest.Overflow(t, ctx); len(over) > 0 {
				t.Errorf("%s at %d px: wider than the viewport: %s", name, width, strings.Join(over, "; "))
			}
			axe := webtest.Axe(t, ctx)
			t.Logf("axe %-18s %4d px: %s", name, width, axe.Summary())
			for _, v := range axe.Serious() {
				t.Errorf("%s at %d px: axe %s (%s): %s on %v", name, width, v.ID, v.Impact, v.Help, v.Nodes)
			}
			shoot(t, ctx, name, width)
		}
		webtest.Do(t, ctx, chromedp.EmulateViewport(1280, 900))
	}
	webtest.Do(t, ctx, chromedp.EmulateViewport(1280, 900), chromedp.Navigate(rs.srv.URL()+"/roadmap"), chromedp.WaitVisible(chromedp.ID("rm-login-discord")))
	if got := webtest.Run(t, ctx, chromedp.Text(chromedp.ID("votes-2"))); got != "1" {
		t.Fatalf("#2 shows %q votes before, want 1", got)
	}
	if n := webtest.Run(t, ctx, chromedp.Evaluate[int](`document.querySelectorAll("form.rm-vote").length`)); n != 0 {
		t.Errorf("%d vote forms before signing in", n)
	}
	check("roadmap-public")

	webtest.Do(t, ctx, chromedp.Click(chromedp.ID("rm-login-discord")))
	webtest.WaitFor(t, ctx, `location.pathname === "/roadmap" && document.getElementById("rm-signed-in") !== null`)
	webtest.Do(t, ctx, chromedp.Click(chromedp.ID("vote-2")))
	webtest.WaitFor(t, ctx, `location.search === "?voted=2" && document.getElementById("votes-2").textContent === "2"`)
	if mine := webtest.Run(t, ctx, chromedp.Evaluate[bool](`document.getElementById("mine-2") !== null && document.getElementById("vote-2") === null`)); !mine {
		t.Error("after voting, #2 still offers a vote button")
	}
	check("roadmap-signed-in")
	// The same form posted again (as a second click on a stale page would):
	// the vote is not counted twice.
	again := webtest.Run(t, ctx, chromedp.Evaluate[string](`(async () => {
		const token = document.querySelector('input[name="token"]').value;
		const r = await fetch("/roadmap/2/vote", {method: "POST", body: new URLSearchParams({token})});
		return new URL(r.url).search;
	})()`, chromedp.EvalAwaitPromise))
	if again != "?already=2" {
		t.Errorf("second vote led to %q, want ?already=2", again)
	}
	webtest.Do(t, ctx, chromedp.Navigate(rs.srv.URL()+"/roadmap"), chromedp.WaitVisible(chromedp.ID("votes-2")))
	if got := webtest.Run(t, ctx, chromedp.Text(chromedp.ID("votes-2"))); got != "2" {
		t.Errorf("#2 shows %q votes after voting twice, want 2", got)
	}
	if n := len(rs.votes(t, 2)); n != 2 {
		t.Errorf("#2 has %d stored votes, want 2", n)
	}

	// German through the switch, back on the roadmap.
	webtest.Do(t, ctx, chromedp.Click(chromedp.ID("lang-de")))
	webtest.WaitFor(t, ctx, `location.pathname === "/roadmap" && document.documentElement.lang === "de"`)
	if h := webtest.Run(t, ctx, chromedp.Text(chromedp.CSS("main h1"))); h != "Woran wir arbeiten" {
		t.Errorf("German heading = %q", h)
	}
	if h := webtest.Run(t, ctx, chromedp.Text(chromedp.ID("h-planned"))); !strings.HasPrefix(h, "Geplant") {
		t.Errorf("German column = %q", h)
	}
	check("roadmap-de")
}

// Staff put an item on the roadmap from its dashboard page: the checkbox
// and the public description, and the roadmap shows it at once — with the
// description, never the member's message.
func TestBrowserRoadmapStaffPublishes(t *testing.T) {
	rs := startRoadmap(t, "")
	ctx := webtest.Browser(t)
	loginAs(t, ctx, rs.srv.URL())
	webtest.Do(t, ctx, chromedp.Navigate(rs.srv.URL()+"/dashboard/inbox/3"), chromedp.WaitVisible(chromedp.ID("public-form")))
	if state := webtest.Run(t, ctx, chromedp.Text(chromedp.ID("public-state"))); state != "(not on the roadmap)" {
		t.Errorf("#3 before: %q", state)
	}
	webtest.Do(t, ctx, chromedp.Click(chromedp.ID("public-on")), chromedp.SendKeys(chromedp.ID("public-text"), "Reports you can share."),
		chromedp.Click(chromedp.ID("public-submit")))
	webtest.WaitFor(t, ctx, `location.pathname === "/dashboard/inbox/3" && document.getElementById("public-state").textContent === "(on the roadmap)"`)
	webtest.Do(t, ctx, chromedp.Navigate(rs.srv.URL()+"/roadmap"), chromedp.WaitVisible(chromedp.ID("item-3")))
	text := webtest.Run(t, ctx, chromedp.Text(chromedp.ID("col-in_progress")))
	if !strings.Contains(text, "Secret internal item") || !strings.Contains(text, "Reports you can share.") || strings.Contains(text, memberText) {
		t.Errorf("in progress column = %q", text)
	}
}
