// Package requesttest checks a request.Store: Run is the conformance
// suite every implementation passes (storage.Inbox and Mem), and Mem is
// the in-memory store handler tests use instead of a database.
package requesttest

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"slices"
	"sync"
	"time"

	"github.com/einsatz/einsatz/bot/request"
)

// Mem is a request.Store in memory, safe for concurrent use.
type Mem struct {
	mu       sync.Mutex
	last     int
	seq      int
	items    map[int]request.Item            // without mentions and votes
	mentions map[int][]mention               // by item
	votes    map[int]map[string]request.Vote // by item, then platform/user
	msgs     map[string]int                  // platform/channel/message → item
	notices  map[string]int                  // platform/channel/day → posts
	optIns   map[string]request.OptIn        // platform/user
}

type mention struct {
	m   request.Mention
	seq int // mentions of the same time keep their order of writing
}

// NewMem returns an empty store.
func NewMem() *Mem {
	return &Mem{items: map[int]request.Item{}, mentions: map[int][]mention{}, votes: map[int]map[string]request.Vote{},
		msgs: map[string]int{}, notices: map[string]int{}, optIns: map[string]request.OptIn{}}
}

var _ request.Store = (*Mem)(nil)

func msgKey(m request.Mention) string    { return m.Platform + "\x00" + m.Channel + "\x00" + m.MessageID }
func who(platform, userID string) string { return platform + "\x00" + userID }

func notFound(id int) error { return fmt.Errorf("%w: #%d", request.ErrNotFound, id) }

func (s *Mem) addMention(id int, m request.Mention) {
	s.seq++
	s.mentions[id] = append(s.mentions[id], mention{m, s.seq})
	s.msgs[msgKey(m)] = id
}

func (s *Mem) addVote(id int, v request.Vote) bool {
	if v.UserID == "" {
		return false
	}
	if s.votes[id] == nil {
		s.votes[id] = map[string]request.Vote{}
	}
	if _, ok := s.votes[id][who(v.Platform, v.UserID)]; ok {
		return false
	}
	s.votes[id][who(v.Platform, v.UserID)] = v
	return true
}

