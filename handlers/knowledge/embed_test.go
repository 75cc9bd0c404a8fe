package knowledge_test

import (
	"cmp"
	"context"
	"errors"
	"log/slog"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"
	"unicode"

	"github.com/einsatz/einsatz/adapters/openai"
	"github.com/einsatz/einsatz/adapters/openai/openaitest"
	"github.com/einsatz/einsatz/bot/kb"
	"github.com/einsatz/einsatz/bot/kb/kbtest"
	"github.com/einsatz/einsatz/handlers/knowledge"
)

// conceptEmbedder stands in for a real embedding model: openaitest's
// deterministic bag-of-words vectors, over words first mapped to concepts,
// so that a paraphrase ("comes back") lands near its target ("refund")
// although they share no word.
type conceptEmbedder struct {
	mu       sync.Mutex
	concepts map[string]string
	texts    []string // every text embedded, in order
	calls    int
	fail     error
	dims     int // default 256
}

func (e *conceptEmbedder) Embed(ctx context.Context, texts []string) ([][]float32, error) {
	e.mu.Lock()
	defer e.mu.Unlock()
	e.calls++
	if e.fail != nil {
		return nil, e.fail
	}
	e.texts = append(e.texts, texts...)
	out := make([][]float32, len(texts))
	for i, t := range texts {
		words := strings.FieldsFunc(strings.ToLower(t), func(r rune) bool { return !unicode.IsLetter(r) })
		for j, w := range words {
			if c, ok := e.concepts[w]; ok {
				words[j] = c
			}
		}
		out[i] = openaitest.Vector(strings.Join(words, " "), cmp.Or(e.dims, 256))
	}
	return out, nil
}

func (e *conceptEmbedder) embedded() []string {
	e.mu.Lock()
	defer e.mu.Unlock()
	out := slices.Clone(e.texts)
	e.texts = nil
	return out
}

func (e *conceptEmbedder) setFail(err error) {
	e.mu.Lock()
	e.fail = err
	e.mu.Unlock()
}

func newConceptEmbedder() *conceptEmbedder {
	return &conceptEmbedder{concepts: map[string]string{"refunds": "refund", "back": "refund", "returned": "refund"}}
}

var t0 = time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)

func writeRefundKB(t *testing.T, dir string) {
	write(t, dir, "billing.md", "# Billing\n\n## Refunds\n\nA refund is paid within fourteen days after cancellation.\n\n"+
		"## Refund requests\n\nWrite to support to ask for a refund.\n\n## Invoices\n\nInvoices are sent by email every month.\n", t0)
	write(t, dir, "account.md", "# Account\n\n## Money and plans\n\nPlans cost money every month; prices are on the website.\n\n"+
		"## Cancellation\n\nYou can cancel your plan in the settings.\n", t0)
}

func newHybridBase(t *testing.T, s *kbtest.Mem, dir string, e knowledge.Embedder, model string) *knowledge.Base {
	t.Helper()
	folders, err := knowledge.Folders([]string{dir}, nil)
	if err != nil {
		t.Fatal(err)
	}
	b := knowledge.NewBase(s, folders, slog.New(slog.DiscardHandler))
	if e != nil {
		b.SetEmbedder(e, knowledge.EmbedOptions{Model: model, Batch: 2})
	}
	t.Cleanup(func() { b.Close() })
	return b
}

func ids(hits []knowledge.Hit) []string {
	out := make([]string, len(hits))
	for i, h := range hits {
		out[i] = h.ID
	}
	return out
}

