// Package escalation holds a call for staff in one thread — who asked,
// why, who took it, when it closed — and the interface of the store that
// keeps the latest one per thread. It is a leaf: storage implements
// Store, handlers/handoff runs the takeover workflow over it.
package escalation

import (
	"context"
	"time"

	"github.com/einsatz/einsatz/bot"
)

// Statuses.
const (
	StatusOpen      = "open"      // posted, nobody took it yet
	StatusClaimed   = "claimed"   // staff took the thread over
	StatusResolved  = "resolved"  // handed back to the bot
	StatusDismissed = "dismissed" // staff decided nothing is needed
)

// Escalation is a call for staff in one thread.
type Escalation struct {
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
}

// Open reports whether the escalation still waits for or has staff.
func (e Escalation) Open() bool { return e.Status == StatusOpen || e.Status == StatusClaimed }

// ResponseTime is the time to the first staff response (0 while none).
func (e Escalation) ResponseTime() time.Duration {
	if e.FirstResponse.IsZero() {
		return 0
	}
	return e.FirstResponse.Sub(e.Created)
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
	// Escalations returns every thread's latest escalation, newest first.
	Escalations(ctx context.Context) ([]Escalation, error)
}
