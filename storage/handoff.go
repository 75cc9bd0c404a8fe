package storage

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"sort"

	"github.com/dgraph-io/badger/v4"

	"github.com/einsatz/einsatz/bot"
	"github.com/einsatz/einsatz/bot/escalation"
)

// Handoff keeps escalations (esc/), one per thread, over the shared Store.
type Handoff struct{ s *Store }

// NewHandoff returns the escalation store over s.
func NewHandoff(s *Store) *Handoff { return &Handoff{s: s} }

func escKey(t bot.ThreadRef) []byte { return []byte(prefixEsc + threadPart(t)) }

// OpenEscalation stores e unless the thread's latest escalation is still
// open; it reports whether it stored it. The check and the write are one
// step, so two triggers at once post one escalation.
func (h *Handoff) OpenEscalation(ctx context.Context, e escalation.Escalation) (bool, error) {
	v, err := json.Marshal(e)
	if err != nil {
		return false, err
	}
	created := false
	err = h.s.commit(ctx, func(txn *badger.Txn) error {
		item, err := txn.Get(escKey(e.Thread))
		switch {
		case err == nil:
			var old escalation.Escalation
			if err := item.Value(func(b []byte) error { return json.Unmarshal(b, &old) }); err != nil {
				return err
			}
			if old.Open() {
				return nil
			}
		case !errors.Is(err, badger.ErrKeyNotFound):
			return err
		}
		ent := expiring(escKey(e.Thread), v, e.Created, h.s.opts.MessageTTL)
		if ent == nil {
			return nil // older than the retention of the messages it quotes
		}
		created = true
		return txn.SetEntry(ent)
	})
	if err != nil {
		return false, fmt.Errorf("storage: open escalation: %w", err)
	}
	return created, nil
}

// Escalation returns the thread's latest escalation.
func (h *Handoff) Escalation(_ context.Context, thread bot.ThreadRef) (escalation.Escalation, bool, error) {
	var e escalation.Escalation
	found := false
	err := h.s.view(func(txn *badger.Txn) error {
		item, err := txn.Get(escKey(thread))
		if errors.Is(err, badger.ErrKeyNotFound) {
			return nil
		}
		if err != nil {
			return err
		}
		found = true
		return item.Value(func(b []byte) error { return json.Unmarshal(b, &e) })
	})
	if err != nil {
		return e, false, fmt.Errorf("storage: escalation of %s: %w", thread.Key(), err)
	}
	return e, found, nil
}

// PutEscalation updates an escalation.
func (h *Handoff) PutEscalation(ctx context.Context, e escalation.Escalation) error {
	v, err := json.Marshal(e)
	if err != nil {
		return err
	}
	if err := h.s.commit(ctx, func(txn *badger.Txn) error {
		// The same expiry as when it was opened: counted from its creation.
		if ent := expiring(escKey(e.Thread), v, e.Created, h.s.opts.MessageTTL); ent != nil {
			return txn.SetEntry(ent)
		}
		return txn.Delete(escKey(e.Thread))
	}); err != nil {
		return fmt.Errorf("storage: update escalation: %w", err)
	}
	return nil
}

// UpdateEscalation changes the thread's latest escalation with fn. Writes
// go through the store's one writer, so the read and the write are one
// step.
//
// Most threads have no escalation, and the hand-off service asks on every
// member message: that answer comes from a read, without queueing a write
// that fails (a failed write makes the writer apply the rest of its batch
// again, and the caller wait for the batch's sync). An escalation created
// after the read is as if created after this call.
func (h *Handoff) UpdateEscalation(ctx context.Context, thread bot.ThreadRef, fn func(*escalation.Escalation) error) (escalation.Escalation, error) {
	exists := true
	if err := h.s.view(func(txn *badger.Txn) error {
		_, err := txn.Get(escKey(thread))
		if errors.Is(err, badger.ErrKeyNotFound) {
			exists, err = false, nil
		}
		return err
	}); err != nil {
		return escalation.Escalation{}, fmt.Errorf("storage: update escalation of %s: %w", thread.Key(), err)
	}
	if !exists {
		return escalation.Escalation{}, fmt.Errorf("storage: update escalation of %s: %w", thread.Key(), escalation.ErrNotFound)
	}
	var out escalation.Escalation
	err := h.s.commit(ctx, func(txn *badger.Txn) error {
		item, err := txn.Get(escKey(thread))
		if errors.Is(err, badger.ErrKeyNotFound) {
			return escalation.ErrNotFound
		}
		if err != nil {
			return err
		}
		var e escalation.Escalation
		if err := item.Value(func(b []byte) error { return json.Unmarshal(b, &e) }); err != nil {
			return err
		}
		if err := fn(&e); err != nil {
			return err
		}
		v, err := json.Marshal(e)
		if err != nil {
			return err
		}
		out = e
		if ent := expiring(escKey(thread), v, e.Created, h.s.opts.MessageTTL); ent != nil {
			return txn.SetEntry(ent)
		}
		return txn.Delete(escKey(thread))
	})
	if err != nil {
		return escalation.Escalation{}, fmt.Errorf("storage: update escalation of %s: %w", thread.Key(), err)
	}
	return out, nil
}

// Escalations returns every thread's latest escalation, newest first.
func (h *Handoff) Escalations(ctx context.Context) ([]escalation.Escalation, error) {
	var out []escalation.Escalation
	err := h.s.scan(ctx, prefixEsc, func(_, v []byte) error {
		var e escalation.Escalation
		if err := json.Unmarshal(v, &e); err != nil {
			return err
		}
		out = append(out, e)
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("storage: escalations: %w", err)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Created.After(out[j].Created) })
	return out, nil
}

var _ escalation.Store = (*Handoff)(nil)
