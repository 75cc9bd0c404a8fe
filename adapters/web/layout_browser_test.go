package web_test

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"github.com/einsatz/einsatz/adapters/web"
	"github.com/einsatz/einsatz/adapters/web/webtest"
	"github.com/einsatz/einsatz/bot"
	"github.com/einsatz/einsatz/bot/escalation"
	"github.com/einsatz/einsatz/bot/qa"
	"github.com/einsatz/einsatz/bot/qa/qatest"
	"github.com/einsatz/einsatz/bot/request"
	"github.com/einsatz/einsatz/bot/solved"
	"github.com/einsatz/einsatz/handlers/handoff"
	"github.com/einsatz/einsatz/handlers/inbox"
	"github.com/einsatz/einsatz/handlers/knowledge"
	"github.com/einsatz/einsatz/handlers/solutions"
	"github.com/einsatz/einsatz/handlers/support"
	"github.com/einsatz/einsatz/storage"
)

// fakeInbox serves seeded items to the inbox pages; the pages' actions
// are tested with the real service in handlers/inbox.
type fakeInbox struct {
	items []request.Item
	now   time.Time
}

func (f *fakeInbox) Overview(_ context.Context, fl inbox.Filter) (inbox.Overview, error) {
	ov := inbox.Overview{Platforms: []string{"discord", "slack"}, Now: f.now, Tags: []string{"accessibility", "api", "dashboard", "ui"}}
	for _, it := range f.items {
		if it.Status == request.StatusMaybe {
			ov.Maybe++
		}
		switch {
		case !fakeMatch(it, fl.Q):
		case it.Status == request.StatusMaybe:
			if fl.Status == request.StatusMaybe {
				ov.Items = append(ov.Items, it)
			}
		case fl.Status != request.StatusMaybe:
			ov.Items = append(ov.Items, it)
		}
	}
	return ov, nil
}
func (f *fakeInbox) List(_ context.Context, fl inbox.Filter) ([]request.Item, error) {
	var out []request.Item
	for _, it := range f.items {
		if fakeMatch(it, fl.Q) {
			out = append(out, it)
		}
	}
	return out, nil
}

// fakeMatch is a stand-in for the inbox's search (tested in
// handlers/inbox): every word of q in the title or a mention.
func fakeMatch(it request.Item, q string) bool {
	text := strings.ToLower(it.Title)
	for _, m := range it.Mentions {
		text += " " + strings.ToLower(m.Text)
	}
	for _, w := range strings.Fields(strings.ToLower(q)) {
		if !strings.Contains(text, w) {
			return false
		}
	}
	return true
}
func (f *fakeInbox) Get(_ context.Context, id int) (request.Item, error) {
	for _, it := range f.items {
		if it.ID == id {
			return it, nil
		}
	}
	return request.Item{}, request.ErrNotFound
}
func (f *fakeInbox) SetStatus(context.Context, int, string, string, string) (request.Item, error) {
	return request.Item{}, request.ErrNotFound
}
func (f *fakeInbox) SetTags(context.Context, int, []string) (request.Item, error) {
	return request.Item{}, request.ErrNotFound
}
func (f *fakeInbox) EditTags(context.Context, int, []string, []string) (request.Item, error) {
	return request.Item{}, request.ErrNotFound
}

