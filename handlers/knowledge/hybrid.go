package knowledge

import (
	"cmp"
	"container/heap"
	"context"
	"errors"
	"math/bits"
	"runtime"
	"slices"
	"strings"
	"sync"

	"github.com/einsatz/einsatz/bot/kb"
)

// Hybrid search: a lexical ranking (the Index) and a vector ranking (cosine
// similarity of the question's embedding to every chunk's) are fused by
// reciprocal rank fusion: a chunk scores Σ 1/(rrfK + rank) over the rankings
// it appears in (rank from 1), so a chunk both rankings like beats one only
// one of them likes, and neither ranking's score scale matters.
//
// The vector ranking is brute force over a contiguous matrix of unit
// vectors. Up to exactWork multiply-adds (~5,000 chunks of 384 dimensions,
// ~1,300 of 1,536) it is the exact cosine of every chunk, split over two
// goroutines from parallelWork on. Past that, exact is too slow for the
// 5 ms budget (10,000 chunks × 1,536 dimensions: ~4 ms on one core of the
// reference machine, ~2 ms on two, far more under load), so it first ranks
// every chunk by the Hamming distance between sign bits (binary
// quantisation centred on the mean vector: 1,536 dimensions are 24 words,
// compared with POPCNT, ~0.1 ms for 10,000 chunks), then computes the exact
// cosine of the best max(rescorePerHit×N, minRescore) only (1,000 for the
// 40 candidates of a search). On clustered synthetic vectors (20,000 rows)
// that finds every one of the exact top 10 and ~75% of the exact top 40,
// whose ranks past the question's own document differ by noise only (see
// TestVectorSearchRecall). The float32 vectors are kept in memory (4 bytes
// × dimension per chunk: 61 MB for 10,000 × 1,536) besides the codes.

const rrfK = 60

// Tuning of the vector ranking; variables so tests can force each path.
var (
	exactWork     = 2 << 20 // multiply-adds up to which every chunk is compared exactly
	parallelWork  = 1 << 20 // multiply-adds from which two goroutines share the work
	rescorePerHit = 25
	minRescore    = 1000
)

// vectorIndex is the embeddings of the chunks in memory.
type vectorIndex struct {
	dim   int
	ids   []string
	rows  map[string]int // by chunk ID
	data  []float32      // len(ids) × dim, unit rows
	mean  []float32      // mean row: binary codes are signs of (row - mean)
	words int            // uint64s per code
	codes []uint64       // len(ids) × words
}

// newVectorIndex builds the matrix from vectors of one dimension (unit length).
func newVectorIndex(vecs []kb.Vector) *vectorIndex {
	if len(vecs) == 0 {
		return nil
	}
	dim := len(vecs[0].Vec)
	vi := &vectorIndex{dim: dim, rows: make(map[string]int, len(vecs)), words: (dim + 63) / 64}
	vi.ids = make([]string, 0, len(vecs))
	vi.data = make([]float32, 0, len(vecs)*dim)
	for _, v := range vecs {
		if len(v.Vec) != dim {
			continue
		}
		vi.rows[v.ChunkID] = len(vi.ids)
		vi.ids = append(vi.ids, v.ChunkID)
		vi.data = append(vi.data, v.Vec...)
	}
	n := len(vi.ids)
	sum := make([]float64, dim)
	for i := range n {
		for j, f := range vi.row(i) {
			sum[j] += float64(f)
		}
	}
	vi.mean = make([]float32, dim)
	for j := range sum {
		vi.mean[j] = float32(sum[j] / float64(n))
	}
	vi.codes = make([]uint64, n*vi.words)
	for i := range n {
		vi.encode(vi.row(i), vi.codes[i*vi.words:(i+1)*vi.words])
	}
	return vi
}

func (vi *vectorIndex) len() int {
	if vi == nil {
		return 0
	}
	return len(vi.ids)
}

func (vi *vectorIndex) row(i int) []float32 { return vi.data[i*vi.dim : (i+1)*vi.dim] }

// encode writes the binary code of v into code.
func (vi *vectorIndex) encode(v []float32, code []uint64) {
	clear(code)
	for j, f := range v {
		if f > vi.mean[j] {
			code[j>>6] |= 1 << (j & 63)
		}
	}
}

// similarity is the cosine of q (unit length) and the chunk's vector, and
// false when the chunk has none.
func (vi *vectorIndex) similarity(q []float32, id string) (float64, bool) {
	if vi == nil || len(q) != vi.dim {
		return 0, false
	}
	i, ok := vi.rows[id]
	if !ok {
		return 0, false
	}
	return float64(dotF32(q, vi.row(i))), true
}

