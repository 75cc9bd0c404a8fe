package storage

// The support log's keys are listed in keys.go (sup/).

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/url"
	"strings"
	"time"

	"github.com/dgraph-io/badger/v4"

	"github.com/einsatz/einsatz/bot/qa"
)

// Support keeps the support log — questions, votes, drafts (sup/) — over
// the shared Store.
type Support struct{ s *Store }

// NewSupport returns the support log's store over s.
func NewSupport(s *Store) *Support { return &Support{s: s} }

func supQKey(id string) []byte     { return []byte(prefixSupQ + url.PathEscape(id)) }
func supDraftKey(id string) []byte { return []byte(prefixSupDraft + url.PathEscape(id)) }
func supVotePrefix(id string) string {
	return prefixSupVote + url.PathEscape(id) + "/"
}
func supVoteKey(v qa.Vote) []byte {
	return []byte(supVotePrefix(v.QuestionID) + join(v.Platform, v.UserID))
}

// supportTTL is the retention of questions, votes and drafts, counted
// from each record's time (storage.feedback_ttl).
func (s *Store) supportTTL() time.Duration { return s.opts.FeedbackTTL }

// setPersonal writes a record that expires supportTTL after at, and the
// user index entry that finds it; a record past its retention already
// (an import of old data) is not written.
func (s *Store) setPersonal(txn *badger.Txn, key []byte, value []byte, at time.Time, platform, userID string) error {
	e := expiring(key, value, at, s.supportTTL())
	if e == nil {
		return nil
	}
	if err := txn.SetEntry(e); err != nil {
		return err
	}
	if userID == "" {
		return nil
	}
	idx := badger.NewEntry(userIndexKey(platform, userID, string(key)), nil)
	idx.ExpiresAt = e.ExpiresAt
	return txn.SetEntry(idx)
}

// rewrite replaces a record's value and keeps its expiry.
func rewrite(txn *badger.Txn, item *badger.Item, value []byte) error {
	e := badger.NewEntry(item.KeyCopy(nil), value)
	e.ExpiresAt = item.ExpiresAt()
	return txn.SetEntry(e)
}

// AddQuestion stores a new question and returns its ID.
func (sp *Support) AddQuestion(ctx context.Context, q qa.Question) (string, error) {
	q.ID = timeSeq(q.Time, &sp.s.seq)
	q.Votes = nil
	v, err := json.Marshal(q)
	if err != nil {
		return "", fmt.Errorf("storage: add question: %w", err)
	}
	err = sp.s.commit(ctx, func(txn *badger.Txn) error {
		return sp.s.setPersonal(txn, supQKey(q.ID), v, q.Time, q.Thread.Platform, q.UserID)
	})
	if err != nil {
		return "", fmt.Errorf("storage: add question: %w", err)
	}
	return q.ID, nil
}

func getJSON(txn *badger.Txn, key []byte, v any) (bool, error) {
	item, err := txn.Get(key)
	if errors.Is(err, badger.ErrKeyNotFound) {
		return false, nil
	}
	if err != nil {
		return false, err
	}
	return true, item.Value(func(b []byte) error { return json.Unmarshal(b, v) })
}

// votes reads the votes of one question.
func votesOf(txn *badger.Txn, id string) ([]qa.Vote, error) {
	p := []byte(supVotePrefix(id))
	it := txn.NewIterator(badger.IteratorOptions{Prefix: p, PrefetchValues: true})
	defer it.Close()
	var out []qa.Vote
	for it.Rewind(); it.ValidForPrefix(p); it.Next() {
		var v qa.Vote
		if err := it.Item().Value(func(b []byte) error { return json.Unmarshal(b, &v) }); err != nil {
			return nil, err
		}
		out = append(out, v)
	}
	return out, nil
}

// Question returns a question with its votes.
func (sp *Support) Question(_ context.Context, id string) (qa.Question, bool, error) {
	var q qa.Question
	found := false
	err := sp.s.view(func(txn *badger.Txn) error {
		var err error
		if found, err = getJSON(txn, supQKey(id), &q); err != nil || !found {
			return err
		}
		q.Votes, err = votesOf(txn, id)
		return err
	})
	if err != nil {
		return q, false, fmt.Errorf("storage: question %s: %w", id, err)
	}
	return q, found, nil
}

