package discord_test

import (
	"context"
	"fmt"
	"log/slog"
	"strings"
	"sync"
	"testing"

	"github.com/einsatz/einsatz/adapters/discord"
	"github.com/einsatz/einsatz/adapters/discord/discordtest"
	"github.com/einsatz/einsatz/bot"
)

func hookMessages(srv *discordtest.Server, channelID string) []discordtest.Message {
	var out []discordtest.Message
	for _, m := range srv.Messages(channelID) {
		if m.WebhookID != "" {
			out = append(out, m)
		}
	}
	return out
}

// A staff reply (AuthorName) is posted through the channel's webhook in
// the staff member's name and picture, into the thread (thread_id); one
// webhook per channel serves every thread of it and is found again by a
// restarted adapter, which can still edit and delete the message. Where
// the name would be refused (it names Discord) or there is no webhook (a
// DM) the bot posts it with the name in the text.
func TestStaffReplyThroughChannelWebhook(t *testing.T) {
	t.Parallel()
	e := start(t, envOptions{})
	ctx := context.Background()
	alice := e.srv.NewUser("Alice")
	th1 := e.srv.Thread(e.general, "export", alice)
	th2 := e.srv.Thread(e.general, "billing", alice)
	in1 := bot.ThreadRef{Platform: bot.PlatformDiscord, ChannelID: e.general, ThreadID: th1}
	in2 := bot.ThreadRef{Platform: bot.PlatformDiscord, ChannelID: e.general, ThreadID: th2}

	id, err := e.adapter.Publish(ctx, in1, bot.Reply{Text: "Hi Alice, which version?", AuthorName: "anna", AuthorAvatar: "https://cdn.example/anna.png"})
	if err != nil {
		t.Fatal(err)
	}
	got := hookMessages(e.srv, th1)
	if len(got) != 1 || got[0].ID != id || got[0].Author.Name != "anna (staff)" || got[0].Content != "Hi Alice, which version?" ||
		got[0].AvatarURL != "https://cdn.example/anna.png" {
		t.Fatalf("webhook messages in the thread = %+v, want anna's reply (id %s)", got, id)
	}
	if n := len(e.botMessages(th1)); n != 0 {
		t.Fatalf("the bot posted %d messages itself", n)
	}
	if _, err := e.adapter.Publish(ctx, in2, bot.Reply{Text: "Second thread", AuthorName: "anna"}); err != nil {
		t.Fatal(err)
	}
	if hooks := e.srv.Webhooks(e.general); len(hooks) != 1 || hooks[0].Name != discord.WebhookName {
		t.Fatalf("webhooks of the channel = %+v, want one, reused", hooks)
	}
	if err := e.adapter.Edit(ctx, in1, id, bot.Reply{Text: "Hi Alice, which version and OS?", AuthorName: "anna"}); err != nil {
		t.Fatal(err)
	}
	if got := hookMessages(e.srv, th1); got[0].Content != "Hi Alice, which version and OS?" || !got[0].Edited {
		t.Fatalf("after the edit: %+v", got[0])
	}

	// The gateway brings the webhook's message back: it is no member's.
	e.settle()
	if evs := e.observedWhere(func(ev bot.Event) bool { return ev.MessageID == id && !ev.User.Bot }); len(evs) != 0 {
		t.Fatalf("the webhook message reached the core as a person's: %+v", evs)
	}

	// A restarted adapter knows nothing of the message: it finds the
	// channel's webhook again for the edit and the deletion.
	again, err := discord.New(discord.Options{Token: e.srv.Token, APIURL: e.srv.URL, GuildIDs: []string{e.srv.Guild}, Logger: slog.New(slog.DiscardHandler)})
	if err != nil {
		t.Fatal(err)
	}
	rctx, cancel := context.WithCancel(ctx)
	defer cancel()
	go func() { _ = again.Run(rctx, sinkFunc(func(bot.Event) error { return nil })) }()
	e.eventually("the second adapter's session", func() bool { return e.srv.Connected() == 2 })
	if err := again.Edit(ctx, in1, id, bot.Reply{Text: "Edited after a restart", AuthorName: "anna"}); err != nil {
		t.Fatal(err)
	}
	if got := hookMessages(e.srv, th1); got[0].Content != "Edited after a restart" {
		t.Fatalf("after the restarted edit: %+v", got[0])
	}
	if err := again.Delete(ctx, in1, id); err != nil {
		t.Fatal(err)
	}
	if got := hookMessages(e.srv, th1); len(got) != 0 {
		t.Fatalf("after the deletion: %+v", got)
	}
	if _, err := again.Publish(ctx, in2, bot.Reply{Text: "From the restarted adapter", AuthorName: "anna"}); err != nil {
		t.Fatal(err)
	}
	if hooks := e.srv.Webhooks(e.general); len(hooks) != 1 {
		t.Fatalf("%d webhooks after the restart, want the first reused", len(hooks))
	}

	// An admin deletes the webhook: the next reply makes a new one.
	e.srv.DeleteWebhook(e.srv.Webhooks(e.general)[0].ID)
	if _, err := again.Publish(ctx, in2, bot.Reply{Text: "After the webhook was deleted", AuthorName: "anna"}); err != nil {
		t.Fatal(err)
	}
	if hooks := e.srv.Webhooks(e.general); len(hooks) != 1 || countMessages(hookMessages(e.srv, th2), "After the webhook was deleted") != 1 {
		t.Fatalf("after deleting the webhook: webhooks %+v, messages %+v", hooks, hookMessages(e.srv, th2))
	}

	// Two threads of a fresh channel answered at once: still one webhook.
	help := e.srv.TextChannel(e.srv.Guild, "help")
	var wg sync.WaitGroup
	for i := range 4 {
		th := e.srv.Thread(help, fmt.Sprintf("q%d", i), alice)
		wg.Add(1)
		go func() {
			defer wg.Done()
			if _, err := e.adapter.Publish(ctx, bot.ThreadRef{Platform: bot.PlatformDiscord, ChannelID: help, ThreadID: th},
				bot.Reply{Text: "At once", AuthorName: "anna"}); err != nil {
				t.Error(err)
			}
		}()
	}
	wg.Wait()
	if hooks := e.srv.Webhooks(help); len(hooks) != 1 {
		t.Fatalf("%d webhooks after four replies at once, want 1", len(hooks))
	}

	// Names Discord refuses for a webhook author, and a DM: in the text.
	if _, err := e.adapter.Publish(ctx, in2, bot.Reply{Text: "Hello", AuthorName: "Discord Dan"}); err != nil {
		t.Fatal(err)
	}
	e.eventually("the reply with the name in the text", func() bool {
		return countMessages(e.botMessages(th2), "**Discord Dan** (staff): Hello") == 1
	})
	dm := e.srv.DMChannel(alice)
	if _, err := e.adapter.Publish(ctx, bot.ThreadRef{Platform: bot.PlatformDiscord, ChannelID: dm, ThreadID: dm},
		bot.Reply{Text: "In a DM", AuthorName: "anna"}); err != nil {
		t.Fatal(err)
	}
	if countMessages(e.botMessages(dm), "**anna** (staff): In a DM") != 1 {
		t.Fatalf("DM: %+v", e.srv.Messages(dm))
	}
}