type scored struct {
	row int
	sim float32
}

// search returns the n rows most similar to q (unit length), best first.
func (vi *vectorIndex) search(q []float32, n int) []scored {
	if vi == nil || n <= 0 || len(q) != vi.dim {
		return nil
	}
	if len(vi.ids)*vi.dim <= exactWork {
		return vi.exact(q, n, nil)
	}
	return vi.exact(q, n, vi.prefilter(q, max(rescorePerHit*n, minRescore)))
}

// exact ranks the rows (all when rows is nil) by exact cosine.
func (vi *vectorIndex) exact(q []float32, n int, rows []int32) []scored {
	total := len(rows)
	if rows == nil {
		total = len(vi.ids)
	}
	workers := 1
	if total*vi.dim >= parallelWork && runtime.GOMAXPROCS(0) > 1 {
		workers = 2
	}
	parts := make([][]scored, workers)
	var wg sync.WaitGroup
	for w := range workers {
		from, to := w*total/workers, (w+1)*total/workers
		wg.Add(1)
		go func() {
			defer wg.Done()
			parts[w] = vi.topRows(q, n, rows, from, to)
		}()
	}
	wg.Wait()
	out := slices.Concat(parts...)
	slices.SortFunc(out, func(a, b scored) int {
		if c := cmp.Compare(b.sim, a.sim); c != 0 {
			return c
		}
		return cmp.Compare(a.row, b.row)
	})
	if len(out) > n {
		out = out[:n]
	}
	return out
}

// topRows returns the best n of the rows from..to (indexes into rows, or
// rows themselves when rows is nil), in no order.
func (vi *vectorIndex) topRows(q []float32, n int, rows []int32, from, to int) []scored {
	h := make(minHeap, 0, n+1)
	for j := from; j < to; j++ {
		i := j
		if rows != nil {
			i = int(rows[j])
		}
		s := dotF32(q, vi.row(i))
		if len(h) < n {
			heap.Push(&h, scored{i, s})
		} else if s > h[0].sim || (s == h[0].sim && i < h[0].row) {
			h[0] = scored{i, s}
			heap.Fix(&h, 0)
		}
	}
	return h
}

// prefilter returns about m rows whose binary codes are nearest to q's.
func (vi *vectorIndex) prefilter(q []float32, m int) []int32 {
	code := make([]uint64, vi.words)
	vi.encode(q, code)
	n := len(vi.ids)
	dist := make([]uint16, n)
	w := vi.words
	for i := range n {
		c := vi.codes[i*w : (i+1)*w : (i+1)*w]
		d := 0
		for j, x := range c {
			d += bits.OnesCount64(x ^ code[j])
		}
		dist[i] = uint16(d)
	}
	// The m-th smallest distance, by counting (distances are at most dim).
	counts := make([]int, vi.dim+1)
	for _, d := range dist {
		counts[d]++
	}
	limit, total := 0, 0
	for limit = range counts {
		total += counts[limit]
		if total >= m {
			break
		}
	}
	atLimit := m - (total - counts[limit]) // rows at the limit distance to take
	out := make([]int32, 0, m)
	for i, d := range dist {
		switch {
		case int(d) < limit:
			out = append(out, int32(i))
		case int(d) == limit && atLimit > 0:
			out = append(out, int32(i))
			atLimit--
		}
	}
	return out
}

// dotF32 is the dot product of two vectors of the same length.
func dotF32(a, b []float32) float32 {
	b = b[:len(a)]
	var s0, s1, s2, s3 float32
	i := 0
	for ; i+8 <= len(a); i += 8 {
		aa, bb := a[i:i+8:i+8], b[i:i+8:i+8]
		s0 += aa[0]*bb[0] + aa[4]*bb[4]
		s1 += aa[1]*bb[1] + aa[5]*bb[5]
		s2 += aa[2]*bb[2] + aa[6]*bb[6]
		s3 += aa[3]*bb[3] + aa[7]*bb[7]
	}
	for ; i < len(a); i++ {
		s0 += a[i] * b[i]
	}
	return (s0 + s1) + (s2 + s3)
}

// minHeap keeps the best n rows seen, worst on top.
type minHeap []scored

