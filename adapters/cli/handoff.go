package cli

import (
	"context"
	"io"

	"github.com/spf13/cobra"

	"github.com/einsatz/einsatz/adapters/web"
	"github.com/einsatz/einsatz/bot/escalation"
	"github.com/einsatz/einsatz/handlers/handoff"
	"github.com/einsatz/einsatz/storage"
)

// Escalations lists escalations: the running server, or the database.
type Escalations func(ctx context.Context, open bool) ([]escalation.Escalation, error)

// OpenHandoff returns where to read escalations, and how to release it.
type OpenHandoff func(cmd *cobra.Command) (Escalations, func() error, error)

// HandoffCommand is `einsatz handoff`.
func HandoffCommand(open OpenHandoff, stdout io.Writer) *cobra.Command {
	cmd := &cobra.Command{Use: "handoff", Short: "Escalations and threads staff took over"}
	var onlyOpen bool
	list := &cobra.Command{
		Use:   "list",
		Short: "List escalations with their status and time to the first staff response",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			read, release, err := open(cmd)
			if err != nil {
				return err
			}
			defer release()
			list, err := read(cmd.Context(), onlyOpen)
			if err != nil {
				return err
			}
			return handoff.WriteList(stdout, list)
		},
	}
	list.Flags().BoolVar(&onlyOpen, "open", false, "only escalations that are open or claimed")
	cmd.AddCommand(list)
	return cmd
}

// RemoteEscalations reads through the running server's admin API.
func RemoteEscalations(c *web.Client) Escalations {
	return func(ctx context.Context, open bool) ([]escalation.Escalation, error) {
		path := "/api/admin/handoff"
		if open {
			path += "?open=1"
		}
		var list []escalation.Escalation
		return list, c.GetJSON(ctx, path, &list)
	}
}

// openHandoff reads escalations from the running server, or the database.
func (r *root) openHandoff(cmd *cobra.Command) (Escalations, func() error, error) {
	client, store, err := r.openData(cmd)
	if err != nil {
		return nil, nil, err
	}
	if client != nil {
		return RemoteEscalations(client), func() error { return nil }, nil
	}
	return func(ctx context.Context, open bool) ([]escalation.Escalation, error) {
		return handoff.List(ctx, storage.NewHandoff(store), open)
	}, store.Close, nil
}
