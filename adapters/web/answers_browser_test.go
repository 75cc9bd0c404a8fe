package web_test

import (
	"context"
	"encoding/xml"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"github.com/einsatz/einsatz/adapters/web"
	"github.com/einsatz/einsatz/adapters/web/webtest"
	"github.com/einsatz/einsatz/bot"
	"github.com/einsatz/einsatz/bot/solved"
	"github.com/einsatz/einsatz/handlers/solutions"
	"github.com/einsatz/einsatz/storage"
)

// seededAnswers are approved or pending candidates: one the asker agreed
// to publish, one staff rewrote (German), one waiting for consent, one
// approved while publishing was off (nobody asked) and one pending
// review. Only the first two may be public.
func seededAnswers(now time.Time) []solved.Candidate {
	th := func(id string) bot.ThreadRef {
		return bot.ThreadRef{Platform: "discord", ChannelID: "1579507966949588995", ThreadID: id}
	}
	return []solved.Candidate{
		{ID: "a1b2c3d4e5f6", Thread: th("t1"), Lang: "en", Status: solved.StatusApproved, Consent: solved.ConsentGiven, ConsentMessage: "m1",
			Question:  "My nightly sync job fails with error E4711 after the upgrade to version 2.4, how can I fix it without losing the queued items?",
			Answer:    "E4711 means the sync token expired. Create a new token under Settings → Tokens, then run:\n\n```sh\neinsatz sync --resume\n```\n\nThe queued items are kept; see https://docs.example.org/sync for details. Thanks <@1579507966949588995>!",
			Permalink: "https://discord.com/channels/1/1579507966949588995/99", By: "asker", Created: now.Add(-72 * time.Hour), Reviewed: now.Add(-48 * time.Hour)},
		{ID: "0badc0ffee00", Thread: th("t2"), Lang: "de", Status: solved.StatusApproved, Rewritten: true,
			Question: "Wie ändere ich die Größe der Datenbank?", Answer: "Setze `storage.max_size` in der config.yaml und starte den Dienst neu.",
			By: "staff", Created: now.Add(-30 * time.Hour), Reviewed: now.Add(-24 * time.Hour)},
		{ID: "5ec7e7000000", Thread: th("t3"), Lang: "en", Status: solved.StatusApproved, Consent: solved.ConsentAsked, ConsentMessage: "m3",
			Question: "Secret question nobody agreed to publish?", Answer: "An unconsented answer.", By: "asker", Created: now.Add(-10 * time.Hour), Reviewed: now.Add(-9 * time.Hour)},
		{ID: "a5cedb000000", Thread: th("t5"), Lang: "de", Status: solved.StatusApproved,
			Question: "Frage, die offline freigegeben wurde?", Answer: "Noch niemand hat gefragt.", By: "staff", Created: now.Add(-5 * time.Hour), Reviewed: now.Add(-4 * time.Hour)},
		{ID: "9e9d1190aaaa", Thread: th("t4"), Lang: "en", Status: solved.StatusPending,
			Question: "Pending question under review?", Answer: "Not approved yet.", By: "asker", Created: now.Add(-time.Hour)},
	}
}

