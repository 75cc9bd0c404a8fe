package support_test

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
	"github.com/spf13/cobra"

	"github.com/einsatz/einsatz/adapters/cli"
	"github.com/einsatz/einsatz/adapters/web"
	"github.com/einsatz/einsatz/adapters/web/webtest"
	"github.com/einsatz/einsatz/bot"
	"github.com/einsatz/einsatz/bot/bottest"
	"github.com/einsatz/einsatz/bot/qa"
	"github.com/einsatz/einsatz/bot/qa/qatest"
	"github.com/einsatz/einsatz/handlers/support"
	"github.com/einsatz/einsatz/storage"
)

// addQ logs a question directly, with votes (user id → helpful).
func addQ(t *testing.T, s qa.Store, at time.Time, who, channel, thread, text, outcome string, votes map[string]bool) string {
	t.Helper()
	ctx := context.Background()
	id, err := s.AddQuestion(ctx, qa.Question{Time: at, Thread: bot.ThreadRef{Platform: platform, ChannelID: channel, ThreadID: thread},
		UserID: who, Lang: "en", Text: text, Outcome: outcome})
	if err != nil {
		t.Fatal(err)
	}
	for voter, helpful := range votes {
		if err := s.PutVote(ctx, qa.Vote{QuestionID: id, Platform: platform, UserID: voter, Helpful: helpful, Time: at}); err != nil {
			t.Fatal(err)
		}
	}
	return id
}

// gapsFixture: two paraphrases of the password question (and the first
// asked again), an unrelated badly rated answer, and a well rated one.
func gapsFixture(t *testing.T) qa.Store {
	s := qatest.NewMem()
	addQ(t, s, start, "u1", "help", "t1", "How do I reset my password?", qa.OutcomeDontKnow, nil)
	addQ(t, s, start.Add(time.Minute), "u2", "help", "t2", "I forgot my password, how can I reset it?", qa.OutcomeDontKnow, nil)
	addQ(t, s, start.Add(2*time.Minute), "u3", "help", "t3", "Can I export my data as CSV?", qa.OutcomeAnswered, map[string]bool{"u3": false})
	addQ(t, s, start.Add(3*time.Minute), "u4", "help", "t4", "How do I install Einsatz?", qa.OutcomeAnswered, map[string]bool{"u4": true})
	addQ(t, s, start.Add(4*time.Minute), "u5", "random", "t5", "how do i reset my password", qa.OutcomeDontKnow, nil)
	return s
}

// The gaps group paraphrases together and keep unrelated questions apart,
// most frequent first; a stricter threshold splits the paraphrase off.
func TestGaps(t *testing.T) {
	s := gapsFixture(t)
	clock := bottest.NewClock(start.Add(time.Hour))
	type group struct {
		count   int
		example string
	}
	tests := []struct {
		name       string
		similarity float64
		want       []group
	}{
		{"default threshold", 0, []group{{3, "How do I reset my password?"}, {1, "Can I export my data as CSV?"}}},
		{"strict threshold", 0.9, []group{{2, "How do I reset my password?"}, {1, "Can I export my data as CSV?"}, {1, "I forgot my password, how can I reset it?"}}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			gaps, err := support.Gaps(context.Background(), s, start.Add(-time.Hour), support.Settings{Similarity: tt.similarity, Clock: clock})
			if err != nil {
				t.Fatal(err)
			}
			var got []group
			for _, g := range gaps {
				got = append(got, group{g.Count, g.Example})
			}
			if len(got) != len(tt.want) {
				t.Fatalf("gaps = %+v, want %+v", got, tt.want)
			}
			for i := range got {
				if got[i] != tt.want[i] {
					t.Fatalf("gaps = %+v, want %+v", got, tt.want)
				}
			}
		})
	}
	gaps, _ := support.Gaps(context.Background(), s, start.Add(-time.Hour), support.Settings{Clock: clock})
	pw := gaps[0]
	if pw.Reasons[support.GapDontKnow] != 3 || len(pw.Questions) != 2 || strings.Join(pw.Channels, ",") != "test/help,test/random" {
		t.Fatalf("password gap = %+v: want 3 dont_know, 2 distinct texts, both channels", pw)
	}
	if gaps[1].Reasons[support.GapNotHelpful] != 1 {
		t.Fatalf("export gap = %+v, want reason not_helpful", gaps[1])
	}
	// since cuts off older questions.
	late, _ := support.Gaps(context.Background(), s, start.Add(150*time.Second), support.Settings{Clock: clock})
	if len(late) != 1 || late[0].Count != 1 || late[0].Example != "how do i reset my password" {
		t.Fatalf("gaps since +2.5m = %+v", late)
	}
}

