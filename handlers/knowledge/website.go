package knowledge

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/xml"
	"errors"
	"fmt"
	"io"
	"mime"
	"net/http"
	"net/url"
	"path"
	"strings"
	"time"

	"github.com/temoto/robotstxt"

	"github.com/einsatz/einsatz/bot"
	"github.com/einsatz/einsatz/bot/kb"
)

// UserAgent is how the crawler names itself, to servers and to the
// groups of robots.txt.
const UserAgent = "EinsatzBot/1.0 (+https://github.com/einsatz/einsatz)"

// robotsAgent is the name robots.txt groups are matched against.
const robotsAgent = "EinsatzBot"

// Website is a docs site crawled from its sitemap, or from the links of
// its pages under the start URL. Pages become documents cited with their
// URL; a re-crawl asks conditionally, so an unchanged page costs one
// request answered 304.
type Website struct {
	Start    *url.URL
	Sitemap  string   // "" = the Sitemap lines of robots.txt, else links from Start
	Include  []string // URL path prefixes or path.Match patterns; empty = all under Start
	Exclude  []string
	Delay    time.Duration // between requests; robots.txt's Crawl-delay wins when longer
	MaxPages int           // 0 = 2000
	MaxBytes int64         // largest page read; 0 = 2 MiB
	Interval time.Duration // Every; 0 = 6h
	Client   *http.Client  // nil = a client with a 30s timeout
	Clock    bot.Clock     // waits the delay; nil = the system clock
}

// NewWebsite returns the website source starting at rawURL.
func NewWebsite(rawURL string) (*Website, error) {
	u, err := url.Parse(rawURL)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return nil, fmt.Errorf("knowledge: website %q: want an absolute http(s) URL", rawURL)
	}
	if u.Path == "" {
		u.Path = "/"
	}
	u.Fragment, u.RawFragment = "", ""
	return &Website{Start: u}, nil
}

// ID implements Source.
func (w *Website) ID() string { return kb.SourceWebsite + " " + w.Start.String() }

// Type implements Source.
func (w *Website) Type() string { return kb.SourceWebsite }

// Location implements Source.
func (w *Website) Location() string { return w.Start.String() }

// Every implements Source.
func (w *Website) Every() time.Duration {
	if w.Interval > 0 {
		return w.Interval
	}
	return 6 * time.Hour
}

// Entries of the state that are not pages.
const (
	kindSitemapIndex = "sitemapindex"
	kindURLSet       = "urlset"
)

// crawl is one run over a website.
type crawl struct {
	w          *Website
	ctx        context.Context
	store      kb.Store
	st         *kb.SourceState
	old        map[string]kb.PageState
	next       map[string]kb.PageState
	now        time.Time
	rep        Report
	errs       []error
	robots     *robotstxt.Group
	robotsData *robotstxt.RobotsData
	delay      time.Duration
	fetched    int // requests sent, to wait the delay between them
}

