package main

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/einsatz/einsatz/adapters/discord/discordtest"
	"github.com/einsatz/einsatz/bot/solved"
)

// einsatz run with knowledge.publish against the fake Discord: a thread
// the asker marks solved is approved through the admin API (as einsatz kb
// approve does); the bot asks the asker in the thread, and only after the
// asker's ✅ on that question is the answer on /answers/, /sitemap.xml
// and /llms.txt, canonical on knowledge.public_url.
func TestRunPublishesAnswersWithConsent(t *testing.T) {
	fd := discordtest.New(t, discordtest.Options{})
	general := fd.TextChannel(fd.Guild, "general")
	mia, bob := fd.NewUser("mia"), fd.NewUser("bob")
	dataDir := filepath.Join(t.TempDir(), "data")
	cfg := writeConfig(t, fmt.Sprintf(`storage:
  path: %s
web:
  addr: 127.0.0.1:0
discord:
  token: ${DISCORD_TOKEN}
  api_url: %s
knowledge:
  publish: true
  public_url: https://help.example.org
solved:
  nudge_after: 24h
`, dataDir, fd.URL))
	t.Setenv("DISCORD_TOKEN", fd.Token)
	srv := startServer(t, cfg, dataDir)
	if !fd.WaitConnected(10 * time.Second) {
		t.Fatalf("the adapter did not connect:\n%s", srv.out.String())
	}
	ctx := context.Background()
	wait := func(what string, cond func() bool) {
		t.Helper()
		deadline := time.Now().Add(15 * time.Second)
		for !cond() {
			if time.Now().After(deadline) {
				t.Fatalf("timed out waiting for %s:\n%s", what, srv.out.String())
			}
			time.Sleep(20 * time.Millisecond)
		}
	}
	q := fd.Post(general, mia, "How do I move the data directory to another disk?", true)
	wait("the bot's answer", func() bool { return len(fd.BotMessages(q.ID)) == 1 })
	reply := fd.Post(q.ID, bob, "Stop einsatz, move the folder, set storage.path to the new place and start it again.", false)
	fd.React(q.ID, reply.ID, mia, "✅")
	var cands []solved.Candidate
	wait("the candidate", func() bool {
		cands = nil
		return srv.client.GetJSON(ctx, "/api/admin/kb/candidates", &cands) == nil && len(cands) == 1
	})
	if err := srv.client.DoJSON(ctx, http.MethodPost, "/api/admin/kb/candidates/"+cands[0].ID+"/approve", nil, nil); err != nil {
		t.Fatal(err)
	}
	var ask discordtest.Message
	wait("the consent question", func() bool {
		for _, m := range fd.BotMessages(q.ID) {
			if strings.Contains(m.Content, "May we also publish") {
				ask = m
				return true
			}
		}
		return false
	})
	base := srv.client.URL
	body := func(path string) string {
		resp, err := http.Get(base + path)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		return string(b)
	}
	if idx := body("/answers/"); strings.Contains(idx, "data directory") {
		t.Fatalf("published before consent:\n%s", idx)
	}
	fd.React(q.ID, ask.ID, mia, "✅")
	slug := "how-do-i-move-the-data-directory-to-" + cands[0].ID
	wait("the public page", func() bool { return strings.Contains(body("/answers/"), "/answers/"+slug) })
	page := body("/answers/" + slug)
	for _, want := range []string{`"@type":"QAPage"`, `<link rel="canonical" href="https://help.example.org/answers/` + slug + `">`, "set storage.path to the new place"} {
		if !strings.Contains(page, want) {
			t.Errorf("answer page lacks %q:\n%s", want, page)
		}
	}
	for _, private := range []string{"mia", "bob", mia.ID, bob.ID, "discord.com"} {
		if strings.Contains(page, private) {
			t.Errorf("answer page shows %q", private)
		}
	}
	if sm := body("/sitemap.xml"); !strings.Contains(sm, "<loc>https://help.example.org/answers/"+slug+"</loc>") {
		t.Errorf("sitemap:\n%s", sm)
	}
	if l := body("/llms.txt"); !strings.Contains(l, "(https://help.example.org/answers/"+slug+")") {
		t.Errorf("llms.txt:\n%s", l)
	}
	srv.stop(t)
}
