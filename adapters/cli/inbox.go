package cli

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/url"
	"os"
	"strconv"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/einsatz/einsatz/adapters/web"
	"github.com/einsatz/einsatz/bot/request"
	"github.com/einsatz/einsatz/handlers/inbox"
	"github.com/einsatz/einsatz/storage"
)

// Inbox is what `einsatz inbox` works on: the running server's admin API
// (RemoteInbox), or the database through an inbox.Service when no server
// runs (then status changes are recorded but not posted in threads).
type Inbox interface {
	List(ctx context.Context, f inbox.Filter) ([]request.Item, error)
	Get(ctx context.Context, id int) (request.Item, error)
	SetStatus(ctx context.Context, id int, status, note, by string) (request.Item, error)
	Merge(ctx context.Context, from, into int, by string) (request.Item, error)
	Unmerge(ctx context.Context, from int, by string) (request.Item, error)
	MarkNotRequest(ctx context.Context, id int, by string) (request.Item, error)
	RestoreRequest(ctx context.Context, id int, by string) (request.Item, error)
	ConfirmMaybe(ctx context.Context, id int, by string) (request.Item, error)
	Edit(ctx context.Context, id int, e inbox.EditRequest, by string) (request.Item, error)
	EditTags(ctx context.Context, id int, add, remove []string) (request.Item, error)
	Similar(ctx context.Context, id, n int) ([]inbox.Suggestion, error)
	SetPublic(ctx context.Context, id int, on bool, text *string, by string) (request.Item, error)
}

// OpenInbox returns the inbox to work on, and how to release it.
type OpenInbox func(cmd *cobra.Command) (Inbox, func() error, error)

// InboxCommand is `einsatz inbox list|search|maybe|confirm|show|status|edit|tag|not-request|similar|merge|public|export`.
func InboxCommand(open OpenInbox, stdout io.Writer) *cobra.Command {
	cmd := &cobra.Command{Use: "inbox", Short: "The research inbox: feature requests from the community"}
	c := inboxCmds{open: open, stdout: stdout, filter: &inboxFilter{}}
	cmd.AddCommand(c.list(), c.search(), c.maybe(), c.confirm(), c.show(), c.status(), c.edit(), c.tag(), c.notRequest(), c.similar(), c.merge(), c.public(), c.export())
	return cmd
}

// inboxCmds is what the inbox subcommands share. list and export read the
// same filter flags into the one filter.
type inboxCmds struct {
	open   OpenInbox
	stdout io.Writer
	filter *inboxFilter
}

// inboxFilter holds the filter flags of list and export.
type inboxFilter struct{ status, tag, platform, channel, since, until, sort string }

func (f *inboxFilter) flags(c *cobra.Command) {
	c.Flags().StringVar(&f.status, "status", "", "only this status, or \"open\" ("+strings.Join(request.Statuses, ", ")+")")
	c.Flags().StringVar(&f.tag, "tag", "", "only items with this tag")
	c.Flags().StringVar(&f.platform, "platform", "", "only items asked for on this platform")
	c.Flags().StringVar(&f.channel, "channel", "", "only items asked for in this channel (id)")
	c.Flags().StringVar(&f.since, "since", "", "created on or after this day (YYYY-MM-DD)")
	c.Flags().StringVar(&f.until, "until", "", "created on or before this day (YYYY-MM-DD)")
	c.Flags().StringVar(&f.sort, "sort", "", "votes (default), newest, or recent (votes in the last 7 days)")
}

func (f *inboxFilter) parse() (inbox.Filter, error) {
	return inbox.ParseFilter(url.Values{"status": {f.status}, "tag": {f.tag}, "platform": {f.platform},
		"channel": {f.channel}, "since": {f.since}, "until": {f.until}, "sort": {f.sort}})
}

// with runs fn on the opened inbox and releases it.
func (c inboxCmds) with(cmd *cobra.Command, fn func(ib Inbox) error) error {
	ib, release, err := c.open(cmd)
	if err != nil {
		return err
	}
	defer release()
	return fn(ib)
}

