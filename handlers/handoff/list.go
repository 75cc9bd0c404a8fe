package handoff

import (
	"context"
	"fmt"
	"io"
	"sort"
	"text/tabwriter"
	"time"

	"github.com/einsatz/einsatz/bot/escalation"
)

// Lister reads every escalation, newest first; Store includes it.
type Lister interface {
	Escalations(ctx context.Context) ([]escalation.Escalation, error)
}

// List returns the escalations, newest first; only open ones (open,
// claimed, answered) when open.
func List(ctx context.Context, store Lister, open bool) ([]escalation.Escalation, error) {
	all, err := store.Escalations(ctx)
	if err != nil {
		return nil, err
	}
	if !open {
		return all, nil
	}
	var out []escalation.Escalation
	for _, e := range all {
		if e.Open() {
			out = append(out, e)
		}
	}
	return out, nil
}

// WriteList prints escalations as a table.
func WriteList(w io.Writer, list []escalation.Escalation) error {
	tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "CREATED\tSTATUS\tTHREAD\tUSER\tREASON\tSTAFF\tFIRST RESPONSE")
	for _, e := range list {
		resp := "-"
		if d := e.ResponseTime(); d > 0 {
			resp = d.Round(time.Second).String()
		}
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%s\t%s\n", e.Created.Format("2006-01-02 15:04"), e.Status, e.Thread.Key(),
			e.User.Name, e.Reason, e.ClaimedBy, resp)
	}
	return tw.Flush()
}

// Board is the escalations grouped by state, with the median time to the
// first staff response ("" when none was answered yet): the dashboard's
// escalations page.
type Board struct {
	Open, Claimed, Closed []escalation.Escalation
	Median                string
}

// Overview groups every escalation by state.
func Overview(ctx context.Context, store Lister) (Board, error) {
	all, err := store.Escalations(ctx)
	if err != nil {
		return Board{}, err
	}
	var b Board
	var times []time.Duration
	for _, e := range all {
		switch e.Status {
		case escalation.StatusOpen:
			b.Open = append(b.Open, e)
		case escalation.StatusClaimed, escalation.StatusAnswered:
			b.Claimed = append(b.Claimed, e)
		default:
			b.Closed = append(b.Closed, e)
		}
		if d := e.ResponseTime(); d > 0 {
			times = append(times, d)
		}
	}
	if len(times) > 0 {
		sort.Slice(times, func(i, j int) bool { return times[i] < times[j] })
		b.Median = times[len(times)/2].Round(time.Second).String()
	}
	return b, nil
}
