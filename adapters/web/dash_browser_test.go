package web_test

import (
	"context"
	"fmt"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/cdproto/cdp"
	"github.com/chromedp/cdproto/network"
	"github.com/chromedp/chromedp"

	"github.com/einsatz/einsatz/adapters/web"
	"github.com/einsatz/einsatz/adapters/web/webtest"
	"github.com/einsatz/einsatz/bot"
	"github.com/einsatz/einsatz/bot/escalation"
	"github.com/einsatz/einsatz/bot/kb"
	"github.com/einsatz/einsatz/bot/mood"
	"github.com/einsatz/einsatz/bot/qa"
	"github.com/einsatz/einsatz/bot/request"
	"github.com/einsatz/einsatz/handlers/handoff"
	"github.com/einsatz/einsatz/handlers/inbox"
	"github.com/einsatz/einsatz/handlers/support"
	"github.com/einsatz/einsatz/storage"
)

// seedDashboard writes what the overview, sentiment and gaps pages show,
// relative to now: 2 unclaimed escalations (one past its SLA) and 1
// claimed, 3 inbox items, questions over two weeks, sentiment in two
// channels with an alert, and names for the ids.
func seedDashboard(t *testing.T, store *storage.Store, now time.Time) {
	t.Helper()
	ctx := context.Background()
	names := storage.NewNames(store)
	put := func(kind, platform, id, name string) {
		if err := names.Put(ctx, kind, platform, id, name, now); err != nil {
			t.Fatal(err)
		}
	}
	put(storage.NameChannel, "discord", "1579507966949588995", "help")
	put(storage.NameChannel, "discord", "1579507966949588996", "general")
	put(storage.NameUser, "discord", "42", "Anna")

	ho := storage.NewHandoff(store)
	for i, e := range []escalation.Escalation{
		{Thread: bot.ThreadRef{Platform: "discord", ChannelID: "1579507966949588995", ThreadID: "900001"}, User: bot.User{Platform: "discord", ID: "42", Name: "Anna"},
			Reason: "asked", Summary: "Wants to know how to migrate from 1.x", Created: now.Add(-2 * time.Hour), Status: escalation.StatusOpen, Permalink: "https://discord.com/channels/g/1579507966949588995/900001"},
		{Thread: bot.ThreadRef{Platform: "web", ChannelID: "web", ThreadID: "v7"}, User: bot.User{Platform: "web", ID: "v7"},
			Reason: "dont_know", Summary: "Billing question", Created: now.Add(-10 * time.Minute), Status: escalation.StatusOpen},
		{Thread: bot.ThreadRef{Platform: "discord", ChannelID: "1579507966949588996", ThreadID: "900002"}, User: bot.User{Platform: "discord", ID: "43", Name: "Ben"},
			Reason: "asked", Created: now.Add(-3 * time.Hour), Status: escalation.StatusClaimed, ClaimedBy: "admin"},
	} {
		if ok, err := ho.OpenEscalation(ctx, e); err != nil || !ok {
			t.Fatalf("escalation %d: %v %v", i, ok, err)
		}
	}
	ib := storage.NewInbox(store)
	for i, title := range []string{"Dark mode", "Export to CSV", "Matrix bridge"} {
		at := now.Add(-time.Duration(i+1) * time.Hour)
		if i == 2 {
			at = now.AddDate(0, 0, -20) // old: not new
		}
		m := request.Mention{Platform: "discord", Channel: "1579507966949588996", MessageID: fmt.Sprint("m", i), UserID: "42", Text: title, Time: at, Source: request.SourceDetected}
		if _, _, err := ib.Create(ctx, request.Item{Title: title, Status: "new", Created: at, Updated: at}, m, request.Vote{Platform: "discord", UserID: "42", Time: at}); err != nil {
			t.Fatal(err)
		}
	}
	sup := storage.NewSupport(store)
	help := bot.ThreadRef{Platform: "discord", ChannelID: "1579507966949588995"}
	q := func(ago time.Duration, thread, user, text, outcome, reading string, helpful *bool) {
		th := help
		th.ThreadID = thread
		id, err := sup.AddQuestion(ctx, qa.Question{Time: now.Add(-ago), Thread: th, UserID: user, Lang: "en", Text: text, Outcome: outcome, Reading: reading,
			Permalink: "https://discord.com/channels/g/" + th.ChannelID + "/" + thread})
		if err != nil {
			t.Fatal(err)
		}
		if helpful != nil {
			if err := sup.PutVote(ctx, qa.Vote{QuestionID: id, Platform: "discord", UserID: user, Helpful: *helpful, Time: now.Add(-ago)}); err != nil {
				t.Fatal(err)
			}
		}
	}
	yes, no := true, false
	// This week: 4 questions, 2 answered (one rated helpful, one not), 2 "I don't know" (today).
	q(time.Minute, "t1", "42", "How do I reset my password?", qa.OutcomeDontKnow, "question", nil)
	q(2*time.Minute, "t2", "44", "I forgot my password, how can I reset it?", qa.OutcomeDontKnow, "question", nil)
	q(26*time.Hour, "t3", "45", "How do I install it?", qa.OutcomeAnswered, "question", &yes)
	q(27*time.Hour, "t4", "46", "Can I export as CSV?", qa.OutcomeAnswered, "question", &no)
	// A thanks the bot logged before readings were kept: no question, no gap.
	q(3*time.Minute, "t5", "47", "Thanks a lot, great bot", qa.OutcomeDontKnow, "", nil)
	// Last week: 2 questions, both answered and rated helpful.
	q(8*24*time.Hour, "t6", "48", "Where is the config?", qa.OutcomeAnswered, "question", &yes)
	q(9*24*time.Hour, "t7", "49", "Which port does it use?", qa.OutcomeAnswered, "question", &yes)

	sent := storage.NewSentiment(store)
	for i, r := range []struct {
		ch    string
		label string
		ago   time.Duration
	}{{"1579507966949588995", mood.Positive, time.Hour}, {"1579507966949588995", mood.Negative, 2 * time.Hour}, {"1579507966949588995", mood.Neutral, 50 * time.Hour},
		{"1579507966949588996", mood.Negative, 3 * time.Hour}, {"1579507966949588996", mood.Negative, 4 * time.Hour}, {"1579507966949588996", mood.Positive, 6 * 24 * time.Hour}} {
		row := mood.Row{Platform: "discord", Channel: r.ch, Thread: fmt.Sprint("s", i), User: "42", MessageID: fmt.Sprint("sm", i), Time: now.Add(-r.ago), Label: r.label,
			Permalink: fmt.Sprintf("https://discord.com/channels/g/%s/sm%d", r.ch, i)}
		if r.label == mood.Negative {
			row.Excerpt = "this is broken again " + fmt.Sprint(i)
		}
		if err := sent.Log(ctx, row, "42"); err != nil {
			t.Fatal(err)
		}
	}
	if err := sent.SetLastAlert(ctx, mood.Channel{Platform: "discord", ID: "1579507966949588996"}, now.Add(-3*time.Hour)); err != nil {
		t.Fatal(err)
	}
}

