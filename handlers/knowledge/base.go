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
	"time"

	"github.com/fsnotify/fsnotify"
)

// Base is the knowledge base at run time: documents and chunks in storage,
// and a search index derived from them. The index lives in memory; it is
// rebuilt from storage at start and after every change, so it can never be
// stale and backups need only cover storage.
type Base struct {
	store   DocStore
	folders []Folder
	log     *slog.Logger
	now     func() time.Time

	syncMu sync.Mutex // one sync or change at a time

	mu    sync.RWMutex // guards index; searches hold it for reading
	index *Index
}

// NewBase returns a knowledge base over store and folders. Call Sync (or
// Rebuild, to use what storage has) before searching.
func NewBase(store DocStore, folders []Folder, log *slog.Logger) *Base {
	if log == nil {
		log = slog.Default()
	}
	return &Base{store: store, folders: folders, log: log, now: time.Now}
}

// ErrNotReady is returned by Search before the first Sync or Rebuild.
var ErrNotReady = errors.New("knowledge: index not built yet")

// Sync brings storage in step with the folders and rebuilds the index.
func (b *Base) Sync(ctx context.Context, progress func(done, total int)) (Report, error) {
	b.syncMu.Lock()
	defer b.syncMu.Unlock()
	rep, syncErr := Sync(ctx, b.store, b.folders, b.now(), progress)
	if err := b.rebuild(ctx); err != nil {
		return rep, errors.Join(syncErr, err)
	}
	return rep, syncErr
}

// Rebuild builds the index from what storage holds.
func (b *Base) Rebuild(ctx context.Context) error {
	b.syncMu.Lock()
	defer b.syncMu.Unlock()
	return b.rebuild(ctx)
}

func (b *Base) rebuild(ctx context.Context) error {
	chunks, err := b.store.KBChunks(ctx)
	if err != nil {
		return err
	}
	ix, err := NewIndex(chunks)
	if err != nil {
		return fmt.Errorf("knowledge: build index: %w", err)
	}
	b.mu.Lock()
	old := b.index
	b.index = ix
	b.mu.Unlock()
	if old != nil {
		return old.Close() // no search holds it: they take the read lock
	}
	return nil
}

// Search finds the best chunks for a question.
func (b *Base) Search(ctx context.Context, q string, k int) ([]Hit, error) {
	b.mu.RLock()
	defer b.mu.RUnlock()
	if b.index == nil {
		return nil, ErrNotReady
	}
	return b.index.Search(ctx, q, k)
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
func (b *Base) Docs(ctx context.Context) ([]Doc, error) { return b.store.KBDocs(ctx) }

// Close releases the index.
func (b *Base) Close() error {
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.index == nil {
		return nil
	}
	err := b.index.Close()
	b.index = nil
	return err
}

var slugRun = regexp.MustCompile(`[^a-z0-9äöüß]+`)

// Add stores a document that has no file (a staff answer, `einsatz kb
// add`): Markdown text, split like a file. Its source is "added/<name>.md";
// adding the same name again replaces it.
func (b *Base) Add(ctx context.Context, name, title, url, text string) (Doc, error) {
	slug := strings.Trim(slugRun.ReplaceAllString(strings.ToLower(strings.TrimSuffix(name, filepath.Ext(name))), "-"), "-")
	if slug == "" {
		return Doc{}, errors.New("knowledge: add: the name needs letters or digits")
	}
	source := OriginAdded + "/" + slug + ".md"
	chunks, err := Split(source, []byte(text))
	if err != nil {
		return Doc{}, err
	}
	if len(chunks) == 0 {
		return Doc{}, errors.New("knowledge: add: the text is empty")
	}
	for i := range chunks {
		if title != "" {
			chunks[i].Title = title
		}
		if url != "" {
			chunks[i].URL = url
		}
	}
	doc := Doc{Source: source, Origin: OriginAdded, Title: chunks[0].Title, URL: chunks[0].URL, Size: int64(len(text)), Chunks: len(chunks), Synced: b.now()}
	b.syncMu.Lock()
	defer b.syncMu.Unlock()
	if err := b.store.PutKBDoc(ctx, doc, chunks); err != nil {
		return Doc{}, err
	}
	return doc, b.rebuild(ctx)
}

// ErrFileDoc is returned when removing a document that comes from a file.
var ErrFileDoc = errors.New("knowledge: this document comes from a file: delete the file, then sync")

// Remove deletes an added document.
func (b *Base) Remove(ctx context.Context, source string) error {
	b.syncMu.Lock()
	defer b.syncMu.Unlock()
	docs, err := b.store.KBDocs(ctx)
	if err != nil {
		return err
	}
	for _, d := range docs {
		if d.Source != source {
			continue
		}
		if d.Origin == OriginFile {
			return fmt.Errorf("%w (%s)", ErrFileDoc, source)
		}
		if err := b.store.DeleteKBDoc(ctx, source); err != nil {
			return err
		}
		return b.rebuild(ctx)
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
