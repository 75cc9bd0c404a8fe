package bot_test

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"runtime"
	"sync"
	"testing"
	"time"

	"github.com/dgraph-io/badger/v4"

	"github.com/einsatz/einsatz/bot"
	"github.com/einsatz/einsatz/handlers/monitor"
	"github.com/einsatz/einsatz/handlers/sentiment"
	"github.com/einsatz/einsatz/storage"
)

// BenchmarkPipeline sends b.N events through the core (idempotency claim →
// router → a trivial handler → a durable, group-committed write of the
// reply) and compares the rate with raw Badger batched, synced writes of the
// same records measured in the same run. Reported metrics:
//
//	events/s     the pipeline's rate
//	raw_events/s Badger WriteBatch + Sync of the same records per event
//	ratio        events/s ÷ raw_events/s (the figure the README quotes)
//	allocs/event heap allocations per event in the pipeline
//
// The "sentiment" variants add the sentiment monitor as an observer: the
// offline analyzer plus a durable write of the scored row and its hourly
// and daily aggregates per message.
func BenchmarkPipeline(b *testing.B) {
	for _, sentiment := range []bool{false, true} {
		for _, concurrency := range []int{32, 128, 256} {
			name := fmt.Sprint("concurrency=", concurrency)
			if sentiment {
				name = "sentiment/" + name
			}
			b.Run(name, func(b *testing.B) {
				raw := rawBatchRate(b, b.N, sentiment)
				rate, allocs := pipelineRate(b, b.N, concurrency, sentiment)
				b.ReportMetric(rate, "events/s")
				b.ReportMetric(raw, "raw_events/s")
				b.ReportMetric(rate/raw, "ratio")
				b.ReportMetric(allocs, "allocs/event")
			})
		}
	}
}

func benchTurn(i int) []byte {
	v, _ := json.Marshal(bot.Turn{Role: bot.RoleUser, UserID: fmt.Sprint("user-", i%1000), Text: "How do I connect the bot to our Slack workspace?", Time: time.Now()})
	return v
}

// rawBatchRate writes what the pipeline writes per event (seen mark, user
// turn, user index entry, bot turn; with sentiment also the scored row, its
// index entry and the hour and day aggregates) with Badger's WriteBatch,
// syncing every 256 events, and returns events per second.
func rawBatchRate(b *testing.B, n int, withSentiment bool) float64 {
	b.Helper()
	db, err := badger.Open(badger.DefaultOptions(b.TempDir()).WithLogger(nil).WithSyncWrites(false).
		WithMemTableSize(8 << 20).WithNumMemtables(2).WithBlockCacheSize(8 << 20).WithIndexCacheSize(4 << 20))
	if err != nil {
		b.Fatal(err)
	}
	defer db.Close()
	start := time.Now()
	wb := db.NewWriteBatch()
	for i := range n {
		turn := benchTurn(i)
		hist := fmt.Sprintf("hist/bench/c/t%d/%016x-%08x", i, time.Now().UnixNano(), i)
		records := [][2][]byte{
			{[]byte(fmt.Sprint("seen/bench:", i)), nil},
			{[]byte(hist), turn},
			{[]byte(fmt.Sprintf("user/bench/user-%d/%s", i%1000, hist)), nil},
			{[]byte(hist + "b"), turn},
		}
		if withSentiment {
			row := fmt.Sprintf("sent/row/bench/c/%016x-%08x", time.Now().UnixNano(), i)
			records = append(records, [2][]byte{[]byte(row), turn}, [2][]byte{[]byte("user/bench/u/" + row), nil},
				[2][]byte{[]byte("sent/hour/bench/c/1"), turn}, [2][]byte{[]byte("sent/day/bench/c/1"), turn})
		}
		for _, kv := range records {
			if err := wb.SetEntry(badger.NewEntry(kv[0], kv[1]).WithTTL(time.Hour)); err != nil {
				b.Fatal(err)
			}
		}
		if (i+1)%256 == 0 || i == n-1 {
			if err := wb.Flush(); err != nil {
				b.Fatal(err)
			}
			if err := db.Sync(); err != nil {
				b.Fatal(err)
			}
			wb = db.NewWriteBatch()
		}
	}
	wb.Cancel()
	return float64(n) / time.Since(start).Seconds()
}

type countingSender struct{ wg *sync.WaitGroup }

func (s countingSender) Send(context.Context, bot.ThreadRef, bot.Reply) error {
	s.wg.Done()
	return nil
}

// pipelineRate returns events per second through the core and allocations
// per event.
func pipelineRate(b *testing.B, n, concurrency int, withSentiment bool) (float64, float64) {
	b.Helper()
	store, err := storage.Open(storage.Options{Path: b.TempDir(), Logger: slog.New(slog.NewTextHandler(io.Discard, nil))})
	if err != nil {
		b.Fatal(err)
	}
	defer store.Close()
	handler := bot.HandlerFunc(func(context.Context, *bot.Event) ([]bot.Reply, error) {
		return []bot.Reply{{Text: "Use Socket Mode: set SLACK_BOT_TOKEN and SLACK_APP_TOKEN."}}, nil
	})
	var observers []bot.Observer
	if withSentiment {
		a := sentiment.New()
		observers = append(observers, monitor.New(monitor.Options{Store: storage.NewSentiment(store), Logger: slog.New(slog.DiscardHandler),
			Analyze: func(text, lang string) monitor.Score {
				r := a.AnalyzeLang(text, lang)
				return monitor.Score{Label: r.Label, Score: r.Score, Lang: r.Lang}
			}}))
	}
	core := bot.New(bot.Options{
		Store: store, Router: bot.NewRouter(handler), Concurrency: concurrency, QueueSize: 4096, Observers: observers,
		Logger: slog.New(slog.NewTextHandler(io.Discard, nil)),
	})
	var wg sync.WaitGroup
	wg.Add(n)
	core.Register("bench", countingSender{&wg})
	text := "How do I connect the bot to our Slack workspace?"

	var before, after runtime.MemStats
	runtime.ReadMemStats(&before)
	b.ResetTimer()
	start := time.Now()
	for i := range n {
		for core.Saturated() {
			time.Sleep(50 * time.Microsecond)
		}
		ev := bot.Event{
			Key: fmt.Sprint("bench:", i), Kind: bot.KindMessage, Platform: "bench", ChannelID: "c",
			MessageID: fmt.Sprint(i), ThreadID: fmt.Sprint("t", i%1024), Mentioned: true,
			User: bot.User{Platform: "bench", ID: fmt.Sprint("user-", i%1000)}, Text: text,
		}
		if err := core.Submit(ev); err != nil {
			b.Fatal(err)
		}
	}
	wg.Wait()
	elapsed := time.Since(start)
	b.StopTimer()
	runtime.ReadMemStats(&after)
	core.Shutdown()
	return float64(n) / elapsed.Seconds(), float64(after.Mallocs-before.Mallocs) / float64(n)
}
