package knowledge

import (
	"context"
	"fmt"
	"log/slog"
	"math/rand"
	"os"
	"slices"
	"strings"
	"testing"
	"time"
	"unicode"

	"github.com/blevesearch/bleve/v2/analysis"
	"github.com/blevesearch/bleve/v2/analysis/lang/de"
	"github.com/blevesearch/bleve/v2/analysis/lang/en"
	"github.com/blevesearch/bleve/v2/registry"
	lru "github.com/hashicorp/golang-lru/v2"

	"github.com/einsatz/einsatz/bot/kb"
)

// synthVocab returns the words of the example knowledge base per language,
// most frequent first, split into stop words (which the language's analyzer
// drops) and content words.
func synthVocab(tb testing.TB) (stop, content map[string][]string) {
	counts := map[string]map[string]int{"en": {}, "de": {}}
	for _, c := range loadKB(tb) {
		for _, w := range strings.FieldsFunc(c.Title+" "+c.Heading+" "+c.Text, func(r rune) bool {
			return !unicode.IsLetter(r) && r != '-'
		}) {
			if w = strings.Trim(w, "-"); w != "" {
				counts[c.Lang][w]++
			}
		}
	}
	stop, content = map[string][]string{}, map[string][]string{}
	an := map[string]analysis.Analyzer{"en": analyzerNamed(tb, en.AnalyzerName), "de": analyzerNamed(tb, de.AnalyzerName)}
	for l, m := range counts {
		ws := make([]string, 0, len(m))
		for w := range m {
			ws = append(ws, w)
		}
		slices.SortFunc(ws, func(a, b string) int {
			if d := m[b] - m[a]; d != 0 {
				return d
			}
			return strings.Compare(a, b)
		})
		for _, w := range ws {
			if len(an[l].Analyze([]byte(w))) == 0 {
				stop[l] = append(stop[l], w)
			} else {
				content[l] = append(content[l], w)
			}
		}
	}
	return stop, content
}

func analyzerNamed(tb testing.TB, name string) analysis.Analyzer {
	a, err := registry.NewCache().AnalyzerNamed(name)
	if err != nil {
		tb.Fatal(err)
	}
	return a
}

// synthChunks generates n chunks of about 100 words, alternately English
// and German, five chunks (sections) per document. It is deterministic.
//
// The words come from the example knowledge base, modelled on real
// documentation, where stop words are everywhere and content words cluster
// by topic: half of a chunk's words are drawn (Zipf-distributed) from the
// knowledge base's stop words of its language, the other half from its document's topic, 30 content words drawn (Zipf, so the
// knowledge base's frequent content words are frequent topics) from the
// knowledge base's other words and 5,000 compounds of them
// ("slackworkspace", "datenbankserverprotokoll"), which stand in for the
// larger vocabulary of a real 10,000-chunk knowledge base. One word in ten
// comes from the other language.
func synthChunks(tb testing.TB, n int) []kb.Chunk {
	const (
		nCompounds = 5000
		topicSize  = 30
	)
	rng := rand.New(rand.NewSource(1))
	type langVocab struct {
		common, content []string
		zCommon         *rand.Zipf
		zContent        *rand.Zipf
	}
	vocab := map[string]*langVocab{}
	stop, content := synthVocab(tb)
	for l := range stop {
		v := &langVocab{common: stop[l], content: content[l]}
		kb := len(v.content)
		for range nCompounds {
			a, b := v.content[rng.Intn(kb)], v.content[rng.Intn(kb)]
			v.content = append(v.content, a+strings.ToLower(b))
		}
		v.zCommon = rand.NewZipf(rng, 1.1, 1, uint64(len(v.common)-1))
		v.zContent = rand.NewZipf(rng, 1.0001, 50, uint64(len(v.content)-1))
		vocab[l] = v
	}
	other := map[string]string{"en": "de", "de": "en"}
	topic := map[string][]string{}
	phrase := func(l string, words int) string {
		var b strings.Builder
		for i := range words {
			if i > 0 {
				b.WriteByte(' ')
			}
			wl := l
			if rng.Intn(10) == 0 {
				wl = other[l]
			}
			v := vocab[wl]
			switch {
			case rng.Intn(2) == 0:
				b.WriteString(v.common[v.zCommon.Uint64()])
			case wl == l:
				b.WriteString(topic[l][rng.Intn(topicSize)])
			default:
				b.WriteString(v.content[v.zContent.Uint64()])
			}
			if i%12 == 11 {
				b.WriteByte('.')
			}
		}
		return b.String()
	}
	chunks := make([]kb.Chunk, n)
	for i := range chunks {
		l := "en"
		if i%2 == 1 {
			l = "de"
		}
		doc := i / 10 // five sections per document and language
		if i%10 < 2 {
			v := vocab[l]
			topic[l] = topic[l][:0]
			for range topicSize {
				topic[l] = append(topic[l], v.content[v.zContent.Uint64()])
			}
		}
		src := fmt.Sprintf("%s/doc-%04d.md", l, doc)
		chunks[i] = kb.Chunk{
			ID:      fmt.Sprintf("%s#%d", src, i%10/2),
			Source:  src,
			Title:   phrase(l, 4),
			Heading: phrase(l, 3),
			Text:    phrase(l, 90+rng.Intn(21)),
			Lang:    l,
		}
	}
	return chunks
}