func TestSimilarity(t *testing.T) {
	tests := []struct {
		a, b, lang string
		min, max   float64
	}{
		{"How do I reset my password?", "I forgot my password, how can I reset it?", "en", 0.5, 1},
		{"How do I reset my password?", "password reset", "en", 1, 1},
		{"How do I reset my password?", "How do I install Einsatz with Docker?", "en", 0, 0},
		{"Wie installiere ich Einsatz?", "Einsatz installieren, wie geht das?", "de", 1, 1},
		{"", "anything", "en", 0, 0},
	}
	for _, tt := range tests {
		got := support.Similarity(support.Terms(tt.a, tt.lang), support.Terms(tt.b, tt.lang))
		if got < tt.min || got > tt.max {
			t.Errorf("Similarity(%q, %q) = %.2f, want in [%.2f, %.2f]", tt.a, tt.b, got, tt.min, tt.max)
		}
	}
}

// The support report after a scripted conversation: counts per channel and
// week, and resolution split honestly (helpful vote, no follow-up within
// the window, unresolved, pending), moving with the clock.
func TestSupportReport(t *testing.T) {
	r := newRig(t, rigOptions{})
	week := support.ISOWeek(start)
	helpfulOn := func(who, thread string, helpful bool) {
		all := r.chat.in("help")
		action := support.ActionNotHelpful
		if helpful {
			action = support.ActionHelpful
		}
		r.click(user(who), "help", thread, action, button(t, all[len(all)-1], action).Value)
	}
	r.ask("alice", "help", "t1", "How do I install Einsatz?") // rated helpful
	helpfulOn("alice", "t1", true)
	r.ask("bob", "help", "t2", "How do I connect Slack?")              // silence
	r.ask("carol", "help", "t3", "Which port does Einsatz listen on?") // followed by another question
	r.ask("dave", "help", "t5", "Is there a quantum banana mode?")     // I don't know (escalated)
	r.ask("erin", "help", "t6", "How do I install Einsatz?")           // rated not helpful (escalated)
	helpfulOn("erin", "t6", false)
	r.clock.Advance(2 * time.Hour)
	r.ask("carol", "help", "t3", "How do I connect Slack?") // carol's follow-up; her window is open at the end
	r.ask("fay", "random", "t7", "How do I connect Slack?")
	r.clock.Advance(23 * time.Hour) // 25 h after the first questions

	report := func(s support.Settings) map[string]support.Row {
		t.Helper()
		s.Clock = r.clock
		rows, err := support.Report(context.Background(), storage.NewSupport(r.store), start.Add(-24*time.Hour), s)
		if err != nil {
			t.Fatal(err)
		}
		out := map[string]support.Row{}
		for _, row := range rows {
			out[row.Week+" "+row.Channel] = row
		}
		return out
	}
	want := support.Row{Week: week, Platform: platform, Channel: "help",
		Questions: 6, Answered: 5, DontKnow: 1, Escalated: 2, Rated: 2, Helpful: 1, HelpfulRate: 0.5,
		ResolvedByVote: 1, NoFollowUp: 1, Unresolved: 2, Pending: 1}
	rows := report(support.Settings{})
	if len(rows) != 2 {
		t.Fatalf("rows = %+v, want help and random in week 48", rows)
	}
	if got := rows[week+" help"]; got != want {
		t.Fatalf("help row:\n got %+v\nwant %+v", got, want)
	}
	if got := rows[week+" random"]; got.Questions != 1 || got.Answered != 1 || got.Pending != 1 || got.NoFollowUp != 0 {
		t.Fatalf("random row = %+v", got)
	}

	// Two hours later carol's second answer has had its 24 hours of silence.
	r.clock.Advance(2 * time.Hour)
	got := report(support.Settings{})[week+" help"]
	if got.NoFollowUp != 2 || got.Pending != 0 || got.Unresolved != 2 {
		t.Fatalf("after the window: %+v", got)
	}
	// With a 1 h window carol's follow-up two hours later does not count.
	got = report(support.Settings{FollowUp: time.Hour})[week+" help"]
	if got.NoFollowUp != 3 || got.Unresolved != 1 {
		t.Fatalf("with a 1h window: %+v", got)
	}

	// The CLI prints it from the store, as table, CSV and JSON.
	open := func(*cobra.Command) (cli.SupportSource, func() error, error) {
		return cli.LocalSupport{Store: storage.NewSupport(r.store), Settings: support.Settings{Clock: r.clock}}, func() error { return nil }, nil
	}
	run := func(cmd *cobra.Command, out *bytes.Buffer, args ...string) string {
		t.Helper()
		cmd.SetArgs(args)
		cmd.SetOut(out)
		if err := cmd.ExecuteContext(context.Background()); err != nil {
			t.Fatal(err)
		}
		return out.String()
	}
	var out bytes.Buffer
	csv := run(cli.SupportCommand(open, &out), &out, "--since", "7d", "--format", "csv")
	if !strings.Contains(csv, "week,channel,questions,answered,dont_know,escalated,rated,helpful_rate,resolved_by_vote,no_follow_up,unresolved,pending") ||
		!strings.Contains(csv, week+",test/help,6,5,1,2,2,0.500,1,2,2,0,0,0") {
		t.Fatalf("csv:\n%s", csv)
	}
	out.Reset()
	var rowsJSON []support.Row
	if err := json.Unmarshal([]byte(run(cli.SupportCommand(open, &out), &out, "--format", "json")), &rowsJSON); err != nil || len(rowsJSON) != 2 {
		t.Fatalf("json rows = %+v, %v", rowsJSON, err)
	}
	out.Reset()
	if table := run(cli.SupportCommand(open, &out), &out); !strings.Contains(table, "RESOLVED_BY_VOTE") || !strings.Contains(table, "50%") {
		t.Fatalf("table:\n%s", table)
	}
	out.Reset()
	if gaps := run(cli.GapsCommand(open, &out), &out, "--since", start.AddDate(0, 0, -3).Format("2006-01-02")); !strings.Contains(gaps, "quantum banana") || !strings.Contains(gaps, "not_helpful 1") {
		t.Fatalf("gaps:\n%s", gaps)
	}
}