// Sync implements Source.
func (w *Website) Sync(ctx context.Context, store kb.Store, st *kb.SourceState, now time.Time, progress func(done, total int)) (Report, error) {
	c := &crawl{w: w, ctx: ctx, store: store, st: st, old: st.Entries, next: map[string]kb.PageState{}, now: now, delay: w.Delay}
	if c.old == nil {
		c.old = map[string]kb.PageState{}
	}
	st.Requests = 0
	if err := c.readRobots(); err != nil {
		return c.rep, err
	}
	maxPages := w.MaxPages
	if maxPages <= 0 {
		maxPages = 2000
	}
	sitemaps := []string{}
	if w.Sitemap != "" {
		sitemaps = append(sitemaps, w.Sitemap)
	} else if c.robotsData != nil {
		for _, s := range c.robotsData.Sitemaps {
			if u, err := url.Parse(s); err == nil && u.Host == w.Start.Host {
				sitemaps = append(sitemaps, s)
			}
		}
	}
	if len(sitemaps) > 0 {
		var pages []string
		seen := map[string]bool{}
		for _, s := range sitemaps {
			pages = append(pages, c.sitemap(s, 0, seen)...)
		}
		if ctx.Err() != nil {
			return c.rep, ctx.Err()
		}
		var todo []string
		for _, p := range pages {
			if c.wanted(p) && !seen[p] && len(todo) < maxPages {
				seen[p] = true
				todo = append(todo, p)
			}
		}
		for i, p := range todo {
			if ctx.Err() != nil {
				return c.rep, ctx.Err()
			}
			c.page(p)
			if progress != nil {
				progress(i+1, len(todo))
			}
		}
	} else {
		// No sitemap: follow links, breadth first, from the start page.
		queue := []string{w.Start.String()}
		seen := map[string]bool{w.Start.String(): true}
		for done := 0; len(queue) > 0 && done < maxPages; done++ {
			if ctx.Err() != nil {
				return c.rep, ctx.Err()
			}
			p := queue[0]
			queue = queue[1:]
			for _, l := range c.page(p) {
				if !seen[l] && c.wanted(l) {
					seen[l] = true
					queue = append(queue, l)
				}
			}
			if progress != nil {
				progress(done+1, min(maxPages, done+1+len(queue)))
			}
		}
	}
	// Pages crawled last time and not this time left the sitemap, lost
	// their links, or were excluded or disallowed since.
	for _, u := range sortedKeys(c.old) {
		e := c.old[u]
		if _, ok := c.next[u]; ok || e.Doc == "" {
			continue
		}
		if err := store.DeleteDoc(ctx, e.Doc); err != nil {
			return c.rep, err
		}
		c.rep.Removed++
	}
	st.Entries = c.next
	st.Pages, st.Errors = 0, c.rep.Failed
	for _, e := range c.next {
		if e.Doc != "" {
			st.Pages++
		}
	}
	return c.rep, errors.Join(c.errs...)
}

// wanted reports whether a link is a page of this source: same host, under
// the start path, included and not excluded, allowed by robots.txt.
func (c *crawl) wanted(raw string) bool {
	u, err := url.Parse(raw)
	if err != nil || u.Host != c.w.Start.Host || (u.Scheme != "http" && u.Scheme != "https") || u.RawQuery != "" {
		return false
	}
	p := u.EscapedPath()
	if p == "" {
		p = "/"
	}
	if !strings.HasPrefix(p, c.w.Start.EscapedPath()) && p+"/" != c.w.Start.EscapedPath() {
		return false
	}
	switch strings.ToLower(path.Ext(u.Path)) {
	case "", ".html", ".htm", ".php", ".asp", ".aspx":
	default:
		return false // a download, a picture, a feed
	}
	if len(c.w.Include) > 0 && !matchAny(c.w.Include, u.Path) {
		return false
	}
	if matchAny(c.w.Exclude, u.Path) {
		return false
	}
	return c.robots == nil || c.robots.Test(p)
}

func matchAny(patterns []string, p string) bool {
	for _, pat := range patterns {
		if strings.HasPrefix(p, pat) {
			return true
		}
		if ok, _ := path.Match(pat, p); ok {
			return true
		}
	}
	return false
}

// get sends a conditional GET (with the entry's validators), waiting the
// crawl delay between requests.
func (c *crawl) get(raw string, e kb.PageState) (*http.Response, error) {
	if c.fetched > 0 && c.delay > 0 {
		clock := c.w.Clock
		if clock == nil {
			clock = bot.SystemClock{}
		}
		select {
		case <-c.ctx.Done():
			return nil, c.ctx.Err()
		case <-clock.After(c.delay):
		}
	}
	c.fetched++
	c.st.Requests++
	req, err := http.NewRequestWithContext(c.ctx, http.MethodGet, raw, nil)
	if err != nil {
		return nil, err
	}
	req.Header.Set("User-Agent", UserAgent)
	if e.ETag != "" {
		req.Header.Set("If-None-Match", e.ETag)
	}
	if e.LastModified != "" {
		req.Header.Set("If-Modified-Since", e.LastModified)
	}
	client := c.w.Client
	if client == nil {
		client = &http.Client{Timeout: 30 * time.Second}
	}
	return client.Do(req)
}

// read reads a body up to the size limit.
func (c *crawl) read(resp *http.Response) ([]byte, error) {
	limit := c.w.MaxBytes
	if limit <= 0 {
		limit = 2 << 20
	}
	data, err := io.ReadAll(io.LimitReader(resp.Body, limit+1))
	if err != nil {
		return nil, err
	}
	if int64(len(data)) > limit {
		return nil, fmt.Errorf("larger than %d bytes", limit)
	}
	return data, nil
}

