package storage

// Each store's part of a person (personal.Part): the export of their
// records and their erasure. A record of a person has a user index entry
// (user/<platform>/<id>/<record key>, see keys.go), so each part finds its
// records by one prefix scan and keeps those under its own prefixes.

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/dgraph-io/badger/v4"

	"github.com/einsatz/einsatz/bot"
	"github.com/einsatz/einsatz/bot/escalation"
	"github.com/einsatz/einsatz/bot/personal"
)

// Parts is every store's part of a person over s, in the order an erasure
// takes them: the features first, then the shared part, which erases the
// threads (with what is keyed by them: owner, escalation), whatever else
// is left under the person's index, and writes the audit entry last.
func Parts(s *Store) personal.Parts {
	// Solved finds its candidates through the person's history: before s.
	return personal.Parts{NewInbox(s), NewSupport(s), NewSentiment(s), NewHandoff(s), NewSolved(s), s}
}

var (
	_ personal.Part = (*Store)(nil)
	_ personal.Part = (*Inbox)(nil)
	_ personal.Part = (*Support)(nil)
	_ personal.Part = (*Sentiment)(nil)
	_ personal.Part = (*Handoff)(nil)
)

// recordKind names the kind of a record by its key prefix.
func recordKind(key string) string {
	switch {
	case strings.HasPrefix(key, prefixHist):
		return "messages"
	case strings.HasPrefix(key, prefixSent+"row/"):
		return "sentiment"
	case strings.HasPrefix(key, prefixEsc):
		return "escalations"
	case strings.HasPrefix(key, prefixSpill), strings.HasPrefix(key, prefixUnfin):
		return "pending_events"
	case strings.HasPrefix(key, prefixSupQ):
		return "questions"
	case strings.HasPrefix(key, prefixSupVote):
		return "feedback"
	case strings.HasPrefix(key, prefixSupDraft):
		return "drafts"
	}
	kind, _, _ := strings.Cut(key, "/")
	return kind
}

// personalKeys returns the keys of the person's records for which keep
// is true, after every write queued without waiting (sentiment rows,
// replies) is on disk: otherwise they would outlive an erasure or be
// missing from an export.
func (s *Store) personalKeys(ctx context.Context, platform, userID string, keep func(key string) bool) ([]string, error) {
	if err := s.Sync(ctx); err != nil {
		return nil, err
	}
	all, err := s.UserRecords(ctx, platform, userID)
	if err != nil {
		return nil, err
	}
	keys := all[:0]
	for _, k := range all {
		if keep(k) {
			keys = append(keys, k)
		}
	}
	return keys, nil
}

func hasPrefix(prefix string) func(string) bool {
	return func(key string) bool { return strings.HasPrefix(key, prefix) }
}

// exportKeys reads the records at keys into out, by kind; a record that
// expired meanwhile is skipped (its index entry goes with it soon).
func (s *Store) exportKeys(keys []string, out map[string][]json.RawMessage) error {
	err := s.view(func(txn *badger.Txn) error {
		for _, k := range keys {
			item, err := txn.Get([]byte(k))
			if errors.Is(err, badger.ErrKeyNotFound) {
				continue
			}
			if err != nil {
				return err
			}
			v, err := item.ValueCopy(nil)
			if err != nil {
				return err
			}
			kind := recordKind(k)
			out[kind] = append(out[kind], json.RawMessage(v))
		}
		return nil
	})
	if err != nil {
		return fmt.Errorf("storage: export user: %w", err)
	}
	return nil
}

// exportPrefix is a feature's export: the person's records under prefix.
func (s *Store) exportPrefix(ctx context.Context, platform, userID, prefix string) (map[string][]json.RawMessage, error) {
	out := map[string][]json.RawMessage{}
	keys, err := s.personalKeys(ctx, platform, userID, hasPrefix(prefix))
	if err != nil {
		return out, err
	}
	return out, s.exportKeys(keys, out)
}

// eraseStep runs fn as one write: a person may have thousands of records,
// so an erasure runs in steps that each fit one transaction. Each step is
// atomic and the whole is idempotent: after a failure, erasing again
// finishes the job. res gets what the step did once it is durable.
func (s *Store) eraseStep(ctx context.Context, res *personal.Erasure, fn func(txn *badger.Txn, part *personal.Erasure) error) error {
	var part personal.Erasure
	err := s.commit(ctx, func(txn *badger.Txn) error {
		// Reset: the committer may run a write function twice.
		part = personal.NewErasure()
		return fn(txn, &part)
	})
	if err != nil {
		return fmt.Errorf("storage: erase user: %w", err)
	}
	res.Add(part)
	return nil
}

