package sentiment

import (
	"bytes"
	"cmp"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"runtime"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/jonreiter/govader"
)

// benchTexts are the dev texts when shared/data is present, else a built-in sample.
var benchTexts = sync.OnceValue(func() []string {
	var texts []string
	if d, err := findDevDir(); err == nil {
		for _, f := range []string{"tweeteval_sentiment_val.jsonl", "sb10k_dev.jsonl", "potts_dev.jsonl"} {
			b, err := os.ReadFile(filepath.Join(d, f))
			if err != nil {
				continue
			}
			for _, line := range strings.Split(string(b), "\n") {
				var it devItem
				if jsonUnmarshal(line, &it) == nil && it.Text != "" {
					texts = append(texts, it.Text)
				}
			}
		}
	}
	if len(texts) == 0 {
		texts = sampleTexts
	}
	return texts
})

var sampleTexts = []string{
	"I love this bot, it answered my question in seconds :)",
	"This update is terrible and the app keeps crashing. Not happy at all 😡",
	"Does anyone know when the next release is planned?",
	"The docs are nice but the setup was soooo annoying",
	"@team thanks a lot, that fixed it 👍",
	"meh, it's ok I guess",
	"Das ist echt super, vielen Dank für die schnelle Hilfe!",
	"Seit dem Update geht gar nichts mehr. Total nervig -.-",
	"Weiß jemand, wie ich das Passwort ändern kann?",
	"Die Idee ist gut, aber die Umsetzung ist leider furchtbar",
	"mega geil, hdl ❤️",
	"RT @news: Neue Version 2.3 veröffentlicht http://example.com/release #update",
}

type reference struct {
	msgsPerSec, allocsPerMsg, bytesPerMsg float64
}

// comparison holds both analyzers measured on the same texts in the same run.
type comparison struct{ ours, govader reference }

// compare measures our analyzer and github.com/jonreiter/govader on the same texts, in
// alternating slices of time so that a noisy machine affects both alike. It times plain loops
// (testing.Benchmark cannot be nested inside a running benchmark). Once per process.
var compare = sync.OnceValue(measureBoth)

func measureBoth() comparison {
	texts := benchTexts()
	a := New()
	g := govader.NewSentimentIntensityAnalyzer()
	var c comparison
	var ours, gov []reference
	for range 5 {
		gov = append(gov, measure(func(i int) { _ = g.PolarityScores(texts[i%len(texts)]) }))
		ours = append(ours, measure(func(i int) { _ = a.Analyze(texts[i%len(texts)]) }))
	}
	c.ours, c.govader = median(ours), median(gov)
	return c
}

func median(rs []reference) reference {
	slices.SortFunc(rs, func(a, b reference) int { return cmp.Compare(a.msgsPerSec, b.msgsPerSec) })
	return rs[len(rs)/2]
}

// measure runs f for at least half a second and reports per-call figures.
func measure(f func(i int)) reference {
	for i := range 1000 { // warm up
		f(i)
	}
	var ms0, ms1 runtime.MemStats
	runtime.GC()
	runtime.ReadMemStats(&ms0)
	start := time.Now()
	n := 0
	for time.Since(start) < 150*time.Millisecond {
		for range 1000 {
			f(n)
			n++
		}
	}
	el := time.Since(start)
	runtime.ReadMemStats(&ms1)
	return reference{
		msgsPerSec:   float64(n) / el.Seconds(),
		allocsPerMsg: float64(ms1.Mallocs-ms0.Mallocs) / float64(n),
		bytesPerMsg:  float64(ms1.TotalAlloc-ms0.TotalAlloc) / float64(n),
	}
}

// BenchmarkAnalyze measures Analyze (with language detection) on the dev texts and, in the same
// run, govader on the same texts, and reports the ratios:
//
//	go test ./handlers/sentiment/ -run '^$' -bench BenchmarkAnalyze -benchmem
func BenchmarkAnalyze(b *testing.B) {
	texts := benchTexts()
	a := New()
	c := compare()
	b.ReportAllocs()
	b.ResetTimer()
	for i := range b.N {
		_ = a.Analyze(texts[i%len(texts)])
	}
	b.StopTimer()
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "msgs/s")
	b.ReportMetric(c.govader.msgsPerSec, "govader_msgs/s")
	b.ReportMetric(c.govader.allocsPerMsg, "govader_allocs/msg")
	b.ReportMetric(c.ours.allocsPerMsg, "allocs/msg")
	b.ReportMetric(c.ours.msgsPerSec/c.govader.msgsPerSec, "x_govader_throughput")
	b.ReportMetric(float64(len(texts)), "texts")
}

// BenchmarkAnalyzeStream measures `einsatz analyze` end to end (JSON in, JSON out).
func BenchmarkAnalyzeStream(b *testing.B) {
	input := streamInput2000()
	a := New()
	b.SetBytes(int64(len(input)))
	b.ResetTimer()
	lines := 0
	for range b.N {
		n, err := AnalyzeStream(bytes.NewReader(input), io.Discard, a, nil)
		if err != nil {
			b.Fatal(err)
		}
		lines += n
	}
	b.ReportMetric(float64(lines)/b.Elapsed().Seconds(), "lines/s")
}

func streamInput2000() []byte {
	texts := benchTexts()
	var in bytes.Buffer
	for i := range 2000 {
		fmt.Fprintf(&in, "{\"text\":%s}\n", jsonString(texts[i%len(texts)]))
	}
	return in.Bytes()
}

// TestAnalyzeAllocatesNothing checks that scoring a message allocates
// nothing, counted (not timed) with testing.AllocsPerRun. Speed is a
// benchmark's business: BenchmarkAnalyze reports the throughput ratio to
// govader measured in the same run (x_govader_throughput; the README lists
// the last figures). The race detector allocates on its own, so the count
// is skipped under -race.
func TestAnalyzeAllocatesNothing(t *testing.T) {
	if raceEnabled {
		t.Skip("the race detector allocates; allocation counts are checked without -race")
	}
	texts := benchTexts()
	a := New()
	for _, text := range texts[:min(len(texts), 200)] {
		_ = a.Analyze(text) // warm up lazily built tables
	}
	i := 0
	allocs := testing.AllocsPerRun(2000, func() {
		_ = a.Analyze(texts[i%len(texts)])
		i++
	})
	if allocs > 0.01 {
		t.Errorf("Analyze allocates %.3f times per message, want 0", allocs)
	}
}
