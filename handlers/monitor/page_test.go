package monitor_test

import (
	"context"
	"fmt"
	"log/slog"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"github.com/einsatz/einsatz/adapters/web"
	"github.com/einsatz/einsatz/adapters/web/webtest"
	"github.com/einsatz/einsatz/bot"
	"github.com/einsatz/einsatz/bot/bottest"
	"github.com/einsatz/einsatz/bot/mood/moodtest"
	"github.com/einsatz/einsatz/handlers/monitor"
)

// The sentiment page in headless Chromium: it loads, each channel's chart
// has one point per day with data, and the channel filter narrows it.
func TestBrowserSentimentPage(t *testing.T) {
	s := memStore(t) // the site's logins
	sent := moodtest.NewMem()
	now := time.Date(2026, 11, 26, 15, 0, 0, 0, time.UTC)
	clock := bottest.NewClock(now)
	m := monitor.New(monitor.Options{Analyze: fakeAnalyze, Store: sent, Clock: clock, Logger: slog.New(slog.DiscardHandler)})
	ctx := context.Background()
	// general: messages on 3 days; random: on 2 days, with one awful thread.
	for d, count := range map[int]int{0: 4, 2: 3, 5: 2} {
		for i := range count {
			m.Observe(ctx, msg(fmt.Sprintf("g%d-%d", d, i), "general", "good", now.AddDate(0, 0, -d).Add(-time.Duration(i)*time.Minute)))
		}
	}
	m.Observe(ctx, msg("r1", "random", "bad", now.Add(-time.Hour)))
	m.Observe(ctx, msg("r2", "random", "awful release", now.AddDate(0, 0, -1)))

	core := bot.New(bot.Options{Store: s, Logger: slog.New(slog.DiscardHandler)})
	site, err := web.New(web.Options{Addr: "127.0.0.1:0", Store: s, Core: core, Logger: slog.New(slog.DiscardHandler)})
	if err != nil {
		t.Fatal(err)
	}
	site.AddSentiment(sent, clock)
	runCtx, cancel := context.WithCancel(ctx)
	done := make(chan error, 1)
	go func() { done <- core.Run(runCtx, site) }()
	t.Cleanup(func() { cancel(); <-done })
	<-site.Ready()

	b := webtest.Browser(t)
	webtest.Do(t, b, chromedp.Navigate(site.LoginURL()), chromedp.WaitVisible(chromedp.CSS("main.dash")))
	webtest.Do(t, b, chromedp.Navigate(site.URL()+"/dashboard/sentiment"), chromedp.WaitVisible(chromedp.CSS("section.chart")))
	points := func() map[string]int {
		return webtest.Run(t, b, chromedp.Evaluate[map[string]int](`(() => {
			const out = {};
			document.querySelectorAll("section.chart").forEach(s => out[s.dataset.channel] = s.querySelectorAll("circle.point").length);
			return out;
		})()`))
	}
	got := points()
	if len(got) != 2 || got["discord/general"] != 3 || got["discord/random"] != 2 {
		t.Fatalf("points per chart = %v, want general 3, random 2", got)
	}
	worst := webtest.Run(t, b, chromedp.Text(chromedp.CSS("table.worst tr:nth-child(2)")))
	if want := "awful release"; !strings.Contains(worst, want) {
		t.Fatalf("most negative thread row = %q, want it to show %q", worst, want)
	}
	// The nav links the page.
	if href := webtest.Run(t, b, chromedp.Evaluate[string](`document.querySelector('nav a[aria-current]').getAttribute("href")`)); href != "/dashboard/sentiment" {
		t.Fatalf("current nav link = %q", href)
	}
	webtest.Do(t, b,
		chromedp.SetValue(chromedp.ID("channel"), "discord/random"),
		chromedp.Click(chromedp.CSS("form.filter button")),
	)
	webtest.WaitFor(t, b, `location.search.includes("channel=discord%2Frandom") && document.readyState === "complete"`)
	if got := points(); len(got) != 1 || got["discord/random"] != 2 {
		t.Fatalf("after filtering: %v, want only random with 2 points", got)
	}
}
