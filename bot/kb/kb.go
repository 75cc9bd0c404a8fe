// Package kb holds the knowledge base's stored records — documents as
// last synced, their chunks, the chunks' embeddings — and the interfaces
// of the stores that keep them. It is a leaf: storage implements them,
// handlers/knowledge syncs and searches over them.
package kb

import (
	"context"
	"time"
)

// Doc is one knowledge document as last synced. Documents come from the
// configured folders ("file": kept in step with the files) or were added
// through einsatz (`einsatz kb add`, a saved staff reply: "added").
type Doc struct {
	Source  string    `json:"source"`
	Origin  string    `json:"origin"`
	Title   string    `json:"title"`
	URL     string    `json:"url,omitempty"`
	Hash    string    `json:"hash"` // sha256 of the content
	Size    int64     `json:"size"`
	ModTime time.Time `json:"mod_time"`
	Chunks  int       `json:"chunks"`
	Synced  time.Time `json:"synced"`
	BaseURL string    `json:"base_url,omitempty"` // the folder's base URL it was cited with
}

// Document origins.
const (
	OriginFile  = "file"
	OriginAdded = "added"
)

// Chunk is one retrievable piece of the knowledge base: a section of a
// Markdown file, or a group of paragraphs of a text file.
type Chunk struct {
	ID      string // stable: source path + "#" + index
	Source  string // path relative to the root it was loaded from, slash-separated, e.g. "en/what-is-einsatz.md"
	Title   string // document title (front matter title, else first # heading, else file name)
	Heading string // heading path within the document, e.g. "Installation > From source" ("" for the intro)
	URL     string // front matter url, "" if none
	Text    string // the section's text (Markdown as written, without the heading line)
	Lang    string // "en" or "de" (front matter `lang:` if present, else guessed from words)
}

// Vector is the stored embedding of one chunk.
type Vector struct {
	ChunkID string
	Source  string
	// Model names the embedding model that made the vector; a vector of
	// another model is stale.
	Model string
	// Hash is the hash of the model name and the embedded text (title,
	// heading and text of the chunk): a vector whose chunk changed is stale.
	Hash uint64
	Vec  []float32 // unit length
}

// Store keeps documents and their chunks; storage.KB implements it,
// kbtest.Mem is the in-memory fake, and kbtest.Run checks both alike.
type Store interface {
	// Docs returns every document, in source order.
	Docs(ctx context.Context) ([]Doc, error)
	// PutDoc stores a document and replaces its chunks in one write; with
	// chunks nil only the document record changes (a touched file).
	PutDoc(ctx context.Context, doc Doc, chunks []Chunk) error
	// DeleteDoc removes a document and its chunks.
	DeleteDoc(ctx context.Context, source string) error
	// Chunks returns every chunk, by source and position.
	Chunks(ctx context.Context) ([]Chunk, error)
}

// VectorStore keeps chunk embeddings; storage.KB implements it. A
// knowledge base whose Store is not a VectorStore searches lexically only.
type VectorStore interface {
	// Vectors returns every stored embedding, by source and chunk id.
	Vectors(ctx context.Context) ([]Vector, error)
	// PutVectors stores embeddings, replacing those of the same chunks.
	PutVectors(ctx context.Context, vecs []Vector) error
	// DeleteVectors removes the embeddings of the chunks that Source and
	// ChunkID name (the rest is ignored).
	DeleteVectors(ctx context.Context, vecs []Vector) error
}
