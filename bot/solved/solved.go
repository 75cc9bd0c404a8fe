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
	// Lang is the thread's language ("en", "de", …): the public page's
	// and the consent question's.
	Lang string `json:"lang,omitempty"`
	// Rewritten says staff rewrote the answer in their own words: it may be
	// published without asking the asker.
	Rewritten bool `json:"rewritten,omitempty"`
	// Consent is the asker's answer to "may we publish this?" (Consent*
	// constants; "" = not asked), ConsentMessage the id of the bot's
	// question in the thread (a ✅ on it agrees, removing the ✅ withdraws).
	Consent        string    `json:"consent,omitempty"`
	ConsentMessage string    `json:"consent_message,omitempty"`
	ConsentChanged time.Time `json:"consent_changed,omitzero"`
}

// Consent states of a candidate's public page.
const (
	ConsentAsked    = "asked"    // the bot asked in the thread; no answer yet
	ConsentGiven    = "given"    // the asker agreed
	ConsentDeclined = "declined" // the asker said no or withdrew
)

// Public reports whether the candidate may be on the public answer pages:
// approved, and either rewritten by staff or agreed to by the asker.
func (c Candidate) Public() bool {
	return c.Status == StatusApproved && (c.Rewritten || c.Consent == ConsentGiven)
}

// Answer is a published candidate as the public pages show it: only the
// redacted texts, the language and dates — no thread, link or person.
type Answer struct {
	ID       string
	Slug     string // URL path segment: words of the question, then the ID
	Question string
	Answer   string
	Lang     string
	Created  time.Time
	Updated  time.Time
}

// Nudge is a member's question thread the bot watches for inactivity:
// when the last message there is the bot's or staff's answer and nobody
// wrote for a while, the bot asks once whether it solved the question.
// It holds no user id: the asker is the thread's first member message.
type Nudge struct {
	Thread bot.ThreadRef `json:"thread"`
	Lang   string        `json:"lang,omitempty"`
	// Last is when a person last wrote in the thread (as the observer saw).
	Last time.Time `json:"last"`
	// Sent is when the nudge went out (zero: not yet); Message its id.
	Sent    time.Time `json:"sent,omitzero"`
	Message string    `json:"message,omitempty"`
}

// NudgeStore keeps the watched threads by thread key (ThreadRef.Key);
// storage.Solved and solvedtest.Mem implement it.
type NudgeStore interface {
	// Nudge returns a thread's record, or ErrNotExist.
	Nudge(ctx context.Context, thread string) (Nudge, error)
	PutNudge(ctx context.Context, n Nudge) error
	// Nudges returns every record, in no particular order.
	Nudges(ctx context.Context) ([]Nudge, error)
	// DeleteNudge removes a record; an unknown one is no error.
	DeleteNudge(ctx context.Context, thread string) error
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
