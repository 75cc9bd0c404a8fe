package knowledge_test

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/go-git/go-billy/v5/memfs"
	"github.com/go-git/go-billy/v5/osfs"
	"github.com/go-git/go-git/v5"
	"github.com/go-git/go-git/v5/plumbing/cache"
	"github.com/go-git/go-git/v5/plumbing/object"
	"github.com/go-git/go-git/v5/storage/filesystem"

	"github.com/einsatz/einsatz/bot"
	"github.com/einsatz/einsatz/bot/bottest"
	"github.com/einsatz/einsatz/bot/kb"
	"github.com/einsatz/einsatz/bot/kb/kbtest"
	"github.com/einsatz/einsatz/handlers/answer"
	"github.com/einsatz/einsatz/handlers/knowledge"
)

const pageTmpl = `<!doctype html><html lang="en"><head><title>%s | Frob Docs</title><script>var tracking = "SCRIPTTEXT";</script></head>
<body><header><a href="/">Frob Docs</a> HEADERTEXT</header>
<nav><a href="/docs/install">Install</a> <a href="/docs/faq">FAQ</a> <a href="/docs/private/keys">Keys</a> NAVTEXT</nav>
<main><h1>%s</h1>%s</main>
<footer>FOOTERTEXT © Frob</footer></body></html>`

// docsSite is a small docs site: a sitemap index, robots.txt disallowing
// /docs/private/, ETags on everything, and pages that can be taken away.
type docsSite struct {
	srv *httptest.Server

	mu          sync.Mutex
	pages       map[string]string // path → body
	gone        map[string]bool   // paths that answer 404
	requests    int
	conditional int // requests carrying If-None-Match
	notModified int
	paths       []string
}

func newDocsSite(t testing.TB) *docsSite {
	s := &docsSite{pages: map[string]string{}, gone: map[string]bool{}}
	s.srv = httptest.NewServer(http.HandlerFunc(s.serve))
	t.Cleanup(s.srv.Close)
	page := func(title, body string) string { return fmt.Sprintf(pageTmpl, title, title, body) }
	s.pages["/robots.txt"] = "User-agent: *\nDisallow: /docs/private/\n\nSitemap: " + s.srv.URL + "/sitemap.xml\n"
	s.pages["/sitemap.xml"] = `<?xml version="1.0"?><sitemapindex xmlns="http://www.sitemaps.org/schemas/sitemap/0.9">` +
		`<sitemap><loc>` + s.srv.URL + `/sitemap-docs.xml</loc></sitemap></sitemapindex>`
	var urls strings.Builder
	for _, p := range []string{"/docs/install", "/docs/faq", "/docs/private/keys", "/docs/old"} {
		urls.WriteString("<url><loc>" + s.srv.URL + p + "</loc></url>")
	}
	s.pages["/sitemap-docs.xml"] = `<?xml version="1.0"?><urlset xmlns="http://www.sitemaps.org/schemas/sitemap/0.9">` + urls.String() + `</urlset>`
	s.pages["/docs/install"] = page("Install Frobnicator", `<p>To install Frobnicator, download the frobnicator package and run the installer.</p>
<h2>From source</h2><p>Build it with <code>make frob</code>:</p><pre><code class="language-sh">git clone frob
make frob</code></pre>
<h2>Supported systems</h2><table><tr><th>System</th><th>Version</th></tr><tr><td>Linux</td><td>5.10+</td></tr></table>
<ul><li>Needs 2 GB of memory</li><li>Needs a network</li></ul>`)
	s.pages["/docs/faq"] = page("FAQ", `<h2>Why does the frobnicator glow blue?</h2><p>The frobnicator glows blue while it calibrates its flux capacitor.</p>`)
	s.pages["/docs/private/keys"] = page("Keys", `<p>The secret signing keys live here.</p>`)
	s.pages["/docs/old"] = page("Old release notes", `<p>Release 0.1 shipped the first wobbler.</p>`)
	return s
}

