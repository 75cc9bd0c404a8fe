// Package solved holds the knowledge candidates that solved community
// threads become: the thread's question and the message that solved it,
// PII redacted, waiting for staff to approve, edit or reject them. It is
// a leaf: storage implements Store, handlers/solved makes and settles the
// candidates.
package solved

import (
	"cmp"
	"context"
	"errors"
	"slices"
	"time"

	"github.com/einsatz/einsatz/bot"
)

// Candidate statuses.
const (
	StatusPending  = "pending"  // waiting for staff
	StatusApproved = "approved" // in the knowledge base as Entry
)

// Candidate is one solved thread as a knowledge candidate.
type Candidate struct {
	// ID is stable per thread (a hash of its key): marking the same thread
	// solved again updates the candidate instead of adding one.
	ID       string        `json:"id"`
	Thread   bot.ThreadRef `json:"thread"`
	Question string        `json:"question"` // the thread's first member message, redacted
	Answer   string        `json:"answer"`   // the solving message, redacted
	// Permalink links to the solving message in its thread: the citation
	// of the knowledge entry.
	Permalink string `json:"permalink,omitempty"`
	// By says who marked the thread solved: "asker" or "staff" (no id: the
	// record belongs to nobody and survives an erasure without naming anyone).
	By      string    `json:"by"`
	Created time.Time `json:"created"`
	Status  string    `json:"status"`
	// Entry is the knowledge document an approved candidate became.
	Entry    string    `json:"entry,omitempty"`
	Reviewed time.Time `json:"reviewed,omitzero"`
}

// ErrNotExist is returned for an unknown candidate.
var ErrNotExist = errors.New("solved: no such candidate")

// Store keeps candidates; storage.Solved implements it, solvedtest.Mem is
// the in-memory fake, and solvedtest.Run checks both alike.
type Store interface {
	// Candidate returns one candidate, or ErrNotExist.
	Candidate(ctx context.Context, id string) (Candidate, error)
	// PutCandidate stores a candidate, replacing the one of the same ID.
	PutCandidate(ctx context.Context, c Candidate) error
	// Candidates returns every candidate, oldest first (by Created, then ID).
	Candidates(ctx context.Context) ([]Candidate, error)
	// DeleteCandidate removes a candidate; removing an unknown one is no error.
	DeleteCandidate(ctx context.Context, id string) error
}

// Sort puts candidates in the order Store.Candidates returns them.
func Sort(cs []Candidate) {
	slices.SortFunc(cs, func(a, b Candidate) int {
		return cmp.Or(a.Created.Compare(b.Created), cmp.Compare(a.ID, b.ID))
	})
}
