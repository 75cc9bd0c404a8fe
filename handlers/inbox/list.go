package inbox

import (
	"bufio"
	"context"
	"encoding/csv"
	"encoding/json"
	"fmt"
	"io"
	"net/url"
	"sort"
	"strconv"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/einsatz/einsatz/bot/lang"
	"github.com/einsatz/einsatz/bot/request"
	"github.com/einsatz/einsatz/bot/sheet"
)

// Sort orders of the list.
const (
	SortVotes  = "votes"  // most votes first (default)
	SortNewest = "newest" // newest first
	SortRecent = "recent" // most votes in the last 7 days first
	// SortRelevance puts the best match of a search first (the default
	// when Q is set).
	SortRelevance = "relevance"
)

// maxQuery bounds a search query (runes).
const maxQuery = 200

// Filter selects and orders items for the list, the export and the CLI.
type Filter struct {
	Status   string    `json:"status,omitempty"` // a status, "open", or "" for all but not_request and maybe
	Tag      string    `json:"tag,omitempty"`
	Platform string    `json:"platform,omitempty"` // asked for on this platform
	Channel  string    `json:"channel,omitempty"`  // asked for in this channel
	Since    time.Time `json:"since,omitempty"`    // created at or after
	Until    time.Time `json:"until,omitempty"`    // created before
	Sort     string    `json:"sort,omitempty"`
	// Q narrows the list to the items having every word of it (search.go).
	Q string `json:"q,omitempty"`
}

// ParseFilter reads a filter from query parameters: status, tag, platform,
// channel, since and until (YYYY-MM-DD; until is inclusive), sort and q
// (search words).
func ParseFilter(q url.Values) (Filter, error) {
	f := Filter{Status: q.Get("status"), Tag: strings.ToLower(strings.TrimSpace(q.Get("tag"))), Platform: q.Get("platform"),
		Channel: q.Get("channel"), Sort: q.Get("sort"), Q: strings.Join(strings.Fields(q.Get("q")), " ")}
	if len([]rune(f.Q)) > maxQuery {
		return f, fmt.Errorf("inbox: search words: at most %d characters", maxQuery)
	}
	if f.Status != "" && f.Status != "open" && !ValidStatus(f.Status) {
		return f, fmt.Errorf("inbox: unknown status %q", f.Status)
	}
	switch f.Sort {
	case "", SortVotes, SortNewest, SortRecent, SortRelevance:
	default:
		return f, fmt.Errorf("inbox: unknown sort %q (votes, newest, recent or relevance)", f.Sort)
	}
	for _, d := range []struct {
		name string
		to   *time.Time
		add  int
	}{{"since", &f.Since, 0}, {"until", &f.Until, 1}} {
		v := strings.TrimSpace(q.Get(d.name))
		if v == "" {
			continue
		}
		t, err := time.Parse("2006-01-02", v)
		if err != nil {
			return f, fmt.Errorf("inbox: %s: want YYYY-MM-DD, got %q", d.name, v)
		}
		*d.to = t.AddDate(0, 0, d.add)
	}
	return f, nil
}

// Query is the filter as query parameters (the inverse of ParseFilter).
func (f Filter) Query() url.Values {
	q := url.Values{}
	set := func(k, v string) {
		if v != "" {
			q.Set(k, v)
		}
	}
	set("status", f.Status)
	set("tag", f.Tag)
	set("platform", f.Platform)
	set("channel", f.Channel)
	set("sort", f.Sort)
	set("q", f.Q)
	if !f.Since.IsZero() {
		q.Set("since", f.Since.Format("2006-01-02"))
	}
	if !f.Until.IsZero() {
		q.Set("until", f.Until.AddDate(0, 0, -1).Format("2006-01-02"))
	}
	return q
}