// benchQueries are the queries of the retrieval evaluation set.
func benchQueries(tb testing.TB) []string {
	f, err := os.Open("../../testdata/retrieval.jsonl")
	if err != nil {
		tb.Fatal(err)
	}
	defer f.Close()
	cases, err := ReadRetrievalCases(f)
	if err != nil {
		tb.Fatal(err)
	}
	qs := make([]string, len(cases))
	for i, c := range cases {
		qs[i] = c.Query
	}
	return qs
}

// BenchmarkSearch10k measures lexical search (top 5) over 10,000 synthetic
// chunks with the queries of the retrieval evaluation set, and reports the
// median and 99th percentile latency of single searches.
func BenchmarkSearch10k(b *testing.B) {
	ix := newTestIndex(b, synthChunks(b, 10000))
	queries := benchQueries(b)
	ctx := context.Background()
	// Warm up: the first searches page in the index.
	for _, q := range queries {
		if _, err := ix.Search(ctx, q, 5); err != nil {
			b.Fatal(err)
		}
	}
	var lat []time.Duration
	i := 0
	b.ReportAllocs()
	b.ResetTimer()
	for b.Loop() {
		start := time.Now()
		if _, err := ix.Search(ctx, queries[i%len(queries)], 5); err != nil {
			b.Fatal(err)
		}
		lat = append(lat, time.Since(start))
		i++
	}
	reportLatency(b, lat)
}

func reportLatency(b *testing.B, lat []time.Duration) {
	if len(lat) == 0 {
		return
	}
	slices.Sort(lat)
	pct := func(p float64) float64 {
		i := int(p * float64(len(lat)-1))
		return float64(lat[i].Nanoseconds()) / 1e3
	}
	b.ReportMetric(pct(0.50), "p50_µs")
	b.ReportMetric(pct(0.99), "p99_µs")
}

// BenchmarkIngest measures NewIndex over 2,000 synthetic chunks per
// operation and reports chunks per second.
func BenchmarkIngest(b *testing.B) {
	const n = 2000
	chunks := synthChunks(b, n)
	total := 0
	start := time.Now()
	for b.Loop() {
		ix, err := NewIndex(chunks)
		if err != nil {
			b.Fatal(err)
		}
		ix.Close()
		total += n
	}
	b.ReportMetric(float64(total)/time.Since(start).Seconds(), "chunks/s")
}

// BenchmarkIsQuestion measures the question detector over the frozen
// labelled set.
func BenchmarkIsQuestion(b *testing.B) {
	msgs := readLabelled(b, questionsFrozen)
	b.ReportAllocs()
	i := 0
	for b.Loop() {
		IsQuestion(msgs[i%len(msgs)].Text)
		i++
	}
}

// BenchmarkIsQuestionLong measures the detector on a long message (a pasted
// log), its worst case: two full windows.
func BenchmarkIsQuestionLong(b *testing.B) {
	msg := "I tried everything. " + strings.Repeat("level=info msg=\"sync done\" chunks=42 took=3ms\n", 100) + "Weiß jemand, woran das liegt?"
	b.ReportAllocs()
	for b.Loop() {
		IsQuestion(msg)
	}
}

