package web_test

import (
	"context"
	"encoding/json"
	"net/http"
	"path/filepath"
	"sync/atomic"
	"testing"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/einsatz/einsatz/adapters/web"
	"github.com/einsatz/einsatz/bot"
	"github.com/einsatz/einsatz/storage"
)

// Options.Problems (the cluster's readiness) makes /readyz 503 with the
// reasons while it names any, and 200 again once it names none.
func TestReadyzReportsExtraProblems(t *testing.T) {
	store, err := storage.Open(storage.Options{InMemory: true, Logger: discard()})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { store.Close() })
	core := bot.New(bot.Options{Store: store, Router: bot.NewRouter(bot.HandlerFunc(func(context.Context, *bot.Event) ([]bot.Reply, error) { return nil, nil })), Logger: discard()})
	var down atomic.Bool
	down.Store(true)
	srv, err := web.New(web.Options{Addr: "127.0.0.1:0", Store: store, Core: core, Gatherer: prometheus.NewRegistry(), Logger: discard(),
		CredentialFile: filepath.Join(t.TempDir(), web.CredentialFileName),
		Problems: func(context.Context) []string {
			if down.Load() {
				return []string{"cluster: not connected to NATS (RECONNECTING)"}
			}
			return nil
		}})
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
	ready := func() (int, []string) {
		t.Helper()
		resp, err := http.Get(srv.URL() + "/readyz")
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		var body struct {
			Problems []string `json:"problems"`
		}
		if err := json.NewDecoder(resp.Body).Decode(&body); err != nil {
			t.Fatal(err)
		}
		return resp.StatusCode, body.Problems
	}
	if code, problems := ready(); code != http.StatusServiceUnavailable || len(problems) != 1 || problems[0] != "cluster: not connected to NATS (RECONNECTING)" {
		t.Errorf("while the cluster is down: %d %v", code, problems)
	}
	down.Store(false)
	if code, problems := ready(); code != http.StatusOK || len(problems) != 0 {
		t.Errorf("once it is back: %d %v", code, problems)
	}
}