// Through a running server the CLI reads the admin API and gets what it
// would read from the store.
func TestCLIThroughServer(t *testing.T) {
	s := gapsFixture(t)
	settings := support.Settings{Clock: bottest.NewClock(start.Add(30 * time.Hour))}
	dir := t.TempDir()
	db := memStore(t) // the core and the dashboard's logins; the questions are in s
	core := bot.New(bot.Options{Store: db, Logger: discard})
	site, err := web.New(web.Options{Addr: "127.0.0.1:0", Store: db, Core: core, Logger: discard,
		CredentialFile: filepath.Join(dir, web.CredentialFileName)})
	if err != nil {
		t.Fatal(err)
	}
	site.AddSupport(s, settings)
	ctx := context.Background()
	client := webtest.Client(t, core, site, dir)
	remote, local := cli.RemoteSupport{Client: client}, cli.LocalSupport{Store: s, Settings: settings}
	rg, err1 := remote.Gaps(ctx, "7d")
	lg, err2 := local.Gaps(ctx, "7d")
	rr, err3 := remote.Report(ctx, "7d")
	lr, err4 := local.Report(ctx, "7d")
	if err := errors.Join(err1, err2, err3, err4); err != nil {
		t.Fatal(err)
	}
	if len(rg) != 2 || len(rg) != len(lg) || rg[0].Count != lg[0].Count || rg[0].Example != lg[0].Example {
		t.Fatalf("remote gaps %+v, local %+v", rg, lg)
	}
	if len(rr) != 2 || len(rr) != len(lr) || rr[0] != lr[0] || rr[1] != lr[1] {
		t.Fatalf("remote report %+v, local %+v", rr, lr)
	}
	if _, err := remote.Report(ctx, "yesterday-ish"); err == nil || !strings.Contains(err.Error(), "since") {
		t.Fatalf("bad --since through the server: %v", err)
	}
}