func (h minHeap) Len() int { return len(h) }
func (h minHeap) Less(i, j int) bool {
	if h[i].sim != h[j].sim {
		return h[i].sim < h[j].sim
	}
	return h[i].row > h[j].row
}
func (h minHeap) Swap(i, j int) { h[i], h[j] = h[j], h[i] }
func (h *minHeap) Push(x any)   { *h = append(*h, x.(scored)) }
func (h *minHeap) Pop() any {
	old := *h
	x := old[len(old)-1]
	*h = old[:len(old)-1]
	return x
}

// fuse combines the lexical hits (best first, with Coverage) and the vector
// ranking into the top k by reciprocal rank fusion. Every hit gets its
// Similarity when its chunk has a vector, and its Coverage computed the
// same way whether the lexical ranking found it or not.
func fuse(ix *Index, q string, lex []Hit, vi *vectorIndex, qv []float32, vec []scored, k int) []Hit {
	type cand struct {
		hit      Hit
		fused    float64
		lexRank  int // from 1; 0 when not found lexically
		lexFound bool
	}
	byID := make(map[string]*cand, len(lex)+len(vec))
	order := make([]*cand, 0, len(lex)+len(vec))
	for r, h := range lex {
		c := &cand{hit: h, fused: 1 / float64(rrfK+r+1), lexRank: r + 1, lexFound: true}
		byID[h.ID] = c
		order = append(order, c)
	}
	for r, s := range vec {
		id := vi.ids[s.row]
		if c, ok := byID[id]; ok {
			c.fused += 1 / float64(rrfK+r+1)
			continue
		}
		e, ok := ix.chunks[id]
		if !ok {
			continue // a vector of a chunk the index no longer has
		}
		c := &cand{hit: Hit{Chunk: e.chunk}, fused: 1 / float64(rrfK+r+1)}
		byID[id] = c
		order = append(order, c)
	}
	slices.SortStableFunc(order, func(a, b *cand) int {
		if c := cmp.Compare(b.fused, a.fused); c != 0 {
			return c
		}
		// Ties (one rank in each list): the lexical ranking decides, as
		// its matches are the ones the question's words support.
		if a.lexFound != b.lexFound {
			if a.lexFound {
				return -1
			}
			return 1
		}
		if a.lexFound {
			return cmp.Compare(a.lexRank, b.lexRank)
		}
		return strings.Compare(a.hit.ID, b.hit.ID)
	})
	if len(order) > k {
		order = order[:k]
	}
	var qt queryTerms
	hits := make([]Hit, len(order))
	for i, c := range order {
		h := c.hit
		h.Score = c.fused
		if !c.lexFound {
			if qt == nil {
				qt = ix.analyzeQuery(q)
			}
			ix.features(qt, &h)
		}
		if sim, ok := vi.similarity(qv, h.ID); ok {
			h.Similarity = sim
		}
		hits[i] = h
	}
	return hits
}

// queryVector is the question's embedding (unit length), from the cache
// or the embedder, or nil when it cannot be had quickly.
func (b *Base) queryVector(ctx context.Context, q string) []float32 {
	if v, ok := b.qcache.Get(q); ok {
		return v
	}
	if until := b.embedPause.Load(); until != 0 && b.now().UnixNano() < until {
		return nil
	}
	ctx, cancel := context.WithTimeout(ctx, b.eopts.QueryTimeout)
	defer cancel()
	got, err := b.emb.Embed(ctx, []string{q})
	if err == nil && (len(got) != 1 || !normalize(got[0])) {
		err = errDimension
	}
	if err != nil {
		if errors.Is(ctx.Err(), context.Canceled) {
			return nil // the caller gave up: not an outage
		}
		b.embedPause.Store(b.now().Add(b.eopts.Pause).UnixNano())
		b.log.Warn("knowledge: cannot embed the question; searching lexically", "err", err, "pause", b.eopts.Pause)
		return nil
	}
	b.qcache.Add(q, got[0])
	return got[0]
}

// Relevant reports whether a hit supports an answer: its lexical coverage
// reaches minCoverage, or, when minSimilarity > 0, the similarity of its
// embedding to the question's reaches minSimilarity. A hit the vector
// ranking found for a paraphrase has low coverage (its words differ from
// the question's) but high similarity. minSimilarity depends on the model
// (for OpenAI's text-embedding-3 models related passages score about 0.4
// to 0.7, unrelated text below 0.3); calibrate it on the evaluation set.
func (h Hit) Relevant(minCoverage, minSimilarity float64) bool {
	return h.Coverage >= minCoverage || (minSimilarity > 0 && h.Similarity >= minSimilarity)
}