// Similar suggests every other open item, with made-up scores falling
// from 0.9: the layout test needs rows, the scores are tested in
// handlers/inbox.
func (f *fakeInbox) Similar(_ context.Context, id, _ int) ([]inbox.Suggestion, error) {
	var out []inbox.Suggestion
	for _, it := range f.items {
		if it.ID != id && inbox.Open(it.Status) {
			out = append(out, inbox.Suggestion{ID: it.ID, Title: it.Title, Status: it.Status, Votes: it.VoteCount, Mentions: len(it.Mentions),
				Score: 0.9 - 0.2*float64(len(out))})
		}
	}
	return out, nil
}
func (f *fakeInbox) Unmerge(context.Context, int, string) (request.Item, error) {
	return request.Item{}, request.ErrNotFound
}
func (f *fakeInbox) Merge(context.Context, int, int, string) (request.Item, error) {
	return request.Item{}, request.ErrNotFound
}
func (f *fakeInbox) MarkNotRequest(context.Context, int, string) (request.Item, error) {
	return request.Item{}, request.ErrNotFound
}
func (f *fakeInbox) RestoreRequest(context.Context, int, string) (request.Item, error) {
	return request.Item{}, request.ErrNotFound
}
func (f *fakeInbox) ConfirmMaybe(context.Context, int, string) (request.Item, error) {
	return request.Item{}, request.ErrNotFound
}
func (f *fakeInbox) Edit(context.Context, int, inbox.EditRequest, string) (request.Item, error) {
	return request.Item{}, request.ErrNotFound
}
func (f *fakeInbox) Now() time.Time { return f.now }

// seededInbox has what makes a page wide: long titles and messages, long
// ids without spaces, several platforms, tags, a history and votes.
func seededInbox(now time.Time) *fakeInbox {
	mention := func(platform, channel, user, text string, at time.Time) request.Mention {
		return request.Mention{Platform: platform, Channel: channel, Thread: "1579507966949588995", MessageID: "m", UserID: user,
			UserName: user, Text: text, Time: at, Sentiment: -0.25, Source: "message", Permalink: "https://chat.example/" + platform + "/1579507966949588995"}
	}
	return &fakeInbox{now: now, items: []request.Item{
		{ID: 1, Title: "Please add a dark mode to the dashboard and to the web chat widget, it hurts my eyes at night", Status: request.StatusPlanned,
			Summary: "A dark theme for the dashboard and the widget.", Public: true,
			PublicText: "A dark theme for the dashboard and the chat widget, following the system setting: https://example.com/a/very/long/link/that/does/not/break/anywhere/at/all/1234567890", Tags: []string{"ui", "accessibility", "dashboard"},
			Created: now.Add(-72 * time.Hour), Updated: now.Add(-2 * time.Hour), VoteCount: 3,
			Mentions: []request.Mention{
				mention("discord", "1579507966949588995", "alice", "Please add a dark mode to the dashboard and to the web chat widget, it hurts my eyes at night", now.Add(-72*time.Hour)),
				mention("slack", "C0123456789ABCDEFGHIJ", "bob", "+1 for dark mode: https://example.com/a/very/long/link/that/does/not/break/anywhere/at/all/1234567890", now.Add(-30*time.Hour)),
			},
			Changes: []request.Change{{From: request.StatusNew, To: request.StatusPlanned, Note: "Coming in March – thanks, everyone!", By: "admin", Time: now.Add(-2 * time.Hour), Posted: 2}},
			Votes: []request.Vote{{Platform: "discord", UserID: "alice", Name: "alice", Time: now.Add(-72 * time.Hour)},
				{Platform: "slack", UserID: "U0123456789", Time: now.Add(-30 * time.Hour)}, {Platform: "web", UserID: "web-visitor-7f3a9c", Time: now.Add(-3 * time.Hour)}}},
		{ID: 2, Title: "Webhooks for new inbox items", Status: request.StatusNew, Public: true, Tags: []string{"api"}, Created: now.Add(-24 * time.Hour), Updated: now.Add(-24 * time.Hour), VoteCount: 1,
			Mentions: []request.Mention{mention("slack", "C0123456789ABCDEFGHIJ", "carol", "Could you send a webhook when a new item comes in?", now.Add(-24*time.Hour))}},
		{ID: 3, Title: "Export the inbox as a spreadsheet", Status: request.StatusInProgress, Public: true, Created: now.Add(-48 * time.Hour), Updated: now.Add(-5 * time.Hour), VoteCount: 2, DuplicateOf: 0,
			Mentions: []request.Mention{mention("discord", "general", "dave", "An export to a spreadsheet would help our PM a lot", now.Add(-48*time.Hour))}},
		{ID: 5, Title: "Dark theme for the widget", Status: request.StatusDuplicate, DuplicateOf: 1, Created: now.Add(-50 * time.Hour), Updated: now.Add(-4 * time.Hour),
			Changes: []request.Change{{From: request.StatusNew, To: request.StatusDuplicate, Note: "merged into #1", By: "admin", Time: now.Add(-4 * time.Hour),
				Merge: &request.Merge{From: 5, Into: 1, Mentions: 1, Votes: 1}}}},
		{ID: 4, Title: "it would be nice if the bot could remember me", Status: request.StatusMaybe, Created: now.Add(-time.Hour), Updated: now.Add(-time.Hour),
			Mentions: []request.Mention{mention("discord", "general", "erin", "it would be nice if the bot could remember me between conversations, like what version I run", now.Add(-time.Hour))}},
	}}
}

