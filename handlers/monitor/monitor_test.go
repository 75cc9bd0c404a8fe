package monitor_test

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"log/slog"
	"math"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/einsatz/einsatz/bot"
	"github.com/einsatz/einsatz/bot/bottest"
	"github.com/einsatz/einsatz/bot/mood"
	"github.com/einsatz/einsatz/bot/mood/moodtest"
	"github.com/einsatz/einsatz/handlers/monitor"
	"github.com/einsatz/einsatz/storage"
)

// fakeAnalyze: "bad" is negative, "good" positive, the rest neutral.
func fakeAnalyze(text, _ string) monitor.Score {
	switch {
	case strings.Contains(text, "awful"):
		return monitor.Score{Label: mood.Negative, Score: -0.9, Lang: "en"}
	case strings.Contains(text, "bad"):
		return monitor.Score{Label: mood.Negative, Score: -0.4, Lang: "en"}
	case strings.Contains(text, "good"):
		return monitor.Score{Label: mood.Positive, Score: 0.6, Lang: "en"}
	}
	return monitor.Score{Label: mood.Neutral, Score: 0, Lang: "en"}
}

type poster struct {
	mu    sync.Mutex
	posts []string
	to    []bot.ThreadRef
}

func (p *poster) Post(_ context.Context, to bot.ThreadRef, r bot.Reply) error {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.posts = append(p.posts, r.Text)
	p.to = append(p.to, to)
	return nil
}

type escalations struct {
	mu      sync.Mutex
	reasons []string
}

func (e *escalations) Escalate(_ context.Context, ev *bot.Event, reason, _ string) error {
	e.mu.Lock()
	defer e.mu.Unlock()
	e.reasons = append(e.reasons, reason+":"+ev.MessageID)
	return nil
}

func memStore(t testing.TB) *storage.Store {
	t.Helper()
	s, err := storage.Open(storage.Options{InMemory: true, Logger: slog.New(slog.DiscardHandler)})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	return s
}

var start = time.Date(2026, 11, 26, 12, 0, 0, 0, time.UTC)

func msg(id, channel, text string, at time.Time) *bot.Event {
	return &bot.Event{Key: "k" + id, Kind: bot.KindMessage, Platform: "discord", ChannelID: channel, MessageID: id, ThreadID: "t-" + id,
		User: bot.User{Platform: "discord", ID: "u" + id}, Text: text, Time: at, Permalink: "https://discord.com/channels/g/" + channel + "/" + id}
}

func TestAggregatesAreIncremental(t *testing.T) {
	s := moodtest.NewMem()
	m := monitor.New(monitor.Options{Analyze: fakeAnalyze, Store: s, Logger: slog.New(slog.DiscardHandler)})
	ctx := context.Background()
	texts := []string{"good", "bad", "meh", "good", "bad", "bad"}
	for i, text := range texts {
		at := start.Add(time.Duration(i) * 25 * time.Minute) // spans three hours
		if err := m.Observe(ctx, msg(fmt.Sprint(i), "general", text, at)); err != nil {
			t.Fatal(err)
		}
	}
	ch := mood.Channel{Platform: "discord", ID: "general"}
	hours, err := s.Buckets(ctx, mood.Hour, ch, start, start.Add(24*time.Hour))
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, h := range hours {
		got = append(got, fmt.Sprintf("%s:%d/%d/%d", h.Start.Format("15"), h.Pos, h.Neu, h.Neg))
	}
	// 12:00 good, 12:25 bad, 12:50 meh | 13:15 good, 13:40 bad | 14:05 bad
	if want := "12:1/1/1 13:1/0/1 14:0/0/1"; strings.Join(got, " ") != want {
		t.Fatalf("hourly buckets = %q, want %q", strings.Join(got, " "), want)
	}
	days, _ := s.Buckets(ctx, mood.Day, ch, start.Add(-time.Hour*24), start.Add(24*time.Hour))
	if len(days) != 1 || days[0].N != 6 || days[0].Pos != 2 || days[0].Neg != 3 || math.Abs(days[0].Mean()) > 1e-9 {
		t.Fatalf("daily buckets = %+v", days)
	}
	rows, _ := s.Rows(ctx, ch, start, start.Add(time.Hour))
	if len(rows) != 3 || rows[1].Label != mood.Negative || rows[1].Excerpt != "bad" || rows[0].Excerpt != "" {
		t.Fatalf("rows of the first hour = %+v", rows)
	}
	// Every row is logged with its author's id, for export and erasure.
	if rows := s.RowsOf("discord", "u1"); len(rows) != 1 || rows[0].MessageID != "1" {
		t.Fatalf("rows of u1 = %+v", rows)
	}
}

