package detect

import (
	"slices"
	"testing"
	"time"

	"github.com/jonreiter/govader"
)

// BenchmarkDetectVsGovader measures DetectLang and, in the same run and on
// the same messages (the development sets), github.com/jonreiter/govader,
// the sentiment analyzer the project's throughput goal is stated against,
// and reports how many times faster the detector is:
//
//	go test ./handlers/inbox/detect/ -run '^$' -bench VsGovader
func BenchmarkDetectVsGovader(b *testing.B) {
	var msgs []publicMessage
	for _, s := range devSources {
		msgs = append(msgs, readDev(b, s.file)...)
	}
	g := govader.NewSentimentIntensityAnalyzer()
	// Alternating slices of time, so that a busy machine slows both alike.
	var ours, theirs []float64
	for range 5 {
		theirs = append(theirs, perSecond(func(i int) { _ = g.PolarityScores(msgs[i%len(msgs)].Text) }))
		ours = append(ours, perSecond(func(i int) { m := &msgs[i%len(msgs)]; _ = DetectLang(m.Text, m.Lang) }))
	}
	slices.Sort(ours)
	slices.Sort(theirs)
	b.ReportAllocs()
	for i := 0; b.Loop(); i++ {
		m := &msgs[i%len(msgs)]
		DetectLang(m.Text, m.Lang)
	}
	b.ReportMetric(ours[2], "msgs/s")
	b.ReportMetric(theirs[2], "govader-msgs/s")
	b.ReportMetric(ours[2]/theirs[2], "x-govader")
}

// perSecond runs f for about 150 ms and returns calls per second.
func perSecond(f func(i int)) float64 {
	start := time.Now()
	n := 0
	for time.Since(start) < 150*time.Millisecond {
		for range 200 {
			f(n)
			n++
		}
	}
	return float64(n) / time.Since(start).Seconds()
}