// The two dashboard pages in headless Chromium, logged in through the
// one-time login URL.
func TestBrowserPages(t *testing.T) {
	s := gapsFixture(t)
	addQ(t, s, start.Add(5*time.Minute), "u6", "help", "t6", "How do I connect Slack?", qa.OutcomeExtractive, map[string]bool{"u6": true})
	clock := bottest.NewClock(start.Add(30 * time.Hour))
	settings := support.Settings{Clock: clock}

	db := memStore(t) // the core and the dashboard's logins; the questions are in s
	core := bot.New(bot.Options{Store: db, Logger: discard})
	site, err := web.New(web.Options{Addr: "127.0.0.1:0", Store: db, Core: core, Logger: discard})
	if err != nil {
		t.Fatal(err)
	}
	site.AddSupport(s, settings)
	runCtx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- core.Run(runCtx, site) }()
	t.Cleanup(func() { cancel(); <-done })
	<-site.Ready()

	b := webtest.Browser(t)
	webtest.Do(t, b, chromedp.Navigate(site.LoginURL()), chromedp.WaitVisible(chromedp.CSS("main.dash")))

	webtest.Do(t, b, chromedp.Navigate(site.URL()+"/dashboard/gaps"), chromedp.WaitVisible(chromedp.CSS("table.gaps")))
	counts := webtest.Run(t, b, chromedp.Evaluate[[]string](`[...document.querySelectorAll("tr.gap")].map(r => r.dataset.count + " " + r.querySelector(".example").textContent)`))
	if strings.Join(counts, "|") != "3 How do I reset my password?|1 Can I export my data as CSV?" {
		t.Fatalf("gap rows = %q", counts)
	}
	if href := webtest.Run(t, b, chromedp.Evaluate[string](`document.querySelector('nav a[aria-current]').getAttribute("href")`)); href != "/dashboard/gaps" {
		t.Fatalf("current nav link = %q", href)
	}

	webtest.Do(t, b, chromedp.Navigate(site.URL()+"/dashboard/support"), chromedp.WaitVisible(chromedp.CSS("table.support")))
	cells := webtest.Run(t, b, chromedp.Evaluate[map[string]string](`(() => {
		const r = document.querySelector('tr.row[data-channel="test/help"]'), out = {};
		for (const c of ["questions", "answered", "dont-know", "rated", "helpful-rate", "resolved-vote", "no-follow-up", "unresolved"]) out[c] = r.querySelector("." + c).textContent;
		return out;
	})()`))
	want := map[string]string{"questions": "5", "answered": "3", "dont-know": "2", "rated": "3", "helpful-rate": "67%",
		"resolved-vote": "2", "no-follow-up": "0", "unresolved": "1"}
	for k, v := range want {
		if cells[k] != v {
			t.Fatalf("support row = %v, want %v", cells, want)
		}
	}
	if n := webtest.Run(t, b, chromedp.Evaluate[int](`document.querySelectorAll("tr.row").length`)); n != 2 {
		t.Fatalf("%d rows, want help and random", n)
	}
	// The filter keeps its choice.
	webtest.Do(t, b, chromedp.SetValue(chromedp.ID("since"), "7d"), chromedp.Click(chromedp.CSS("form.filter button")))
	webtest.WaitFor(t, b, `location.search.includes("since=7d") && document.readyState === "complete"`)
}

// A channel name a spreadsheet would run as a formula gets a leading quote.
func TestReportCSVNeutralisesFormulas(t *testing.T) {
	var out bytes.Buffer
	rows := []support.Row{{Week: "2026-W48", Platform: "web", Channel: "x", Questions: 1},
		{Week: "2026-W48", Platform: "=cmd|' /C calc'!A0", Channel: "x", Questions: 1}}
	if err := support.WriteReport(&out, rows, support.FormatCSV); err != nil {
		t.Fatal(err)
	}
	lines := strings.Split(out.String(), "\n")
	if want := "2026-W48,web/x,1,0,0,0,0,,0,0,0,0,0,0"; lines[1] != want {
		t.Errorf("row = %s, want %s", lines[1], want)
	}
	if want := "2026-W48,'=cmd|' /C calc'!A0/x,1,"; !strings.HasPrefix(lines[2], want) {
		t.Errorf("row = %s, want it to start %s", lines[2], want)
	}
}
