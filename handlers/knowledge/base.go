package knowledge

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"log/slog"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/fsnotify/fsnotify"
	lru "github.com/hashicorp/golang-lru/v2"

	"github.com/einsatz/einsatz/bot/kb"
)

// Base is the knowledge base at run time: documents and chunks in storage,
// and a search index derived from them. The index lives in memory; it is
// rebuilt from storage at start and after every change, so it can never be
// stale and backups need only cover storage.
type Base struct {
	store   kb.Store
	folders []Folder
	log     *slog.Logger
	now     func() time.Time

	syncMu sync.Mutex // one sync or change at a time

	mu    sync.RWMutex // guards index and vec; searches hold it for reading
	index *Index
	vec   *vectorIndex // nil without embeddings

	// Embeddings (SetEmbedder): nil emb means lexical search only.
	emb        Embedder
	eopts      EmbedOptions
	qcache     *lru.Cache[string, []float32]
	embedPause atomic.Int64 // unix ns until which questions are not embedded
	// stored are the vectors in storage as of the last refresh (their Vec
	// share vec's rows), so a sync need not read them all again; nil
	// until read (guarded by syncMu).
	stored []kb.Vector
	// public are the documents as public pages (PublicPages), rebuilt
	// with the index.
	public atomic.Pointer[publicSet]
}

// NewBase returns a knowledge base over store and folders. Call Sync (or
// Rebuild, to use what storage has) before searching.
func NewBase(store kb.Store, folders []Folder, log *slog.Logger) *Base {
	if log == nil {
		log = slog.Default()
	}
	return &Base{store: store, folders: folders, log: log, now: time.Now}
}

// SetEmbedder turns on hybrid search: Sync, Add and Remove keep a vector
// per chunk in storage (embedding only chunks that lack an up-to-date one),
// Rebuild loads them, and Search fuses the lexical and the vector ranking.
// Call it before the first Sync or Rebuild, not concurrently with them.
// It does nothing when the Base's store cannot keep vectors.
//
// An embedding failure never fails a sync or a search: it is logged, the
// chunks without vectors are found lexically only, and the next sync
// embeds them.
func (b *Base) SetEmbedder(e Embedder, opts EmbedOptions) {
	if e == nil {
		return
	}
	if _, ok := b.store.(kb.VectorStore); !ok {
		b.log.Warn("knowledge: embeddings are off: the store cannot keep vectors")
		return
	}
	opts.defaults()
	if opts.Model == "" {
		opts.Model = "default"
	}
	cache, err := lru.New[string, []float32](opts.CacheSize)
	if err != nil {
		panic(err) // only for a size <= 0, which defaults rule out
	}
	b.emb, b.eopts, b.qcache = e, opts, cache
}

// ErrNotReady is returned by Search before the first Sync or Rebuild.
var ErrNotReady = errors.New("knowledge: index not built yet")

// Sync brings storage in step with the folders and rebuilds the index.
func (b *Base) Sync(ctx context.Context, progress func(done, total int)) (Report, error) {
	b.syncMu.Lock()
	defer b.syncMu.Unlock()
	rep, syncErr := Sync(ctx, b.store, b.folders, b.now(), progress)
	for _, p := range rep.Skipped {
		b.log.Warn("knowledge: skipped a file that is not a regular file (symlinks are not followed)", "path", p)
	}
	if err := b.refresh(ctx, true); err != nil {
		return rep, errors.Join(syncErr, err)
	}
	return rep, syncErr
}

// Rebuild builds the index from what storage holds.
func (b *Base) Rebuild(ctx context.Context) error {
	b.syncMu.Lock()
	defer b.syncMu.Unlock()
	b.stored = nil // read them from storage
	return b.refresh(ctx, false)
}

