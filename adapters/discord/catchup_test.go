package discord_test

import (
	"context"
	"io"
	"log/slog"
	"sync"
	"testing"
	"time"

	"github.com/einsatz/einsatz/adapters/discord"
	"github.com/einsatz/einsatz/adapters/discord/discordtest"
	"github.com/einsatz/einsatz/bot"
	"github.com/einsatz/einsatz/bot/catchup"
)

// Messages posted while the adapter was not connected come back through
// CatchUp: those after the mark's window start, oldest first, keyed as the
// live ones, with staff known by role although REST messages carry no
// member; other channels are not read.
func TestCatchUpReadsTheChannelSinceTheMark(t *testing.T) {
	srv := discordtest.New(t, discordtest.Options{})
	general := srv.TextChannel(srv.Guild, "general")
	other := srv.TextChannel(srv.Guild, "other")
	mods := srv.AddRole(srv.Guild, "mods")
	alice, sam := srv.NewUser("alice"), srv.NewUser("sam", mods)
	first := srv.Post(general, alice, "before the restart", true)
	var posted []discordtest.Message
	for _, p := range []struct {
		u    discordtest.User
		text string
	}{{alice, "while down 1"}, {sam, "while down 2"}, {alice, "while down 3"}} {
		posted = append(posted, srv.Post(general, p.u, p.text, true))
	}
	srv.Post(other, alice, "elsewhere", true)

	var mu sync.Mutex
	var got []bot.Event
	a, err := discord.New(discord.Options{Token: srv.Token, APIURL: srv.URL, GuildIDs: []string{srv.Guild},
		StaffRoles: []string{mods}, Logger: slog.New(slog.NewTextHandler(io.Discard, nil)), RetryDelay: 10 * time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() {
		done <- a.Run(ctx, sinkFunc(func(ev bot.Event) error {
			mu.Lock()
			got = append(got, ev)
			mu.Unlock()
			return nil
		}))
	}()
	t.Cleanup(func() { cancel(); <-done })
	deadline := time.Now().Add(5 * time.Second)
	for !a.Ready() {
		if time.Now().After(deadline) {
			t.Fatal("adapter not ready")
		}
		time.Sleep(5 * time.Millisecond)
	}

	mark := catchup.Seen{Thread: bot.ThreadRef{Platform: bot.PlatformDiscord, ChannelID: general, ThreadID: first.ID},
		MessageID: first.ID, Time: first.Time}
	n, err := a.CatchUp(ctx, []catchup.Seen{mark}, time.Now().Add(-10*time.Minute))
	if err != nil {
		t.Fatal(err)
	}
	mu.Lock()
	defer mu.Unlock()
	// The first message is read again (the fetch starts a minute before
	// the mark); the core's key drops it.
	if n != 4 || len(got) != 4 || got[0].MessageID != first.ID {
		t.Fatalf("submitted %d: %+v; want the marked message and the three after it", n, got)
	}
	for i, m := range posted {
		ev := got[i+1]
		if ev.Key != "discord:msg:"+m.ID || ev.ChannelID != general || !ev.Mentioned || ev.DM {
			t.Fatalf("event %d = %+v, want the live translation of %s", i, ev, m.ID)
		}
		if wantStaff := m.Author.ID == sam.ID; ev.User.Staff != wantStaff {
			t.Fatalf("%s: staff = %v, want %v (by role)", m.Content, ev.User.Staff, wantStaff)
		}
	}
}
