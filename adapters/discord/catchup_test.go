package discord_test

import (
	"context"
	"io"
	"log/slog"
	"net/http"
	"strings"
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

// holdGateway holds GET /gateway (where discordgo asks for the websocket
// URL before it connects) until release is closed; held is closed when
// the request arrives.
type holdGateway struct {
	held, release chan struct{}
	once          sync.Once
}

func (h *holdGateway) RoundTrip(r *http.Request) (*http.Response, error) {
	if strings.HasSuffix(r.URL.Path, "/gateway") {
		h.once.Do(func() { close(h.held) })
		select {
		case <-h.release:
		case <-r.Context().Done():
			return nil, r.Context().Err()
		}
	}
	return http.DefaultTransport.RoundTrip(r)
}

// The adapter is not ready to catch up before its gateway session is: a
// message posted after the catch-up read its channel and before the
// gateway's READY would come neither through history nor live (a fresh
// IDENTIFY replays nothing). The bot's id is known a while before that
// (GET /users/@me, then the application and its commands, then the
// gateway), and a catch-up started then lost such a message.
func TestCatchUpWaitsForTheGateway(t *testing.T) {
	srv := discordtest.New(t, discordtest.Options{})
	general := srv.TextChannel(srv.Guild, "general")
	alice := srv.NewUser("alice")
	first := srv.Post(general, alice, "before the restart", true)

	hold := &holdGateway{held: make(chan struct{}), release: make(chan struct{})}
	var mu sync.Mutex
	got := map[string]int{}
	a, err := discord.New(discord.Options{Token: srv.Token, APIURL: srv.URL, GuildIDs: []string{srv.Guild},
		HTTPClient: &http.Client{Transport: hold}, Logger: slog.New(slog.NewTextHandler(io.Discard, nil)), RetryDelay: 10 * time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() {
		done <- a.Run(ctx, sinkFunc(func(ev bot.Event) error {
			mu.Lock()
			got[ev.MessageID]++
			mu.Unlock()
			return nil
		}))
	}()
	t.Cleanup(func() { cancel(); <-done })
	select {
	case <-hold.held:
	case <-time.After(5 * time.Second):
		t.Fatal("the adapter never asked for the gateway")
	}
	mark := catchup.Seen{Thread: bot.ThreadRef{Platform: bot.PlatformDiscord, ChannelID: general, ThreadID: first.ID},
		MessageID: first.ID, Time: first.Time}
	since := time.Now().Add(-10 * time.Minute)
	// What catchup.Run does: catch up as soon as the adapter is ready.
	caughtUp := false
	if a.Ready() {
		if _, err := a.CatchUp(ctx, []catchup.Seen{mark}, since); err != nil {
			t.Fatal(err)
		}
		caughtUp = true
	}
	gap := srv.Post(general, alice, "posted while the gateway connects", true)
	close(hold.release)
	deadline := time.Now().Add(5 * time.Second)
	for !a.Ready() || srv.Connected() == 0 {
		if time.Now().After(deadline) {
			t.Fatal("adapter not ready")
		}
		time.Sleep(5 * time.Millisecond)
	}
	if !caughtUp {
		if _, err := a.CatchUp(ctx, []catchup.Seen{mark}, since); err != nil {
			t.Fatal(err)
		}
	}
	after := srv.Post(general, alice, "posted once connected", true)
	for {
		mu.Lock()
		n, m := got[gap.ID], got[after.ID]
		mu.Unlock()
		if n == 1 && m == 1 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("submitted %d times the message posted while the gateway connected, %d times the one after (want 1 and 1); ready before the gateway: %v",
				n, m, caughtUp)
		}
		time.Sleep(5 * time.Millisecond)
	}
}
