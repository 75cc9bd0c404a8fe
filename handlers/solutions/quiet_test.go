package solutions_test

import (
	"context"
	"testing"
	"time"

	"github.com/einsatz/einsatz/adapters/discord/discordtest"
	"github.com/einsatz/einsatz/bot"
	"github.com/einsatz/einsatz/bot/bottest"
	"github.com/einsatz/einsatz/bot/config"
	"github.com/einsatz/einsatz/handlers/solutions"
	"github.com/einsatz/einsatz/storage"
)

func TestQuietHours(t *testing.T) {
	berlin, err := time.LoadLocation("Europe/Berlin")
	if err != nil {
		t.Fatal(err)
	}
	at := func(h, m int) time.Time { return time.Date(2026, 12, 7, h, m, 0, 0, berlin) }
	night := solutions.QuietHours{Loc: berlin, From: 22 * time.Hour, To: 8 * time.Hour}
	lunch := solutions.QuietHours{Loc: berlin, From: 12 * time.Hour, To: 13 * time.Hour}
	for _, c := range []struct {
		name string
		q    solutions.QuietHours
		t    time.Time
		want bool
	}{
		{"before the night", night, at(21, 59), false},
		{"night starts", night, at(22, 0), true},
		{"after midnight", night, at(3, 0), true},
		{"night ends", night, at(8, 0), false},
		{"in UTC, 07:30 is 08:30 in Berlin", night, time.Date(2026, 12, 7, 7, 30, 0, 0, time.UTC), false},
		{"in UTC, 06:30 is 07:30 in Berlin", night, time.Date(2026, 12, 7, 6, 30, 0, 0, time.UTC), true},
		{"lunch", lunch, at(12, 30), true},
		{"after lunch", lunch, at(13, 0), false},
		{"none", solutions.QuietHours{}, at(3, 0), false},
	} {
		if got := c.q.Quiet(c.t); got != c.want {
			t.Errorf("%s: Quiet(%v) = %v, want %v", c.name, c.t, got, c.want)
		}
	}

	for _, c := range []struct {
		s      config.Solved
		staff  config.Hours
		loc    string
		ok     bool
		from   time.Duration
		isNone bool
	}{
		{s: config.Solved{}, ok: true, isNone: true},
		{s: config.Solved{QuietHours: "22:00-08:00"}, loc: "UTC", ok: true, from: 22 * time.Hour},
		{s: config.Solved{QuietHours: "22:00 - 08:00"}, staff: config.Hours{Timezone: "Europe/Berlin"}, loc: "Europe/Berlin", ok: true, from: 22 * time.Hour},
		{s: config.Solved{QuietHours: "21:30-07:00", Timezone: "America/New_York"}, staff: config.Hours{Timezone: "Europe/Berlin"}, loc: "America/New_York", ok: true, from: 21*time.Hour + 30*time.Minute},
		{s: config.Solved{QuietHours: "22:00"}},
		{s: config.Solved{QuietHours: "8:00-8:00"}},
		{s: config.Solved{QuietHours: "25:00-08:00"}},
		{s: config.Solved{QuietHours: "22:00-08:00", Timezone: "Mars/Olympus"}},
	} {
		loc, from, _, err := config.ParseQuietHours(c.s, c.staff)
		switch {
		case !c.ok && err == nil:
			t.Errorf("%+v: no error", c.s)
		case c.ok && err != nil:
			t.Errorf("%+v: %v", c.s, err)
		case c.ok && c.isNone && loc != nil:
			t.Errorf("%+v: quiet hours without a setting", c.s)
		case c.ok && !c.isNone && (loc == nil || loc.String() != c.loc || from != c.from):
			t.Errorf("%+v: %v from %v, want %s from %v", c.s, loc, from, c.loc, c.from)
		}
	}
}

// The nudge honours quiet hours on the Discord fake and a fake clock: a
// thread answered at 21:30 Berlin time with nudge_after 1h is due at
// 22:30, inside 22:00-08:00, so nothing is sent at night (not at 07:59
// either) and the nudge goes out at 08:00, once.
func TestNudgeQuietHours(t *testing.T) {
	ctx := context.Background()
	berlin, err := time.LoadLocation("Europe/Berlin")
	if err != nil {
		t.Fatal(err)
	}
	start := time.Date(2026, 12, 7, 21, 30, 0, 0, berlin)
	clock := bottest.NewClock(start)
	fd := discordtest.New(t, discordtest.Options{})
	supportRole := fd.AddRole(fd.Guild, "support")
	mia := fd.NewUser("mia")
	general := fd.TextChannel(fd.Guild, "general")
	r := newRigWith(t, clock, func(o *solutions.Options, core *bot.Bot, store *storage.Store) {
		o.Poster, o.NudgeAfter, o.Nudges, o.Threads = core, time.Hour, storage.NewSolved(store), store
		o.Quiet = solutions.QuietHours{Loc: berlin, From: 22 * time.Hour, To: 8 * time.Hour}
	})
	discordRig(t, fd, r, supportRole)
	q := fd.Post(general, mia, "How do I install the bot on Linux?", true)
	th := bot.ThreadRef{Platform: bot.PlatformDiscord, ChannelID: general, ThreadID: q.ID}
	waitUntil(t, "the bot's answer in the history", func() bool { return lastRole(t, r, th) == bot.RoleBot })

	for _, step := range []struct {
		to   time.Time
		want int
	}{
		{start.Add(time.Hour + time.Minute), 0},          // 22:31: due, but quiet
		{time.Date(2026, 12, 8, 3, 0, 0, 0, berlin), 0},  // the middle of the night
		{time.Date(2026, 12, 8, 7, 59, 0, 0, berlin), 0}, // a minute before the end
		{time.Date(2026, 12, 8, 8, 0, 0, 0, berlin), 1},  // the end of the quiet hours
		{time.Date(2026, 12, 8, 9, 0, 0, 0, berlin), 1},  // once
	} {
		clock.Advance(step.to.Sub(clock.Now()))
		if err := r.svc.Nudge(ctx); err != nil {
			t.Fatal(err)
		}
		if n := nudged(fd, q.ID, nudgeEN); n != step.want {
			t.Fatalf("at %s: %d nudges, want %d", step.to.Format("15:04"), n, step.want)
		}
	}
}
