package storage

// The research inbox's keys are listed in keys.go (inbox/).

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/dgraph-io/badger/v4"

	"github.com/einsatz/einsatz/bot/request"
)

// Inbox keeps the research inbox (inbox/) over the shared Store.
type Inbox struct{ s *Store }

// NewInbox returns the inbox store over s.
func NewInbox(s *Store) *Inbox { return &Inbox{s: s} }

func inboxID(id int) string { return fmt.Sprintf("%010d", id) }

func inboxItemKey(id int) []byte { return []byte(prefixInboxItem + inboxID(id)) }

func inboxMentionPrefix(id int) string { return prefixInboxMention + inboxID(id) + "/" }

func inboxVotePrefix(id int) string { return prefixInboxVote + inboxID(id) + "/" }

func inboxVoteKey(id int, platform, userID string) []byte {
	return []byte(inboxVotePrefix(id) + join(platform, userID))
}

func inboxOptInKey(platform, userID string) []byte {
	return []byte(prefixInboxOptIn + join(platform, userID))
}

func inboxMsgKey(m request.Mention) []byte {
	return []byte(prefixInboxMsg + join(m.Platform, m.Channel, m.MessageID))
}

// inboxGet reads a key into v; found is false when it is missing.
func inboxGet(txn *badger.Txn, key []byte, v any) (bool, error) {
	item, err := txn.Get(key)
	if errors.Is(err, badger.ErrKeyNotFound) {
		return false, nil
	}
	if err != nil {
		return false, err
	}
	return true, item.Value(func(b []byte) error { return json.Unmarshal(b, v) })
}

func inboxSet(txn *badger.Txn, key []byte, v any) error {
	b, err := json.Marshal(v)
	if err != nil {
		return err
	}
	return txn.Set(key, b)
}

func getInboxItem(txn *badger.Txn, id int) (request.Item, error) {
	var it request.Item
	found, err := inboxGet(txn, inboxItemKey(id), &it)
	if err != nil {
		return it, err
	}
	if !found {
		return it, fmt.Errorf("%w: #%d", request.ErrNotFound, id)
	}
	return it, nil
}

func putInboxItem(txn *badger.Txn, it request.Item) error {
	it.Mentions, it.Votes = nil, nil
	return inboxSet(txn, inboxItemKey(it.ID), it)
}

type inboxKeyed[T any] struct {
	key string
	val T
}

// inboxCollect reads every record under prefix, before any of them is changed.
func inboxCollect[T any](txn *badger.Txn, prefix string) ([]inboxKeyed[T], error) {
	var out []inboxKeyed[T]
	p := []byte(prefix)
	it := txn.NewIterator(badger.IteratorOptions{Prefix: p, PrefetchValues: true, PrefetchSize: 64})
	defer it.Close()
	for it.Rewind(); it.ValidForPrefix(p); it.Next() {
		var v T
		if err := it.Item().Value(func(b []byte) error { return json.Unmarshal(b, &v) }); err != nil {
			return nil, err
		}
		out = append(out, inboxKeyed[T]{string(it.Item().KeyCopy(nil)), v})
	}
	return out, nil
}

func (s *Store) putInboxMention(txn *badger.Txn, id int, m request.Mention) error {
	key := inboxMentionPrefix(id) + timeSeq(m.Time, &s.seq)
	if err := inboxSet(txn, []byte(key), m); err != nil {
		return err
	}
	if m.UserID != "" {
		if err := txn.Set(userIndexKey(m.Platform, m.UserID, key), nil); err != nil {
			return err
		}
	}
	return txn.Set(inboxMsgKey(m), []byte(strconv.Itoa(id)))
}

// putInboxVote records a vote unless the person voted for the item already.
func putInboxVote(txn *badger.Txn, id int, v request.Vote) (bool, error) {
	if v.UserID == "" {
		return false, nil
	}
	key := inboxVoteKey(id, v.Platform, v.UserID)
	if _, err := txn.Get(key); err == nil {
		return false, nil
	} else if !errors.Is(err, badger.ErrKeyNotFound) {
		return false, err
	}
	if err := inboxSet(txn, key, v); err != nil {
		return false, err
	}
	return true, txn.Set(userIndexKey(v.Platform, v.UserID, string(key)), nil)
}

