package cluster

import (
	"cmp"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"sync/atomic"
	"time"

	"github.com/nats-io/nats.go/jetstream"

	"github.com/einsatz/einsatz/bot/request"
)

// InboxBucket holds the research inbox.
const InboxBucket = "einsatz_inbox"

// Inbox is the research inbox shared by every node, in one key-value
// bucket followed into memory by a watcher (reads cost no JetStream
// operation):
//
//   - item.<n>: an item without its mentions and votes, changed with
//     compare-and-set (status, edits, merges);
//   - next: the last item number given, taken with compare-and-set;
//   - msg.<hash of platform, channel, message>: a mention and its item.
//     Filing a message is a create, so one message is filed once across
//     the cluster (the same request seen on two nodes, or one event
//     handled twice);
//   - vote.<n>.<hash of platform, user>: one person's vote for item n. A
//     vote is a create, so a repeat fails and is not counted, on any node;
//   - notice.<hash of platform, channel>.<day>: the status posts a channel
//     got that day (compare-and-set);
//   - optin.<hash of platform, user>: a wish for direct messages.
//
// Filing a new request costs four writes (number, item, message, vote), a
// mention of a filed one two or three, a vote one; a repeat this node
// knows of costs none. Merges and their undoing move each mention and
// vote with a write of its own: they are not one atomic step across the
// cluster (a node dying half-way leaves part moved). It implements
// request.Store.
type Inbox struct {
	s   *shared[inboxRecord]
	seq atomic.Int64
}

var _ request.Store = (*Inbox)(nil)

// inboxRecord is one key of the bucket: one field is set, by the key.
type inboxRecord struct {
	Item    *request.Item  `json:"item,omitempty"`
	Next    int            `json:"next,omitempty"`
	Mention *filedMention  `json:"mention,omitempty"`
	Vote    *filedVote     `json:"vote,omitempty"`
	Notices int            `json:"notices,omitempty"`
	OptIn   *request.OptIn `json:"opt_in,omitempty"`
}

type filedMention struct {
	Item    int             `json:"item"`
	Seq     int64           `json:"seq"` // mentions of the same time keep their order of filing
	Mention request.Mention `json:"mention"`
}

type filedVote struct {
	Item int          `json:"item"`
	Vote request.Vote `json:"vote"`
}

// Inbox opens the shared research inbox (creating the bucket when it is
// missing) and starts following it.
func (n *Node) Inbox(ctx context.Context) (*Inbox, error) {
	kv, err := n.bucket(ctx, jetstream.KeyValueConfig{Bucket: InboxBucket, Replicas: n.s.Replicas})
	if err != nil {
		return nil, err
	}
	s, err := watchShared[inboxRecord](ctx, kv, n.log, &n.Ops.KV)
	if err != nil {
		return nil, err
	}
	n.onClose(s.stop)
	x := &Inbox{s: s}
	n.sweepEvery("inbox notices", time.Hour, x.expire)
	return x, nil
}

// statusPostsKeep is how long a channel's count of status posts for a day is
// kept (as on one machine).
const statusPostsKeep = 48 * time.Hour

// expire deletes the counts of status posts of days over statusPostsKeep ago.
func (x *Inbox) expire(ctx context.Context, now time.Time) (int, error) {
	return x.s.sweep(ctx, func(key string, _ inboxRecord) bool {
		if !strings.HasPrefix(key, "notice.") {
			return false
		}
		day, err := time.Parse("20060102", key[strings.LastIndexByte(key, '.')+1:])
		return err == nil && !day.Add(statusPostsKeep).After(now)
	})
}

// OnChange makes f be called when another node changed an item or a
// mention, the texts the inbox service's word index holds (it rebuilds
// the index then; votes do not touch it).
func (x *Inbox) OnChange(f func()) {
	g := func(key string) {
		if strings.HasPrefix(key, "item.") || strings.HasPrefix(key, "msg.") {
			f()
		}
	}
	x.s.changed.Store(&g)
}

func hashKey(parts ...string) string {
	sum := sha256.Sum256([]byte(strings.Join(parts, "\x00")))
	return hex.EncodeToString(sum[:16])
}

func itemKey(id int) string { return "item." + strconv.Itoa(id) }

func mentionKey(m request.Mention) string {
	return "msg." + hashKey(m.Platform, m.Channel, m.MessageID)
}

func votesOf(id int) string { return "vote." + strconv.Itoa(id) + "." }

func voteKey(id int, v request.Vote) string { return votesOf(id) + hashKey(v.Platform, v.UserID) }

