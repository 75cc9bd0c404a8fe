package knowledge_test

import (
	"bytes"
	"context"
	"log/slog"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/spf13/cobra"

	"github.com/einsatz/einsatz/adapters/cli"
	"github.com/einsatz/einsatz/adapters/web"
	"github.com/einsatz/einsatz/adapters/web/webtest"
	"github.com/einsatz/einsatz/bot/kb"
	"github.com/einsatz/einsatz/handlers/knowledge"
	"github.com/einsatz/einsatz/storage"
)

// The kb commands through a running server: add, list, search and remove
// change and read the server's knowledge base, and what the server answers
// is what the base itself says.
func TestKBCommandsThroughServer(t *testing.T) {
	s, err := storage.Open(storage.Options{InMemory: true, Logger: slog.New(slog.DiscardHandler)}) // the server's logins and audit log
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	ctx := context.Background()
	dir := t.TempDir()
	write(t, dir, "file.md", "# Shipping\n\nParcels leave the warehouse on Mondays.\n", time.Now())
	folders, err := knowledge.Folders([]string{dir}, nil)
	if err != nil {
		t.Fatal(err)
	}
	local := knowledge.NewBase(memStore(t), folders, slog.New(slog.DiscardHandler))
	defer local.Close()
	if _, err := local.Sync(ctx, nil); err != nil {
		t.Fatal(err)
	}
	client := webtest.AdminClient(t, s, func(site *web.Server) { site.AddKnowledge(local) })
	remote := cli.RemoteKB{Client: client}

	open := func(*cobra.Command) (cli.KB, func() error, error) { return remote, func() error { return nil }, nil }
	run := func(args ...string) (string, error) {
		t.Helper()
		var out bytes.Buffer
		cmd := cli.KBCommand(open, &out)
		cmd.SetArgs(args)
		cmd.SetOut(&out)
		cmd.SetErr(&out)
		err := cmd.ExecuteContext(ctx)
		return out.String(), err
	}
	mustRun := func(args ...string) string {
		t.Helper()
		out, err := run(args...)
		if err != nil {
			t.Fatalf("kb %s: %v\n%s", strings.Join(args, " "), err, out)
		}
		return out
	}
	same := func(when string) []kb.Doc {
		t.Helper()
		rd, err1 := remote.Docs(ctx)
		ld, err2 := local.Docs(ctx)
		if err1 != nil || err2 != nil || !reflect.DeepEqual(rd, ld) {
			t.Fatalf("%s: remote docs %+v (%v), local %+v (%v)", when, rd, err1, ld, err2)
		}
		return rd
	}
	const question = "how long does a zorblax refund take"
	const source = "added/zorblax-refunds.md"

	if docs := same("before add"); len(docs) != 1 || docs[0].Source != "file.md" {
		t.Fatalf("docs before add = %+v", docs)
	}
	file := filepath.Join(t.TempDir(), "Zorblax Refunds.md")
	if err := os.WriteFile(file, []byte("# Refunds\n\nA zorblax refund takes five business days.\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	if out := mustRun("add", file, "--title", "Zorblax refunds", "--url", "https://help.example/refunds"); out != "added "+source+" (1 chunks)\n" {
		t.Fatalf("kb add printed %q", out)
	}
	docs := same("after add")
	if len(docs) != 2 {
		t.Fatalf("docs after add = %+v", docs)
	}
	var added kb.Doc
	for _, d := range docs {
		if d.Source == source {
			added = d
		}
	}
	if added.Origin != kb.OriginAdded || added.Title != "Zorblax refunds" || added.URL != "https://help.example/refunds" || added.Chunks != 1 {
		t.Fatalf("added doc = %+v", added)
	}
	if out := mustRun("list"); !strings.Contains(out, source) || !strings.Contains(out, "Zorblax refunds") || !strings.Contains(out, "file.md") {
		t.Fatalf("kb list after add:\n%s", out)
	}

	rh, err1 := remote.Search(ctx, question, 3)
	lh, err2 := local.Search(ctx, question, 3)
	if err1 != nil || err2 != nil || len(rh) == 0 || rh[0].Source != source || rh[0].URL != "https://help.example/refunds" || !reflect.DeepEqual(rh, lh) {
		t.Fatalf("search: remote %+v (%v), local %+v (%v)", rh, err1, lh, err2)
	}
	if out := mustRun("search", "-k", "1", question); !strings.HasPrefix(out, "1. Zorblax refunds ("+source+")  score ") || strings.Contains(out, "2. ") {
		t.Fatalf("kb search:\n%s", out)
	}

	// Refusals come back as errors that say why, and change nothing.
	for _, tt := range []struct {
		name string
		args []string
		want string
	}{
		{"unknown document", []string{"remove", "added/nope.md"}, "no document"},
		{"file document", []string{"remove", "file.md"}, "comes from a file"},
		{"name without letters", []string{"add", writeFile(t, "---.md", "some text")}, "letters or digits"},
		{"empty text", []string{"add", writeFile(t, "blank.md", "  \n")}, "empty"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			if out, err := run(tt.args...); err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Fatalf("kb %s = %v (%q), want an error with %q", strings.Join(tt.args, " "), err, out, tt.want)
			}
		})
	}
	if docs := same("after refusals"); len(docs) != 2 {
		t.Fatalf("docs after refused commands = %+v", docs)
	}

	if out := mustRun("remove", source); out != "removed "+source+"\n" {
		t.Fatalf("kb remove printed %q", out)
	}
	if docs := same("after remove"); len(docs) != 1 || docs[0].Source != "file.md" {
		t.Fatalf("docs after remove = %+v", docs)
	}
	if out := mustRun("list"); strings.Contains(out, source) || !strings.Contains(out, "file.md") {
		t.Fatalf("kb list after remove:\n%s", out)
	}
	rh, err1 = remote.Search(ctx, question, 3)
	lh, err2 = local.Search(ctx, question, 3)
	if err1 != nil || err2 != nil || !reflect.DeepEqual(rh, lh) {
		t.Fatalf("search after remove: remote %+v (%v), local %+v (%v)", rh, err1, lh, err2)
	}
	for _, h := range rh {
		if h.Source == source {
			t.Fatalf("removed document still found: %+v", rh)
		}
	}
	if out := mustRun("search", "zorblax"); out != "no passage found\n" {
		t.Fatalf("kb search after remove:\n%s", out)
	}

	entries, err := s.Audit(ctx)
	if err != nil {
		t.Fatal(err)
	}
	var audit []string
	for _, e := range entries {
		audit = append(audit, e.Action+" "+e.Target)
	}
	if want := []string{"kb add " + source, "kb remove " + source}; !reflect.DeepEqual(audit, want) {
		t.Fatalf("audit = %q, want %q (refusals are not audited)", audit, want)
	}
}

// writeFile writes a file of its own into a new temp dir and returns its path.
func writeFile(t *testing.T, name, body string) string {
	t.Helper()
	p := filepath.Join(t.TempDir(), name)
	if err := os.WriteFile(p, []byte(body), 0o600); err != nil {
		t.Fatal(err)
	}
	return p
}
