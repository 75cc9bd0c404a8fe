package web_test

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/einsatz/einsatz/adapters/web"
	"github.com/einsatz/einsatz/bot"
	"github.com/einsatz/einsatz/bot/bottest"
	"github.com/einsatz/einsatz/storage"
)

// Past its queue bound the core keeps events in storage and /readyz says
// 503 (the metric einsatz_saturated is 1); once the load is worked off,
// every event has been handled once and /readyz is 200 again.
func TestReadyzWhileSaturatedAndAfterRecovery(t *testing.T) {
	store, err := storage.Open(storage.Options{InMemory: true, Logger: discard()})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { store.Close() })
	release := make(chan struct{})
	handled := map[string]int{}
	done := make(chan string, 32)
	handler := bot.HandlerFunc(func(_ context.Context, ev *bot.Event) ([]bot.Reply, error) {
		<-release // controlled load: nothing is handled until the test says so
		done <- ev.Text
		return nil, nil
	})
	clock := bottest.NewClock(time.Unix(1_700_000_000, 0))
	reg := prometheus.NewRegistry()
	core := bot.New(bot.Options{Store: store, Router: bot.NewRouter(handler), QueueSize: 4, Concurrency: 1,
		Clock: clock, Metrics: web.NewMetrics(reg), Logger: discard()})
	web.WatchCore(reg, core)
	srv, err := web.New(web.Options{Addr: "127.0.0.1:0", Store: store, Core: core, Gatherer: reg, Logger: discard(),
		CredentialFile: filepath.Join(t.TempDir(), web.CredentialFileName)})
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	runDone := make(chan error, 1)
	go func() { runDone <- core.Run(ctx, srv) }()
	<-srv.Ready()
	t.Cleanup(func() {
		cancel()
		if err := <-runDone; err != nil {
			t.Errorf("run: %v", err)
		}
	})

	ready := func() (int, string) {
		t.Helper()
		resp, err := http.Get(srv.URL() + "/readyz")
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		body, _ := io.ReadAll(resp.Body)
		return resp.StatusCode, string(body)
	}
	saturatedMetric := func() string {
		t.Helper()
		resp, err := http.Get(srv.URL() + "/metrics")
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		body, _ := io.ReadAll(resp.Body)
		for _, line := range strings.Split(string(body), "\n") {
			if strings.HasPrefix(line, "einsatz_saturated ") {
				return line
			}
		}
		return "einsatz_saturated missing"
	}
	if code, body := ready(); code != http.StatusOK {
		t.Fatalf("readyz before load: %d %s", code, body)
	}

	const sent = 12
	spilled := 0
	for i := range sent {
		err := core.Submit(bot.Event{Key: fmt.Sprint(i), Kind: bot.KindMessage, DM: true, Platform: "test",
			ChannelID: "c", ThreadID: fmt.Sprint("t", i), MessageID: fmt.Sprint(i), Text: fmt.Sprint("m", i)})
		switch {
		case errors.Is(err, bot.ErrQueueFull):
			spilled++
		case err != nil:
			t.Fatalf("submit %d: %v", i, err)
		}
	}
	if spilled == 0 {
		t.Fatal("no event was kept in storage past the queue bound")
	}
	code, body := ready()
	var status struct {
		Problems []string `json:"problems"`
	}
	_ = json.Unmarshal([]byte(body), &status)
	if code != http.StatusServiceUnavailable || len(status.Problems) != 1 || status.Problems[0] != "event queue saturated" {
		t.Fatalf("readyz while saturated: %d %s", code, body)
	}
	if got := saturatedMetric(); got != "einsatz_saturated 1" {
		t.Fatalf("metric while saturated: %q", got)
	}

	close(release)
	deadline := time.Now().Add(10 * time.Second)
	for len(handled) < sent {
		select {
		case text := <-done:
			handled[text]++
		case <-time.After(time.Millisecond):
			clock.Advance(time.Second) // the replay of kept events runs on the clock
		}
		if time.Now().After(deadline) {
			t.Fatalf("handled %d of %d events after the load ended", len(handled), sent)
		}
	}
	for text, n := range handled {
		if n != 1 {
			t.Fatalf("%s handled %d times", text, n)
		}
	}
	for code, body = ready(); code != http.StatusOK; code, body = ready() {
		if time.Now().After(deadline) {
			t.Fatalf("readyz after recovery: %d %s", code, body)
		}
		clock.Advance(time.Second)
		time.Sleep(time.Millisecond)
	}
	if got := saturatedMetric(); got != "einsatz_saturated 0" {
		t.Fatalf("metric after recovery: %q", got)
	}
	if kept, err := store.Spilled(context.Background(), 100, nil); err != nil || len(kept) != 0 {
		t.Fatalf("storage still keeps %d events (%v)", len(kept), err)
	}
}
