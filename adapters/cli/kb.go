// Package cli holds the command-line commands that read or change data.
// Each works two ways: through the running server's admin API when
// `einsatz run` owns the data directory (Badger allows one process), and
// on the database directly when no server runs.
package cli

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/schollz/progressbar/v3"
	"github.com/spf13/cobra"

	"github.com/einsatz/einsatz/adapters/web"
	"github.com/einsatz/einsatz/bot/kb"
	"github.com/einsatz/einsatz/bot/solved"
	"github.com/einsatz/einsatz/handlers/knowledge"
	"github.com/einsatz/einsatz/handlers/solutions"
)

// KB is what the kb commands need; a local knowledge.Base or the running
// server provide it.
type KB interface {
	Sync(ctx context.Context, progress func(done, total int)) (knowledge.Report, error)
	Docs(ctx context.Context) ([]kb.Doc, error)
	Search(ctx context.Context, q string, k int) ([]knowledge.Hit, error)
	Add(ctx context.Context, name, title, url, text string) (kb.Doc, error)
	Remove(ctx context.Context, source string) error
	// Statuses and SyncSources are the remote sources (websites, Git
	// repositories) of knowledge.sources.
	Statuses(ctx context.Context) ([]knowledge.SourceStatus, error)
	SyncSources(ctx context.Context, progress func(source string, done, total int)) ([]knowledge.SourceReport, error)
}

// OpenKB returns the knowledge base to work on, and how to release it.
type OpenKB func(cmd *cobra.Command) (KB, func() error, error)

// KBCommand is `einsatz kb`.
func KBCommand(open OpenKB, stdout io.Writer) *cobra.Command {
	kb := &cobra.Command{Use: "kb", Short: "Work with the knowledge base (through the running server when one is up)"}
	c := kbCmds{open: open, stdout: stdout}
	kb.AddCommand(c.sync(), c.list(), c.search(), c.add(), c.remove(), c.sources(), c.candidates(), c.approve(), c.reject())
	return kb
}

// kbCmds is what the kb subcommands share.
type kbCmds struct {
	open   OpenKB
	stdout io.Writer
}

// with makes a RunE that runs run on the opened knowledge base and
// releases it.
func (c kbCmds) with(run func(ctx context.Context, b KB, args []string) error) func(*cobra.Command, []string) error {
	return func(cmd *cobra.Command, args []string) error {
		b, release, err := c.open(cmd)
		if err != nil {
			return err
		}
		return errors.Join(run(cmd.Context(), b, args), release())
	}
}

func (c kbCmds) sync() *cobra.Command {
	return &cobra.Command{
		Use:   "sync",
		Short: "Read changed files from knowledge.paths, and the websites and repositories of knowledge.sources, into the knowledge base",
		Args:  cobra.NoArgs,
		RunE: c.with(func(ctx context.Context, b KB, _ []string) error {
			bar := newBar(c.stdout)
			rep, err := b.Sync(ctx, bar)
			fmt.Fprintln(c.stdout, rep.String())
			reps, serr := b.SyncSources(ctx, sourceProgress(c.stdout))
			for _, r := range reps {
				line := fmt.Sprintf("%s %s: %s", r.Type, r.URL, r.Report.String())
				if r.Error != "" {
					line += "; errors: " + firstLine(r.Error)
				}
				fmt.Fprintln(c.stdout, line)
			}
			return errors.Join(err, serr)
		}),
	}
}

func (c kbCmds) sources() *cobra.Command {
	return &cobra.Command{
		Use:   "sources",
		Short: "List the websites and repositories of knowledge.sources: last sync, pages, errors",
		Args:  cobra.NoArgs,
		RunE: c.with(func(ctx context.Context, b KB, _ []string) error {
			st, err := b.Statuses(ctx)
			if err != nil {
				return err
			}
			if len(st) == 0 {
				fmt.Fprintln(c.stdout, "no sources configured (knowledge.sources)")
				return nil
			}
			tw := tabwriter.NewWriter(c.stdout, 0, 4, 2, ' ', 0)
			fmt.Fprintln(tw, "TYPE\tURL\tLAST SYNC\tPAGES\tERRORS\tREQUESTS\tLAST ERROR")
			for _, s := range st {
				last := "never"
				if !s.LastSync.IsZero() {
					last = s.LastSync.Local().Format("2006-01-02 15:04:05") + " (" + s.Duration.Round(time.Millisecond).String() + ")"
				}
				fmt.Fprintf(tw, "%s\t%s\t%s\t%d\t%d\t%d\t%s\n", s.Type, s.URL, last, s.Pages, s.Errors, s.Requests, s.LastError)
			}
			return tw.Flush()
		}),
	}
}