// withItem parses the item number, then runs fn with the inbox.
func (c inboxCmds) withItem(cmd *cobra.Command, arg string, fn func(ib Inbox, id int) error) error {
	id, err := itemID(arg)
	if err != nil {
		return err
	}
	return c.with(cmd, func(ib Inbox) error { return fn(ib, id) })
}

func (c inboxCmds) list() *cobra.Command {
	list := &cobra.Command{
		Use:   "list",
		Short: "List requests with status, votes (all and last 7 days) and where they were asked",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			flt, err := c.filter.parse()
			if err != nil {
				return err
			}
			return c.with(cmd, func(ib Inbox) error {
				items, err := ib.List(cmd.Context(), flt)
				if err != nil {
					return err
				}
				return inbox.WriteList(c.stdout, items, time.Now())
			})
		},
	}
	c.filter.flags(list)
	return list
}

// maybe lists the borderline requests waiting for staff: what the
// dashboard's "Maybe" tab shows.
func (c inboxCmds) maybe() *cobra.Command {
	return &cobra.Command{
		Use:   "maybe",
		Short: "List borderline detections waiting to be confirmed (inbox confirm ID) or rejected (inbox not-request ID)",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			return c.with(cmd, func(ib Inbox) error {
				items, err := ib.List(cmd.Context(), inbox.Filter{Status: request.StatusMaybe, Sort: inbox.SortNewest})
				if err != nil {
					return err
				}
				return inbox.WriteList(c.stdout, items, time.Now())
			})
		},
	}
}

func (c inboxCmds) confirm() *cobra.Command {
	return &cobra.Command{
		Use:   "confirm ID",
		Short: "File a borderline detection (a maybe) as a request: it becomes new; nobody is thanked or told",
		Args:  cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			return c.withItem(cmd, args[0], func(ib Inbox, id int) error {
				it, err := ib.ConfirmMaybe(cmd.Context(), id, cliUser())
				if err != nil {
					return err
				}
				fmt.Fprintf(c.stdout, "#%d is %s: filed as a request.\n", it.ID, it.Status)
				return nil
			})
		},
	}
}

func (c inboxCmds) show() *cobra.Command {
	return &cobra.Command{
		Use:   "show ID",
		Short: "Show a request with every mention and its history",
		Args:  cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			return c.withItem(cmd, args[0], func(ib Inbox, id int) error {
				it, err := ib.Get(cmd.Context(), id)
				if err != nil {
					return err
				}
				return inbox.WriteItem(c.stdout, it)
			})
		},
	}
}

func (c inboxCmds) status() *cobra.Command {
	var note string
	status := &cobra.Command{
		Use:   "status ID STATUS",
		Short: "Change a request's status (" + strings.Join(append([]string{request.StatusNew}, inbox.NextStatuses(request.StatusNew)...), ", ") + "); the threads it came from are told",
		Args:  cobra.ExactArgs(2),
		RunE: func(cmd *cobra.Command, args []string) error {
			return c.withItem(cmd, args[0], func(ib Inbox, id int) error {
				it, err := ib.SetStatus(cmd.Context(), id, strings.ReplaceAll(args[1], " ", "_"), note, cliUser())
				if err != nil {
					return err
				}
				posted := 0
				if n := len(it.Changes); n > 0 {
					posted = it.Changes[n-1].Posted
				}
				fmt.Fprintf(c.stdout, "#%d is now %s (%d threads told).\n", it.ID, it.Status, posted)
				return nil
			})
		},
	}
	status.Flags().StringVar(&note, "note", "", "a public note posted with the change")
	return status
}

