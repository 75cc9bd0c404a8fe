package privacy_test

import (
	"bytes"
	"context"
	"encoding/json"
	"net/http"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/spf13/cobra"

	"github.com/einsatz/einsatz/adapters/cli"
	"github.com/einsatz/einsatz/adapters/web"
	"github.com/einsatz/einsatz/adapters/web/webtest"
	"github.com/einsatz/einsatz/bot"
	"github.com/einsatz/einsatz/bot/mood"
	"github.com/einsatz/einsatz/bot/personal"
	"github.com/einsatz/einsatz/bot/qa"
	"github.com/einsatz/einsatz/handlers/monitor"
	"github.com/einsatz/einsatz/handlers/privacy"
	"github.com/einsatz/einsatz/storage"
)

const staffToken = "staff-token-for-the-privacy-cli-test"

// records is an export's records as compact JSON strings, by kind.
func records(t *testing.T, d personal.Data) map[string][]string {
	t.Helper()
	out := map[string][]string{}
	for kind, rs := range d.Records {
		for _, r := range rs {
			var buf bytes.Buffer
			if err := json.Compact(&buf, r); err != nil {
				t.Fatal(err)
			}
			out[kind] = append(out[kind], buf.String())
		}
	}
	return out
}

// Export and erasure of one member through a running server, the way
// `einsatz privacy` does it while `einsatz run` is up, with the routes
// wrapped in web.AdminOnly as main.go mounts them.
func TestPrivacyCommandsThroughServer(t *testing.T) {
	store, err := storage.Open(storage.Options{InMemory: true, Logger: discard})
	if err != nil {
		t.Fatal(err)
	}
	defer store.Close()
	mon := monitor.New(monitor.Options{Store: storage.NewSentiment(store), Logger: discard, Analyze: func(string, string) monitor.Score { return monitor.Score{Label: mood.Neutral} }})
	core := bot.New(bot.Options{Store: store, Router: bot.NewRouter(nil), Observers: []bot.Observer{mon}, Logger: discard})
	ctx := context.Background()
	now := time.Now()
	for i, m := range []struct{ user, thread, text string }{
		{"U9", "t-her", "my order zebra-7731 never came"},
		{"U9", "t-shared", "walburga asks about refunds"},
		{"U7", "t-shared", "bob asks about the changelog"},
		{"U7", "t-his", "bob again, about exports"},
	} {
		if _, err := core.Replay(ctx, bot.Event{Key: "k" + m.text, Kind: bot.KindMessage, Platform: "slack", ChannelID: "C1", ThreadID: m.thread,
			MessageID: m.text, User: bot.User{Platform: "slack", ID: m.user}, Text: m.text, Time: now.Add(time.Duration(i) * time.Minute)}); err != nil {
			t.Fatal(err)
		}
	}
	for _, q := range []struct{ user, text string }{{"U9", "how do I reset the zither-9 router"}, {"U7", "where is the changelog"}} {
		thread := bot.ThreadRef{Platform: "slack", ChannelID: "help", ThreadID: "q-" + q.user}
		if _, err := storage.NewSupport(store).AddQuestion(ctx, qa.Question{Time: now, Thread: thread, UserID: q.user, Text: q.text, Outcome: "answered"}); err != nil {
			t.Fatal(err)
		}
	}

	dir := t.TempDir()
	site, err := web.New(web.Options{Addr: "127.0.0.1:0", Store: store, Core: core, Logger: discard,
		CredentialFile: filepath.Join(dir, web.CredentialFileName),
		Accounts:       []web.Account{{Name: "sam", Role: "staff", Token: staffToken}}})
	if err != nil {
		t.Fatal(err)
	}
	site.AddPrivacy(privacy.People{Part: storage.Parts(store)}, nil)
	client := webtest.Client(t, core, site, dir)
	remote := cli.RemotePrivacy{Client: client}

	run := func(args ...string) (string, error) {
		t.Helper()
		var out bytes.Buffer
		cmd := cli.PrivacyCommand(func(*cobra.Command) (cli.Privacy, func() error, error) {
			return remote, func() error { return nil }, nil
		}, &out)
		cmd.SetArgs(args)
		cmd.SetOut(&out)
		cmd.SetErr(&out)
		err := cmd.ExecuteContext(ctx)
		return out.String(), err
	}
	export := func(user string) personal.Data {
		t.Helper()
		out, err := run("export", "--platform", "slack", "--user", user)
		if err != nil {
			t.Fatalf("export %s: %v\n%s", user, err, out)
		}
		var d personal.Data
		if err := json.Unmarshal([]byte(out), &d); err != nil {
			t.Fatalf("export %s is not JSON: %v\n%s", user, err, out)
		}
		if d.Platform != "slack" || d.User != user {
			t.Fatalf("export of %s names %s/%s", user, d.Platform, d.User)
		}
		return d
	}
	local := func(user string) personal.Data {
		t.Helper()
		d, err := privacy.People{Part: storage.Parts(store)}.ExportUser(ctx, "slack", user)
		if err != nil {
			t.Fatal(err)
		}
		return d
	}

	// The export through the server holds her records, the same as the store's.
	her := records(t, export("U9"))
	if len(her["messages"]) != 2 || len(her["sentiment"]) != 2 || len(her["questions"]) != 1 {
		t.Fatalf("her export = %v", her)
	}
	if all := strings.Join(append(append(her["messages"], her["sentiment"]...), her["questions"]...), "\n"); !strings.Contains(all, "zebra-7731") ||
		!strings.Contains(all, "zither-9") || strings.Contains(all, "bob") {
		t.Fatalf("her export holds the wrong things:\n%s", all)
	}
	if want := records(t, local("U9")); !reflect.DeepEqual(her, want) {
		t.Fatalf("export through the server %v\nfrom the store %v", her, want)
	}
	bobBefore := records(t, export("U7"))
	if len(bobBefore["messages"]) != 2 || len(bobBefore["questions"]) != 1 {
		t.Fatalf("bob's export = %v", bobBefore)
	}

	// Refusals change nothing.
	staff := cli.RemotePrivacy{Client: &web.Client{URL: client.URL, Token: staffToken, HTTP: http.DefaultClient}}
	for _, tt := range []struct {
		name string
		do   func() error
		want string
	}{
		{"erase without --yes", func() error { _, err := run("erase", "--platform", "slack", "--user", "U9"); return err }, "--yes"},
		{"export without --user", func() error { _, err := run("export", "--platform", "slack"); return err }, "user"},
		{"export with an empty user", func() error { _, err := remote.ExportUser(ctx, "slack", ""); return err }, "platform and user are required"},
		{"erase with an empty platform", func() error { _, err := remote.EraseUser(ctx, "", "U9", ""); return err }, "platform and user are required"},
		{"export by a staff account", func() error { _, err := staff.ExportUser(ctx, "slack", "U9"); return err }, "admin role"},
		{"erase by a staff account", func() error { _, err := staff.EraseUser(ctx, "slack", "U9", ""); return err }, "admin role"},
		{"no token", func() error {
			_, err := cli.RemotePrivacy{Client: &web.Client{URL: client.URL, HTTP: http.DefaultClient}}.EraseUser(ctx, "slack", "U9", "")
			return err
		}, "401"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			if err := tt.do(); err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Fatalf("err = %v, want one with %q", err, tt.want)
			}
		})
	}
	if after := records(t, local("U9")); !reflect.DeepEqual(after, her) {
		t.Fatalf("a refused command changed her data: %v", after)
	}

	// Erasure through the server: her records are gone, bob's stay.
	out, err := run("erase", "--platform", "slack", "--user", "U9", "--yes")
	if err != nil {
		t.Fatalf("erase: %v\n%s", err, out)
	}
	for _, want := range []string{"erased: ", "2 messages removed", "2 sentiment removed", "1 questions removed", "1 conversations removed"} {
		if !strings.Contains(out, want) {
			t.Fatalf("erase printed %q, want %q in it", out, want)
		}
	}
	if d := export("U9"); len(d.Records) != 0 {
		t.Fatalf("export after erasure = %v, want nothing", records(t, d))
	}
	if d := local("U9"); len(d.Records) != 0 {
		t.Fatalf("store export after erasure = %v, want nothing", records(t, d))
	}
	if bobAfter := records(t, export("U7")); !reflect.DeepEqual(bobAfter, bobBefore) {
		t.Fatalf("bob's data changed:\nbefore %v\nafter  %v", bobBefore, bobAfter)
	}
	// A second erasure finds nothing.
	if out, err := run("erase", "--platform", "slack", "--user", "U9", "--yes"); err != nil || out != "erased: nothing stored about this person\n" {
		t.Fatalf("second erase = %q, %v", out, err)
	}
	audit, err := store.Audit(ctx)
	if err != nil {
		t.Fatal(err)
	}
	var erasures []storage.AuditEntry
	for _, e := range audit {
		if e.Action == "erase" {
			erasures = append(erasures, e)
		}
	}
	if len(erasures) != 2 || erasures[0].Actor != "local-cli" || strings.Contains(erasures[0].Target, "U9") {
		t.Fatalf("erase audit = %+v: want two entries by the CLI's admin, not naming her", erasures)
	}
}
