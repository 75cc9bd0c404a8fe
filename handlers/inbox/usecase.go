package inbox

import (
	"context"
	"time"

	"github.com/einsatz/einsatz/bot/request"
)

// Overview is what the dashboard's list of requests shows: the items the
// filter selects, in its order, and every platform any item came from
// (for the filter's choices).
type Overview struct {
	Items     []request.Item
	Platforms []string
	Now       time.Time
	Maybe     int      // borderline requests waiting for staff to confirm
	Tags      []string // every tag of an item in the lists, for the filter's choices
}

// Overview lists the items f selects and the platforms of all items.
func (s *Service) Overview(ctx context.Context, f Filter) (Overview, error) {
	all, err := s.o.Store.Items(ctx)
	if err != nil {
		return Overview{}, err
	}
	now := s.o.Clock.Now()
	var platforms []string
	maybe := 0
	var tags []string
	for _, it := range all {
		if it.Status == request.StatusMaybe {
			maybe++
		}
		for _, t := range it.Tags {
			if !contains(tags, t) {
				tags = append(tags, t)
			}
		}
		for _, p := range Platforms(it) {
			if !contains(platforms, p) {
				platforms = append(platforms, p)
			}
		}
	}
	found, scores, err := s.searchItems(ctx, all, f.Q)
	if err != nil {
		return Overview{}, err
	}
	return Overview{Items: f.apply(found, now, scores), Platforms: platforms, Now: now, Maybe: maybe, Tags: NormalizeTags(tags)}, nil
}

// Now is the inbox's clock (vote windows and export stamps go by it).
func (s *Service) Now() time.Time { return s.o.Clock.Now() }

// NextStatuses are the statuses an item in status may move to, in the
// order of Statuses.
func NextStatuses(status string) []string {
	var next []string
	for _, st := range request.Statuses {
		if CanMove(status, st) {
			next = append(next, st)
		}
	}
	return next
}

// StatusRequest is the body of POST /api/admin/inbox/{id}/status.
type StatusRequest struct {
	Status string `json:"status"`
	Note   string `json:"note,omitempty"`
}

// MergeRequest is the body of POST /api/admin/inbox/merge.
type MergeRequest struct {
	From int `json:"from"`
	Into int `json:"into"`
}

// TagsRequest is the body of POST /api/admin/inbox/{id}/tags: Tags
// replaces the item's tags; without it Add and Remove change them.
type TagsRequest struct {
	Tags   []string `json:"tags,omitempty"`
	Add    []string `json:"add,omitempty"`
	Remove []string `json:"remove,omitempty"`
}