// sourceProgress shows a sync's progress: a bar per source on a terminal,
// a line every 100 pages and at the end otherwise.
func sourceProgress(w io.Writer) func(source string, done, total int) {
	if f, ok := w.(*os.File); ok {
		if st, err := f.Stat(); err == nil && st.Mode()&os.ModeCharDevice != 0 {
			var bar *progressbar.ProgressBar
			current := ""
			return func(source string, done, total int) {
				if bar == nil || source != current {
					if bar != nil {
						_ = bar.Finish()
					}
					current = source
					bar = progressbar.NewOptions(total, progressbar.OptionSetWriter(w), progressbar.OptionSetDescription(source),
						progressbar.OptionShowCount(), progressbar.OptionClearOnFinish())
				}
				bar.ChangeMax(total)
				_ = bar.Set(done)
			}
		}
	}
	return func(source string, done, total int) {
		if done%100 == 0 || done == total {
			fmt.Fprintf(w, "%s: %d/%d\n", source, done, total)
		}
	}
}

func firstLine(s string) string {
	l, _, more := strings.Cut(s, "\n")
	if more {
		l += " …"
	}
	return l
}

func (c kbCmds) list() *cobra.Command {
	return &cobra.Command{
		Use:   "list",
		Short: "List the documents",
		Args:  cobra.NoArgs,
		RunE: c.with(func(ctx context.Context, b KB, _ []string) error {
			docs, err := b.Docs(ctx)
			if err != nil {
				return err
			}
			tw := tabwriter.NewWriter(c.stdout, 0, 4, 2, ' ', 0)
			fmt.Fprintln(tw, "SOURCE\tORIGIN\tCHUNKS\tTITLE")
			for _, d := range docs {
				fmt.Fprintf(tw, "%s\t%s\t%d\t%s\n", d.Source, d.Origin, d.Chunks, d.Title)
			}
			return tw.Flush()
		}),
	}
}

func (c kbCmds) search() *cobra.Command {
	var k int
	search := &cobra.Command{
		Use:   "search QUESTION",
		Short: "Show the passages a question finds, with their scores",
		Args:  cobra.MinimumNArgs(1),
		RunE: c.with(func(ctx context.Context, b KB, args []string) error {
			hits, err := b.Search(ctx, strings.Join(args, " "), k)
			if err != nil {
				return err
			}
			if len(hits) == 0 {
				fmt.Fprintln(c.stdout, "no passage found")
			}
			for i, h := range hits {
				title := h.Title
				if h.Heading != "" {
					title += " › " + h.Heading
				}
				fmt.Fprintf(c.stdout, "%d. %s (%s)  score %.2f  coverage %.2f\n", i+1, title, h.Source, h.Score, h.Coverage)
			}
			return nil
		}),
	}
	search.Flags().IntVarP(&k, "limit", "k", 5, "passages to show")
	return search
}

func (c kbCmds) add() *cobra.Command {
	var title, link string
	add := &cobra.Command{
		Use:   "add FILE",
		Short: "Add a Markdown or text file as a document of its own (not tied to knowledge.paths)",
		Args:  cobra.ExactArgs(1),
		RunE: c.with(func(ctx context.Context, b KB, args []string) error {
			data, err := os.ReadFile(args[0])
			if err != nil {
				return err
			}
			doc, err := b.Add(ctx, filepath.Base(args[0]), title, link, string(data))
			if err != nil {
				return err
			}
			fmt.Fprintf(c.stdout, "added %s (%d chunks)\n", doc.Source, doc.Chunks)
			return nil
		}),
	}
	add.Flags().StringVar(&title, "title", "", "document title (default: from the file)")
	add.Flags().StringVar(&link, "url", "", "public URL cited as the source")
	return add
}

func (c kbCmds) remove() *cobra.Command {
	return &cobra.Command{
		Use:   "remove SOURCE",
		Short: "Remove an added document (file documents go when their file goes)",
		Args:  cobra.ExactArgs(1),
		RunE: c.with(func(ctx context.Context, b KB, args []string) error {
			if err := b.Remove(ctx, args[0]); err != nil {
				return err
			}
			fmt.Fprintf(c.stdout, "removed %s\n", args[0])
			return nil
		}),
	}
}

