package discord_test

import (
	"context"
	"log/slog"
	"slices"
	"strings"
	"testing"

	"github.com/einsatz/einsatz/adapters/discord"
	"github.com/einsatz/einsatz/adapters/discord/discordtest"
	"github.com/einsatz/einsatz/bot"
)

// The forum ability over REST with the unmodified discordgo: a post's
// tags and its forum's, one PATCH for tags and archive, and Discord's
// refusals (a tag of another forum, more than 5, Manage Threads, an
// archived post) coming back as errors.
func TestForumPostTagsAndArchive(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	srv := discordtest.New(t, discordtest.Options{})
	a, err := discord.New(discord.Options{Token: srv.Token, APIURL: srv.URL, Logger: slog.New(slog.DiscardHandler)})
	if err != nil {
		t.Fatal(err)
	}
	forum := srv.TaggedForum(srv.Guild, "help", "Bug", "Idee", "Frage", "Doku", "Lob", "Gelöst")
	info, _ := srv.ChannelInfo(forum)
	ids := func(i ...int) []string {
		var out []string
		for _, n := range i {
			out = append(out, info.Tags[n].ID)
		}
		return out
	}
	mia := srv.NewUser("mia")
	post, _ := srv.ForumPost(forum, mia, "Export", "How do I export?")
	srv.TagPost(post, ids(0)...)
	in := bot.ThreadRef{Platform: bot.PlatformDiscord, ChannelID: forum, ThreadID: post}

	p, ok, err := a.ForumPost(ctx, in)
	if err != nil || !ok || len(p.Tags) != 6 || p.Tags[5].Name != "Gelöst" || !slices.Equal(p.Applied, ids(0)) || p.Archived {
		t.Fatalf("ForumPost = %+v, %v, %v", p, ok, err)
	}
	general := srv.TextChannel(srv.Guild, "general")
	q := srv.Post(general, mia, "a question", false)
	th := srv.Thread(general, "a thread", mia)
	for _, ref := range []bot.ThreadRef{{Platform: bot.PlatformDiscord, ChannelID: general, ThreadID: th}, {Platform: bot.PlatformDiscord, ChannelID: general, ThreadID: q.ID}} {
		if _, ok, err := a.ForumPost(ctx, ref); ok {
			t.Errorf("%+v is no forum post, got ok (err %v)", ref, err)
		}
	}

	for _, tc := range []struct {
		name string
		tags []string
		want string
	}{
		{"more than 5", ids(0, 1, 2, 3, 4, 5), "50035"},
		{"a tag of no forum", []string{"42"}, "50035"},
	} {
		if err := a.UpdateForumPost(ctx, in, tc.tags, false); err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%s: err = %v, want %s", tc.name, err, tc.want)
		}
	}
	srv.SetThreadsDenied(true)
	if err := a.UpdateForumPost(ctx, in, ids(0, 5), true); err == nil || !strings.Contains(err.Error(), "Manage Threads") {
		t.Errorf("without Manage Threads: err = %v", err)
	}
	srv.SetThreadsDenied(false)
	if err := a.UpdateForumPost(ctx, in, ids(0, 5), true); err != nil {
		t.Fatal(err)
	}
	if p, _, _ := a.ForumPost(ctx, in); !p.Archived || !slices.Equal(p.Applied, ids(0, 5)) {
		t.Errorf("after the update: %+v", p)
	}
	if err := a.UpdateForumPost(ctx, in, ids(5), false); err == nil || !strings.Contains(err.Error(), "50083") {
		t.Errorf("an archived post took a change: err = %v", err)
	}
}