// inboxFiledUnder returns the item a message was filed under (0: none).
func inboxFiledUnder(txn *badger.Txn, m request.Mention) (int, error) {
	item, err := txn.Get(inboxMsgKey(m))
	if errors.Is(err, badger.ErrKeyNotFound) {
		return 0, nil
	}
	if err != nil {
		return 0, err
	}
	var id int
	err = item.Value(func(b []byte) error {
		var err error
		id, err = strconv.Atoi(string(b))
		return err
	})
	return id, err
}

// Create numbers and stores a new item with its first mention and
// the author's vote, in one write. When the message is already in the
// inbox it writes nothing and returns that item.
func (in *Inbox) Create(ctx context.Context, it request.Item, first request.Mention, vote request.Vote) (request.Item, bool, error) {
	var id int
	created := false
	err := in.s.commit(ctx, func(txn *badger.Txn) error {
		existing, err := inboxFiledUnder(txn, first)
		if err != nil || existing > 0 {
			id, created = existing, false
			return err
		}
		last := 0
		if item, err := txn.Get([]byte(keyInboxSeq)); err == nil {
			if err := item.Value(func(b []byte) error { last, err = strconv.Atoi(string(b)); return err }); err != nil {
				return err
			}
		} else if !errors.Is(err, badger.ErrKeyNotFound) {
			return err
		}
		id, created = last+1, true
		it := it
		it.ID = id
		if err := in.s.putInboxMention(txn, id, first); err != nil {
			return err
		}
		voted, err := putInboxVote(txn, id, vote)
		if err != nil {
			return err
		}
		it.VoteCount = 0
		if voted {
			it.VoteCount = 1
		}
		if err := putInboxItem(txn, it); err != nil {
			return err
		}
		return txn.Set([]byte(keyInboxSeq), []byte(strconv.Itoa(id)))
	})
	if err != nil {
		return request.Item{}, false, fmt.Errorf("storage: new inbox item: %w", err)
	}
	out, err := in.Item(ctx, id)
	return out, created, err
}

// AddMention adds a mention to an item and the person's vote unless
// they voted already; nothing changes when the message is in the inbox.
func (in *Inbox) AddMention(ctx context.Context, id int, m request.Mention, vote request.Vote) (request.Item, bool, bool, error) {
	added, voted := false, false
	target := id
	err := in.s.commit(ctx, func(txn *badger.Txn) error {
		added, voted, target = false, false, id
		it, err := getInboxItem(txn, id)
		if err != nil {
			return err
		}
		existing, err := inboxFiledUnder(txn, m)
		if err != nil || existing > 0 {
			target = existing
			return err
		}
		if err := in.s.putInboxMention(txn, id, m); err != nil {
			return err
		}
		added = true
		if voted, err = putInboxVote(txn, id, vote); err != nil {
			return err
		}
		if voted {
			it.VoteCount++
		}
		if m.Time.After(it.Updated) {
			it.Updated = m.Time
		}
		return putInboxItem(txn, it)
	})
	if err != nil {
		return request.Item{}, false, false, fmt.Errorf("storage: add mention to inbox #%d: %w", id, err)
	}
	it, err := in.Item(ctx, target)
	return it, added, voted, err
}

// Vote counts a vote unless the person voted for the item already.
func (in *Inbox) Vote(ctx context.Context, id int, vote request.Vote) (request.Item, bool, error) {
	voted := false
	err := in.s.commit(ctx, func(txn *badger.Txn) error {
		voted = false
		it, err := getInboxItem(txn, id)
		if err != nil {
			return err
		}
		if voted, err = putInboxVote(txn, id, vote); err != nil || !voted {
			return err
		}
		it.VoteCount++
		return putInboxItem(txn, it)
	})
	if err != nil {
		return request.Item{}, false, fmt.Errorf("storage: vote for inbox #%d: %w", id, err)
	}
	it, err := in.Item(ctx, id)
	return it, voted, err
}

