package monitor_test

import (
	"bytes"
	"context"
	"fmt"
	"log/slog"
	"reflect"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/spf13/cobra"

	"github.com/einsatz/einsatz/adapters/cli"
	"github.com/einsatz/einsatz/adapters/web"
	"github.com/einsatz/einsatz/adapters/web/webtest"
	"github.com/einsatz/einsatz/bot/bottest"
	"github.com/einsatz/einsatz/bot/mood"
	"github.com/einsatz/einsatz/bot/mood/moodtest"
	"github.com/einsatz/einsatz/handlers/monitor"
)

// summary is "platform/channel start n/pos/neu/neg" per bucket, sorted.
func summary(series []monitor.Series, layout string) string {
	var out []string
	for _, s := range series {
		for _, b := range s.Buckets {
			out = append(out, fmt.Sprintf("%s %s %d/%d/%d/%d", s.Channel, b.Start.UTC().Format(layout), b.N, b.Pos, b.Neu, b.Neg))
		}
	}
	sort.Strings(out)
	return strings.Join(out, " | ")
}

// The sentiment report through a running server is the report read from
// the store directly, for every filter; bad arguments fail the same way
// on both, naming the argument.
func TestSentimentReportThroughServer(t *testing.T) {
	s := memStore(t) // the server's logins
	sent := moodtest.NewMem()
	now := time.Date(2026, 11, 26, 15, 0, 0, 0, time.UTC)
	clock := bottest.NewClock(now)
	m := monitor.New(monitor.Options{Analyze: fakeAnalyze, Store: sent, Clock: clock, Logger: slog.New(slog.DiscardHandler)})
	ctx := context.Background()
	for _, e := range []struct {
		id, channel, text string
		at                time.Time
	}{
		{"g1", "general", "good", now},
		{"g2", "general", "good", now.Add(-time.Minute)},
		{"g3", "general", "bad", now.AddDate(0, 0, -1)},
		{"g4", "general", "good", now.AddDate(0, 0, -10)},
		{"h1", "help", "meh", now.Add(-2 * time.Hour)},
		{"h2", "help", "awful", now.AddDate(0, 0, -3)},
	} {
		if err := m.Observe(ctx, msg(e.id, e.channel, e.text, e.at)); err != nil {
			t.Fatal(err)
		}
	}
	remote := cli.RemoteSentiment{Client: webtest.AdminClient(t, s, func(site *web.Server) { site.AddSentiment(sent, clock) })}
	local := cli.LocalSentiment{Store: sent, Now: clock.Now}

	const day, hour = "01-02", "01-02 15h"
	for _, tt := range []struct {
		name, channel, by, since, layout, want string
	}{
		{"all channels, 7 days", "", mood.Day, "7d", day,
			"discord/general 11-25 1/0/0/1 | discord/general 11-26 2/2/0/0 | discord/help 11-23 1/0/0/1 | discord/help 11-26 1/0/1/0"},
		{"default is 14 days", "", mood.Day, "", day,
			"discord/general 11-16 1/1/0/0 | discord/general 11-25 1/0/0/1 | discord/general 11-26 2/2/0/0 | discord/help 11-23 1/0/0/1 | discord/help 11-26 1/0/1/0"},
		{"one channel by hour", "discord/general", mood.Hour, "12h", hour,
			"discord/general 11-26 14h 1/1/0/0 | discord/general 11-26 15h 1/1/0/0"},
		{"channel by id, since a date", "help", mood.Day, "2026-11-23", day,
			"discord/help 11-23 1/0/0/1 | discord/help 11-26 1/0/1/0"},
		{"since an RFC 3339 time", "", mood.Hour, "2026-11-26T13:30:00Z", hour,
			"discord/general 11-26 14h 1/1/0/0 | discord/general 11-26 15h 1/1/0/0 | discord/help 11-26 13h 1/0/1/0"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			rs, err1 := remote.Report(ctx, tt.channel, tt.by, tt.since)
			ls, err2 := local.Report(ctx, tt.channel, tt.by, tt.since)
			if err1 != nil || err2 != nil {
				t.Fatalf("remote: %v, local: %v", err1, err2)
			}
			if got := summary(rs, tt.layout); got != tt.want {
				t.Fatalf("remote report:\n%s\nwant:\n%s", got, tt.want)
			}
			if !reflect.DeepEqual(rs, ls) {
				t.Fatalf("remote report %+v\nlocal %+v", rs, ls)
			}
		})
	}

	// The command prints the same through the server as from the store.
	run := func(src cli.SentimentSource, args ...string) string {
		t.Helper()
		var out bytes.Buffer
		cmd := cli.SentimentCommand(func(*cobra.Command) (cli.SentimentSource, func() error, error) {
			return src, func() error { return nil }, nil
		}, &out)
		cmd.SetArgs(append([]string{"report"}, args...))
		cmd.SetOut(&out)
		if err := cmd.ExecuteContext(ctx); err != nil {
			t.Fatalf("sentiment report %s: %v", strings.Join(args, " "), err)
		}
		return out.String()
	}
	for _, format := range []string{"csv", "table", "json"} {
		r, l := run(remote, "--since", "7d", "--format", format), run(local, "--since", "7d", "--format", format)
		if r != l || !strings.Contains(r, "general") || !strings.Contains(r, "help") {
			t.Fatalf("%s through the server:\n%s\nfrom the store:\n%s", format, r, l)
		}
	}

	for _, tt := range []struct {
		name, channel, by, since, want string
	}{
		{"bad since", "", mood.Day, "yesterday-ish", "since"},
		{"negative since", "", mood.Day, "-3d", "since"},
		{"bad by", "", "week", "7d", "--by"},
		{"unknown channel", "discord/nope", mood.Day, "7d", "no sentiment data"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			_, rerr := remote.Report(ctx, tt.channel, tt.by, tt.since)
			_, lerr := local.Report(ctx, tt.channel, tt.by, tt.since)
			if rerr == nil || !strings.Contains(rerr.Error(), tt.want) || !strings.Contains(rerr.Error(), "400") {
				t.Fatalf("through the server: %v, want a 400 naming %q", rerr, tt.want)
			}
			if lerr == nil || !strings.Contains(lerr.Error(), tt.want) {
				t.Fatalf("from the store: %v, want an error naming %q", lerr, tt.want)
			}
		})
	}
}