// startDashboard runs a core with every dashboard page on seeded data:
// the inbox, the support numbers, sentiment and the escalation desk with
// two escalations from the web chat.
func startDashboard(t *testing.T) *web.Server {
	t.Helper()
	store, err := storage.Open(storage.Options{InMemory: true, Logger: discard()})
	if err != nil {
		t.Fatal(err)
	}
	router := bot.NewRouter(bot.HandlerFunc(func(_ context.Context, ev *bot.Event) ([]bot.Reply, error) {
		return []bot.Reply{{Text: "answer to " + ev.Text, Sources: []bot.Source{{Title: "Install guide", URL: "https://docs.example/install"}}}}, nil
	}))
	core := bot.New(bot.Options{Store: store, Router: router, Logger: discard()})
	desk := handoff.New(handoff.Options{Store: storage.NewHandoff(store), Owners: store, History: store, Poster: core, Logger: discard(),
		SLA: 30 * time.Minute, Text: func(_, k string) string { return k }})
	for _, r := range desk.Routes() {
		router.Add(r)
	}
	core.Observe(desk)
	core.Reclaim(desk)
	srv, err := web.New(web.Options{Addr: "127.0.0.1:0", Store: store, Core: core, Logger: discard(),
		Accounts: []web.Account{{Name: "admin", Role: "admin", Token: dashToken}}})
	if err != nil {
		t.Fatal(err)
	}
	now := time.Now()
	seeded := seededInbox(now)
	srv.AddInbox(seeded)
	srv.AddRoadmap(seeded, web.RoadmapOptions{Providers: []web.OAuthProvider{
		web.DiscordProvider("1234", "secret", "http://127.0.0.1:9"), web.SlackProvider("5678.9", "secret", "", "http://127.0.0.1:9")}})
	questions := qatest.NewMem()
	for i, q := range []struct{ channel, text, outcome string }{
		{"help", "How do I reset my password?", qa.OutcomeDontKnow},
		{"help", "I forgot my password, how can I reset it?", qa.OutcomeDontKnow},
		{"help", "How do I install Einsatz?", qa.OutcomeAnswered},
		{"1579507966949588995", "Can I export my data as CSV?", qa.OutcomeAnswered},
		{"general", "Does it run on a Raspberry Pi?", qa.OutcomeAnswered},
	} {
		id, err := questions.AddQuestion(context.Background(), qa.Question{Time: now.Add(-time.Duration(i+1) * time.Hour),
			Thread: bot.ThreadRef{Platform: "discord", ChannelID: q.channel, ThreadID: fmt.Sprint(i)}, UserID: fmt.Sprint("u", i), Lang: "en", Text: q.text, Outcome: q.outcome})
		if err != nil {
			t.Fatal(err)
		}
		if i == 2 {
			_ = questions.PutVote(context.Background(), qa.Vote{QuestionID: id, Platform: "discord", UserID: "u2", Helpful: true, Time: now})
		}
	}
	srv.AddSupport(questions, support.Settings{})
	srv.AddSentiment(storage.NewSentiment(store), nil)
	srv.AddHandoff(desk, nil)
	// Names the platforms sent: the inbox pages show them instead of ids.
	names := storage.NewNames(store)
	for _, n := range []struct{ kind, platform, id, name string }{
		{storage.NameChannel, "slack", "C0123456789ABCDEFGHIJ", "product-feedback"},
		{storage.NameUser, "slack", "U0123456789", "Uma"},
	} {
		if err := names.Put(context.Background(), n.kind, n.platform, n.id, n.name, now); err != nil {
			t.Fatal(err)
		}
	}
	srv.SetOverview(web.OverviewSources{Desk: desk, Names: names})
	srv.AddKnowledgeSources(fakeSources{now: now})
	srv.AddCandidates(seededCandidates(t, store, now))
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- core.Run(ctx, srv) }()
	<-srv.Ready()
	t.Cleanup(func() { cancel(); <-done; store.Close() })
	for _, conv := range []string{"visitor-1", "visitor-2"} {
		postChat(t, srv.URL(), `{"conversation_id":"`+conv+`","message_id":"m1","text":"How do I install it on a server behind a proxy?"}`, nil)
		postChat(t, srv.URL(), `{"conversation_id":"`+conv+`","message_id":"m2","text":"I want to talk to a human"}`, nil)
	}
	list, err := desk.Queue(context.Background(), handoff.Filter{})
	if err != nil || len(list) != 2 {
		t.Fatalf("seeded escalations: %d, %v", len(list), err)
	}
	if _, err := desk.Act(context.Background(), list[0].ID, escalation.ActionClaim, "admin", ""); err != nil {
		t.Fatal(err)
	}
	return srv
}