type kbAdds struct{ docs []string }

func (k *kbAdds) Add(_ context.Context, name, title, _, text string) (kb.Doc, error) {
	k.docs = append(k.docs, title+"|"+text)
	return kb.Doc{Source: name}, nil
}

// startDashboard runs the site over the data directory with the overview,
// sentiment and gaps pages wired as FromConfig does.
func startSeededDashboard(t *testing.T, dir string, kbs *kbAdds) (*web.Server, func()) {
	t.Helper()
	store, err := storage.Open(storage.Options{Path: dir, Logger: discard()})
	if err != nil {
		t.Fatal(err)
	}
	core := bot.New(bot.Options{Store: store, Logger: discard()})
	desk := handoff.New(handoff.Options{Store: storage.NewHandoff(store), Owners: store, History: store, Logger: discard(), SLA: time.Hour,
		Text: func(_, k string) string { return k }})
	in := inbox.New(inbox.Options{Store: storage.NewInbox(store), Logger: discard()})
	srv, err := web.New(web.Options{Addr: "127.0.0.1:0", Store: store, Core: core, Logger: discard(),
		Accounts: []web.Account{{Name: "lead", Role: "admin", Token: "lead-token-123456"}}})
	if err != nil {
		t.Fatal(err)
	}
	srv.AddHandoff(desk, nil)
	srv.AddInbox(in)
	srv.AddSupport(storage.NewSupport(store), support.Settings{})
	srv.AddSentiment(storage.NewSentiment(store), nil)
	srv.SetOverview(web.OverviewSources{Desk: desk, Inbox: in, Questions: storage.NewSupport(store), Mood: storage.NewSentiment(store),
		Names: storage.NewNames(store), Knowledge: kbs})
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- core.Run(ctx, srv) }()
	<-srv.Ready()
	stopped := false
	stop := func() {
		if !stopped {
			stopped = true
			cancel()
			<-done
			store.Close()
		}
	}
	t.Cleanup(stop)
	return srv, stop
}

