package inbox

import (
	"context"
	"errors"
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
	// Score is the best TF-IDF cosine (0…1) between a text of this item
	// and one of the other's (title, summary, mentions): the measure by
	// which a new request joins an open item.
	Score float64 `json:"score"`
	// Joins says the score reaches the inbox's similarity threshold: a
	// new request this alike would have joined the item by itself.
	Joins bool `json:"joins"`
}

// Likely duplicates: at most maxSuggestions items scoring at least
// minSuggestion; mentionsCompared bounds the texts of the item compared.
const (
	maxSuggestions   = 5
	minSuggestion    = 0.2
	mentionsCompared = 20
)

// Similar suggests the open items most like item id, best first: open
// items, because an item is merged into one that still collects requests.
// n ≤ 0 means the default (5).
func (s *Service) Similar(ctx context.Context, id, n int) ([]Suggestion, error) {
	if n <= 0 {
		n = maxSuggestions
	}
	it, err := s.o.Store.Item(ctx, id)
	if err != nil {
		return nil, err
	}
	if err := s.loadIndex(ctx); err != nil {
		return nil, err
	}
	texts := []string{it.Title, it.Summary}
	texts = append(texts, mentionTexts(it)[:min(len(it.Mentions), mentionsCompared)]...)
	best := map[int]float64{}
	for _, t := range texts {
		s.idx.scores(t, func(other int, score float64) {
			if other != id && score > best[other] {
				best[other] = score
			}
		})
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
	for _, other := range ids {
		if len(out) == n {
			break
		}
		o, err := s.o.Store.Item(ctx, other)
		if errors.Is(err, request.ErrNotFound) {
			continue
		}
		if err != nil {
			return nil, fmt.Errorf("inbox: read suggestion #%d: %w", other, err)
		}
		if !Open(o.Status) {
			continue
		}
		out = append(out, Suggestion{ID: o.ID, Title: o.Title, Status: o.Status, Votes: o.VoteCount, Mentions: len(o.Mentions),
			Score: best[other], Joins: best[other] >= s.o.Similar})
	}
	return out, nil
}