func (c inboxCmds) edit() *cobra.Command {
	var title, summary string
	edit := &cobra.Command{
		Use:   "edit ID [--title T] [--summary S]",
		Short: "Edit a request's title and/or summary (recorded in its history; nobody is told)",
		Args:  cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			id, err := itemID(args[0])
			if err != nil {
				return err
			}
			var e inbox.EditRequest
			if cmd.Flags().Changed("title") {
				e.Title = &title
			}
			if cmd.Flags().Changed("summary") {
				e.Summary = &summary
			}
			if e.Title == nil && e.Summary == nil {
				return fmt.Errorf("give --title, --summary or both")
			}
			return c.with(cmd, func(ib Inbox) error {
				it, err := ib.Edit(cmd.Context(), id, e, cliUser())
				if err != nil {
					return err
				}
				fmt.Fprintf(c.stdout, "#%d %s\n", it.ID, it.Title)
				return nil
			})
		},
	}
	edit.Flags().StringVar(&title, "title", "", "the new title")
	edit.Flags().StringVar(&summary, "summary", "", "the new summary (\"\" clears it)")
	return edit
}

func (c inboxCmds) notRequest() *cobra.Command {
	var undo bool
	nr := &cobra.Command{
		Use:   "not-request ID",
		Short: "Mark a false detection as not a request: it leaves the inbox quietly (no thread post, no direct message)",
		Long: "Mark a false detection as not a request: it leaves the inbox lists (list --status not_request shows it),\n" +
			"nobody is told, and its messages are kept as negatives for evaluating the detector\n" +
			"(export --not-requests). --undo makes it new again, quietly too.",
		Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			return c.withItem(cmd, args[0], func(ib Inbox, id int) error {
				if undo {
					it, err := ib.RestoreRequest(cmd.Context(), id, cliUser())
					if err != nil {
						return err
					}
					fmt.Fprintf(c.stdout, "#%d is %s again (nobody was told).\n", it.ID, it.Status)
					return nil
				}
				it, err := ib.MarkNotRequest(cmd.Context(), id, cliUser())
				if err != nil {
					return err
				}
				fmt.Fprintf(c.stdout, "#%d is marked as not a request (nobody was told).\n", it.ID)
				return nil
			})
		},
	}
	nr.Flags().BoolVar(&undo, "undo", false, "put the item back in the inbox as new")
	return nr
}

// public is `einsatz inbox public ID on|off [--description TEXT]`: the
// item on the public roadmap (inbox.public_board) or off it.
func (c inboxCmds) public() *cobra.Command {
	var desc string
	pub := &cobra.Command{
		Use:   "public ID on|off",
		Short: "Show a request on the public roadmap (on) or take it off (off); --description sets the text everyone reads",
		Long: "Show a request on the public roadmap (inbox.public_board) or take it off. Visitors see its title, the\n" +
			"public description (--description; \"\" clears it) and the vote count, never names, messages or ids.\n" +
			"Only new, under review, planned, in progress and shipped requests can be shown.",
		Args: cobra.ExactArgs(2),
		RunE: func(cmd *cobra.Command, args []string) error {
			var on bool
			switch strings.ToLower(args[1]) {
			case "on":
				on = true
			case "off":
			default:
				return fmt.Errorf("public takes on or off, not %q", args[1])
			}
			var text *string
			if cmd.Flags().Changed("description") {
				text = &desc
			}
			return c.withItem(cmd, args[0], func(ib Inbox, id int) error {
				it, err := ib.SetPublic(cmd.Context(), id, on, text, cliUser())
				if err != nil {
					return err
				}
				if it.Public {
					fmt.Fprintf(c.stdout, "#%d is on the public roadmap (%d votes).\n", it.ID, it.VoteCount)
				} else {
					fmt.Fprintf(c.stdout, "#%d is not on the public roadmap.\n", it.ID)
				}
				return nil
			})
		},
	}
	pub.Flags().StringVar(&desc, "description", "", "the public description (\"\" clears it)")
	return pub
}