// newBar draws a progress bar on a terminal for imports of many files.
func newBar(w io.Writer) func(done, total int) {
	if u, ok := w.(interface{ Unwrap() io.Writer }); ok {
		w = u.Unwrap() // the bar redraws with \r; it carries no stored data
	}
	f, ok := w.(*os.File)
	if !ok {
		return nil
	}
	if st, err := f.Stat(); err != nil || st.Mode()&os.ModeCharDevice == 0 {
		return nil
	}
	var bar *progressbar.ProgressBar
	return func(done, total int) {
		if total < 50 {
			return
		}
		if bar == nil {
			bar = progressbar.NewOptions(total, progressbar.OptionSetWriter(w), progressbar.OptionSetDescription("syncing"),
				progressbar.OptionShowCount(), progressbar.OptionClearOnFinish())
		}
		_ = bar.Set(done)
	}
}

// RemoteKB is the knowledge base of the running server.
type RemoteKB struct{ Client *web.Client }

// Sync asks the server to sync.
func (r RemoteKB) Sync(ctx context.Context, _ func(done, total int)) (knowledge.Report, error) {
	var out struct {
		Report knowledge.Report `json:"report"`
		Error  string           `json:"error"`
	}
	if err := r.Client.DoJSON(ctx, http.MethodPost, "/api/admin/kb/sync", nil, &out); err != nil {
		return knowledge.Report{}, err
	}
	if out.Error != "" {
		return out.Report, fmt.Errorf("%s", out.Error)
	}
	return out.Report, nil
}

// Docs lists the server's documents.
func (r RemoteKB) Docs(ctx context.Context) ([]kb.Doc, error) {
	var docs []kb.Doc
	return docs, r.Client.GetJSON(ctx, "/api/admin/kb", &docs)
}

// Search searches on the server.
func (r RemoteKB) Search(ctx context.Context, q string, k int) ([]knowledge.Hit, error) {
	var hits []knowledge.Hit
	return hits, r.Client.GetJSON(ctx, fmt.Sprintf("/api/admin/kb/search?k=%d&q=%s", k, url.QueryEscape(q)), &hits)
}

// Add adds a document on the server.
func (r RemoteKB) Add(ctx context.Context, name, title, link, text string) (kb.Doc, error) {
	var doc kb.Doc
	err := r.Client.DoJSON(ctx, http.MethodPost, "/api/admin/kb/add", knowledge.AddRequest{Name: name, Title: title, URL: link, Text: text}, &doc)
	return doc, err
}

// Remove removes a document on the server.
func (r RemoteKB) Remove(ctx context.Context, source string) error {
	return r.Client.DoJSON(ctx, http.MethodDelete, "/api/admin/kb/doc?source="+url.QueryEscape(source), nil, nil)
}

// Statuses lists the server's remote sources.
func (r RemoteKB) Statuses(ctx context.Context) ([]knowledge.SourceStatus, error) {
	var st []knowledge.SourceStatus
	return st, r.Client.GetJSON(ctx, "/api/admin/kb/sources", &st)
}

// SyncSources asks the server to sync its remote sources (no progress:
// the server reports when done).
func (r RemoteKB) SyncSources(ctx context.Context, _ func(source string, done, total int)) ([]knowledge.SourceReport, error) {
	var out struct {
		Reports []knowledge.SourceReport `json:"reports"`
		Error   string                   `json:"error"`
	}
	if err := r.Client.DoJSON(ctx, http.MethodPost, "/api/admin/kb/sources/sync", nil, &out); err != nil {
		return nil, err
	}
	if out.Error != "" {
		return out.Reports, fmt.Errorf("%s", out.Error)
	}
	return out.Reports, nil
}

// LocalKB is a knowledge base on the database with its remote sources
// and the solved threads' candidates.
type LocalKB struct {
	*knowledge.Base
	*knowledge.Remote
	Solutions *solutions.Service
}

// Pending lists the candidates waiting for review.
func (l LocalKB) Pending(ctx context.Context) ([]solved.Candidate, error) {
	return l.Solutions.Pending(ctx)
}

// Approve adds a candidate to the knowledge base.
func (l LocalKB) Approve(ctx context.Context, id string) (solved.Candidate, error) {
	return l.Solutions.Approve(ctx, id)
}