func TestSpikeAlertOncePerCooldown(t *testing.T) {
	s := moodtest.NewMem()
	clock := bottest.NewClock(start)
	p := &poster{}
	esc := &escalations{}
	staff := bot.ThreadRef{Platform: "slack", ChannelID: "C-STAFF"}
	m := monitor.New(monitor.Options{Analyze: fakeAnalyze, Store: s, Clock: clock, Poster: p, StaffChannel: staff,
		Escalate: esc, Logger: slog.New(slog.DiscardHandler)})
	ctx := context.Background()
	// 14 days of history: 10 messages a day, one of them negative (10%).
	n := 0
	for d := 1; d <= 14; d++ {
		for i := range 10 {
			text := "meh"
			if i == 0 {
				text = "bad"
			}
			n++
			if err := m.Observe(ctx, msg(fmt.Sprint("h", n), "general", text, start.AddDate(0, 0, -d).Add(time.Duration(i)*time.Minute))); err != nil {
				t.Fatal(err)
			}
		}
	}
	if len(p.posts) != 0 {
		t.Fatalf("alert from history: %q", p.posts)
	}
	// The last hour: 11 negative of 19, then the 20th message (negative)
	// makes it count: 12 of 20 (60% ≫ 10% + 20 points).
	send := func(prefix string, count, negEvery int, at time.Time) {
		for i := range count {
			text := "fine"
			if i%negEvery == 0 {
				text = "bad"
			}
			if i == 3 {
				text = "awful"
			}
			if err := m.Observe(ctx, msg(fmt.Sprintf("%s%d", prefix, i), "general", text, at.Add(time.Duration(i)*time.Second))); err != nil {
				t.Fatal(err)
			}
		}
	}
	clock.Advance(30 * time.Minute)
	send("a", 19, 2, start)
	if len(p.posts) != 0 {
		t.Fatalf("alert below 20 messages: %q", p.posts)
	}
	send("b", 5, 2, start.Add(10*time.Minute))
	if len(p.posts) != 1 {
		t.Fatalf("%d alerts after the spike, want 1", len(p.posts))
	}
	if p.to[0] != staff {
		t.Fatalf("alert went to %+v", p.to[0])
	}
	for _, want := range []string{"discord/general", "12 of the last 20 messages", "baseline is 10%", "https://discord.com/channels/g/general/a3", "(-0.90)"} {
		if !strings.Contains(p.posts[0], want) {
			t.Errorf("alert lacks %q:\n%s", want, p.posts[0])
		}
	}
	send("c", 10, 1, start.Add(20*time.Minute)) // still within the cooldown
	if len(p.posts) != 1 {
		t.Fatalf("%d alerts within the cooldown, want 1", len(p.posts))
	}
	clock.Advance(3 * time.Hour)
	send("d", 25, 1, clock.Now().Add(-10*time.Minute))
	if len(p.posts) != 2 {
		t.Fatalf("%d alerts after the cooldown, want 2", len(p.posts))
	}
	// Each strongly negative message ("awful") raised the escalation signal.
	if got := strings.Join(esc.reasons, ","); got != "negative:a3,negative:b3,negative:c3,negative:d3" {
		t.Fatalf("escalations = %s", got)
	}
}