// Item returns an item with its mentions (oldest first) and votes.
func (in *Inbox) Item(_ context.Context, id int) (request.Item, error) {
	var it request.Item
	err := in.s.view(func(txn *badger.Txn) error {
		var err error
		if it, err = getInboxItem(txn, id); err != nil {
			return err
		}
		ms, err := inboxCollect[request.Mention](txn, inboxMentionPrefix(id))
		if err != nil {
			return err
		}
		for _, m := range ms {
			it.Mentions = append(it.Mentions, m.val)
		}
		vs, err := inboxCollect[request.Vote](txn, inboxVotePrefix(id))
		if err != nil {
			return err
		}
		for _, v := range vs {
			it.Votes = append(it.Votes, v.val)
		}
		sortInboxVotes(it.Votes)
		it.VoteCount = len(it.Votes)
		return nil
	})
	if err != nil {
		return request.Item{}, fmt.Errorf("storage: inbox #%d: %w", id, err)
	}
	return it, nil
}

func sortInboxVotes(vs []request.Vote) {
	sort.SliceStable(vs, func(i, j int) bool { return vs[i].Time.Before(vs[j].Time) })
}

// inboxIDOf reads the item number out of a mention or vote key.
func inboxIDOf(key, prefix string) int {
	part, _, _ := strings.Cut(strings.TrimPrefix(key, prefix), "/")
	id, _ := strconv.Atoi(part)
	return id
}

