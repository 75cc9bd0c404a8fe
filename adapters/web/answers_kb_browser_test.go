package web_test

import (
	"context"
	"net/http"
	"strings"
	"testing"
	"testing/fstest"
	"time"

	"github.com/chromedp/chromedp"

	"github.com/einsatz/einsatz/adapters/web"
	"github.com/einsatz/einsatz/adapters/web/webtest"
	"github.com/einsatz/einsatz/bot"
	"github.com/einsatz/einsatz/bot/kb"
	"github.com/einsatz/einsatz/handlers/knowledge"
	"github.com/einsatz/einsatz/handlers/solutions"
	"github.com/einsatz/einsatz/storage"
)

// publicKB is a knowledge base of a file (cited on GitHub), a page of a
// docs website (German) and an added saved reply quoting a member.
func publicKB(t *testing.T, store *storage.Store) (*knowledge.Base, kb.Page, kb.Page) {
	t.Helper()
	ctx := context.Background()
	kbs := storage.NewKB(store)
	fsys := fstest.MapFS{"install.md": {Data: []byte("# Install Einsatz\n\nDownload the binary for your system from the releases page.\n\n" +
		"## From source\n\nWith Go 1.26 installed, run:\n\n```sh\ngo build ./cmd/einsatz\n```\n\nSee https://go.dev/doc/install for Go itself.\n"),
		ModTime: time.Date(2026, 11, 2, 0, 0, 0, 0, time.UTC)}}
	chunks, err := knowledge.Split("docs.example.org/sync", []byte("# Sync-Token\n\nEin Token läuft nach 90 Tagen ab.\n\n## Erneuern\n\nUnter Einstellungen → Token einen neuen anlegen.\n"))
	if err != nil {
		t.Fatal(err)
	}
	for i := range chunks {
		chunks[i].URL, chunks[i].Lang = "https://docs.example.org/sync", "de"
	}
	if err := kbs.PutDoc(ctx, kb.Doc{Source: "docs.example.org/sync", Origin: kb.OriginWebsite, Title: chunks[0].Title, URL: chunks[0].URL,
		Chunks: len(chunks), Synced: time.Date(2026, 12, 1, 0, 0, 0, 0, time.UTC)}, chunks); err != nil {
		t.Fatal(err)
	}
	base := knowledge.NewBase(kbs, []knowledge.Folder{{FS: fsys, Root: ".", BaseURL: "https://github.com/you/project/blob/main/docs/"}}, discard())
	if _, err := base.Sync(ctx, nil); err != nil {
		t.Fatal(err)
	}
	if _, err := base.Add(ctx, "reply", "Saved reply", "", "Hi Alice Example, your order 4711 shipped."); err != nil {
		t.Fatal(err)
	}
	pages, err := base.PublicPages(ctx)
	if err != nil || len(pages) != 2 {
		t.Fatalf("public pages = %+v, %v", pages, err)
	}
	return base, pages[0], pages[1]
}

