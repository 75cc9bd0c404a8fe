package storage

import (
	"context"
	"math"
	"slices"
	"testing"

	"github.com/dgraph-io/badger/v4"

	"github.com/einsatz/einsatz/bot/kb"
)

func TestVectorEncoding(t *testing.T) {
	v := kb.Vector{ChunkID: "de/a b.md#3", Source: "de/a b.md", Model: "text-embedding-3-small", Hash: 0xfeedface12345678,
		Vec: []float32{0.5, -0.25, float32(math.Inf(1)), 1e-30}}
	got, err := decodeVector(encodeVector(v))
	if err != nil {
		t.Fatal(err)
	}
	if got.ChunkID != v.ChunkID || got.Source != v.Source || got.Model != v.Model || got.Hash != v.Hash || !slices.Equal(got.Vec, v.Vec) {
		t.Fatalf("round trip: %+v, want %+v", got, v)
	}
	enc := encodeVector(v)
	if n := len(enc); n != 1+1+len(v.Model)+1+len(v.ChunkID)+1+len(v.Source)+8+1+16 {
		t.Errorf("encoded size %d", n)
	}
	for _, bad := range [][]byte{nil, {2}, enc[:len(enc)-1], append(slices.Clone(enc), 0), enc[:5]} {
		if _, err := decodeVector(bad); err == nil {
			t.Errorf("decoding %d bytes: no error", len(bad))
		}
	}
}

func TestKBVectors(t *testing.T) {
	s := openTest(t, Options{InMemory: true})
	ctx := context.Background()
	vec := func(source string, i int, x float32) kb.Vector {
		return kb.Vector{ChunkID: source + "#" + string(rune('0'+i)), Source: source, Model: "m", Hash: uint64(i), Vec: []float32{x, 1 - x}}
	}
	if err := NewKB(s).PutVectors(ctx, []kb.Vector{vec("b.md", 0, 0.1), vec("a/x.md", 0, 0.2), vec("a/x.md", 1, 0.3)}); err != nil {
		t.Fatal(err)
	}
	// Replacing one; a chunk of a document and a knowledge document
	// record do not interfere.
	if err := NewKB(s).PutVectors(ctx, []kb.Vector{vec("b.md", 0, 0.9)}); err != nil {
		t.Fatal(err)
	}
	if err := NewKB(s).PutDoc(ctx, kb.Doc{Source: "b.md", Origin: kb.OriginFile}, []kb.Chunk{{ID: "b.md#0", Source: "b.md", Text: "x"}}); err != nil {
		t.Fatal(err)
	}
	got, err := NewKB(s).Vectors(ctx)
	if err != nil {
		t.Fatal(err)
	}
	var ids []string
	for _, v := range got {
		ids = append(ids, v.ChunkID)
	}
	if want := []string{"a/x.md#0", "a/x.md#1", "b.md#0"}; !slices.Equal(ids, want) {
		t.Fatalf("ids %q, want %q", ids, want)
	}
	if got[2].Vec[0] != 0.9 {
		t.Errorf("replaced vector: %v", got[2].Vec)
	}
	if chunks, _ := NewKB(s).Chunks(ctx); len(chunks) != 1 {
		t.Errorf("chunks: %d", len(chunks))
	}

	// A malformed record is skipped.
	if err := s.commit(ctx, func(txn *badger.Txn) error { return txn.Set(vecKey("c.md", "c.md#0"), []byte{9}) }); err != nil {
		t.Fatal(err)
	}
	if got, err := NewKB(s).Vectors(ctx); err != nil || len(got) != 3 {
		t.Fatalf("with a malformed record: %d vectors, %v", len(got), err)
	}

	if err := NewKB(s).DeleteVectors(ctx, []kb.Vector{{Source: "a/x.md", ChunkID: "a/x.md#0"}, {Source: "a/x.md", ChunkID: "a/x.md#1"}, {Source: "none", ChunkID: "none#0"}}); err != nil {
		t.Fatal(err)
	}
	if got, _ := NewKB(s).Vectors(ctx); len(got) != 1 || got[0].ChunkID != "b.md#0" {
		t.Fatalf("after delete: %+v", got)
	}
	if err := NewKB(s).PutVectors(ctx, []kb.Vector{{Source: "x"}}); err == nil {
		t.Error("a vector without chunk id: no error")
	}
}

// Deleting more vectors than one commit takes works in pages.
func TestDeleteManyKBVectors(t *testing.T) {
	s := openTest(t, Options{InMemory: true})
	ctx := context.Background()
	var vecs []kb.Vector
	for i := range 2500 {
		vecs = append(vecs, kb.Vector{ChunkID: "big.md#" + string(rune('a'+i%26)) + string(rune('a'+i/26%26)) + string(rune('a'+i/676)), Source: "big.md", Model: "m", Vec: make([]float32, 64)})
	}
	for start := 0; start < len(vecs); start += 500 {
		if err := NewKB(s).PutVectors(ctx, vecs[start:start+500]); err != nil {
			t.Fatal(err)
		}
	}
	if got, _ := NewKB(s).Vectors(ctx); len(got) != 2500 {
		t.Fatalf("stored %d", len(got))
	}
	if err := NewKB(s).DeleteVectors(ctx, vecs); err != nil {
		t.Fatal(err)
	}
	if got, _ := NewKB(s).Vectors(ctx); len(got) != 0 {
		t.Fatalf("left %d", len(got))
	}
}
