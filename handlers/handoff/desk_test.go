package handoff_test

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/einsatz/einsatz/bot"
	"github.com/einsatz/einsatz/bot/escalation"
	"github.com/einsatz/einsatz/handlers/handoff"
)

// escalate has the member in main ask for a person and returns the
// escalation.
func (r *rig) escalate(t *testing.T) escalation.Escalation {
	t.Helper()
	r.h.Say("I want to talk to a human")
	r.h.WaitFor("TEXT:handoff_asked", 1)
	list, err := r.svc.Queue(context.Background(), handoff.Filter{State: "open"})
	if err != nil || len(list) != 1 {
		t.Fatalf("queue = %+v, %v", list, err)
	}
	return list[0]
}

// Claimed from the desk, the bot says once that staff have the thread and
// then stays silent, however often the member writes or staff re-claim;
// the desk's reply goes into the thread in the staff member's name.
func TestDeskClaimSilenceOnceAndReply(t *testing.T) {
	r := start(t, nil, handoff.Options{})
	ctx := context.Background()
	e := r.escalate(t)
	if _, err := r.svc.Act(ctx, e.ID, escalation.ActionClaim, "sam", ""); err != nil {
		t.Fatal(err)
	}
	r.h.WaitFor("TEXT:takeover", 1)
	r.h.Say("hello?", "anyone there?")
	r.waitHandled(t, 3)
	if _, err := r.svc.Act(ctx, e.ID, escalation.ActionClaim, "sam", ""); !errors.Is(err, escalation.ErrIllegal) {
		t.Fatalf("claiming again: %v, want ErrIllegal", err)
	}
	if _, err := r.svc.Act(ctx, e.ID, escalation.ActionClaim, "kim", ""); err != nil { // kim takes it over from sam
		t.Fatal(err)
	}
	got, err := r.svc.Act(ctx, e.ID, escalation.ActionReply, "kim", "Hi, I am looking at your account now.")
	if err != nil || got.Status != escalation.StatusAnswered || got.ClaimedBy != "kim" {
		t.Fatalf("reply: %+v, %v", got, err)
	}
	out := r.h.WaitFor("I am looking at your account", 1)
	if n := strings.Count(out, "TEXT:takeover"); n != 1 {
		t.Fatalf("takeover notice %d times, want once:\n%s", n, out)
	}
	if strings.Contains(out, "answer to hello") || strings.Contains(out, "answer to anyone") {
		t.Fatalf("the bot answered in a claimed thread:\n%s", out)
	}
	tk, err := r.svc.Ticket(ctx, e.ID)
	if err != nil {
		t.Fatal(err)
	}
	last := tk.Transcript[len(tk.Transcript)-1]
	if last.Role != bot.RoleStaff || last.Name != "kim" || !strings.Contains(last.Text, "account") {
		t.Fatalf("transcript ends with %+v, want kim's reply", last)
	}
	var actions []string
	for _, c := range tk.Changes {
		actions = append(actions, c.Actor+":"+c.Action)
	}
	if strings.Join(actions, " ") != "sam:claim kim:claim kim:reply" {
		t.Fatalf("audit = %v", actions)
	}
	if _, err := r.svc.Act(ctx, e.ID, escalation.ActionReopen, "kim", ""); err == nil {
		t.Fatal("reopen is no desk action")
	}
	if _, err := r.svc.Act(ctx, e.ID, escalation.ActionNote, "kim", "  "); !errors.Is(err, handoff.ErrEmpty) {
		t.Fatalf("an empty note: %v", err)
	}
}