// UpdateQuestion changes a question in one step; fn returns whether to
// write it back. It reports false when the question does not exist or fn
// declined.
func (sp *Support) UpdateQuestion(ctx context.Context, id string, fn func(q *qa.Question) bool) (qa.Question, bool, error) {
	var q qa.Question
	changed := false
	err := sp.s.commit(ctx, func(txn *badger.Txn) error {
		q, changed = qa.Question{}, false
		item, err := txn.Get(supQKey(id))
		if errors.Is(err, badger.ErrKeyNotFound) {
			return nil
		}
		if err != nil {
			return err
		}
		if err := item.Value(func(b []byte) error { return json.Unmarshal(b, &q) }); err != nil {
			return err
		}
		if !fn(&q) {
			return nil
		}
		q.Votes = nil
		v, err := json.Marshal(q)
		if err != nil {
			return err
		}
		if err := rewrite(txn, item, v); err != nil {
			return err
		}
		changed = true
		return nil
	})
	if err != nil {
		return q, false, fmt.Errorf("storage: update question %s: %w", id, err)
	}
	return q, changed, nil
}

// Questions returns the questions asked in [since, until) with their
// votes, oldest first.
func (sp *Support) Questions(ctx context.Context, since, until time.Time) ([]qa.Question, error) {
	from := fmt.Sprintf("%016x", uint64(since.UnixNano()))
	to := fmt.Sprintf("%016x", uint64(until.UnixNano()))
	var out []qa.Question
	index := map[string]int{}
	err := sp.s.rangeScan(ctx, prefixSupQ, from, to, func(v []byte) error {
		var q qa.Question
		if err := json.Unmarshal(v, &q); err != nil {
			return err
		}
		index[q.ID] = len(out)
		out = append(out, q)
		return nil
	})
	if err == nil {
		err = sp.s.rangeScan(ctx, prefixSupVote, from, to, func(v []byte) error {
			var vote qa.Vote
			if err := json.Unmarshal(v, &vote); err != nil {
				return err
			}
			if i, ok := index[vote.QuestionID]; ok {
				out[i].Votes = append(out[i].Votes, vote)
			}
			return nil
		})
	}
	if err != nil {
		return nil, fmt.Errorf("storage: questions: %w", err)
	}
	return out, nil
}

// PutVote stores a vote, replacing the voter's earlier one on the question.
func (sp *Support) PutVote(ctx context.Context, v qa.Vote) error {
	if v.QuestionID == "" || strings.TrimSpace(v.UserID) == "" {
		return errors.New("storage: vote needs a question and a user")
	}
	b, err := json.Marshal(v)
	if err != nil {
		return err
	}
	err = sp.s.commit(ctx, func(txn *badger.Txn) error {
		return sp.s.setPersonal(txn, supVoteKey(v), b, v.Time, v.Platform, v.UserID)
	})
	if err != nil {
		return fmt.Errorf("storage: store vote: %w", err)
	}
	return nil
}

// PutDraft stores a shadow-mode draft.
func (sp *Support) PutDraft(ctx context.Context, d qa.Draft) error {
	b, err := json.Marshal(d)
	if err != nil {
		return err
	}
	err = sp.s.commit(ctx, func(txn *badger.Txn) error {
		return sp.s.setPersonal(txn, supDraftKey(d.ID), b, d.Created, d.Thread.Platform, d.UserID)
	})
	if err != nil {
		return fmt.Errorf("storage: store draft: %w", err)
	}
	return nil
}

// Draft returns a draft.
func (sp *Support) Draft(_ context.Context, id string) (qa.Draft, bool, error) {
	var d qa.Draft
	found := false
	err := sp.s.view(func(txn *badger.Txn) error {
		var err error
		found, err = getJSON(txn, supDraftKey(id), &d)
		return err
	})
	if err != nil {
		return d, false, fmt.Errorf("storage: draft %s: %w", id, err)
	}
	return d, found, nil
}

// SettleDraft moves a pending draft to status in one step, so two clicks
// at once send it once; it reports false (with the draft as stored, or
// the zero Draft when there is none) when it was not pending.
func (sp *Support) SettleDraft(ctx context.Context, id, status, by string, at time.Time) (qa.Draft, bool, error) {
	var d qa.Draft
	settled := false
	err := sp.s.commit(ctx, func(txn *badger.Txn) error {
		d, settled = qa.Draft{}, false
		item, err := txn.Get(supDraftKey(id))
		if errors.Is(err, badger.ErrKeyNotFound) {
			return nil
		}
		if err != nil {
			return err
		}
		if err := item.Value(func(b []byte) error { return json.Unmarshal(b, &d) }); err != nil {
			return err
		}
		if d.Status != qa.ShadowPending {
			return nil
		}
		d.Status, d.SettledBy, d.Settled = status, by, at
		b, err := json.Marshal(d)
		if err != nil {
			return err
		}
		if err := rewrite(txn, item, b); err != nil {
			return err
		}
		settled = true
		return nil
	})
	if err != nil {
		return d, false, fmt.Errorf("storage: settle draft %s: %w", id, err)
	}
	return d, settled, nil
}

var _ qa.Store = (*Support)(nil)
