// Package kbtest checks a kb.Store (and a kb.VectorStore): Run is the
// conformance suite every implementation passes (storage.KB and Mem), and
// Mem is the in-memory store handler tests use instead of a database.
package kbtest

import (
	"cmp"
	"context"
	"errors"
	"net/url"
	"slices"
	"sync"
	"time"

	"github.com/einsatz/einsatz/bot/kb"
)

// Mem is a kb.Store and kb.VectorStore in memory, safe for concurrent use.
//
// It lists records in the order storage.KB's keys sort in — by the
// path-escaped source, then position or chunk id — so a test sees the same
// order on either store, also for sources where escaping changes it
// ("a/x.md" before "a.md").
type Mem struct {
	mu     sync.Mutex
	docs   map[string]kb.Doc
	chunks map[string][]kb.Chunk // by source, in position
	vecs   map[vecKey]kb.Vector
}

type vecKey struct{ source, chunkID string }

// NewMem returns an empty store.
func NewMem() *Mem {
	return &Mem{docs: map[string]kb.Doc{}, chunks: map[string][]kb.Chunk{}, vecs: map[vecKey]kb.Vector{}}
}

var (
	_ kb.Store       = (*Mem)(nil)
	_ kb.VectorStore = (*Mem)(nil)
)

// stored is t as storage.KB reads it back from its JSON: without a
// monotonic clock reading, its zone as RFC 3339 decoding makes it — so a
// document compares equal to one that went through the web API.
func stored(t time.Time) time.Time {
	b, err := t.MarshalText()
	if err != nil { // a year outside 0–9999: storage.KB would fail too
		return t.Round(0)
	}
	var back time.Time
	if err := back.UnmarshalText(b); err != nil {
		return t.Round(0)
	}
	return back
}

// sourceOrder compares sources as storage.KB's document keys sort.
func sourceOrder(a, b string) int { return cmp.Compare(url.PathEscape(a), url.PathEscape(b)) }

// Docs implements kb.Store.
func (s *Mem) Docs(ctx context.Context) ([]kb.Doc, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	var out []kb.Doc
	for _, d := range s.docs {
		out = append(out, d)
	}
	slices.SortFunc(out, func(a, b kb.Doc) int { return sourceOrder(a.Source, b.Source) })
	return out, ctx.Err()
}

// PutDoc implements kb.Store.
func (s *Mem) PutDoc(_ context.Context, doc kb.Doc, chunks []kb.Chunk) error {
	doc.ModTime, doc.Synced = stored(doc.ModTime), stored(doc.Synced)
	s.mu.Lock()
	defer s.mu.Unlock()
	s.docs[doc.Source] = doc
	switch {
	case chunks == nil: // a touched file: its chunks stay
	case len(chunks) == 0:
		delete(s.chunks, doc.Source)
	default:
		s.chunks[doc.Source] = slices.Clone(chunks)
	}
	return nil
}

// DeleteDoc implements kb.Store.
func (s *Mem) DeleteDoc(_ context.Context, source string) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	delete(s.docs, source)
	delete(s.chunks, source)
	return nil
}

// Chunks implements kb.Store.
func (s *Mem) Chunks(ctx context.Context) ([]kb.Chunk, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	sources := make([]string, 0, len(s.chunks))
	for src := range s.chunks {
		sources = append(sources, src)
	}
	// storage.KB's chunk keys end the escaped source with "/", so "a"
	// sorts after "a.b" there.
	slices.SortFunc(sources, func(a, b string) int { return cmp.Compare(url.PathEscape(a)+"/", url.PathEscape(b)+"/") })
	var out []kb.Chunk
	for _, src := range sources {
		out = append(out, s.chunks[src]...)
	}
	return out, ctx.Err()
}

// Vectors implements kb.VectorStore.
func (s *Mem) Vectors(ctx context.Context) ([]kb.Vector, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	keys := make([]vecKey, 0, len(s.vecs))
	for k := range s.vecs {
		keys = append(keys, k)
	}
	slices.SortFunc(keys, func(a, b vecKey) int {
		return cmp.Compare(url.PathEscape(a.source)+"/"+url.PathEscape(a.chunkID), url.PathEscape(b.source)+"/"+url.PathEscape(b.chunkID))
	})
	out := make([]kb.Vector, 0, len(keys))
	for _, k := range keys {
		v := s.vecs[k]
		v.Vec = slices.Clone(v.Vec)
		out = append(out, v)
	}
	return out, ctx.Err()
}

// PutVectors implements kb.VectorStore: all of them or, on an error, none.
func (s *Mem) PutVectors(_ context.Context, vecs []kb.Vector) error {
	for _, v := range vecs {
		if v.ChunkID == "" {
			return errors.New("kbtest: put knowledge vector: no chunk id")
		}
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, v := range vecs {
		v.Vec = slices.Clone(v.Vec)
		s.vecs[vecKey{v.Source, v.ChunkID}] = v
	}
	return nil
}

// DeleteVectors implements kb.VectorStore.
func (s *Mem) DeleteVectors(_ context.Context, vecs []kb.Vector) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, v := range vecs {
		delete(s.vecs, vecKey{v.Source, v.ChunkID})
	}
	return nil
}
