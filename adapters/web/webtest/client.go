package webtest

import (
	"context"
	"log/slog"
	"path/filepath"
	"testing"
	"time"

	"github.com/einsatz/einsatz/adapters/web"
	"github.com/einsatz/einsatz/bot"
	"github.com/einsatz/einsatz/storage"
)

// Client runs core with site until the test ends and returns the local
// admin client the CLI would use: found the way the CLI finds it, through
// the credential file site writes in dir (its Options.CredentialFile must
// be filepath.Join(dir, web.CredentialFileName)).
func Client(t testing.TB, core *bot.Bot, site *web.Server, dir string) *web.Client {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- core.Run(ctx, site) }()
	t.Cleanup(func() { cancel(); <-done })
	<-site.Ready()
	deadline := time.Now().Add(5 * time.Second)
	for {
		// Ready comes just before the credential file is written.
		client, err := web.Running(context.Background(), dir)
		if err == nil {
			return client
		}
		if time.Now().After(deadline) {
			t.Fatalf("no local admin credential in %s: %v", dir, err)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// AdminClient runs a bare core and a web server over store with the
// routes add puts on it (site.AddSentiment, …), and returns the local
// admin client the CLI would use: for tests of CLI commands that go
// through a running server.
func AdminClient(t testing.TB, store *storage.Store, add func(site *web.Server)) *web.Client {
	t.Helper()
	log := slog.New(slog.DiscardHandler)
	dir := t.TempDir()
	core := bot.New(bot.Options{Store: store, Logger: log})
	site, err := web.New(web.Options{Addr: "127.0.0.1:0", Store: store, Core: core, Logger: log,
		CredentialFile: filepath.Join(dir, web.CredentialFileName)})
	if err != nil {
		t.Fatal(err)
	}
	add(site)
	return Client(t, core, site, dir)
}
