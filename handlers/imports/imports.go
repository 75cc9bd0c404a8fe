// Package imports loads chat history exported from Slack (a workspace
// export, folder or zip) and Discord (DiscordChatExporter's JSON) so that
// monitoring starts with history: every message goes through the core's
// Replay — recorded once, scored, checked for feature requests — as if it
// had been seen live, without replying to anyone. An export is read and
// checked whole before anything is stored, so a bad file imports nothing.
package imports

import (
	"context"
	"fmt"
	"time"

	"github.com/einsatz/einsatz/bot"
)

// Replayer records a past event; bot.Bot implements it.
type Replayer interface {
	Replay(ctx context.Context, ev bot.Event) (bool, error)
}

// Summary says what an import did.
type Summary struct {
	Source     string    `json:"source"`
	Files      int       `json:"files"`
	Channels   int       `json:"channels"`
	Users      int       `json:"users"`
	Messages   int       `json:"messages"`   // messages in the export that are people's messages
	Skipped    int       `json:"skipped"`    // bot messages and system messages (joins, pins, …)
	Imported   int       `json:"imported"`   // new messages recorded
	Duplicates int       `json:"duplicates"` // messages known already (an earlier import, or seen live)
	First      time.Time `json:"first"`
	Last       time.Time `json:"last"`
}

func (s Summary) String() string {
	span := "no messages"
	if !s.First.IsZero() {
		span = s.First.UTC().Format("2006-01-02 15:04") + " to " + s.Last.UTC().Format("2006-01-02 15:04") + " UTC"
	}
	return fmt.Sprintf("%s: %d files, %d channels, %d users; %d messages (%s): %d imported, %d already known, %d skipped (bots and system messages)",
		s.Source, s.Files, s.Channels, s.Users, s.Messages, span, s.Imported, s.Duplicates, s.Skipped)
}

// Export is a parsed export, checked and ready to replay.
type Export struct {
	Summary Summary
	Events  []bot.Event // oldest first
}

// Run replays the export's events. progress, when not nil, is called after
// each event.
func Run(ctx context.Context, r Replayer, ex *Export, progress func(done, total int)) (Summary, error) {
	sum := ex.Summary
	for i, ev := range ex.Events {
		if err := ctx.Err(); err != nil {
			return sum, err
		}
		first, err := r.Replay(ctx, ev)
		if err != nil {
			return sum, fmt.Errorf("import: message %s at %s: %w (%d of %d imported so far; run the import again to continue, nothing is added twice)",
				ev.MessageID, ev.Time.UTC().Format(time.RFC3339), err, sum.Imported, len(ex.Events))
		}
		if first {
			sum.Imported++
		} else {
			sum.Duplicates++
		}
		if progress != nil {
			progress(i+1, len(ex.Events))
		}
	}
	return sum, nil
}

func (s *Summary) saw(t time.Time) {
	if s.First.IsZero() || t.Before(s.First) {
		s.First = t
	}
	if t.After(s.Last) {
		s.Last = t
	}
}

// Request is the body of POST /api/admin/import: the running server reads
// the export from its own disk (the CLI runs on the same machine).
type Request struct {
	Kind string `json:"kind"` // slack or discord
	Path string `json:"path"`
}

// Read parses an export of the given kind.
func Read(kind, path string) (*Export, error) {
	switch kind {
	case "slack":
		return ReadSlack(path)
	case "discord":
		return ReadDiscord(path)
	}
	return nil, fmt.Errorf("import: unknown kind %q (slack or discord)", kind)
}