func (s *docsSite) serve(w http.ResponseWriter, r *http.Request) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.requests++
	s.paths = append(s.paths, r.URL.Path)
	body, ok := s.pages[r.URL.Path]
	if !ok || s.gone[r.URL.Path] {
		http.NotFound(w, r)
		return
	}
	sum := sha256.Sum256([]byte(body))
	etag := `"` + hex.EncodeToString(sum[:8]) + `"`
	w.Header().Set("ETag", etag)
	if inm := r.Header.Get("If-None-Match"); inm != "" {
		s.conditional++
		if inm == etag {
			s.notModified++
			w.WriteHeader(http.StatusNotModified)
			return
		}
	}
	switch {
	case strings.HasSuffix(r.URL.Path, ".xml"):
		w.Header().Set("Content-Type", "application/xml")
	case strings.HasSuffix(r.URL.Path, ".txt"):
		w.Header().Set("Content-Type", "text/plain")
	default:
		w.Header().Set("Content-Type", "text/html; charset=utf-8")
	}
	fmt.Fprint(w, body)
}

func (s *docsSite) counts() (requests, conditional, notModified int, paths []string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	r, c, n, p := s.requests, s.conditional, s.notModified, s.paths
	s.requests, s.conditional, s.notModified, s.paths = 0, 0, 0, nil
	return r, c, n, p
}

func newWebsite(t testing.TB, start string) *knowledge.Website {
	t.Helper()
	w, err := knowledge.NewWebsite(start)
	if err != nil {
		t.Fatal(err)
	}
	return w
}

