// Package mood holds the sentiment records — one scored message (Row),
// the hourly and daily aggregates of a channel (Bucket) — and the
// interface of the store that keeps them. It is a leaf: storage
// implements Store, handlers/monitor logs and reports over it.
package mood

import (
	"context"
	"time"
)

// Labels.
const (
	Positive = "positive"
	Neutral  = "neutral"
	Negative = "negative"
)

// Row is one scored message.
type Row struct {
	Platform  string    `json:"platform"`
	Channel   string    `json:"channel"`
	Thread    string    `json:"thread"`
	User      string    `json:"user"` // the user id, or its pseudonym
	MessageID string    `json:"message_id"`
	Time      time.Time `json:"time"`
	Label     string    `json:"label"`
	Score     float64   `json:"score"`
	Lang      string    `json:"lang"`
	Permalink string    `json:"permalink,omitempty"`
	Excerpt   string    `json:"excerpt,omitempty"` // the start of a negative message, for alerts
}

// Bucket aggregates the messages of one channel in one hour or day.
type Bucket struct {
	Start time.Time `json:"start"`
	N     int       `json:"n"`
	Pos   int       `json:"positive"`
	Neu   int       `json:"neutral"`
	Neg   int       `json:"negative"`
	Sum   float64   `json:"score_sum"`
}

// Add counts one message.
func (b *Bucket) Add(label string, score float64) {
	b.N++
	b.Sum += score
	switch label {
	case Positive:
		b.Pos++
	case Negative:
		b.Neg++
	default:
		b.Neu++
	}
}

// NegShare is the share of negative messages.
func (b Bucket) NegShare() float64 {
	if b.N == 0 {
		return 0
	}
	return float64(b.Neg) / float64(b.N)
}

// Mean is the average score.
func (b Bucket) Mean() float64 {
	if b.N == 0 {
		return 0
	}
	return b.Sum / float64(b.N)
}

// Granularity of aggregates.
const (
	Hour = "hour"
	Day  = "day"
)

// BucketStart is the start of the hour or day (UTC) holding t.
func BucketStart(by string, t time.Time) time.Time {
	t = t.UTC()
	if by == Day {
		return time.Date(t.Year(), t.Month(), t.Day(), 0, 0, 0, 0, time.UTC)
	}
	return t.Truncate(time.Hour)
}

// Channel names a channel on a platform.
type Channel struct {
	Platform string `json:"platform"`
	ID       string `json:"id"`
}

func (c Channel) String() string { return c.Platform + "/" + c.ID }

// Store keeps rows and aggregates; storage.Sentiment implements it,
// moodtest.Mem is the in-memory fake, and moodtest.Run checks both alike.
type Store interface {
	// Log stores the row and updates the hourly and daily buckets of its
	// channel in the same write; userID indexes it for export and erasure.
	// A negative row is visible to reads when Log returns.
	Log(ctx context.Context, row Row, userID string) error
	// Rows returns a channel's scored messages in [since, until).
	Rows(ctx context.Context, ch Channel, since, until time.Time) ([]Row, error)
	// Buckets returns a channel's hourly or daily (by) aggregates whose
	// start is in [since, until), oldest first.
	Buckets(ctx context.Context, by string, ch Channel, since, until time.Time) ([]Bucket, error)
	// Channels lists the channels that have sentiment data.
	Channels(ctx context.Context) ([]Channel, error)
	// LastAlert is when the last spike alert for a channel went out (zero: never).
	LastAlert(ctx context.Context, ch Channel) (time.Time, error)
	// SetLastAlert records when a spike alert went out.
	SetLastAlert(ctx context.Context, ch Channel, at time.Time) error
}