// The knowledge base's public pages in Chromium: the index lists the file
// and website documents (not the saved reply) beside the answers and its
// search finds one; a document page renders its sections (code, link),
// links its original, has TechArticle JSON-LD and its own canonical URL;
// the website page is German and names the website's page as canonical,
// so the sitemap leaves it out while llms.txt lists both with their
// originals; axe finds no serious violation, nothing is wider than 1280
// or 390 px.
func TestBrowserPublicKnowledge(t *testing.T) {
	store, err := storage.Open(storage.Options{InMemory: true, Logger: discard()})
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	cands := storage.NewSolved(store)
	for _, c := range seededAnswers(time.Now()) {
		if err := cands.PutCandidate(ctx, c); err != nil {
			t.Fatal(err)
		}
	}
	docs, inst, sync := publicKB(t, store)
	svc := solutions.New(solutions.Options{Store: cands, Publish: true, Logger: discard()})
	core := bot.New(bot.Options{Store: store, Logger: discard()})
	srv, err := web.New(web.Options{Addr: "127.0.0.1:0", Store: store, Core: core, Logger: discard(), BotName: "Einsatz"})
	if err != nil {
		t.Fatal(err)
	}
	srv.AddAnswers(svc, "https://help.example.org/")
	srv.AddPublicDocs(docs)
	runCtx, cancel := context.WithCancel(ctx)
	done := make(chan error, 1)
	go func() { done <- core.Run(runCtx, srv) }()
	t.Cleanup(func() { cancel(); <-done; docs.Close(); store.Close() })
	<-srv.Ready()
	base := srv.URL()

	b := webtest.Browser(t)
	webtest.Do(t, b, webtest.AcceptLanguage("en"), chromedp.Navigate(base+"/answers/"), chromedp.WaitVisible(chromedp.ID("doc-list")))
	links := webtest.Run(t, b, chromedp.Evaluate[[]string](`[...document.querySelectorAll("#doc-list a")].map(a => a.textContent + "|" + a.getAttribute("href"))`))
	if strings.Join(links, " ") != "Install Einsatz|/answers/docs/"+inst.Slug+" Sync-Token|/answers/docs/"+sync.Slug {
		t.Errorf("index documents = %q", links)
	}
	if n := webtest.Run(t, b, chromedp.Evaluate[int](`document.querySelectorAll("#ans-list li").length`)); n != 2 {
		t.Errorf("index answers = %d, want 2 beside the documents", n)
	}
	checkPublic(t, b, "the index with documents")
	checkWidthsShots(t, b, "answers-kb-index")
	webtest.Do(t, b, chromedp.SetValue(chromedp.ID("ans-q"), "go build"), chromedp.Submit(chromedp.ID("ans-q")), chromedp.WaitVisible(chromedp.ID("ans-count")))
	if got := webtest.Run(t, b, chromedp.Evaluate[string](`[...document.querySelectorAll("#doc-list a")].map(a => a.textContent).join("|") + "/" + document.querySelectorAll("#ans-list li").length`)); got != "Install Einsatz/0" {
		t.Errorf("search for 'go build': documents/answers = %q", got)
	}

	webtest.Do(t, b, chromedp.Navigate(base+web.DocsPath+inst.Slug), chromedp.WaitVisible(chromedp.ID("doc-title")))
	type ld struct {
		Type, Canonical, Headline, Lang, Based, Source, Code, Link string
		Sections                                                   []string
	}
	got := webtest.Run(t, b, chromedp.Evaluate[ld](`(() => {
		const d = JSON.parse(document.querySelector('script[type="application/ld+json"]').textContent);
		return {Type: d["@type"], Canonical: document.querySelector('link[rel=canonical]').href, Headline: d.headline, Lang: d.inLanguage,
			Based: d.isBasedOn, Sections: [...document.querySelectorAll(".doc-section h2")].map(h => h.textContent),
			Source: document.querySelector("#doc-source").href, Code: document.querySelector(".doc-section pre code").textContent,
			Link: document.querySelector(".doc-section p a").href};
	})()`))
	want := ld{Type: "TechArticle", Canonical: "https://help.example.org/answers/docs/" + inst.Slug, Headline: "Install Einsatz", Lang: "en",
		Based: "https://github.com/you/project/blob/main/docs/install.md", Source: "https://github.com/you/project/blob/main/docs/install.md",
		Code: "go build ./cmd/einsatz", Link: "https://go.dev/doc/install", Sections: []string{"From source"}}
	if got.Type != want.Type || got.Canonical != want.Canonical || got.Headline != want.Headline || got.Lang != want.Lang || got.Based != want.Based ||
		got.Source != want.Source || got.Code != want.Code || got.Link != want.Link || strings.Join(got.Sections, "|") != "From source" {
		t.Errorf("document page = %+v, want %+v", got, want)
	}
	checkPublic(t, b, "the document page")
	checkWidthsShots(t, b, "answers-kb-doc")

	webtest.Do(t, b, chromedp.Navigate(base+web.DocsPath+sync.Slug), chromedp.WaitVisible(chromedp.ID("doc-title")))
	if got := webtest.Run(t, b, chromedp.Evaluate[string](`document.documentElement.lang + "|" + document.querySelector('link[rel=canonical]').href + "|" +
		document.querySelector(".kb-doc .muted").textContent.trim()`)); !strings.HasPrefix(got, "de|https://docs.example.org/sync|Aus der Dokumentation: Originalseite") {
		t.Errorf("website document page: %q", got)
	}
	checkPublic(t, b, "the website document page")

	if status, body := get(t, http.DefaultClient, base+web.DocsPath+"saved-reply-"+knowledge.PageHash("added/reply.md")); status != http.StatusNotFound || strings.Contains(body, "Alice") {
		t.Errorf("the saved reply: %d", status)
	}
	_, sitemap := get(t, http.DefaultClient, base+"/sitemap.xml")
	if !strings.Contains(sitemap, "<loc>https://help.example.org/answers/docs/"+inst.Slug+"</loc>") || !strings.Contains(sitemap, "<lastmod>2026-11-02</lastmod>") ||
		strings.Contains(sitemap, sync.Slug) {
		t.Errorf("sitemap:\n%s", sitemap)
	}
	_, llms := get(t, http.DefaultClient, base+"/llms.txt")
	for _, line := range []string{"## Documentation", "- [Install Einsatz](https://help.example.org/answers/docs/" + inst.Slug + ") (original: https://github.com/you/project/blob/main/docs/install.md): Download the binary",
		"- [Sync-Token](https://help.example.org/answers/docs/" + sync.Slug + ") (original: https://docs.example.org/sync)"} {
		if !strings.Contains(llms, line) {
			t.Errorf("llms.txt lacks %q:\n%s", line, llms)
		}
	}
	if strings.Contains(llms, "Alice") || strings.Contains(sitemap, "saved-reply") {
		t.Error("the saved reply is listed")
	}
}
