package storage

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"sort"
	"strings"
	"time"

	"github.com/dgraph-io/badger/v4"

	"github.com/einsatz/einsatz/bot"
	"github.com/einsatz/einsatz/handlers/handoff"
)

// UserData is everything stored about one person (GDPR Art. 15), by kind.
type UserData struct {
	Platform string                       `json:"platform"`
	User     string                       `json:"user"`
	Exported time.Time                    `json:"exported"`
	Records  map[string][]json.RawMessage `json:"records"`
}

// recordKind names the kind of a record by its key prefix.
func recordKind(key string) string {
	switch {
	case strings.HasPrefix(key, prefixHist):
		return "messages"
	case strings.HasPrefix(key, prefixSent+"row/"):
		return "sentiment"
	case strings.HasPrefix(key, prefixEsc):
		return "escalations"
	case strings.HasPrefix(key, prefixSpill):
		return "pending_events"
	case strings.HasPrefix(key, "sup/q/"):
		return "questions"
	case strings.HasPrefix(key, "sup/vote/"):
		return "feedback"
	case strings.HasPrefix(key, "sup/draft/"):
		return "drafts"
	}
	kind, _, _ := strings.Cut(key, "/")
	return kind
}

// ExportUser collects every record about a person: those the user index
// finds, and the escalations and pending events that name them.
func (s *Store) ExportUser(ctx context.Context, platform, userID string) (UserData, error) {
	out := UserData{Platform: platform, User: userID, Exported: time.Now().UTC(), Records: map[string][]json.RawMessage{}}
	// Writes queued without waiting (sentiment rows, replies) count too.
	if err := s.Sync(ctx); err != nil {
		return out, err
	}
	keys, err := s.UserRecords(ctx, platform, userID)
	if err != nil {
		return out, err
	}
	err = s.view(func(txn *badger.Txn) error {
		for _, k := range keys {
			item, err := txn.Get([]byte(k))
			if errors.Is(err, badger.ErrKeyNotFound) {
				continue // expired; the index entry goes with it soon
			}
			if err != nil {
				return err
			}
			v, err := item.ValueCopy(nil)
			if err != nil {
				return err
			}
			kind := recordKind(k)
			out.Records[kind] = append(out.Records[kind], json.RawMessage(v))
		}
		return nil
	})
	if err != nil {
		return out, fmt.Errorf("storage: export user: %w", err)
	}
	named, err := s.mentioning(ctx, platform, userID)
	if err != nil {
		return out, err
	}
	for _, kv := range named {
		kind := recordKind(kv.key)
		out.Records[kind] = append(out.Records[kind], json.RawMessage(kv.value))
	}
	return out, nil
}

type keyValue struct {
	key   string
	value []byte
}

// mentioning finds records that name a person without an index entry:
// escalations (user) and events waiting in the spill queue.
func (s *Store) mentioning(ctx context.Context, platform, userID string) ([]keyValue, error) {
	var out []keyValue
	err1 := s.scan(ctx, prefixEsc, func(k, v []byte) error {
		var e handoff.Escalation
		if json.Unmarshal(v, &e) == nil && e.User.Platform == platform && e.User.ID == userID {
			out = append(out, keyValue{string(k), append([]byte(nil), v...)})
		}
		return nil
	})
	err2 := s.scan(ctx, prefixSpill, func(k, v []byte) error {
		var ev bot.Event
		if json.Unmarshal(v, &ev) == nil && ev.Platform == platform && ev.User.ID == userID {
			out = append(out, keyValue{string(k), append([]byte(nil), v...)})
		}
		return nil
	})
	if err := errors.Join(err1, err2); err != nil {
		return nil, fmt.Errorf("storage: records naming a person: %w", err)
	}
	return out, nil
}

// Erasure says what EraseUser removed, by kind, without saying whose.
type Erasure struct {
	Removed     map[string]int `json:"removed"`
	Anonymized  map[string]int `json:"anonymized"`
	ThreadsGone int            `json:"threads_removed"`
}