func TestReportFormats(t *testing.T) {
	s := moodtest.NewMem()
	m := monitor.New(monitor.Options{Analyze: fakeAnalyze, Store: s, Logger: slog.New(slog.DiscardHandler)})
	ctx := context.Background()
	for i, text := range []string{"good", "bad", "meh"} {
		m.Observe(ctx, msg(fmt.Sprint(i), "general", text, start.Add(time.Duration(i)*time.Minute)))
		m.Observe(ctx, msg(fmt.Sprint("x", i), "help, \"desk\"", "bad", start.Add(time.Duration(i)*time.Hour)))
	}
	series, err := monitor.Report(ctx, s, "", mood.Day, start.Add(-time.Hour), start.Add(48*time.Hour))
	if err != nil || len(series) != 2 {
		t.Fatalf("report = %+v, %v", series, err)
	}
	var csvOut, jsonOut, table bytes.Buffer
	if err := monitor.WriteReport(&csvOut, "csv", series); err != nil {
		t.Fatal(err)
	}
	wantCSV := "platform,channel,start,messages,positive,neutral,negative,negative_share,mean_score\n" +
		"discord,general,2026-11-26T00:00:00Z,3,1,1,1,0.333,0.067\n" +
		"discord,\"help, \"\"desk\"\"\",2026-11-26T00:00:00Z,3,0,0,3,1.000,-0.400\n"
	if csvOut.String() != wantCSV {
		t.Fatalf("csv:\n%s\nwant:\n%s", csvOut.String(), wantCSV)
	}
	if err := monitor.WriteReport(&jsonOut, "json", series); err != nil {
		t.Fatal(err)
	}
	var back []monitor.Series
	if err := json.Unmarshal(jsonOut.Bytes(), &back); err != nil || back[0].Buckets[0].N != 3 {
		t.Fatalf("json does not round-trip: %v", err)
	}
	if err := monitor.WriteReport(&table, "table", series); err != nil || !strings.Contains(table.String(), "33%") {
		t.Fatalf("table:\n%s", table.String())
	}
	byHour, err := monitor.Report(ctx, s, "discord/help, \"desk\"", mood.Hour, start, start.Add(48*time.Hour))
	if err != nil || len(byHour) != 1 || len(byHour[0].Buckets) != 3 {
		t.Fatalf("by hour for one channel = %+v, %v", byHour, err)
	}
	if _, err := monitor.Report(ctx, s, "discord/nope", mood.Day, start, start); err == nil {
		t.Fatal("unknown channel: want an error")
	}
}

func BenchmarkObserve(b *testing.B) {
	s := memStore(b)
	m := monitor.New(monitor.Options{Analyze: fakeAnalyze, Store: storage.NewSentiment(s), Logger: slog.New(slog.DiscardHandler)})
	ctx := context.Background()
	b.ResetTimer()
	for i := range b.N {
		m.Observe(ctx, msg(fmt.Sprint(i), fmt.Sprint("c", i%20), "good stuff", start.Add(time.Duration(i)*time.Second)))
	}
}

func TestParseSince(t *testing.T) {
	now := time.Date(2026, 11, 26, 12, 0, 0, 0, time.UTC)
	tests := []struct {
		in   string
		want time.Time
		err  bool
	}{
		{"", now.AddDate(0, 0, -14), false},
		{"7d", now.AddDate(0, 0, -7), false},
		{"72h", now.Add(-72 * time.Hour), false},
		{"2026-11-01", time.Date(2026, 11, 1, 0, 0, 0, 0, time.UTC), false},
		{"2026-11-01T08:00:00Z", time.Date(2026, 11, 1, 8, 0, 0, 0, time.UTC), false},
		{"yesterday", time.Time{}, true},
	}
	for _, tt := range tests {
		got, err := monitor.ParseSince(tt.in, now)
		if (err != nil) != tt.err || !got.Equal(tt.want) {
			t.Errorf("ParseSince(%q) = %v, %v; want %v (error %v)", tt.in, got, err, tt.want, tt.err)
		}
	}
}

// Who a strongly negative message escalates: a member in a thread the bot
// answers; not staff, not a thread staff took over, not a mildly negative
// message, not history replayed from an import.
func TestStrongNegativeEscalatesMembersOnly(t *testing.T) {
	tests := []struct {
		name string
		edit func(ev *bot.Event)
		text string
		want bool
	}{
		{"member, bot-owned thread", func(*bot.Event) {}, "this is awful", true},
		{"mildly negative", func(*bot.Event) {}, "this is bad", false},
		{"staff member", func(ev *bot.Event) { ev.User.Staff = true }, "this is awful", false},
		{"thread taken over by staff", func(ev *bot.Event) { ev.Owner = bot.Owner{Staff: "anna", Since: start} }, "this is awful", false},
		{"replayed history", func(ev *bot.Event) { ev.Replayed = true }, "this is awful", false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			esc := &escalations{}
			m := monitor.New(monitor.Options{Analyze: fakeAnalyze, Store: moodtest.NewMem(), Clock: bottest.NewClock(start),
				Escalate: esc, Logger: slog.New(slog.DiscardHandler)})
			ev := msg("1", "general", tt.text, start)
			tt.edit(ev)
			if err := m.Observe(context.Background(), ev); err != nil {
				t.Fatal(err)
			}
			if got := len(esc.reasons) == 1; got != tt.want || len(esc.reasons) > 1 {
				t.Fatalf("escalations %v, want escalated=%v", esc.reasons, tt.want)
			}
		})
	}
}