// Closed, the thread is the bot's again; the member writing again reopens
// the escalation (staff hear it) and gets an answer.
func TestReopenWhenMemberWritesAfterClose(t *testing.T) {
	r := start(t, nil, handoff.Options{})
	ctx := context.Background()
	e := r.escalate(t)
	for _, a := range []string{escalation.ActionClaim, escalation.ActionClose} {
		if _, err := r.svc.Act(ctx, e.ID, a, "sam", ""); err != nil {
			t.Fatalf("%s: %v", a, err)
		}
	}
	if o, _ := r.store.Owner(ctx, mainThread); !o.Bot() {
		t.Fatalf("owner after close = %+v", o)
	}
	r.h.Say("it broke again")
	r.h.WaitFor("answer to it broke again", 1)
	r.waitHandled(t, 2)
	got, _ := r.svc.Find(ctx, e.ID)
	if got.Status != escalation.StatusOpen || got.Changes[len(got.Changes)-1].Action != escalation.ActionReopen {
		t.Fatalf("after the member wrote: %+v", got)
	}
	if posts := r.poster.staffPosts(); !strings.Contains(posts[len(posts)-1].Text, "reopened") {
		t.Fatalf("staff channel: %+v", posts)
	}
	// A hand-back is not reopened.
	r.svc.Act(ctx, e.ID, escalation.ActionClaim, "sam", "")
	r.h.WaitFor("TEXT:takeover", 2)
	if _, err := r.svc.Act(ctx, e.ID, escalation.ActionHandBack, "sam", ""); err != nil {
		t.Fatal(err)
	}
	r.h.WaitFor("TEXT:release", 1)
	r.h.Say("thanks")
	r.h.WaitFor("answer to thanks", 1)
	r.waitHandled(t, 3)
	if got, _ := r.svc.Find(ctx, e.ID); got.Status != escalation.StatusClosed || !got.HandedBack {
		t.Fatalf("after a hand-back and a message: %+v", got)
	}
}

// A member writing in a thread whose staff have been quiet for
// release_after gets the bot back at once, with an answer to that message
// (no sweep runs in this test).
func TestReleaseOnWrite(t *testing.T) {
	r := start(t, nil, handoff.Options{ReleaseAfter: 30 * time.Minute})
	ctx := context.Background()
	e := r.escalate(t)
	if _, err := r.svc.Act(ctx, e.ID, escalation.ActionReply, "sam", "On it."); err != nil {
		t.Fatal(err)
	}
	r.clock.Advance(29 * time.Minute)
	r.h.Say("still there?")
	r.waitHandled(t, 2)
	if strings.Contains(r.h.Output(), "answer to still there?") {
		t.Fatal("handed back before the quiet time was up")
	}
	r.clock.Advance(2 * time.Minute)
	r.h.Say("hello??")
	r.h.WaitFor("answer to hello??", 1)
	if o, _ := r.store.Owner(ctx, mainThread); !o.Bot() {
		t.Fatalf("owner = %+v", o)
	}
	if got, _ := r.svc.Find(ctx, e.ID); got.Status != escalation.StatusClosed || !got.HandedBack {
		t.Fatalf("escalation = %+v", got)
	}
}

// With handoff.sla_warn_at: 50% the notice goes out at half the SLA, not
// before, and the desk's clock says so.
func TestSLANoticeAtConfiguredShare(t *testing.T) {
	r := start(t, nil, handoff.Options{SLA: 10 * time.Minute, SLAWarnAt: 0.5})
	ctx := context.Background()
	e := r.escalate(t)
	staffBefore := len(r.poster.staffPosts())
	notices := func() int {
		n := 0
		for _, p := range r.poster.staffPosts()[staffBefore:] {
			if strings.Contains(p.Text, "SLA about to breach") {
				n++
			}
		}
		return n
	}
	r.clock.Advance(4*time.Minute + 59*time.Second)
	if err := r.svc.CheckSLA(ctx); err != nil || notices() != 0 {
		t.Fatalf("at 4:59 of 10 minutes: %d notices, %v", notices(), err)
	}
	if tk, _ := r.svc.Ticket(ctx, e.ID); tk.SLA.Warn {
		t.Fatalf("warned before half the SLA: %+v", tk.SLA)
	}
	r.clock.Advance(time.Second)
	if err := r.svc.CheckSLA(ctx); err != nil || notices() != 1 {
		t.Fatalf("at 5 of 10 minutes: %d notices, %v", notices(), err)
	}
	if tk, _ := r.svc.Ticket(ctx, e.ID); !tk.SLA.Warn || tk.SLA.Left != 5*time.Minute {
		t.Fatalf("clock at half the SLA = %+v", tk.SLA)
	}
}

