package escalation

import (
	"context"
	"time"

	"github.com/einsatz/einsatz/bot"
)

// Relay: a staff thread in staff.channel stands for an escalated member
// thread. Staff messages there are copied into the member's thread, the
// member's messages into the staff thread; each copy is remembered so an
// edit or a deletion of the original follows, and so nothing is copied
// twice (a redelivery, a restart between posting and acknowledging).

// Message names one message on a platform.
type Message struct {
	Thread bot.ThreadRef `json:"thread"`
	ID     string        `json:"id"`
}

// Key is the message's identity in storage.
func (m Message) Key() string { return m.Thread.Key() + "/" + m.ID }

// Directions of a relayed message.
const (
	ToMember = "to_member" // a staff reply from the staff thread
	ToStaff  = "to_staff"  // a member's message mirrored into the staff thread
)

// Relayed is one message copied between a staff thread and a member thread.
// It holds ids only, no text.
type Relayed struct {
	Source    Message   `json:"source"`
	Copy      Message   `json:"copy"` // Copy.ID "" while the copy is being posted (or it failed)
	Direction string    `json:"direction"`
	Time      time.Time `json:"time"`
	// Internal: staff marked the source a note (the 📝 reaction) after
	// it was claimed or copied; its copy is gone and edits do not follow.
	Internal bool `json:"internal,omitempty"`
}

// RelayStore keeps the relay's records; storage.Relay implements it,
// escalationtest.MemRelay is the in-memory fake, escalationtest.RunRelay
// checks both alike.
type RelayStore interface {
	// ClaimRelay records r for r.Source unless a record for it exists; it
	// reports whether it stored it. It is written before the copy is
	// posted, so a message is copied at most once.
	ClaimRelay(ctx context.Context, r Relayed) (bool, error)
	// PutRelay replaces the record of r.Source (with the copy's id).
	PutRelay(ctx context.Context, r Relayed) error
	// Relay returns the record of a source message.
	Relay(ctx context.Context, source Message) (Relayed, bool, error)
	// PutStaffThread remembers which member thread a staff thread stands for.
	PutStaffThread(ctx context.Context, staff, member bot.ThreadRef) error
	// StaffThread returns the member thread of a staff thread.
	StaffThread(ctx context.Context, staff bot.ThreadRef) (bot.ThreadRef, bool, error)
}
