package monitor

import (
	"context"
	"encoding/csv"
	"encoding/json"
	"fmt"
	"io"
	"sort"
	"strconv"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/einsatz/einsatz/bot"
	"github.com/einsatz/einsatz/bot/mood"
	"github.com/einsatz/einsatz/bot/sheet"
)

// Series is one channel's aggregates over time.
type Series struct {
	Channel mood.Channel  `json:"channel"`
	Buckets []mood.Bucket `json:"buckets"`
}

// Report reads the aggregates of one channel ("platform/id") or of all
// (""), by hour or day, for buckets starting in [since, until).
func Report(ctx context.Context, store mood.Store, channel, by string, since, until time.Time) ([]Series, error) {
	if by != mood.Hour && by != mood.Day {
		return nil, fmt.Errorf("monitor: --by must be %q or %q", mood.Hour, mood.Day)
	}
	channels, err := store.Channels(ctx)
	if err != nil {
		return nil, err
	}
	var out []Series
	for _, ch := range channels {
		if channel != "" && ch.String() != channel && ch.ID != channel {
			continue
		}
		buckets, err := store.Buckets(ctx, by, ch, mood.BucketStart(by, since), until)
		if err != nil {
			return nil, err
		}
		out = append(out, Series{Channel: ch, Buckets: buckets})
	}
	if channel != "" && len(out) == 0 {
		return nil, fmt.Errorf("monitor: no sentiment data for channel %q (channels are named platform/id)", channel)
	}
	return out, nil
}

// WriteReport writes series as "table", "csv" or "json".
func WriteReport(w io.Writer, format string, series []Series) error {
	switch format {
	case "json":
		enc := json.NewEncoder(w)
		enc.SetIndent("", "  ")
		return enc.Encode(series)
	case "csv":
		cw := csv.NewWriter(w)
		_ = cw.Write([]string{"platform", "channel", "start", "messages", "positive", "neutral", "negative", "negative_share", "mean_score"})
		for _, s := range series {
			for _, b := range s.Buckets {
				_ = cw.Write([]string{sheet.Text(s.Channel.Platform), sheet.Text(s.Channel.ID), b.Start.Format(time.RFC3339), strconv.Itoa(b.N),
					strconv.Itoa(b.Pos), strconv.Itoa(b.Neu), strconv.Itoa(b.Neg),
					strconv.FormatFloat(b.NegShare(), 'f', 3, 64), strconv.FormatFloat(b.Mean(), 'f', 3, 64)})
			}
		}
		cw.Flush()
		return cw.Error()
	case "table", "":
		tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', tabwriter.AlignRight)
		fmt.Fprintln(tw, "CHANNEL\tSTART\tMESSAGES\tPOS\tNEU\tNEG\tNEG %\tMEAN\t")
		for _, s := range series {
			for _, b := range s.Buckets {
				fmt.Fprintf(tw, "%s\t%s\t%d\t%d\t%d\t%d\t%.0f%%\t%+.2f\t\n", s.Channel, b.Start.Format("2006-01-02 15:04"), b.N, b.Pos, b.Neu, b.Neg, 100*b.NegShare(), b.Mean())
			}
		}
		return tw.Flush()
	}
	return fmt.Errorf("monitor: --format must be table, csv or json, not %q", format)
}

// ThreadSummary is a thread ranked by how negative it got.
type ThreadSummary struct {
	Channel   mood.Channel `json:"channel"`
	Thread    string       `json:"thread"`
	Messages  int          `json:"messages"`
	Negative  int          `json:"negative"`
	MinScore  float64      `json:"min_score"`
	Last      time.Time    `json:"last"`
	Excerpt   string       `json:"excerpt,omitempty"`
	Permalink string       `json:"permalink,omitempty"`
}

// WorstThreads ranks the threads of the channels in [since, until) by their
// most negative message, worst first, at most n.
func WorstThreads(ctx context.Context, store mood.Store, channels []mood.Channel, since, until time.Time, n int) ([]ThreadSummary, error) {
	byThread := map[string]*ThreadSummary{}
	for _, ch := range channels {
		rows, err := store.Rows(ctx, ch, since, until)
		if err != nil {
			return nil, err
		}
		for _, r := range rows {
			k := ch.String() + "\x00" + r.Thread
			t, ok := byThread[k]
			if !ok {
				t = &ThreadSummary{Channel: ch, Thread: r.Thread, MinScore: 1}
				byThread[k] = t
			}
			t.Messages++
			if r.Time.After(t.Last) {
				t.Last = r.Time
			}
			if r.Label == mood.Negative {
				t.Negative++
			}
			if r.Score < t.MinScore {
				t.MinScore, t.Excerpt, t.Permalink = r.Score, r.Excerpt, r.Permalink
			}
		}
	}
	var out []ThreadSummary
	for _, t := range byThread {
		if t.Negative > 0 {
			out = append(out, *t)
		}
	}
	sort.Slice(out, func(i, j int) bool {
		if out[i].MinScore != out[j].MinScore {
			return out[i].MinScore < out[j].MinScore
		}
		return strings.Compare(out[i].Thread, out[j].Thread) < 0
	})
	if len(out) > n {
		out = out[:n]
	}
	return out, nil
}

// Overview is the dashboard's sentiment view: every channel with data
// (for the filter), each shown channel's buckets, and the most negative
// threads of the shown channels.
type Overview struct {
	Channels []mood.Channel
	Series   []Series // shown channels with at least one bucket
	Worst    []ThreadSummary
}

// Dashboard reads the sentiment of one channel ("platform/id") or of all
// (""), by hour or day, over the days before now, and the 10 most negative
// threads in that time.
func Dashboard(ctx context.Context, store mood.Store, now time.Time, selected, by string, days int) (Overview, error) {
	channels, err := store.Channels(ctx)
	if err != nil {
		return Overview{}, err
	}
	since := now.AddDate(0, 0, -days)
	ov := Overview{Channels: channels}
	var shown []mood.Channel
	for _, ch := range channels {
		if selected != "" && ch.String() != selected {
			continue
		}
		shown = append(shown, ch)
		buckets, err := store.Buckets(ctx, by, ch, mood.BucketStart(by, since), now.Add(time.Hour))
		if err != nil {
			return Overview{}, err
		}
		if len(buckets) > 0 {
			ov.Series = append(ov.Series, Series{Channel: ch, Buckets: buckets})
		}
	}
	ov.Worst, err = WorstThreads(ctx, store, shown, since, now.Add(time.Second), 10)
	if err != nil {
		return Overview{}, err
	}
	return ov, nil
}

// ParseSince reads --since; empty means the last 14 days.
func ParseSince(s string, now time.Time) (time.Time, error) {
	return bot.ParseSince(s, now, 14*24*time.Hour)
}