// eraseRule erases one record of the person inside txn: it anonymises the
// record and reports true, or reports false to have it deleted.
type eraseRule func(txn *badger.Txn, key, userID string) (bool, error)

// eraseKeys erases the records at keys, and their index entries, in
// pages; rule (nil: delete every record) decides what stays anonymised.
func (s *Store) eraseKeys(ctx context.Context, platform, userID string, keys []string, rule eraseRule) (personal.Erasure, error) {
	res := personal.NewErasure()
	indexPrefix := userPrefix(platform, userID)
	const page = 2000 // records and index entries: two writes each
	for start := 0; start < len(keys); start += page {
		chunk := keys[start:min(start+page, len(keys))]
		err := s.eraseStep(ctx, &res, func(txn *badger.Txn, part *personal.Erasure) error {
			for _, k := range chunk {
				if !strings.HasPrefix(k, prefixHist) { // the thread steps took these
					if err := eraseRecord(txn, k, userID, rule, part); err != nil {
						return err
					}
				}
				if err := txn.Delete([]byte(indexPrefix + k)); err != nil {
					return err
				}
			}
			return nil
		})
		if err != nil {
			return res, err
		}
	}
	return res, nil
}

// eraseRecord removes or anonymises one record of the person.
func eraseRecord(txn *badger.Txn, key, userID string, rule eraseRule, res *personal.Erasure) error {
	if rule != nil {
		done, err := rule(txn, key, userID)
		if err != nil {
			return err
		}
		if done {
			res.Anonymized[recordKind(key)]++
			return nil
		}
	}
	if err := txn.Delete([]byte(key)); err != nil {
		return err
	}
	res.Removed[recordKind(key)]++
	return nil
}

// erasePrefix is a feature's erasure: the person's records under prefix.
func (s *Store) erasePrefix(ctx context.Context, platform, userID, prefix string, rule eraseRule) (personal.Erasure, error) {
	keys, err := s.personalKeys(ctx, platform, userID, hasPrefix(prefix))
	if err != nil {
		return personal.NewErasure(), err
	}
	return s.eraseKeys(ctx, platform, userID, keys, rule)
}

// Export is the inbox's part of a person: their mentions, votes and opt-in.
func (in *Inbox) Export(ctx context.Context, platform, userID string) (map[string][]json.RawMessage, error) {
	return in.s.exportPrefix(ctx, platform, userID, prefixInbox)
}

// Erase deletes the person's mentions (retitling items named after their
// words) and opt-in, and keeps their votes counting without naming them.
func (in *Inbox) Erase(ctx context.Context, platform, userID, _ string) (personal.Erasure, error) {
	return in.s.erasePrefix(ctx, platform, userID, prefixInbox, in.s.anonymizeInboxRecord)
}

// Export is the support log's part of a person: their questions, drafts
// and ratings.
func (sp *Support) Export(ctx context.Context, platform, userID string) (map[string][]json.RawMessage, error) {
	return sp.s.exportPrefix(ctx, platform, userID, prefixSup)
}

// Erase deletes the person's questions, drafts and ratings.
func (sp *Support) Erase(ctx context.Context, platform, userID, _ string) (personal.Erasure, error) {
	return sp.s.erasePrefix(ctx, platform, userID, prefixSup, nil)
}

// Export is the sentiment log's part of a person: their scored messages
// (the aggregates count people, they name nobody).
func (st *Sentiment) Export(ctx context.Context, platform, userID string) (map[string][]json.RawMessage, error) {
	return st.s.exportPrefix(ctx, platform, userID, prefixSent)
}

// Erase deletes the person's scored messages; the aggregates keep counting.
func (st *Sentiment) Erase(ctx context.Context, platform, userID, _ string) (personal.Erasure, error) {
	return st.s.erasePrefix(ctx, platform, userID, prefixSent, nil)
}

