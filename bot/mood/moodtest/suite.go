package moodtest

import (
	"context"
	"fmt"
	"math"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/einsatz/einsatz/bot/mood"
)

// Run checks that the stores newStore makes (a fresh, empty one per call)
// behave as mood.Store says.
//
// Only a negative row is promised to be readable when Log returns, so each
// run of writes below ends with a negative row (or another durable write)
// before it reads.
func Run(t *testing.T, newStore func(t *testing.T) mood.Store) {
	// Noon (UTC) two days ago: inside any retention, and the day's buckets
	// hold only what a subtest writes.
	t0 := mood.BucketStart(mood.Day, time.Now()).Add(-2*24*time.Hour + 12*time.Hour)
	general := mood.Channel{Platform: "discord", ID: "general"}
	desk := mood.Channel{Platform: "slack", ID: "help, \"desk\"/2"}
	score := map[string]float64{mood.Positive: 0.6, mood.Neutral: 0, mood.Negative: -0.4}
	row := func(ch mood.Channel, id, label string, at time.Time) mood.Row {
		r := mood.Row{Platform: ch.Platform, Channel: ch.ID, Thread: "t-" + id, User: "u-" + id, MessageID: id, Time: at,
			Label: label, Score: score[label], Lang: "en", Permalink: "https://example.org/" + id}
		if label == mood.Negative {
			r.Excerpt = "bad " + id
		}
		return r
	}
	log := func(t *testing.T, s mood.Store, rows ...mood.Row) {
		t.Helper()
		for _, r := range rows {
			if err := s.Log(context.Background(), r, "u-"+r.MessageID); err != nil {
				t.Fatal(err)
			}
		}
	}
	ids := func(rows []mood.Row) string {
		var out []string
		for _, r := range rows {
			out = append(out, r.MessageID)
		}
		return strings.Join(out, " ")
	}

	t.Run("RowsAndBuckets", func(t *testing.T) {
		s, ctx := newStore(t), context.Background()
		// 12:00 good, 12:25 bad, 12:50 meh | 13:15 good, 13:40 bad | 14:05 bad;
		// written out of time order, as an import may.
		log(t, s,
			row(general, "4", mood.Negative, t0.Add(100*time.Minute)),
			row(general, "0", mood.Positive, t0),
			row(general, "2", mood.Neutral, t0.Add(50*time.Minute)),
			row(general, "3", mood.Positive, t0.Add(75*time.Minute)),
			row(desk, "x", mood.Positive, t0.Add(10*time.Minute)),
			row(general, "1", mood.Negative, t0.Add(25*time.Minute)),
			row(general, "5", mood.Negative, t0.Add(125*time.Minute)),
		)
		rows, err := s.Rows(ctx, general, t0, t0.Add(time.Hour))
		if err != nil || ids(rows) != "0 1 2" {
			t.Fatalf("rows of the first hour = %q, %v; want 0 1 2 (in time order, one channel)", ids(rows), err)
		}
		if got, want := rows[1], row(general, "1", mood.Negative, t0.Add(25*time.Minute)); got.Platform != want.Platform || got.Channel != want.Channel ||
			got.Thread != want.Thread || got.User != want.User || !got.Time.Equal(want.Time) || got.Label != want.Label || got.Score != want.Score ||
			got.Lang != want.Lang || got.Permalink != want.Permalink || got.Excerpt != want.Excerpt {
			t.Fatalf("row = %+v, want %+v", got, want)
		}
		// since is inclusive, until exclusive.
		if rows, _ := s.Rows(ctx, general, t0.Add(25*time.Minute), t0.Add(75*time.Minute)); ids(rows) != "1 2" {
			t.Fatalf("rows in [12:25, 13:15) = %q, want 1 2", ids(rows))
		}
		if rows, _ := s.Rows(ctx, mood.Channel{Platform: "discord", ID: "other"}, t0, t0.Add(24*time.Hour)); len(rows) != 0 {
			t.Fatalf("rows of a channel without data: %q", ids(rows))
		}

		hours, err := s.Buckets(ctx, mood.Hour, general, t0, t0.Add(24*time.Hour))
		if err != nil {
			t.Fatal(err)
		}
		var got []string
		for _, h := range hours {
			got = append(got, fmt.Sprintf("%s:%d:%d/%d/%d", h.Start.UTC().Format("15"), h.N, h.Pos, h.Neu, h.Neg))
		}
		// hour:n:pos/neu/neg
		if want := "12:3:1/1/1 13:2:1/0/1 14:1:0/0/1"; strings.Join(got, " ") != want {
			t.Fatalf("hourly buckets = %q, want %q", strings.Join(got, " "), want)
		}
		if !hours[0].Start.Equal(t0) || math.Abs(hours[0].Sum-0.2) > 1e-9 {
			t.Fatalf("first hour = %+v, want start %v and score sum 0.2", hours[0], t0)
		}
		// The range is over bucket starts: [13:00, 14:00) is one bucket.
		if one, _ := s.Buckets(ctx, mood.Hour, general, t0.Add(time.Hour), t0.Add(2*time.Hour)); len(one) != 1 || !one[0].Start.Equal(t0.Add(time.Hour)) {
			t.Fatalf("buckets starting in [13:00, 14:00) = %+v", one)
		}
		days, err := s.Buckets(ctx, mood.Day, general, t0.Add(-24*time.Hour), t0.Add(24*time.Hour))
		if err != nil || len(days) != 1 || days[0].N != 6 || days[0].Pos != 2 || days[0].Neu != 1 || days[0].Neg != 3 ||
			!days[0].Start.Equal(mood.BucketStart(mood.Day, t0)) || math.Abs(days[0].Mean()) > 1e-9 {
			t.Fatalf("daily buckets = %+v, %v", days, err)
		}
		if d, _ := s.Buckets(ctx, mood.Day, desk, t0.Add(-24*time.Hour), t0.Add(24*time.Hour)); len(d) != 1 || d[0].N != 1 || d[0].Pos != 1 {
			t.Fatalf("daily buckets of the other channel = %+v", d)
		}
		if _, err := s.Buckets(ctx, "week", general, t0, t0.Add(24*time.Hour)); err == nil {
			t.Error("buckets by week: no error")
		}
	})

	t.Run("SameTimeKeepsOrderOfWriting", func(t *testing.T) {
		s, ctx := newStore(t), context.Background()
		log(t, s, row(general, "b", mood.Neutral, t0), row(general, "a", mood.Positive, t0), row(general, "c", mood.Negative, t0))
		if rows, err := s.Rows(ctx, general, t0, t0.Add(time.Second)); err != nil || ids(rows) != "b a c" {
			t.Fatalf("rows = %q, %v; want b a c", ids(rows), err)
		}
	})

	t.Run("Channels", func(t *testing.T) {
		s, ctx := newStore(t), context.Background()
		if chs, err := s.Channels(ctx); err != nil || len(chs) != 0 {
			t.Fatalf("channels of an empty store = %v, %v", chs, err)
		}
		// An alert alone is no sentiment data.
		if err := s.SetLastAlert(ctx, mood.Channel{Platform: "discord", ID: "quiet"}, t0); err != nil {
			t.Fatal(err)
		}
		log(t, s, row(desk, "1", mood.Positive, t0), row(general, "2", mood.Neutral, t0.Add(-24*time.Hour)),
			row(general, "3", mood.Negative, t0), row(desk, "4", mood.Negative, t0))
		chs, err := s.Channels(ctx)
		if err != nil {
			t.Fatal(err)
		}
		var got []string
		for _, ch := range chs {
			got = append(got, ch.String())
		}
		slices.Sort(got)
		if want := []string{general.String(), desk.String()}; !slices.Equal(got, want) {
			t.Fatalf("channels %q, want %q (each once)", got, want)
		}
	})

	t.Run("LastAlert", func(t *testing.T) {
		s, ctx := newStore(t), context.Background()
		if at, err := s.LastAlert(ctx, general); err != nil || !at.IsZero() {
			t.Fatalf("last alert, never sent = %v, %v", at, err)
		}
		at := t0.Add(90 * time.Minute).Add(123456789)
		if err := s.SetLastAlert(ctx, general, at); err != nil {
			t.Fatal(err)
		}
		if got, err := s.LastAlert(ctx, general); err != nil || !got.Equal(at) {
			t.Fatalf("last alert = %v, %v; want %v", got, err, at)
		}
		if got, _ := s.LastAlert(ctx, desk); !got.IsZero() {
			t.Fatalf("another channel's last alert = %v", got)
		}
		if err := s.SetLastAlert(ctx, general, at.Add(3*time.Hour)); err != nil {
			t.Fatal(err)
		}
		if got, _ := s.LastAlert(ctx, general); !got.Equal(at.Add(3 * time.Hour)) {
			t.Fatalf("last alert after the next = %v", got)
		}
		// Times come back as a database keeps them, without the monotonic
		// clock reading time.Now has.
		now := time.Now()
		if err := s.SetLastAlert(ctx, desk, now); err != nil {
			t.Fatal(err)
		}
		log(t, s, row(desk, "n", mood.Negative, now))
		got, _ := s.LastAlert(ctx, desk)
		rows, err := s.Rows(ctx, desk, now, now.Add(time.Second))
		if err != nil || len(rows) != 1 || !got.Equal(now) || got != got.Round(0) || !rows[0].Time.Equal(now) || rows[0].Time != rows[0].Time.Round(0) {
			t.Fatalf("alert %v and rows %+v (%v), want them at %v without a monotonic clock reading", got, rows, err, now)
		}
	})
}
