package handoff_test

import (
	"context"
	"fmt"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/einsatz/einsatz/adapters/discord"
	"github.com/einsatz/einsatz/adapters/discord/discordtest"
	"github.com/einsatz/einsatz/bot"
	"github.com/einsatz/einsatz/bot/bottest"
	"github.com/einsatz/einsatz/handlers/handoff"
	"github.com/einsatz/einsatz/storage"
)

// waitUntil polls cond for up to 10 s.
func waitUntil(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(5 * time.Millisecond)
	}
}

func contents(msgs []discordtest.Message) string {
	var b strings.Builder
	for _, m := range msgs {
		b.WriteString(m.Content + "\n---\n")
	}
	return b.String()
}

// The hand-off end to end on the fake Discord, with the real adapter and
// core: a staff reply takes the thread over, the bot stays silent across
// 100 messages while sentiment is logged, a member's /takeover is refused,
// /release restores answering, a request for a person escalates once to
// the staff channel, and the quiet-time hand-back fires on the clock.
func TestHandoffOnDiscord(t *testing.T) {
	fd := discordtest.New(t, discordtest.Options{})
	support := fd.AddRole(fd.Guild, "support")
	anna := fd.NewUser("anna", support)
	mia := fd.NewUser("mia")
	general := fd.TextChannel(fd.Guild, "general")
	staffCh := fd.TextChannel(fd.Guild, "staff")

	store, err := storage.Open(storage.Options{InMemory: true, Logger: discard})
	if err != nil {
		t.Fatal(err)
	}
	defer store.Close()
	clock := bottest.NewClock(time.Now())
	var core *bot.Bot
	svc := handoff.New(handoff.Options{Store: storage.NewHandoff(store), Owners: store, Clock: clock, Logger: discard, Text: text, AutoTakeover: true,
		ReleaseAfter: 30 * time.Minute, StaffChannel: bot.ThreadRef{Platform: "discord", ChannelID: staffCh},
		Poster: posterFunc(func(ctx context.Context, to bot.ThreadRef, r bot.Reply) error { return core.Post(ctx, to, r) })})
	answer := bot.HandlerFunc(func(_ context.Context, ev *bot.Event) ([]bot.Reply, error) {
		return []bot.Reply{{Text: "answer: " + ev.Text}}, nil
	})
	router := bot.NewRouter(answer)
	for _, r := range svc.Routes() {
		router.Add(r)
	}
	var scored atomic.Int32
	sentiment := bot.ObserverFunc(func(_ context.Context, ev *bot.Event) error {
		if ev.Kind == bot.KindMessage {
			scored.Add(1)
		}
		return nil
	})
	core = bot.New(bot.Options{Store: store, Router: router, Observers: []bot.Observer{sentiment, svc}, Logger: discard, Clock: clock})
	da, err := discord.New(discord.Options{Token: fd.Token, APIURL: fd.URL, StaffRoles: []string{support},
		Commands: router.Commands(), GuildIDs: []string{fd.Guild}, Logger: discard})
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- core.Run(ctx, da) }()
	defer func() { cancel(); <-done }()
	if !fd.WaitConnected(10 * time.Second) {
		t.Fatal("the adapter did not connect")
	}

	q := fd.Post(general, mia, "How do I install it?", true)
	thread := q.ID // the bot answers in a thread started from the question
	waitUntil(t, "the answer", func() bool { return len(fd.BotMessages(thread)) == 1 })

	fd.Post(thread, anna, "Hi Mia, I'll help you with that.", false)
	waitUntil(t, "the takeover notice", func() bool { return strings.Contains(contents(fd.BotMessages(thread)), "TEXT:takeover") })
	before := scored.Load()
	for i := range 100 {
		fd.Post(thread, mia, fmt.Sprintf("more details %d", i), false)
	}
	waitUntil(t, "100 messages observed", func() bool { return scored.Load() == before+100 })
	if n := len(fd.BotMessages(thread)); n != 2 {
		t.Fatalf("the bot posted %d messages in the staff-owned thread, want 2 (answer, notice):\n%s", n, contents(fd.BotMessages(thread)))
	}

	refused := fd.SlashCommand(thread, mia, "takeover", "")
	waitUntil(t, "the refusal", func() bool { return strings.Contains(responses(fd, refused), "TEXT:staff_only") })
	if o, _ := store.Owner(ctx, bot.ThreadRef{Platform: "discord", ChannelID: general, ThreadID: thread}); o.Staff != "anna" {
		t.Fatalf("owner after a member's /takeover = %+v", o)
	}

	released := fd.SlashCommand(thread, anna, "release", "")
	waitUntil(t, "the release notice", func() bool { return strings.Contains(responses(fd, released), "TEXT:release") })
	fd.Post(thread, mia, "one more question", false)
	waitUntil(t, "answering again", func() bool { return strings.Contains(contents(fd.BotMessages(thread)), "answer: one more question") })

	// A request for a person: one escalation, however often it is asked.
	h := fd.Post(general, mia, "I want to talk to a human please", true)
	waitUntil(t, "the escalation", func() bool { return len(fd.BotMessages(staffCh)) == 1 })
	waitUntil(t, "the reply thread", func() bool { return len(fd.BotMessages(h.ID)) == 1 })
	fd.Post(h.ID, mia, "can I speak to a real person?", false)
	waitUntil(t, "the user told help is coming", func() bool { return strings.Count(contents(fd.BotMessages(h.ID)), "TEXT:handoff_asked") == 2 })
	esc := fd.BotMessages(staffCh)
	if len(esc) != 1 || len(esc[0].Buttons) == 0 || !strings.Contains(esc[0].Content, "asked for a human") {
		t.Fatalf("staff channel = %+v", esc)
	}

	// Take over from the staff channel's button, then hand back after the quiet time.
	take := esc[0].Buttons[0][0]
	fd.ClickButton(staffCh, esc[0].ID, anna, take.CustomID)
	waitUntil(t, "the takeover from the button", func() bool { return strings.Contains(contents(fd.BotMessages(h.ID)), "TEXT:takeover") })
	clock.Advance(31 * time.Minute)
	if err := svc.ReleaseIdle(ctx); err != nil {
		t.Fatal(err)
	}
	waitUntil(t, "the hand-back", func() bool { return strings.Contains(contents(fd.BotMessages(h.ID)), "TEXT:release") })
}

func responses(fd *discordtest.Server, interactionID string) string {
	var b strings.Builder
	for _, r := range fd.InteractionResponses(interactionID) {
		b.WriteString(r.Content + "\n")
	}
	return b.String()
}

type posterFunc func(ctx context.Context, to bot.ThreadRef, r bot.Reply) error

func (f posterFunc) Post(ctx context.Context, to bot.ThreadRef, r bot.Reply) error {
	return f(ctx, to, r)
}
