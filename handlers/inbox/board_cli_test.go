package inbox_test

import (
	"bytes"
	"context"
	"io"
	"log/slog"
	"strings"
	"testing"

	"github.com/spf13/cobra"

	"github.com/einsatz/einsatz/adapters/cli"
	"github.com/einsatz/einsatz/adapters/web"
	"github.com/einsatz/einsatz/adapters/web/webtest"
	"github.com/einsatz/einsatz/bot/request"
	"github.com/einsatz/einsatz/handlers/inbox"
	"github.com/einsatz/einsatz/storage"
)

// `einsatz inbox public ID on|off` through the running server's admin
// API: the flag and the description land on the item, off keeps the
// description, and a bad argument is refused.
func TestCLIInboxPublic(t *testing.T) {
	store, err := storage.Open(storage.Options{InMemory: true, Logger: slog.New(slog.DiscardHandler)})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { store.Close() })
	svc := inbox.New(inbox.Options{Store: storage.NewInbox(store), Logger: slog.New(slog.DiscardHandler)})
	ctx := context.Background()
	m := request.Mention{Platform: "discord", Channel: "c", Thread: "t", MessageID: "m", UserID: "u", Text: "dark mode please", Time: t0, Source: request.SourceDetected}
	if _, _, err := storage.NewInbox(store).Create(ctx, request.Item{Title: "Dark mode", Status: request.StatusPlanned, Created: t0, Updated: t0}, m,
		request.Vote{Platform: "discord", UserID: "u", Time: t0}); err != nil {
		t.Fatal(err)
	}
	client := webtest.AdminClient(t, store, func(site *web.Server) { site.AddInbox(svc) })
	run := func(args ...string) (string, error) {
		var out bytes.Buffer
		cmd := cli.InboxCommand(func(*cobra.Command) (cli.Inbox, func() error, error) {
			return cli.RemoteInbox(client), func() error { return nil }, nil
		}, &out)
		cmd.SetErr(io.Discard)
		cmd.SetArgs(args)
		err := cmd.ExecuteContext(ctx)
		return out.String(), err
	}
	for _, tc := range []struct {
		args     []string
		out      string
		public   bool
		wantText string
	}{
		{[]string{"public", "1", "on", "--description", "A dark theme for everyone."}, "#1 is on the public roadmap (1 votes).", true, "A dark theme for everyone."},
		{[]string{"public", "1", "off"}, "#1 is not on the public roadmap.", false, "A dark theme for everyone."},
		{[]string{"public", "1", "on", "--description", ""}, "#1 is on the public roadmap", true, ""},
	} {
		out, err := run(tc.args...)
		if err != nil || !strings.Contains(out, tc.out) {
			t.Errorf("%v: %q, %v; want %q", tc.args, out, err, tc.out)
		}
		it, err := svc.Get(ctx, 1)
		if err != nil || it.Public != tc.public || it.PublicText != tc.wantText {
			t.Errorf("%v: item public %v %q, want %v %q", tc.args, it.Public, it.PublicText, tc.public, tc.wantText)
		}
	}
	if _, err := run("public", "1", "maybe"); err == nil || !strings.Contains(err.Error(), "on or off") {
		t.Errorf("public 1 maybe: %v, want refused", err)
	}
}
