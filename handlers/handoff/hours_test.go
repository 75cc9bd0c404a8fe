package handoff_test

import (
	"context"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/einsatz/einsatz/adapters/web"
	"github.com/einsatz/einsatz/bot"
	"github.com/einsatz/einsatz/bot/escalation"
	"github.com/einsatz/einsatz/handlers/handoff"
	"github.com/einsatz/einsatz/storage"
)

func mustLoad(t *testing.T, name string) *time.Location {
	t.Helper()
	loc, err := time.LoadLocation(name)
	if err != nil {
		t.Fatalf("load %s: %v", name, err)
	}
	return loc
}

func weekdays(ds ...time.Weekday) map[time.Weekday]bool {
	m := map[time.Weekday]bool{}
	for _, d := range ds {
		m[d] = true
	}
	return m
}

var monFri = weekdays(time.Monday, time.Tuesday, time.Wednesday, time.Thursday, time.Friday)

// TestHoursOpenAndNext: Open is [From, To) on the listed days in the hours'
// own time zone; Next is the next opening strictly after t, at From
// wall-clock time (also on days the clocks change).
func TestHoursOpenAndNext(t *testing.T) {
	berlin := mustLoad(t, "Europe/Berlin")
	newYork := mustLoad(t, "America/New_York")
	tokyo := mustLoad(t, "Asia/Tokyo")
	office := &handoff.Hours{Location: berlin, Days: monFri, From: 9 * time.Hour, To: 17*time.Hour + 30*time.Minute}
	allWeek := &handoff.Hours{Location: berlin, Days: weekdays(0, 1, 2, 3, 4, 5, 6), From: 9 * time.Hour, To: 17 * time.Hour}
	ny := &handoff.Hours{Location: newYork, Days: monFri, From: 9 * time.Hour, To: 17 * time.Hour}
	tk := &handoff.Hours{Location: tokyo, Days: monFri, From: 8 * time.Hour, To: 12 * time.Hour}

	// 2026-11-26 is a Thursday; Berlin is on CET (UTC+1) then.
	in := func(loc *time.Location, y int, m time.Month, d, hh, mm int) time.Time {
		return time.Date(y, m, d, hh, mm, 0, 0, loc)
	}
	tests := []struct {
		name     string
		h        *handoff.Hours
		at       time.Time
		open     bool
		next     time.Time
		skipNext bool
	}{
		{"weekday inside", office, in(berlin, 2026, 11, 26, 10, 0), true, in(berlin, 2026, 11, 27, 9, 0), false},
		{"weekday at opening minute", office, in(berlin, 2026, 11, 26, 9, 0), true, in(berlin, 2026, 11, 27, 9, 0), false},
		{"weekday last minute", office, in(berlin, 2026, 11, 26, 17, 29), true, in(berlin, 2026, 11, 27, 9, 0), false},
		{"weekday at closing (To excluded)", office, in(berlin, 2026, 11, 26, 17, 30), false, in(berlin, 2026, 11, 27, 9, 0), false},
		{"weekday before opening", office, in(berlin, 2026, 11, 26, 8, 59), false, in(berlin, 2026, 11, 26, 9, 0), false},
		{"weekday just after midnight", office, in(berlin, 2026, 11, 26, 0, 5), false, in(berlin, 2026, 11, 26, 9, 0), false},
		{"friday evening skips weekend", office, in(berlin, 2026, 11, 27, 18, 0), false, in(berlin, 2026, 11, 30, 9, 0), false},
		{"saturday inside daily window", office, in(berlin, 2026, 11, 28, 11, 0), false, in(berlin, 2026, 11, 30, 9, 0), false},
		{"sunday late", office, in(berlin, 2026, 11, 29, 23, 59), false, in(berlin, 2026, 11, 30, 9, 0), false},
		{"only one day a week: same weekday after hours", &handoff.Hours{Location: berlin, Days: weekdays(time.Thursday), From: 9 * time.Hour, To: 10 * time.Hour},
			in(berlin, 2026, 11, 26, 12, 0), false, in(berlin, 2026, 12, 3, 9, 0), false},
		// Time zones: t is converted into the hours' zone.
		{"UTC instant inside Berlin hours", office, time.Date(2026, 11, 26, 8, 30, 0, 0, time.UTC), true, in(berlin, 2026, 11, 27, 9, 0), false},
		{"UTC 08:30 is 03:30 in New York", ny, time.Date(2026, 11, 26, 8, 30, 0, 0, time.UTC), false, in(newYork, 2026, 11, 26, 9, 0), false},
		{"UTC 14:00 is 09:00 in New York", ny, time.Date(2026, 11, 26, 14, 0, 0, 0, time.UTC), true, in(newYork, 2026, 11, 27, 9, 0), false},
		{"UTC Friday 03:00 is Thursday 22:00 in New York", ny, time.Date(2026, 11, 27, 3, 0, 0, 0, time.UTC), false, in(newYork, 2026, 11, 27, 9, 0), false},
		{"UTC Sunday 23:30 is Monday 08:30 in Tokyo", tk, time.Date(2026, 11, 29, 23, 30, 0, 0, time.UTC), true, in(tokyo, 2026, 12, 1, 8, 0), false},
		{"UTC Saturday 22:00 is Sunday 07:00 in Tokyo", tk, time.Date(2026, 11, 28, 22, 0, 0, 0, time.UTC), false, in(tokyo, 2026, 11, 30, 8, 0), false},
		// Daylight saving: Berlin springs forward on 2026-03-29 and falls
		// back on 2026-10-25; staff still start at 09:00 local time.
		{"DST spring forward day", allWeek, in(berlin, 2026, 3, 28, 20, 0), false, in(berlin, 2026, 3, 29, 9, 0), false},
		{"DST fall back day", allWeek, in(berlin, 2026, 10, 24, 20, 0), false, in(berlin, 2026, 10, 25, 9, 0), false},
		{"DST fall back day 08:30 still closed", allWeek, in(berlin, 2026, 10, 25, 8, 30), false, in(berlin, 2026, 10, 25, 9, 0), false},
		// nil hours: staff are always around (Next is never asked then).
		{"nil hours always open", nil, in(berlin, 2026, 11, 29, 3, 0), true, time.Time{}, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := tt.h.Open(tt.at); got != tt.open {
				t.Errorf("Open(%s) = %v, want %v", tt.at.Format(time.RFC1123), got, tt.open)
			}
			if tt.skipNext {
				return
			}
			next := tt.h.Next(tt.at)
			if !next.Equal(tt.next) {
				t.Errorf("Next(%s) = %s, want %s", tt.at.Format(time.RFC1123), next.Format(time.RFC1123), tt.next.Format(time.RFC1123))
			}
			if !next.After(tt.at) {
				t.Errorf("Next(%s) = %s is not after t", tt.at, next)
			}
			if !tt.h.Open(next) {
				t.Errorf("Open(Next(%s) = %s) = false: the reported opening is not inside the hours", tt.at, next.Format(time.RFC1123))
			}
			if next.Location() != tt.h.Location {
				t.Errorf("Next is in %v, want the hours' zone %v (the user is told this time)", next.Location(), tt.h.Location)
			}
		})
	}
}

