package kbtest

import (
	"context"
	"fmt"
	"slices"
	"testing"
	"time"

	"github.com/einsatz/einsatz/bot/kb"
)

// Run checks that the stores newStore makes (a fresh, empty one per call)
// behave as kb.Store says, and as kb.VectorStore says if they are one.
func Run(t *testing.T, newStore func(t *testing.T) kb.Store) {
	synced := time.Now().Truncate(time.Second)
	doc := func(source, title string, chunks int) kb.Doc {
		return kb.Doc{Source: source, Origin: kb.OriginFile, Title: title, URL: "https://example.org/" + source, Hash: "h-" + title,
			Size: 42, ModTime: synced.Add(-time.Hour), Chunks: chunks, Synced: synced, BaseURL: "https://example.org/"}
	}
	chunks := func(source string, n int) []kb.Chunk {
		var out []kb.Chunk
		for i := range n {
			out = append(out, kb.Chunk{ID: fmt.Sprintf("%s#%d", source, i), Source: source, Title: "T " + source,
				Heading: fmt.Sprintf("Part %d", i), URL: "https://example.org/" + source, Text: fmt.Sprintf("text %d of %s", i, source), Lang: "en"})
		}
		return out
	}
	chunkIDs := func(t *testing.T, s kb.Store) []string {
		t.Helper()
		cs, err := s.Chunks(context.Background())
		if err != nil {
			t.Fatal(err)
		}
		var ids []string
		for _, c := range cs {
			ids = append(ids, c.ID)
		}
		return ids
	}
	docSources := func(t *testing.T, s kb.Store) []string {
		t.Helper()
		ds, err := s.Docs(context.Background())
		if err != nil {
			t.Fatal(err)
		}
		var out []string
		for _, d := range ds {
			out = append(out, d.Source)
		}
		return out
	}

	t.Run("DocsAndChunks", func(t *testing.T) {
		s, ctx := newStore(t), context.Background()
		if got := docSources(t, s); len(got) != 0 {
			t.Fatalf("docs of an empty store: %q", got)
		}
		if got := chunkIDs(t, s); len(got) != 0 {
			t.Fatalf("chunks of an empty store: %q", got)
		}
		// Written out of order; one document has more than ten chunks, so
		// their order is by position, not by id.
		for _, d := range []kb.Doc{doc("de/x.md", "X", 1), doc("b.md", "B", 12), doc("a b.md", "A", 2)} {
			if err := s.PutDoc(ctx, d, chunks(d.Source, d.Chunks)); err != nil {
				t.Fatal(err)
			}
		}
		docs, err := s.Docs(ctx)
		if err != nil || len(docs) != 3 {
			t.Fatalf("docs = %+v, %v", docs, err)
		}
		if got, want := docSources(t, s), []string{"a b.md", "b.md", "de/x.md"}; !slices.Equal(got, want) {
			t.Fatalf("docs %q, want %q (source order)", got, want)
		}
		want := doc("b.md", "B", 12)
		if d := docs[1]; d.Source != want.Source || d.Origin != want.Origin || d.Title != want.Title || d.URL != want.URL || d.Hash != want.Hash ||
			d.Size != want.Size || !d.ModTime.Equal(want.ModTime) || d.Chunks != 12 || !d.Synced.Equal(synced) || d.BaseURL != want.BaseURL {
			t.Fatalf("doc = %+v, want %+v", d, want)
		}
		var wantIDs []string
		for _, src := range []string{"a b.md", "b.md", "de/x.md"} {
			for _, c := range chunks(src, map[string]int{"a b.md": 2, "b.md": 12, "de/x.md": 1}[src]) {
				wantIDs = append(wantIDs, c.ID)
			}
		}
		if got := chunkIDs(t, s); !slices.Equal(got, wantIDs) {
			t.Fatalf("chunks %q, want %q (by source, then position)", got, wantIDs)
		}
		all, _ := s.Chunks(ctx)
		if c := all[0]; c != chunks("a b.md", 1)[0] {
			t.Fatalf("chunk = %+v, want it as written", c)
		}
		// Times come back as a database keeps them, without the monotonic
		// clock reading time.Now has.
		now := time.Now()
		if err := s.PutDoc(ctx, kb.Doc{Source: "now.md", ModTime: now, Synced: now}, nil); err != nil {
			t.Fatal(err)
		}
		docs, _ = s.Docs(ctx)
		if d := docs[len(docs)-1]; d.Source != "now.md" || !d.Synced.Equal(now) || d.Synced != d.Synced.Round(0) || d.ModTime != d.ModTime.Round(0) {
			t.Fatalf("doc = %+v, want its times without a monotonic clock reading", d)
		}
	})

	t.Run("PutDocReplacesChunks", func(t *testing.T) {
		s, ctx := newStore(t), context.Background()
		for _, d := range []kb.Doc{doc("a.md", "A", 3), doc("b.md", "B", 2)} {
			if err := s.PutDoc(ctx, d, chunks(d.Source, d.Chunks)); err != nil {
				t.Fatal(err)
			}
		}
		// Fewer chunks replace all of the old ones.
		if err := s.PutDoc(ctx, doc("a.md", "A2", 1), []kb.Chunk{{ID: "a.md#0", Source: "a.md", Text: "new"}}); err != nil {
			t.Fatal(err)
		}
		if got, want := chunkIDs(t, s), []string{"a.md#0", "b.md#0", "b.md#1"}; !slices.Equal(got, want) {
			t.Fatalf("after replacing: %q, want %q", got, want)
		}
		if all, _ := s.Chunks(ctx); all[0].Text != "new" {
			t.Fatalf("replaced chunk = %+v", all[0])
		}
		// Nil chunks: a touched file, only the document record changes.
		if err := s.PutDoc(ctx, doc("b.md", "B touched", 2), nil); err != nil {
			t.Fatal(err)
		}
		if got, want := chunkIDs(t, s), []string{"a.md#0", "b.md#0", "b.md#1"}; !slices.Equal(got, want) {
			t.Fatalf("after touching b.md: %q, want %q", got, want)
		}
		if docs, _ := s.Docs(ctx); len(docs) != 2 || docs[0].Title != "A2" || docs[1].Title != "B touched" {
			t.Fatalf("docs = %+v", docs)
		}
		// An empty, non-nil list: the document has no chunks any more.
		if err := s.PutDoc(ctx, doc("b.md", "B empty", 0), []kb.Chunk{}); err != nil {
			t.Fatal(err)
		}
		if got, want := chunkIDs(t, s), []string{"a.md#0"}; !slices.Equal(got, want) {
			t.Fatalf("after emptying b.md: %q, want %q", got, want)
		}
		if got := docSources(t, s); !slices.Equal(got, []string{"a.md", "b.md"}) {
			t.Fatalf("docs %q: the emptied document is still one", got)
		}
	})

	t.Run("DeleteDoc", func(t *testing.T) {
		s, ctx := newStore(t), context.Background()
		for _, d := range []kb.Doc{doc("a.md", "A", 2), doc("a.md.bak", "B", 1), {Source: "added/x", Origin: kb.OriginAdded, Title: "X", Chunks: 1}} {
			if err := s.PutDoc(ctx, d, chunks(d.Source, d.Chunks)); err != nil {
				t.Fatal(err)
			}
		}
		if err := s.DeleteDoc(ctx, "a.md"); err != nil {
			t.Fatal(err)
		}
		if err := s.DeleteDoc(ctx, "missing.md"); err != nil {
			t.Fatalf("deleting a missing document: %v", err)
		}
		if got, want := docSources(t, s), []string{"a.md.bak", "added/x"}; !slices.Equal(got, want) {
			t.Fatalf("docs %q, want %q", got, want)
		}
		if got, want := chunkIDs(t, s), []string{"a.md.bak#0", "added/x#0"}; !slices.Equal(got, want) {
			t.Fatalf("chunks %q, want %q: a source that starts like the deleted one keeps its chunks", got, want)
		}
		if docs, _ := s.Docs(ctx); docs[1].Origin != kb.OriginAdded {
			t.Fatalf("origin = %q", docs[1].Origin)
		}
	})

	vectorStore := func(t *testing.T) (kb.Store, kb.VectorStore) {
		t.Helper()
		s := newStore(t)
		vs, ok := s.(kb.VectorStore)
		if !ok {
			t.Skip("the store keeps no vectors")
		}
		return s, vs
	}
	vec := func(source string, i int, x float32) kb.Vector {
		return kb.Vector{ChunkID: fmt.Sprintf("%s#%d", source, i), Source: source, Model: "m", Hash: uint64(0xfeedface00000000) + uint64(i), Vec: []float32{x, 1 - x}}
	}
	vecIDs := func(t *testing.T, vs kb.VectorStore) []string {
		t.Helper()
		got, err := vs.Vectors(context.Background())
		if err != nil {
			t.Fatal(err)
		}
		var ids []string
		for _, v := range got {
			ids = append(ids, v.ChunkID)
		}
		return ids
	}

	t.Run("Vectors", func(t *testing.T) {
		s, vs := vectorStore(t)
		ctx := context.Background()
		if got := vecIDs(t, vs); len(got) != 0 {
			t.Fatalf("vectors of an empty store: %q", got)
		}
		if err := vs.PutVectors(ctx, nil); err != nil {
			t.Fatalf("putting no vectors: %v", err)
		}
		if err := vs.PutVectors(ctx, []kb.Vector{vec("b.md", 0, 0.1), vec("a/x.md", 1, 0.3), vec("a/x.md", 0, 0.2)}); err != nil {
			t.Fatal(err)
		}
		// Replacing one; a document with its chunks does not interfere.
		if err := vs.PutVectors(ctx, []kb.Vector{vec("b.md", 0, 0.9)}); err != nil {
			t.Fatal(err)
		}
		if err := s.PutDoc(ctx, doc("b.md", "B", 1), chunks("b.md", 1)); err != nil {
			t.Fatal(err)
		}
		if got, want := vecIDs(t, vs), []string{"a/x.md#0", "a/x.md#1", "b.md#0"}; !slices.Equal(got, want) {
			t.Fatalf("vectors %q, want %q (by source, then chunk id)", got, want)
		}
		if got := chunkIDs(t, s); !slices.Equal(got, []string{"b.md#0"}) {
			t.Fatalf("chunks %q: vectors are not chunks", got)
		}
		got, _ := vs.Vectors(ctx)
		if w := vec("a/x.md", 1, 0.3); got[1].Source != w.Source || got[1].Model != w.Model || got[1].Hash != w.Hash || !slices.Equal(got[1].Vec, w.Vec) {
			t.Fatalf("vector = %+v, want %+v", got[1], w)
		}
		if !slices.Equal(got[2].Vec, vec("b.md", 0, 0.9).Vec) {
			t.Fatalf("replaced vector: %v", got[2].Vec)
		}
		// What a caller does with a returned vector does not change the store.
		got[2].Vec[0] = -1
		if again, _ := vs.Vectors(ctx); again[2].Vec[0] != 0.9 {
			t.Fatalf("the store shares its vectors with a caller: %v", again[2].Vec)
		}

		if err := vs.DeleteVectors(ctx, []kb.Vector{{Source: "a/x.md", ChunkID: "a/x.md#0"}, {Source: "a/x.md", ChunkID: "a/x.md#1"}, {Source: "none", ChunkID: "none#0"}}); err != nil {
			t.Fatal(err)
		}
		if got := vecIDs(t, vs); !slices.Equal(got, []string{"b.md#0"}) {
			t.Fatalf("after delete: %q", got)
		}
		// A vector without a chunk id fails the whole write.
		if err := vs.PutVectors(ctx, []kb.Vector{vec("c.md", 0, 0.5), {Source: "x"}}); err == nil {
			t.Error("a vector without chunk id: no error")
		}
		if got := vecIDs(t, vs); !slices.Equal(got, []string{"b.md#0"}) {
			t.Fatalf("after a failed write: %q", got)
		}
	})
}
