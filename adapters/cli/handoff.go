package cli

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/url"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/einsatz/einsatz/adapters/web"
	"github.com/einsatz/einsatz/bot/escalation"
	"github.com/einsatz/einsatz/handlers/handoff"
	"github.com/einsatz/einsatz/storage"
)

// Desk is what `einsatz handoff` does: the running server's admin API
// (RemoteDesk), or the database when no server runs.
type Desk interface {
	Queue(ctx context.Context, f handoff.Filter) ([]escalation.Escalation, error)
	Ticket(ctx context.Context, id string) (handoff.Ticket, error)
	Act(ctx context.Context, id, action, staff, text string) (escalation.Escalation, error)
}

// OpenHandoff returns the desk, and how to release it.
type OpenHandoff func(cmd *cobra.Command) (Desk, func() error, error)

// HandoffCommand is `einsatz handoff`: list, show, claim, reply, note,
// close, dismiss and hand-back, the dashboard desk's steps.
func HandoffCommand(open OpenHandoff, stdout io.Writer) *cobra.Command {
	cmd := &cobra.Command{Use: "handoff", Short: "The staff desk: escalations, and threads staff took over"}
	var as string
	cmd.PersistentFlags().StringVar(&as, "as", "", "staff name to act as (default: the admin token's account)")
	withDesk := func(cmd *cobra.Command, fn func(ctx context.Context, d Desk) error) error {
		d, release, err := open(cmd)
		if err != nil {
			return err
		}
		defer release()
		return fn(cmd.Context(), d)
	}

	var f handoff.Filter
	var onlyOpen, mine bool
	list := &cobra.Command{
		Use:   "list",
		Short: "List escalations with their status and time to the first staff response",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			q := f
			switch {
			case mine:
				if as == "" {
					return errors.New("--mine needs --as NAME")
				}
				q.State, q.Staff = "mine", as
			case onlyOpen && q.State == "":
				q.State = "open"
			}
			return withDesk(cmd, func(ctx context.Context, d Desk) error {
				l, err := d.Queue(ctx, q)
				if err != nil {
					return err
				}
				return handoff.WriteList(stdout, l)
			})
		},
	}
	list.Flags().BoolVar(&onlyOpen, "open", false, "only escalations that are open, claimed or answered")
	list.Flags().BoolVar(&mine, "mine", false, "only open escalations claimed by --as")
	list.Flags().StringVar(&f.State, "state", "", "open, unclaimed, closed, all, or a status (claimed, answered, dismissed…)")
	list.Flags().StringVar(&f.Platform, "platform", "", "only this platform (discord, slack, web)")
	list.Flags().StringVar(&f.Channel, "channel", "", "only this channel id")

	show := &cobra.Command{
		Use:   "show ID",
		Short: "Show an escalation: its transcript and what staff did",
		Args:  cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			return withDesk(cmd, func(ctx context.Context, d Desk) error {
				tk, err := d.Ticket(ctx, args[0])
				if err != nil {
					return err
				}
				return writeTicket(stdout, tk)
			})
		},
	}
	cmd.AddCommand(list, show)

	step := func(use, action, short string, text bool) *cobra.Command {
		args := cobra.ExactArgs(1)
		if text {
			args = cobra.MinimumNArgs(2)
		}
		return &cobra.Command{
			Use: use, Short: short, Args: args,
			RunE: func(cmd *cobra.Command, args []string) error {
				return withDesk(cmd, func(ctx context.Context, d Desk) error {
					e, err := d.Act(ctx, args[0], action, as, strings.Join(args[1:], " "))
					if err != nil {
						return err
					}
					_, err = fmt.Fprintf(stdout, "%s %s: %s%s\n", e.ID, strings.ReplaceAll(action, "_", " "), e.Status, by(e))
					return err
				})
			},
		}
	}
	cmd.AddCommand(
		step("claim ID", escalation.ActionClaim, "Take the escalation's thread over: the bot stays silent there", false),
		step("reply ID TEXT…", escalation.ActionReply, "Reply in the member's thread, in your name", true),
		step("note ID TEXT…", escalation.ActionNote, "Add an internal note (staff only)", true),
		step("close ID", escalation.ActionClose, "Close it: the bot has the thread again; the member writing reopens it", false),
		step("dismiss ID", escalation.ActionDismiss, "Dismiss it: nothing to do", false),
		step("hand-back ID", escalation.ActionHandBack, "Hand the thread back to the bot (it says so)", false),
	)
	return cmd
}