const dashToken = "layout-test-token-0123456789"

// fakeSources are the Knowledge page's remote sources: long URLs and a
// long error, what makes the table wide.
type fakeSources struct{ now time.Time }

func (f fakeSources) Statuses(context.Context) ([]knowledge.SourceStatus, error) {
	return []knowledge.SourceStatus{
		{Type: "website", URL: "https://docs.example.com/en/latest/getting-started/installation/behind-a-corporate-proxy/index.html", Every: 24 * time.Hour,
			LastSync: f.now.Add(-3 * time.Hour), Next: f.now.Add(21 * time.Hour), Pages: 214, Errors: 2,
			LastError: "GET https://docs.example.com/en/latest/api/reference/v2/endpoints/inbox/merge.html: 404 Not Found after 3 attempts"},
		{Type: "git", URL: "https://github.com/einsatz/handbook.git", Every: time.Hour, Next: f.now.Add(time.Hour)},
	}, nil
}

func (fakeSources) SyncSources(context.Context, func(string, int, int)) ([]knowledge.SourceReport, error) {
	return nil, nil
}

// seededCandidates are the Solved page's threads: a long question and a
// short one.
func seededCandidates(t *testing.T, store *storage.Store, now time.Time) *solutions.Service {
	t.Helper()
	cands := storage.NewSolved(store)
	for i, c := range []solved.Candidate{
		{ID: "aaa111", Question: "How do I fix error E4711 in the nightly sync job, which fails every single night with a very long explanation of https://example.com/a/very/long/link/that/does/not/break/anywhere/at/all/1234567890?",
			Answer: "Create a new token under Settings → Tokens.", Permalink: "https://discord.com/channels/1/2/3", By: "asker"},
		{ID: "bbb222", Question: "Where are the logs?", Answer: "In /var/log/einsatz.", By: "staff"},
	} {
		c.Thread, c.Created, c.Status = bot.ThreadRef{Platform: "discord", ChannelID: "2", ThreadID: c.ID}, now.Add(time.Duration(i)*time.Minute), solved.StatusPending
		if err := cands.PutCandidate(context.Background(), c); err != nil {
			t.Fatal(err)
		}
	}
	return solutions.New(solutions.Options{Store: cands, Logger: discard(), AddKnowledge: func(context.Context, string, string, string, string) error { return nil }})
}