func docSources(t *testing.T, store kb.Store) map[string]kb.Doc {
	t.Helper()
	docs, err := store.Docs(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	out := map[string]kb.Doc{}
	for _, d := range docs {
		out[d.Source] = d
	}
	return out
}

func TestWebsiteSource(t *testing.T) {
	ctx := context.Background()
	site := newDocsSite(t)
	store := kbtest.NewMem()
	states := kbtest.NewMemSources()
	base := knowledge.NewBase(store, nil, nil)
	t.Cleanup(func() { base.Close() })
	web := newWebsite(t, site.srv.URL+"/docs/")
	remote := knowledge.NewRemote(base, states, []knowledge.Source{web}, nil, nil)

	// First crawl: robots.txt, the sitemap index and its sitemap, three
	// pages (the private one is disallowed).
	reps, err := remote.SyncSources(ctx, nil)
	if err != nil {
		t.Fatal(err)
	}
	if rep := reps[0].Report; rep.Added != 3 || rep.Failed != 0 {
		t.Fatalf("first crawl: %s, want 3 added", rep)
	}
	_, _, _, paths := site.counts()
	for _, p := range paths {
		if strings.HasPrefix(p, "/docs/private/") {
			t.Errorf("crawled %s, which robots.txt disallows", p)
		}
	}
	docs := docSources(t, store)
	host := strings.TrimPrefix(site.srv.URL, "http://")
	install, ok := docs["web/"+host+"/docs/install"]
	if !ok || install.Origin != kb.OriginWebsite || install.URL != site.srv.URL+"/docs/install" || install.Title != "Install Frobnicator" {
		t.Fatalf("install page document = %+v (have %v)", install, docs)
	}
	chunks, err := store.Chunks(ctx)
	if err != nil {
		t.Fatal(err)
	}
	var all strings.Builder
	for _, c := range chunks {
		all.WriteString(c.Heading + "\n" + c.Text + "\n")
		if c.URL == "" {
			t.Errorf("chunk %s has no URL to cite", c.ID)
		}
	}
	for _, drop := range []string{"NAVTEXT", "HEADERTEXT", "FOOTERTEXT", "SCRIPTTEXT", "secret signing"} {
		if strings.Contains(all.String(), drop) {
			t.Errorf("chunks contain %q, which should have been dropped", drop)
		}
	}
	for _, keep := range []string{"From source", "```sh\ngit clone frob\nmake frob\n```", "| Linux | 5.10+ |", "- Needs 2 GB of memory", "`make frob`"} {
		if !strings.Contains(all.String(), keep) {
			t.Errorf("chunks lack %q:\n%s", keep, all.String())
		}
	}

	// Second crawl: the old page is gone (404), the rest unchanged.
	site.mu.Lock()
	site.gone["/docs/old"] = true
	site.mu.Unlock()
	reps, err = remote.SyncSources(ctx, nil)
	if err != nil {
		t.Fatal(err)
	}
	if rep := reps[0].Report; rep.Removed != 1 || rep.Unchanged != 2 || rep.Added+rep.Updated != 0 {
		t.Fatalf("second crawl: %s, want 1 removed, 2 unchanged", rep)
	}
	if _, ok := docSources(t, store)["web/"+host+"/docs/old"]; ok {
		t.Error("the page that 404s is still in the knowledge base")
	}
	site.counts()

	// Third crawl of the unchanged site: every page that exists is asked
	// for conditionally and answered 304; the one the sitemap still lists
	// but that 404s costs its one (unconditional) request.
	if _, err := remote.SyncSources(ctx, nil); err != nil {
		t.Fatal(err)
	}
	requests, conditional, notModified, paths := site.counts()
	// robots.txt, sitemap index, sitemap, two pages, the gone page.
	if requests != 6 || conditional != 5 || notModified != 5 || paths[5] != "/docs/old" {
		t.Errorf("unchanged re-crawl: %d requests, %d conditional, %d answered 304 (%v); want 6: 5 conditional and 304, then /docs/old",
			requests, conditional, notModified, paths)
	}
	st, err := remote.Statuses(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if len(st) != 1 || st[0].Pages != 2 || st[0].Errors != 0 || st[0].Requests != 6 || st[0].LastSync.IsZero() || st[0].Type != "website" {
		t.Errorf("status = %+v", st)
	}

	// A page leaving the sitemap goes too.
	site.mu.Lock()
	site.pages["/sitemap-docs.xml"] = strings.Replace(site.pages["/sitemap-docs.xml"], "<url><loc>"+site.srv.URL+"/docs/faq</loc></url>", "", 1)
	site.mu.Unlock()
	reps, err = remote.SyncSources(ctx, nil)
	if err != nil {
		t.Fatal(err)
	}
	if rep := reps[0].Report; rep.Removed != 1 {
		t.Errorf("after the FAQ left the sitemap: %s, want 1 removed", rep)
	}
}

func TestWebsiteFollowsLinksWithoutSitemap(t *testing.T) {
	ctx := context.Background()
	site := newDocsSite(t)
	site.pages["/robots.txt"] = "User-agent: *\nDisallow: /docs/private/\n"
	site.pages["/docs/"] = fmt.Sprintf(pageTmpl, "Docs", "Docs", `<p>Start with the <a href="install">installation</a>.</p><p><a href="/blog/">Blog</a></p>`)
	site.pages["/blog/"] = fmt.Sprintf(pageTmpl, "Blog", "Blog", `<p>Not docs.</p>`)
	store := kbtest.NewMem()
	base := knowledge.NewBase(store, nil, nil)
	t.Cleanup(func() { base.Close() })
	remote := knowledge.NewRemote(base, kbtest.NewMemSources(), []knowledge.Source{newWebsite(t, site.srv.URL+"/docs/")}, nil, nil)
	if _, err := remote.SyncSources(ctx, nil); err != nil {
		t.Fatal(err)
	}
	host := strings.TrimPrefix(site.srv.URL, "http://")
	docs := docSources(t, store)
	for _, want := range []string{"/docs/index", "/docs/install", "/docs/faq"} {
		if _, ok := docs["web/"+host+want]; !ok {
			t.Errorf("no document for %s (have %v)", want, docs)
		}
	}
	if len(docs) != 3 {
		t.Errorf("documents: %d, want 3 (no blog, no private page, no page only the sitemap lists)", len(docs))
	}
	// Unchanged: links of 304 pages come from the state.
	site.counts()
	if _, err := remote.SyncSources(ctx, nil); err != nil {
		t.Fatal(err)
	}
	requests, conditional, _, paths := site.counts()
	if requests != 4 || conditional != 4 {
		t.Errorf("re-crawl: %d requests, %d conditional (%v); want 4 conditional", requests, conditional, paths)
	}
}

func TestRemoteRunsOnSchedule(t *testing.T) {
	site := newDocsSite(t)
	store := kbtest.NewMem()
	base := knowledge.NewBase(store, nil, nil)
	t.Cleanup(func() { base.Close() })
	clock := bottest.NewClock(time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC))
	web := newWebsite(t, site.srv.URL+"/docs/")
	web.Interval = time.Hour
	remote := knowledge.NewRemote(base, kbtest.NewMemSources(), []knowledge.Source{web}, clock, nil)
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error)
	go func() { done <- remote.Run(ctx) }()
	waitFor := func(what string, ok func() bool) {
		t.Helper()
		for deadline := time.Now().Add(5 * time.Second); time.Now().Before(deadline); time.Sleep(5 * time.Millisecond) {
			if ok() {
				return
			}
		}
		t.Fatalf("timed out waiting for %s", what)
	}
	waitFor("the first sync", func() bool { return base.Len() > 0 })
	// The clock moves only once the schedule waits on it (the first sync
	// may still be finishing under load).
	waitFor("the schedule to wait", func() bool { return clock.Waiters() > 0 })
	site.counts()
	clock.Advance(30 * time.Minute)
	time.Sleep(20 * time.Millisecond)
	if r, _, _, _ := site.counts(); r != 0 {
		t.Errorf("%d requests before the source was due", r)
	}
	clock.Advance(31 * time.Minute)
	waitFor("the second sync", func() bool {
		site.mu.Lock()
		defer site.mu.Unlock()
		return site.requests >= 5
	})
	cancel()
	if err := <-done; err != nil {
		t.Fatal(err)
	}
}

