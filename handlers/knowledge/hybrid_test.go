package knowledge

import (
	"fmt"
	"math"
	"math/rand"
	"slices"
	"testing"

	"github.com/einsatz/einsatz/bot/kb"
)

// synthVectors returns n unit vectors clustered like text embeddings: a
// component common to all (embeddings are anisotropic), one per document
// (ten consecutive rows, like synthChunks) and one per chunk.
func synthVectors(n, dim int, seed int64) [][]float32 {
	rng := rand.New(rand.NewSource(seed))
	gauss := func() []float64 {
		v := make([]float64, dim)
		for i := range v {
			v[i] = rng.NormFloat64() / math.Sqrt(float64(dim))
		}
		return v
	}
	common := gauss()
	var topic []float64
	out := make([][]float32, n)
	for i := range out {
		if i%10 == 0 {
			topic = gauss()
		}
		own := gauss()
		v := make([]float32, dim)
		for j := range v {
			v[j] = float32(0.5*common[j] + topic[j] + 0.7*own[j])
		}
		normalize(v)
		out[i] = v
	}
	return out
}

// synthQuery is a question about row: its vector plus as much noise.
func synthQuery(rng *rand.Rand, row []float32) []float32 {
	q := make([]float32, len(row))
	s := 1 / math.Sqrt(float64(len(row)))
	for j := range q {
		q[j] = row[j] + float32(rng.NormFloat64()*s)
	}
	normalize(q)
	return q
}

func synthVectorIndex(vecs [][]float32) *vectorIndex {
	vs := make([]kb.Vector, len(vecs))
	for i, v := range vecs {
		vs[i] = kb.Vector{ChunkID: fmt.Sprint(i), Vec: v}
	}
	return newVectorIndex(vs)
}

func TestDotF32(t *testing.T) {
	for _, n := range []int{0, 1, 7, 8, 9, 384, 1537} {
		a, b := make([]float32, n), make([]float32, n)
		want := 0.0
		for i := range a {
			a[i], b[i] = float32(i%7)-3, float32(i%5)/4
			want += float64(a[i]) * float64(b[i])
		}
		if got := float64(dotF32(a, b)); math.Abs(got-want) > 1e-3*max(1, math.Abs(want)) {
			t.Errorf("dot of %d: %v, want %v", n, got, want)
		}
	}
}

// The exact ranking is exact (one goroutine or two alike); the prefiltered
// one (binary codes, then the exact cosine of the best 2,000) finds every
// one of the exact top 10. Beyond the ten rows of a query's document the
// synthetic vectors are unrelated, so ranks 11..40 differ by noise: their
// recall is logged, not asserted.
func TestVectorSearchRecall(t *testing.T) {
	defer func(e, p, m int) { exactWork, parallelWork, minRescore = e, p, m }(exactWork, parallelWork, minRescore)
	rows := 20000
	if testing.Short() { // (for -race runs) a tenth of the rows and of the rescored
		rows, minRescore = 2000, 200
	}
	for _, dim := range []int{384, 1536} {
		vi := synthVectorIndex(synthVectors(rows, dim, 7))
		rng := rand.New(rand.NewSource(3))
		const queries = 20
		found := map[int]int{}
		for range queries {
			q := synthQuery(rng, vi.row(rng.Intn(vi.len())))
			exactWork, parallelWork = math.MaxInt, math.MaxInt
			exact := vi.search(q, 40)
			parallelWork = 0
			if two := vi.search(q, 40); !slices.Equal(two, exact) {
				t.Fatalf("dim %d: two goroutines ranked differently", dim)
			}
			for i := 1; i < len(exact); i++ {
				if exact[i].sim > exact[i-1].sim {
					t.Fatalf("exact ranking not sorted at %d", i)
				}
			}
			best, bestSim := 0, float32(-2)
			for i := range vi.ids {
				if s := dotF32(q, vi.row(i)); s > bestSim {
					best, bestSim = i, s
				}
			}
			if exact[0].row != best {
				t.Fatalf("exact best %d, brute force %d", exact[0].row, best)
			}
			exactWork = 0
			for _, n := range []int{10, 40} {
				want := map[int]bool{}
				for _, s := range exact[:n] {
					want[s.row] = true
				}
				fast := vi.search(q, n)
				if testing.Short() {
					fast = vi.exact(q, n, vi.prefilter(q, max(rescorePerHit*n/10, minRescore)))
				}
				if len(fast) != n {
					t.Fatalf("prefiltered search returned %d rows", len(fast))
				}
				for _, s := range fast {
					if want[s.row] {
						found[n]++
					}
				}
			}
		}
		r10, r40 := float64(found[10])/(10*queries), float64(found[40])/(40*queries)
		t.Logf("dim %d, %d rows: prefiltered recall@10 %.3f, recall@40 %.3f", dim, rows, r10, r40)
		if r10 < 0.98 {
			t.Errorf("dim %d: prefiltered recall@10 %.3f: want ≥ 0.98", dim, r10)
		}
	}
}

