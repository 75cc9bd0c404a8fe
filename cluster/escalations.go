package cluster

import (
	"cmp"
	"context"
	"errors"
	"log/slog"
	"slices"
	"sync/atomic"
	"time"

	"github.com/nats-io/nats.go/jetstream"

	"github.com/einsatz/einsatz/bot"
	"github.com/einsatz/einsatz/bot/escalation"
)

// EscalationBucket holds each thread's latest escalation.
const EscalationBucket = "einsatz_escalations"

// Escalations is each thread's latest escalation, shared by every node: a
// key per thread in the escalations bucket, followed into memory by a
// watcher, and changed only with compare-and-set on the revision the node
// knows. So two staff claiming, dismissing or closing one escalation on
// two nodes at once do it one after the other: the second sees the
// first's change and the state machine refuses what it no longer allows
// (a claim of a claimed escalation by someone else is a takeover, as on
// one machine; escalation.Apply decides). It implements escalation.Store.
//
// Reads (and an update the record refuses, such as the reopen check on
// every member message) cost no JetStream operation; a change costs one
// write, and a read and a write more for each race it lost. A node learns
// of another node's change when its watcher delivers it (milliseconds);
// until then it sees the record before, and a change it makes from that
// fails the compare-and-set and is made again on the fresh record.
type Escalations struct {
	s *shared[escalation.Escalation]
}

var _ escalation.Store = (*Escalations)(nil)

// Escalations opens the shared escalations (creating the bucket when it is
// missing) and starts following them. An escalation is deleted keep after
// it was created (storage.message_ttl, as on one machine; 0: kept), by an
// hourly sweep on every node.
func (n *Node) Escalations(ctx context.Context, keep time.Duration) (*Escalations, error) {
	kv, err := n.bucket(ctx, jetstream.KeyValueConfig{Bucket: EscalationBucket, Replicas: n.s.Replicas})
	if err != nil {
		return nil, err
	}
	e, err := watchEscalations(ctx, kv, n.log, &n.Ops.KV)
	if err != nil {
		return nil, err
	}
	n.onClose(e.s.stop)
	if keep > 0 {
		n.sweepEvery("escalations", time.Hour, func(ctx context.Context, now time.Time) (int, error) {
			return e.expire(ctx, now, keep)
		})
	}
	return e, nil
}

// expire deletes the escalations created keep or longer before now.
func (x *Escalations) expire(ctx context.Context, now time.Time, keep time.Duration) (int, error) {
	return x.s.sweep(ctx, func(_ string, e escalation.Escalation) bool { return !e.Created.Add(keep).After(now) })
}

func watchEscalations(ctx context.Context, kv jetstream.KeyValue, log *slog.Logger, ops *atomic.Int64) (*Escalations, error) {
	s, err := watchShared[escalation.Escalation](ctx, kv, log, ops)
	if err != nil {
		return nil, err
	}
	return &Escalations{s: s}, nil
}

var errOpenAlready = errors.New("cluster: the thread's escalation is open")

// OpenEscalation implements escalation.Store: it stores e unless the
// thread's latest escalation is open, in one compare-and-set.
func (x *Escalations) OpenEscalation(ctx context.Context, e escalation.Escalation) (bool, error) {
	_, err := x.s.update(ctx, kvKey(e.Thread.Key()), func(cur escalation.Escalation, ok bool) (escalation.Escalation, error) {
		if ok && cur.Open() {
			return cur, errOpenAlready
		}
		return e, nil
	})
	if errors.Is(err, errOpenAlready) {
		return false, nil
	}
	return err == nil, err
}

// Escalation implements escalation.Store.
func (x *Escalations) Escalation(_ context.Context, thread bot.ThreadRef) (escalation.Escalation, bool, error) {
	e, ok := x.s.get(kvKey(thread.Key()))
	e.Changes = slices.Clone(e.Changes) // the caller's to change
	return e, ok, nil
}

// PutEscalation implements escalation.Store.
func (x *Escalations) PutEscalation(ctx context.Context, e escalation.Escalation) error {
	_, err := x.s.update(ctx, kvKey(e.Thread.Key()), func(escalation.Escalation, bool) (escalation.Escalation, error) {
		return e, nil
	})
	return err
}

// UpdateEscalation implements escalation.Store: fn runs on the latest
// record (again, should another node have changed it meanwhile), and an
// error from fn changes nothing.
func (x *Escalations) UpdateEscalation(ctx context.Context, thread bot.ThreadRef, fn func(*escalation.Escalation) error) (escalation.Escalation, error) {
	return x.s.update(ctx, kvKey(thread.Key()), func(cur escalation.Escalation, ok bool) (escalation.Escalation, error) {
		if !ok {
			return cur, escalation.ErrNotFound
		}
		cur.Changes = slices.Clone(cur.Changes) // fn must not change the copy this node keeps
		if err := fn(&cur); err != nil {
			return cur, err
		}
		return cur, nil
	})
}

// Escalations implements escalation.Store: every thread's latest
// escalation, newest first.
func (x *Escalations) Escalations(context.Context) ([]escalation.Escalation, error) {
	out := x.s.all()
	for i := range out {
		out[i].Changes = slices.Clone(out[i].Changes)
	}
	slices.SortStableFunc(out, func(a, b escalation.Escalation) int {
		if c := b.Created.Compare(a.Created); c != 0 {
			return c
		}
		return cmp.Compare(a.Thread.Key(), b.Thread.Key())
	})
	return out, nil
}
