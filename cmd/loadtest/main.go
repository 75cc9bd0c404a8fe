// Command loadtest drives the project's fake Discord, Slack and OpenAI
// servers at a fixed message rate over many channels and users, against
// Einsatz (the einsatz binary, built from this module) and against a bare
// reference bot written directly on discordgo, slack-go and go-openai
// (bare.go). Each bot runs in its own child process, one after the other,
// against fresh fakes, so CPU time and peak RSS are its own. It reports
// answered, lost and duplicated questions, answer latency (message sent to
// the reply seen by the fake platform), Slack ack latency, CPU per message
// and peak RSS side by side, with Einsatz/bare ratios.
//
//	go run ./cmd/loadtest -rate 100 -duration 20s -channels 200 -llm-latency 500ms
//	go run ./cmd/loadtest -rate 100 -duration 20s -llm-latency 3s   # a slow model
//
// The bare bot has no limit on concurrent model calls; Einsatz gets
// -llm-max-concurrent as llm.max_concurrent (default 1024, the most it
// accepts, so both wait only on the model; set it to a provider's limit to
// see answers degrade to extractive ones past llm.timeout).
package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"strings"
	"text/tabwriter"
	"time"
)

func main() {
	if os.Getenv(roleEnv) == "bare" {
		if err := runBare(); err != nil {
			fmt.Fprintln(os.Stderr, "loadtest bare bot:", err)
			os.Exit(1)
		}
		return
	}
	cfg := Config{}
	var platforms, bots string
	flag.Float64Var(&cfg.Rate, "rate", 100, "messages per second, over all platforms")
	flag.DurationVar(&cfg.Duration, "duration", 20*time.Second, "how long to send")
	flag.IntVar(&cfg.Channels, "channels", 200, "channels, split over the platforms")
	flag.IntVar(&cfg.Users, "users", 100, "users, split over the platforms")
	flag.DurationVar(&cfg.LLMLatency, "llm-latency", 500*time.Millisecond, "the fake LLM's delay per call")
	flag.IntVar(&cfg.LLMMaxConcurrent, "llm-max-concurrent", 1024, "Einsatz's llm.max_concurrent (0 = its default, 8)")
	flag.StringVar(&platforms, "platforms", "discord,slack", "platforms to load, comma-separated")
	flag.DurationVar(&cfg.Drain, "drain", 30*time.Second, "how long to wait for answers after the last message")
	flag.StringVar(&cfg.Einsatz, "einsatz", "", "an einsatz binary to measure (default: go build this module's)")
	flag.StringVar(&cfg.CPUProfile, "cpuprofile", "", "write Einsatz's CPU profile (the whole run) to this file")
	flag.StringVar(&cfg.MemProfile, "memprofile", "", "write Einsatz's allocation profile (at exit) to this file")
	flag.StringVar(&cfg.LogDir, "logdir", "", "keep each bot's log in this directory (BOT.log)")
	flag.StringVar(&bots, "bots", "einsatz,bare", "bots to measure, comma-separated")
	flag.Parse()
	cfg.Platforms = strings.Split(platforms, ",")
	cfg.Bots = strings.Split(bots, ",")
	cfg.Progress = os.Stderr

	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt)
	defer stop()
	res, err := Run(ctx, cfg)
	if len(res) > 0 {
		report(os.Stdout, cfg, res)
	}
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
}

// report prints the results side by side; with two bots, a ratio column
// (first / second).
func report(w io.Writer, cfg Config, res []Result) {
	fmt.Fprintf(w, "%.0f msg/s for %s over %d channels and %d users on %s, LLM latency %s\n\n",
		cfg.Rate, cfg.Duration, cfg.Channels, cfg.Users, strings.Join(cfg.Platforms, "+"), cfg.LLMLatency)
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', tabwriter.AlignRight)
	row := func(name string, val func(Result) string, ratio func(a, b Result) string) {
		fmt.Fprintf(tw, "%s\t", name)
		for _, r := range res {
			fmt.Fprintf(tw, "%s\t", val(r))
		}
		if len(res) == 2 {
			s := ""
			if ratio != nil {
				s = ratio(res[0], res[1])
			}
			fmt.Fprintf(tw, "%s\t", s)
		}
		fmt.Fprintln(tw)
	}
	head := func(r Result) string { return r.Bot }
	row("", head, func(a, b Result) string { return a.Bot + "/" + b.Bot })
	n := func(f func(Result) int) func(Result) string { return func(r Result) string { return fmt.Sprint(f(r)) } }
	ms := func(f func(Result) time.Duration) func(Result) string {
		return func(r Result) string { return fmt.Sprintf("%.1f ms", float64(f(r))/float64(time.Millisecond)) }
	}
	ratio := func(f func(Result) float64) func(a, b Result) string {
		return func(a, b Result) string {
			if f(b) == 0 {
				return "–"
			}
			return fmt.Sprintf("%.2f×", f(a)/f(b))
		}
	}
	dur := func(f func(Result) time.Duration) func(Result) float64 {
		return func(r Result) float64 { return float64(f(r)) }
	}
	row("sent", n(func(r Result) int { return r.Sent }), nil)
	// The fakes and the sender share the machine with the bot: a send time
	// well over -duration means the harness itself fell behind.
	row("send time", func(r Result) string { return fmt.Sprintf("%.1f s", r.SendTime.Seconds()) }, nil)
	row("answered", n(func(r Result) int { return r.Answered }), nil)
	row("lost", n(func(r Result) int { return r.Lost }), nil)
	row("duplicated", n(func(r Result) int { return r.Duplicated }), nil)
	p50 := func(r Result) time.Duration { return r.P50 }
	p99 := func(r Result) time.Duration { return r.P99 }
	mx := func(r Result) time.Duration { return r.Max }
	ack := func(r Result) time.Duration { return r.AckP99 }
	cpu := func(r Result) time.Duration { return r.CPUPerMessage() }
	row("answer latency p50", ms(p50), ratio(dur(p50)))
	row("answer latency p99", ms(p99), ratio(dur(p99)))
	row("answer latency max", ms(mx), ratio(dur(mx)))
	if contains(cfg.Platforms, "slack") {
		row("Slack ack latency p99", ms(ack), ratio(dur(ack)))
	}
	row("CPU per message", func(r Result) string { return fmt.Sprintf("%.2f ms", float64(cpu(r))/float64(time.Millisecond)) }, ratio(dur(cpu)))
	row("peak RSS", func(r Result) string { return fmt.Sprintf("%.0f MB", float64(r.PeakRSS)/(1<<20)) },
		ratio(func(r Result) float64 { return float64(r.PeakRSS) }))
	row("LLM calls", n(func(r Result) int { return r.LLMCalls }), nil)
	tw.Flush()
}

func contains(list []string, s string) bool {
	for _, v := range list {
		if v == s {
			return true
		}
	}
	return false
}