// Reject removes a candidate.
func (l LocalKB) Reject(ctx context.Context, id string) error { return l.Solutions.Reject(ctx, id) }

// Pending asks the server for the candidates waiting for review.
func (r RemoteKB) Pending(ctx context.Context) ([]solved.Candidate, error) {
	var out []solved.Candidate
	return out, r.Client.GetJSON(ctx, "/api/admin/kb/candidates", &out)
}

// Approve asks the server to approve a candidate.
func (r RemoteKB) Approve(ctx context.Context, id string) (solved.Candidate, error) {
	var c solved.Candidate
	return c, r.Client.DoJSON(ctx, http.MethodPost, "/api/admin/kb/candidates/"+url.PathEscape(id)+"/approve", nil, &c)
}

// Reject asks the server to reject a candidate.
func (r RemoteKB) Reject(ctx context.Context, id string) error {
	return r.Client.DoJSON(ctx, http.MethodPost, "/api/admin/kb/candidates/"+url.PathEscape(id)+"/reject", nil, nil)
}

// Reviewer is the solved threads' candidates as the kb commands settle
// them; LocalKB and RemoteKB implement it.
type Reviewer interface {
	Pending(ctx context.Context) ([]solved.Candidate, error)
	Approve(ctx context.Context, id string) (solved.Candidate, error)
	Reject(ctx context.Context, id string) error
}

func reviewer(b KB) (Reviewer, error) {
	if r, ok := b.(Reviewer); ok {
		return r, nil
	}
	return nil, errors.New("solved-thread candidates are not available here")
}

func (c kbCmds) candidates() *cobra.Command {
	return &cobra.Command{
		Use:   "candidates",
		Short: "List the solved threads waiting for review as knowledge entries",
		Args:  cobra.NoArgs,
		RunE: c.with(func(ctx context.Context, b KB, _ []string) error {
			r, err := reviewer(b)
			if err != nil {
				return err
			}
			list, err := r.Pending(ctx)
			if err != nil {
				return err
			}
			if len(list) == 0 {
				fmt.Fprintln(c.stdout, "no solved threads waiting for review")
				return nil
			}
			out := TerminalSafe(c.stdout)
			for _, cand := range list {
				fmt.Fprintf(out, "%s  %s  marked by %s  %s\n  Q: %s\n  A: %s\n", cand.ID, cand.Created.Local().Format("2006-01-02 15:04"), cand.By,
					cand.Permalink, oneLine(cand.Question), oneLine(cand.Answer))
			}
			return nil
		}),
	}
}

func oneLine(s string) string { return strings.Join(strings.Fields(s), " ") }

func (c kbCmds) approve() *cobra.Command {
	return &cobra.Command{
		Use:   "approve ID",
		Short: "Add a solved thread's candidate to the knowledge base, citing the thread",
		Args:  cobra.ExactArgs(1),
		RunE: c.with(func(ctx context.Context, b KB, args []string) error {
			r, err := reviewer(b)
			if err != nil {
				return err
			}
			cand, err := r.Approve(ctx, args[0])
			if err != nil {
				return err
			}
			fmt.Fprintf(TerminalSafe(c.stdout), "approved %s: %s\n", cand.ID, oneLine(cand.Question))
			return nil
		}),
	}
}

func (c kbCmds) reject() *cobra.Command {
	return &cobra.Command{
		Use:   "reject ID",
		Short: "Remove a solved thread's candidate",
		Args:  cobra.ExactArgs(1),
		RunE: c.with(func(ctx context.Context, b KB, args []string) error {
			r, err := reviewer(b)
			if err != nil {
				return err
			}
			if err := r.Reject(ctx, args[0]); err != nil {
				return err
			}
			fmt.Fprintf(c.stdout, "rejected %s\n", args[0])
			return nil
		}),
	}
}

func absPath(p string) (string, error) { return filepath.Abs(p) }

// newKBCmd is `einsatz kb`, with the gaps report under it.
func (r *root) newKBCmd() *cobra.Command {
	kbCmd := KBCommand(func(cmd *cobra.Command) (KB, func() error, error) {
		cfg, err := r.loadConfig(cmd)
		if err != nil {
			return nil, nil, err
		}
		return openKB(cmd.Context(), r.app, cfg)
	}, r.stdout)
	kbCmd.AddCommand(GapsCommand(r.openSupport, r.stdout))
	return kbCmd
}
