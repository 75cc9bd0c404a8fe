package cli

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/url"
	"os"

	"github.com/spf13/cobra"

	"github.com/einsatz/einsatz/adapters/web"
	"github.com/einsatz/einsatz/bot/personal"
	"github.com/einsatz/einsatz/handlers/imports"
	"github.com/einsatz/einsatz/handlers/privacy"
	"github.com/einsatz/einsatz/storage"
)

// Privacy exports and erases one person's data.
type Privacy interface {
	ExportUser(ctx context.Context, platform, userID string) (personal.Data, error)
	EraseUser(ctx context.Context, platform, userID, by string) (personal.Erasure, error)
}

// OpenPrivacy returns the running server's or the database's Privacy.
type OpenPrivacy func(cmd *cobra.Command) (Privacy, func() error, error)

// PrivacyCommand is `einsatz privacy export|erase`.
func PrivacyCommand(open OpenPrivacy, stdout io.Writer) *cobra.Command {
	cmd := &cobra.Command{Use: "privacy", Short: "A member's data: export everything stored about them, or erase it (GDPR Art. 15 and 17)"}
	var platform, user, out string
	var yes bool
	flags := func(c *cobra.Command) {
		c.Flags().StringVar(&platform, "platform", "", "discord, slack, web or console")
		c.Flags().StringVar(&user, "user", "", "the member's id on that platform")
		_ = c.MarkFlagRequired("platform")
		_ = c.MarkFlagRequired("user")
	}
	export := &cobra.Command{
		Use:   "export",
		Short: "Write everything stored about a member as JSON",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			p, release, err := open(cmd)
			if err != nil {
				return err
			}
			defer release()
			data, err := p.ExportUser(cmd.Context(), platform, user)
			if err != nil {
				return err
			}
			w := stdout
			if out != "" {
				f, err := os.OpenFile(out, os.O_CREATE|os.O_EXCL|os.O_WRONLY, 0o600)
				if err != nil {
					return err
				}
				defer f.Close()
				w = f
			}
			enc := json.NewEncoder(w)
			enc.SetIndent("", "  ")
			return enc.Encode(data)
		},
	}
	flags(export)
	export.Flags().StringVarP(&out, "out", "o", "", "write to this new file (mode 0600) instead of stdout")
	erase := &cobra.Command{
		Use:   "erase",
		Short: "Delete everything stored about a member (their votes stay, anonymised)",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if !yes {
				return fmt.Errorf("this deletes the member's data for good: add --yes to go ahead")
			}
			p, release, err := open(cmd)
			if err != nil {
				return err
			}
			defer release()
			res, err := p.EraseUser(cmd.Context(), platform, user, "einsatz privacy erase")
			if err != nil {
				return err
			}
			fmt.Fprintln(stdout, "erased:", res.String())
			return nil
		},
	}
	flags(erase)
	erase.Flags().BoolVar(&yes, "yes", false, "confirm the erasure")
	cmd.AddCommand(export, erase)
	return cmd
}

// RemotePrivacy goes through the running server.
type RemotePrivacy struct{ Client *web.Client }

func privacyQuery(platform, user string) string {
	return url.Values{"platform": {platform}, "user": {user}}.Encode()
}

// ExportUser asks the server for the export.
func (r RemotePrivacy) ExportUser(ctx context.Context, platform, user string) (personal.Data, error) {
	var data personal.Data
	return data, r.Client.GetJSON(ctx, "/api/admin/privacy/export?"+privacyQuery(platform, user), &data)
}

// EraseUser asks the server to erase.
func (r RemotePrivacy) EraseUser(ctx context.Context, platform, user, _ string) (personal.Erasure, error) {
	var res personal.Erasure
	return res, r.Client.DoJSON(ctx, http.MethodPost, "/api/admin/privacy/erase?"+privacyQuery(platform, user), nil, &res)
}

// Importer imports an export: locally through the core, or through the
// running server.
type Importer func(ctx context.Context, kind, path string, progress func(done, total int)) (imports.Summary, error)

// OpenImporter returns the importer to use, and how to release it.
type OpenImporter func(cmd *cobra.Command) (Importer, func() error, error)

// ImportCommand is `einsatz import slack EXPORT` and `einsatz import discord FILE.json`.
func ImportCommand(open OpenImporter, stdout io.Writer) *cobra.Command {
	cmd := &cobra.Command{Use: "import", Short: "Load chat history: sentiment and feature requests as if seen live, without replying"}
	for _, kind := range []struct{ name, use, short string }{
		{"slack", "slack EXPORT", "Import a Slack workspace export (folder or zip)"},
		{"discord", "discord FILE.json", "Import one channel exported by DiscordChatExporter (JSON)"},
	} {
		cmd.AddCommand(&cobra.Command{
			Use:   kind.use,
			Short: kind.short,
			Args:  cobra.ExactArgs(1),
			RunE: func(cmd *cobra.Command, args []string) error {
				run, release, err := open(cmd)
				if err != nil {
					return err
				}
				defer release()
				sum, err := run(cmd.Context(), kind.name, args[0], newBar(stdout))
				fmt.Fprintln(stdout, sum.String())
				return err
			},
		})
	}
	return cmd
}

// RemoteImporter imports through the running server, which reads the path.
func RemoteImporter(c *web.Client) Importer {
	return func(ctx context.Context, kind, path string, _ func(done, total int)) (imports.Summary, error) {
		abs, err := absPath(path)
		if err != nil {
			return imports.Summary{}, err
		}
		var sum imports.Summary
		err = c.DoJSON(ctx, http.MethodPost, "/api/admin/import", imports.Request{Kind: kind, Path: abs}, &sum)
		return sum, err
	}
}

// openPrivacy is the running server's Privacy, or the database's.
func (r *root) openPrivacy(cmd *cobra.Command) (Privacy, func() error, error) {
	client, store, err := r.openData(cmd)
	if err != nil {
		return nil, nil, err
	}
	if client != nil {
		return RemotePrivacy{Client: client}, func() error { return nil }, nil
	}
	return privacy.People{Part: storage.Parts(store)}, store.Close, nil
}

// openImporter imports through the running server, or through a bot of
// its own when none runs.
func (r *root) openImporter(cmd *cobra.Command) (Importer, func() error, error) {
	cfg, err := r.loadConfig(cmd)
	if err != nil {
		return nil, nil, err
	}
	if client, err := web.Running(cmd.Context(), cfg.Storage.Path); err == nil {
		return RemoteImporter(client), func() error { return nil }, nil
	}
	// No server: the whole bot, without adapters, replays the export.
	core, closeBot, err := r.app.NewBot(cmd.Context(), cfg, newLogger(cfg.Log, r.stderr, slog.LevelWarn))
	if err != nil {
		return nil, nil, err
	}
	run := func(ctx context.Context, kind, path string, progress func(done, total int)) (imports.Summary, error) {
		ex, err := imports.Read(kind, path)
		if err != nil {
			return imports.Summary{}, err
		}
		return imports.Run(ctx, core, ex, progress)
	}
	return run, closeBot, nil
}
