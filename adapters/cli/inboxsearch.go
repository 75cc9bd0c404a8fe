package cli

import (
	"fmt"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/spf13/cobra"

	"github.com/einsatz/einsatz/bot/lang"
	"github.com/einsatz/einsatz/handlers/inbox"
)

// search is `einsatz inbox search QUERY`: the list narrowed to the items
// having every word of the query (English and German stemming), best
// match first unless --sort says otherwise.
func (c inboxCmds) search() *cobra.Command {
	search := &cobra.Command{
		Use:   "search QUERY",
		Short: "Search requests by words of their title, summary, mentions and tags (English and German word forms)",
		Long: "Search requests by words of their title, summary, mentions and tags. Every word must match,\n" +
			"in its English or German form (\"exporting\" finds \"export\"); stop words are ignored.\n" +
			"The best match comes first; the list's filters narrow the result (--status open, --tag ui).",
		Args: cobra.MinimumNArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			flt, err := c.filter.parse()
			if err != nil {
				return err
			}
			flt.Q = strings.Join(args, " ")
			return c.with(cmd, func(ib Inbox) error {
				items, err := ib.List(cmd.Context(), flt)
				if err != nil {
					return err
				}
				if len(items) == 0 {
					fmt.Fprintf(c.stdout, "No request matches %q.\n", flt.Q)
					return nil
				}
				return inbox.WriteList(c.stdout, items, time.Now())
			})
		},
	}
	c.filter.flags(search)
	return search
}

// similar is `einsatz inbox similar ID`: likely duplicates to merge.
func (c inboxCmds) similar() *cobra.Command {
	var n int
	similar := &cobra.Command{
		Use:   "similar ID",
		Short: "Suggest likely duplicates of a request (open items with similar words, 0…1), to merge with inbox merge",
		Args:  cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			return c.withItem(cmd, args[0], func(ib Inbox, id int) error {
				sugg, err := ib.Similar(cmd.Context(), id, n)
				if err != nil {
					return err
				}
				if len(sugg) == 0 {
					fmt.Fprintf(c.stdout, "No open request is similar to #%d.\n", id)
					return nil
				}
				tw := tabwriter.NewWriter(c.stdout, 0, 4, 2, ' ', 0)
				fmt.Fprintln(tw, "ID\tSIMILARITY\tSTATUS\tVOTES\tMENTIONS\tTITLE")
				for _, s := range sugg {
					fmt.Fprintf(tw, "#%d\t%.2f\t%s\t%d\t%d\t%s\n", s.ID, s.Score, s.Status, s.Votes, s.Mentions, lang.Excerpt(s.Title, 60))
				}
				if err := tw.Flush(); err != nil {
					return err
				}
				fmt.Fprintf(c.stdout, "\nMerge with: einsatz inbox merge %d ID (or merge ID %d).\n", id, id)
				return nil
			})
		},
	}
	similar.Flags().IntVarP(&n, "number", "n", 5, "how many suggestions at most")
	return similar
}

// tag is `einsatz inbox tag ID --add ui,api --remove old`.
func (c inboxCmds) tag() *cobra.Command {
	var add, remove []string
	tag := &cobra.Command{
		Use:   "tag ID --add TAG[,TAG] --remove TAG[,TAG]",
		Short: "Add and remove a request's tags (lower case; list --tag filters by them, export includes them)",
		Args:  cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			if len(add) == 0 && len(remove) == 0 {
				return fmt.Errorf("give --add, --remove or both")
			}
			return c.withItem(cmd, args[0], func(ib Inbox, id int) error {
				it, err := ib.EditTags(cmd.Context(), id, add, remove)
				if err != nil {
					return err
				}
				tags := strings.Join(it.Tags, ", ")
				if tags == "" {
					tags = "none"
				}
				fmt.Fprintf(c.stdout, "#%d tags: %s\n", it.ID, tags)
				return nil
			})
		},
	}
	tag.Flags().StringSliceVar(&add, "add", nil, "tags to add (comma-separated or repeated)")
	tag.Flags().StringSliceVar(&remove, "remove", nil, "tags to remove (comma-separated or repeated)")
	return tag
}