func validators(resp *http.Response, e kb.PageState) kb.PageState {
	e.ETag = resp.Header.Get("ETag")
	e.LastModified = resp.Header.Get("Last-Modified")
	return e
}

// readRobots fetches robots.txt (conditionally: its text is kept in the
// state for a 304) and sets the rules and the delay.
func (c *crawl) readRobots() error {
	u := c.w.Start.ResolveReference(&url.URL{Path: "/robots.txt"}).String()
	old := c.old[u]
	resp, err := c.get(u, old)
	if err != nil {
		if c.ctx.Err() != nil {
			return c.ctx.Err()
		}
		// Unreachable: crawl as the last robots.txt allowed, if any.
		c.errs = append(c.errs, fmt.Errorf("%s: %w", u, err))
		c.useRobots(200, []byte(c.st.Robots))
		c.next[u] = old
		return nil
	}
	defer resp.Body.Close()
	switch {
	case resp.StatusCode == http.StatusNotModified:
		c.useRobots(200, []byte(c.st.Robots))
		c.next[u] = old
	case resp.StatusCode == http.StatusOK:
		body, err := c.read(resp)
		if err != nil {
			return fmt.Errorf("%s: %w", u, err)
		}
		c.st.Robots = string(body)
		c.useRobots(200, body)
		c.next[u] = validators(resp, kb.PageState{})
	default:
		// 4xx: no rules; 5xx: the library disallows everything, as the
		// robots.txt convention asks.
		_, _ = io.Copy(io.Discard, io.LimitReader(resp.Body, 1<<16))
		c.st.Robots = ""
		c.useRobots(resp.StatusCode, nil)
	}
	return nil
}

func (c *crawl) useRobots(status int, body []byte) {
	r, err := robotstxt.FromStatusAndBytes(status, body)
	if err != nil {
		return // unparsable: no rules
	}
	c.robotsData = r
	c.robots = r.FindGroup(robotsAgent)
	if c.robots != nil && c.robots.CrawlDelay > c.delay {
		c.delay = c.robots.CrawlDelay
	}
}

// sitemapXML is a sitemap or a sitemap index.
type sitemapXML struct {
	XMLName  xml.Name
	URLs     []sitemapLoc `xml:"url"`
	Sitemaps []sitemapLoc `xml:"sitemap"`
}

type sitemapLoc struct {
	Loc string `xml:"loc"`
}

// sitemap returns the page URLs a sitemap (or sitemap index, up to three
// levels) lists; on a 304 those it listed last time.
func (c *crawl) sitemap(u string, depth int, seen map[string]bool) []string {
	if depth > 3 || seen[u] {
		return nil
	}
	seen[u] = true
	old := c.old[u]
	resp, err := c.get(u, old)
	if err != nil {
		c.errs = append(c.errs, fmt.Errorf("sitemap %s: %w", u, err))
		c.next[u] = old
		return c.sitemapLinks(old, depth, seen)
	}
	defer resp.Body.Close()
	switch resp.StatusCode {
	case http.StatusNotModified:
		c.next[u] = old
		return c.sitemapLinks(old, depth, seen)
	case http.StatusOK:
	default:
		_, _ = io.Copy(io.Discard, io.LimitReader(resp.Body, 1<<16))
		c.errs = append(c.errs, fmt.Errorf("sitemap %s: %s", u, resp.Status))
		if resp.StatusCode >= 500 {
			c.next[u] = old
			return c.sitemapLinks(old, depth, seen)
		}
		return nil
	}
	body, err := c.read(resp)
	if err != nil {
		c.errs = append(c.errs, fmt.Errorf("sitemap %s: %w", u, err))
		return nil
	}
	var sm sitemapXML
	if err := xml.NewDecoder(bytes.NewReader(body)).Decode(&sm); err != nil {
		c.errs = append(c.errs, fmt.Errorf("sitemap %s: %w", u, err))
		return nil
	}
	e := validators(resp, kb.PageState{Hash: kindURLSet})
	for _, x := range sm.URLs {
		e.Links = append(e.Links, strings.TrimSpace(x.Loc))
	}
	if sm.XMLName.Local == kindSitemapIndex {
		e.Hash = kindSitemapIndex
		for _, x := range sm.Sitemaps {
			e.Links = append(e.Links, strings.TrimSpace(x.Loc))
		}
	}
	c.next[u] = e
	return c.sitemapLinks(e, depth, seen)
}