// overviewNumbers reads the overview's numbers off the page.
const overviewNumbers = `(() => {
	const out = {};
	for (const id of ["ov-unclaimed", "ov-overdue", "ov-claimed", "ov-new-items", "ov-unanswered-n", "ov-answer-rate", "ov-answer-trend", "ov-resolved-rate", "ov-resolved-trend", "ov-alerts-n"]) {
		const el = document.getElementById(id); out[id] = el ? el.textContent.trim() : "";
	}
	return out;
})()`

// noWiderThanViewport lists the elements wider than the window (nothing
// may scroll sideways).
const noWiderThanViewport = `(() => {
	const w = document.documentElement.clientWidth, out = [];
	if (document.documentElement.scrollWidth > w) out.push("page " + document.documentElement.scrollWidth);
	for (const el of document.querySelectorAll("body *")) {
		const r = el.getBoundingClientRect();
		if (r.right > w + 1 && r.width > 0) out.push(el.tagName + "." + el.className + " " + Math.round(r.right));
	}
	return out.slice(0, 10);
})()`

func loginAs(t *testing.T, ctx context.Context, base string) {
	t.Helper()
	webtest.Do(t, ctx, chromedp.Navigate(base+"/login"), chromedp.WaitVisible(chromedp.CSS("main.login")),
		chromedp.SendKeys(chromedp.CSS(`input[name="name"]`), "lead"), chromedp.SendKeys(chromedp.CSS(`input[name="secret"]`), "lead-token-123456"),
		chromedp.Click(chromedp.CSS("main.login button")), chromedp.WaitVisible(chromedp.CSS("main.dash")))
}

func checkWidths(t *testing.T, ctx context.Context, page string) {
	t.Helper()
	for _, width := range []int64{1280, 390} {
		webtest.Do(t, ctx, chromedp.EmulateViewport(width, 900))
		if wide := webtest.Run(t, ctx, chromedp.Evaluate[[]string](noWiderThanViewport)); len(wide) > 0 {
			t.Errorf("%s at %d px: wider than the window: %v", page, width, wide)
		}
		shoot(t, ctx, "dash1-"+page, width)
	}
	webtest.Do(t, ctx, chromedp.EmulateViewport(1280, 900))
}