// refresh rebuilds the index from storage, and the vectors with it: those
// stored and up to date at once, then, when embed is set, those missing
// (stale ones are deleted first).
func (b *Base) refresh(ctx context.Context, embed bool) error {
	chunks, err := b.store.Chunks(ctx)
	if err != nil {
		return err
	}
	ix, err := NewIndex(chunks)
	if err != nil {
		return fmt.Errorf("knowledge: build index: %w", err)
	}
	if docs, err := b.store.Docs(ctx); err != nil {
		b.log.Error("knowledge: reading documents for the public pages", "err", err)
	} else {
		b.setPublic(docs, chunks)
	}
	var plan vectorPlan
	vs, _ := b.store.(kb.VectorStore)
	if b.emb != nil {
		stored := b.stored
		if stored == nil {
			if stored, err = vs.Vectors(ctx); err != nil {
				b.log.Error("knowledge: reading vectors; searching lexically", "err", err)
				embed = false
			}
		}
		plan = planVectors(b.eopts.Model, chunks, stored)
	}
	vi := b.setVectors(plan.keep)
	if !embed {
		b.stored = nil // not known (read failed) or not kept up to date: read again next time
	}
	b.mu.Lock()
	old := b.index
	b.index = ix
	b.vec = vi
	b.mu.Unlock()
	if old != nil {
		if err := old.Close(); err != nil { // no search holds it: they take the read lock
			return err
		}
	}
	if b.emb == nil || !embed {
		return nil
	}
	if len(plan.stale) > 0 {
		if err := vs.DeleteVectors(ctx, plan.stale); err != nil {
			b.log.Error("knowledge: deleting stale vectors", "err", err)
		}
	}
	if len(plan.missing) == 0 {
		return nil
	}
	dim := 0
	if len(plan.keep) > 0 {
		dim = len(plan.keep[0].Vec)
	}
	added, err := b.embedChunks(ctx, vs, plan.missing, dim)
	if errors.Is(err, errDimension) && len(added) == 0 && len(plan.keep) > 0 {
		// The model's dimension changed under the same name (a new
		// "dimensions" setting): every stored vector is stale.
		b.log.Info("knowledge: the embeddings changed dimension; embedding every chunk again", "err", err)
		if err := vs.DeleteVectors(ctx, plan.keep); err != nil {
			b.log.Error("knowledge: deleting stale vectors", "err", err)
		}
		plan = vectorPlan{missing: chunks}
		vi := b.setVectors(nil)
		b.mu.Lock()
		b.vec = vi
		b.mu.Unlock()
		added, err = b.embedChunks(ctx, vs, plan.missing, 0)
	}
	if err != nil {
		b.log.Warn("knowledge: embedding failed; chunks without vectors are found lexically until the next sync",
			"err", err, "embedded", len(added), "missing", len(plan.missing)-len(added))
	}
	if len(added) > 0 {
		vi := b.setVectors(append(plan.keep, added...))
		b.mu.Lock()
		b.vec = vi
		b.mu.Unlock()
	}
	return nil
}

// setVectors builds the matrix of vecs (of one dimension), and remembers
// vecs as what storage holds, their Vec now sharing the matrix's rows.
func (b *Base) setVectors(vecs []kb.Vector) *vectorIndex {
	vi := newVectorIndex(vecs)
	for i := range vecs {
		if r, ok := vi.rows[vecs[i].ChunkID]; ok {
			vecs[i].Vec = vi.row(r)
		}
	}
	b.stored = vecs
	if b.stored == nil {
		b.stored = []kb.Vector{}
	}
	return vi
}

// Search finds the best chunks for a question: lexically, or, with an
// embedder and vectors, by fusing the lexical and the vector ranking (see
// hybrid.go). Hybrid hits carry the fused Score, the lexical Coverage and
// the Similarity of their vectors to the question's.
func (b *Base) Search(ctx context.Context, q string, k int) ([]Hit, error) {
	var qv []float32
	if b.emb != nil && k > 0 && b.Vectors() > 0 {
		qv = b.queryVector(ctx, q) // before the lock: it may take a round trip
	}
	b.mu.RLock()
	defer b.mu.RUnlock()
	if b.index == nil {
		return nil, ErrNotReady
	}
	if qv == nil || b.vec == nil || len(qv) != b.vec.dim {
		return b.index.Search(ctx, q, k)
	}
	n := max(k, b.eopts.Candidates)
	lex, err := b.index.Search(ctx, q, n)
	if err != nil {
		return nil, err
	}
	return fuse(b.index, q, lex, b.vec, qv, b.vec.search(qv, n), k), nil
}

// Vectors is the number of chunks with an embedding in memory.
func (b *Base) Vectors() int {
	b.mu.RLock()
	defer b.mu.RUnlock()
	return b.vec.len()
}

// Len is the number of indexed chunks.
func (b *Base) Len() int {
	b.mu.RLock()
	defer b.mu.RUnlock()
	if b.index == nil {
		return 0
	}
	return b.index.Len()
}

// Docs lists the documents.
func (b *Base) Docs(ctx context.Context) ([]kb.Doc, error) { return b.store.Docs(ctx) }

// Close releases the index.
func (b *Base) Close() error {
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.index == nil {
		return nil
	}
	err := b.index.Close()
	b.index, b.vec = nil, nil
	return err
}

