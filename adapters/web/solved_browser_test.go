package web_test

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"github.com/einsatz/einsatz/adapters/web"
	"github.com/einsatz/einsatz/adapters/web/webtest"
	"github.com/einsatz/einsatz/bot"
	"github.com/einsatz/einsatz/bot/solved"
	"github.com/einsatz/einsatz/handlers/solutions"
	"github.com/einsatz/einsatz/storage"
)

// The Solved threads page: staff edit a candidate's answer and approve it
// (it goes to the knowledge base with the edit, citing the thread), reject
// another (it is gone); the page fits 1280 and 390 px and has German words.
func TestBrowserSolvedThreads(t *testing.T) {
	store, err := storage.Open(storage.Options{InMemory: true, Logger: discard()})
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	cands := storage.NewSolved(store)
	now := time.Now()
	for i, c := range []solved.Candidate{
		{ID: "aaa111", Question: "How do I fix error E4711 in the nightly sync job, which fails every single night with a very long explanation?",
			Answer: "Create a new token under Settings → Tokens.", Permalink: "https://discord.com/channels/1/2/3", By: "asker"},
		{ID: "bbb222", Question: "Where are the logs?", Answer: "lol no idea", By: "staff"},
	} {
		c.Thread, c.Created, c.Status = bot.ThreadRef{Platform: "discord", ChannelID: "2", ThreadID: c.ID}, now.Add(time.Duration(i)*time.Minute), solved.StatusPending
		if err := cands.PutCandidate(ctx, c); err != nil {
			t.Fatal(err)
		}
	}
	kbs := &kbAdds{}
	svc := solutions.New(solutions.Options{Store: cands, Logger: discard(), AddKnowledge: func(ctx context.Context, name, title, url, text string) error {
		_, err := kbs.Add(ctx, name, title, url, url+"|"+text)
		return err
	}})
	core := bot.New(bot.Options{Store: store, Logger: discard()})
	srv, err := web.New(web.Options{Addr: "127.0.0.1:0", Store: store, Core: core, Logger: discard(),
		Accounts: []web.Account{{Name: "lead", Role: "admin", Token: "lead-token-123456"}}})
	if err != nil {
		t.Fatal(err)
	}
	srv.AddCandidates(svc)
	runCtx, cancel := context.WithCancel(ctx)
	done := make(chan error, 1)
	go func() { done <- core.Run(runCtx, srv) }()
	t.Cleanup(func() { cancel(); <-done; store.Close() })
	<-srv.Ready()

	b := webtest.Browser(t)
	loginAs(t, b, srv.URL())
	webtest.Do(t, b, chromedp.Navigate(srv.URL()+web.SolvedPath), chromedp.WaitVisible(chromedp.CSS("section.candidate")))
	if n := webtest.Run(t, b, chromedp.Evaluate[int](`document.querySelectorAll("section.candidate").length`)); n != 2 {
		t.Fatalf("%d candidates on the page, want 2", n)
	}
	if bad := webtest.Axe(t, b).Serious(); len(bad) > 0 {
		t.Errorf("accessibility problems on the Solved threads page: %+v", bad)
	}
	checkWidths(t, b, "solved")
	webtest.Do(t, b, chromedp.SetValue(chromedp.CSS("#a-aaa111"), "Create a new token under Settings → Tokens, then restart."),
		chromedp.Click(chromedp.CSS("#cand-aaa111 button.approve")), chromedp.WaitVisible(chromedp.ID("sol-done")))
	if len(kbs.docs) != 1 || !strings.Contains(kbs.docs[0], "https://discord.com/channels/1/2/3|## How do I fix error E4711") ||
		!strings.Contains(kbs.docs[0], "then restart.") {
		t.Fatalf("knowledge added = %q, want the edited answer citing the thread", kbs.docs)
	}
	webtest.Do(t, b, chromedp.Click(chromedp.CSS("#cand-bbb222 button.reject")), chromedp.WaitVisible(chromedp.ID("sol-none")))
	if _, err := cands.Candidate(ctx, "bbb222"); err == nil {
		t.Errorf("the rejected candidate is still stored")
	}
	if c, err := cands.Candidate(ctx, "aaa111"); err != nil || c.Status != solved.StatusApproved {
		t.Errorf("approved candidate = %+v, %v", c, err)
	}
	webtest.Do(t, b, chromedp.Navigate(srv.URL()+"/lang/de?next="+web.SolvedPath), chromedp.WaitVisible(chromedp.ID("sol-none")))
	if text := webtest.Run(t, b, chromedp.Text(chromedp.CSS("main"))); !strings.Contains(text, "Keine gelösten Threads") {
		t.Errorf("German page = %q", text)
	}
}
