package bot_test

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"runtime"
	"sync"
	"syscall"
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
//	syncs/event  fsyncs per event in the pipeline (storage.WriteStats)
//	txns/event   Badger transactions committed per event in the pipeline
//	cpu_ratio    process CPU time (user+system) per event in the pipeline ÷
//	             that of the raw writes (getrusage; the machine's other load
//	             is not counted, but the benchmark's own goroutines are)
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
				rawCPU := cpuTime()
				raw := rawBatchRate(b, b.N, sentiment)
				rawCPU = cpuTime() - rawCPU
				cpu := cpuTime()
				p := pipelineRate(b, b.N, concurrency, sentiment)
				cpu = cpuTime() - cpu
				n := float64(b.N)
				b.ReportMetric(p.rate, "events/s")
				b.ReportMetric(raw, "raw_events/s")
				b.ReportMetric(p.rate/raw, "ratio")
				b.ReportMetric(p.allocs, "allocs/event")
				b.ReportMetric(float64(p.writes.Syncs)/n, "syncs/event")
				b.ReportMetric(float64(p.writes.Txns)/n, "txns/event")
				b.ReportMetric(cpu.Seconds()/rawCPU.Seconds(), "cpu_ratio")
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

// cpuTime is the process's CPU time so far, user and system.
func cpuTime() time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

type pipelineResult struct {
	rate, allocs float64 // events per second, allocations per event
	writes       storage.WriteStats
}

// pipelineRate runs n events through the core: their rate, allocations and
// the store's write counts from the first event until every reply was sent
// and the core shut down (the records written after the replies included).
func pipelineRate(b *testing.B, n, concurrency int, withSentiment bool) pipelineResult {
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
	writesBefore := store.WriteStats()
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
	if err := store.Close(); err != nil {
		b.Fatal(err)
	}
	w := store.WriteStats()
	w.Writes -= writesBefore.Writes
	w.Batches -= writesBefore.Batches
	w.Txns -= writesBefore.Txns
	w.Syncs -= writesBefore.Syncs
	return pipelineResult{rate: float64(n) / elapsed.Seconds(), allocs: float64(after.Mallocs-before.Mallocs) / float64(n), writes: w}
}