// naming returns the escalations that name the person: they have no index
// entry (the user is a field of a thread's record).
func (h *Handoff) naming(ctx context.Context, platform, userID string) ([]keyValue, error) {
	if err := h.s.Sync(ctx); err != nil {
		return nil, err
	}
	var out []keyValue
	err := h.s.scan(ctx, prefixEsc, func(k, v []byte) error {
		var e escalation.Escalation
		if json.Unmarshal(v, &e) == nil && e.User.Platform == platform && e.User.ID == userID {
			out = append(out, keyValue{string(k), append([]byte(nil), v...)})
		}
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("storage: escalations naming a person: %w", err)
	}
	return out, nil
}

// Export is the handoff's part of a person: the escalations naming them.
func (h *Handoff) Export(ctx context.Context, platform, userID string) (map[string][]json.RawMessage, error) {
	out := map[string][]json.RawMessage{}
	named, err := h.naming(ctx, platform, userID)
	for _, kv := range named {
		out[recordKind(kv.key)] = append(out[recordKind(kv.key)], json.RawMessage(kv.value))
	}
	if err != nil {
		return out, err
	}
	keys, err := h.s.personalKeys(ctx, platform, userID, hasPrefix(prefixEsc))
	if err != nil {
		return out, err
	}
	return out, h.s.exportKeys(keys, out)
}

// Erase keeps the escalations naming the person, for staff's numbers, but
// without their name, summary and link.
func (h *Handoff) Erase(ctx context.Context, platform, userID, _ string) (personal.Erasure, error) {
	res := personal.NewErasure()
	named, err := h.naming(ctx, platform, userID)
	if err != nil {
		return res, err
	}
	if len(named) > 0 {
		err = h.s.eraseStep(ctx, &res, func(txn *badger.Txn, part *personal.Erasure) error {
			for _, kv := range named {
				var e escalation.Escalation
				if err := json.Unmarshal(kv.value, &e); err != nil {
					return err
				}
				e.User = bot.User{Platform: platform, ID: "erased", Name: "(erased)"}
				e.Summary, e.Permalink = "", ""
				v, err := json.Marshal(e)
				if err != nil {
					return err
				}
				if err := txn.Set([]byte(kv.key), v); err != nil {
					return err
				}
				part.Anonymized["escalations"]++
			}
			return nil
		})
		if err != nil {
			return res, err
		}
	}
	part, err := h.s.erasePrefix(ctx, platform, userID, prefixEsc, nil)
	res.Add(part)
	return res, err
}

type keyValue struct {
	key   string
	value []byte
}

// spilled returns the events waiting in the spill queue, or accepted and
// not yet finished, that the person sent.
func (s *Store) spilled(ctx context.Context, platform, userID string) ([]keyValue, error) {
	var out []keyValue
	for _, prefix := range []string{prefixSpill, prefixUnfin} {
		err := s.scan(ctx, prefix, func(k, v []byte) error {
			var ev bot.Event
			if json.Unmarshal(v, &ev) == nil && ev.Platform == platform && ev.User.ID == userID {
				out = append(out, keyValue{string(k), append([]byte(nil), v...)})
			}
			return nil
		})
		if err != nil {
			return nil, fmt.Errorf("storage: pending events of a person: %w", err)
		}
	}
	return out, nil
}

// Export is the shared part of a person: their messages, pending events,
// and any record of theirs no feature's part claims.
func (s *Store) Export(ctx context.Context, platform, userID string) (map[string][]json.RawMessage, error) {
	out := map[string][]json.RawMessage{}
	keys, err := s.personalKeys(ctx, platform, userID, func(k string) bool { return !ownedByFeature(k) })
	if err != nil {
		return out, err
	}
	if err := s.exportKeys(keys, out); err != nil {
		return out, err
	}
	events, err := s.spilled(ctx, platform, userID)
	if err != nil {
		return out, err
	}
	for _, kv := range events {
		out[recordKind(kv.key)] = append(out[recordKind(kv.key)], json.RawMessage(kv.value))
	}
	return out, nil
}

// Erase removes the shared part of a person (GDPR Art. 17): their
// messages, with the bot's replies to them; threads where nobody else
// spoke go entirely (owner and escalation too); their pending events; and
// whatever else is left under their index (the features' parts, asked
// first, took their own). The audit log records that an erasure happened,
// not whose.
func (s *Store) Erase(ctx context.Context, platform, userID, by string) (personal.Erasure, error) {
	res := personal.NewErasure()
	keys, err := s.personalKeys(ctx, platform, userID, func(string) bool { return true })
	if err != nil {
		return res, err
	}
	threads := map[string]bool{} // history prefixes the person wrote in
	mine := map[string]bool{}
	for _, k := range keys {
		mine[k] = true
		if strings.HasPrefix(k, prefixHist) {
			threads[k[:strings.LastIndex(k, "/")+1]] = true
		}
	}
	events, err := s.spilled(ctx, platform, userID)
	if err != nil {
		return res, err
	}
	audit, err := json.Marshal(AuditEntry{Time: time.Now(), Actor: by, Action: "erase", Target: "one person's data, on request"})
	if err != nil {
		return res, err
	}
	// Threads first, one per step: the person's turns, the bot's replies to
	// them, and the whole thread when nobody else is left in it.
	for prefix := range threads {
		err := s.eraseStep(ctx, &res, func(txn *badger.Txn, part *personal.Erasure) error {
			removed, gone, err := eraseFromThread(txn, prefix, mine)
			if err != nil {
				return err
			}
			part.Removed["messages"] += removed
			if !gone {
				return nil
			}
			part.ThreadsGone++
			thread := strings.TrimSuffix(strings.TrimPrefix(prefix, prefixHist), "/")
			if err := txn.Delete([]byte(prefixOwner + thread)); err != nil {
				return err
			}
			return txn.Delete([]byte(prefixEsc + thread))
		})
		if err != nil {
			return res, err
		}
	}
	rest, err := s.eraseKeys(ctx, platform, userID, keys, nil)
	res.Add(rest)
	if err != nil {
		return res, err
	}
	err = s.eraseStep(ctx, &res, func(txn *badger.Txn, part *personal.Erasure) error {
		for _, kv := range events {
			if err := txn.Delete([]byte(kv.key)); err != nil {
				return err
			}
			part.Removed[recordKind(kv.key)]++
		}
		return txn.SetEntry(expiring([]byte(prefixAudit+timeSeq(time.Now(), &s.seq)), audit, time.Time{}, s.opts.AuditTTL))
	})
	if err != nil {
		return res, err
	}
	// Forget cached histories and owners of the threads touched.
	s.cacheMu.Lock()
	for prefix := range threads {
		for _, key := range s.recent.Keys() {
			if prefixHist+threadKeyPart(key)+"/" == prefix {
				s.recent.Remove(key)
			}
		}
	}
	s.cacheMu.Unlock()
	if err := s.loadOwners(); err != nil {
		return res, err
	}
	return res, nil
}

// threadKeyPart turns a bot.ThreadRef.Key() ("platform/channel/thread")
// into the escaped form keys use.
func threadKeyPart(threadKey string) string {
	parts := strings.SplitN(threadKey, "/", 3)
	if len(parts) != 3 {
		return threadKey
	}
	return join(parts...)
}

// eraseFromThread deletes the person's turns in one thread and the bot's
// replies right after them (they answer, and often quote, the person);
// when no other person is left in the thread, it deletes all of it. It
// returns the turns deleted and whether the thread is gone.
func eraseFromThread(txn *badger.Txn, prefix string, mine map[string]bool) (int, bool, error) {
	p := []byte(prefix)
	it := txn.NewIterator(badger.IteratorOptions{Prefix: p, PrefetchValues: true})
	type turn struct {
		key  []byte
		role bot.Role
	}
	var turns []turn
	for it.Rewind(); it.ValidForPrefix(p); it.Next() {
		var t bot.Turn
		if err := it.Item().Value(func(v []byte) error { return json.Unmarshal(v, &t) }); err != nil {
			it.Close()
			return 0, false, err
		}
		turns = append(turns, turn{it.Item().KeyCopy(nil), t.Role})
	}
	it.Close()
	var drop [][]byte
	othersLeft, afterMine := false, false
	for _, t := range turns {
		switch {
		case mine[string(t.key)]:
			drop = append(drop, t.key)
			afterMine = true
		case t.role == bot.RoleBot && afterMine:
			drop = append(drop, t.key)
		case t.role == bot.RoleBot:
		default:
			othersLeft, afterMine = true, false
		}
	}
	if !othersLeft {
		drop = drop[:0]
		for _, t := range turns {
			drop = append(drop, t.key)
		}
	}
	for _, k := range drop {
		if err := txn.Delete(k); err != nil {
			return 0, false, err
		}
	}
	return len(drop), !othersLeft, nil
}
