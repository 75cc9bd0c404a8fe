package web_test

import (
	"context"
	"io"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/einsatz/einsatz/adapters/web"
	"github.com/einsatz/einsatz/bot"
	"github.com/einsatz/einsatz/bot/bottest"
	"github.com/einsatz/einsatz/bot/escalation"
	"github.com/einsatz/einsatz/bot/escalation/escalationtest"
	"github.com/einsatz/einsatz/handlers/handoff"
	"github.com/einsatz/einsatz/storage"
)

type escalations []escalation.Escalation

// startPages runs a bare core with the web adapter and the pages add puts
// on it, and returns the server and a client logged in through the
// one-time login link (when opts has no accounts).
func startPages(t *testing.T, opts web.Options, add func(*web.Server)) (*web.Server, *http.Client, *storage.Store) {
	t.Helper()
	store, err := storage.Open(storage.Options{InMemory: true, Logger: discard()})
	if err != nil {
		t.Fatal(err)
	}
	core := bot.New(bot.Options{Store: store, Logger: discard()})
	opts.Addr, opts.Store, opts.Core, opts.Logger = "127.0.0.1:0", store, core, discard()
	srv, err := web.New(opts)
	if err != nil {
		t.Fatal(err)
	}
	add(srv)
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- core.Run(ctx, srv) }()
	<-srv.Ready()
	t.Cleanup(func() { cancel(); <-done; store.Close() })
	c := &http.Client{Jar: newJar(t)}
	if len(opts.Accounts) == 0 {
		resp, err := c.Get(srv.LoginURL())
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
	}
	return srv, c, store
}

func get(t *testing.T, c *http.Client, u string) (int, string) {
	t.Helper()
	resp, err := c.Get(u)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(body)
}

// The escalations page groups by state and shows the median time to the
// first staff response; the admin API lists them as JSON.
func TestEscalationsPage(t *testing.T) {
	t0 := time.Date(2026, 11, 26, 10, 0, 0, 0, time.UTC)
	thread := func(id string) bot.ThreadRef { return bot.ThreadRef{Platform: "slack", ChannelID: "C1", ThreadID: id} }
	list := escalations{
		{Thread: thread("1"), User: bot.User{Name: "ann"}, Reason: "asked for a human", Created: t0, Status: escalation.StatusOpen},
		{Thread: thread("2"), User: bot.User{Name: "bo"}, Reason: "negative", Created: t0, Status: escalation.StatusClaimed,
			ClaimedBy: "sam", FirstResponse: t0.Add(4 * time.Minute), Permalink: "https://chat.example/2"},
		{Thread: thread("3"), User: bot.User{Name: "cy"}, Reason: "<b>sensitive</b>", Created: t0, Status: "resolved",
			FirstResponse: t0.Add(10 * time.Minute), Closed: t0.Add(time.Hour)},
	}
	mem := escalationtest.NewMem()
	for _, e := range list {
		if err := mem.PutEscalation(context.Background(), e); err != nil {
			t.Fatal(err)
		}
	}
	desk := handoff.New(handoff.Options{Store: mem, Clock: bottest.NewClock(t0.Add(2 * time.Hour)), Logger: discard()})
	srv, c, _ := startPages(t, web.Options{}, func(s *web.Server) { s.AddHandoff(desk, nil) })
	code, body := get(t, c, srv.URL()+"/dashboard/escalations")
	if code != http.StatusOK {
		t.Fatalf("status %d:\n%s", code, body)
	}
	for _, want := range []string{
		`Open: <strong id="count-open">1</strong> · Claimed: <strong id="count-claimed">1</strong> · Closed: <strong id="count-closed">1</strong>`,
		`Median time to first staff response: <strong id="median">10m0s</strong>`,
		`<table class="escalations" data-group="claimed">`,
		`<a href="https://chat.example/2">slack/C1/2</a>`,
		`href="/dashboard/escalations/` + escalation.IDOf(thread("2"), t0) + `"`,
		`<td data-label="First response">4m0s</td>`,
		`&lt;b&gt;sensitive&lt;/b&gt;`,
		`<a href="/dashboard/escalations" aria-current="page">Escalations</a>`,
	} {
		if !strings.Contains(body, want) {
			t.Errorf("page lacks %q:\n%s", want, body)
		}
	}
}

type replayer struct{ n int }

func (r *replayer) Replay(context.Context, bot.Event) (bool, error) { r.n++; return r.n%2 == 1, nil }

// POST /api/admin/import reads an export from the server's disk and
// replays it, for admins only, and is audited.
func TestImportRoute(t *testing.T) {
	r := &replayer{}
	srv, _, store := startPages(t, web.Options{Accounts: []web.Account{
		{Name: "ada", Role: "admin", Token: "ada-token"}, {Name: "sam", Role: "staff", Token: "sam-token"}}},
		func(s *web.Server) { s.AddImports(r) })
	post := func(token, body string) (int, string) {
		req, _ := http.NewRequest(http.MethodPost, srv.URL()+"/api/admin/import", strings.NewReader(body))
		req.Header.Set("Authorization", "Bearer "+token)
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		return resp.StatusCode, string(b)
	}
	export := `{"kind":"discord","path":"../../testdata/imports/discord-general.json"}`
	if code, body := post("sam-token", export); code != http.StatusForbidden {
		t.Fatalf("staff import: %d %s, want 403", code, body)
	}
	if code, body := post("ada-token", `{"kind":"fax","path":"x"}`); code != http.StatusBadRequest || !strings.Contains(body, "unknown kind") {
		t.Fatalf("bad kind: %d %s", code, body)
	}
	code, body := post("ada-token", export)
	if code != http.StatusOK || !strings.Contains(body, `"imported":3`) || !strings.Contains(body, `"duplicates":3`) || r.n != 6 {
		t.Fatalf("import: %d %s (%d replayed)", code, body, r.n)
	}
	audit, err := store.Audit(context.Background())
	if err != nil || len(audit) != 1 || audit[0].Actor != "ada" || audit[0].Action != "import" {
		t.Fatalf("audit = %+v, %v; want ada's import", audit, err)
	}
}
