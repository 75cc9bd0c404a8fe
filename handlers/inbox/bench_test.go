package inbox_test

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"math/rand/v2"
	"slices"
	"testing"
	"time"

	"github.com/einsatz/einsatz/bot/request"
	"github.com/einsatz/einsatz/handlers/inbox"
	"github.com/einsatz/einsatz/storage"
)

// BenchmarkSubmit files feature requests into an inbox already holding 1k,
// 10k and 100k open items and reports the p50 and p99 time per request.
// Half the requests rephrase an existing item (they join it), half ask for
// something new. The baseline is the store's own write of the same mention
// (AddMention), measured in the same run: the ratio p99/base-p99 shows
// what matching adds, and should stay flat as the inbox grows.
//
//	go test -run '^$' -bench Submit -benchtime 2000x ./handlers/inbox/
func BenchmarkSubmit(b *testing.B) {
	for _, n := range []int{1_000, 10_000, 100_000} {
		b.Run(fmt.Sprintf("items=%d", n), func(b *testing.B) {
			ctx := context.Background()
			store, err := storage.Open(storage.Options{InMemory: true, Logger: slog.New(slog.NewTextHandler(io.Discard, nil))})
			if err != nil {
				b.Fatal(err)
			}
			defer store.Close()
			db := storage.NewInbox(store)
			rng := rand.New(rand.NewPCG(7, uint64(n)))
			// A vocabulary that grows with the inbox (Heaps' law), words drawn
			// with a Zipf skew, as in real requests.
			vocab := 2000 + n/4
			zipf := rand.NewZipf(rand.New(rand.NewPCG(9, uint64(n))), 1.1, 2, uint64(vocab-1))
			phrase := func() string {
				s := ""
				for range 3 + rng.IntN(3) {
					s += fmt.Sprintf("f%x ", zipf.Uint64())
				}
				return s
			}
			titles := make([]string, 0, n)
			t0 := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
			for i := range n {
				title := phrase()
				titles = append(titles, title)
				m := request.Mention{Platform: "bench", Channel: "c", MessageID: fmt.Sprintf("seed%d", i), UserID: fmt.Sprintf("u%d", i), Text: title, Time: t0, Source: request.SourceDetected}
				if _, _, err := db.Create(ctx, request.Item{Title: title, Status: request.StatusNew, Created: t0, Updated: t0}, m, request.Vote{Platform: "bench", UserID: m.UserID, Time: t0}); err != nil {
					b.Fatal(err)
				}
			}
			svc := inbox.New(inbox.Options{Store: db, Logger: slog.New(slog.NewTextHandler(io.Discard, nil))})
			defer svc.Close()
			// The first request builds the index from the store (once per start).
			start := time.Now()
			if _, err := svc.Submit(ctx, request.Mention{Platform: "bench", Channel: "c", MessageID: "warm", UserID: "w", Text: "warm up", Time: t0}, nil); err != nil {
				b.Fatal(err)
			}
			b.ReportMetric(float64(time.Since(start).Milliseconds()), "index-build-ms")

			submit := make([]time.Duration, 0, b.N)
			base := make([]time.Duration, 0, b.N)
			b.ResetTimer()
			for i := range b.N {
				text := phrase()
				if i%2 == 0 {
					text = "please add " + titles[rng.IntN(len(titles))]
				}
				m := request.Mention{Platform: "bench", Channel: "c", MessageID: fmt.Sprintf("r%d", i), UserID: fmt.Sprintf("r%d", i), Text: text, Time: t0, Source: request.SourceDetected}
				s := time.Now()
				if _, err := svc.Submit(ctx, m, nil); err != nil {
					b.Fatal(err)
				}
				submit = append(submit, time.Since(s))
				// Baseline: the bare store write of a mention on a random item.
				m.MessageID = fmt.Sprintf("b%d", i)
				s = time.Now()
				if _, _, _, err := db.AddMention(ctx, 1+rng.IntN(n), m, request.Vote{Platform: "bench", UserID: m.UserID, Time: t0}); err != nil {
					b.Fatal(err)
				}
				base = append(base, time.Since(s))
			}
			b.StopTimer()
			p := func(d []time.Duration, q float64) float64 {
				slices.Sort(d)
				return float64(d[int(q*float64(len(d)-1))].Microseconds())
			}
			b.ReportMetric(p(submit, 0.5), "p50-µs")
			b.ReportMetric(p(submit, 0.99), "p99-µs")
			b.ReportMetric(p(base, 0.99), "base-p99-µs")
			b.ReportMetric(p(submit, 0.99)/max(1, p(base, 0.99)), "p99/base")
		})
	}
}