func by(e escalation.Escalation) string {
	if e.ClaimedBy == "" {
		return ""
	}
	return " (" + e.ClaimedBy + ")"
}

// writeTicket prints an escalation with its transcript and audit.
func writeTicket(w io.Writer, tk handoff.Ticket) error {
	ts := func(t time.Time) string { return t.UTC().Format("2006-01-02 15:04") }
	var b strings.Builder
	fmt.Fprintf(&b, "#%s %s%s · %s · %s · %s\n", tk.ID, tk.Status, by(tk.Escalation), tk.Thread.Key(), tk.User.DisplayName(), tk.Reason)
	fmt.Fprintf(&b, "created %s", ts(tk.Created))
	if d := tk.ResponseTime(); d > 0 {
		fmt.Fprintf(&b, " · first staff response after %s", d.Round(time.Second))
	}
	b.WriteString("\n")
	if tk.Summary != "" {
		b.WriteString(tk.Summary + "\n")
	}
	b.WriteString("\nTranscript:\n")
	for _, t := range tk.Transcript {
		who := string(t.Role)
		if t.Name != "" {
			who = t.Name
		}
		fmt.Fprintf(&b, "  %s %s: %s\n", ts(t.Time), who, t.Text)
		for _, s := range t.Sources {
			fmt.Fprintf(&b, "      source: %s %s\n", s.Title, s.URL)
		}
	}
	b.WriteString("\nHistory:\n")
	for _, c := range tk.Changes {
		fmt.Fprintf(&b, "  %s %s %s (%s → %s) %s\n", ts(c.Time), c.Actor, c.Action, c.From, c.To, c.Text)
	}
	_, err := io.WriteString(w, b.String())
	return err
}

// RemoteDesk works through the running server's admin API.
func RemoteDesk(c *web.Client) Desk { return remoteDesk{c} }

type remoteDesk struct{ c *web.Client }

func (r remoteDesk) Queue(ctx context.Context, f handoff.Filter) ([]escalation.Escalation, error) {
	q := url.Values{}
	for k, v := range map[string]string{"state": f.State, "staff": f.Staff, "platform": f.Platform, "channel": f.Channel} {
		if v != "" {
			q.Set(k, v)
		}
	}
	var list []escalation.Escalation
	return list, r.c.GetJSON(ctx, "/api/admin/handoff?"+q.Encode(), &list)
}

func (r remoteDesk) Ticket(ctx context.Context, id string) (handoff.Ticket, error) {
	var tk handoff.Ticket
	return tk, r.c.GetJSON(ctx, "/api/admin/handoff/"+url.PathEscape(id), &tk)
}

func (r remoteDesk) Act(ctx context.Context, id, action, staff, text string) (escalation.Escalation, error) {
	var e escalation.Escalation
	return e, r.c.DoJSON(ctx, "POST", "/api/admin/handoff/"+url.PathEscape(id)+"/"+url.PathEscape(action), web.DeskAction{Text: text, Staff: staff}, &e)
}

// LocalDesk works on the database when no server runs. Steps that post
// into a thread (claim's notice, reply, hand-back's notice) need the
// running server and its platform connections: they are refused.
func LocalDesk(svc *handoff.Service) Desk { return localDesk{svc} }

type localDesk struct{ *handoff.Service }

// errNotRunning: a step that must post, without a running server.
var errNotRunning = errors.New("handoff: claim, reply and hand-back post into the member's thread: start the bot (einsatz run) and try again")

func (l localDesk) Act(ctx context.Context, id, action, staff, text string) (escalation.Escalation, error) {
	switch action {
	case escalation.ActionClaim, escalation.ActionReply, escalation.ActionHandBack:
		return escalation.Escalation{}, errNotRunning
	}
	if staff == "" {
		staff = "cli"
	}
	return l.Service.Act(ctx, id, action, staff, text)
}

// openHandoff works through the running server, or on the database.
func (r *root) openHandoff(cmd *cobra.Command) (Desk, func() error, error) {
	client, store, err := r.openData(cmd)
	if err != nil {
		return nil, nil, err
	}
	if client != nil {
		return RemoteDesk(client), func() error { return nil }, nil
	}
	svc := handoff.New(handoff.Options{Store: storage.NewHandoff(store), Owners: store, History: store})
	return LocalDesk(svc), store.Close, nil
}
