package cluster

import (
	"context"
	"time"

	"github.com/nats-io/nats.go/jetstream"
)

// Singleton makes task run on one node of the cluster at a time: the node
// holding the lease "singleton.<name>" runs it and renews the lease; the
// others wait and take over when it lapses (the node died) or is given
// back (the node stopped). For background work that posts, such as the
// hand-off's hand-back timer, which would otherwise post once per node.
func (n *Node) Singleton(name string, task func(context.Context) error) func(context.Context) error {
	key := "singleton." + kvKey(name)
	every := n.s.LeaseTTL / 3
	return func(ctx context.Context) error {
		for {
			rev, err := n.leases.Create(ctx, key, []byte(n.s.Node))
			if err != nil {
				select {
				case <-ctx.Done():
					return nil
				case <-n.clock.After(every):
					continue
				}
			}
			n.log.Info("running the cluster's one instance", "task", name)
			if err := n.holdWhile(ctx, key, rev, task); err != nil || ctx.Err() != nil {
				return err
			}
		}
	}
}

// holdWhile runs task while renewing the lease at key; it returns when ctx
// ends or task returns (lease given back), or with nil when the lease was
// lost (task stopped; the caller competes again).
func (n *Node) holdWhile(ctx context.Context, key string, rev uint64, task func(context.Context) error) error {
	tctx, cancel := context.WithCancel(ctx)
	defer cancel()
	done := make(chan error, 1)
	go func() { done <- task(tctx) }()
	giveBack := func() {
		dctx, dcancel := context.WithTimeout(context.WithoutCancel(ctx), 5*time.Second)
		defer dcancel()
		_ = n.leases.Delete(dctx, key, jetstream.LastRevision(rev))
	}
	for {
		select {
		case <-ctx.Done():
			cancel()
			<-done
			giveBack()
			return nil
		case err := <-done:
			giveBack()
			return err
		case <-n.clock.After(n.s.LeaseTTL / 3):
			rctx, rcancel := context.WithTimeout(ctx, n.s.LeaseTTL/2)
			next, err := n.leases.Update(rctx, key, []byte(n.s.Node), rev)
			rcancel()
			if err != nil && ctx.Err() == nil {
				n.log.Warn("lost the lease of a cluster-wide task; stopping it here", "key", key, "err", err)
				cancel()
				<-done
				return nil
			}
			rev = next
		}
	}
}
