package web_test

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/einsatz/einsatz/adapters/web"
	"github.com/einsatz/einsatz/bot"
	"github.com/einsatz/einsatz/bot/kb"
	"github.com/einsatz/einsatz/bot/solved"
	"github.com/einsatz/einsatz/handlers/knowledge"
	"github.com/einsatz/einsatz/handlers/solutions"
	"github.com/einsatz/einsatz/storage"
)

// BenchmarkPublicAnswerPage serves /answers/{slug} out of 1,000 published
// answers to 8 concurrent clients over loopback and reports the p99
// latency of a page, and of /healthz through the same server in the same
// run as the baseline (the ratio is what to compare across machines), and
// the p99 of a knowledge document's page out of 1,000 (doc-p99-*):
//
//	go test -run '^$' -bench PublicAnswerPage -benchtime 2000x ./adapters/web/
func BenchmarkPublicAnswerPage(b *testing.B) {
	const answers, clients = 1000, 8
	store, err := storage.Open(storage.Options{InMemory: true, Logger: discard()})
	if err != nil {
		b.Fatal(err)
	}
	defer store.Close()
	ctx := context.Background()
	cands := storage.NewSolved(store)
	now := time.Now()
	slugs := make([]string, answers)
	for i := range answers {
		id := fmt.Sprintf("%012x", 0xa00000000000+i)
		q := fmt.Sprintf("How do I rotate the sync token number %d without losing queued items?", i)
		c := solved.Candidate{ID: id, Thread: bot.ThreadRef{Platform: "discord", ChannelID: "1", ThreadID: fmt.Sprint(i)},
			Lang: "en", Status: solved.StatusApproved, Rewritten: true, Question: q,
			Answer: "Create a new token under Settings → Tokens, then run:\n\n```sh\neinsatz sync --resume\n```\n\nThe queued items are kept; see https://docs.example.org/sync for details.",
			By:     "staff", Created: now.Add(-time.Duration(i) * time.Minute), Reviewed: now}
		if err := cands.PutCandidate(ctx, c); err != nil {
			b.Fatal(err)
		}
		slugs[i] = solutions.Slug(q, id)
	}
	// As many knowledge documents as answers, served from memory.
	kbs := storage.NewKB(store)
	docSlugs := make([]string, answers)
	for i := range answers {
		source := fmt.Sprintf("guide/page-%d.md", i)
		chunks, err := knowledge.Split(source, fmt.Appendf(nil, "# Guide page %d\n\nIntro.\n\n## Setup\n\nRun `einsatz setup %d`.\n", i, i))
		if err != nil {
			b.Fatal(err)
		}
		if err := kbs.PutDoc(ctx, kb.Doc{Source: source, Origin: kb.OriginFile, Title: chunks[0].Title, Chunks: len(chunks), Synced: now}, chunks); err != nil {
			b.Fatal(err)
		}
		docSlugs[i] = knowledge.PageSlug(chunks[0].Title, knowledge.PageHash(source))
	}
	docs := knowledge.NewBase(kbs, nil, discard())
	if err := docs.Rebuild(ctx); err != nil {
		b.Fatal(err)
	}
	defer docs.Close()
	svc := solutions.New(solutions.Options{Store: cands, Publish: true, Logger: discard()})
	core := bot.New(bot.Options{Store: store, Logger: discard()})
	srv, err := web.New(web.Options{Addr: "127.0.0.1:0", Store: store, Core: core, Logger: discard(), BotName: "Einsatz"})
	if err != nil {
		b.Fatal(err)
	}
	srv.AddAnswers(svc, "https://help.example.org/")
	srv.AddPublicDocs(docs)
	runCtx, cancel := context.WithCancel(ctx)
	done := make(chan error, 1)
	go func() { done <- core.Run(runCtx, srv) }()
	defer func() { cancel(); <-done }()
	<-srv.Ready()
	client := &http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: clients}}

	p99 := func(paths func(i int) string) time.Duration {
		lat := make([]time.Duration, b.N)
		var wg sync.WaitGroup
		var next sync.Mutex
		i := 0
		for range clients {
			wg.Go(func() {
				for {
					next.Lock()
					n := i
					i++
					next.Unlock()
					if n >= b.N {
						return
					}
					start := time.Now()
					resp, err := client.Get(srv.URL() + paths(n))
					if err != nil {
						b.Error(err)
						return
					}
					_, _ = io.Copy(io.Discard, resp.Body)
					resp.Body.Close()
					if resp.StatusCode != http.StatusOK {
						b.Errorf("%s: %d", paths(n), resp.StatusCode)
						return
					}
					lat[n] = time.Since(start)
				}
			})
		}
		wg.Wait()
		slices.Sort(lat)
		return lat[len(lat)*99/100]
	}
	b.ResetTimer()
	page := p99(func(i int) string { return web.AnswersPath + slugs[i%answers] })
	b.StopTimer()
	base := p99(func(int) string { return "/healthz" })
	doc := p99(func(i int) string { return web.DocsPath + docSlugs[i%answers] })
	b.ReportMetric(float64(doc.Microseconds())/1000, "doc-p99-ms")
	b.ReportMetric(float64(doc)/float64(max(base, time.Microsecond)), "doc-p99-ratio")
	b.ReportMetric(float64(page.Microseconds())/1000, "page-p99-ms")
	b.ReportMetric(float64(base.Microseconds())/1000, "healthz-p99-ms")
	b.ReportMetric(float64(page)/float64(max(base, time.Microsecond)), "p99-ratio")
}