// EraseUser removes everything about a person (GDPR Art. 17): their
// messages, sentiment rows, feedback and pending events; threads where
// nobody else spoke go entirely (the bot's replies too); escalations that
// name them lose the name and the text. Records of shared value that count
// people (votes) are anonymised by their own feature's rule rather than
// removed. The audit log records that an erasure happened, not whose.
func (s *Store) EraseUser(ctx context.Context, platform, userID, by string) (Erasure, error) {
	res := Erasure{Removed: map[string]int{}, Anonymized: map[string]int{}}
	// Writes queued without waiting (sentiment rows, replies) must be on
	// disk before the scan, or they would outlive the erasure.
	if err := s.Sync(ctx); err != nil {
		return res, err
	}
	keys, err := s.UserRecords(ctx, platform, userID)
	if err != nil {
		return res, err
	}
	threads := map[string]bool{} // history prefixes the person wrote in
	for _, k := range keys {
		if strings.HasPrefix(k, prefixHist) {
			threads[k[:strings.LastIndex(k, "/")+1]] = true
		}
	}
	others, err := s.mentioning(ctx, platform, userID)
	if err != nil {
		return res, err
	}
	audit, err := json.Marshal(AuditEntry{Time: time.Now(), Actor: by, Action: "erase", Target: "one person's data, on request"})
	if err != nil {
		return res, err
	}
	indexPrefix := userPrefix(platform, userID)
	mine := map[string]bool{}
	for _, k := range keys {
		mine[k] = true
	}
	// The erasure runs in steps that each fit one transaction (a person
	// may have written thousands of messages). Each step is atomic and the
	// whole is idempotent: after a failure, erasing again finishes the job.
	step := func(fn func(txn *badger.Txn, part *Erasure) error) error {
		var part Erasure
		err := s.commit(ctx, func(txn *badger.Txn) error {
			// Reset: the committer may run a write function twice.
			part = Erasure{Removed: map[string]int{}, Anonymized: map[string]int{}}
			return fn(txn, &part)
		})
		if err == nil {
			res.add(part)
		}
		return err
	}
	// Threads first, one per step: the person's turns, the bot's replies to
	// them, and the whole thread when nobody else is left in it.
	for prefix := range threads {
		err := step(func(txn *badger.Txn, part *Erasure) error {
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
			return res, fmt.Errorf("storage: erase user: %w", err)
		}
	}
	const page = 2000 // records and index entries: two writes each
	for start := 0; start < len(keys); start += page {
		chunk := keys[start:min(start+page, len(keys))]
		err := step(func(txn *badger.Txn, part *Erasure) error {
			for _, k := range chunk {
				if !strings.HasPrefix(k, prefixHist) {
					if err := s.eraseRecord(txn, k, userID, part); err != nil {
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
			return res, fmt.Errorf("storage: erase user: %w", err)
		}
	}
	err = step(func(txn *badger.Txn, part *Erasure) error {
		for _, kv := range others {
			if strings.HasPrefix(kv.key, prefixEsc) {
				var e handoff.Escalation
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
				continue
			}
			if err := txn.Delete([]byte(kv.key)); err != nil {
				return err
			}
			part.Removed[recordKind(kv.key)]++
		}
		return txn.SetEntry(expiring([]byte(prefixAudit+timeSeq(time.Now(), &s.seq)), audit, time.Time{}, s.opts.AuditTTL))
	})
	if err != nil {
		return res, fmt.Errorf("storage: erase user: %w", err)
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

// eraseRecord removes or anonymises one record of the person.
func (s *Store) eraseRecord(txn *badger.Txn, key, userID string, res *Erasure) error {
	if anonymize, ok := s.anonymizers()[recordKind(key)]; ok {
		done, err := anonymize(txn, key, userID)
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

// anonymizers are the record kinds that keep a trace without the person
// (a feature request's vote); every other kind is deleted. Features add
// their rule here.
func (s *Store) anonymizers() map[string]func(txn *badger.Txn, key, userID string) (bool, error) {
	return map[string]func(*badger.Txn, string, string) (bool, error){
		"inbox": s.anonymizeInboxRecord,
	}
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

// kinds lists record kinds in a stable order, for messages.
func kinds(m map[string]int) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}

func (e *Erasure) add(o Erasure) {
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
