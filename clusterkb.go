package main

import (
	"context"
	"log/slog"
	"time"

	"github.com/einsatz/einsatz/adapters/cli"
	"github.com/einsatz/einsatz/adapters/openai"
	"github.com/einsatz/einsatz/bot/config"
	"github.com/einsatz/einsatz/cluster"
	"github.com/einsatz/einsatz/handlers/knowledge"
	"github.com/einsatz/einsatz/storage"
)

// knowledge builds the knowledge base. On one machine it syncs the
// configured folders (syncKnowledge). In a cluster the documents are
// shared through the object store (cluster.KB): the base starts from what
// this node's store holds, and knowledgeTasks follow the bucket and run
// the folder and source syncs on one node at a time.
func (c *clustered) knowledge(ctx context.Context, cfg *config.Config, store *storage.Store, client *openai.Client, log *slog.Logger) (*knowledge.Base, error) {
	if c == nil {
		return syncKnowledge(ctx, cfg, store, client, log)
	}
	folders, err := knowledgeFolders(cfg)
	if err != nil {
		return nil, err
	}
	shared, err := c.node.KB(ctx, storage.NewKB(store))
	if err != nil {
		return nil, err
	}
	kb := knowledge.NewBase(shared.Store(), folders, log)
	kb.SetEmbedder(client.Embedder(), knowledge.EmbedOptions{Model: cfg.LLM.EmbeddingModel})
	if err := kb.Rebuild(ctx); err != nil {
		kb.Close()
		return nil, err
	}
	c.kb = shared
	return kb, nil
}

// knowledgeTasks keep the knowledge base current: on one machine the file
// watcher (knowledge.paths) and the source schedule (knowledge.sources);
// in a cluster also the bucket's watcher, every node rebuilding its index
// from it, while the folder sync and watcher and the source schedule run
// on one node at a time (their documents reach the others through the
// bucket), each once the bucket's state is in.
func (c *clustered) knowledgeTasks(cfg *config.Config, a *app, log *slog.Logger) []cli.Task {
	var out []cli.Task
	if c == nil {
		if len(cfg.Knowledge.Paths) > 0 {
			out = append(out, cli.Task{Run: func(ctx context.Context) error { return a.kb.Watch(ctx, 500*time.Millisecond) },
				Failed: "knowledge: file watcher stopped; use 'einsatz kb sync'"})
		}
		if len(cfg.Knowledge.Sources) > 0 {
			// Sources sync in the background, at once when never synced: a
			// large site must not hold up the start.
			out = append(out, cli.Task{Run: a.remote.Run, Failed: "knowledge: source schedule stopped; use 'einsatz kb sync'"})
		}
		return out
	}
	ready := func(ctx context.Context) bool {
		select {
		case <-c.kb.Ready():
			return true
		case <-ctx.Done():
			return false
		}
	}
	out = append(out, cli.Task{Run: func(ctx context.Context) error { return c.kb.Run(ctx, a.kb) },
		Failed: "knowledge: the cluster's knowledge watcher stopped; this node's index no longer follows the others"})
	files := func(ctx context.Context) error {
		if !ready(ctx) {
			return nil
		}
		rep, err := a.kb.Sync(ctx, nil)
		if err != nil {
			log.Error("knowledge: sync", "err", err)
		} else {
			log.Info("knowledge base synced", "report", rep.String(), "chunks", a.kb.Len())
		}
		if len(cfg.Knowledge.Paths) > 0 {
			return a.kb.Watch(ctx, 500*time.Millisecond)
		}
		<-ctx.Done() // the built-in example: synced once per hold
		return nil
	}
	out = append(out, cli.Task{Run: c.once("knowledge-files", files), Failed: "knowledge: file watcher stopped; use 'einsatz kb sync'"})
	if len(cfg.Knowledge.Sources) > 0 {
		sources := func(ctx context.Context) error {
			if !ready(ctx) {
				return nil
			}
			return a.remote.Run(ctx)
		}
		out = append(out, cli.Task{Run: c.once("knowledge-sources", sources), Failed: "knowledge: source schedule stopped; use 'einsatz kb sync'"})
	}
	return out
}

var _ cluster.Index = (*knowledge.Base)(nil)
