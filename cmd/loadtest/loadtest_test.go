package main

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"strings"
	"testing"
	"time"
)

// TestMain lets the harness start this test binary as the bare bot, as it
// starts the loadtest command itself.
func TestMain(m *testing.M) {
	if os.Getenv(roleEnv) == "bare" {
		if err := runBare(); err != nil {
			fmt.Fprintln(os.Stderr, "loadtest bare bot:", err)
			os.Exit(1)
		}
		os.Exit(0)
	}
	os.Exit(m.Run())
}

// A tiny load over both platforms: Einsatz and the bare bot answer every
// question once, and every figure of the report is measured. No timing
// is asserted: the machine may be busy.
func TestHarnessReportsBothBots(t *testing.T) {
	cfg := Config{Rate: 20, Duration: 2 * time.Second, Channels: 5, Users: 5, LLMLatency: 50 * time.Millisecond,
		Platforms: []string{"discord", "slack"}, Drain: 60 * time.Second, Bots: []string{"einsatz", "bare"}}
	if testing.Verbose() {
		cfg.Progress = os.Stderr
	}
	res, err := Run(context.Background(), cfg)
	if err != nil {
		t.Fatal(err)
	}
	if len(res) != 2 || res[0].Bot != "einsatz" || res[1].Bot != "bare" {
		t.Fatalf("results = %+v, want einsatz then bare", res)
	}
	for _, r := range res {
		if r.Sent != 40 || r.Answered != r.Sent || r.Lost != 0 || r.Duplicated != 0 {
			t.Errorf("%s: sent %d, answered %d, lost %d, duplicated %d; want 40 answered once each", r.Bot, r.Sent, r.Answered, r.Lost, r.Duplicated)
		}
		if r.P50 <= 0 || r.P99 < r.P50 || r.Max < r.P99 {
			t.Errorf("%s: latency p50 %s, p99 %s, max %s", r.Bot, r.P50, r.P99, r.Max)
		}
		if r.Acks < r.Sent/2 || r.AckP99 <= 0 {
			t.Errorf("%s: %d Slack acks, p99 %s; want one per Slack message at least", r.Bot, r.Acks, r.AckP99)
		}
		if r.CPU <= 0 || r.PeakRSS <= 0 || r.LLMCalls < r.Sent {
			t.Errorf("%s: CPU %s, peak RSS %d, %d LLM calls", r.Bot, r.CPU, r.PeakRSS, r.LLMCalls)
		}
	}
	var out bytes.Buffer
	report(&out, cfg, res)
	for _, want := range []string{"einsatz/bare", "answer latency p99", "Slack ack latency p99", "CPU per message", "peak RSS", "×"} {
		if !strings.Contains(out.String(), want) {
			t.Errorf("report lacks %q:\n%s", want, out.String())
		}
	}
}

func TestPercentile(t *testing.T) {
	ds := make([]time.Duration, 100)
	for i := range ds {
		ds[i] = time.Duration(100-i) * time.Millisecond // unsorted on purpose
	}
	for _, tt := range []struct {
		p    int
		want time.Duration
	}{{50, 50 * time.Millisecond}, {99, 99 * time.Millisecond}, {100, 100 * time.Millisecond}, {1, time.Millisecond}} {
		if got := pct(ds, tt.p); got != tt.want {
			t.Errorf("pct(%d) = %s, want %s", tt.p, got, tt.want)
		}
	}
	if got := pct(nil, 99); got != 0 {
		t.Errorf("pct of nothing = %s", got)
	}
}

func TestProcReadsOwnProcess(t *testing.T) {
	if _, err := os.Stat("/proc/self/stat"); err != nil {
		t.Skip("no /proc")
	}
	pid := os.Getpid()
	if _, err := cpuTime(pid); err != nil {
		t.Fatal(err)
	}
	rss, err := peakRSS(pid)
	if err != nil || rss < 1<<20 {
		t.Fatalf("peak RSS %d, %v", rss, err)
	}
}