// logIn signs in through the login form, as staff would.
func logIn(t *testing.T, ctx context.Context, srv *web.Server) {
	t.Helper()
	webtest.Do(t, ctx, chromedp.Navigate(srv.URL()+"/login"), chromedp.WaitVisible(chromedp.CSS("main.login")),
		chromedp.SendKeys(chromedp.CSS(`input[name="name"]`), "admin"), chromedp.SendKeys(chromedp.CSS(`input[name="secret"]`), dashToken),
		chromedp.Click(chromedp.CSS(`main.login button`)), chromedp.WaitVisible(chromedp.CSS("main.dash")))
}

type dashPage struct{ name, path string }

// Every dashboard page at a laptop's and a phone's width: nothing reaches
// beyond the viewport, and axe-core finds no serious or critical WCAG 2.1
// A/AA violation. With SHOTS_DIR set each page is also saved as a PNG.
func TestBrowserDashboardLayoutAndAccessibility(t *testing.T) {
	srv := startDashboard(t)
	ctx := webtest.Browser(t)
	webtest.Do(t, ctx, chromedp.EmulateViewport(1280, 900), chromedp.Navigate(srv.URL()+"/login"), chromedp.WaitVisible(chromedp.CSS("main.login")))
	check := func(p dashPage, width int64) {
		t.Helper()
		webtest.Do(t, ctx, chromedp.EmulateViewport(width, 900), chromedp.Navigate(srv.URL()+p.path), chromedp.WaitVisible(chromedp.CSS("main")))
		report := t.Errorf
		if over := webtest.Overflow(t, ctx); len(over) > 0 {
			report("%s at %d px: wider than the viewport: %s", p.name, width, strings.Join(over, "; "))
		}
		// Rows of data stay on screen when a table becomes cards.
		if n := webtest.Run(t, ctx, chromedp.Evaluate[int](`[...document.querySelectorAll("main tr")].filter(tr => !tr.querySelector("th") && tr.offsetHeight === 0).length`)); n > 0 {
			report("%s at %d px: %d rows of data hidden", p.name, width, n)
		}
		axe := webtest.Axe(t, ctx)
		t.Logf("axe %-18s %4d px: %s", p.name, width, axe.Summary())
		for _, v := range axe.Serious() {
			report("%s at %d px: axe %s (%s): %s on %v", p.name, width, v.ID, v.Impact, v.Help, v.Nodes)
		}
		shoot(t, ctx, p.name, width)
	}
	for _, width := range []int64{1280, 390} {
		check(dashPage{"login", "/login"}, width)
	}
	webtest.Do(t, ctx, chromedp.EmulateViewport(1280, 900))
	logIn(t, ctx, srv)
	list := webtest.Run(t, ctx, chromedp.Evaluate[[]string](`fetch("/dashboard/escalations").then(r => r.text()).then(t => [...new DOMParser().parseFromString(t, "text/html").querySelectorAll("a.desk-link")].map(a => a.getAttribute("href")))`, chromedp.EvalAwaitPromise))
	if len(list) == 0 {
		t.Fatal("no escalation on the desk")
	}
	pages := []dashPage{
		{"overview", "/dashboard"},
		{"inbox", "/dashboard/inbox"},
		{"inbox-maybe", "/dashboard/inbox?status=maybe&sort=newest"},
		{"inbox-item", "/dashboard/inbox/1"},
		{"inbox-duplicate", "/dashboard/inbox/5"},
		{"inbox-search", "/dashboard/inbox?q=dark+mode"},
		{"inbox-item-find", "/dashboard/inbox/1?find=webhook"},
		{"knowledge", "/dashboard/knowledge"},
		{"solved", web.SolvedPath},
		{"support", "/dashboard/support"},
		{"gaps", "/dashboard/gaps"},
		{"sentiment", "/dashboard/sentiment"},
		{"escalations", "/dashboard/escalations"},
		{"escalation", list[0]},
		{"roadmap", web.RoadmapPath},
	}
	for _, width := range []int64{1280, 390} {
		for _, p := range pages {
			check(p, width)
		}
	}
	// The item's mentions name their channels by the name cache.
	webtest.Do(t, ctx, chromedp.Navigate(srv.URL()+"/dashboard/inbox/1"), chromedp.WaitVisible(chromedp.ID("mentions")))
	where := webtest.Run(t, ctx, chromedp.Evaluate[[]string](`[...document.querySelectorAll("#mentions td.where")].map(td => td.textContent)`))
	if len(where) != 2 || where[0] != "1579507966949588995 (Discord)" || where[1] != "#product-feedback (Slack)" {
		t.Errorf("mentions' channels = %q, want the Discord id (no name cached) and #product-feedback (Slack)", where)
	}
}