// BenchmarkHybridSearch10k measures hybrid search (top 5: lexical top 40
// and vector top 40 fused) over 10,000 synthetic chunks with synthetic
// clustered embeddings of a realistic dimension (384: small local models;
// 1536: OpenAI's text-embedding-3-small), the queries of the retrieval
// evaluation set, each embedded as a noisy copy of one chunk's vector. The
// question vectors come from the cache, as for a repeated question: the
// embedding round trip (network, tens to hundreds of milliseconds) is not
// part of the figure. It reports the median and 99th percentile latency of
// hybrid searches (p50_µs, p99_µs), of lexical-only searches of the same
// queries interleaved with them (lex_p50_µs, lex_p99_µs), and of the
// vector ranking alone (vec_p50_µs, vec_p99_µs).
func BenchmarkHybridSearch10k(b *testing.B) {
	chunks := synthChunks(b, 10000)
	ix := newTestIndex(b, chunks)
	queries := benchQueries(b)
	ctx := context.Background()
	for _, dim := range []int{384, 1536} {
		b.Run(fmt.Sprintf("dim=%d", dim), func(b *testing.B) {
			vecs := synthVectors(len(chunks), dim, 1)
			vs := make([]kb.Vector, len(chunks))
			for i, c := range chunks {
				vs[i] = kb.Vector{ChunkID: c.ID, Source: c.Source, Vec: vecs[i]}
			}
			rng := rand.New(rand.NewSource(2))
			qv := make(map[string][]float32, len(queries))
			for _, q := range queries {
				qv[q] = synthQuery(rng, vecs[rng.Intn(len(vecs))])
			}
			base := &Base{log: slog.New(slog.DiscardHandler), now: time.Now, index: ix, vec: newVectorIndex(vs)}
			opts := EmbedOptions{Model: "bench"}
			opts.defaults()
			base.emb = EmbedderFunc(func(_ context.Context, texts []string) ([][]float32, error) {
				out := make([][]float32, len(texts))
				for i, t := range texts {
					out[i] = slices.Clone(qv[t])
				}
				return out, nil
			})
			base.eopts = opts
			base.qcache, _ = lru.New[string, []float32](opts.CacheSize)
			for _, q := range queries { // warm up, and fill the cache
				if _, err := base.Search(ctx, q, 5); err != nil {
					b.Fatal(err)
				}
			}
			var hyb, lex, vec []time.Duration
			i := 0
			b.ReportAllocs()
			b.ResetTimer()
			for b.Loop() {
				q := queries[i%len(queries)]
				start := time.Now()
				if _, err := base.Search(ctx, q, 5); err != nil {
					b.Fatal(err)
				}
				t1 := time.Now()
				if _, err := ix.Search(ctx, q, 5); err != nil {
					b.Fatal(err)
				}
				t2 := time.Now()
				base.vec.search(qv[q], opts.Candidates)
				hyb = append(hyb, t1.Sub(start))
				lex = append(lex, t2.Sub(t1))
				vec = append(vec, time.Since(t2))
				i++
			}
			reportLatency(b, hyb)
			reportNamedLatency(b, "lex_", lex)
			reportNamedLatency(b, "vec_", vec)
		})
	}
}

func reportNamedLatency(b *testing.B, prefix string, lat []time.Duration) {
	if len(lat) == 0 {
		return
	}
	slices.Sort(lat)
	pct := func(p float64) float64 {
		return float64(lat[int(p*float64(len(lat)-1))].Nanoseconds()) / 1e3
	}
	b.ReportMetric(pct(0.50), prefix+"p50_µs")
	b.ReportMetric(pct(0.99), prefix+"p99_µs")
}

// EmbedderFunc adapts a function to Embedder.
type EmbedderFunc func(ctx context.Context, texts []string) ([][]float32, error)

// Embed calls f.
func (f EmbedderFunc) Embed(ctx context.Context, texts []string) ([][]float32, error) {
	return f(ctx, texts)
}
