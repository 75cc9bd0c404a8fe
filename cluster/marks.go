package cluster

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"strconv"
	"sync"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"
)

// Posted marks, grouped.
//
// A reply posted for an event is marked in the posted bucket, so that a
// node taking the partition over does not post it again. One key per
// reply cost a JetStream publish per event; here the marks of a partition
// are grouped: while one group is being stored, the replies posted
// meanwhile wait and go together in the next (group commit, no timer),
// under a key of their own, batch.<partition>.<node's random prefix>-<n>,
// whose value is the JSON list of their ids. Under load a publish carries
// many marks; a lone reply still gets its own at once.
//
// Checking (an event an earlier holder may have handled) reads the
// partition's groups once per hold of the partition, from a minute before
// the event was stored (a mark is never older than its event; the minute
// covers clocks of different servers), into a set; the replies this node
// posts later are added to the set as it posts them. While it holds the
// lease no other node posts for the partition: another node's last post
// came before its lease could lapse (it posts only within two thirds of
// the lease time after a renewal).
const (
	markBatchMax = 1000 // ids in one group at most (keeps it far below the 1 MB payload limit)
	markSkew     = time.Minute
)

// marker groups this node's posted marks; its zero value is ready.
type marker struct {
	mu      sync.Mutex
	queue   map[int][]string // per partition, waiting for the next group
	running bool             // a goroutine is storing groups
	prefix  string
	n       uint64
	sets    map[*lease]*markSet // read marks, per hold of a partition
}

// markSet is the marks of one partition as this node knows them during
// one hold of it.
type markSet struct {
	mu     sync.Mutex
	loaded bool
	from   time.Time // marks stored since then are in ids
	ids    map[string]bool
}

func markSubject(p int, key string) string {
	return "$KV." + PostedBucket + ".batch." + strconv.Itoa(p) + "." + key
}

// mark records that reply id of partition p was posted: in the set of
// the partition's hold at once, and in the posted bucket with the next
// group.
func (n *Node) mark(p int, l *lease, id string) {
	m := &n.marks
	s := m.set(l)
	s.mu.Lock()
	s.ids[id] = true
	s.mu.Unlock()
	m.mu.Lock()
	if m.queue == nil {
		m.queue = map[int][]string{}
	}
	m.queue[p] = append(m.queue[p], id)
	if m.running {
		m.mu.Unlock()
		return
	}
	m.running = true
	m.mu.Unlock()
	go n.storeMarks()
}

// set is the mark set of a hold of a partition (made on first use; the
// sets of holds that ended are dropped then).
func (m *marker) set(l *lease) *markSet {
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.sets == nil {
		m.sets = map[*lease]*markSet{}
	}
	s := m.sets[l]
	if s == nil {
		s = &markSet{ids: map[string]bool{}}
		m.sets[l] = s
		for old := range m.sets {
			if old.ctx.Err() != nil {
				delete(m.sets, old)
			}
		}
	}
	return s
}

// storeMarks stores the waiting marks, one publish per partition, waits
// for JetStream to confirm them, and goes on while more are waiting.
func (n *Node) storeMarks() {
	m := &n.marks
	for {
		m.mu.Lock()
		q := m.queue
		m.queue = nil
		if len(q) == 0 {
			m.running = false
			m.mu.Unlock()
			return
		}
		if m.prefix == "" {
			var b [6]byte
			_, _ = rand.Read(b[:])
			m.prefix = hex.EncodeToString(b[:])
		}
		var msgs []*nats.Msg
		for p, ids := range q {
			for len(ids) > 0 {
				k := min(len(ids), markBatchMax)
				data, err := json.Marshal(ids[:k])
				ids = ids[k:]
				if err != nil {
					continue
				}
				m.n++
				msg := nats.NewMsg(markSubject(p, m.prefix+"-"+strconv.FormatUint(m.n, 10)))
				msg.Data = data
				msgs = append(msgs, msg)
			}
		}
		m.mu.Unlock()
		var futures []jetstream.PubAckFuture
		for _, msg := range msgs {
			f, err := n.js.PublishMsgAsync(msg)
			if err != nil {
				n.log.Warn("marking replies posted", "err", err)
				continue
			}
			n.Ops.KV.Add(1)
			futures = append(futures, f)
		}
		for _, f := range futures {
			if err := n.waitAck(f); err != nil {
				n.log.Warn("marking replies posted", "err", err)
			}
		}
	}
}

// wasPosted reports whether reply id of an event of partition p, stored
// in the event stream at stored, was marked posted during an earlier hold
// of the partition (by any node) or during this one.
func (n *Node) wasPosted(ctx context.Context, p int, l *lease, id string, stored time.Time) (bool, error) {
	s := n.marks.set(l)
	s.mu.Lock()
	defer s.mu.Unlock()
	from := stored.Add(-markSkew)
	if !s.loaded || from.Before(s.from) {
		ids, err := n.readMarks(ctx, p, from)
		if err != nil {
			return false, err
		}
		for id := range ids {
			s.ids[id] = true
		}
		s.loaded, s.from = true, from
	}
	return s.ids[id], nil
}

// readMarks reads the groups of marks of partition p stored since from,
// through a short-lived consumer of the posted bucket's stream.
func (n *Node) readMarks(ctx context.Context, p int, from time.Time) (map[string]bool, error) {
	ctx, cancel := context.WithTimeout(ctx, 5*time.Second)
	defer cancel()
	stream := "KV_" + PostedBucket
	c, err := n.js.CreateConsumer(ctx, stream, jetstream.ConsumerConfig{FilterSubject: markSubject(p, ">"),
		DeliverPolicy: jetstream.DeliverByStartTimePolicy, OptStartTime: &from, AckPolicy: jetstream.AckNonePolicy,
		InactiveThreshold: time.Minute, MemoryStorage: true, Replicas: 1})
	n.Ops.KV.Add(1)
	if err != nil {
		return nil, fmt.Errorf("cluster: read posted marks: %w", err)
	}
	defer func() {
		dctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 2*time.Second)
		_ = n.js.DeleteConsumer(dctx, stream, c.CachedInfo().Name)
		cancel()
	}()
	ids := map[string]bool{}
	left := c.CachedInfo().NumPending
	for left > 0 {
		if ctx.Err() != nil {
			return nil, fmt.Errorf("cluster: read posted marks: %w", ctx.Err())
		}
		batch, err := c.Fetch(int(min(left, 256)), jetstream.FetchMaxWait(2*time.Second))
		n.Ops.KV.Add(1)
		if err != nil {
			return nil, fmt.Errorf("cluster: read posted marks: %w", err)
		}
		got := 0
		for msg := range batch.Messages() {
			got++
			var list []string
			if err := json.Unmarshal(msg.Data(), &list); err == nil {
				for _, id := range list {
					ids[id] = true
				}
			}
			if md, err := msg.Metadata(); err == nil {
				left = md.NumPending
			}
		}
		if err := batch.Error(); err != nil && !errors.Is(err, nats.ErrTimeout) {
			return nil, fmt.Errorf("cluster: read posted marks: %w", err)
		}
		if got == 0 {
			return nil, errors.New("cluster: read posted marks: the consumer delivered nothing")
		}
	}
	return ids, nil
}

// hold is this node's hold of partition p, nil when it does not hold it.
func (n *Node) hold(p int) *lease {
	n.mu.Lock()
	defer n.mu.Unlock()
	return n.held[p]
}
