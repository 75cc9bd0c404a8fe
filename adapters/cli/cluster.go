package cli

import (
	"errors"

	"github.com/spf13/cobra"
)

// newClusterCmd is `einsatz cluster`: the nodes over NATS JetStream
// (docs/cluster.md).
func (r *root) newClusterCmd() *cobra.Command {
	cmd := &cobra.Command{
		Use:   "cluster",
		Short: "Inspect the cluster of nodes (cluster.mode embedded or external)",
	}
	cmd.AddCommand(&cobra.Command{
		Use:   "status",
		Short: "Show the nodes, streams, consumer lag, partition and Discord shard leases, and the IDENTIFY budget",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			cfg, err := r.loadConfig(cmd)
			if err != nil {
				return err
			}
			if r.app.ClusterStatus == nil {
				return errors.New("cluster status is not available in this build")
			}
			return r.app.ClusterStatus(cmd.Context(), cfg, TerminalSafe(r.stdout))
		},
	})
	return cmd
}