// The public answer pages in Chromium: the index lists the two public
// answers (not the unconsented or pending one) with their questions as
// titles and finds one by search; an answer page renders its question,
// answer (code block, link) and a QAPage JSON-LD that parses, with the
// canonical URL on the configured base; the German one speaks German; the
// unconsented one is 404, and absent from sitemap.xml and llms.txt; no
// member name or id is on any page; axe finds no serious violation and
// nothing is wider than 1280 or 390 px. Staff unpublish one on the
// dashboard and it is gone from the index.
func TestBrowserPublicAnswers(t *testing.T) {
	store, err := storage.Open(storage.Options{InMemory: true, Logger: discard()})
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	cands := storage.NewSolved(store)
	now := time.Now()
	for _, c := range seededAnswers(now) {
		if err := cands.PutCandidate(ctx, c); err != nil {
			t.Fatal(err)
		}
	}
	kbs := &kbAdds{}
	poster := &recordingPoster{}
	svc := solutions.New(solutions.Options{Store: cands, Publish: true, Poster: poster, Logger: discard(), AddKnowledge: func(ctx context.Context, name, title, url, text string) error {
		_, err := kbs.Add(ctx, name, title, url, text)
		return err
	}})
	core := bot.New(bot.Options{Store: store, Logger: discard()})
	srv, err := web.New(web.Options{Addr: "127.0.0.1:0", Store: store, Core: core, Logger: discard(), BotName: "Einsatz",
		Accounts: []web.Account{{Name: "lead", Role: "admin", Token: "lead-token-123456"}}})
	if err != nil {
		t.Fatal(err)
	}
	srv.AddCandidates(svc)
	srv.AddAnswers(svc, "https://help.example.org/")
	srv.AddPublishing(svc)
	runCtx, cancel := context.WithCancel(ctx)
	done := make(chan error, 1)
	go func() { done <- core.Run(runCtx, srv) }()
	t.Cleanup(func() { cancel(); <-done; store.Close() })
	<-srv.Ready()
	base := srv.URL()

	pub, err := svc.Published(ctx)
	if err != nil || len(pub) != 2 {
		t.Fatalf("published = %+v, %v; want 2", pub, err)
	}
	enSlug, deSlug := solutions.Slug(seededAnswers(now)[0].Question, "a1b2c3d4e5f6"), solutions.Slug("Wie ändere ich die Größe der Datenbank?", "0badc0ffee00")
	hiddenSlug := solutions.Slug("Secret question nobody agreed to publish?", "5ec7e7000000")

	b := webtest.Browser(t)
	webtest.Do(t, b, webtest.AcceptLanguage("en"), chromedp.Navigate(base+"/answers/"), chromedp.WaitVisible(chromedp.ID("ans-list")))
	titles := webtest.Run(t, b, chromedp.Evaluate[[]string](`[...document.querySelectorAll("#ans-list h2 a")].map(a => a.textContent + "|" + a.getAttribute("href"))`))
	if len(titles) != 2 || !strings.HasPrefix(titles[0], "Wie ändere ich die Größe der Datenbank?|/answers/"+deSlug) ||
		!strings.Contains(titles[1], "|/answers/"+enSlug) {
		t.Fatalf("index titles = %q", titles)
	}
	if got := webtest.Run(t, b, chromedp.Evaluate[string](`document.title`)); got != "Answers from the Einsatz community" {
		t.Errorf("index title = %q", got)
	}
	checkPublic(t, b, "the index")
	checkWidthsShots(t, b, "answers")

	webtest.Do(t, b, chromedp.SetValue(chromedp.ID("ans-q"), "token E4711"), chromedp.Submit(chromedp.ID("ans-q")), chromedp.WaitVisible(chromedp.ID("ans-count")))
	if n := webtest.Run(t, b, chromedp.Evaluate[int](`document.querySelectorAll("#ans-list li").length`)); n != 1 {
		t.Errorf("search for 'token E4711': %d results, want 1", n)
	}
	if robots := webtest.Run(t, b, chromedp.Evaluate[string](`document.querySelector('meta[name="robots"]')?.content || ""`)); robots != "noindex" {
		t.Errorf("a search result page has robots %q, want noindex", robots)
	}

	webtest.Do(t, b, chromedp.Navigate(base+"/answers/"+enSlug), chromedp.WaitVisible(chromedp.ID("question")))
	type ld struct {
		Type, Canonical, Name, Answer, Lang, Author string
		Count                                       int
	}
	got := webtest.Run(t, b, chromedp.Evaluate[ld](`(() => {
		const d = JSON.parse(document.querySelector('script[type="application/ld+json"]').textContent);
		return {Type: d["@type"], Canonical: document.querySelector('link[rel=canonical]').href, Name: d.mainEntity.name,
			Answer: d.mainEntity.acceptedAnswer.text, Lang: d.inLanguage, Author: d.mainEntity.acceptedAnswer.author.name, Count: d.mainEntity.answerCount};
	})()`))
	if got.Type != "QAPage" || got.Canonical != "https://help.example.org/answers/"+enSlug || !strings.HasPrefix(got.Name, "My nightly sync job fails") ||
		!strings.Contains(got.Answer, "Settings → Tokens") || got.Lang != "en" || got.Author != "Einsatz community" || got.Count != 1 {
		t.Errorf("JSON-LD = %+v", got)
	}
	if code := webtest.Run(t, b, chromedp.Evaluate[string](`document.querySelector("#answer pre code").textContent`)); code != "einsatz sync --resume" {
		t.Errorf("code block = %q", code)
	}
	if href := webtest.Run(t, b, chromedp.Evaluate[string](`document.querySelector("#answer a").href`)); href != "https://docs.example.org/sync" {
		t.Errorf("link = %q", href)
	}
	checkPublic(t, b, "the answer page")
	checkWidthsShots(t, b, "answer")

	webtest.Do(t, b, chromedp.Navigate(base+"/answers/"+deSlug), chromedp.WaitVisible(chromedp.ID("question")))
	if lang, h := webtest.Run(t, b, chromedp.Evaluate[string](`document.documentElement.lang`)), webtest.Run(t, b, chromedp.Evaluate[string](`document.querySelector("#answer-h").textContent`)); lang != "de" || h != "Akzeptierte Antwort" {
		t.Errorf("German answer page: lang %q, heading %q", lang, h)
	}
	checkPublic(t, b, "the German answer page")

	// An old slug (the question was edited) redirects; the unconsented
	// answer is not there.
	webtest.Do(t, b, chromedp.Navigate(base+"/answers/old-words-a1b2c3d4e5f6"), chromedp.WaitVisible(chromedp.ID("question")))
	if loc := webtest.Run(t, b, chromedp.Evaluate[string](`location.pathname`)); loc != "/answers/"+enSlug {
		t.Errorf("old slug landed on %q", loc)
	}
	if status, body := get(t, http.DefaultClient, base+"/answers/"+hiddenSlug); status != http.StatusNotFound || strings.Contains(body, "unconsented") {
		t.Errorf("the unconsented answer: %d %q", status, body)
	}

	// Public pages are revalidated on each use; an unchanged one is a 304.
	resp, err := http.Get(base + "/answers/" + enSlug)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	etag := resp.Header.Get("ETag")
	if cc := resp.Header.Get("Cache-Control"); cc != "public, no-cache" || etag == "" || resp.Header.Get("Content-Security-Policy") == "" {
		t.Errorf("answer page headers: %v", resp.Header)
	}
	req, _ := http.NewRequest(http.MethodGet, base+"/answers/"+enSlug, nil)
	req.Header.Set("If-None-Match", etag)
	if resp, err := http.DefaultClient.Do(req); err != nil || resp.StatusCode != http.StatusNotModified {
		t.Errorf("revalidating an unchanged page: %v, %v", resp, err)
	} else {
		resp.Body.Close()
	}

	status, sitemap := get(t, http.DefaultClient, base+"/sitemap.xml")
	var set struct {
		URLs []struct {
			Loc     string `xml:"loc"`
			LastMod string `xml:"lastmod"`
		} `xml:"url"`
	}
	if err := xml.Unmarshal([]byte(sitemap), &set); err != nil || status != http.StatusOK {
		t.Fatalf("sitemap: %d %v\n%s", status, err, sitemap)
	}
	var locs []string
	for _, u := range set.URLs {
		locs = append(locs, u.Loc)
	}
	if strings.Join(locs, " ") != "https://help.example.org/answers/ https://help.example.org/answers/"+deSlug+" https://help.example.org/answers/"+enSlug {
		t.Errorf("sitemap locs = %q", locs)
	}
	status, llms := get(t, http.DefaultClient, base+"/llms.txt")
	if status != http.StatusOK || !strings.HasPrefix(llms, "# Einsatz answers\n\n> ") || !strings.Contains(llms, "\n## Answers\n") ||
		!strings.Contains(llms, "- [Wie ändere ich die Größe der Datenbank?](https://help.example.org/answers/"+deSlug+"): Setze storage.max_size") ||
		strings.Contains(llms, "Secret question") || strings.Contains(llms, "Pending question") {
		t.Errorf("llms.txt:\n%s", llms)
	}
	for name, text := range map[string]string{"sitemap.xml": sitemap, "llms.txt": llms} {
		if strings.Contains(text, hiddenSlug) || strings.Contains(text, "1579507966949588995") {
			t.Errorf("%s shows the hidden answer or an id:\n%s", name, text)
		}
	}

	// Staff see the states on the dashboard and unpublish one.
	loginAs(t, b, base)
	webtest.Do(t, b, chromedp.Navigate(base+web.PublishingPath), chromedp.WaitVisible(chromedp.CSS("ul.publishing")))
	if bad := webtest.Axe(t, b).Serious(); len(bad) > 0 {
		t.Errorf("accessibility problems on the Public answers page: %+v", bad)
	}
	checkWidths(t, b, "publishing")
	webtest.Do(t, b, chromedp.Click(chromedp.CSS("#pub-a1b2c3d4e5f6 button.unpublish")), chromedp.WaitVisible(chromedp.ID("pub-done")))
	if _, body := get(t, http.DefaultClient, base+"/answers/"); strings.Contains(body, enSlug) || !strings.Contains(body, deSlug) {
		t.Errorf("after unpublishing, the index still lists it (or lost the other)")
	}
	if n := webtest.Run(t, b, chromedp.Evaluate[int](`document.querySelectorAll("#pub-a1b2c3d4e5f6 button").length`)); n != 0 {
		t.Errorf("a withdrawn answer still offers %d actions", n)
	}

	// The one nobody asked: staff ask from here; the question goes to its thread.
	// (A fresh page: the last one still shows the unpublish's notice.)
	webtest.Do(t, b, chromedp.Navigate(base+web.PublishingPath), chromedp.WaitVisible(chromedp.CSS("#pub-a5cedb000000 button.ask")),
		chromedp.Click(chromedp.CSS("#pub-a5cedb000000 button.ask")), chromedp.WaitVisible(chromedp.ID("pub-done")))
	if len(poster.posts) != 1 || poster.posts[0].to.ThreadID != "t5" || !strings.Contains(poster.posts[0].text, "Dürfen wir") {
		t.Errorf("consent questions posted = %+v, want one in German in thread t5", poster.posts)
	}
	if n := webtest.Run(t, b, chromedp.Evaluate[int](`document.querySelectorAll("#pub-a5cedb000000 button.ask").length`)); n != 0 {
		t.Errorf("still offers to ask after asking")
	}

	// Approving with "rewritten by staff" ticked publishes at once.
	webtest.Do(t, b, chromedp.Navigate(base+web.SolvedPath), chromedp.WaitVisible(chromedp.ID("rw-9e9d1190aaaa")))
	if bad := webtest.Axe(t, b).Serious(); len(bad) > 0 {
		t.Errorf("accessibility problems on the Solved threads page with publishing: %+v", bad)
	}
	webtest.Do(t, b, chromedp.Click(chromedp.ID("rw-9e9d1190aaaa")), chromedp.Click(chromedp.CSS("#cand-9e9d1190aaaa button.approve")),
		chromedp.WaitVisible(chromedp.ID("sol-done")))
	pendingSlug := solutions.Slug("Pending question under review?", "9e9d1190aaaa")
	if status, body := get(t, http.DefaultClient, base+"/answers/"+pendingSlug); status != http.StatusOK || !strings.Contains(body, "Not approved yet.") {
		t.Errorf("the answer approved as rewritten: %d", status)
	}
}

