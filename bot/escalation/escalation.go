// Package escalation holds a call for staff in one thread — who asked,
// why, who took it, what staff did and when — with the one state machine
// every surface (staff channel buttons, in-thread commands, the dashboard
// desk, the CLI) changes it through, and the interface of the store that
// keeps the latest one per thread. It is a leaf: storage implements
// Store, handlers/handoff runs the workflow over it.
package escalation

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"strconv"
	"time"

	"github.com/einsatz/einsatz/bot"
)

// Statuses. docs/handoff.md has the table of which action leads where.
const (
	StatusOpen      = "open"      // posted, nobody took it yet (or reopened)
	StatusClaimed   = "claimed"   // a staff member took the thread over
	StatusAnswered  = "answered"  // staff replied; the thread is still theirs
	StatusClosed    = "closed"    // done; the bot has the thread again
	StatusDismissed = "dismissed" // staff decided nothing is needed
	// StatusResolved is how escalations handed back before the desk
	// existed were stored; it reads as closed by a hand-back.
	StatusResolved = "resolved"
)

// Actions are the steps of the state machine.
const (
	ActionClaim    = "claim"     // staff take the thread over
	ActionReply    = "reply"     // staff answered the member (claims it when open)
	ActionNote     = "note"      // an internal note: no change of status
	ActionClose    = "close"     // staff are done; the member writing again reopens it
	ActionDismiss  = "dismiss"   // nothing to do
	ActionHandBack = "hand_back" // the bot serves the thread again; no reopening
	ActionReopen   = "reopen"    // the member wrote after a close
	ActionSLA      = "sla"       // the about-to-breach notice went out: no change of status
)

// Actions lists every action, in the order of docs/handoff.md.
var Actions = []string{ActionClaim, ActionReply, ActionNote, ActionClose, ActionDismiss, ActionHandBack, ActionReopen, ActionSLA}

// Statuses lists every status, in the order of docs/handoff.md.
var Statuses = []string{StatusOpen, StatusClaimed, StatusAnswered, StatusClosed, StatusDismissed}

// ErrIllegal is returned for an action the escalation's status does not
// allow (closing a dismissed one, claiming what one already holds …).
var ErrIllegal = errors.New("not allowed")

// ErrNotFound is returned for an escalation that does not exist.
var ErrNotFound = errors.New("escalation: not found")

// next is the state table: status → action → new status.
var next = map[string]map[string]string{
	StatusOpen: {ActionClaim: StatusClaimed, ActionReply: StatusAnswered, ActionNote: StatusOpen,
		ActionDismiss: StatusDismissed, ActionSLA: StatusOpen},
	StatusClaimed: {ActionClaim: StatusClaimed, ActionReply: StatusAnswered, ActionNote: StatusClaimed,
		ActionClose: StatusClosed, ActionDismiss: StatusDismissed, ActionHandBack: StatusClosed},
	StatusAnswered: {ActionClaim: StatusClaimed, ActionReply: StatusAnswered, ActionNote: StatusAnswered,
		ActionClose: StatusClosed, ActionHandBack: StatusClosed},
	StatusClosed:    {ActionReopen: StatusOpen, ActionNote: StatusClosed},
	StatusDismissed: {ActionNote: StatusDismissed},
}

// Next is the status action leads to from status, or an error wrapping
// ErrIllegal. Apply adds the guards that depend on more than the status.
func Next(status, action string) (string, error) {
	if status == StatusResolved {
		status = StatusClosed
	}
	to, ok := next[status][action]
	if !ok {
		return "", fmt.Errorf("escalation: %s: %w while it is %s", action, ErrIllegal, status)
	}
	return to, nil
}

// Change is one audited step: who did what, when.
type Change struct {
	Time   time.Time `json:"time"`
	Actor  string    `json:"actor"`
	Action string    `json:"action"`
	From   string    `json:"from"`
	To     string    `json:"to"`
	// Text is an internal note, or the first words of a staff reply.
	Text string `json:"text,omitempty"`
	// MessageID is a reply's message in the member's thread, where the
	// platform told it: the desk edits or deletes the reply by it.
	MessageID string `json:"message_id,omitempty"`
	Edited    bool   `json:"edited,omitempty"`  // the reply was changed from the desk (Text is the new one's)
	Deleted   bool   `json:"deleted,omitempty"` // the reply was taken out of the member's thread from the desk
}

// maxChanges bounds the audit kept with one escalation; the first change
// (who took it) and the latest ones stay.
const maxChanges = 200

