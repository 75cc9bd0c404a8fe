package knowledge_test

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/einsatz/einsatz/bot/kb/kbtest"
	"github.com/einsatz/einsatz/handlers/knowledge"
)

// bigSite is a generated docs site of n pages listed in its sitemap, each
// with navigation, a footer, a few sections, a list and a code block.
func bigSite(b *testing.B, n int) *docsSite {
	s := newDocsSite(b)
	s.pages["/robots.txt"] = "User-agent: *\nSitemap: " + s.srv.URL + "/sitemap.xml\n"
	var urls strings.Builder
	for i := range n {
		p := fmt.Sprintf("/docs/page-%04d", i)
		urls.WriteString("<url><loc>" + s.srv.URL + p + "</loc></url>")
		body := fmt.Sprintf(`<p>Page %d explains the widget setting number %d and when to change it.</p>
<h2>Default</h2><p>The default of setting %d is fine for most installations; change it when the log says so.</p>
<h2>Example</h2><pre><code>widget set s%d on</code></pre><ul><li>takes effect at once</li><li>survives restarts</li></ul>`, i, i, i, i)
		s.pages[p] = fmt.Sprintf(pageTmpl, fmt.Sprintf("Setting %d", i), fmt.Sprintf("Setting %d", i), body)
	}
	s.pages["/sitemap.xml"] = `<?xml version="1.0"?><urlset xmlns="http://www.sitemaps.org/schemas/sitemap/0.9">` + urls.String() + `</urlset>`
	return s
}

// The crawl of a 1,000-page site (fetch, extract, split, store, index) and
// the re-crawl of it unchanged, against plain GETs of the same pages in
// the same run as the baseline.
func BenchmarkWebsite1000(b *testing.B) {
	const n = 1000
	site := bigSite(b, n)
	ctx := context.Background()
	b.Run("baseline-plain-GETs", func(b *testing.B) {
		client := &http.Client{}
		for b.Loop() {
			for i := range n {
				resp, err := client.Get(fmt.Sprintf("%s/docs/page-%04d", site.srv.URL, i))
				if err != nil {
					b.Fatal(err)
				}
				_, _ = io.Copy(io.Discard, resp.Body)
				resp.Body.Close()
			}
		}
		b.ReportMetric(float64(n*b.N)/b.Elapsed().Seconds(), "pages/s")
	})
	b.Run("ingest", func(b *testing.B) {
		for b.Loop() {
			base := knowledge.NewBase(kbtest.NewMem(), nil, nil)
			remote := knowledge.NewRemote(base, kbtest.NewMemSources(), []knowledge.Source{newWebsite(b, site.srv.URL+"/docs/")}, nil, nil)
			reps, err := remote.SyncSources(ctx, nil)
			if err != nil || reps[0].Report.Added != n {
				b.Fatalf("%+v, %v", reps, err)
			}
			base.Close()
		}
		b.ReportMetric(float64(n*b.N)/b.Elapsed().Seconds(), "pages/s")
	})
	b.Run("recrawl-unchanged", func(b *testing.B) {
		base := knowledge.NewBase(kbtest.NewMem(), nil, nil)
		defer base.Close()
		remote := knowledge.NewRemote(base, kbtest.NewMemSources(), []knowledge.Source{newWebsite(b, site.srv.URL+"/docs/")}, nil, nil)
		if _, err := remote.SyncSources(ctx, nil); err != nil {
			b.Fatal(err)
		}
		site.counts()
		var requests, conditional, notModified int
		start := time.Now()
		for b.Loop() {
			reps, err := remote.SyncSources(ctx, nil)
			if err != nil || reps[0].Report.Unchanged != n {
				b.Fatalf("%+v, %v", reps, err)
			}
			r, c, m, _ := site.counts()
			requests, conditional, notModified = requests+r, conditional+c, notModified+m
		}
		b.ReportMetric(float64(requests)/float64(b.N), "requests/op")
		b.ReportMetric(float64(conditional)/float64(b.N), "conditional/op")
		b.ReportMetric(float64(notModified)/float64(b.N), "304s/op")
		b.ReportMetric(float64(n*b.N)/time.Since(start).Seconds(), "pages/s")
	})
}
