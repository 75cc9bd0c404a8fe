// Package monitor logs the sentiment of every human message, keeps hourly
// and daily aggregates per channel, and alerts the staff channel when a
// channel turns sour: its negative share over the last hour is well above
// its own 14-day baseline (the stored daily aggregates), so a channel that
// is always grumpy alerts only when it gets worse than its usual tone.
package monitor

import (
	"context"
	"fmt"
	"log/slog"
	"math"
	"sort"
	"strings"
	"time"

	"github.com/einsatz/einsatz/bot"
	"github.com/einsatz/einsatz/bot/lang"
	"github.com/einsatz/einsatz/bot/mood"
)

// Score is the sentiment of one message.
type Score struct {
	Label string  // positive, neutral or negative
	Score float64 // -1 … 1
	Lang  string
}

// Analyzer scores a text; lang is a hint ("" = detect).
type Analyzer func(text, lang string) Score

// Escalator hears that a thread needs staff; the takeover feature
// implements it.
type Escalator interface {
	Escalate(ctx context.Context, ev *bot.Event, reason, summary string) error
}

// Options configure the monitor.
type Options struct {
	Analyze Analyzer
	Store   mood.Store
	Clock   bot.Clock
	Logger  *slog.Logger
	// Pseudonymize replaces user ids in rows with a keyed hash.
	Pseudonymize func(platform, userID string) string

	// Alerts: to the staff channel, when a channel's negative share over the
	// last hour (at least MinMessages) exceeds its 14-day baseline by Margin,
	// or by the hour's sampling noise where that is larger (see threshold).
	StaffChannel bot.ThreadRef // empty ChannelID: no alerts
	Poster       bot.Poster
	MinMessages  int           // default 20
	Margin       float64       // default 0.2 (20 percentage points)
	Cooldown     time.Duration // at most one alert per channel per Cooldown; default 2h
	// DefaultBaseline fills in for missing history: a channel with fewer
	// than 100 messages in 14 days gets the baseline of its messages plus
	// (100 - n) imagined ones at this share; default 0.15.
	DefaultBaseline float64

	// Escalate, when set, hears of strongly negative messages (score at or
	// below StrongNegative, default -0.6) by members in threads the bot
	// still owns (not from staff, not where staff took over).
	Escalate       Escalator
	StrongNegative float64
}

// Monitor is the sentiment observer.
type Monitor struct{ o Options }

// New returns the monitor.
func New(o Options) *Monitor {
	if o.Clock == nil {
		o.Clock = bot.SystemClock{}
	}
	if o.Logger == nil {
		o.Logger = slog.Default()
	}
	if o.MinMessages <= 0 {
		o.MinMessages = 20
	}
	if o.Margin <= 0 {
		o.Margin = 0.2
	}
	if o.Cooldown <= 0 {
		o.Cooldown = 2 * time.Hour
	}
	if o.DefaultBaseline <= 0 {
		o.DefaultBaseline = 0.15
	}
	if o.StrongNegative == 0 {
		o.StrongNegative = -0.6
	}
	return &Monitor{o: o}
}

// Observe scores and logs a human message; it runs for every message, also
// in staff-owned threads and listen-only channels.
func (m *Monitor) Observe(ctx context.Context, ev *bot.Event) error {
	if ev.Kind != bot.KindMessage || strings.TrimSpace(ev.Text) == "" || ev.User.Bot {
		return nil
	}
	s := m.o.Analyze(ev.Text, ev.Lang)
	user := ev.User.ID
	if m.o.Pseudonymize != nil {
		user = m.o.Pseudonymize(ev.Platform, ev.User.ID)
	}
	row := mood.Row{
		Platform: ev.Platform, Channel: ev.ChannelID, Thread: ev.Thread().ThreadID, User: user,
		MessageID: ev.MessageID, Time: ev.Time, Label: s.Label, Score: s.Score, Lang: s.Lang, Permalink: ev.Permalink,
	}
	if s.Label == mood.Negative {
		row.Excerpt = lang.Excerpt(ev.Text, 140)
	}
	if err := m.o.Store.Log(ctx, row, ev.User.ID); err != nil {
		return fmt.Errorf("monitor: log sentiment: %w", err)
	}
	if s.Label != mood.Negative || ev.Replayed {
		return nil // a spike needs negative messages; history raises no alerts
	}
	// A member (not staff) turning strongly negative in a thread the bot
	// still answers calls staff in; where staff already took over, they
	// are there. A message to the bot read as a complaint is escalated by
	// its route, with the reason "frustration".
	if m.o.Escalate != nil && s.Score <= m.o.StrongNegative && !ev.User.Staff && ev.Owner.Bot() && ev.Reading != bot.ReadingFrustration {
		if err := m.o.Escalate.Escalate(ctx, ev, "negative", fmt.Sprintf("strongly negative message (score %.2f)", s.Score)); err != nil {
			m.o.Logger.Error("monitor: escalate", "err", err)
		}
	}
	return m.check(ctx, mood.Channel{Platform: ev.Platform, ID: ev.ChannelID})
}