func (f Filter) match(it request.Item) bool {
	switch {
	// Items marked as not a request, and maybes not yet confirmed, leave
	// the lists; only asking for that status shows them.
	case f.Status == "" && (it.Status == request.StatusNotRequest || it.Status == request.StatusMaybe):
		return false
	case f.Status == "open" && !Open(it.Status):
		return false
	case f.Status != "" && f.Status != "open" && it.Status != f.Status:
		return false
	case f.Tag != "" && !contains(it.Tags, f.Tag):
		return false
	case !f.Since.IsZero() && it.Created.Before(f.Since):
		return false
	case !f.Until.IsZero() && !it.Created.Before(f.Until):
		return false
	}
	if f.Platform == "" && f.Channel == "" {
		return true
	}
	for _, m := range it.Mentions {
		if (f.Platform == "" || m.Platform == f.Platform) && (f.Channel == "" || m.Channel == f.Channel) {
			return true
		}
	}
	return false
}

// Apply filters and sorts items; now anchors "the last 7 days". It does
// not search: Service.List narrows the items by Q first.
func (f Filter) Apply(items []request.Item, now time.Time) []request.Item {
	return f.apply(items, now, nil)
}

// apply is Apply with the relevance of a search (nil: none).
func (f Filter) apply(items []request.Item, now time.Time, scores map[int]float64) []request.Item {
	var out []request.Item
	for _, it := range items {
		if f.match(it) {
			out = append(out, it)
		}
	}
	week := now.AddDate(0, 0, -7)
	sort.SliceStable(out, func(i, j int) bool {
		a, b := out[i], out[j]
		switch {
		case scores != nil && (f.Sort == SortRelevance || f.Sort == ""):
			if sa, sb := scores[a.ID], scores[b.ID]; sa != sb {
				return sa > sb
			}
		case f.Sort == SortNewest:
			if !a.Created.Equal(b.Created) {
				return a.Created.After(b.Created)
			}
			return a.ID > b.ID
		case f.Sort == SortRecent:
			if ra, rb := a.VotesSince(week), b.VotesSince(week); ra != rb {
				return ra > rb
			}
		}
		if a.VoteCount != b.VoteCount {
			return a.VoteCount > b.VoteCount
		}
		return a.ID < b.ID
	})
	return out
}

// List returns the items the filter selects, in its order (by relevance
// when it searches and names no sort).
func (s *Service) List(ctx context.Context, f Filter) ([]request.Item, error) {
	items, err := s.o.Store.Items(ctx)
	if err != nil {
		return nil, err
	}
	items, scores, err := s.searchItems(ctx, items, f.Q)
	if err != nil {
		return nil, err
	}
	return f.apply(items, s.o.Clock.Now(), scores), nil
}

// WriteList prints items as a table (the CLI's `inbox list`).
func WriteList(w io.Writer, items []request.Item, now time.Time) error {
	tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "ID\tSTATUS\tVOTES\t7D\tMENTIONS\tPLATFORMS\tTAGS\tCREATED\tTITLE")
	week := now.AddDate(0, 0, -7)
	for _, it := range items {
		tags := strings.Join(it.Tags, ",")
		if tags == "" {
			tags = "-"
		}
		title := it.Title
		if it.Status == request.StatusDuplicate && it.DuplicateOf > 0 {
			title += fmt.Sprintf(" (→ #%d)", it.DuplicateOf)
		}
		fmt.Fprintf(tw, "#%d\t%s\t%d\t%d\t%d\t%s\t%s\t%s\t%s\n", it.ID, it.Status, it.VoteCount, it.VotesSince(week), len(it.Mentions),
			strings.Join(Platforms(it), ","), tags, it.Created.UTC().Format("2006-01-02"), lang.Excerpt(title, 60))
	}
	return tw.Flush()
}