func storedVectors(t *testing.T, s *kbtest.Mem) map[string]kb.Vector {
	t.Helper()
	vecs, err := s.Vectors(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	out := map[string]kb.Vector{}
	for _, v := range vecs {
		out[v.ChunkID] = v
	}
	return out
}

// The question shares "money" with account.md's "Money and plans" (heading
// and text) and only "days" with the refund section: lexically the refund
// section is second. In the vector ranking ("comes back" ~ "refund") it is
// first, the refund requests (no word of the question) second and the money
// section third, so the fusion ranks refunds (2nd + 1st) over money (1st +
// 3rd) over requests (vector only).
func TestHybridLiftsLexicallyWeakMatch(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	writeRefundKB(t, dir)
	const q = "how many days until my money comes back"
	const (
		refunds  = "billing.md#0"
		requests = "billing.md#1"
		money    = "account.md#0"
	)

	lexical := newHybridBase(t, memStore(t), dir, nil, "")
	if _, err := lexical.Sync(ctx, nil); err != nil {
		t.Fatal(err)
	}
	hits, err := lexical.Search(ctx, q, 5)
	if err != nil {
		t.Fatal(err)
	}
	if got := ids(hits); len(got) < 2 || got[0] != money || got[1] != refunds {
		t.Fatalf("lexical ranking = %q: want %s, %s first", got, money, refunds)
	}

	e := newConceptEmbedder()
	s := memStore(t)
	b := newHybridBase(t, s, dir, e, "concepts")
	if _, err := b.Sync(ctx, nil); err != nil {
		t.Fatal(err)
	}
	if b.Vectors() != b.Len() || b.Len() != 5 {
		t.Fatalf("vectors = %d, chunks = %d: want 5 each", b.Vectors(), b.Len())
	}
	hits, err = b.Search(ctx, q, 5)
	if err != nil {
		t.Fatal(err)
	}
	got := ids(hits)
	want := []string{refunds, money, requests}
	if len(got) < 3 || !slices.Equal(got[:3], want) {
		t.Fatalf("hybrid ranking = %q: want %q first", got, want)
	}
	// Scores are the fused ones, and decrease; coverage stays lexical;
	// similarity is the cosine.
	r, m, req := hits[0], hits[1], hits[2]
	if !(r.Score > m.Score && m.Score > req.Score) || r.Score > 2.0/61 {
		t.Errorf("fused scores %v, %v, %v", r.Score, m.Score, req.Score)
	}
	if !(r.Similarity > req.Similarity && req.Similarity > m.Similarity && m.Similarity > 0) {
		t.Errorf("similarities refunds %.2f, requests %.2f, money %.2f", r.Similarity, req.Similarity, m.Similarity)
	}
	if req.Coverage != 0 || r.Coverage <= 0 || m.Coverage <= 0 {
		t.Errorf("coverage refunds %.2f, money %.2f, requests %.2f: want lexical coverage (0 for the vector-only hit)", r.Coverage, m.Coverage, req.Coverage)
	}
	if !req.Relevant(0.5, req.Similarity) || req.Relevant(0.5, req.Similarity+0.01) || req.Relevant(0.5, 0) {
		t.Errorf("Relevant: a vector-only hit with similarity %.2f", req.Similarity)
	}
	// The question was embedded once: the next search uses the cache.
	calls := e.calls
	if _, err := b.Search(ctx, q, 5); err != nil || e.calls != calls {
		t.Errorf("second search: %d more embedding calls, err %v", e.calls-calls, err)
	}
}

func TestEmbedOnlyChangedChunks(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	writeRefundKB(t, dir)
	e := newConceptEmbedder()
	s := memStore(t)
	b := newHybridBase(t, s, dir, e, "concepts")
	if _, err := b.Sync(ctx, nil); err != nil {
		t.Fatal(err)
	}
	if got := e.embedded(); len(got) != 5 {
		t.Fatalf("first sync embedded %d texts: want 5", len(got))
	}
	if _, err := b.Sync(ctx, nil); err != nil {
		t.Fatal(err)
	}
	if got := e.embedded(); len(got) != 0 {
		t.Fatalf("unchanged sync embedded %q", got)
	}
	// One section of billing.md changes: only it is embedded again.
	write(t, dir, "billing.md", "# Billing\n\n## Refunds\n\nA refund is paid within ten days after cancellation.\n\n"+
		"## Refund requests\n\nWrite to support to ask for a refund.\n\n## Invoices\n\nInvoices are sent by email every month.\n", t0.Add(time.Hour))
	if _, err := b.Sync(ctx, nil); err != nil {
		t.Fatal(err)
	}
	got := e.embedded()
	if len(got) != 1 || !strings.Contains(got[0], "ten days") {
		t.Fatalf("after changing one section embedded %q", got)
	}
	if n := len(storedVectors(t, s)); n != 5 || b.Vectors() != 5 {
		t.Fatalf("stored %d vectors, %d in memory: want 5", n, b.Vectors())
	}

	// A restart loads the vectors: no embedding.
	again := newHybridBase(t, s, dir, e, "concepts")
	if err := again.Rebuild(ctx); err != nil {
		t.Fatal(err)
	}
	if again.Vectors() != 5 || e.calls != 4 { // 3 batches (2+2+1), then 1 text
		t.Fatalf("after Rebuild: %d vectors, %d embedding calls", again.Vectors(), e.calls)
	}
}

func TestEmbedModelChangeReembeds(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	writeRefundKB(t, dir)
	e := newConceptEmbedder()
	s := memStore(t)
	if _, err := newHybridBase(t, s, dir, e, "model-a").Sync(ctx, nil); err != nil {
		t.Fatal(err)
	}
	e.embedded()
	b := newHybridBase(t, s, dir, e, "model-b")
	if _, err := b.Sync(ctx, nil); err != nil {
		t.Fatal(err)
	}
	if got := e.embedded(); len(got) != 5 {
		t.Fatalf("after a model change embedded %d texts: want all 5", len(got))
	}
	vecs := storedVectors(t, s)
	if len(vecs) != 5 {
		t.Fatalf("stored %d vectors: want 5", len(vecs))
	}
	for id, v := range vecs {
		if v.Model != "model-b" || len(v.Vec) != 256 {
			t.Errorf("%s: model %q, dimension %d", id, v.Model, len(v.Vec))
		}
	}
}

// The same model name with another dimension (a new "dimensions" setting)
// embeds everything again too.
func TestEmbedDimensionChangeReembeds(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	writeRefundKB(t, dir)
	e := newConceptEmbedder()
	s := memStore(t)
	if _, err := newHybridBase(t, s, dir, e, "m").Sync(ctx, nil); err != nil {
		t.Fatal(err)
	}
	e.dims = 64
	// One chunk changes, so the sync asks for one vector and gets 64
	// dimensions where 256 are stored.
	write(t, dir, "account.md", "# Account\n\n## Money and plans\n\nPlans cost money.\n\n## Cancellation\n\nYou can cancel your plan in the settings.\n", t0.Add(time.Hour))
	b := newHybridBase(t, s, dir, e, "m")
	e.embedded()
	if _, err := b.Sync(ctx, nil); err != nil {
		t.Fatal(err)
	}
	if got := e.embedded(); len(got) != 1+5 {
		t.Fatalf("embedded %d texts: want the changed one, then all 5", len(got))
	}
	vecs := storedVectors(t, s)
	for id, v := range vecs {
		if len(v.Vec) != 64 {
			t.Errorf("%s: dimension %d", id, len(v.Vec))
		}
	}
	if len(vecs) != 5 || b.Vectors() != 5 {
		t.Fatalf("%d vectors stored, %d in memory", len(vecs), b.Vectors())
	}
	if hits, err := b.Search(ctx, "refunds", 3); err != nil || len(hits) == 0 || hits[0].Similarity == 0 {
		t.Fatalf("hybrid search after the change: %+v, %v", hits, err)
	}
}

func TestEmbedderOutageKeepsLexicalSearch(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	writeRefundKB(t, dir)
	const q = "how many days until my money comes back"

	lexical := newHybridBase(t, memStore(t), dir, nil, "")
	if _, err := lexical.Sync(ctx, nil); err != nil {
		t.Fatal(err)
	}
	want, _ := lexical.Search(ctx, q, 5)

	e := newConceptEmbedder()
	e.setFail(errors.New("503 service unavailable"))
	s := memStore(t)
	b := newHybridBase(t, s, dir, e, "concepts")
	if rep, err := b.Sync(ctx, nil); err != nil || rep.Added != 2 {
		t.Fatalf("sync during an outage: %v, %v", rep, err)
	}
	if b.Vectors() != 0 || len(storedVectors(t, s)) != 0 {
		t.Fatalf("vectors during an outage: %d", b.Vectors())
	}
	hits, err := b.Search(ctx, q, 5)
	if err != nil || !slices.Equal(ids(hits), ids(want)) {
		t.Fatalf("search during an outage = %q, %v: want the lexical %q", ids(hits), err, ids(want))
	}

	// The service is back: the next sync embeds what is missing.
	e.setFail(nil)
	if _, err := b.Sync(ctx, nil); err != nil {
		t.Fatal(err)
	}
	if b.Vectors() != 5 {
		t.Fatalf("after recovery %d vectors: want 5", b.Vectors())
	}
	// The question embedding fails: lexical results, and the next search
	// does not try again during the pause.
	e.setFail(errors.New("timeout"))
	calls := e.calls
	for range 2 {
		hits, err := b.Search(ctx, "which days are refunds paid", 5)
		if err != nil || len(hits) == 0 || hits[0].Similarity != 0 {
			t.Fatalf("search with the question embedding failing = %+v, %v", hits, err)
		}
	}
	if e.calls != calls+1 {
		t.Fatalf("%d question embedding calls during an outage: want 1", e.calls-calls)
	}
}

func TestVectorsDroppedWithDocument(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	writeRefundKB(t, dir)
	e := newConceptEmbedder()
	s := memStore(t)
	b := newHybridBase(t, s, dir, e, "concepts")
	if _, err := b.Sync(ctx, nil); err != nil {
		t.Fatal(err)
	}
	if _, err := b.Add(ctx, "Reset", "Reset password", "", "Open settings and choose Reset."); err != nil {
		t.Fatal(err)
	}
	if n := len(storedVectors(t, s)); n != 6 {
		t.Fatalf("%d vectors after Add: want 6", n)
	}
	if err := os.Remove(filepath.Join(dir, "account.md")); err != nil {
		t.Fatal(err)
	}
	if _, err := b.Sync(ctx, nil); err != nil {
		t.Fatal(err)
	}
	if err := b.Remove(ctx, "added/reset.md"); err != nil {
		t.Fatal(err)
	}
	vecs := storedVectors(t, s)
	for id := range vecs {
		if !strings.HasPrefix(id, "billing.md#") {
			t.Errorf("vector of %s kept after its document went", id)
		}
	}
	if len(vecs) != 3 || b.Vectors() != 3 {
		t.Fatalf("%d vectors stored, %d in memory: want billing.md's 3", len(vecs), b.Vectors())
	}
}

var _ knowledge.Embedder = (*openai.Client)(nil)

// Through the real client and the fake OpenAI-compatible server: one call
// per batch at sync, one per new question, and an outage (503s) leaves the
// sync and the search working.
func TestHybridWithOpenAIClient(t *testing.T) {
	ctx := context.Background()
	srv := openaitest.Start(t, openaitest.Options{})
	client := openai.New(openai.Options{BaseURL: srv.URL, EmbeddingModel: "text-embedding-3-small", MaxRetries: -1,
		Logger: slog.New(slog.DiscardHandler)})
	dir := t.TempDir()
	writeRefundKB(t, dir)
	folders, _ := knowledge.Folders([]string{dir}, nil)
	s := memStore(t)
	b := knowledge.NewBase(s, folders, slog.New(slog.DiscardHandler))
	defer b.Close()
	b.SetEmbedder(client, knowledge.EmbedOptions{Model: "text-embedding-3-small"})
	if _, err := b.Sync(ctx, nil); err != nil {
		t.Fatal(err)
	}
	if n := srv.Calls(openaitest.PathEmbeddings); n != 1 || b.Vectors() != 5 {
		t.Fatalf("%d embedding calls, %d vectors: want 1 call (one batch), 5 vectors", n, b.Vectors())
	}
	hits, err := b.Search(ctx, "refund requests to support", 3)
	if err != nil || len(hits) == 0 || hits[0].ID != "billing.md#1" || hits[0].Similarity <= 0 || hits[0].Coverage != 1 {
		t.Fatalf("hits = %+v, %v", hits, err)
	}

	srv.FailNext(10, openaitest.Unavailable)
	write(t, dir, "new.md", "# New\n\nA new document about webhooks.\n", t0)
	if rep, err := b.Sync(ctx, nil); err != nil || rep.Added != 1 {
		t.Fatalf("sync during an outage: %v, %v", rep, err)
	}
	hits, err = b.Search(ctx, "webhooks", 3)
	if err != nil || len(hits) == 0 || hits[0].Source != "new.md" || hits[0].Similarity != 0 {
		t.Fatalf("search during an outage = %+v, %v", hits, err)
	}
	if b.Vectors() != 5 {
		t.Fatalf("%d vectors: want the 5 from before", b.Vectors())
	}
}