// Spike is a channel's last hour against its baseline.
type Spike struct {
	Channel  mood.Channel
	N, Neg   int
	Share    float64
	Mean     float64 // the hour's average score
	Baseline float64 // the channel's usual negative share (14 days)
	// BaselineMean is the channel's usual average score (14 days; 0
	// without history).
	BaselineMean float64
	Threshold    float64    // the share above which the hour alerts
	Worst        []mood.Row // most negative messages of the hour, worst first
}

// baselineMessages is how much history makes a baseline the channel's own.
const baselineMessages = 100

// noiseZ: an hour's negative share must exceed the baseline by this many
// standard errors (binomial, one-sided ~1%), so that a channel with a high
// usual share (more variance) does not alert on chance.
const noiseZ = 2.33

// threshold is the negative share above which an hour of n messages is a
// spike for a channel with the given baseline.
func threshold(baseline float64, n int, margin float64) float64 {
	if n <= 0 {
		return math.Inf(1)
	}
	noise := noiseZ * math.Sqrt(baseline*(1-baseline)/float64(n))
	return baseline + max(margin, noise)
}

// Check computes a channel's last hour against its 14-day baseline.
func (m *Monitor) Check(ctx context.Context, ch mood.Channel) (Spike, error) {
	now := m.o.Clock.Now()
	rows, err := m.o.Store.Rows(ctx, ch, now.Add(-time.Hour), now.Add(time.Second))
	if err != nil {
		return Spike{}, err
	}
	sp := Spike{Channel: ch, N: len(rows)}
	for _, r := range rows {
		sp.Mean += r.Score
		if r.Label == mood.Negative {
			sp.Neg++
			sp.Worst = append(sp.Worst, r)
		}
	}
	if sp.N > 0 {
		sp.Share = float64(sp.Neg) / float64(sp.N)
		sp.Mean /= float64(sp.N)
	}
	sort.SliceStable(sp.Worst, func(i, j int) bool { return sp.Worst[i].Score < sp.Worst[j].Score })
	if len(sp.Worst) > 3 {
		sp.Worst = sp.Worst[:3]
	}
	today := mood.BucketStart(mood.Day, now)
	days, err := m.o.Store.Buckets(ctx, mood.Day, ch, today.AddDate(0, 0, -14), today)
	if err != nil {
		return Spike{}, err
	}
	var total mood.Bucket
	for _, d := range days {
		total.N += d.N
		total.Neg += d.Neg
		total.Sum += d.Sum
	}
	sp.BaselineMean = total.Mean()
	sp.Baseline = total.NegShare()
	if total.N < baselineMessages {
		// Too little history to be the channel's own: shrink it towards the
		// default instead of switching at 100 messages, so a young channel
		// that is always grumpy still raises its baseline bit by bit.
		sp.Baseline = (float64(total.Neg) + m.o.DefaultBaseline*float64(baselineMessages-total.N)) / baselineMessages
	}
	sp.Threshold = threshold(sp.Baseline, sp.N, m.o.Margin)
	return sp, nil
}

func (m *Monitor) check(ctx context.Context, ch mood.Channel) error {
	if m.o.StaffChannel.ChannelID == "" || m.o.Poster == nil {
		return nil
	}
	sp, err := m.Check(ctx, ch)
	if err != nil {
		return fmt.Errorf("monitor: check %s: %w", ch, err)
	}
	if sp.N < m.o.MinMessages || sp.Share <= sp.Threshold {
		return nil
	}
	now := m.o.Clock.Now()
	last, err := m.o.Store.LastAlert(ctx, ch)
	if err != nil {
		return fmt.Errorf("monitor: last alert of %s: %w", ch, err)
	}
	if !last.IsZero() && now.Sub(last) < m.o.Cooldown {
		return nil
	}
	// Mark first: a failed post is not retried for every message after it.
	if err := m.o.Store.SetLastAlert(ctx, ch, now); err != nil {
		return fmt.Errorf("monitor: record alert of %s: %w", ch, err)
	}
	if err := m.o.Poster.Post(ctx, m.o.StaffChannel, bot.Reply{Text: AlertText(sp), Notice: true}); err != nil {
		return fmt.Errorf("monitor: alert for %s: %w", ch, err)
	}
	m.o.Logger.Warn("negative spike alert sent", "channel", ch.String(), "messages", sp.N, "negative_share", sp.Share, "baseline", sp.Baseline, "threshold", sp.Threshold)
	return nil
}

// AlertText is the staff alert for a spike (staff-facing, English).
func AlertText(sp Spike) string {
	var b strings.Builder
	fmt.Fprintf(&b, "Negative spike in %s: %d of the last %d messages in the past hour were negative (%.0f%%); its 14-day baseline is %.0f%%.",
		sp.Channel, sp.Neg, sp.N, 100*sp.Share, 100*sp.Baseline)
	fmt.Fprintf(&b, " Average score %.2f (usually %.2f).", sp.Mean, sp.BaselineMean)
	if len(sp.Worst) > 0 {
		b.WriteString("\nMost negative:")
		for i, r := range sp.Worst {
			// A member's words: escaped, so they cannot post a link or a
			// mention in the staff channel.
			fmt.Fprintf(&b, "\n%d. (%.2f) \"%s\"", i+1, r.Score, bot.EscapeMarkdown(r.Excerpt))
			if r.Permalink != "" {
				b.WriteString(" " + r.Permalink)
			}
		}
	}
	return b.String()
}
