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
	// noticeSubject carries the id of each reply posted, over core NATS
	// (not stored): every live node keeps them for noticeKeep.
	noticeSubject = "einsatz.notice.posted"
	noticeKeep    = 2 * time.Minute
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
	load   sync.Mutex // one read at a time
	mu     sync.Mutex
	loaded bool
	from   time.Time // marks stored since then are in ids
	ids    map[string]bool
}

func markSubject(p int, key string) string {
	return "$KV." + PostedBucket + ".batch." + strconv.Itoa(p) + "." + key
}

// notice tells every live node at once that reply id was posted (the node
// that posted it sends it, right after the post).
func (n *Node) notice(id string) {
	if err := n.nc.Publish(noticeSubject, []byte(id)); err != nil {
		n.log.Warn("noticing a reply posted", "err", err)
	}
	n.Ops.Notices.Add(1)
}

// mark records that reply id of partition p was posted: in the set of
// the partition's hold at once, in the posted bucket with the next group
// (the node that posted it noticed it to every live node already).
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

// storeMarks stores the waiting marks, one publish per partition (at
// most markBatchMax marks each), waits for JetStream to confirm them, and
// goes on while more are waiting. Marks not confirmed wait for the next
// group (after a node died the bucket may be electing a leader).
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
		type group struct {
			p   int
			ids []string
			msg *nats.Msg
			f   jetstream.PubAckFuture
		}
		var groups []*group
		for p, ids := range q {
			for len(ids) > 0 {
				k := min(len(ids), markBatchMax)
				g := &group{p: p, ids: ids[:k]}
				ids = ids[k:]
				data, err := json.Marshal(g.ids)
				if err != nil {
					continue
				}
				m.n++
				g.msg = nats.NewMsg(markSubject(p, m.prefix+"-"+strconv.FormatUint(m.n, 10)))
				g.msg.Data = data
				groups = append(groups, g)
			}
		}
		m.mu.Unlock()
		for _, g := range groups {
			f, err := n.js.PublishMsgAsync(g.msg)
			if err == nil {
				g.f = f
				n.Ops.KV.Add(1)
			}
		}
		var failed []*group
		for _, g := range groups {
			if g.f == nil || n.waitAck(g.f) != nil {
				failed = append(failed, g)
			}
		}
		if len(failed) == 0 {
			continue
		}
		if n.nc.IsClosed() {
			n.log.Warn("replies posted but not marked: the node left the cluster", "groups", len(failed))
			continue
		}
		n.log.Warn("marking replies posted: trying again", "groups", len(failed))
		m.mu.Lock()
		if m.queue == nil {
			m.queue = map[int][]string{}
		}
		for _, g := range failed {
			m.queue[g.p] = append(m.queue[g.p], g.ids...)
		}
		m.mu.Unlock()
		<-n.clock.After(250 * time.Millisecond)
	}
}

// noticed keeps the reply ids other nodes (and this one) noticed posted
// over core NATS within noticeKeep: what a node posted just before it
// died, while the group with its mark was still being stored.
type noticed struct {
	mu    sync.Mutex
	ids   map[string]time.Time
	swept time.Time
	sub   *nats.Subscription
}

func (r *noticed) stop() {
	if r.sub != nil {
		_ = r.sub.Unsubscribe()
	}
}

// watchNotices subscribes to the notices of posted replies.
func (n *Node) watchNotices() error {
	n.notices.ids = map[string]time.Time{}
	sub, err := n.nc.Subscribe(noticeSubject, func(msg *nats.Msg) {
		now := n.clock.Now()
		r := &n.notices
		r.mu.Lock()
		defer r.mu.Unlock()
		r.ids[string(msg.Data)] = now
		if now.Sub(r.swept) > noticeKeep/2 {
			for id, at := range r.ids {
				if now.Sub(at) > noticeKeep {
					delete(r.ids, id)
				}
			}
			r.swept = now
		}
	})
	if err != nil {
		return fmt.Errorf("cluster: subscribe to posted notices: %w", err)
	}
	_ = sub.SetPendingLimits(-1, -1)
	n.notices.sub = sub
	return nil
}

func (n *Node) wasNoticed(id string) bool {
	r := &n.notices
	r.mu.Lock()
	defer r.mu.Unlock()
	_, ok := r.ids[id]
	return ok
}

// wasPosted reports whether reply id of an event of partition p, stored
// in the event stream at stored, was marked posted during an earlier hold
// of the partition (by any node) or during this one.
func (n *Node) wasPosted(ctx context.Context, p int, l *lease, id string, stored time.Time) (bool, error) {
	s := n.marks.set(l)
	s.load.Lock()
	defer s.load.Unlock()
	from := stored.Add(-markSkew)
	s.mu.Lock()
	need := !s.loaded || from.Before(s.from)
	s.mu.Unlock()
	for need {
		ids, err := n.readMarks(ctx, p, from)
		if err == nil {
			s.mu.Lock()
			for id := range ids {
				s.ids[id] = true
			}
			s.loaded, s.from = true, from
			s.mu.Unlock()
			break
		}
		// After a node died the bucket may have no leader for a few
		// seconds: try again while the partition is this node's.
		n.log.Warn("reading posted marks", "partition", p, "err", err)
		select {
		case <-ctx.Done():
			return false, err
		case <-l.ctx.Done():
			return false, err
		case <-n.clock.After(250 * time.Millisecond):
		}
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.ids[id] || n.wasNoticed(id), nil
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
