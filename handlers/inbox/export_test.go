package inbox

// Helpers the tests of this directory use and the product does not: they
// check from outside what the product writes (CSV exports, webhook
// signatures) and the similarity measure duplicate matching is built on.

import (
	"bufio"
	"encoding/csv"
	"fmt"
	"io"
	"strconv"
	"strings"
	"time"

	"github.com/einsatz/einsatz/bot/request"
)

// ReadCSV reads an export back: the item fields and the first request's
// text (as the only mention); votes by person are not in the export.
func ReadCSV(r io.Reader) ([]request.Item, error) {
	br := bufio.NewReader(r)
	if b, err := br.Peek(len(bom)); err == nil && string(b) == bom {
		_, _ = br.Discard(len(bom))
	}
	cr := csv.NewReader(br)
	rows, err := cr.ReadAll()
	if err != nil {
		return nil, fmt.Errorf("inbox: read CSV: %w", err)
	}
	if len(rows) == 0 || strings.Join(rows[0], ",") != strings.Join(CSVHeader, ",") {
		return nil, fmt.Errorf("inbox: read CSV: not an inbox export (header %v)", rows[:min(1, len(rows))])
	}
	var out []request.Item
	for _, row := range rows[1:] {
		it := request.Item{Title: row[1], Summary: row[2], Status: row[3]}
		var errs []error
		var err error
		if it.ID, err = strconv.Atoi(row[0]); err != nil {
			errs = append(errs, err)
		}
		if row[4] != "" {
			it.Tags = strings.Split(row[4], ";")
		}
		if it.VoteCount, err = strconv.Atoi(row[5]); err != nil {
			errs = append(errs, err)
		}
		if it.Created, err = time.Parse(time.RFC3339, row[10]); err != nil {
			errs = append(errs, err)
		}
		if it.Updated, err = time.Parse(time.RFC3339, row[11]); err != nil {
			errs = append(errs, err)
		}
		if row[12] != "" {
			it.DuplicateOf, _ = strconv.Atoi(row[12])
		}
		if row[13] != "" {
			it.Mentions = []request.Mention{{Text: row[13]}}
		}
		if len(errs) > 0 {
			return nil, fmt.Errorf("inbox: read CSV row %s: %v", row[0], errs[0])
		}
		out = append(out, it)
	}
	return out, nil
}

// Similarity compares two texts without corpus statistics (0…1).
func Similarity(a, b string) float64 { return similarity(Tokens(a), Tokens(b), nil, 0) }

// Match (for tests) finds the open item most like text: the best cosine of the text
// against the item's title and each of its mentions, with idf over every
// open item's texts. It returns nil when there is no open item. The
// service keeps the same index across requests instead (index.go).
func Match(items []request.Item, text string) (*request.Item, float64) {
	x := newIndex()
	at := map[int]int{}
	for i, it := range items {
		x.put(it)
		at[it.ID] = i
	}
	id, score := x.best(text)
	if score == 0 {
		return nil, 0
	}
	return &items[at[id]], score
}
