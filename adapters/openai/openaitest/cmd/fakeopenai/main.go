// Command fakeopenai runs the fake OpenAI-compatible API of package
// openaitest on its own, so a person can watch `einsatz run` or `einsatz
// chat` answer with an "LLM" without any account or network. It prints the
// base URL to put in llm.base_url and answers every chat request with the
// default script: a grounded-looking answer quoting the first source of the
// prompt and citing it as [1], or NOT_COVERED when the prompt has none.
//
//	go run ./adapters/openai/openaitest/cmd/fakeopenai -addr 127.0.0.1:11435
//	then set llm.base_url in config.yaml to the printed URL (see adapters/openai/README.md)
//
// Flags make it misbehave on purpose: -fail-every N answers every Nth
// request with -fail-status (429 carries Retry-After: -retry-after), and
// -delay holds every answer back.
package main

import (
	"flag"
	"fmt"
	"os"
	"os/signal"
	"strings"
	"sync/atomic"
	"syscall"

	"github.com/einsatz/einsatz/adapters/openai/openaitest"
)

func main() {
	addr := flag.String("addr", "127.0.0.1:0", "listen address")
	key := flag.String("key", "", "require this API key as Bearer (default: accept any)")
	delay := flag.Duration("delay", 0, "hold every answer back this long")
	failEvery := flag.Int("fail-every", 0, "fail every Nth request (0 = never)")
	failStatus := flag.Int("fail-status", 429, "HTTP status of the failures")
	retryAfter := flag.String("retry-after", "1", "Retry-After of 429 failures, in seconds")
	verbose := flag.Bool("v", false, "print every request's messages")
	flag.Parse()

	var n atomic.Int64
	script := func(req openaitest.Request) openaitest.Reply {
		i := n.Add(1)
		if *verbose {
			fmt.Printf("\n[request %d] %s model=%s stream=%v\n", i, req.Path, req.Model, req.Stream)
			for _, m := range req.Messages {
				fmt.Printf("  %s: %s\n", m.Role, strings.ReplaceAll(m.Content, "\n", "\n    "))
			}
			for _, in := range req.Input {
				fmt.Printf("  input: %s\n", in)
			}
		}
		if *failEvery > 0 && i%int64(*failEvery) == 0 {
			r := openaitest.Reply{Status: *failStatus, Delay: *delay}
			if *failStatus == 429 {
				r.RetryAfter = *retryAfter
			}
			return r
		}
		r := openaitest.GroundedEcho(req)
		r.Delay = *delay
		return r
	}
	s, err := openaitest.New(openaitest.Options{Addr: *addr, APIKey: *key, Reply: script,
		Logf: func(format string, args ...any) {
			if *verbose {
				fmt.Fprintf(os.Stderr, "fakeopenai: "+format+"\n", args...)
			}
		}})
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	defer s.Close()
	fmt.Printf("base_url: %s\n", s.URL)
	fmt.Printf("Point Einsatz at it, e.g. in config.yaml:\n  llm:\n    base_url: %s\n    model: fake\n", s.URL)
	if *key != "" {
		fmt.Println("    api_key: ${OPENAI_API_KEY}   # with OPENAI_API_KEY set to the -key value")
	}
	fmt.Println("Ctrl-C stops it.")

	stop := make(chan os.Signal, 1)
	signal.Notify(stop, os.Interrupt, syscall.SIGTERM)
	<-stop
}