// read returns an item with its mentions (oldest first) and votes (by
// time); the caller holds mu.
func (s *Mem) read(id int) (request.Item, error) {
	it, ok := s.items[id]
	if !ok {
		return request.Item{}, notFound(id)
	}
	ms := slices.Clone(s.mentions[id])
	slices.SortStableFunc(ms, func(a, b mention) int {
		return cmp.Or(a.m.Time.Compare(b.m.Time), cmp.Compare(a.seq, b.seq))
	})
	it.Mentions = nil
	for _, m := range ms {
		it.Mentions = append(it.Mentions, m.m)
	}
	keys := make([]string, 0, len(s.votes[id]))
	for k := range s.votes[id] {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	it.Votes = nil
	for _, k := range keys {
		it.Votes = append(it.Votes, s.votes[id][k])
	}
	slices.SortStableFunc(it.Votes, func(a, b request.Vote) int { return a.Time.Compare(b.Time) })
	it.VoteCount = len(it.Votes)
	it.Tags, it.Changes = slices.Clone(it.Tags), slices.Clone(it.Changes)
	return it, nil
}

// Create implements request.Store.
func (s *Mem) Create(_ context.Context, it request.Item, first request.Mention, vote request.Vote) (request.Item, bool, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if id, ok := s.msgs[msgKey(first)]; ok {
		out, err := s.read(id)
		return out, false, err
	}
	s.last++
	it.ID, it.Mentions, it.Votes = s.last, nil, nil
	it.Tags, it.Changes = slices.Clone(it.Tags), slices.Clone(it.Changes)
	s.items[it.ID] = it
	s.addMention(it.ID, first)
	s.addVote(it.ID, vote)
	out, err := s.read(it.ID)
	return out, true, err
}

// AddMention implements request.Store.
func (s *Mem) AddMention(_ context.Context, id int, m request.Mention, vote request.Vote) (request.Item, bool, bool, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	it, ok := s.items[id]
	if !ok {
		return request.Item{}, false, false, notFound(id)
	}
	if filed, ok := s.msgs[msgKey(m)]; ok {
		out, err := s.read(filed)
		return out, false, false, err
	}
	s.addMention(id, m)
	voted := s.addVote(id, vote)
	if m.Time.After(it.Updated) {
		it.Updated = m.Time
	}
	s.items[id] = it
	out, err := s.read(id)
	return out, true, voted, err
}

// Vote implements request.Store.
func (s *Mem) Vote(_ context.Context, id int, vote request.Vote) (request.Item, bool, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if _, ok := s.items[id]; !ok {
		return request.Item{}, false, notFound(id)
	}
	voted := s.addVote(id, vote)
	out, err := s.read(id)
	return out, voted, err
}

// Item implements request.Store.
func (s *Mem) Item(_ context.Context, id int) (request.Item, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.read(id)
}

// Items implements request.Store.
func (s *Mem) Items(ctx context.Context) ([]request.Item, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	out := make([]request.Item, 0, len(s.items))
	for id := range s.items {
		it, err := s.read(id)
		if err != nil {
			return nil, err
		}
		out = append(out, it)
	}
	slices.SortFunc(out, func(a, b request.Item) int { return cmp.Compare(a.ID, b.ID) })
	return out, ctx.Err()
}

// Update implements request.Store.
func (s *Mem) Update(_ context.Context, id int, fn func(*request.Item) error) (request.Item, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	it, ok := s.items[id]
	if !ok {
		return request.Item{}, notFound(id)
	}
	// fn sees the item record as stored: without mentions and votes.
	it.Tags, it.Changes, it.VoteCount = slices.Clone(it.Tags), slices.Clone(it.Changes), len(s.votes[id])
	if err := fn(&it); err != nil {
		return request.Item{}, fmt.Errorf("requesttest: update #%d: %w", id, err)
	}
	it.ID, it.Mentions, it.Votes = id, nil, nil
	it.Tags, it.Changes = slices.Clone(it.Tags), slices.Clone(it.Changes)
	s.items[id] = it
	return s.read(id)
}

// Merge implements request.Store.
func (s *Mem) Merge(_ context.Context, from, into int, ch request.Change) (request.Item, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	src, ok := s.items[from]
	if !ok {
		return request.Item{}, notFound(from)
	}
	dst, ok := s.items[into]
	if !ok {
		return request.Item{}, notFound(into)
	}
	merge := &request.Merge{From: from, Into: into, Mentions: len(s.mentions[from])}
	for _, m := range s.mentions[from] {
		m.m.Merged = append(slices.Clone(m.m.Merged), from)
		s.addMention(into, m.m)
	}
	delete(s.mentions, from)
	for _, v := range s.votes[from] {
		v.Merged = append(slices.Clone(v.Merged), from)
		if s.addVote(into, v) {
			merge.Votes++
		} else if have, ok := s.votes[into][who(v.Platform, v.UserID)]; ok {
			have.AlsoFrom = append(slices.Clone(have.AlsoFrom), from)
			s.votes[into][who(v.Platform, v.UserID)] = have
		}
	}
	delete(s.votes, from)
	ch.Merge = merge
	src.Status, src.DuplicateOf, src.Updated = request.StatusDuplicate, into, ch.Time
	src.Changes = append(slices.Clone(src.Changes), ch)
	dst.Updated = ch.Time
	dst.Changes = append(slices.Clone(dst.Changes), request.Change{From: dst.Status, To: dst.Status, By: ch.By, Time: ch.Time, Merge: merge})
	s.items[from], s.items[into] = src, dst
	return s.read(into)
}

// Unmerge implements request.Store.
func (s *Mem) Unmerge(_ context.Context, from int, ch request.Change) (request.Item, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	src, ok := s.items[from]
	if !ok {
		return request.Item{}, notFound(from)
	}
	if src.Status != request.StatusDuplicate || src.DuplicateOf == 0 {
		return request.Item{}, fmt.Errorf("%w: #%d is not a merged duplicate", request.ErrNotMerged, from)
	}
	into := src.DuplicateOf
	dst, ok := s.items[into]
	if !ok {
		return request.Item{}, notFound(into)
	}
	if dst.Status == request.StatusDuplicate {
		return request.Item{}, fmt.Errorf("%w: #%d was merged into #%d since", request.ErrNotMerged, into, dst.DuplicateOf)
	}
	back := &request.Merge{From: from, Into: into, Undone: true}
	var keep []mention
	for _, m := range s.mentions[into] {
		if n := len(m.m.Merged); n > 0 && m.m.Merged[n-1] == from {
			m.m.Merged = slices.Clone(m.m.Merged[:n-1])
			s.addMention(from, m.m)
			back.Mentions++
			continue
		}
		keep = append(keep, m)
	}
	s.mentions[into] = keep
	for k, v := range s.votes[into] {
		switch n := len(v.Merged); {
		case n > 0 && v.Merged[n-1] == from:
			delete(s.votes[into], k)
			v.Merged = slices.Clone(v.Merged[:n-1])
			s.addVote(from, v)
			back.Votes++
		case slices.Contains(v.AlsoFrom, from):
			v.AlsoFrom = slices.DeleteFunc(slices.Clone(v.AlsoFrom), func(id int) bool { return id == from })
			s.votes[into][k] = v
			s.addVote(from, request.Vote{Platform: v.Platform, UserID: v.UserID, Name: v.Name, Time: v.Time})
			back.Votes++
		}
	}
	ch.Merge = back
	src.Status, src.DuplicateOf, src.Updated = ch.To, 0, ch.Time
	src.Changes = append(slices.Clone(src.Changes), ch)
	dst.Updated = ch.Time
	dst.Changes = append(slices.Clone(dst.Changes), request.Change{From: dst.Status, To: dst.Status, By: ch.By, Time: ch.Time, Merge: back})
	s.items[from], s.items[into] = src, dst
	return s.read(from)
}

// TakeNotice implements request.Store.
func (s *Mem) TakeNotice(_ context.Context, platform, channel string, day time.Time, limit int) (bool, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	key := platform + "\x00" + channel + "\x00" + day.UTC().Format("20060102")
	if s.notices[key] >= limit {
		return false, nil
	}
	s.notices[key]++
	return true, nil
}

// SetOptIn implements request.Store.
func (s *Mem) SetOptIn(_ context.Context, platform, userID string, on bool, at time.Time) error {
	if platform == "" || userID == "" {
		return errors.New("requesttest: opt-in: platform and user id are required")
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if !on {
		delete(s.optIns, who(platform, userID))
		return nil
	}
	s.optIns[who(platform, userID)] = request.OptIn{Platform: platform, UserID: userID, Since: at}
	return nil
}

// OptedIn implements request.Store.
func (s *Mem) OptedIn(_ context.Context, platform, userID string) (bool, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	_, ok := s.optIns[who(platform, userID)]
	return ok, nil
}