// makeRepo makes a bare repository in dir (with go-git, no git program)
// holding docs in Markdown, MDX, reStructuredText and AsciiDoc on main.
func makeRepo(t testing.TB, dir string, files map[string]string) *git.Repository {
	t.Helper()
	st := filesystem.NewStorage(osfs.New(dir), cache.NewObjectLRUDefault())
	wtfs := memfs.New()
	repo, err := git.InitWithOptions(st, wtfs, git.InitOptions{DefaultBranch: "refs/heads/main"})
	if err != nil {
		t.Fatal(err)
	}
	commitFiles(t, repo, files)
	return repo
}

func commitFiles(t testing.TB, repo *git.Repository, files map[string]string) {
	t.Helper()
	wt, err := repo.Worktree()
	if err != nil {
		t.Fatal(err)
	}
	for name, text := range files {
		if text == "" {
			if _, err := wt.Remove(name); err != nil {
				t.Fatal(err)
			}
			continue
		}
		f, err := wt.Filesystem.Create(name)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := f.Write([]byte(text)); err != nil {
			t.Fatal(err)
		}
		f.Close()
		if _, err := wt.Add(name); err != nil {
			t.Fatal(err)
		}
	}
	sig := &object.Signature{Name: "Test", Email: "test@example.org", When: time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)}
	if _, err := wt.Commit("docs", &git.CommitOptions{Author: sig}); err != nil {
		t.Fatal(err)
	}
}

var repoDocs = map[string]string{
	"README.md":         "# Widget\n\nNot in the docs folder.\n",
	"docs/configure.md": "---\ntitle: Configure the widget\n---\n# Configure\n\nSet `widget.colour` in widget.yaml to paint the widget.\n",
	"docs/plugins.mdx":  "import Tabs from '@theme/Tabs';\n\n# Plugins\n\n<Tabs>\nWidget plugins load from the plugins folder at start.\n</Tabs>\n\n<Callout type=\"info\" />\n",
	"docs/backup.rst":   "Backups\n=======\n\nRestoring a backup\n------------------\n\nTo restore a widget backup, stop the widget and run::\n\n    widget restore --from backup.tar\n\n.. note::\n\n   Restoring replaces the current widget database.\n\n.. a comment that is dropped\n",
	"docs/upgrade.adoc": "= Upgrading\n:toc: left\n\n== Upgrading the widget\n\nTo upgrade the widget, read the link:https://example.org/notes[release notes] first.\n\n[source,sh]\n----\nwidget upgrade\n----\n",
}