// Without Manage Webhooks (403) staff replies are posted by the bot with
// "**Name** (staff):" and still follow edits and deletions; the missing
// permission is logged once per channel, not for every reply.
func TestStaffReplyWithoutManageWebhooks(t *testing.T) {
	t.Parallel()
	e := start(t, envOptions{})
	ctx := context.Background()
	e.srv.SetWebhooksDenied(true)
	alice := e.srv.NewUser("Alice")
	th := e.srv.Thread(e.general, "export", alice)
	in := bot.ThreadRef{Platform: bot.PlatformDiscord, ChannelID: e.general, ThreadID: th}
	var ids []string
	for _, text := range []string{"First", "Second"} {
		id, err := e.adapter.Publish(ctx, in, bot.Reply{Text: text, AuthorName: "anna"})
		if err != nil {
			t.Fatal(err)
		}
		ids = append(ids, id)
	}
	bots := e.botMessages(th)
	if len(bots) != 2 || bots[0].Content != "**anna** (staff): First" || bots[1].Content != "**anna** (staff): Second" {
		t.Fatalf("bot messages = %+v", bots)
	}
	if err := e.adapter.Edit(ctx, in, ids[0], bot.Reply{Text: "First, edited", AuthorName: "anna"}); err != nil {
		t.Fatal(err)
	}
	if err := e.adapter.Delete(ctx, in, ids[1]); err != nil {
		t.Fatal(err)
	}
	if bots := e.botMessages(th); len(bots) != 1 || bots[0].Content != "**anna** (staff): First, edited" {
		t.Fatalf("after edit and delete: %+v", bots)
	}
	if n := strings.Count(e.logs.String(), "lacks Manage Webhooks"); n != 1 {
		t.Fatalf("the missing permission was logged %d times, want once:\n%s", n, e.logs.String())
	}
	if len(hookMessages(e.srv, th)) != 0 || len(e.srv.Webhooks(e.general)) != 0 {
		t.Fatal("a webhook was used without the permission")
	}
}

func countMessages(msgs []discordtest.Message, content string) int {
	n := 0
	for _, m := range msgs {
		if m.Content == content {
			n++
		}
	}
	return n
}