func (c inboxCmds) merge() *cobra.Command {
	var undo bool
	merge := &cobra.Command{
		Use:   "merge FROM INTO | merge --undo FROM",
		Short: "Merge request FROM into INTO: mentions and votes move, FROM becomes a duplicate (--undo FROM takes it apart again)",
		Args:  cobra.RangeArgs(1, 2),
		RunE: func(cmd *cobra.Command, args []string) error {
			from, err := itemID(args[0])
			if err != nil {
				return err
			}
			if undo {
				if len(args) != 1 {
					return fmt.Errorf("merge --undo takes one item: the duplicate")
				}
				return c.with(cmd, func(ib Inbox) error {
					it, err := ib.Unmerge(cmd.Context(), from, cliUser())
					if err != nil {
						return err
					}
					fmt.Fprintf(c.stdout, "#%d is %s again (%d votes, %d mentions; nobody was told).\n", it.ID, it.Status, it.VoteCount, len(it.Mentions))
					return nil
				})
			}
			if len(args) != 2 {
				return fmt.Errorf("merge takes two items: FROM and INTO")
			}
			into, err := itemID(args[1])
			if err != nil {
				return err
			}
			return c.with(cmd, func(ib Inbox) error {
				it, err := ib.Merge(cmd.Context(), from, into, cliUser())
				if err != nil {
					return err
				}
				fmt.Fprintf(c.stdout, "Merged #%d into #%d (now %d votes, %d mentions).\n", from, it.ID, it.VoteCount, len(it.Mentions))
				return nil
			})
		},
	}
	merge.Flags().BoolVar(&undo, "undo", false, "undo the merge of the duplicate FROM")
	return merge
}

func (c inboxCmds) export() *cobra.Command {
	var format, output string
	var negatives bool
	export := &cobra.Command{
		Use:   "export",
		Short: "Export requests as CSV (UTF-8) or JSON (with every mention and vote)",
		Long: "Export requests as CSV (UTF-8) or JSON (with every mention and vote).\n" +
			"--not-requests writes instead the messages of items marked as not a request, as JSON Lines\n" +
			"labelled \"not_request\": negatives for evaluating the detector.",
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if negatives {
				c.filter.status = request.StatusNotRequest
			}
			flt, err := c.filter.parse()
			if err != nil {
				return err
			}
			if format != "csv" && format != "json" {
				return fmt.Errorf("--format must be csv or json")
			}
			return c.with(cmd, func(ib Inbox) error {
				items, err := ib.List(cmd.Context(), flt)
				if err != nil {
					return err
				}
				w := c.stdout
				if output != "" && output != "-" {
					file, err := os.Create(output)
					if err != nil {
						return err
					}
					defer file.Close()
					w = file
				}
				if negatives {
					return inbox.WriteNegatives(w, items)
				}
				if format == "json" {
					return inbox.WriteJSON(w, items)
				}
				return inbox.WriteCSV(w, items, time.Now())
			})
		},
	}
	c.filter.flags(export)
	export.Flags().StringVar(&format, "format", "csv", "csv or json")
	export.Flags().StringVarP(&output, "output", "o", "", "write to this file instead of standard output")
	export.Flags().BoolVar(&negatives, "not-requests", false, "write the messages of items marked as not a request (JSON Lines), for evaluating the detector")
	return export
}

func itemID(s string) (int, error) {
	id, err := strconv.Atoi(strings.TrimPrefix(s, "#"))
	if err != nil || id <= 0 {
		return 0, fmt.Errorf("%q is not an item number", s)
	}
	return id, nil
}

func cliUser() string {
	if u := os.Getenv("USER"); u != "" {
		return "cli:" + u
	}
	return "cli"
}

// RemoteInbox works through the running server's admin API; the server
// records the acting staff member from the credential.
func RemoteInbox(c *web.Client) Inbox { return remoteInbox{c} }

type remoteInbox struct{ c *web.Client }

func (r remoteInbox) List(ctx context.Context, f inbox.Filter) ([]request.Item, error) {
	var items []request.Item
	path := "/api/admin/inbox"
	if q := f.Query().Encode(); q != "" {
		path += "?" + q
	}
	return items, r.c.GetJSON(ctx, path, &items)
}

