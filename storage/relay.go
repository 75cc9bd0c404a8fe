package storage

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"github.com/dgraph-io/badger/v4"

	"github.com/einsatz/einsatz/bot"
	"github.com/einsatz/einsatz/bot/escalation"
)

// Relay keeps what the staff-thread relay copied (relay/msg/) and which
// member thread each staff thread stands for (relay/thread/). The records
// hold ids, no text, and expire message_ttl after they were written (by the wall clock: a
// fake clock in tests must not expire them at once), like
// the messages they point at.
type Relay struct{ s *Store }

// NewRelay returns the relay store over s.
func NewRelay(s *Store) *Relay { return &Relay{s: s} }

var _ escalation.RelayStore = (*Relay)(nil)

func relayMsgKey(m escalation.Message) []byte {
	return []byte(prefixRelayMsg + join(m.Thread.Platform, m.Thread.ChannelID, m.Thread.ThreadID, m.ID))
}

func relayThreadKey(t bot.ThreadRef) []byte { return []byte(prefixRelayThread + threadPart(t)) }

// ClaimRelay implements escalation.RelayStore: the check and the write are
// one step.
func (r *Relay) ClaimRelay(ctx context.Context, rec escalation.Relayed) (bool, error) {
	v, err := json.Marshal(rec)
	if err != nil {
		return false, err
	}
	claimed := false
	err = r.s.commit(ctx, func(txn *badger.Txn) error {
		_, err := txn.Get(relayMsgKey(rec.Source))
		switch {
		case err == nil:
			return nil
		case !errors.Is(err, badger.ErrKeyNotFound):
			return err
		}
		claimed = true
		return txn.SetEntry(expiring(relayMsgKey(rec.Source), v, time.Time{}, r.s.opts.MessageTTL))
	})
	if err != nil {
		return false, fmt.Errorf("storage: claim relay of %s: %w", rec.Source.Key(), err)
	}
	return claimed, nil
}

// PutRelay implements escalation.RelayStore.
func (r *Relay) PutRelay(ctx context.Context, rec escalation.Relayed) error {
	v, err := json.Marshal(rec)
	if err != nil {
		return err
	}
	if err := r.s.commit(ctx, func(txn *badger.Txn) error {
		return txn.SetEntry(expiring(relayMsgKey(rec.Source), v, time.Time{}, r.s.opts.MessageTTL))
	}); err != nil {
		return fmt.Errorf("storage: put relay of %s: %w", rec.Source.Key(), err)
	}
	return nil
}

// Relay implements escalation.RelayStore.
func (r *Relay) Relay(_ context.Context, source escalation.Message) (escalation.Relayed, bool, error) {
	var rec escalation.Relayed
	found, err := r.get(relayMsgKey(source), &rec)
	if err != nil {
		return rec, false, fmt.Errorf("storage: relay of %s: %w", source.Key(), err)
	}
	return rec, found, nil
}

// PutStaffThread implements escalation.RelayStore.
func (r *Relay) PutStaffThread(ctx context.Context, staff, member bot.ThreadRef) error {
	v, err := json.Marshal(member)
	if err != nil {
		return err
	}
	if err := r.s.commit(ctx, func(txn *badger.Txn) error {
		return txn.SetEntry(expiring(relayThreadKey(staff), v, time.Time{}, r.s.opts.MessageTTL))
	}); err != nil {
		return fmt.Errorf("storage: put staff thread %s: %w", staff.Key(), err)
	}
	return nil
}

// StaffThread implements escalation.RelayStore.
func (r *Relay) StaffThread(_ context.Context, staff bot.ThreadRef) (bot.ThreadRef, bool, error) {
	var member bot.ThreadRef
	found, err := r.get(relayThreadKey(staff), &member)
	if err != nil {
		return member, false, fmt.Errorf("storage: staff thread %s: %w", staff.Key(), err)
	}
	return member, found, nil
}

func (r *Relay) get(key []byte, v any) (bool, error) {
	found := false
	err := r.s.view(func(txn *badger.Txn) error {
		item, err := txn.Get(key)
		if errors.Is(err, badger.ErrKeyNotFound) {
			return nil
		}
		if err != nil {
			return err
		}
		found = true
		return item.Value(func(b []byte) error { return json.Unmarshal(b, v) })
	})
	return found, err
}
