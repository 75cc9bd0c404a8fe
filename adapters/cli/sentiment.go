package cli

import (
	"context"
	"fmt"
	"io"
	"net/url"
	"time"

	"github.com/spf13/cobra"

	"github.com/einsatz/einsatz/adapters/web"
	"github.com/einsatz/einsatz/bot/mood"
	"github.com/einsatz/einsatz/handlers/inbox/detect"
	"github.com/einsatz/einsatz/handlers/knowledge"
	"github.com/einsatz/einsatz/handlers/monitor"
	"github.com/einsatz/einsatz/handlers/sentiment"
	"github.com/einsatz/einsatz/storage"
)

// SentimentSource reads sentiment aggregates: the running server, or the
// database directly.
type SentimentSource interface {
	Report(ctx context.Context, channel, by, since string) ([]monitor.Series, error)
}

// OpenSentiment returns the source to read, and how to release it.
type OpenSentiment func(cmd *cobra.Command) (SentimentSource, func() error, error)

// SentimentCommand is `einsatz sentiment`.
func SentimentCommand(open OpenSentiment, stdout io.Writer) *cobra.Command {
	cmd := &cobra.Command{Use: "sentiment", Short: "Read how the community feels, per channel over time"}
	var channel, since, by, format string
	report := &cobra.Command{
		Use:   "report",
		Short: "Sentiment per channel by hour or day (through the running server when one is up)",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			src, release, err := open(cmd)
			if err != nil {
				return err
			}
			defer release()
			series, err := src.Report(cmd.Context(), channel, by, since)
			if err != nil {
				return err
			}
			return monitor.WriteReport(stdout, format, series)
		},
	}
	report.Flags().StringVar(&channel, "channel", "", "one channel, as platform/id (default: all)")
	report.Flags().StringVar(&since, "since", "14d", "start: a duration back from now (72h, 7d), a date or an RFC 3339 time")
	report.Flags().StringVar(&by, "by", mood.Day, "bucket size: hour or day")
	report.Flags().StringVar(&format, "format", "table", "table, csv or json")
	cmd.AddCommand(report)
	return cmd
}

// LocalSentiment reads the database directly.
type LocalSentiment struct {
	Store mood.Store
	Now   func() time.Time
}

// Report reads the aggregates.
func (l LocalSentiment) Report(ctx context.Context, channel, by, since string) ([]monitor.Series, error) {
	now := l.Now()
	from, err := monitor.ParseSince(since, now)
	if err != nil {
		return nil, err
	}
	return monitor.Report(ctx, l.Store, channel, by, from, now.Add(time.Hour))
}

// RemoteSentiment asks the running server.
type RemoteSentiment struct{ Client *web.Client }

// Report reads the aggregates through the admin API.
func (r RemoteSentiment) Report(ctx context.Context, channel, by, since string) ([]monitor.Series, error) {
	var series []monitor.Series
	q := url.Values{"channel": {channel}, "by": {by}, "since": {since}}
	if err := r.Client.GetJSON(ctx, "/api/admin/sentiment/report?"+q.Encode(), &series); err != nil {
		return nil, fmt.Errorf("sentiment report: %w", err)
	}
	return series, nil
}

// openSentiment reads from the running server, or the database.
func (r *root) openSentiment(cmd *cobra.Command) (SentimentSource, func() error, error) {
	client, store, err := r.openData(cmd)
	if err != nil {
		return nil, nil, err
	}
	if client != nil {
		return RemoteSentiment{Client: client}, func() error { return nil }, nil
	}
	return LocalSentiment{Store: storage.NewSentiment(store), Now: time.Now}, store.Close, nil
}

// newAnalyzeCmd is `einsatz analyze`: offline scoring, no server or database.
func (r *root) newAnalyzeCmd() *cobra.Command {
	return &cobra.Command{
		Use:   "analyze",
		Short: "Score JSON lines from stdin offline: sentiment, language, question (one output line per input line)",
		Long: `Reads lines {"text": ..., "lang"?: ...} on stdin and writes exactly one JSON line per input line,
in order: {"sentiment": {"label": ..., "score": ...}, "lang": ..., "intent": {"feature_request": ..., "question": ...}}.
A blank or malformed line gives {"error": ...} in its place. Offline and deterministic; needs no server.
The feature-request and question detectors are the ones the bot uses live,
with the config's inbox.threshold.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			cfg, err := r.loadConfig(cmd)
			if err != nil {
				return err
			}
			intent := func(text, lang string) (bool, bool) {
				return detect.DetectLang(text, lang).Score >= cfg.Inbox.Threshold, knowledge.IsQuestion(text)
			}
			_, err = sentiment.AnalyzeStream(r.stdin, r.stdout, sentiment.New(), intent)
			return err
		},
	}
}