func notFoundItem(id int) error { return fmt.Errorf("%w: #%d", request.ErrNotFound, id) }

// nextSeq orders mentions filed at the same time: nanoseconds, strictly
// increasing on this node.
func (x *Inbox) nextSeq() int64 {
	for {
		last, now := x.seq.Load(), time.Now().UnixNano()
		if now <= last {
			now = last + 1
		}
		if x.seq.CompareAndSwap(last, now) {
			return now
		}
	}
}

// record returns key's record, from the bucket when this node has not
// heard of it yet (another node may have written it a moment ago).
func (x *Inbox) record(ctx context.Context, key string) (inboxRecord, bool, error) {
	if r, ok := x.s.get(key); ok {
		return r, true, nil
	}
	return x.s.fetch(ctx, key)
}

// item returns item id's record.
func (x *Inbox) item(ctx context.Context, id int) (request.Item, error) {
	r, ok, err := x.record(ctx, itemKey(id))
	if err != nil {
		return request.Item{}, err
	}
	if !ok || r.Item == nil {
		return request.Item{}, notFoundItem(id)
	}
	return *r.Item, nil
}

// gather assembles items with their mentions (oldest first) and votes (by
// time): only the item only, or all when only is 0.
func (x *Inbox) gather(only int) map[int]request.Item {
	items := map[int]request.Item{}
	mentions := map[int][]filedMention{}
	votes := map[int][]request.Vote{}
	want := func(id int) bool { return only == 0 || id == only }
	x.s.each("", func(_ string, r inboxRecord) {
		switch {
		case r.Item != nil && want(r.Item.ID):
			it := *r.Item
			it.Tags, it.Changes = slices.Clone(it.Tags), slices.Clone(it.Changes)
			items[it.ID] = it
		case r.Mention != nil && want(r.Mention.Item):
			mentions[r.Mention.Item] = append(mentions[r.Mention.Item], *r.Mention)
		case r.Vote != nil && want(r.Vote.Item):
			votes[r.Vote.Item] = append(votes[r.Vote.Item], r.Vote.Vote)
		}
	})
	for id, it := range items {
		ms := mentions[id]
		slices.SortFunc(ms, func(a, b filedMention) int {
			return cmp.Or(a.Mention.Time.Compare(b.Mention.Time), cmp.Compare(a.Seq, b.Seq))
		})
		it.Mentions = nil
		for _, m := range ms {
			it.Mentions = append(it.Mentions, m.Mention)
		}
		vs := votes[id]
		slices.SortFunc(vs, func(a, b request.Vote) int {
			return cmp.Or(a.Time.Compare(b.Time), cmp.Compare(a.Platform, b.Platform), cmp.Compare(a.UserID, b.UserID))
		})
		it.Votes, it.VoteCount = vs, len(vs)
		items[id] = it
	}
	return items
}

func (x *Inbox) read(id int) (request.Item, error) {
	it, ok := x.gather(id)[id]
	if !ok {
		return request.Item{}, notFoundItem(id)
	}
	return it, nil
}

// filedAs returns the item a message is filed under.
func (x *Inbox) filedAs(ctx context.Context, m request.Mention) (int, bool, error) {
	r, ok, err := x.record(ctx, mentionKey(m))
	if err != nil || !ok || r.Mention == nil {
		return 0, false, err
	}
	return r.Mention.Item, true, nil
}

// Create implements request.Store. Two nodes filing the same message at
// once both take a number; the one whose message record is second
// deletes its item again (the number stays unused).
func (x *Inbox) Create(ctx context.Context, it request.Item, first request.Mention, vote request.Vote) (request.Item, bool, error) {
	if id, ok := x.s.get(mentionKey(first)); ok && id.Mention != nil {
		out, err := x.read(id.Mention.Item)
		return out, false, err
	}
	next, err := x.s.update(ctx, "next", func(cur inboxRecord, _ bool) (inboxRecord, error) {
		return inboxRecord{Next: cur.Next + 1}, nil
	})
	if err != nil {
		return request.Item{}, false, err
	}
	it.ID, it.Mentions, it.Votes, it.VoteCount = next.Next, nil, nil, 0
	it.Tags, it.Changes = slices.Clone(it.Tags), slices.Clone(it.Changes)
	if _, err := x.s.create(ctx, itemKey(it.ID), inboxRecord{Item: &it}); err != nil {
		return request.Item{}, false, err
	}
	filed, err := x.s.create(ctx, mentionKey(first), inboxRecord{Mention: &filedMention{Item: it.ID, Seq: x.nextSeq(), Mention: first}})
	if err != nil || !filed {
		if derr := x.s.remove(ctx, itemKey(it.ID)); derr != nil {
			err = errors.Join(err, derr)
		}
		if err != nil {
			return request.Item{}, false, err
		}
		id, ok, err := x.filedAs(ctx, first)
		if err != nil || !ok {
			return request.Item{}, false, errors.Join(err, fmt.Errorf("cluster: message filed and gone: %s", mentionKey(first)))
		}
		out, err := x.read(id)
		return out, false, err
	}
	if vote.UserID != "" {
		if _, err := x.s.create(ctx, voteKey(it.ID, vote), inboxRecord{Vote: &filedVote{Item: it.ID, Vote: vote}}); err != nil {
			return request.Item{}, false, err
		}
	}
	out, err := x.read(it.ID)
	return out, true, err
}

