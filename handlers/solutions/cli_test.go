package solutions_test

import (
	"bytes"
	"context"
	"strings"
	"testing"
	"time"

	"github.com/spf13/cobra"

	"github.com/einsatz/einsatz/adapters/cli"
	"github.com/einsatz/einsatz/adapters/web"
	"github.com/einsatz/einsatz/adapters/web/webtest"
	"github.com/einsatz/einsatz/bot"
	"github.com/einsatz/einsatz/bot/solved"
	"github.com/einsatz/einsatz/storage"
)

// einsatz kb candidates / approve / reject, on the database and through
// the running server's admin API: the list shows both candidates, approve
// puts one into the knowledge base citing its thread, reject removes the
// other.
func TestKBCandidateCommands(t *testing.T) {
	for _, through := range []string{"database", "server"} {
		t.Run(through, func(t *testing.T) {
			ctx := context.Background()
			r := newRig(t)
			cands := storage.NewSolved(r.store)
			for i, c := range []solved.Candidate{
				{ID: "aaa111", Question: "How do I fix error E4711?", Answer: "Create a new token under Settings → Tokens.", Permalink: "https://discord.com/channels/1/2/3", By: "asker"},
				{ID: "bbb222", Question: "Where are the logs?", Answer: "no idea", By: "staff"},
			} {
				c.Thread, c.Created, c.Status = bot.ThreadRef{Platform: "discord", ChannelID: "2", ThreadID: c.ID}, time.Now().Add(time.Duration(i)*time.Minute), solved.StatusPending
				if err := cands.PutCandidate(ctx, c); err != nil {
					t.Fatal(err)
				}
			}
			var kb cli.KB = cli.LocalKB{Base: r.kb, Solutions: r.svc}
			if through == "server" {
				client := webtest.AdminClient(t, r.store, func(site *web.Server) { site.AddKnowledge(r.kb); site.AddCandidates(r.svc) })
				kb = cli.RemoteKB{Client: client}
			}
			open := func(*cobra.Command) (cli.KB, func() error, error) { return kb, func() error { return nil }, nil }
			run := func(args ...string) string {
				t.Helper()
				var out bytes.Buffer
				cmd := cli.KBCommand(open, &out)
				cmd.SetArgs(args)
				cmd.SetOut(&out)
				cmd.SetErr(&out)
				if err := cmd.ExecuteContext(ctx); err != nil {
					t.Fatalf("kb %v: %v\n%s", args, err, out.String())
				}
				return out.String()
			}
			list := run("candidates")
			if !strings.Contains(list, "aaa111") || !strings.Contains(list, "bbb222") || !strings.Contains(list, "E4711") {
				t.Fatalf("kb candidates:\n%s", list)
			}
			if out := run("approve", "aaa111"); !strings.Contains(out, "approved aaa111") {
				t.Errorf("kb approve: %q", out)
			}
			run("reject", "bbb222")
			if out := run("candidates"); !strings.Contains(out, "no solved threads waiting") {
				t.Errorf("after approve and reject, kb candidates:\n%s", out)
			}
			hits, err := r.kb.Search(ctx, "fix error E4711", 1)
			if err != nil || len(hits) == 0 || hits[0].URL != "https://discord.com/channels/1/2/3" {
				t.Errorf("search after approval = %+v, %v; want the entry citing the thread", hits, err)
			}
		})
	}
}