// TestAfterHoursRequestTellsWhenStaffAreBack: asking for a human outside
// the hours still escalates and tells the user when staff are back; inside
// the hours (or without hours) it does not. The rig's clock stands at
// Thursday 2026-11-26 10:00 UTC (11:00 in Berlin, 05:00 in New York).
func TestAfterHoursRequestTellsWhenStaffAreBack(t *testing.T) {
	berlin := mustLoad(t, "Europe/Berlin")
	newYork := mustLoad(t, "America/New_York")
	texts := func(_, key string) string {
		if key == "handoff_after_hours" {
			return "staff are back {when}"
		}
		return "TEXT:" + key
	}
	tests := []struct {
		name  string
		hours *handoff.Hours
		want  string // reply in the thread
	}{
		{"no hours configured", nil, "TEXT:handoff_asked"},
		{"inside hours", &handoff.Hours{Location: berlin, Days: monFri, From: 9 * time.Hour, To: 17 * time.Hour}, "TEXT:handoff_asked"},
		{"after the daily window", &handoff.Hours{Location: berlin, Days: monFri, From: 8 * time.Hour, To: 11 * time.Hour}, "staff are back Fri 08:00 CET"},
		{"before the daily window, other zone", &handoff.Hours{Location: newYork, Days: monFri, From: 9 * time.Hour, To: 17 * time.Hour}, "staff are back Thu 09:00 EST"},
		{"not a staff day", &handoff.Hours{Location: berlin, Days: weekdays(time.Monday, time.Tuesday), From: 9 * time.Hour, To: 17 * time.Hour}, "staff are back Mon 09:00 CET"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := start(t, nil, handoff.Options{Hours: tt.hours, Text: texts})
			r.h.Say(":thread t1", "I want to talk to a human")
			out := r.h.WaitFor("[t1] Einsatz: "+tt.want, 1)
			if tt.want == "TEXT:handoff_asked" && strings.Contains(out, "staff are back") {
				t.Errorf("inside hours the user was told when staff are back:\n%s", out)
			}
			if tt.want != "TEXT:handoff_asked" && strings.Contains(out, "TEXT:handoff_asked") {
				t.Errorf("outside hours the user got the in-hours reply too:\n%s", out)
			}
			if n := len(r.poster.staffPosts()); n != 1 {
				t.Errorf("%d escalations posted to staff, want 1 (also outside hours)", n)
			}
		})
	}
}

