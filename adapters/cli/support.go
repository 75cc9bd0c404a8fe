package cli

import (
	"context"
	"encoding/json"
	"io"
	"net/url"
	"time"

	"github.com/spf13/cobra"

	"github.com/einsatz/einsatz/adapters/web"
	"github.com/einsatz/einsatz/bot"
	"github.com/einsatz/einsatz/bot/qa"
	"github.com/einsatz/einsatz/handlers/support"
	"github.com/einsatz/einsatz/storage"
)

// SupportSource gives the knowledge gaps and the support numbers.
type SupportSource interface {
	Gaps(ctx context.Context, since string) ([]support.Gap, error)
	Report(ctx context.Context, since string) ([]support.Row, error)
}

// OpenSupport returns where to read them (the running server or the
// database), and how to release it.
type OpenSupport func(cmd *cobra.Command) (SupportSource, func() error, error)

// GapsCommand is `einsatz kb gaps`: add it under the kb command.
func GapsCommand(open OpenSupport, stdout io.Writer) *cobra.Command {
	var since string
	var asJSON bool
	cmd := &cobra.Command{
		Use:   "gaps",
		Short: "Questions the bot could not answer well (\"I don't know\", rated not helpful, discarded drafts), grouped by similarity",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			src, release, err := open(cmd)
			if err != nil {
				return err
			}
			defer release()
			gaps, err := src.Gaps(cmd.Context(), since)
			if err != nil {
				return err
			}
			if asJSON {
				if gaps == nil {
					gaps = []support.Gap{}
				}
				return writeJSONOut(stdout, gaps)
			}
			return support.WriteGaps(stdout, gaps)
		},
	}
	cmd.Flags().StringVar(&since, "since", "30d", "period: a duration (72h), days (30d), weeks (8w) or a date (2026-11-01)")
	cmd.Flags().BoolVar(&asJSON, "json", false, "print JSON")
	return cmd
}

// SupportCommand is `einsatz report support`: add it under the report command.
func SupportCommand(open OpenSupport, stdout io.Writer) *cobra.Command {
	var since, format string
	cmd := &cobra.Command{
		Use:   "support",
		Short: "Support numbers per channel and week: questions, answered, \"I don't know\", escalated, helpful rate, resolution",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			src, release, err := open(cmd)
			if err != nil {
				return err
			}
			defer release()
			rows, err := src.Report(cmd.Context(), since)
			if err != nil {
				return err
			}
			return support.WriteReport(stdout, rows, format)
		},
	}
	cmd.Flags().StringVar(&since, "since", "30d", "period: a duration (72h), days (30d), weeks (8w) or a date (2026-11-01)")
	cmd.Flags().StringVar(&format, "format", support.FormatTable, "table, csv or json")
	return cmd
}

// RemoteSupport reads through the running server's admin API.
type RemoteSupport struct{ Client *web.Client }

// Gaps implements SupportSource.
func (r RemoteSupport) Gaps(ctx context.Context, since string) ([]support.Gap, error) {
	var gaps []support.Gap
	return gaps, r.Client.GetJSON(ctx, "/api/admin/support/gaps?since="+url.QueryEscape(since), &gaps)
}

// Report implements SupportSource.
func (r RemoteSupport) Report(ctx context.Context, since string) ([]support.Row, error) {
	var rows []support.Row
	return rows, r.Client.GetJSON(ctx, "/api/admin/support/report?since="+url.QueryEscape(since), &rows)
}

// LocalSupport reads the database directly.
type LocalSupport struct {
	Store    qa.Store
	Settings support.Settings
}

func (l LocalSupport) since(s string) (time.Time, error) {
	clock := l.Settings.Clock
	if clock == nil {
		clock = bot.SystemClock{}
	}
	return support.ParseSince(s, clock.Now())
}

// Gaps implements SupportSource.
func (l LocalSupport) Gaps(ctx context.Context, since string) ([]support.Gap, error) {
	t, err := l.since(since)
	if err != nil {
		return nil, err
	}
	return support.Gaps(ctx, l.Store, t, l.Settings)
}

// Report implements SupportSource.
func (l LocalSupport) Report(ctx context.Context, since string) ([]support.Row, error) {
	t, err := l.since(since)
	if err != nil {
		return nil, err
	}
	return support.Report(ctx, l.Store, t, l.Settings)
}

func writeJSONOut(w io.Writer, v any) error {
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	return enc.Encode(v)
}

// openSupport reads from the running server, or the database.
func (r *root) openSupport(cmd *cobra.Command) (SupportSource, func() error, error) {
	cfg, err := r.loadConfig(cmd)
	if err != nil {
		return nil, nil, err
	}
	client, store, err := connect(cmd.Context(), r.app, cfg)
	if err != nil {
		return nil, nil, err
	}
	if client != nil {
		return RemoteSupport{Client: client}, func() error { return nil }, nil
	}
	settings := support.Settings{FollowUp: cfg.Support.FollowUp, Similarity: cfg.Support.Similarity}
	return LocalSupport{Store: storage.NewSupport(store), Settings: settings}, store.Close, nil
}

// newReportCmd is `einsatz report support`.
func (r *root) newReportCmd() *cobra.Command {
	reportCmd := &cobra.Command{Use: "report", Short: "Reports for the support and product teams"}
	reportCmd.AddCommand(SupportCommand(r.openSupport, r.stdout))
	return reportCmd
}
