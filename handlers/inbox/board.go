package inbox

import (
	"context"
	"fmt"
	"sort"
	"strings"

	"github.com/einsatz/einsatz/bot/request"
)

// maxPublicText bounds the public description of a roadmap item.
const maxPublicText = 600

// BoardStatuses are the statuses the public roadmap shows, in its order;
// a new item shows as under review. Declined, duplicate, not-a-request and
// maybe items stay off the board even when marked public.
var BoardStatuses = []string{request.StatusUnderReview, request.StatusPlanned, request.StatusInProgress, request.StatusShipped}

// BoardStatus is the column an item takes on the public roadmap ("" for
// none).
func BoardStatus(status string) string {
	switch status {
	case request.StatusNew, request.StatusUnderReview:
		return request.StatusUnderReview
	case request.StatusPlanned, request.StatusInProgress, request.StatusShipped:
		return status
	}
	return ""
}

// SetPublic puts an item on the public roadmap (on) or takes it off.
// text, when not nil, replaces the public description (staff write it
// for everyone; "" clears it). The history records the change.
func (s *Service) SetPublic(ctx context.Context, id int, on bool, text *string, by string) (request.Item, error) {
	var desc string
	if text != nil {
		desc = strings.TrimSpace(*text)
		if n := len([]rune(desc)); n > maxPublicText {
			return request.Item{}, fmt.Errorf("%w: the public description has %d characters, at most %d", ErrBadEdit, n, maxPublicText)
		}
	}
	now := s.o.Clock.Now()
	return s.o.Store.Update(ctx, id, func(it *request.Item) error {
		if on && BoardStatus(it.Status) == "" {
			return fmt.Errorf("%w: a %s item cannot go on the public roadmap", ErrBadEdit, strings.ReplaceAll(it.Status, "_", " "))
		}
		changed := it.Public != on
		if text != nil && desc != it.PublicText {
			it.PublicText, changed = desc, true
		}
		it.Public = on
		if changed {
			note := "taken off the public roadmap"
			if on {
				note = "shown on the public roadmap"
			}
			it.Updated = now
			it.Changes = append(it.Changes, request.Change{From: it.Status, To: it.Status, Note: note, By: by, Time: now})
		}
		return nil
	})
}

// Board returns the items on the public roadmap: marked public and in a
// board status, most votes first (then by number).
func (s *Service) Board(ctx context.Context) ([]request.Item, error) {
	items, err := s.o.Store.Items(ctx)
	if err != nil {
		return nil, err
	}
	var out []request.Item
	for _, it := range items {
		if it.Public && BoardStatus(it.Status) != "" {
			out = append(out, it)
		}
	}
	sort.SliceStable(out, func(i, j int) bool { return out[i].VoteCount > out[j].VoteCount })
	return out, nil
}

// BoardVote counts a vote from the public roadmap: only for an item on
// the board and not shipped (else ErrNotFound, as for an unknown item).
// A person who voted in the community already (same platform and user id)
// is not counted twice.
func (s *Service) BoardVote(ctx context.Context, id int, v request.Vote) (request.Item, bool, error) {
	it, err := s.o.Store.Item(ctx, id)
	if err != nil {
		return request.Item{}, false, err
	}
	if !it.Public || BoardStatus(it.Status) == "" || it.Status == request.StatusShipped {
		return request.Item{}, false, fmt.Errorf("%w: #%d is not open for votes on the roadmap", request.ErrNotFound, id)
	}
	if v.Time.IsZero() {
		v.Time = s.o.Clock.Now()
	}
	return s.Vote(ctx, id, v)
}