// sitemapLinks returns a sitemap entry's pages, reading the sitemaps an
// index entry names.
func (c *crawl) sitemapLinks(e kb.PageState, depth int, seen map[string]bool) []string {
	if e.Hash != kindSitemapIndex {
		return e.Links
	}
	var pages []string
	for _, s := range e.Links {
		if su, err := url.Parse(s); err == nil && su.Host == c.w.Start.Host {
			pages = append(pages, c.sitemap(s, depth+1, seen)...)
		}
	}
	return pages
}

// page fetches one page and brings its document in step. It returns the
// page's links (the stored ones on a 304).
func (c *crawl) page(u string) []string {
	old, known := c.old[u]
	resp, err := c.get(u, old)
	if err != nil {
		if c.ctx.Err() == nil {
			c.fail(u, old, known, err)
		}
		return old.Links
	}
	defer resp.Body.Close()
	switch {
	case resp.StatusCode == http.StatusNotModified && known:
		c.next[u] = old
		c.rep.Unchanged++
		return old.Links
	case resp.StatusCode == http.StatusNotFound || resp.StatusCode == http.StatusGone:
		_, _ = io.Copy(io.Discard, io.LimitReader(resp.Body, 1<<16))
		if known && old.Doc != "" {
			if err := c.store.DeleteDoc(c.ctx, old.Doc); err != nil {
				c.errs = append(c.errs, err)
			} else {
				c.rep.Removed++
			}
		}
		delete(c.old, u) // handled: not removed again at the end
		return nil       // not in next: gone
	case resp.StatusCode != http.StatusOK:
		_, _ = io.Copy(io.Discard, io.LimitReader(resp.Body, 1<<16))
		c.fail(u, old, known, errors.New(resp.Status))
		return old.Links
	}
	final := resp.Request.URL
	if final.Host != c.w.Start.Host {
		return nil // redirected off the site
	}
	if mt, _, _ := mime.ParseMediaType(resp.Header.Get("Content-Type")); mt != "text/html" && mt != "application/xhtml+xml" {
		_, _ = io.Copy(io.Discard, io.LimitReader(resp.Body, 1<<16))
		return nil
	}
	body, err := c.read(resp)
	if err != nil {
		c.fail(u, old, known, err)
		return old.Links
	}
	p, err := parseHTML(bytes.NewReader(body), final)
	if err != nil {
		c.fail(u, old, known, err)
		return old.Links
	}
	sum := sha256.Sum256([]byte(p.Title + "\x00" + p.Lang + "\x00" + p.Markdown))
	e := validators(resp, kb.PageState{Hash: hex.EncodeToString(sum[:]), Links: p.Links})
	c.rep.Read = append(c.rep.Read, u)
	if strings.TrimSpace(p.Markdown) == "" {
		if known && old.Doc != "" {
			if err := c.store.DeleteDoc(c.ctx, old.Doc); err == nil {
				c.rep.Removed++
			}
		}
		c.next[u] = e // a page without text: remembered for its links
		return p.Links
	}
	e.Doc = pageSource(final)
	if known && old.Doc == e.Doc && old.Hash == e.Hash {
		c.next[u] = e // new validators, same content
		c.rep.Unchanged++
		return p.Links
	}
	if known && old.Doc != "" && old.Doc != e.Doc {
		_ = c.store.DeleteDoc(c.ctx, old.Doc)
	}
	n, err := putMarkdown(c.ctx, c.store, kb.OriginWebsite, e.Doc, p.Title, final.String(), p.Lang, e.Hash, p.Markdown, c.now)
	if err != nil {
		c.fail(u, old, known, err)
		return p.Links
	}
	c.next[u] = e
	c.rep.Chunks += n
	if known && old.Doc != "" {
		c.rep.Updated++
	} else {
		c.rep.Added++
	}
	return p.Links
}

// fail counts a page that could not be read; it keeps its last good
// version.
func (c *crawl) fail(u string, old kb.PageState, known bool, err error) {
	c.rep.Failed++
	c.errs = append(c.errs, fmt.Errorf("%s: %w", u, err))
	if known {
		c.next[u] = old
	}
}

// pageSource is a page's document source: "web/" + host + path, with
// "index" for a path ending in "/".
func pageSource(u *url.URL) string {
	p := u.Path
	if p == "" || strings.HasSuffix(p, "/") {
		p += "index"
	}
	return "web/" + u.Host + p
}