// Reciprocal rank fusion, asserted by ranks: lexical ranking A B C D,
// vector ranking C E A. A: 1/61+1/63, C: 1/63+1/61 (tie: the better lexical
// rank, A, first), B: 1/62, E: 1/62 (tie: found lexically first), D: 1/64.
func TestFuseRRFRanks(t *testing.T) {
	var chunks []kb.Chunk
	for _, id := range []string{"A", "B", "C", "D", "E"} {
		chunks = append(chunks, kb.Chunk{ID: id, Source: id + ".md", Title: "doc " + id, Text: "alpha text of " + id, Lang: "en"})
	}
	chunks[4].Text = "unrelated words"
	ix := newTestIndex(t, chunks)
	unit := func(i int) []float32 {
		v := make([]float32, 8)
		v[i] = 1
		return v
	}
	vi := newVectorIndex([]kb.Vector{
		{ChunkID: "A", Vec: unit(0)}, {ChunkID: "B", Vec: unit(1)}, {ChunkID: "C", Vec: unit(2)},
		{ChunkID: "D", Vec: unit(3)}, {ChunkID: "E", Vec: unit(4)},
	})
	lex := []Hit{{Chunk: chunks[0], Coverage: 1}, {Chunk: chunks[1], Coverage: 1}, {Chunk: chunks[2], Coverage: 1}, {Chunk: chunks[3], Coverage: 1}}
	vec := []scored{{row: 2, sim: 0.9}, {row: 4, sim: 0.8}, {row: 0, sim: 0.7}}
	qv := []float32{0.7, 0, 0.9, 0, 0.8, 0, 0, 0}
	hits := fuse(ix, "alpha", lex, vi, qv, vec, 10)
	var got []string
	for _, h := range hits {
		got = append(got, h.ID)
	}
	if want := []string{"A", "C", "B", "E", "D"}; !slices.Equal(got, want) {
		t.Fatalf("fused ranking %q, want %q", got, want)
	}
	wantScore := map[string]float64{"A": 1.0/61 + 1.0/63, "C": 1.0/63 + 1.0/61, "B": 1.0 / 62, "E": 1.0 / 62, "D": 1.0 / 64}
	for _, h := range hits {
		if math.Abs(h.Score-wantScore[h.ID]) > 1e-12 {
			t.Errorf("%s: score %v, want %v", h.ID, h.Score, wantScore[h.ID])
		}
	}
	e := hits[3]
	if e.Coverage != 0 || math.Abs(e.Similarity-0.8) > 1e-6 {
		t.Errorf("vector-only hit E: coverage %v (want 0: no query word), similarity %v", e.Coverage, e.Similarity)
	}
	if hits[0].Coverage != 1 || math.Abs(hits[0].Similarity-0.7) > 1e-6 {
		t.Errorf("A: coverage %v, similarity %v", hits[0].Coverage, hits[0].Similarity)
	}
	if top := fuse(ix, "alpha", lex, vi, qv, vec, 2); len(top) != 2 || top[1].ID != "C" {
		t.Errorf("k=2: %+v", top)
	}
}
