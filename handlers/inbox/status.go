package inbox

import (
	"context"
	"fmt"
	"slices"
	"sort"
	"strings"
	"time"

	"github.com/einsatz/einsatz/bot"
	"github.com/einsatz/einsatz/bot/request"
)

// Get returns an item with its mentions and votes.
func (s *Service) Get(ctx context.Context, id int) (request.Item, error) {
	return s.o.Store.Item(ctx, id)
}

// SetStatus moves an item to a status with an optional public note, by a
// staff member. Every thread the request came from gets one post naming
// the status and the note and the people who asked there (within each
// channel's daily cap), every person who asked and opted in (/notify on)
// gets one direct message, and the webhooks hear of it.
func (s *Service) SetStatus(ctx context.Context, id int, status, note, by string) (request.Item, error) {
	status = strings.TrimSpace(status)
	note = strings.TrimSpace(note)
	if !ValidStatus(status) {
		return request.Item{}, fmt.Errorf("%w: unknown status %q (one of %s)", ErrBadStatus, status, strings.Join(request.Statuses, ", "))
	}
	if status == request.StatusDuplicate {
		return request.Item{}, fmt.Errorf("%w: mark a duplicate by merging it into the other item", ErrBadStatus)
	}
	if status == request.StatusMaybe {
		return request.Item{}, fmt.Errorf("%w: only the detector files a maybe", ErrBadStatus)
	}
	if status == request.StatusNotRequest {
		return request.Item{}, fmt.Errorf("%w: mark a false positive with \"not a request\", which tells nobody", ErrBadStatus)
	}
	now := s.o.Clock.Now()
	var change request.Change
	it, err := s.o.Store.Update(ctx, id, func(it *request.Item) error {
		if !CanMove(it.Status, status) {
			return fmt.Errorf("%w: #%d is %s and cannot become %s", ErrBadStatus, it.ID, it.Status, status)
		}
		change = request.Change{From: it.Status, To: status, Note: note, By: by, Time: now}
		it.Status, it.Updated = status, now
		it.Changes = append(it.Changes, change)
		return nil
	})
	if err != nil {
		return request.Item{}, err
	}
	s.indexPut(it)
	posted, skipped := s.announce(ctx, it, change)
	if posted > 0 || skipped > 0 {
		if it2, err := s.o.Store.Update(ctx, id, func(x *request.Item) error {
			if n := len(x.Changes); n > 0 {
				x.Changes[n-1].Posted, x.Changes[n-1].Skipped = posted, skipped
			}
			return nil
		}); err == nil {
			it = it2
		}
	}
	change.Posted, change.Skipped = posted, skipped
	s.directMessages(ctx, it, change)
	s.hook(EventStatus, it, nil, nil, &change)
	return it, nil
}

// SetTags replaces an item's tags (lower case, trimmed, unique).
func (s *Service) SetTags(ctx context.Context, id int, tags []string) (request.Item, error) {
	clean := NormalizeTags(tags)
	return s.o.Store.Update(ctx, id, func(it *request.Item) error {
		it.Tags, it.Updated = clean, s.o.Clock.Now()
		return nil
	})
}

// EditTags adds and removes tags in one step (each normalised as
// NormalizeTags does; a tag both added and removed is removed).
func (s *Service) EditTags(ctx context.Context, id int, add, remove []string) (request.Item, error) {
	add, remove = NormalizeTags(add), NormalizeTags(remove)
	return s.o.Store.Update(ctx, id, func(it *request.Item) error {
		var tags []string
		for _, t := range append(slices.Clone(it.Tags), add...) {
			if !slices.Contains(remove, t) {
				tags = append(tags, t)
			}
		}
		it.Tags, it.Updated = NormalizeTags(tags), s.o.Clock.Now()
		return nil
	})
}

// NormalizeTags trims, lower-cases and de-duplicates tags; commas inside
// one entry split it.
func NormalizeTags(tags []string) []string {
	seen := map[string]bool{}
	var out []string
	for _, t := range tags {
		for _, p := range strings.Split(t, ",") {
			p = strings.ToLower(strings.TrimSpace(p))
			if p != "" && !seen[p] {
				seen[p] = true
				out = append(out, p)
			}
		}
	}
	sort.Strings(out)
	return out
}

// Merge folds item from into item into: mentions and votes move (a person
// who voted for both keeps one vote) and from becomes a duplicate pointing
// at into. Nobody is notified; the webhooks hear a status change of from.
func (s *Service) Merge(ctx context.Context, from, into int, by string) (request.Item, error) {
	if from == into {
		return request.Item{}, ErrMergeSelf
	}
	target, err := s.o.Store.Item(ctx, into)
	if err != nil {
		return request.Item{}, err
	}
	if target.Status == request.StatusMaybe {
		return request.Item{}, fmt.Errorf("%w: #%d is a maybe; confirm it first", ErrBadStatus, into)
	}
	if target.Status == request.StatusDuplicate {
		return request.Item{}, fmt.Errorf("%w: #%d is a duplicate of #%d; merge into that one", ErrMergeClosed, into, target.DuplicateOf)
	}
	src, err := s.o.Store.Item(ctx, from)
	if err != nil {
		return request.Item{}, err
	}
	if src.Status == request.StatusDuplicate {
		return request.Item{}, fmt.Errorf("%w: #%d was merged already", ErrMergeClosed, from)
	}
	if src.Status == request.StatusMaybe {
		return request.Item{}, fmt.Errorf("%w: #%d is a maybe; confirm it first", ErrBadStatus, from)
	}
	ch := request.Change{From: src.Status, To: request.StatusDuplicate, Note: fmt.Sprintf("merged into #%d", into), By: by, Time: s.o.Clock.Now()}
	it, err := s.o.Store.Merge(ctx, from, into, ch)
	if err != nil {
		return request.Item{}, err
	}
	s.indexDrop(from)
	s.indexPut(it)
	if dup, err := s.o.Store.Item(ctx, from); err == nil {
		s.hook(EventStatus, dup, nil, nil, &ch)
	}
	return it, nil
}

