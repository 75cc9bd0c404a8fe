package inbox

import (
	"context"
	"fmt"
	"sort"

	"github.com/einsatz/einsatz/bot/request"
)

// Suggestion is an item that may ask for the same thing as another: a
// candidate to merge.
type Suggestion struct {
	ID       int    `json:"id"`
	Title    string `json:"title"`
	Status   string `json:"status"`
	Votes    int    `json:"votes"`
	Mentions int    `json:"mentions"`
	// Score is the TF-IDF cosine (0…1) of the two items' words (title,
	// summary, mentions) after English and German analysis, so word forms
	// meet ("exporting", "export"); idf over the open items.
	Score float64 `json:"score"`
}

// Likely duplicates: at most maxSuggestions items scoring at least
// minSuggestion; mentionsCompared bounds the mentions of an item compared.
const (
	maxSuggestions   = 5
	minSuggestion    = 0.15
	mentionsCompared = 20
)

// Similar suggests the open items most like item id, best first: open
// items, because an item is merged into one that still collects requests.
// n ≤ 0 means the default (5).
func (s *Service) Similar(ctx context.Context, id, n int) ([]Suggestion, error) {
	if n <= 0 {
		n = maxSuggestions
	}
	all, err := s.o.Store.Items(ctx)
	if err != nil {
		return nil, err
	}
	byID := map[int]request.Item{}
	for _, it := range all {
		byID[it.ID] = it
	}
	if _, ok := byID[id]; !ok {
		return nil, fmt.Errorf("%w: #%d", request.ErrNotFound, id)
	}
	x, err := s.searchIndex()
	if err != nil {
		return nil, err
	}
	best, err := x.similar(all, id)
	if err != nil {
		return nil, err
	}
	var ids []int
	for other, score := range best {
		if score >= minSuggestion {
			ids = append(ids, other)
		}
	}
	sort.Slice(ids, func(i, j int) bool {
		if best[ids[i]] != best[ids[j]] {
			return best[ids[i]] > best[ids[j]]
		}
		return ids[i] < ids[j]
	})
	var out []Suggestion
	for _, other := range ids[:min(len(ids), n)] {
		o := byID[other]
		out = append(out, Suggestion{ID: o.ID, Title: o.Title, Status: o.Status, Votes: o.VoteCount, Mentions: len(o.Mentions), Score: best[other]})
	}
	return out, nil
}