// AddMention implements request.Store.
func (x *Inbox) AddMention(ctx context.Context, id int, m request.Mention, vote request.Vote) (request.Item, bool, bool, error) {
	it, err := x.item(ctx, id)
	if err != nil {
		return request.Item{}, false, false, err
	}
	filed, err := x.s.create(ctx, mentionKey(m), inboxRecord{Mention: &filedMention{Item: id, Seq: x.nextSeq(), Mention: m}})
	if err != nil {
		return request.Item{}, false, false, err
	}
	if !filed {
		other, ok, err := x.filedAs(ctx, m)
		if err != nil || !ok {
			return request.Item{}, false, false, errors.Join(err, fmt.Errorf("cluster: message filed and gone: %s", mentionKey(m)))
		}
		out, err := x.read(other)
		return out, false, false, err
	}
	voted, err := x.vote(ctx, id, vote)
	if err != nil {
		return request.Item{}, true, false, err
	}
	if m.Time.After(it.Updated) {
		if _, err := x.s.update(ctx, itemKey(id), func(cur inboxRecord, ok bool) (inboxRecord, error) {
			if !ok || cur.Item == nil || !m.Time.After(cur.Item.Updated) {
				return cur, errStop
			}
			next := *cur.Item
			next.Updated = m.Time
			return inboxRecord{Item: &next}, nil
		}); err != nil && !errors.Is(err, errStop) {
			return request.Item{}, true, voted, err
		}
	}
	out, err := x.read(id)
	return out, true, voted, err
}

func (x *Inbox) vote(ctx context.Context, id int, v request.Vote) (bool, error) {
	if v.UserID == "" {
		return false, nil
	}
	return x.s.create(ctx, voteKey(id, v), inboxRecord{Vote: &filedVote{Item: id, Vote: v}})
}

// Vote implements request.Store: a create, so a repeat is not counted.
func (x *Inbox) Vote(ctx context.Context, id int, vote request.Vote) (request.Item, bool, error) {
	if _, err := x.item(ctx, id); err != nil {
		return request.Item{}, false, err
	}
	voted, err := x.vote(ctx, id, vote)
	if err != nil {
		return request.Item{}, false, err
	}
	out, err := x.read(id)
	return out, voted, err
}

// Item implements request.Store.
func (x *Inbox) Item(ctx context.Context, id int) (request.Item, error) {
	if _, err := x.item(ctx, id); err != nil {
		return request.Item{}, err
	}
	return x.read(id)
}

// Items implements request.Store.
func (x *Inbox) Items(ctx context.Context) ([]request.Item, error) {
	all := x.gather(0)
	out := make([]request.Item, 0, len(all))
	for _, it := range all {
		out = append(out, it)
	}
	slices.SortFunc(out, func(a, b request.Item) int { return cmp.Compare(a.ID, b.ID) })
	return out, ctx.Err()
}

// Update implements request.Store: fn runs on the latest record (again,
// should another node have changed it meanwhile).
func (x *Inbox) Update(ctx context.Context, id int, fn func(*request.Item) error) (request.Item, error) {
	if _, err := x.item(ctx, id); err != nil {
		return request.Item{}, err
	}
	if err := x.changeItem(ctx, id, func(it *request.Item) error {
		it.VoteCount = x.countVotes(id)
		if err := fn(it); err != nil {
			return fmt.Errorf("cluster: update #%d: %w", id, err)
		}
		return nil
	}); err != nil {
		return request.Item{}, err
	}
	return x.read(id)
}