// Channel names come from the platforms (and web channels from whoever
// names them): a cell a spreadsheet would run as a formula gets a leading
// quote; the negative mean score stays a number.
func TestReportCSVNeutralisesFormulas(t *testing.T) {
	series := []monitor.Series{{Channel: mood.Channel{Platform: "@web", ID: `=HYPERLINK("https://evil.example","x")`},
		Buckets: []mood.Bucket{{Start: start, N: 1, Neg: 1, Sum: -0.5}}}}
	var out bytes.Buffer
	if err := monitor.WriteReport(&out, "csv", series); err != nil {
		t.Fatal(err)
	}
	want := "'@web,\"'=HYPERLINK(\"\"https://evil.example\"\",\"\"x\"\")\"," + start.Format(time.RFC3339) + ",1,0,0,1,1.000,-0.500\n"
	if got := strings.SplitN(out.String(), "\n", 2)[1]; got != want {
		t.Fatalf("row = %s, want %s", got, want)
	}
}

// A channel that is always grumpy alerts on getting worse than its usual
// tone, not on its usual tone; a young channel's baseline moves from the
// default towards its own history.
func TestBaselineIsTheChannelsOwnTone(t *testing.T) {
	tests := []struct {
		name                    string
		days, perDay, negPerDay int
		hourNeg                 int // of 20 messages in the last hour
		wantAlert               bool
		wantBase                float64
	}{
		{"grumpy channel, usual hour", 14, 10, 5, 12, false, 0.5},
		{"grumpy channel, noise", 14, 10, 5, 15, false, 0.5},
		{"grumpy channel, much worse", 14, 10, 5, 17, true, 0.5},
		{"calm channel, same hour", 14, 10, 1, 12, true, 0.1},
		{"young grumpy channel", 5, 10, 5, 11, false, (25 + 0.15*50) / 100},
		{"no history", 0, 0, 0, 8, true, 0.15},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := moodtest.NewMem()
			clock := bottest.NewClock(start)
			p := &poster{}
			m := monitor.New(monitor.Options{Analyze: fakeAnalyze, Store: s, Clock: clock, Poster: p,
				StaffChannel: bot.ThreadRef{Platform: "slack", ChannelID: "C-STAFF"}, Logger: slog.New(slog.DiscardHandler)})
			ctx := context.Background()
			n := 0
			for d := 1; d <= tt.days; d++ {
				for i := range tt.perDay {
					text := "meh"
					if i < tt.negPerDay {
						text = "bad"
					}
					n++
					if err := m.Observe(ctx, msg(fmt.Sprint("h", n), "grumpy", text, start.AddDate(0, 0, -d).Add(time.Duration(i)*time.Minute))); err != nil {
						t.Fatal(err)
					}
				}
			}
			clock.Advance(30 * time.Minute)
			for i := range 20 {
				text := "fine"
				if i >= 20-tt.hourNeg {
					text = "bad"
				}
				if err := m.Observe(ctx, msg(fmt.Sprint("x", i), "grumpy", text, start.Add(time.Duration(i)*time.Second))); err != nil {
					t.Fatal(err)
				}
			}
			sp, err := m.Check(ctx, mood.Channel{Platform: "discord", ID: "grumpy"})
			if err != nil {
				t.Fatal(err)
			}
			if math.Abs(sp.Baseline-tt.wantBase) > 1e-9 {
				t.Errorf("baseline %.4f, want %.4f", sp.Baseline, tt.wantBase)
			}
			if got := len(p.posts) > 0; got != tt.wantAlert {
				t.Errorf("alert = %v, want %v (share %.2f, threshold %.2f)", got, tt.wantAlert, sp.Share, sp.Threshold)
			}
			if tt.wantAlert && !strings.Contains(p.posts[0], "Average score -0.") {
				t.Errorf("alert lacks the average score:\n%s", p.posts[0])
			}
		})
	}
}
