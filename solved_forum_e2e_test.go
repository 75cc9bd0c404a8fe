package main

import (
	"context"
	"fmt"
	"path/filepath"
	"slices"
	"testing"
	"time"

	"github.com/einsatz/einsatz/adapters/discord/discordtest"
	"github.com/einsatz/einsatz/bot/solved"
)

// einsatz run with solved.archive against the fake Discord: the asker's ✅
// on a reply in a German forum post makes the candidate, tags the post
// "Gelöst" beside the member's tag instead of "🔴 Offen" and archives it (main.go wires the
// core's forum ability into the solutions service).
func TestRunTagsSolvedForumPost(t *testing.T) {
	fd := discordtest.New(t, discordtest.Options{})
	forum := fd.TaggedForum(fd.Guild, "hilfe", "Frage", "Gelöst", "🔴 Offen")
	info, _ := fd.ChannelInfo(forum)
	frage, geloest, offen := info.Tags[0].ID, info.Tags[1].ID, info.Tags[2].ID
	mia, bob := fd.NewUser("mia"), fd.NewUser("bob")
	dataDir := filepath.Join(t.TempDir(), "data")
	cfg := writeConfig(t, fmt.Sprintf(`storage:
  path: %s
web:
  addr: 127.0.0.1:0
discord:
  token: ${DISCORD_TOKEN}
  api_url: %s
solved:
  archive: true
`, dataDir, fd.URL))
	t.Setenv("DISCORD_TOKEN", fd.Token)
	srv := startServer(t, cfg, dataDir)
	if !fd.WaitConnected(10 * time.Second) {
		t.Fatalf("the adapter did not connect:\n%s", srv.out.String())
	}
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
	post, _ := fd.ForumPost(forum, mia, "Datenordner", "Wie verschiebe ich den Datenordner auf eine andere Platte?")
	fd.TagPost(post, frage, offen)
	reply := fd.Post(post, bob, "Einsatz stoppen, Ordner verschieben, storage.path anpassen und neu starten.", false)
	fd.React(post, reply.ID, mia, "✅")
	wait("the post tagged and archived", func() bool {
		ch, _ := fd.ChannelInfo(post)
		return ch.Archived && slices.Equal(ch.AppliedTags, []string{frage, geloest})
	})
	var cands []solved.Candidate
	if err := srv.client.GetJSON(context.Background(), "/api/admin/kb/candidates", &cands); err != nil || len(cands) != 1 || cands[0].Lang != "de" {
		t.Errorf("candidates %+v (%v), want the German thread's", cands, err)
	}
}