func TestGitSource(t *testing.T) {
	ctx := context.Background()
	dir := filepath.Join(t.TempDir(), "widget.git")
	repo := makeRepo(t, dir, repoDocs)
	store := kbtest.NewMem()
	base := knowledge.NewBase(store, nil, nil)
	t.Cleanup(func() { base.Close() })
	src := &knowledge.GitRepo{URL: dir, Branch: "main", Path: "docs", BaseURL: "https://git.example.org/widget/src/main/"}
	remote := knowledge.NewRemote(base, kbtest.NewMemSources(), []knowledge.Source{src}, nil, nil)
	reps, err := remote.SyncSources(ctx, nil)
	if err != nil {
		t.Fatal(err)
	}
	if rep := reps[0].Report; rep.Added != 4 {
		t.Fatalf("first sync: %s, want 4 added", rep)
	}
	docs := docSources(t, store)
	backup := docs["git/widget/docs/backup.rst"]
	if backup.Origin != kb.OriginGit || backup.URL != "https://git.example.org/widget/src/main/docs/backup.rst" || backup.Title != "Backups" {
		t.Errorf("backup.rst = %+v (have %v)", backup, docs)
	}
	chunks, err := store.Chunks(ctx)
	if err != nil {
		t.Fatal(err)
	}
	var all strings.Builder
	for _, c := range chunks {
		fmt.Fprintf(&all, "[%s] %s > %s\n%s\n", c.Source, c.Title, c.Heading, c.Text)
	}
	for _, want := range []string{"Backups > Restoring a backup", "```\nwidget restore --from backup.tar\n```", "Restoring replaces",
		"Configure the widget", "Widget plugins load", "Upgrading > Upgrading the widget", "read the release notes first", "```sh\nwidget upgrade\n```"} {
		if !strings.Contains(all.String(), want) {
			t.Errorf("chunks lack %q:\n%s", want, all.String())
		}
	}
	for _, drop := range []string{"import Tabs", "<Tabs>", "<Callout", "a comment that is dropped", ":toc:", "Not in the docs folder"} {
		if strings.Contains(all.String(), drop) {
			t.Errorf("chunks contain %q:\n%s", drop, all.String())
		}
	}

	// Unchanged branch: nothing read.
	reps, err = remote.SyncSources(ctx, nil)
	if err != nil || reps[0].Report.Added+reps[0].Report.Updated+reps[0].Report.Removed != 0 || len(reps[0].Report.Read) != 0 {
		t.Fatalf("unchanged sync: %+v, %v", reps, err)
	}
	// A change and a removal: only the changed file is read.
	commitFiles(t, repo, map[string]string{"docs/configure.md": "# Configure\n\nSet `widget.size` too.\n", "docs/plugins.mdx": ""})
	reps, err = remote.SyncSources(ctx, nil)
	if err != nil {
		t.Fatal(err)
	}
	if rep := reps[0].Report; rep.Updated != 1 || rep.Removed != 1 || rep.Unchanged != 2 || len(rep.Read) != 1 {
		t.Errorf("after a commit: %s (read %v), want 1 updated, 1 removed, 2 unchanged", rep, rep.Read)
	}
}