// Unmerge undoes the merge of item from: the mentions and votes that
// came with it go back (a person who had voted for both items gets their
// vote on from back; requests filed on the other item since stay there),
// and from takes the status it had before. Nobody is told; the webhooks
// hear a status change of from. It returns from.
func (s *Service) Unmerge(ctx context.Context, from int, by string) (request.Item, error) {
	src, err := s.o.Store.Item(ctx, from)
	if err != nil {
		return request.Item{}, err
	}
	before := ""
	for _, c := range src.Changes {
		if c.Merge != nil && c.Merge.From == from && !c.Merge.Undone && c.To == request.StatusDuplicate {
			before = c.From
		}
	}
	if src.Status != request.StatusDuplicate || before == "" {
		return request.Item{}, fmt.Errorf("%w: #%d is not a merged duplicate", request.ErrNotMerged, from)
	}
	ch := request.Change{From: request.StatusDuplicate, To: before, Note: fmt.Sprintf("merge into #%d undone", src.DuplicateOf), By: by, Time: s.o.Clock.Now()}
	it, err := s.o.Store.Unmerge(ctx, from, ch)
	if err != nil {
		return request.Item{}, err
	}
	s.indexPut(it)
	if into, err := s.o.Store.Item(ctx, src.DuplicateOf); err == nil {
		s.indexPut(into)
	}
	s.hook(EventStatus, it, nil, nil, &ch)
	return it, nil
}

// announce posts the change once in every thread the item was asked for
// in, naming the people who asked there; it returns how many threads were
// told and how many were skipped because of the daily cap.
func (s *Service) announce(ctx context.Context, it request.Item, ch request.Change) (posted, skipped int) {
	if s.o.Poster == nil || s.o.DailyCapPerChannel < 0 {
		return 0, 0
	}
	type thread struct {
		ref   bot.ThreadRef
		lang  string
		names []string
	}
	var order []string
	threads := map[string]*thread{}
	for _, m := range it.Mentions {
		if m.Thread == "" {
			continue
		}
		ref := m.ThreadRef()
		t, ok := threads[ref.Key()]
		if !ok {
			t = &thread{ref: ref, lang: m.Lang}
			threads[ref.Key()] = t
			order = append(order, ref.Key())
		}
		name := m.UserName
		if name == "" {
			name = m.UserID
		}
		if name != "" && !contains(t.names, "@"+name) {
			t.names = append(t.names, "@"+name)
		}
	}
	day := s.o.Clock.Now().UTC().Truncate(24 * time.Hour)
	for _, key := range order {
		t := threads[key]
		owner, err := s.owner(ctx, t.ref)
		if err != nil {
			s.o.Logger.Error("inbox: owner of a thread to notify", "thread", key, "err", err)
			continue
		}
		if !owner.Bot() {
			skipped++
			continue // staff own the thread: the bot stays silent there
		}
		ok, err := s.o.Store.TakeNotice(ctx, t.ref.Platform, t.ref.ChannelID, day, s.o.DailyCapPerChannel)
		if err != nil {
			s.o.Logger.Error("inbox: daily cap", "thread", key, "err", err)
			continue
		}
		if !ok {
			skipped++
			s.o.Logger.Info("inbox: daily status post cap reached; thread not told", "item", it.ID, "platform", t.ref.Platform, "channel", t.ref.ChannelID)
			continue
		}
		if err := s.o.Poster.Post(ctx, t.ref, bot.Reply{Text: s.statusText(t.lang, it, ch, t.names)}); err != nil {
			s.o.Logger.Error("inbox: status post", "item", it.ID, "thread", key, "err", err)
			continue
		}
		posted++
	}
	return posted, skipped
}

func contains(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}

// statusText is the post in an original thread.
func (s *Service) statusText(lang string, it request.Item, ch request.Change, names []string) string {
	t := s.text(lang, "status_changed",
		"{id}", fmt.Sprint(it.ID), "{title}", it.Title, "{status}", s.text(lang, "status_"+ch.To),
		"{note}", ch.Note, "{mentions}", strings.Join(names, " "))
	return strings.Join(strings.Fields(t), " ")
}

// StatusLabel is a status as people read it, in a language.
func (s *Service) StatusLabel(lang, status string) string { return s.text(lang, "status_"+status) }