// The dashboard speaks German to a browser that asks for it, and the
// switch overrides the browser's language both ways.
func TestBrowserDashboardGerman(t *testing.T) {
	srv := startDashboard(t)
	heading := func(ctx context.Context) string {
		return webtest.Run(t, ctx, chromedp.Text(chromedp.CSS("main h1")))
	}
	de := webtest.Browser(t)
	webtest.Do(t, de, webtest.AcceptLanguage("de-DE,de;q=0.9,en;q=0.5"), chromedp.Navigate(srv.URL()+"/login"), chromedp.WaitVisible(chromedp.CSS("main.login")))
	if h := heading(de); h != "Anmeldung für das Team" {
		t.Errorf("login page with Accept-Language de: %q", h)
	}
	logIn(t, de, srv)
	webtest.Do(t, de, chromedp.Navigate(srv.URL()+"/dashboard/inbox"), chromedp.WaitVisible(chromedp.ID("items")))
	for sel, want := range map[string]string{
		"main h1": "Anfragen", "#tab-maybe": "Vielleicht (1)", `nav.pages a[href="/dashboard"]`: "Übersicht",
		`#items tr[data-id="1"] .status`: "geplant", "#merge-submit": "Zusammenführen", ".logout button": "Abmelden",
	} {
		if got := webtest.Run(t, de, chromedp.Text(chromedp.CSS(sel))); got != want {
			t.Errorf("German inbox: %s = %q, want %q", sel, got, want)
		}
	}
	if lang := webtest.Run(t, de, chromedp.Evaluate[string](`document.documentElement.lang`)); lang != "de" {
		t.Errorf("html lang = %q", lang)
	}
	webtest.Do(t, de, chromedp.Navigate(srv.URL()+"/dashboard/support"), chromedp.WaitVisible(chromedp.CSS("table.support")))
	if th := webtest.Run(t, de, chromedp.Evaluate[string](`document.querySelector("table.support th").textContent`)); th != "Woche" {
		t.Errorf("German support report: first column %q", th)
	}
	webtest.Do(t, de, chromedp.Navigate(srv.URL()+"/dashboard/escalations"), chromedp.WaitVisible(chromedp.CSS("a.desk-link")))
	if h := heading(de); h != "Eskalationen" {
		t.Errorf("German desk: %q", h)
	}
	// The switch: English although the browser asks for German, kept
	// from page to page, and back to the page it was chosen on.
	webtest.Do(t, de, chromedp.Navigate(srv.URL()+"/dashboard/inbox/1"), chromedp.WaitVisible(chromedp.ID("lang-en")), chromedp.Click(chromedp.ID("lang-en")))
	webtest.WaitFor(t, de, `location.pathname === "/dashboard/inbox/1" && document.documentElement.lang === "en"`)
	if got := webtest.Run(t, de, chromedp.Text(chromedp.ID("edit-submit"))); got != "Save title and summary" {
		t.Errorf("after switching to English: %q", got)
	}
	webtest.Do(t, de, chromedp.Navigate(srv.URL()+"/dashboard/inbox"), chromedp.WaitVisible(chromedp.ID("items")))
	if h := heading(de); h != "Research inbox" {
		t.Errorf("next page after switching to English: %q", h)
	}

	en := webtest.Browser(t) // Chromium's default: English
	logIn(t, en, srv)
	webtest.Do(t, en, chromedp.Navigate(srv.URL()+"/dashboard/support"), chromedp.WaitVisible(chromedp.ID("lang-de")))
	if th := webtest.Run(t, en, chromedp.Evaluate[string](`document.querySelector("table.support th").textContent`)); th != "Week" {
		t.Errorf("English support report: first column %q", th)
	}
	webtest.Do(t, en, chromedp.Click(chromedp.ID("lang-de")))
	webtest.WaitFor(t, en, `location.pathname === "/dashboard/support" && document.documentElement.lang === "de"`)
	if th := webtest.Run(t, en, chromedp.Evaluate[string](`document.querySelector("table.support th").textContent`)); th != "Woche" {
		t.Errorf("after switching to German: first column %q", th)
	}
	if cur := webtest.Run(t, en, chromedp.Evaluate[string](`document.querySelector("nav.lang a[aria-current]").id`)); cur != "lang-de" {
		t.Errorf("current language link = %q", cur)
	}
}

