package handoff_test

import (
	"bytes"
	"context"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/spf13/cobra"

	"github.com/einsatz/einsatz/adapters/cli"
	"github.com/einsatz/einsatz/adapters/web"
	"github.com/einsatz/einsatz/handlers/handoff"
)

// `einsatz handoff` through the running server's admin API: list with
// filters, claim, reply (into the member's thread), note, show, an
// illegal step refused, close; and on the database alone, the steps that
// must post are refused.
func TestHandoffCLI(t *testing.T) {
	r := start(t, nil, handoff.Options{})
	e := r.escalate(t)
	site, err := web.New(web.Options{Store: r.store, Core: r.core, Logger: discard,
		Accounts: []web.Account{{Name: "sam", Role: "staff", Token: "staff-token"}}})
	if err != nil {
		t.Fatal(err)
	}
	site.AddHandoff(r.svc, nil)
	ts := httptest.NewServer(site.Handler())
	t.Cleanup(ts.Close)
	remote := cli.RemoteDesk(&web.Client{URL: ts.URL, Token: "staff-token", HTTP: ts.Client()})

	run := func(desk cli.Desk, args ...string) (string, error) {
		t.Helper()
		var out bytes.Buffer
		cmd := cli.HandoffCommand(func(*cobra.Command) (cli.Desk, func() error, error) { return desk, func() error { return nil }, nil }, &out)
		cmd.SetArgs(args)
		cmd.SetOut(&out)
		cmd.SetErr(&out)
		cmd.SilenceUsage, cmd.SilenceErrors = true, true
		err := cmd.ExecuteContext(context.Background())
		return out.String(), err
	}
	must := func(want string, args ...string) string {
		t.Helper()
		out, err := run(remote, args...)
		if err != nil || !strings.Contains(out, want) {
			t.Fatalf("einsatz handoff %s = %q, %v; want %q in it", strings.Join(args, " "), out, err, want)
		}
		return out
	}

	must("open", "list", "--state", "unclaimed")
	if out, _ := run(remote, "list", "--platform", "discord"); strings.Contains(out, e.Thread.Key()) {
		t.Fatalf("the platform filter let a console escalation through:\n%s", out)
	}
	must(e.ID+" claim: claimed (sam)", "claim", e.ID)
	r.h.WaitFor("TEXT:takeover", 1)
	must("answered (sam)", "reply", e.ID, "Hello", "there,", "which", "version?")
	r.h.WaitFor("Hello there, which version?", 1)
	must("note: answered", "note", e.ID, "billing", "issue")
	must(e.Thread.Key(), "list", "--mine", "--as", "sam")
	if out, _ := run(remote, "list", "--mine", "--as", "kim"); strings.Contains(out, e.Thread.Key()) {
		t.Fatalf("kim's list shows sam's escalation:\n%s", out)
	}
	show := must("I want to talk to a human", "show", e.ID)
	for _, want := range []string{"sam: Hello there, which version?", "sam note (answered → answered) billing issue", "sam claim (open → claimed)"} {
		if !strings.Contains(show, want) {
			t.Fatalf("show lacks %q:\n%s", want, show)
		}
	}
	if _, err := run(remote, "dismiss", e.ID); err == nil || !strings.Contains(err.Error(), "not allowed") {
		t.Fatalf("dismissing an answered escalation: %v, want refused", err)
	}
	if _, err := run(remote, "close", "nope"); err == nil {
		t.Fatal("closing an unknown escalation worked")
	}
	must("close: closed", "close", e.ID)

	// On the database alone: what must post is refused, a note is fine.
	local := cli.LocalDesk(r.svc)
	if _, err := run(local, "reply", e.ID, "hi"); err == nil || !strings.Contains(err.Error(), "einsatz run") {
		t.Fatalf("reply without a server: %v", err)
	}
	if out, err := run(local, "note", e.ID, "checked", "later"); err != nil || !strings.Contains(out, "closed") {
		t.Fatalf("note without a server: %q %v", out, err)
	}
}