func (r remoteInbox) Get(ctx context.Context, id int) (request.Item, error) {
	var it request.Item
	return it, r.c.GetJSON(ctx, fmt.Sprintf("/api/admin/inbox/%d", id), &it)
}

func (r remoteInbox) SetStatus(ctx context.Context, id int, status, note, _ string) (request.Item, error) {
	var it request.Item
	return it, r.c.DoJSON(ctx, http.MethodPost, fmt.Sprintf("/api/admin/inbox/%d/status", id), inbox.StatusRequest{Status: status, Note: note}, &it)
}

func (r remoteInbox) Merge(ctx context.Context, from, into int, _ string) (request.Item, error) {
	var it request.Item
	return it, r.c.DoJSON(ctx, http.MethodPost, "/api/admin/inbox/merge", inbox.MergeRequest{From: from, Into: into}, &it)
}

func (r remoteInbox) Unmerge(ctx context.Context, from int, _ string) (request.Item, error) {
	var it request.Item
	return it, r.c.DoJSON(ctx, http.MethodPost, fmt.Sprintf("/api/admin/inbox/%d/unmerge", from), nil, &it)
}

func (r remoteInbox) MarkNotRequest(ctx context.Context, id int, _ string) (request.Item, error) {
	var it request.Item
	return it, r.c.DoJSON(ctx, http.MethodPost, fmt.Sprintf("/api/admin/inbox/%d/not-request", id), nil, &it)
}

func (r remoteInbox) RestoreRequest(ctx context.Context, id int, _ string) (request.Item, error) {
	var it request.Item
	return it, r.c.DoJSON(ctx, http.MethodPost, fmt.Sprintf("/api/admin/inbox/%d/restore", id), nil, &it)
}

func (r remoteInbox) ConfirmMaybe(ctx context.Context, id int, _ string) (request.Item, error) {
	var it request.Item
	return it, r.c.DoJSON(ctx, http.MethodPost, fmt.Sprintf("/api/admin/inbox/%d/confirm", id), nil, &it)
}

func (r remoteInbox) EditTags(ctx context.Context, id int, add, remove []string) (request.Item, error) {
	var it request.Item
	return it, r.c.DoJSON(ctx, http.MethodPost, fmt.Sprintf("/api/admin/inbox/%d/tags", id), inbox.TagsRequest{Add: add, Remove: remove}, &it)
}

func (r remoteInbox) Similar(ctx context.Context, id, n int) ([]inbox.Suggestion, error) {
	var out []inbox.Suggestion
	return out, r.c.GetJSON(ctx, fmt.Sprintf("/api/admin/inbox/%d/similar?n=%d", id, n), &out)
}

func (r remoteInbox) Edit(ctx context.Context, id int, e inbox.EditRequest, _ string) (request.Item, error) {
	var it request.Item
	return it, r.c.DoJSON(ctx, http.MethodPost, fmt.Sprintf("/api/admin/inbox/%d/edit", id), e, &it)
}

func (r remoteInbox) SetPublic(ctx context.Context, id int, on bool, text *string, _ string) (request.Item, error) {
	var it request.Item
	body := struct {
		Public      bool    `json:"public"`
		Description *string `json:"description,omitempty"`
	}{on, text}
	return it, r.c.DoJSON(ctx, http.MethodPost, fmt.Sprintf("/api/admin/inbox/%d/public", id), body, &it)
}

var _ Inbox = (*inbox.Service)(nil)

// openInbox is the running server's inbox, or one on the database.
func (r *root) openInbox(cmd *cobra.Command) (Inbox, func() error, error) {
	client, store, err := r.openData(cmd)
	if err != nil {
		return nil, nil, err
	}
	if client != nil {
		return RemoteInbox(client), func() error { return nil }, nil
	}
	ib := inbox.New(inbox.Options{Store: storage.NewInbox(store), Owners: store, Logger: slog.New(slog.DiscardHandler)})
	return ib, func() error { ib.Close(); return store.Close() }, nil
}
