package escalation_test

import (
	"errors"
	"testing"
	"time"

	"github.com/einsatz/einsatz/bot"
	"github.com/einsatz/einsatz/bot/escalation"
)

// Every action from every status: where it leads, or that it is refused.
// docs/handoff.md shows the same table.
func TestStateMachine(t *testing.T) {
	const illegal = ""
	want := map[string]map[string]string{
		escalation.StatusOpen: {escalation.ActionClaim: escalation.StatusClaimed, escalation.ActionReply: escalation.StatusAnswered,
			escalation.ActionNote: escalation.StatusOpen, escalation.ActionClose: illegal, escalation.ActionDismiss: escalation.StatusDismissed,
			escalation.ActionHandBack: illegal, escalation.ActionReopen: illegal, escalation.ActionSLA: escalation.StatusOpen},
		escalation.StatusClaimed: {escalation.ActionClaim: escalation.StatusClaimed, escalation.ActionReply: escalation.StatusAnswered,
			escalation.ActionNote: escalation.StatusClaimed, escalation.ActionClose: escalation.StatusClosed, escalation.ActionDismiss: escalation.StatusDismissed,
			escalation.ActionHandBack: escalation.StatusClosed, escalation.ActionReopen: illegal, escalation.ActionSLA: illegal},
		escalation.StatusAnswered: {escalation.ActionClaim: escalation.StatusClaimed, escalation.ActionReply: escalation.StatusAnswered,
			escalation.ActionNote: escalation.StatusAnswered, escalation.ActionClose: escalation.StatusClosed, escalation.ActionDismiss: illegal,
			escalation.ActionHandBack: escalation.StatusClosed, escalation.ActionReopen: illegal, escalation.ActionSLA: illegal},
		escalation.StatusClosed: {escalation.ActionClaim: illegal, escalation.ActionReply: illegal, escalation.ActionNote: escalation.StatusClosed,
			escalation.ActionClose: illegal, escalation.ActionDismiss: illegal, escalation.ActionHandBack: illegal,
			escalation.ActionReopen: escalation.StatusOpen, escalation.ActionSLA: illegal},
		escalation.StatusDismissed: {escalation.ActionClaim: illegal, escalation.ActionReply: illegal, escalation.ActionNote: escalation.StatusDismissed,
			escalation.ActionClose: illegal, escalation.ActionDismiss: illegal, escalation.ActionHandBack: illegal,
			escalation.ActionReopen: illegal, escalation.ActionSLA: illegal},
	}
	t0 := time.Date(2026, 3, 2, 10, 0, 0, 0, time.UTC)
	for _, from := range escalation.Statuses {
		for _, action := range escalation.Actions {
			to := want[from][action]
			t.Run(from+"/"+action, func(t *testing.T) {
				// Held by someone else than the actor, so a claim is a take-over.
				e := escalation.Escalation{Thread: bot.ThreadRef{Platform: "web", ChannelID: "chat", ThreadID: "c1"}, Created: t0, Status: from}
				if from != escalation.StatusOpen {
					e.ClaimedBy = "kim"
				}
				before := e
				err := e.Apply(action, "sam", t0.Add(time.Minute), "words")
				if to == illegal {
					if !errors.Is(err, escalation.ErrIllegal) {
						t.Fatalf("%s while %s: err %v, want ErrIllegal", action, from, err)
					}
					if e.Status != before.Status || len(e.Changes) != 0 {
						t.Fatalf("a refused step changed the escalation: %+v", e)
					}
					return
				}
				if err != nil || e.Status != to {
					t.Fatalf("%s while %s: status %q, err %v; want %q", action, from, e.Status, err, to)
				}
				c := e.Changes[len(e.Changes)-1]
				if c.Actor != "sam" || c.Action != action || c.From != from || c.To != to || !c.Time.Equal(t0.Add(time.Minute)) {
					t.Fatalf("audit = %+v", c)
				}
			})
		}
	}
}

// The guards beyond the status, and what each step records.
func TestApplyGuardsAndEffects(t *testing.T) {
	t0 := time.Date(2026, 3, 2, 10, 0, 0, 0, time.UTC)
	at := func(m int) time.Time { return t0.Add(time.Duration(m) * time.Minute) }
	e := escalation.Escalation{Thread: bot.ThreadRef{Platform: "discord", ChannelID: "C", ThreadID: "T"}, Created: t0, Status: escalation.StatusOpen}

	if err := e.Apply(escalation.ActionNote, "sam", at(1), "looks like billing"); err != nil || !e.FirstResponse.IsZero() {
		t.Fatalf("a note: %v, first response %v (a note is not a response)", err, e.FirstResponse)
	}
	if err := e.Apply(escalation.ActionSLA, "clock", at(2), ""); err != nil || !e.SLANotice.Equal(at(2)) {
		t.Fatalf("sla notice: %v %+v", err, e)
	}
	if err := e.Apply(escalation.ActionSLA, "clock", at(3), ""); !errors.Is(err, escalation.ErrIllegal) {
		t.Fatalf("a second sla notice: %v, want ErrIllegal", err)
	}
	if err := e.Apply(escalation.ActionReply, "sam", at(4), "hi"); err != nil || e.ClaimedBy != "sam" || e.ResponseTime() != 4*time.Minute {
		t.Fatalf("a reply on an open escalation claims it: %v %+v", err, e)
	}
	if err := e.Apply(escalation.ActionClaim, "sam", at(5), ""); !errors.Is(err, escalation.ErrIllegal) {
		t.Fatalf("claiming what one holds: %v, want ErrIllegal", err)
	}
	if err := e.Apply(escalation.ActionClose, "sam", at(6), ""); err != nil || !e.Closed.Equal(at(6)) || e.HandedBack {
		t.Fatalf("close: %v %+v", err, e)
	}
	if err := e.Apply(escalation.ActionReopen, "member", at(7), ""); err != nil || e.Status != escalation.StatusOpen || e.ClaimedBy != "" || !e.Closed.IsZero() {
		t.Fatalf("reopen: %v %+v", err, e)
	}
	if e.ResponseTime() != 4*time.Minute {
		t.Fatalf("the first response stays the first: %v", e.ResponseTime())
	}
	if err := e.Apply(escalation.ActionClaim, "kim", at(8), ""); err != nil {
		t.Fatal(err)
	}
	if err := e.Apply(escalation.ActionHandBack, "auto-release", at(9), ""); err != nil || !e.HandedBack {
		t.Fatalf("hand back: %v %+v", err, e)
	}
	if err := e.Apply(escalation.ActionReopen, "member", at(10), ""); !errors.Is(err, escalation.ErrIllegal) {
		t.Fatalf("reopening a hand-back: %v, want ErrIllegal", err)
	}
	if len(e.Changes) != 7 {
		t.Fatalf("%d changes audited, want 7: %+v", len(e.Changes), e.Changes)
	}

	legacy := escalation.Escalation{Thread: e.Thread, Created: t0, Status: escalation.StatusResolved}
	legacy.Normalize()
	if legacy.Status != escalation.StatusClosed || !legacy.HandedBack || legacy.ID != escalation.IDOf(e.Thread, t0) || len(legacy.ID) != 8 {
		t.Fatalf("a record from before the desk: %+v", legacy)
	}
}