// checkPublic looks for personal data and runs axe on a public page.
func checkPublic(t *testing.T, ctx context.Context, page string) {
	t.Helper()
	html := webtest.Run(t, ctx, chromedp.Evaluate[string](`document.documentElement.outerHTML`))
	for _, private := range []string{"1579507966949588995", "discord.com", "Secret question", "Pending question", "unconsented", "offline freigegeben"} {
		if strings.Contains(html, private) {
			t.Errorf("%s shows %q", page, private)
		}
	}
	if bad := webtest.Axe(t, ctx).Serious(); len(bad) > 0 {
		t.Errorf("accessibility problems on %s: %+v", page, bad)
	}
}

// checkWidthsShots checks a page fits 1280 and 390 px and takes its
// screenshots under its own name (SHOTS_DIR).
func checkWidthsShots(t *testing.T, ctx context.Context, name string) {
	t.Helper()
	for _, width := range []int64{1280, 390} {
		webtest.Do(t, ctx, chromedp.EmulateViewport(width, 900))
		if wide := webtest.Run(t, ctx, chromedp.Evaluate[[]string](noWiderThanViewport)); len(wide) > 0 {
			t.Errorf("%s at %d px: wider than the window: %v", name, width, wide)
		}
		shoot(t, ctx, name, width)
	}
	webtest.Do(t, ctx, chromedp.EmulateViewport(1280, 900))
}

// recordingPoster stands in for the bot core's Publish: it keeps what was
// posted where.
type recordingPoster struct {
	mu    sync.Mutex
	posts []struct {
		to   bot.ThreadRef
		text string
	}
}

func (p *recordingPoster) Publish(_ context.Context, to bot.ThreadRef, r bot.Reply) (string, error) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.posts = append(p.posts, struct {
		to   bot.ThreadRef
		text string
	}{to, r.Text})
	return "msg-" + to.ThreadID, nil
}