// The keyboard reaches the content first through the skip link, and every
// control of the inbox page can be reached with Tab.
func TestBrowserDashboardKeyboard(t *testing.T) {
	srv := startDashboard(t)
	ctx := webtest.Browser(t)
	logIn(t, ctx, srv)
	webtest.Do(t, ctx, chromedp.Navigate(srv.URL()+"/dashboard/inbox"), chromedp.WaitVisible(chromedp.ID("items")),
		chromedp.KeyEvent("\t"))
	if got := webtest.Run(t, ctx, chromedp.Evaluate[string](`document.activeElement.className + " " + getComputedStyle(document.activeElement).top`)); !strings.HasPrefix(got, "skip ") || strings.HasPrefix(got, "skip -") {
		t.Fatalf("first Tab focuses %q, want the visible skip link", got)
	}
	webtest.Do(t, ctx, chromedp.KeyEvent("\r"))
	webtest.WaitFor(t, ctx, `location.hash === "#main" && document.activeElement.id === "main"`)
	// From the content on, Tab walks through the filter, the list and the
	// merge form to the end of the page.
	seen := map[string]bool{}
	for range 80 {
		webtest.Do(t, ctx, chromedp.KeyEvent("\t"))
		id := webtest.Run(t, ctx, chromedp.Evaluate[string](`document.activeElement.id || document.activeElement.getAttribute("href") || document.activeElement.tagName`))
		seen[id] = true
		if id == "merge-submit" {
			break
		}
	}
	for _, want := range []string{"f-status", "f-tag", "export-csv", "/dashboard/inbox/1", "merge-from", "merge-into", "merge-submit"} {
		if !seen[want] {
			t.Errorf("Tab never reached %s (reached %v)", want, seen)
		}
	}
}

func (f *fakeInbox) SetPublic(context.Context, int, bool, *string, string) (request.Item, error) {
	return request.Item{}, request.ErrNotFound
}

// Board and BoardVote make the fake the public roadmap's source too.
func (f *fakeInbox) Board(context.Context) ([]request.Item, error) {
	var out []request.Item
	for _, it := range f.items {
		if it.Public && inbox.BoardStatus(it.Status) != "" {
			out = append(out, it)
		}
	}
	return out, nil
}

func (f *fakeInbox) BoardVote(context.Context, int, request.Vote) (request.Item, bool, error) {
	return request.Item{}, false, request.ErrNotFound
}