// The about-to-breach notice goes to the staff channel once, when 80 % of
// the SLA has passed without a staff response, on the injected clock;
// outside the hours the clock stands still.
func TestSLANoticeOnce(t *testing.T) {
	r := start(t, nil, handoff.Options{SLA: 10 * time.Minute})
	ctx := context.Background()
	e := r.escalate(t)
	staffBefore := len(r.poster.staffPosts())
	notices := func() int {
		n := 0
		for _, p := range r.poster.staffPosts()[staffBefore:] {
			if strings.Contains(p.Text, "SLA about to breach") {
				n++
			}
		}
		return n
	}
	r.clock.Advance(7 * time.Minute)
	if err := r.svc.CheckSLA(ctx); err != nil || notices() != 0 {
		t.Fatalf("at 7 of 10 minutes: %d notices, %v", notices(), err)
	}
	r.clock.Advance(time.Minute)
	for range 3 {
		if err := r.svc.CheckSLA(ctx); err != nil {
			t.Fatal(err)
		}
	}
	if notices() != 1 {
		t.Fatalf("at 8 of 10 minutes, three sweeps: %d notices, want 1", notices())
	}
	tk, _ := r.svc.Ticket(ctx, e.ID)
	if !tk.SLA.Warn || tk.SLA.Left != 2*time.Minute || tk.SLANotice.IsZero() {
		t.Fatalf("clock = %+v", tk.SLA)
	}
	r.clock.Advance(time.Minute)
	got, _ := r.svc.Act(ctx, e.ID, escalation.ActionClaim, "sam", "")
	if tk := r.svc.SLAOf(got, r.clock.Now()); !tk.Met || got.ResponseTime() != 9*time.Minute {
		t.Fatalf("claimed at 9 minutes: %+v, response %v", tk, got.ResponseTime())
	}

	// Staff hours Mon–Fri 09:00–17:00 UTC: Friday 16:55 to Monday 09:03
	// is 8 working minutes.
	h := &handoff.Hours{Location: time.UTC, Days: map[time.Weekday]bool{1: true, 2: true, 3: true, 4: true, 5: true}, From: 9 * time.Hour, To: 17 * time.Hour}
	fri := time.Date(2026, 11, 27, 16, 55, 0, 0, time.UTC)
	if got := h.Working(fri, fri.Add(64*time.Hour+8*time.Minute)); got != 8*time.Minute {
		t.Fatalf("working time over the weekend = %v, want 8m", got)
	}
}

// The desk changes only replies it can name: an unknown message, or an
// edit without text, is refused and nothing reaches the member.
func TestDeskReviseRefusesUnknownReply(t *testing.T) {
	r := start(t, nil, handoff.Options{})
	ctx := context.Background()
	e := r.escalate(t)
	if _, err := r.svc.Act(ctx, e.ID, escalation.ActionReply, "kim", "Hi there."); err != nil {
		t.Fatal(err)
	}
	if _, err := r.svc.Revise(ctx, e.ID, "no-such-message", "kim", "Hi again.", false); !errors.Is(err, handoff.ErrNoReply) {
		t.Fatalf("edit of an unknown reply: %v, want ErrNoReply", err)
	}
	if _, err := r.svc.Revise(ctx, e.ID, "no-such-message", "kim", "", true); !errors.Is(err, handoff.ErrNoReply) {
		t.Fatalf("delete of an unknown reply: %v, want ErrNoReply", err)
	}
	if _, err := r.svc.Revise(ctx, e.ID, "no-such-message", "kim", "  ", false); !errors.Is(err, handoff.ErrEmpty) {
		t.Fatalf("edit without text: %v, want ErrEmpty", err)
	}
	tk, err := r.svc.Ticket(ctx, e.ID)
	if err != nil {
		t.Fatal(err)
	}
	for _, c := range tk.Changes {
		if c.Edited || c.Deleted {
			t.Fatalf("a refused change marked the history: %+v", c)
		}
	}
}