var slugRun = regexp.MustCompile(`[^a-z0-9äöüß]+`)

// Add stores a document that has no file (a staff answer, `einsatz kb
// add`): Markdown text, split like a file. Its source is "added/<name>.md";
// adding the same name again replaces it.
func (b *Base) Add(ctx context.Context, name, title, url, text string) (kb.Doc, error) {
	slug := strings.Trim(slugRun.ReplaceAllString(strings.ToLower(strings.TrimSuffix(name, filepath.Ext(name))), "-"), "-")
	if slug == "" {
		return kb.Doc{}, errors.New("knowledge: add: the name needs letters or digits")
	}
	source := kb.OriginAdded + "/" + slug + ".md"
	chunks, err := Split(source, []byte(text))
	if err != nil {
		return kb.Doc{}, err
	}
	if len(chunks) == 0 {
		return kb.Doc{}, errors.New("knowledge: add: the text is empty")
	}
	for i := range chunks {
		if title != "" {
			chunks[i].Title = title
		}
		if url != "" {
			chunks[i].URL = url
		}
	}
	doc := kb.Doc{Source: source, Origin: kb.OriginAdded, Title: chunks[0].Title, URL: chunks[0].URL, Size: int64(len(text)), Chunks: len(chunks), Synced: b.now()}
	b.syncMu.Lock()
	defer b.syncMu.Unlock()
	if err := b.store.PutDoc(ctx, doc, chunks); err != nil {
		return kb.Doc{}, err
	}
	return doc, b.refresh(ctx, true)
}

// ErrFileDoc is returned when removing a document that comes from a file.
var ErrFileDoc = errors.New("knowledge: this document comes from a file: delete the file, then sync")

// Remove deletes an added document.
func (b *Base) Remove(ctx context.Context, source string) error {
	b.syncMu.Lock()
	defer b.syncMu.Unlock()
	docs, err := b.store.Docs(ctx)
	if err != nil {
		return err
	}
	for _, d := range docs {
		if d.Source != source {
			continue
		}
		if d.Origin == kb.OriginFile || d.Origin == kb.OriginWebsite || d.Origin == kb.OriginGit { // a sync would not bring it back
			return fmt.Errorf("%w (%s)", ErrFileDoc, source)
		}
		if err := b.store.DeleteDoc(ctx, source); err != nil {
			return err
		}
		return b.refresh(ctx, true)
	}
	return fmt.Errorf("knowledge: no document %q (see einsatz kb list)", source)
}

// Watch syncs whenever a file in the folders changes, until ctx ends.
// Changes that come in a burst (an editor saving, a git pull) are synced
// once, quiet after the last of them.
func (b *Base) Watch(ctx context.Context, quiet time.Duration) error {
	w, err := fsnotify.NewWatcher()
	if err != nil {
		return fmt.Errorf("knowledge: file watcher: %w", err)
	}
	defer w.Close()
	for _, f := range b.folders {
		if f.Path == "" {
			continue // embedded: never changes
		}
		if err := watchTree(w, f); err != nil {
			return err
		}
	}
	var timer <-chan time.Time
	for {
		select {
		case <-ctx.Done():
			return nil
		case ev, ok := <-w.Events:
			if !ok {
				return nil
			}
			if ev.Has(fsnotify.Create) {
				if info, err := os.Stat(ev.Name); err == nil && info.IsDir() {
					_ = w.Add(ev.Name) // a new subfolder
				}
			}
			timer = time.After(quiet)
		case err, ok := <-w.Errors:
			if !ok {
				return nil
			}
			b.log.Warn("knowledge: file watcher", "err", err)
		case <-timer:
			timer = nil
			rep, err := b.Sync(ctx, nil)
			if err != nil {
				b.log.Error("knowledge: sync after a change", "err", err)
			}
			if rep.Added+rep.Updated+rep.Removed > 0 {
				b.log.Info("knowledge base synced", "report", rep.String(), "chunks", b.Len())
			}
		}
	}
}

func watchTree(w *fsnotify.Watcher, f Folder) error {
	if f.Only != "" {
		// Watch the directory: editors replace files rather than write them.
		return w.Add(filepath.Dir(f.Path))
	}
	return filepath.WalkDir(f.Path, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if d.IsDir() {
			if p != f.Path && strings.HasPrefix(d.Name(), ".") {
				return filepath.SkipDir
			}
			if err := w.Add(p); err != nil {
				return fmt.Errorf("knowledge: watch %s: %w", p, err)
			}
		}
		return nil
	})
}