// changeItem changes item id's record with compare-and-set.
func (x *Inbox) changeItem(ctx context.Context, id int, fn func(*request.Item) error) error {
	_, err := x.s.update(ctx, itemKey(id), func(cur inboxRecord, ok bool) (inboxRecord, error) {
		if !ok || cur.Item == nil {
			return cur, notFoundItem(id)
		}
		it := *cur.Item
		it.Tags, it.Changes = slices.Clone(it.Tags), slices.Clone(it.Changes)
		if err := fn(&it); err != nil {
			return cur, err
		}
		it.ID, it.Mentions, it.Votes, it.VoteCount = id, nil, nil, 0
		return inboxRecord{Item: &it}, nil
	})
	return err
}

func (x *Inbox) countVotes(id int) int {
	n := 0
	x.s.each(votesOf(id), func(string, inboxRecord) { n++ })
	return n
}

// parts returns the keys and records of item id's mentions and votes.
func (x *Inbox) parts(id int) (mentions map[string]filedMention, votes map[string]request.Vote) {
	mentions, votes = map[string]filedMention{}, map[string]request.Vote{}
	x.s.each("", func(k string, r inboxRecord) {
		switch {
		case r.Mention != nil && r.Mention.Item == id:
			mentions[k] = *r.Mention
		case r.Vote != nil && r.Vote.Item == id:
			votes[k] = r.Vote.Vote
		}
	})
	return mentions, votes
}

// moveMention files the mention under key under item to instead, if it
// is still under from; how changes its merge trail.
func (x *Inbox) moveMention(ctx context.Context, key string, from, to int, how func([]int) []int) (bool, error) {
	_, err := x.s.update(ctx, key, func(cur inboxRecord, ok bool) (inboxRecord, error) {
		if !ok || cur.Mention == nil || cur.Mention.Item != from {
			return cur, errStop
		}
		m := *cur.Mention
		m.Item, m.Seq = to, x.nextSeq()
		m.Mention.Merged = how(slices.Clone(m.Mention.Merged))
		return inboxRecord{Mention: &m}, nil
	})
	if errors.Is(err, errStop) {
		return false, nil
	}
	return err == nil, err
}

// Merge implements request.Store: each mention and vote of from moves to
// into with a write of its own, then both items record the merge.
func (x *Inbox) Merge(ctx context.Context, from, into int, ch request.Change) (request.Item, error) {
	if _, err := x.item(ctx, from); err != nil {
		return request.Item{}, err
	}
	if _, err := x.item(ctx, into); err != nil {
		return request.Item{}, err
	}
	mentions, votes := x.parts(from)
	merge := &request.Merge{From: from, Into: into}
	for key := range mentions {
		moved, err := x.moveMention(ctx, key, from, into, func(m []int) []int { return append(m, from) })
		if err != nil {
			return request.Item{}, err
		}
		if moved {
			merge.Mentions++
		}
	}
	for key, v := range votes {
		v.Merged = append(slices.Clone(v.Merged), from)
		created, err := x.vote(ctx, into, v)
		if err != nil {
			return request.Item{}, err
		}
		if created {
			merge.Votes++
		} else if _, err := x.s.update(ctx, voteKey(into, v), func(cur inboxRecord, ok bool) (inboxRecord, error) {
			if !ok || cur.Vote == nil {
				return cur, errStop
			}
			have := *cur.Vote
			have.Vote.AlsoFrom = append(slices.Clone(have.Vote.AlsoFrom), from)
			return inboxRecord{Vote: &have}, nil
		}); err != nil && !errors.Is(err, errStop) {
			return request.Item{}, err
		}
		if err := x.s.remove(ctx, key); err != nil {
			return request.Item{}, err
		}
	}
	ch.Merge = merge
	if err := x.recordMerge(ctx, from, into, ch, request.StatusDuplicate, into); err != nil {
		return request.Item{}, err
	}
	return x.read(into)
}