// Items returns every item with its mentions and votes, by number.
func (in *Inbox) Items(ctx context.Context) ([]request.Item, error) {
	var out []request.Item
	err := in.s.view(func(txn *badger.Txn) error {
		items, err := inboxCollect[request.Item](txn, prefixInboxItem)
		if err != nil {
			return err
		}
		byID := map[int]int{}
		for _, it := range items {
			byID[it.val.ID] = len(out)
			out = append(out, it.val)
		}
		ms, err := inboxCollect[request.Mention](txn, prefixInboxMention)
		if err != nil {
			return err
		}
		for _, m := range ms {
			if i, ok := byID[inboxIDOf(m.key, prefixInboxMention)]; ok {
				out[i].Mentions = append(out[i].Mentions, m.val)
			}
		}
		vs, err := inboxCollect[request.Vote](txn, prefixInboxVote)
		if err != nil {
			return err
		}
		for _, v := range vs {
			if i, ok := byID[inboxIDOf(v.key, prefixInboxVote)]; ok {
				out[i].Votes = append(out[i].Votes, v.val)
			}
		}
		return ctx.Err()
	})
	if err != nil {
		return nil, fmt.Errorf("storage: inbox items: %w", err)
	}
	for i := range out {
		sortInboxVotes(out[i].Votes)
		out[i].VoteCount = len(out[i].Votes) // the records are the truth (erasure may change them)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].ID < out[j].ID })
	return out, nil
}

// Update changes an item in one step; fn may refuse with an error.
func (in *Inbox) Update(ctx context.Context, id int, fn func(*request.Item) error) (request.Item, error) {
	err := in.s.commit(ctx, func(txn *badger.Txn) error {
		it, err := getInboxItem(txn, id)
		if err != nil {
			return err
		}
		if err := fn(&it); err != nil {
			return err
		}
		it.ID = id
		return putInboxItem(txn, it)
	})
	if err != nil {
		return request.Item{}, fmt.Errorf("storage: update inbox #%d: %w", id, err)
	}
	return in.Item(ctx, id)
}

// Merge moves from's mentions and votes to into in one write (a
// person who voted for both keeps one vote) and marks from a duplicate.
// Both items' histories record it: ch on from, and on into a change by the
// same person at the same time; both carry what moved (ch.Merge).
func (in *Inbox) Merge(ctx context.Context, from, into int, ch request.Change) (request.Item, error) {
	err := in.s.commit(ctx, func(txn *badger.Txn) error {
		src, err := getInboxItem(txn, from)
		if err != nil {
			return err
		}
		dst, err := getInboxItem(txn, into)
		if err != nil {
			return err
		}
		ms, err := inboxCollect[request.Mention](txn, inboxMentionPrefix(from))
		if err != nil {
			return err
		}
		vs, err := inboxCollect[request.Vote](txn, inboxVotePrefix(from))
		if err != nil {
			return err
		}
		for _, m := range ms {
			if err := txn.Delete([]byte(m.key)); err != nil {
				return err
			}
			if m.val.UserID != "" {
				if err := txn.Delete(userIndexKey(m.val.Platform, m.val.UserID, m.key)); err != nil {
					return err
				}
			}
			m.val.Merged = append(m.val.Merged, from)
			if err := in.s.putInboxMention(txn, into, m.val); err != nil {
				return err
			}
		}
		moved := 0
		for _, v := range vs {
			if err := txn.Delete([]byte(v.key)); err != nil {
				return err
			}
			if err := txn.Delete(userIndexKey(v.val.Platform, v.val.UserID, v.key)); err != nil {
				return err
			}
			v.val.Merged = append(v.val.Merged, from)
			voted, err := putInboxVote(txn, into, v.val)
			if err != nil {
				return err
			}
			if voted {
				dst.VoteCount++
				moved++
			} else if err := noteAlsoFrom(txn, into, v.val, from); err != nil {
				return err
			}
		}
		ch.Merge = &request.Merge{From: from, Into: into, Mentions: len(ms), Votes: moved}
		src.Status, src.DuplicateOf, src.VoteCount, src.Updated = request.StatusDuplicate, into, 0, ch.Time
		src.Changes = append(src.Changes, ch)
		dst.Updated = ch.Time
		dst.Changes = append(dst.Changes, request.Change{From: dst.Status, To: dst.Status, By: ch.By, Time: ch.Time, Merge: ch.Merge})
		if err := putInboxItem(txn, src); err != nil {
			return err
		}
		return putInboxItem(txn, dst)
	})
	if err != nil {
		return request.Item{}, fmt.Errorf("storage: merge inbox #%d into #%d: %w", from, into, err)
	}
	return in.Item(ctx, into)
}

// noteAlsoFrom marks the vote a person has on into as also standing for
// from (they had voted for both), so an undo gives from its vote back.
func noteAlsoFrom(txn *badger.Txn, into int, v request.Vote, from int) error {
	if v.UserID == "" {
		return nil
	}
	key := inboxVoteKey(into, v.Platform, v.UserID)
	var have request.Vote
	found, err := inboxGet(txn, key, &have)
	if err != nil || !found {
		return err
	}
	have.AlsoFrom = append(have.AlsoFrom, from)
	return inboxSet(txn, key, have)
}

// Unmerge undoes the merge of from into the item it is a duplicate of, in
// one write: the mentions and votes whose last merge was from go back, a
// person whose vote on into also stood for from gets a vote on from again,
// and from takes status ch.To. It refuses when from is no duplicate or its
// target was merged on since (undo that first).
func (in *Inbox) Unmerge(ctx context.Context, from int, ch request.Change) (request.Item, error) {
	into := 0
	err := in.s.commit(ctx, func(txn *badger.Txn) error {
		src, err := getInboxItem(txn, from)
		if err != nil {
			return err
		}
		if src.Status != request.StatusDuplicate || src.DuplicateOf == 0 {
			return fmt.Errorf("%w: #%d is not a merged duplicate", request.ErrNotMerged, from)
		}
		into = src.DuplicateOf
		dst, err := getInboxItem(txn, into)
		if err != nil {
			return err
		}
		if dst.Status == request.StatusDuplicate {
			return fmt.Errorf("%w: #%d was merged into #%d since; undo that first", request.ErrNotMerged, into, dst.DuplicateOf)
		}
		ms, err := inboxCollect[request.Mention](txn, inboxMentionPrefix(into))
		if err != nil {
			return err
		}
		vs, err := inboxCollect[request.Vote](txn, inboxVotePrefix(into))
		if err != nil {
			return err
		}
		back := &request.Merge{From: from, Into: into, Undone: true}
		for _, m := range ms {
			if n := len(m.val.Merged); n == 0 || m.val.Merged[n-1] != from {
				continue
			}
			if err := txn.Delete([]byte(m.key)); err != nil {
				return err
			}
			if m.val.UserID != "" {
				if err := txn.Delete(userIndexKey(m.val.Platform, m.val.UserID, m.key)); err != nil {
					return err
				}
			}
			m.val.Merged = m.val.Merged[:len(m.val.Merged)-1]
			if err := in.s.putInboxMention(txn, from, m.val); err != nil {
				return err
			}
			back.Mentions++
		}
		for _, v := range vs {
			switch n := len(v.val.Merged); {
			case n > 0 && v.val.Merged[n-1] == from:
				if err := txn.Delete([]byte(v.key)); err != nil {
					return err
				}
				if err := txn.Delete(userIndexKey(v.val.Platform, v.val.UserID, v.key)); err != nil {
					return err
				}
				v.val.Merged = v.val.Merged[:n-1]
				if _, err := putInboxVote(txn, from, v.val); err != nil {
					return err
				}
				dst.VoteCount--
				back.Votes++
			case slices.Contains(v.val.AlsoFrom, from):
				v.val.AlsoFrom = slices.DeleteFunc(v.val.AlsoFrom, func(id int) bool { return id == from })
				if err := inboxSet(txn, []byte(v.key), v.val); err != nil {
					return err
				}
				again := request.Vote{Platform: v.val.Platform, UserID: v.val.UserID, Name: v.val.Name, Time: v.val.Time}
				if _, err := putInboxVote(txn, from, again); err != nil {
					return err
				}
				back.Votes++
			}
		}
		ch.Merge = back
		src.Status, src.DuplicateOf, src.VoteCount, src.Updated = ch.To, 0, back.Votes, ch.Time
		src.Changes = append(src.Changes, ch)
		dst.Updated = ch.Time
		dst.Changes = append(dst.Changes, request.Change{From: dst.Status, To: dst.Status, By: ch.By, Time: ch.Time, Merge: back})
		if err := putInboxItem(txn, src); err != nil {
			return err
		}
		return putInboxItem(txn, dst)
	})
	if err != nil {
		return request.Item{}, fmt.Errorf("storage: undo the merge of inbox #%d: %w", from, err)
	}
	return in.Item(ctx, from)
}

// TakeNotice uses one of a channel's status posts for the day; it
// reports false once limit posts went out that day.
func (in *Inbox) TakeNotice(ctx context.Context, platform, channel string, day time.Time, limit int) (bool, error) {
	key := []byte(prefixInboxNotice + join(platform, channel, day.UTC().Format("20060102")))
	ok := false
	err := in.s.commit(ctx, func(txn *badger.Txn) error {
		ok = false
		n := 0
		item, err := txn.Get(key)
		switch {
		case err == nil:
			if err := item.Value(func(b []byte) error { n, err = strconv.Atoi(string(b)); return err }); err != nil {
				return err
			}
		case !errors.Is(err, badger.ErrKeyNotFound):
			return err
		}
		if n >= limit {
			return nil
		}
		ok = true
		return txn.SetEntry(badger.NewEntry(key, []byte(strconv.Itoa(n+1))).WithTTL(48 * time.Hour))
	})
	if err != nil {
		return false, fmt.Errorf("storage: inbox notice cap for %s/%s: %w", platform, channel, err)
	}
	return ok, nil
}

// SetOptIn stores (on) or deletes (off) a person's wish to get a
// direct message when an item they asked for changes status. The record
// is personal: it has a user index entry, so export shows it and erasure
// deletes it.
func (in *Inbox) SetOptIn(ctx context.Context, platform, userID string, on bool, at time.Time) error {
	if platform == "" || userID == "" {
		return errors.New("storage: inbox opt-in: platform and user id are required")
	}
	key := inboxOptInKey(platform, userID)
	err := in.s.commit(ctx, func(txn *badger.Txn) error {
		if !on {
			if err := txn.Delete(key); err != nil {
				return err
			}
			return txn.Delete(userIndexKey(platform, userID, string(key)))
		}
		if err := inboxSet(txn, key, request.OptIn{Platform: platform, UserID: userID, Since: at}); err != nil {
			return err
		}
		return txn.Set(userIndexKey(platform, userID, string(key)), nil)
	})
	if err != nil {
		return fmt.Errorf("storage: inbox opt-in for %s/%s: %w", platform, userID, err)
	}
	return nil
}

// OptedIn reports whether a person asked for direct messages about
// status changes.
func (in *Inbox) OptedIn(_ context.Context, platform, userID string) (bool, error) {
	found := false
	err := in.s.view(func(txn *badger.Txn) error {
		var o request.OptIn
		var err error
		found, err = inboxGet(txn, inboxOptInKey(platform, userID), &o)
		return err
	})
	if err != nil {
		return false, fmt.Errorf("storage: inbox opt-in of %s/%s: %w", platform, userID, err)
	}
	return found, nil
}

// anonymizeInboxRecord is the erasure rule for the inbox (record kind
// "inbox", an eraseRule): a vote keeps counting but no longer names the person; a
// mention (the person's words) and a DM opt-in are deleted like any other
// record.
func (s *Store) anonymizeInboxRecord(txn *badger.Txn, key, userID string) (bool, error) {
	if strings.HasPrefix(key, prefixInboxMention) {
		// The mention itself is deleted by the default rule; first take
		// its words out of the item's title and summary, which were made
		// from the first request.
		return false, s.retitleWithout(txn, key, userID)
	}
	if !strings.HasPrefix(key, prefixInboxVote) {
		return false, nil
	}
	var v request.Vote
	found, err := inboxGet(txn, []byte(key), &v)
	if err != nil || !found {
		return found, err
	}
	id := inboxIDOf(key, prefixInboxVote)
	v.UserID, v.Name = fmt.Sprintf("erased-%08x", s.seq.Add(1)), ""
	if err := txn.Delete([]byte(key)); err != nil {
		return false, err
	}
	return true, inboxSet(txn, inboxVoteKey(id, v.Platform, v.UserID), v)
}

var _ request.Store = (*Inbox)(nil)

// retitleWithout rewrites an item whose title or summary came from the
// mention at key: from another person's mention when there is one, else
// to a neutral title.
func (s *Store) retitleWithout(txn *badger.Txn, key, userID string) error {
	var m request.Mention
	found, err := inboxGet(txn, []byte(key), &m)
	if err != nil || !found {
		return err
	}
	id := inboxIDOf(key, prefixInboxMention)
	var it request.Item
	if found, err := inboxGet(txn, inboxItemKey(id), &it); err != nil || !found {
		return err
	}
	text := strings.Join(strings.Fields(m.Text), " ")
	if it.Title != request.Title(m.Text) && !strings.HasPrefix(text, strings.TrimSuffix(it.Summary, "…")) {
		return nil // titled from someone else's words, or by staff
	}
	others, err := inboxCollect[request.Mention](txn, inboxMentionPrefix(id))
	if err != nil {
		return err
	}
	it.Title, it.Summary = fmt.Sprintf("Request #%d (its first wording was erased on request)", id), ""
	for _, o := range others {
		if o.key != key && o.val.UserID != userID && strings.TrimSpace(o.val.Text) != "" {
			it.Title, it.Summary = request.Title(o.val.Text), request.Summary(o.val.Text)
			break
		}
	}
	return inboxSet(txn, inboxItemKey(id), it)
}
