package cluster

import (
	"context"
	"io"
	"log/slog"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/einsatz/einsatz/bot/kb"
	"github.com/einsatz/einsatz/bot/kb/kbtest"
)

type countingIndex struct{ n atomic.Int64 }

func (c *countingIndex) Refresh(context.Context) error { c.n.Add(1); return nil }

// A node that was down while a document was removed removes it at start
// (the bucket keeps the delete marker), gets the documents added
// meanwhile, and puts the documents only it had in the bucket for the
// others.
func TestKBStartAppliesRemovalsAndSeedsWhatOnlyThisNodeHad(t *testing.T) {
	s := soloServer(t, Settings{Partitions: 4, Replicas: 1, LeaseTTL: time.Second})
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	n, err := Connect(ctx, Options{Settings: s, Logger: slog.New(slog.NewTextHandler(io.Discard, nil))})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = n.Close() })
	doc := func(source string) (kb.Doc, []kb.Chunk) {
		return kb.Doc{Source: source, Origin: kb.OriginAdded, Title: source, Chunks: 1},
			[]kb.Chunk{{ID: source + "#0", Source: source, Title: source, Text: "about " + source}}
	}
	start := func(local kb.Store) (*KB, *countingIndex) {
		k, err := n.KB(ctx, local)
		if err != nil {
			t.Fatal(err)
		}
		ix := &countingIndex{}
		rctx, stop := context.WithCancel(ctx)
		done := make(chan struct{})
		go func() {
			defer close(done)
			if err := k.Run(rctx, ix); err != nil {
				t.Error(err)
			}
		}()
		t.Cleanup(func() { stop(); <-done })
		select {
		case <-k.Ready():
		case <-ctx.Done():
			t.Fatal("the bucket's state was not applied")
		}
		return k, ix
	}
	sources := func(s kb.Store) string {
		docs, err := s.Docs(ctx)
		if err != nil {
			t.Fatal(err)
		}
		var out []string
		for _, d := range docs {
			out = append(out, d.Source)
		}
		return strings.Join(out, " ")
	}

	memA := kbtest.NewMem()
	a, ixA := start(memA)
	for _, src := range []string{"x.md", "z.md"} {
		d, c := doc(src)
		if err := a.Store().PutDoc(ctx, d, c); err != nil {
			t.Fatal(err)
		}
	}
	if err := a.Store().DeleteDoc(ctx, "x.md"); err != nil {
		t.Fatal(err)
	}

	// b was down meanwhile: it still has x.md, and y.md the bucket never had.
	memB := kbtest.NewMem()
	for _, src := range []string{"x.md", "y.md"} {
		d, c := doc(src)
		if err := memB.PutDoc(ctx, d, c); err != nil {
			t.Fatal(err)
		}
	}
	_, ixB := start(memB)
	if got := sources(memB); got != "y.md z.md" {
		t.Errorf("b holds %q after its start, want y.md z.md", got)
	}
	if ixB.n.Load() == 0 {
		t.Error("b's index was not rebuilt")
	}
	waitUntil(t, "y.md reaching a", func() bool { return sources(memA) == "y.md z.md" })
	waitUntil(t, "a's index rebuilt after y.md", func() bool { return ixA.n.Load() >= 2 })
	chunks, err := memA.Chunks(ctx)
	if err != nil || len(chunks) != 2 {
		t.Errorf("a holds chunks %+v (%v), want those of y.md and z.md", chunks, err)
	}
}