// BenchmarkPipelinePaced sends b.N events through the core at a fixed rate
// (300/s over 200 threads, a handler that takes 20 ms), the regime of a
// live bot, where events arrive one at a time rather than in a saturated
// stream, and compares its CPU time with raw Badger writing the same records
// at the same pace in the same run: per event one transaction and one fsync
// (the least a bot that acknowledges only durable events can do). Reported:
//
//	syncs/event  fsyncs per event in the pipeline (storage.WriteStats)
//	durable/event writes per event whose writer waited for an fsync
//	txns/event   Badger transactions per event in the pipeline
//	batches/event the committer's batches per event
//	cpu_ratio    process CPU time (user+system) per event, pipeline ÷ raw
//
// Use -benchtime 900x or more (3 s at 300/s).
func BenchmarkPipelinePaced(b *testing.B) {
	const rate = 300
	interval := time.Second / rate
	rawCPU := cpuTime()
	rawPaced(b, b.N, interval)
	rawCPU = cpuTime() - rawCPU

	store, err := storage.Open(storage.Options{Path: b.TempDir(), Logger: slog.New(slog.DiscardHandler)})
	if err != nil {
		b.Fatal(err)
	}
	defer store.Close()
	handler := bot.HandlerFunc(func(ctx context.Context, _ *bot.Event) ([]bot.Reply, error) {
		time.Sleep(20 * time.Millisecond)
		return []bot.Reply{{Text: "Use Socket Mode: set SLACK_BOT_TOKEN and SLACK_APP_TOKEN."}}, nil
	})
	core := bot.New(bot.Options{Store: store, Router: bot.NewRouter(handler), Concurrency: 128, QueueSize: 4096, Logger: slog.New(slog.DiscardHandler)})
	var wg sync.WaitGroup
	wg.Add(b.N)
	core.Register("bench", doneCounter{&wg})
	before := store.WriteStats()
	cpu := cpuTime()
	b.ResetTimer()
	start := time.Now()
	for i := range b.N {
		time.Sleep(time.Until(start.Add(time.Duration(i) * interval)))
		ev := bot.Event{
			Key: fmt.Sprint("bench:", i), Kind: bot.KindMessage, Platform: "bench", ChannelID: "c",
			MessageID: fmt.Sprint(i), ThreadID: fmt.Sprint("t", i%200), Mentioned: true,
			User: bot.User{Platform: "bench", ID: fmt.Sprint("user-", i%100)}, Text: "How do I connect the bot to our Slack workspace?",
		}
		if err := core.Submit(ev); err != nil {
			b.Fatal(err)
		}
	}
	wg.Wait()
	b.StopTimer()
	core.Shutdown()
	if err := store.Close(); err != nil { // commits the last queued records
		b.Fatal(err)
	}
	cpu = cpuTime() - cpu
	w := store.WriteStats()
	n := float64(b.N)
	b.ReportMetric(float64(w.Syncs-before.Syncs)/n, "syncs/event")
	b.ReportMetric(float64(w.Durable-before.Durable)/n, "durable/event")
	b.ReportMetric(float64(w.Txns-before.Txns)/n, "txns/event")
	b.ReportMetric(float64(w.Batches-before.Batches)/n, "batches/event")
	b.ReportMetric(cpu.Seconds()/rawCPU.Seconds(), "cpu_ratio")
	b.ReportMetric(float64(cpu.Microseconds())/n, "cpu_µs/event")
	b.ReportMetric(float64(rawCPU.Microseconds())/n, "raw_cpu_µs/event")
}

// doneCounter counts an event done when the core reports it complete
// (after its replies were sent and its unfinished record let go).
type doneCounter struct{ wg *sync.WaitGroup }

func (doneCounter) Send(context.Context, bot.ThreadRef, bot.Reply) error { return nil }
func (s doneCounter) Completed(*bot.Event)                               { s.wg.Done() }

// rawPaced writes, at the given pace, each event's records (seen mark, user
// turn, its user index entry, unfinished record; then the bot turn and the
// unfinished record's delete) in one Badger transaction and one fsync.
func rawPaced(b *testing.B, n int, interval time.Duration) {
	b.Helper()
	db, err := badger.Open(badger.DefaultOptions(b.TempDir()).WithLogger(nil).WithSyncWrites(false).
		WithMemTableSize(8 << 20).WithNumMemtables(2).WithBlockCacheSize(8 << 20).WithIndexCacheSize(4 << 20))
	if err != nil {
		b.Fatal(err)
	}
	defer db.Close()
	start := time.Now()
	for i := range n {
		time.Sleep(time.Until(start.Add(time.Duration(i) * interval)))
		turn := benchTurn(i)
		hist := fmt.Sprintf("hist/bench/c/t%d/%016x-%08x", i%200, time.Now().UnixNano(), i)
		err := db.Update(func(txn *badger.Txn) error {
			for _, kv := range [][2][]byte{
				{[]byte(fmt.Sprint("seen/bench:", i)), nil},
				{[]byte(hist), turn},
				{[]byte(fmt.Sprintf("user/bench/user-%d/%s", i%100, hist)), nil},
				{[]byte(fmt.Sprint("unfinished/bench:", i)), turn},
				{[]byte(hist + "b"), turn},
			} {
				if err := txn.SetEntry(badger.NewEntry(kv[0], kv[1]).WithTTL(time.Hour)); err != nil {
					return err
				}
			}
			return txn.Delete([]byte(fmt.Sprint("unfinished/bench:", i)))
		})
		if err != nil {
			b.Fatal(err)
		}
		if err := db.Sync(); err != nil {
			b.Fatal(err)
		}
	}
}
