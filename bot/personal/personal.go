// Package personal is what every store answers for one person's rights
// over their data (GDPR Art. 15 and 17): the part of a person it keeps,
// to export or to erase. Each feature's store implements Part for its own
// records, so handlers/privacy asks them all without knowing any.
package personal

import (
	"context"
	"encoding/json"
	"fmt"
	"sort"
	"strings"
	"time"
)

// Part is one store's share of what is kept about a person.
type Part interface {
	// Export returns the person's records by kind ("messages",
	// "questions", …), as stored.
	Export(ctx context.Context, platform, userID string) (map[string][]json.RawMessage, error)
	// Erase removes the person's records, or anonymises those of shared
	// value (a vote keeps counting without naming them), in steps that
	// each fit one transaction; erasing again after a failure finishes the
	// job. by names who asked, for the audit log.
	Erase(ctx context.Context, platform, userID, by string) (Erasure, error)
}

// Data is everything stored about one person (GDPR Art. 15), by kind.
type Data struct {
	Platform string                       `json:"platform"`
	User     string                       `json:"user"`
	Exported time.Time                    `json:"exported"`
	Records  map[string][]json.RawMessage `json:"records"`
}

// Erasure says what an erasure removed, by kind, without saying whose.
type Erasure struct {
	Removed     map[string]int `json:"removed"`
	Anonymized  map[string]int `json:"anonymized"`
	ThreadsGone int            `json:"threads_removed"`
}

// NewErasure returns an empty Erasure ready to count.
func NewErasure() Erasure {
	return Erasure{Removed: map[string]int{}, Anonymized: map[string]int{}}
}

// Add counts o into e.
func (e *Erasure) Add(o Erasure) {
	if e.Removed == nil {
		e.Removed = map[string]int{}
	}
	if e.Anonymized == nil {
		e.Anonymized = map[string]int{}
	}
	for k, n := range o.Removed {
		e.Removed[k] += n
	}
	for k, n := range o.Anonymized {
		e.Anonymized[k] += n
	}
	e.ThreadsGone += o.ThreadsGone
}

func (e Erasure) String() string {
	var parts []string
	for _, k := range kinds(e.Removed) {
		parts = append(parts, fmt.Sprintf("%d %s removed", e.Removed[k], k))
	}
	for _, k := range kinds(e.Anonymized) {
		parts = append(parts, fmt.Sprintf("%d %s anonymised", e.Anonymized[k], k))
	}
	if e.ThreadsGone > 0 {
		parts = append(parts, fmt.Sprintf("%d conversations removed", e.ThreadsGone))
	}
	if len(parts) == 0 {
		return "nothing stored about this person"
	}
	return strings.Join(parts, ", ")
}

// kinds lists record kinds in a stable order, for messages.
func kinds(m map[string]int) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}

// Parts asks several parts in turn; it is a Part itself.
type Parts []Part

// Export merges every part's records.
func (ps Parts) Export(ctx context.Context, platform, userID string) (map[string][]json.RawMessage, error) {
	out := map[string][]json.RawMessage{}
	for _, p := range ps {
		recs, err := p.Export(ctx, platform, userID)
		if err != nil {
			return out, err
		}
		for kind, rs := range recs {
			out[kind] = append(out[kind], rs...)
		}
	}
	return out, nil
}

// Erase erases every part in order and sums what they did; it stops at
// the first failure (erasing again finishes the job).
func (ps Parts) Erase(ctx context.Context, platform, userID, by string) (Erasure, error) {
	res := NewErasure()
	for _, p := range ps {
		part, err := p.Erase(ctx, platform, userID, by)
		res.Add(part)
		if err != nil {
			return res, err
		}
	}
	return res, nil
}