// Unmerge implements request.Store.
func (x *Inbox) Unmerge(ctx context.Context, from int, ch request.Change) (request.Item, error) {
	src, err := x.item(ctx, from)
	if err != nil {
		return request.Item{}, err
	}
	if src.Status != request.StatusDuplicate || src.DuplicateOf == 0 {
		return request.Item{}, fmt.Errorf("%w: #%d is not a merged duplicate", request.ErrNotMerged, from)
	}
	into := src.DuplicateOf
	dst, err := x.item(ctx, into)
	if err != nil {
		return request.Item{}, err
	}
	if dst.Status == request.StatusDuplicate {
		return request.Item{}, fmt.Errorf("%w: #%d was merged into #%d since", request.ErrNotMerged, into, dst.DuplicateOf)
	}
	back := &request.Merge{From: from, Into: into, Undone: true}
	mentions, votes := x.parts(into)
	for key, m := range mentions {
		if n := len(m.Mention.Merged); n == 0 || m.Mention.Merged[n-1] != from {
			continue
		}
		moved, err := x.moveMention(ctx, key, into, from, func(m []int) []int {
			if n := len(m); n > 0 && m[n-1] == from {
				return m[:n-1]
			}
			return m
		})
		if err != nil {
			return request.Item{}, err
		}
		if moved {
			back.Mentions++
		}
	}
	for key, v := range votes {
		switch n := len(v.Merged); {
		case n > 0 && v.Merged[n-1] == from:
			v.Merged = slices.Clone(v.Merged[:n-1])
			if err := x.s.remove(ctx, key); err != nil {
				return request.Item{}, err
			}
			if _, err := x.vote(ctx, from, v); err != nil {
				return request.Item{}, err
			}
			back.Votes++
		case slices.Contains(v.AlsoFrom, from):
			if _, err := x.s.update(ctx, key, func(cur inboxRecord, ok bool) (inboxRecord, error) {
				if !ok || cur.Vote == nil {
					return cur, errStop
				}
				have := *cur.Vote
				have.Vote.AlsoFrom = slices.DeleteFunc(slices.Clone(have.Vote.AlsoFrom), func(id int) bool { return id == from })
				return inboxRecord{Vote: &have}, nil
			}); err != nil && !errors.Is(err, errStop) {
				return request.Item{}, err
			}
			if _, err := x.vote(ctx, from, request.Vote{Platform: v.Platform, UserID: v.UserID, Name: v.Name, Time: v.Time}); err != nil {
				return request.Item{}, err
			}
			back.Votes++
		}
	}
	ch.Merge = back
	if err := x.recordMerge(ctx, from, into, ch, ch.To, 0); err != nil {
		return request.Item{}, err
	}
	return x.read(from)
}

// recordMerge writes a merge (or its undoing) into both items' changes:
// from gets status and duplicateOf, into keeps its status.
func (x *Inbox) recordMerge(ctx context.Context, from, into int, ch request.Change, status string, duplicateOf int) error {
	if err := x.changeItem(ctx, from, func(src *request.Item) error {
		src.Status, src.DuplicateOf, src.Updated = status, duplicateOf, ch.Time
		src.Changes = append(src.Changes, ch)
		return nil
	}); err != nil {
		return err
	}
	return x.changeItem(ctx, into, func(dst *request.Item) error {
		dst.Updated = ch.Time
		dst.Changes = append(dst.Changes, request.Change{From: dst.Status, To: dst.Status, By: ch.By, Time: ch.Time, Merge: ch.Merge})
		return nil
	})
}

// TakeNotice implements request.Store: a counter per channel and day,
// taken with compare-and-set.
func (x *Inbox) TakeNotice(ctx context.Context, platform, channel string, day time.Time, limit int) (bool, error) {
	key := "notice." + hashKey(platform, channel) + "." + day.UTC().Format("20060102")
	if r, ok := x.s.get(key); ok && r.Notices >= limit {
		return false, nil
	}
	_, err := x.s.update(ctx, key, func(cur inboxRecord, _ bool) (inboxRecord, error) {
		if cur.Notices >= limit {
			return cur, errStop
		}
		return inboxRecord{Notices: cur.Notices + 1}, nil
	})
	if errors.Is(err, errStop) {
		return false, nil
	}
	return err == nil, err
}

func optInKey(platform, userID string) string { return "optin." + hashKey(platform, userID) }

// SetOptIn implements request.Store.
func (x *Inbox) SetOptIn(ctx context.Context, platform, userID string, on bool, at time.Time) error {
	if platform == "" || userID == "" {
		return errors.New("cluster: opt-in: platform and user id are required")
	}
	key := optInKey(platform, userID)
	if !on {
		if _, ok, err := x.record(ctx, key); err != nil || !ok {
			return err
		}
		return x.s.remove(ctx, key)
	}
	_, err := x.s.update(ctx, key, func(inboxRecord, bool) (inboxRecord, error) {
		return inboxRecord{OptIn: &request.OptIn{Platform: platform, UserID: userID, Since: at}}, nil
	})
	return err
}

// OptedIn implements request.Store.
func (x *Inbox) OptedIn(_ context.Context, platform, userID string) (bool, error) {
	_, ok := x.s.get(optInKey(platform, userID))
	return ok, nil
}
