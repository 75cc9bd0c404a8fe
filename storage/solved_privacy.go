package storage

import (
	"context"
	"encoding/json"
	"fmt"
	"strings"

	"github.com/einsatz/einsatz/bot/personal"
	"github.com/einsatz/einsatz/bot/solved"
)

var _ personal.Part = (*Solved)(nil)

// candidatesOf are the knowledge candidates of the threads the person
// wrote in (found through their history's index entries: candidates name
// nobody). It must run before the Store's own part erases that history.
func (b *Solved) candidatesOf(ctx context.Context, platform, userID string) ([]solved.Candidate, error) {
	keys, err := b.s.personalKeys(ctx, platform, userID, hasPrefix(prefixHist))
	if err != nil {
		return nil, err
	}
	threads := map[string]bool{}
	for _, k := range keys {
		threads[k[:strings.LastIndex(k, "/")+1]] = true
	}
	if len(threads) == 0 {
		return nil, nil
	}
	all, err := b.Candidates(ctx)
	if err != nil {
		return nil, err
	}
	var out []solved.Candidate
	for _, c := range all {
		if threads[histPrefix(c.Thread)] {
			out = append(out, c)
		}
	}
	return out, nil
}

// Export returns the candidates of the threads the person wrote in (their
// words may be the question or the answer).
func (b *Solved) Export(ctx context.Context, platform, userID string) (map[string][]json.RawMessage, error) {
	out := map[string][]json.RawMessage{}
	cands, err := b.candidatesOf(ctx, platform, userID)
	if err != nil {
		return out, fmt.Errorf("storage: export knowledge candidates: %w", err)
	}
	for _, c := range cands {
		raw, err := json.Marshal(c)
		if err != nil {
			return out, err
		}
		out["knowledge_candidates"] = append(out["knowledge_candidates"], raw)
	}
	return out, nil
}

// Erase removes the pending candidates of the threads the person wrote in
// and takes the approved ones off the public answer pages at once (not
// rewritten, consent declined). An approved answer stays in the knowledge
// base: staff remove it there (einsatz kb remove solved-<id>).
func (b *Solved) Erase(ctx context.Context, platform, userID, _ string) (personal.Erasure, error) {
	res := personal.NewErasure()
	cands, err := b.candidatesOf(ctx, platform, userID)
	if err != nil {
		return res, fmt.Errorf("storage: erase knowledge candidates: %w", err)
	}
	for _, c := range cands {
		if c.Status != solved.StatusApproved {
			if err := b.DeleteCandidate(ctx, c.ID); err != nil {
				return res, err
			}
			res.Removed["knowledge_candidates"]++
			continue
		}
		if !c.Rewritten && c.Consent == solved.ConsentDeclined {
			continue
		}
		c.Rewritten, c.Consent = false, solved.ConsentDeclined
		if err := b.PutCandidate(ctx, c); err != nil {
			return res, err
		}
		res.Anonymized["public_answers"]++
	}
	return res, nil
}