// The overview shows what needs doing from stored data: the same numbers
// after a restart on the same data directory; the sentiment and gaps pages
// fit the window at 1280 and 390 px; a click on a chart column lists its
// messages; an answer written on the gaps page becomes a knowledge entry.
func TestBrowserDashboardOverviewSentimentGaps(t *testing.T) {
	dir := t.TempDir()
	now := time.Now()
	func() {
		store, err := storage.Open(storage.Options{Path: dir, Logger: discard()})
		if err != nil {
			t.Fatal(err)
		}
		defer store.Close()
		seedDashboard(t, store, now)
	}()
	want := map[string]string{"ov-unclaimed": "2", "ov-overdue": "1", "ov-claimed": "1", "ov-new-items": "2", "ov-unanswered-n": "2",
		"ov-answer-rate": "50 %", "ov-answer-trend": "▼ -50 points", "ov-resolved-rate": "50 %", "ov-resolved-trend": "▼ -50 points", "ov-alerts-n": "1"}

	kbs := &kbAdds{}
	first, stop := startSeededDashboard(t, dir, kbs)
	ctx := webtest.Browser(t)
	loginAs(t, ctx, first.URL())
	before := webtest.Run(t, ctx, chromedp.Evaluate[map[string]string](overviewNumbers))
	if fmt.Sprint(before) != fmt.Sprint(want) {
		t.Fatalf("overview numbers = %v\nwant %v", before, want)
	}
	stop()

	second, _ := startSeededDashboard(t, dir, kbs)
	ctx = webtest.Browser(t)
	loginAs(t, ctx, second.URL())
	after := webtest.Run(t, ctx, chromedp.Evaluate[map[string]string](overviewNumbers))
	if fmt.Sprint(after) != fmt.Sprint(before) {
		t.Fatalf("after a restart the overview shows %v, before %v", after, before)
	}
	text := webtest.Run(t, ctx, chromedp.Text(chromedp.CSS("main.dash")))
	for _, name := range []string{"#help (Discord)", "Anna", "Web chat (Web)", "Dark mode"} {
		if !strings.Contains(text, name) {
			t.Errorf("overview lacks %q", name)
		}
	}
	if strings.Contains(text, "1579507966949588995") {
		t.Errorf("overview shows a raw channel id:\n%s", text)
	}
	links := webtest.Run(t, ctx, chromedp.Evaluate[[]string](`[...document.querySelectorAll("#ov-escalations li a, #ov-unanswered li a")].map(a => a.getAttribute("href"))`))
	if len(links) != 4 || !strings.HasPrefix(links[0], "/dashboard/escalations/") || !strings.HasPrefix(links[2], "https://discord.com/channels/") {
		t.Errorf("overview links = %v, want the desk for escalations and the permalinks for questions", links)
	}
	checkWidths(t, ctx, "overview")

	webtest.Do(t, ctx, chromedp.Navigate(second.URL()+"/dashboard/sentiment?by=hour&days=3"), chromedp.WaitVisible(chromedp.CSS("section.chart")))
	charts := webtest.Run(t, ctx, chromedp.Evaluate[map[string]int](`(() => { const o = {}; document.querySelectorAll("section.chart").forEach(s => o[s.dataset.channel] = s.querySelectorAll("a.slot").length); return o; })()`))
	if charts["discord/1579507966949588995"] != 3 || charts["discord/1579507966949588996"] != 2 {
		t.Errorf("hour columns per channel = %v, want 3 and 2", charts)
	}
	if ticks := webtest.Run(t, ctx, chromedp.Evaluate[[]string](`[...document.querySelector("section.chart svg .axis").querySelectorAll("text")].map(t => t.textContent)`)); !tickLabelsRead(ticks) {
		t.Errorf("axis labels = %v, want hours and dates", ticks)
	}
	checkWidths(t, ctx, "sentiment")
	webtest.Do(t, ctx, chromedp.Navigate(second.URL()+"/dashboard/sentiment?by=day"), chromedp.WaitVisible(chromedp.CSS("table.compare")))
	shoot(t, ctx, "dash1-sentiment-days", 1280)
	webtest.Do(t, ctx, chromedp.Navigate(second.URL()+"/dashboard/sentiment?by=week"), chromedp.WaitVisible(chromedp.CSS("section.chart")))
	shoot(t, ctx, "dash1-sentiment-weeks", 1280)
	// A click on general's column lists its messages with the quote.
	webtest.Do(t, ctx, chromedp.Navigate(second.URL()+"/dashboard/sentiment?by=day&channel=discord%2F1579507966949588996"), chromedp.WaitVisible(chromedp.CSS("a.slot")))
	href := webtest.Run(t, ctx, chromedp.Evaluate[string](`[...document.querySelectorAll("a.slot")].pop().getAttribute("href")`))
	webtest.Do(t, ctx, chromedp.Navigate(second.URL()+href), chromedp.WaitVisible(chromedp.ID("messages")))
	msgs := webtest.Run(t, ctx, chromedp.Text(chromedp.ID("messages")))
	if !strings.Contains(msgs, "this is broken again") || !strings.Contains(msgs, "Anna") {
		t.Errorf("messages of the column = %q", msgs)
	}
	checkWidths(t, ctx, "sentiment-messages")

	webtest.Do(t, ctx, chromedp.Navigate(second.URL()+"/dashboard/gaps?since=7d"), chromedp.WaitVisible(chromedp.CSS("table.gaps")))
	gaps := webtest.Run(t, ctx, chromedp.Evaluate[[]string](`[...document.querySelectorAll("tr.gap")].map(r => r.dataset.count + " " + r.querySelector(".example").textContent + " " + r.querySelectorAll("td.threads a").length)`))
	if strings.Join(gaps, "|") != "2 I forgot my password, how can I reset it? 2|1 Can I export as CSV? 1" {
		t.Errorf("gaps = %q, want the password group with its 2 threads and the badly rated answer; no thanks", gaps)
	}
	checkWidths(t, ctx, "gaps")
	webtest.Do(t, ctx, chromedp.Click(chromedp.CSS("tr.gap details.answer summary")),
		chromedp.SendKeys(chromedp.CSS(`tr.gap details.answer textarea`), "Use Settings → Account → Reset password."),
		chromedp.Click(chromedp.CSS("tr.gap details.answer button")), chromedp.WaitVisible(chromedp.ID("gap-saved")))
	if len(kbs.docs) != 1 || kbs.docs[0] != "I forgot my password, how can I reset it?|## I forgot my password, how can I reset it?\n\nUse Settings → Account → Reset password.\n" {
		t.Errorf("knowledge entries = %q", kbs.docs)
	}

	// German by the browser's language.
	webtest.Do(t, ctx, chromedp.Func(func(ctx context.Context, tg *chromedp.Target) error {
		_, err := cdp.Call(ctx, tg, network.SetExtraHTTPHeaders, network.SetExtraHTTPHeadersParams{Headers: network.Headers{"Accept-Language": "de-DE,de;q=0.9"}})
		return err
	}),
		chromedp.Navigate(second.URL()+"/dashboard"), chromedp.WaitVisible(chromedp.CSS("main.dash")))
	if h := webtest.Run(t, ctx, chromedp.Text(chromedp.CSS("main.dash h1"))); h != "Übersicht" {
		t.Errorf("German overview heading = %q", h)
	}
	shoot(t, ctx, "dash1-overview-de", 390)
}

var hourOrDate = regexp.MustCompile(`^(\d\d:00|[A-Z][a-z]{2} \d{1,2}|\d+%|\d+)$`)

func tickLabelsRead(labels []string) bool {
	hours, dates := 0, 0
	for _, l := range labels {
		if !hourOrDate.MatchString(l) {
			return false
		}
		if strings.HasSuffix(l, ":00") {
			hours++
		} else if strings.Contains(l, " ") {
			dates++
		}
	}
	return hours >= 3 && dates >= 1
}