// Escalation is a call for staff in one thread.
type Escalation struct {
	// ID names the escalation on the desk and in the CLI; IDOf makes it.
	ID            string        `json:"id,omitempty"`
	Thread        bot.ThreadRef `json:"thread"`
	User          bot.User      `json:"user"`
	Lang          string        `json:"lang,omitempty"` // of the user, for notices in their thread
	Reason        string        `json:"reason"`
	Summary       string        `json:"summary"`
	Sentiment     string        `json:"sentiment,omitempty"` // of the asker's last message: "negative (-0.72)"
	Permalink     string        `json:"permalink,omitempty"`
	Created       time.Time     `json:"created"`
	Status        string        `json:"status"`
	ClaimedBy     string        `json:"claimed_by,omitempty"`
	FirstResponse time.Time     `json:"first_response,omitempty"` // first staff action or message after Created
	Closed        time.Time     `json:"closed,omitempty"`
	// HandedBack: closed by handing the thread back to the bot (by hand or
	// after the quiet time); the member writing again does not reopen it.
	HandedBack bool `json:"handed_back,omitempty"`
	// StaffThread is the escalation's thread in staff.channel (its root is
	// the escalation notice); staff replies there reach the member. Empty
	// when the staff channel's platform cannot tell the notice's id.
	StaffThread bot.ThreadRef `json:"staff_thread,omitzero"`
	// SLANotice is when the about-to-breach notice went out (once).
	SLANotice time.Time `json:"sla_notice,omitempty"`
	Changes   []Change  `json:"changes,omitempty"`
}

// IDOf is the ID of the escalation of thread opened at created: short,
// stable, and new for each escalation of the same thread.
func IDOf(thread bot.ThreadRef, created time.Time) string {
	sum := sha256.Sum256([]byte(thread.Key() + "|" + strconv.FormatInt(created.UnixNano(), 10)))
	return hex.EncodeToString(sum[:4])
}

// Normalize fills what records stored before the desk lack: the ID, and
// the closed status of a hand-back.
func (e *Escalation) Normalize() {
	if e.ID == "" {
		e.ID = IDOf(e.Thread, e.Created)
	}
	if e.Status == StatusResolved {
		e.Status, e.HandedBack = StatusClosed, true
	}
}

// Open reports whether the escalation still waits for or has staff.
func (e Escalation) Open() bool {
	return e.Status == StatusOpen || e.Status == StatusClaimed || e.Status == StatusAnswered
}

// ResponseTime is the time to the first staff response (0 while none).
func (e Escalation) ResponseTime() time.Duration {
	if e.FirstResponse.IsZero() {
		return 0
	}
	return e.FirstResponse.Sub(e.Created)
}

// Apply moves e by action, done by actor at at, and audits it; text is a
// note or a reply's first words. It returns an error wrapping ErrIllegal,
// and leaves e as it was, when the status (or a guard) forbids the step:
// claiming what one already holds, reopening a hand-back.
func (e *Escalation) Apply(action, actor string, at time.Time, text string) error {
	e.Normalize()
	to, err := Next(e.Status, action)
	if err != nil {
		return err
	}
	switch {
	case action == ActionClaim && e.Status != StatusOpen && e.ClaimedBy == actor:
		return fmt.Errorf("escalation: claim: %w: %s holds it already", ErrIllegal, actor)
	case action == ActionReopen && e.HandedBack:
		return fmt.Errorf("escalation: reopen: %w: it was handed back to the bot", ErrIllegal)
	case action == ActionSLA && !e.SLANotice.IsZero():
		return fmt.Errorf("escalation: sla notice: %w: sent already", ErrIllegal)
	case action == ActionSLA && !e.FirstResponse.IsZero():
		return fmt.Errorf("escalation: sla notice: %w: staff responded", ErrIllegal)
	}
	from := e.Status
	switch action {
	case ActionClaim:
		e.ClaimedBy = actor
	case ActionReply:
		if e.ClaimedBy == "" {
			e.ClaimedBy = actor
		}
	case ActionClose, ActionDismiss:
		e.Closed = at
	case ActionHandBack:
		e.Closed, e.HandedBack = at, true
	case ActionReopen:
		e.ClaimedBy, e.Closed = "", time.Time{}
	case ActionSLA:
		e.SLANotice = at
	}
	// Every staff step answers the call, except what the member never
	// sees: a note, and the notice about the clock.
	if e.FirstResponse.IsZero() && action != ActionNote && action != ActionReopen && action != ActionSLA {
		e.FirstResponse = at
	}
	e.Status = to
	e.Changes = append(e.Changes, Change{Time: at, Actor: actor, Action: action, From: from, To: to, Text: text})
	if len(e.Changes) > maxChanges {
		e.Changes = append(e.Changes[:1], e.Changes[len(e.Changes)-maxChanges+1:]...)
	}
	return nil
}

// Store keeps each thread's latest escalation; storage.Handoff implements
// it, escalationtest.Mem is the in-memory fake, and escalationtest.Run
// checks both alike.
type Store interface {
	// OpenEscalation stores e unless the thread's latest escalation is
	// still open; it reports whether it stored it. The check and the write
	// are one step, so two triggers at once store one escalation.
	OpenEscalation(ctx context.Context, e Escalation) (bool, error)
	// Escalation returns the thread's latest escalation.
	Escalation(ctx context.Context, thread bot.ThreadRef) (Escalation, bool, error)
	// PutEscalation replaces the thread's latest escalation.
	PutEscalation(ctx context.Context, e Escalation) error
	// UpdateEscalation changes the thread's latest escalation with fn in
	// one step (no other change in between) and returns the result; an
	// error from fn changes nothing and is returned; no escalation:
	// ErrNotFound.
	UpdateEscalation(ctx context.Context, thread bot.ThreadRef, fn func(*Escalation) error) (Escalation, error)
	// Escalations returns every thread's latest escalation, newest first.
	Escalations(ctx context.Context) ([]Escalation, error)
}