// TestGitSourceClonesRemote clones over a transport, as for a remote
// repository: go-git's file transport runs git-upload-pack, so this one
// needs git installed (production https/ssh clones do not).
func TestGitSourceClonesRemote(t *testing.T) {
	if _, err := os.Stat("/usr/bin/git-upload-pack"); err != nil {
		if _, err := os.Stat("/usr/lib/git-core/git-upload-pack"); err != nil {
			t.Skip("git-upload-pack not installed")
		}
	}
	dir := filepath.Join(t.TempDir(), "widget.git")
	makeRepo(t, dir, repoDocs)
	store := kbtest.NewMem()
	base := knowledge.NewBase(store, nil, nil)
	t.Cleanup(func() { base.Close() })
	src := &knowledge.GitRepo{URL: "file://" + dir, Path: "docs"}
	remote := knowledge.NewRemote(base, kbtest.NewMemSources(), []knowledge.Source{src}, nil, nil)
	reps, err := remote.SyncSources(context.Background(), nil)
	if err != nil {
		t.Fatal(err)
	}
	if rep := reps[0].Report; rep.Added != 4 {
		t.Fatalf("clone: %s, want 4 added", rep)
	}
	st, _ := remote.Statuses(context.Background())
	reps, err = remote.SyncSources(context.Background(), nil)
	st2, _ := remote.Statuses(context.Background())
	if err != nil || reps[0].Report.Unchanged != 4 || st2[0].Requests != 1 {
		t.Errorf("unchanged: %+v, %v; requests %d then %d, want 1 (the branch listing only)", reps, err, st[0].Requests, st2[0].Requests)
	}
}

func TestGitFileURL(t *testing.T) {
	for _, tc := range []struct{ url, branch, want string }{
		{"https://github.com/o/r.git", "main", "https://github.com/o/r/blob/main/docs/a.md"},
		{"git@github.com:o/r.git", "dev", "https://github.com/o/r/blob/dev/docs/a.md"},
		{"https://gitlab.com/g/sub/r", "main", "https://gitlab.com/g/sub/r/-/blob/main/docs/a.md"},
		{"https://git.example.org/o/r.git", "main", ""},
	} {
		if got := (&knowledge.GitRepo{URL: tc.url, Branch: tc.branch}).FileURL("docs/a.md"); got != tc.want {
			t.Errorf("FileURL(%s) = %q, want %q", tc.url, got, tc.want)
		}
	}
}

// TestAnswersFromSources asks the answer handler, over the real index,
// questions that only a crawled page and a repository file answer.
func TestAnswersFromSources(t *testing.T) {
	ctx := context.Background()
	site := newDocsSite(t)
	dir := filepath.Join(t.TempDir(), "widget.git")
	makeRepo(t, dir, repoDocs)
	store := kbtest.NewMem()
	base := knowledge.NewBase(store, nil, nil)
	t.Cleanup(func() { base.Close() })
	remote := knowledge.NewRemote(base, kbtest.NewMemSources(), []knowledge.Source{
		newWebsite(t, site.srv.URL+"/docs/"),
		&knowledge.GitRepo{URL: dir, Path: "docs", BaseURL: "https://git.example.org/widget/src/main/"},
	}, nil, nil)
	if _, err := remote.SyncSources(ctx, nil); err != nil {
		t.Fatal(err)
	}
	h := answer.New(answer.Options{Search: base, Text: func(lang, key string) string { return lang + ":" + key }})
	for _, tc := range []struct{ q, url string }{
		{"How do I install Frobnicator?", site.srv.URL + "/docs/install"},
		{"Why does the frobnicator glow blue?", site.srv.URL + "/docs/faq"},
		{"How do I restore a widget backup?", "https://git.example.org/widget/src/main/docs/backup.rst"},
	} {
		replies, err := h.Handle(ctx, &bot.Event{Text: tc.q, Lang: "en"})
		if err != nil {
			t.Fatal(err)
		}
		if len(replies) != 1 || len(replies[0].Sources) == 0 || replies[0].Sources[0].URL != tc.url {
			t.Errorf("%q: replies %+v, want an answer citing %s", tc.q, replies, tc.url)
			continue
		}
		t.Logf("%q → %q cites %s", tc.q, firstLineOf(replies[0].Text), replies[0].Sources[0].URL)
	}
}

func firstLineOf(s string) string { l, _, _ := strings.Cut(s, "\n"); return l }