// WriteItem prints one item with its mentions (the CLI's `inbox show`).
func WriteItem(w io.Writer, it request.Item) error {
	fmt.Fprintf(w, "#%d %s\nStatus: %s", it.ID, it.Title, it.Status)
	if it.DuplicateOf > 0 {
		fmt.Fprintf(w, " (duplicate of #%d)", it.DuplicateOf)
	}
	fmt.Fprintf(w, "\nVotes: %d\nTags: %s\nCreated: %s\nUpdated: %s\n", it.VoteCount, strings.Join(it.Tags, ", "),
		it.Created.UTC().Format(time.RFC3339), it.Updated.UTC().Format(time.RFC3339))
	if it.Summary != "" {
		fmt.Fprintf(w, "Summary: %s\n", it.Summary)
	}
	fmt.Fprintf(w, "\nMentions (%d):\n", len(it.Mentions))
	for _, m := range it.Mentions {
		who := m.UserName
		if who == "" {
			who = m.UserID
		}
		fmt.Fprintf(w, "- %s %s/%s %s (%s, sentiment %.2f): %s", m.Time.UTC().Format("2006-01-02 15:04"), m.Platform, m.Channel, who,
			m.Source, m.Sentiment, lang.Excerpt(m.Text, 200))
		if m.Permalink != "" {
			fmt.Fprintf(w, " <%s>", m.Permalink)
		}
		fmt.Fprintln(w)
	}
	if len(it.Changes) > 0 {
		fmt.Fprintln(w, "\nHistory:")
		for _, c := range it.Changes {
			if c.Edit != nil {
				fmt.Fprintf(w, "- %s edited %s by %s\n", c.Time.UTC().Format("2006-01-02 15:04"), c.Edit.What(), c.By)
				continue
			}
			fmt.Fprintf(w, "- %s %s → %s by %s", c.Time.UTC().Format("2006-01-02 15:04"), c.From, c.To, c.By)
			if c.Note != "" {
				fmt.Fprintf(w, ": %s", c.Note)
			}
			fmt.Fprintln(w)
		}
	}
	return nil
}

// Platforms lists the platforms an item was asked for on.
func Platforms(it request.Item) []string {
	var out []string
	for _, m := range it.Mentions {
		if !contains(out, m.Platform) {
			out = append(out, m.Platform)
		}
	}
	sort.Strings(out)
	return out
}

// Channels lists the platform/channel pairs an item was asked for in.
func Channels(it request.Item) []string {
	var out []string
	for _, m := range it.Mentions {
		if c := m.Platform + "/" + m.Channel; !contains(out, c) {
			out = append(out, c)
		}
	}
	sort.Strings(out)
	return out
}

// CSVHeader names the export's columns.
var CSVHeader = []string{"id", "title", "summary", "status", "tags", "votes", "votes_7d", "mentions", "platforms", "channels",
	"created", "updated", "duplicate_of", "first_request", "permalinks"}

const bom = "\uFEFF"

// WriteCSV exports items, one row per item, as UTF-8 CSV with a byte order
// mark (so spreadsheets read umlauts right). Fields with commas, quotes or
// line breaks are quoted as RFC 4180 says; text a spreadsheet would run as
// a formula starts with a single quote (sheet.Text).
func WriteCSV(w io.Writer, items []request.Item, now time.Time) error {
	bw := bufio.NewWriter(w)
	if _, err := bw.WriteString(bom); err != nil {
		return err
	}
	cw := csv.NewWriter(bw)
	if err := cw.Write(CSVHeader); err != nil {
		return err
	}
	week := now.AddDate(0, 0, -7)
	for _, it := range items {
		first, links := "", []string{}
		for i, m := range it.Mentions {
			if i == 0 {
				first = m.Text
			}
			if m.Permalink != "" {
				links = append(links, m.Permalink)
			}
		}
		dup := ""
		if it.DuplicateOf > 0 {
			dup = strconv.Itoa(it.DuplicateOf)
		}
		// Text from chat goes through sheet.Text (no formulas); the numbers
		// and dates written here stay as they are.
		t := sheet.Text
		row := []string{strconv.Itoa(it.ID), t(it.Title), t(it.Summary), t(it.Status), t(strings.Join(it.Tags, ";")), strconv.Itoa(it.VoteCount),
			strconv.Itoa(it.VotesSince(week)), strconv.Itoa(len(it.Mentions)), t(strings.Join(Platforms(it), ";")), t(strings.Join(Channels(it), ";")),
			it.Created.UTC().Format(time.RFC3339), it.Updated.UTC().Format(time.RFC3339), dup, t(first), t(strings.Join(links, "\n"))}
		if err := cw.Write(row); err != nil {
			return err
		}
	}
	cw.Flush()
	if err := cw.Error(); err != nil {
		return err
	}
	return bw.Flush()
}

// WriteJSON exports items with every mention and vote.
func WriteJSON(w io.Writer, items []request.Item) error {
	if items == nil {
		items = []request.Item{}
	}
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	return enc.Encode(items)
}