// TestListAfterTakeoverAndRelease: one escalation, taken over by staff 5
// minutes later and handed back 10 minutes after that, shows in List, the
// --open filter, WriteList (the CLI table) and the admin API at each stage.
func TestListAfterTakeoverAndRelease(t *testing.T) {
	ctx := context.Background()
	r := start(t, nil, handoff.Options{})
	created := r.clock.Now()
	thread := bot.ThreadRef{Platform: "console", ChannelID: "console", ThreadID: "t1"}
	site, err := web.New(web.Options{Store: r.store, Core: r.core, Logger: discard,
		Accounts: []web.Account{{Name: "sam", Role: "staff", Token: "staff-token"}}})
	if err != nil {
		t.Fatal(err)
	}
	site.AddHandoff(r.svc, nil)
	api := site.Handler()

	type stage struct {
		status    string
		claimedBy string
		resp      time.Duration
		closed    time.Time
		inOpen    bool   // listed by the --open filter
		table     string // the row's tail in WriteList's table
	}
	check := func(t *testing.T, want stage) {
		t.Helper()
		all, err := handoff.List(ctx, storage.NewHandoff(r.store), false)
		if err != nil {
			t.Fatal(err)
		}
		if len(all) != 1 {
			t.Fatalf("List = %d rows, want 1: %+v", len(all), all)
		}
		e := all[0]
		if e.Thread != thread || e.User.Name != "you" || e.Reason != "asked for a human" || !e.Created.Equal(created) ||
			e.Status != want.status || e.ClaimedBy != want.claimedBy || e.ResponseTime() != want.resp || !e.Closed.Equal(want.closed) {
			t.Errorf("List row = %+v, want %+v", e, want)
		}
		open, err := handoff.List(ctx, storage.NewHandoff(r.store), true)
		if err != nil {
			t.Fatal(err)
		}
		if got := len(open) == 1; got != want.inOpen || len(open) > 1 {
			t.Errorf("List(open) = %+v, want listed: %v", open, want.inOpen)
		}
		var b strings.Builder
		if err := handoff.WriteList(&b, all); err != nil {
			t.Fatal(err)
		}
		lines := strings.Split(strings.TrimSpace(b.String()), "\n")
		if len(lines) != 2 || !strings.HasPrefix(lines[0], "CREATED") {
			t.Fatalf("table:\n%s", b.String())
		}
		fields := strings.Fields(lines[1])
		wantFields := append([]string{"2026-11-26", "10:00", want.status, thread.Key(), "you", "asked", "for", "a", "human"}, strings.Fields(want.table)...)
		if strings.Join(fields, " ") != strings.Join(wantFields, " ") {
			t.Errorf("table row = %q, want %q", fields, wantFields)
		}
		for _, q := range []struct {
			path string
			n    int
		}{{"/api/admin/handoff", 1}, {"/api/admin/handoff?open=1", map[bool]int{true: 1, false: 0}[want.inOpen]}} {
			rec := httptest.NewRecorder()
			req := httptest.NewRequest(http.MethodGet, q.path, nil)
			req.Header.Set("Authorization", "Bearer staff-token")
			api.ServeHTTP(rec, req)
			var got []escalation.Escalation
			if err := json.Unmarshal(rec.Body.Bytes(), &got); rec.Code != http.StatusOK || err != nil {
				t.Fatalf("GET %s = %d %q (%v)", q.path, rec.Code, rec.Body, err)
			}
			if len(got) != q.n {
				t.Errorf("GET %s = %d rows, want %d: %+v", q.path, len(got), q.n, got)
			}
			if len(got) == 1 && (got[0].Status != want.status || got[0].ResponseTime() != want.resp) {
				t.Errorf("GET %s row = %+v, want status %s, response %s", q.path, got[0], want.status, want.resp)
			}
		}
	}

	r.h.Say(":thread t1", "I want to talk to a human")
	r.h.WaitFor("[t1] Einsatz: TEXT:handoff_asked", 1)
	t.Run("escalated", func(t *testing.T) {
		check(t, stage{status: escalation.StatusOpen, inOpen: true, table: "-"})
	})

	r.clock.Advance(5 * time.Minute)
	r.h.Say(":user anna", ":staff on", "/takeover")
	r.h.WaitFor("[t1] Einsatz: TEXT:takeover", 1)
	t.Run("taken over", func(t *testing.T) {
		check(t, stage{status: escalation.StatusClaimed, claimedBy: "anna", resp: 5 * time.Minute, inOpen: true, table: "anna 5m0s"})
	})

	r.clock.Advance(10 * time.Minute)
	r.h.Say("/release")
	r.h.WaitFor("[t1] Einsatz: TEXT:release", 1)
	t.Run("released", func(t *testing.T) {
		check(t, stage{status: escalation.StatusClosed, claimedBy: "anna", resp: 5 * time.Minute,
			closed: created.Add(15 * time.Minute), inOpen: false, table: "anna 5m0s"})
	})
}
