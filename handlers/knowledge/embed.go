package knowledge

import (
	"context"
	"errors"
	"fmt"
	"hash/fnv"
	"math"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/einsatz/einsatz/bot/kb"
)

// Embedder turns texts into vectors, one per text and in order. The
// OpenAI-compatible client (adapters/openai) is one.
type Embedder interface {
	Embed(ctx context.Context, texts []string) ([][]float32, error)
}

// EmbedOptions configure embeddings; zero values get the defaults noted.
type EmbedOptions struct {
	// Model is the embedding model's name (llm.embedding_model), recorded
	// with every vector: when it changes, every chunk is embedded again.
	// Add the dimension when one is configured ("text-embedding-3-large/256").
	Model string
	// Batch is the number of chunks embedded per call; default 64.
	Batch int
	// BatchTimeout bounds one embedding call during a sync (including the
	// client's retries); default 1 minute.
	BatchTimeout time.Duration
	// QueryTimeout bounds embedding a question; past it the search is
	// lexical only. Default 2 s.
	QueryTimeout time.Duration
	// Pause is how long searches skip embedding the question after that
	// failed, so an outage costs one timeout, not one per question.
	// Default 30 s.
	Pause time.Duration
	// Candidates is how many chunks each ranking (lexical, vector) brings
	// to the fusion; default 40.
	Candidates int
	// CacheSize is the number of recent question vectors kept; default 1024.
	CacheSize int
}

func (o *EmbedOptions) defaults() {
	if o.Batch <= 0 {
		o.Batch = 64
	}
	if o.BatchTimeout <= 0 {
		o.BatchTimeout = time.Minute
	}
	if o.QueryTimeout <= 0 {
		o.QueryTimeout = 2 * time.Second
	}
	if o.Pause <= 0 {
		o.Pause = 30 * time.Second
	}
	if o.Candidates <= 0 {
		o.Candidates = 40
	}
	if o.CacheSize <= 0 {
		o.CacheSize = 1024
	}
}

// maxEmbedText caps the text embedded per chunk (in bytes), well inside the
// input limit of embedding models (8,191 tokens for OpenAI's).
const maxEmbedText = 8000

// embedText is what is embedded for a chunk: its title, heading path and
// text, so a section is found by what its document is about too.
func embedText(c kb.Chunk) string {
	var b strings.Builder
	b.WriteString(c.Title)
	if c.Heading != "" {
		b.WriteString(" > ")
		b.WriteString(c.Heading)
	}
	b.WriteString("\n\n")
	b.WriteString(c.Text)
	s := b.String()
	if len(s) > maxEmbedText {
		cut := maxEmbedText
		for cut > 0 && !utf8.RuneStart(s[cut]) {
			cut--
		}
		s = s[:cut]
	}
	return s
}

// vectorHash identifies what a vector was made from.
func vectorHash(model, text string) uint64 {
	h := fnv.New64a()
	h.Write([]byte(model))
	h.Write([]byte{0})
	h.Write([]byte(text))
	return h.Sum64()
}

// normalize scales v to unit length in place; it reports false for a zero
// or non-finite vector, which cannot be compared.
func normalize(v []float32) bool {
	var sum float64
	for _, f := range v {
		sum += float64(f) * float64(f)
	}
	if sum == 0 || math.IsNaN(sum) || math.IsInf(sum, 0) {
		return false
	}
	inv := 1 / math.Sqrt(sum)
	for i, f := range v {
		v[i] = float32(float64(f) * inv)
	}
	return true
}

// vectorPlan is what the stored vectors mean for the current chunks.
type vectorPlan struct {
	keep    []kb.Vector // up to date
	missing []kb.Chunk  // to embed
	stale   []kb.Vector // to delete: their chunk is gone or changed, or another model made them
}

// planVectors sorts the stored vectors against the current chunks.
func planVectors(model string, chunks []kb.Chunk, stored []kb.Vector) vectorPlan {
	want := make(map[string]uint64, len(chunks))
	for _, c := range chunks {
		want[c.ID] = vectorHash(model, embedText(c))
	}
	// The dimension of this model's vectors: the most common one (a change
	// of the configured dimension makes the others stale).
	dims := map[int]int{}
	for _, v := range stored {
		if v.Model == model {
			dims[len(v.Vec)]++
		}
	}
	dim, most := 0, 0
	for d, n := range dims {
		if n > most || (n == most && d > dim) {
			dim, most = d, n
		}
	}
	var p vectorPlan
	have := make(map[string]bool, len(stored))
	for _, v := range stored {
		h, ok := want[v.ChunkID]
		if ok && v.Model == model && v.Hash == h && len(v.Vec) == dim && dim > 0 && !have[v.ChunkID] {
			have[v.ChunkID] = true
			p.keep = append(p.keep, v)
			continue
		}
		p.stale = append(p.stale, v)
	}
	for _, c := range chunks {
		if !have[c.ID] {
			p.missing = append(p.missing, c)
		}
	}
	return p
}

// errDimension is returned when an embedder's vectors change length.
var errDimension = errors.New("knowledge: the embedder returned vectors of another dimension")

// embedChunks embeds chunks in batches and stores each batch as it comes.
// It stops at the first failure and returns what was embedded until then.
func (b *Base) embedChunks(ctx context.Context, vs kb.VectorStore, chunks []kb.Chunk, dim int) ([]kb.Vector, error) {
	var out []kb.Vector
	for start := 0; start < len(chunks); start += b.eopts.Batch {
		batch := chunks[start:min(start+b.eopts.Batch, len(chunks))]
		texts := make([]string, len(batch))
		for i, c := range batch {
			texts[i] = embedText(c)
		}
		bctx, cancel := context.WithTimeout(ctx, b.eopts.BatchTimeout)
		got, err := b.emb.Embed(bctx, texts)
		cancel()
		if err != nil {
			return out, fmt.Errorf("knowledge: embed chunks: %w", err)
		}
		if len(got) != len(batch) {
			return out, fmt.Errorf("knowledge: embed chunks: %d vectors for %d texts", len(got), len(batch))
		}
		vecs := make([]kb.Vector, 0, len(batch))
		for i, c := range batch {
			v := got[i]
			if dim == 0 {
				dim = len(v)
			}
			if len(v) != dim {
				return out, fmt.Errorf("%w (%d, not %d)", errDimension, len(v), dim)
			}
			if !normalize(v) {
				b.log.Warn("knowledge: the embedder returned a zero vector; skipping the chunk", "chunk", c.ID)
				continue
			}
			vecs = append(vecs, kb.Vector{ChunkID: c.ID, Source: c.Source, Model: b.eopts.Model, Hash: vectorHash(b.eopts.Model, texts[i]), Vec: v})
		}
		if err := vs.PutVectors(ctx, vecs); err != nil {
			return out, err
		}
		out = append(out, vecs...)
	}
	return out, nil
}
