package inbox_test

import (
	"bytes"
	"context"
	"encoding/json"
	"slices"
	"strings"
	"testing"

	"github.com/chromedp/chromedp"
	"github.com/spf13/cobra"

	"github.com/einsatz/einsatz/adapters/cli"
	"github.com/einsatz/einsatz/adapters/web"
	"github.com/einsatz/einsatz/adapters/web/webtest"
	"github.com/einsatz/einsatz/bot/request"
	"github.com/einsatz/einsatz/handlers/inbox"
	"github.com/einsatz/einsatz/storage"
)

// Test: a product manager searches the inbox in headless Chromium (English
// and German word forms, the search kept across the tabs), opens an item,
// finds its duplicate among the suggestions with its score, merges it in,
// tags the item, and changes its status: the thread of the merged
// duplicate is told too. Then the CLI's search, similar and tag commands
// through the running server's admin API.
func TestEndToEndSearchMergeTags(t *testing.T) {
	w := startWorld(t, "")
	w.crossPlatform()
	ctx := context.Background()

	// A duplicate of #2 (dave's "Exporting reports to spreadsheets") that
	// was filed on its own, as an import or an older detector would: gina
	// asked in a Discord thread of hers.
	gina := w.dc.NewUser("gina")
	msg := w.dc.Post(w.general, gina, "Hi all, one more thing from our team", false)
	w.settle()
	dup, created, err := storage.NewInbox(w.store).Create(ctx,
		request.Item{Title: "Export reports to a spreadsheet", Status: request.StatusNew, Created: msg.Time, Updated: msg.Time},
		request.Mention{Platform: "discord", Channel: w.general, Thread: msg.ID, MessageID: msg.ID, UserID: gina.ID, UserName: "gina",
			Text: "Could we export our reports to a spreadsheet (CSV)?", Time: msg.Time, Lang: "en", Source: request.SourceDetected},
		request.Vote{Platform: "discord", UserID: gina.ID, Name: "gina", Time: msg.Time})
	if err != nil || !created || dup.ID != 6 {
		t.Fatalf("seeded duplicate: #%d created %v err %v", dup.ID, created, err)
	}
	w.svc.Reindex() // written behind the service's back

	bctx := webtest.Browser(t)
	webtest.Do(t, bctx, chromedp.Navigate(w.site.LoginURL()), chromedp.WaitVisible(chromedp.CSS("main.dash")))
	rows := func() []string {
		return webtest.Run(t, bctx, chromedp.Evaluate[[]string](`[...document.querySelectorAll("#items tr[data-id]")].map(r => r.dataset.id)`))
	}
	search := func(q string) {
		t.Helper()
		webtest.Do(t, bctx, chromedp.Navigate(w.site.URL()+"/dashboard/inbox"), chromedp.WaitVisible(chromedp.ID("f-q")),
			chromedp.SendKeys(chromedp.ID("f-q"), q), chromedp.Submit(chromedp.ID("f-q")))
		webtest.WaitFor(t, bctx, `document.readyState === "complete" && document.getElementById("search-summary") !== null`)
	}
	// "spreadsheets" finds "spreadsheet" and back (English stemming).
	search("spreadsheets")
	if got := rows(); !slices.Equal(got, []string{"2", "6"}) && !slices.Equal(got, []string{"6", "2"}) {
		t.Errorf("search spreadsheets: rows %v, want #2 and #6", got)
	}
	if s := webtest.Run(t, bctx, chromedp.Evaluate[string](`document.getElementById("list-summary").textContent`)); !strings.Contains(s, "2 items match “spreadsheets”") {
		t.Errorf("search summary = %q", s)
	}
	// The tabs keep the search.
	if href := webtest.Run(t, bctx, chromedp.Evaluate[string](`document.getElementById("tab-maybe").getAttribute("href")`)); !strings.Contains(href, "q=spreadsheets") || !strings.Contains(href, "status=maybe") {
		t.Errorf("Maybe tab = %q, want the search kept", href)
	}
	// German: "Termin" finds carol's "Termine" (#5); every word must match.
	search("Termin")
	if got := rows(); !slices.Equal(got, []string{"5"}) {
		t.Errorf("search Termin: rows %v, want #5", got)
	}
	search("dark spreadsheet")
	if got := rows(); len(got) != 0 {
		t.Errorf("search dark spreadsheet: rows %v, want none", got)
	}

	// #2's page suggests #6 with its score; merge #6 into #2.
	webtest.Do(t, bctx, chromedp.Navigate(w.site.URL()+"/dashboard/inbox/2"), chromedp.WaitVisible(chromedp.ID("suggestions")))
	sugg := webtest.Run(t, bctx, chromedp.Evaluate[[]string](`[...document.querySelectorAll("#suggestions tr[data-id]")].map(r => r.dataset.id + " " + r.querySelector(".score").textContent)`))
	if len(sugg) == 0 || !strings.HasPrefix(sugg[0], "6 0.") {
		t.Fatalf("suggestions on #2 = %q, want #6 first with a score", sugg)
	}
	t.Logf("suggestions on #2: %q", sugg)
	webtest.Do(t, bctx, chromedp.Click(chromedp.CSS(`#suggestions tr[data-id="6"] button.merge-here`)))
	webtest.WaitFor(t, bctx, `document.readyState === "complete" && location.pathname === "/dashboard/inbox/2" && document.getElementById("flash") !== null`)
	if h := webtest.Run(t, bctx, chromedp.Evaluate[string](`document.getElementById("changes").textContent`)); !strings.Contains(h, "1 mentions and 1 new votes merged in from #6") {
		t.Errorf("#2's history = %q", h)
	}
	if it := w.item(6); it.Status != request.StatusDuplicate || it.DuplicateOf != 2 {
		t.Errorf("#6 after the merge: %s → %d", it.Status, it.DuplicateOf)
	}
	if it := w.item(2); len(it.Mentions) != 2 || it.VoteCount != 2 {
		t.Errorf("#2 after the merge: %d mentions, %d votes; want 2 and 2", len(it.Mentions), it.VoteCount)
	}
	// The duplicate's page says where it went.
	webtest.Do(t, bctx, chromedp.Navigate(w.site.URL()+"/dashboard/inbox/6"), chromedp.WaitVisible(chromedp.ID("changes")))
	if h := webtest.Run(t, bctx, chromedp.Evaluate[string](`document.getElementById("changes").textContent`)); !strings.Contains(h, "merged into #2") {
		t.Errorf("#6's history = %q", h)
	}

	// Tags: add two, remove one.
	webtest.Do(t, bctx, chromedp.Navigate(w.site.URL()+"/dashboard/inbox/2"), chromedp.WaitVisible(chromedp.ID("tag-add")),
		chromedp.SendKeys(chromedp.ID("tag-add"), "Export, API"), chromedp.Click(chromedp.ID("tag-add-submit")))
	webtest.WaitFor(t, bctx, `document.readyState === "complete" && document.querySelectorAll("#tag-list li form").length === 2`)
	webtest.Do(t, bctx, chromedp.Click(chromedp.CSS(`#tag-list button[aria-label="Remove tag api"]`)))
	webtest.WaitFor(t, bctx, `document.readyState === "complete" && document.querySelectorAll("#tag-list li form").length === 1`)
	if it := w.item(2); !slices.Equal(it.Tags, []string{"export"}) {
		t.Errorf("#2's tags = %v, want [export]", it.Tags)
	}
	// The list filters by the tag.
	webtest.Do(t, bctx, chromedp.Navigate(w.site.URL()+"/dashboard/inbox?tag=export"), chromedp.WaitVisible(chromedp.ID("items")))
	if got := rows(); !slices.Equal(got, []string{"2"}) {
		t.Errorf("tag export: rows %v", got)
	}

	// A status change tells gina's thread too.
	before := len(w.dc.BotMessages(msg.ID))
	webtest.Do(t, bctx, chromedp.Navigate(w.site.URL()+"/dashboard/inbox/2"), chromedp.WaitVisible(chromedp.ID("status-form")))
	webtest.Run(t, bctx, chromedp.Evaluate[bool](`document.getElementById("status").value = "planned"; true`))
	webtest.Do(t, bctx, chromedp.Click(chromedp.ID("status-submit")))
	webtest.WaitFor(t, bctx, `document.readyState === "complete" && document.getElementById("flash") !== null`)
	w.eventually("the status post in gina's thread", func() bool { return len(w.dc.BotMessages(msg.ID)) > before })
	if c := w.dc.BotMessages(msg.ID)[before].Content; !strings.Contains(c, "#2") || !strings.Contains(c, "@gina") {
		t.Errorf("post in gina's thread = %q", c)
	}

	// The item page's search finds an item to merge with by words.
	webtest.Do(t, bctx, chromedp.Navigate(w.site.URL()+"/dashboard/inbox/1"), chromedp.WaitVisible(chromedp.ID("find")),
		chromedp.SendKeys(chromedp.ID("find"), "offline train"), chromedp.Click(chromedp.ID("find-submit")))
	webtest.WaitFor(t, bctx, `document.readyState === "complete" && document.getElementById("found") !== null`)
	if got := webtest.Run(t, bctx, chromedp.Evaluate[[]string](`[...document.querySelectorAll("#found tr[data-id]")].map(r => r.dataset.id + ":" + r.querySelectorAll("button").length)`)); !slices.Equal(got, []string{"4:2"}) {
		t.Errorf("find offline train on #1: %v, want #4 with both merge buttons", got)
	}

	// The CLI through the running server.
	client, err := web.Running(ctx, w.dir)
	if err != nil {
		t.Fatal(err)
	}
	run := func(args ...string) string {
		t.Helper()
		var out bytes.Buffer
		cmd := cli.InboxCommand(func(*cobra.Command) (cli.Inbox, func() error, error) {
			return cli.RemoteInbox(client), func() error { return nil }, nil
		}, &out)
		cmd.SetArgs(args)
		if err := cmd.ExecuteContext(ctx); err != nil {
			t.Fatalf("inbox %v: %v", args, err)
		}
		return out.String()
	}
	out := run("search", "iCal", "Termin")
	if lines := strings.Split(strings.TrimSpace(out), "\n"); len(lines) != 2 || !strings.HasPrefix(lines[1], "#5 ") {
		t.Errorf("inbox search iCal Termin:\n%s", out)
	}
	if out := run("search", "--status", "open", "dark", "mode"); !strings.Contains(out, "#1 ") || strings.Contains(out, "#2 ") {
		t.Errorf("inbox search --status open dark mode:\n%s", out)
	}
	if out := run("search", "nothing-like-this"); !strings.Contains(out, `No request matches "nothing-like-this".`) {
		t.Errorf("inbox search with no match: %q", out)
	}
	if out := run("tag", "1", "--add", "ui,Theme", "--remove", "none"); !strings.Contains(out, "#1 tags: theme, ui") {
		t.Errorf("inbox tag: %q", out)
	}
	if out := run("tag", "1", "--remove", "theme"); !strings.Contains(out, "#1 tags: ui") {
		t.Errorf("inbox tag --remove: %q", out)
	}
	// The exports carry the tags, and filter by them.
	var exported []request.Item
	if err := json.Unmarshal([]byte(run("export", "--format", "json", "--tag", "export")), &exported); err != nil {
		t.Fatal(err)
	}
	if len(exported) != 1 || exported[0].ID != 2 || !slices.Equal(exported[0].Tags, []string{"export"}) || len(exported[0].Mentions) != 2 {
		t.Errorf("JSON export --tag export = %+v", exported)
	}
	back, err := inbox.ReadCSV(strings.NewReader(run("export", "--tag", "ui")))
	if err != nil {
		t.Fatal(err)
	}
	if len(back) != 1 || back[0].ID != 1 || !slices.Equal(back[0].Tags, []string{"ui"}) {
		t.Errorf("CSV export --tag ui = %+v", back)
	}
	if out := run("similar", "4"); !strings.Contains(out, "No open request is similar to #4.") {
		t.Errorf("inbox similar 4: %q", out)
	}

	// Undo the merge from #6's page: gina's request and vote go back, dave's
	// stay on #2, and both histories say so.
	webtest.Do(t, bctx, chromedp.Navigate(w.site.URL()+"/dashboard/inbox/6"), chromedp.WaitVisible(chromedp.ID("unmerge-form")),
		chromedp.Click(chromedp.ID("unmerge-submit")))
	webtest.WaitFor(t, bctx, `document.readyState === "complete" && document.getElementById("flash") !== null && document.getElementById("status-now").textContent === "new"`)
	if h := webtest.Run(t, bctx, chromedp.Evaluate[string](`document.getElementById("changes").textContent`)); !strings.Contains(h, "Merge undone: 1 mentions and 1 votes came back from #2") {
		t.Errorf("#6's history after the undo = %q", h)
	}
	six, two := w.item(6), w.item(2)
	if six.Status != request.StatusNew || six.DuplicateOf != 0 || len(six.Mentions) != 1 || six.Mentions[0].UserName != "gina" || six.VoteCount != 1 {
		t.Errorf("#6 after the undo: %s, %d mentions, %d votes", six.Status, len(six.Mentions), six.VoteCount)
	}
	if len(two.Mentions) != 1 || two.VoteCount != 1 || two.Status != request.StatusPlanned {
		t.Errorf("#2 after the undo: %s, %d mentions, %d votes; want planned with dave's", two.Status, len(two.Mentions), two.VoteCount)
	}
	// And again from the CLI.
	if out := run("merge", "6", "2"); !strings.Contains(out, "Merged #6 into #2 (now 2 votes, 2 mentions).") {
		t.Errorf("inbox merge 6 2: %q", out)
	}
	if out := run("merge", "--undo", "6"); !strings.Contains(out, "#6 is new again (1 votes, 1 mentions; nobody was told).") {
		t.Errorf("inbox merge --undo 6: %q", out)
	}
}
