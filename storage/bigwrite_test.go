package storage

import (
	"context"
	"fmt"
	"strings"
	"testing"

	"github.com/einsatz/einsatz/bot/kb"
)

// A large document (1.5 MB of chunks) and a batch of 64 embeddings of 3,072
// dimensions (790 kB) are more than one Badger transaction holds: they are
// written in pages, and read back whole.
func TestLargeDocumentAndVectorBatchAreStored(t *testing.T) {
	ctx := context.Background()
	s, err := Open(Options{Path: t.TempDir()})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	store := NewKB(s)

	text := strings.Repeat("Einsatz answers questions from the knowledge base. ", 30) // ~1.5 kB
	var chunks []kb.Chunk
	for i := range 1000 {
		chunks = append(chunks, kb.Chunk{ID: fmt.Sprintf("big.md#%d", i), Source: "big.md", Text: text})
	}
	if err := store.PutDoc(ctx, kb.Doc{Source: "big.md", Origin: kb.OriginFile}, chunks); err != nil {
		t.Fatalf("PutDoc of a 1.5 MB document: %v", err)
	}
	// Replacing it with fewer chunks leaves none of the old ones behind.
	if err := store.PutDoc(ctx, kb.Doc{Source: "big.md", Origin: kb.OriginFile}, chunks[:700]); err != nil {
		t.Fatalf("PutDoc again: %v", err)
	}
	got, err := store.Chunks(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != 700 {
		t.Fatalf("%d chunks stored, want 700", len(got))
	}
	docs, err := store.Docs(ctx)
	if err != nil || len(docs) != 1 || docs[0].Source != "big.md" {
		t.Fatalf("Docs = %v, %v; want big.md", docs, err)
	}

	vecs := make([]kb.Vector, 64)
	for i := range vecs {
		v := make([]float32, 3072)
		v[i] = 1
		vecs[i] = kb.Vector{ChunkID: chunks[i].ID, Source: "big.md", Model: "text-embedding-3-large", Vec: v}
	}
	if err := store.PutVectors(ctx, vecs); err != nil {
		t.Fatalf("PutVectors of 64 × 3,072 dimensions: %v", err)
	}
	stored, err := store.Vectors(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if len(stored) != len(vecs) {
		t.Fatalf("%d vectors stored, want %d", len(stored), len(vecs))
	}
}

func TestPages(t *testing.T) {
	kb := func(n int) []byte { return make([]byte, n<<10) }
	tests := []struct {
		name   string
		values [][]byte
		want   [][2]int
	}{
		{"none", nil, nil},
		{"one small", [][]byte{kb(1)}, [][2]int{{0, 1}}},
		{"all fit", [][]byte{kb(100), kb(100), kb(56)}, [][2]int{{0, 3}}},
		{"split", [][]byte{kb(200), kb(100), kb(100), kb(200)}, [][2]int{{0, 1}, {1, 3}, {3, 4}}},
		{"one too large alone", [][]byte{kb(10), kb(400), kb(10)}, [][2]int{{0, 1}, {1, 2}, {2, 3}}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := pages(tt.values)
			if fmt.Sprint(got) != fmt.Sprint(tt.want) {
				t.Fatalf("pages = %v, want %v", got, tt.want)
			}
		})
	}
}
