package knowledge

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path"
	"path/filepath"
	"sort"
	"strings"
	"time"

	"github.com/einsatz/einsatz/bot/kb"
)

// Folder is a place knowledge files come from.
type Folder struct {
	Name string // prefix of the sources from this folder; "" when it is the only one
	FS   fs.FS
	Root string // directory inside FS to walk ("." for all of it)
	Only string // a single file inside Root, when the configured path is a file
	Path string // the configured path, for messages and the file watcher ("" for embedded files)
	// BaseURL is the folder's public address: documents without a url in
	// their front matter are cited as BaseURL + their path in the folder.
	BaseURL string
}

// Folders turns configured paths (directories or single files) into
// folders. With more than one, each folder's sources start with its base
// name. baseURLs maps a path to its public address (may be nil).
func Folders(paths []string, baseURLs map[string]string) ([]Folder, error) {
	var out []Folder
	for _, p := range paths {
		abs, err := filepath.Abs(p)
		if err != nil {
			return nil, fmt.Errorf("knowledge.paths: %s: %w", p, err)
		}
		info, err := os.Stat(abs)
		if err != nil {
			return nil, fmt.Errorf("knowledge.paths: %w (fix the path, or remove it to use the built-in example)", err)
		}
		f := Folder{FS: DirFS(abs), Root: ".", Path: abs}
		if !info.IsDir() {
			// The operator named this file, so a symlink here is followed
			// (as it is for a configured directory); inside folders it is not.
			real, err := filepath.EvalSymlinks(abs)
			if err != nil {
				return nil, fmt.Errorf("knowledge.paths: %w", err)
			}
			f = Folder{FS: DirFS(filepath.Dir(real)), Root: ".", Only: filepath.Base(real), Path: abs}
		}
		if len(paths) > 1 {
			f.Name = strings.TrimSuffix(filepath.Base(abs), filepath.Ext(abs))
		}
		f.BaseURL = baseURLs[p]
		out = append(out, f)
	}
	return out, nil
}

// Report says what a sync did.
type Report struct {
	Added, Updated, Unchanged, Removed, Failed int
	Chunks                                     int      // chunks of the documents added or updated
	Read                                       []string // sources whose content was read
	// Skipped are the paths of knowledge files that are not regular files
	// (symlinks above all) and so were not read: a symlink could lead
	// anywhere, /proc/self/environ included.
	Skipped []string
}

func (r Report) String() string {
	s := fmt.Sprintf("%d added, %d updated, %d unchanged, %d removed, %d failed (%d chunks written)",
		r.Added, r.Updated, r.Unchanged, r.Removed, r.Failed, r.Chunks)
	if len(r.Skipped) > 0 {
		s += fmt.Sprintf(", %d skipped (not regular files)", len(r.Skipped))
	}
	return s
}

type file struct {
	folder  Folder
	rel     string // path inside folder.FS
	source  string
	size    int64
	modTime time.Time
}

// Sync brings the stored documents in step with the folders: it reads only
// files whose size or modification time changed (and rewrites chunks only
// when the content did), removes documents whose files are gone, and leaves
// added documents alone. A file that cannot be read or parsed keeps its
// last good version and is reported in the error; the others sync anyway.
// progress, when not nil, is called after each file.
func Sync(ctx context.Context, store kb.Store, folders []Folder, now time.Time, progress func(done, total int)) (Report, error) {
	var rep Report
	files, skipped, err := listFiles(folders)
	if err != nil {
		return rep, err
	}
	rep.Skipped = skipped
	docs, err := store.Docs(ctx)
	if err != nil {
		return rep, err
	}
	known := make(map[string]kb.Doc, len(docs))
	for _, d := range docs {
		known[d.Source] = d
	}
	var errs []error
	seen := map[string]bool{}
	for i, f := range files {
		if err := ctx.Err(); err != nil {
			return rep, err
		}
		if seen[f.source] {
			errs = append(errs, fmt.Errorf("%s: two files give the source %q: rename one", displayPath(f), f.source))
			rep.Failed++
			continue
		}
		seen[f.source] = true
		if err := syncFile(ctx, store, f, known, now, &rep); errors.Is(err, errNotRegular) {
			// Replaced by a symlink since the listing: as if it had been one then.
			delete(seen, f.source)
			rep.Skipped = append(rep.Skipped, displayPath(f))
		} else if err != nil {
			errs = append(errs, err)
			rep.Failed++
		}
		if progress != nil {
			progress(i+1, len(files))
		}
	}
	for _, d := range docs {
		if d.Origin == kb.OriginFile && !seen[d.Source] {
			if err := store.DeleteDoc(ctx, d.Source); err != nil {
				return rep, err
			}
			rep.Removed++
		}
	}
	return rep, errors.Join(errs...)
}

func syncFile(ctx context.Context, store kb.Store, f file, known map[string]kb.Doc, now time.Time, rep *Report) error {
	old, exists := known[f.source]
	if exists && old.Origin == kb.OriginFile && old.Size == f.size && old.ModTime.Equal(f.modTime) && !f.modTime.IsZero() &&
		old.BaseURL == f.folder.BaseURL {
		rep.Unchanged++
		return nil
	}
	data, err := readFile(f.folder.FS, path.Join(f.folder.Root, f.rel))
	if err != nil {
		return fmt.Errorf("knowledge: %s: %w", displayPath(f), err)
	}
	rep.Read = append(rep.Read, f.source)
	sum := sha256.Sum256(data)
	doc := kb.Doc{Source: f.source, Origin: kb.OriginFile, Hash: hex.EncodeToString(sum[:]), Size: f.size, ModTime: f.modTime, Synced: now,
		BaseURL: f.folder.BaseURL}
	if exists && old.Hash == doc.Hash && old.BaseURL == doc.BaseURL {
		doc.Title, doc.URL, doc.Chunks = old.Title, old.URL, old.Chunks
		rep.Unchanged++
		return store.PutDoc(ctx, doc, nil) // touched, not changed
	}
	chunks, err := split(f.source, displayPath(f), data)
	if err != nil {
		return fmt.Errorf("knowledge: %w", err)
	}
	if f.folder.BaseURL != "" {
		for i := range chunks {
			if chunks[i].URL == "" {
				chunks[i].URL = strings.TrimSuffix(f.folder.BaseURL, "/") + "/" + f.rel
			}
		}
	}
	if len(chunks) > 0 {
		doc.Title, doc.URL = chunks[0].Title, chunks[0].URL
	}
	doc.Chunks = len(chunks)
	if chunks == nil {
		chunks = []kb.Chunk{} // an empty file: drop the old chunks
	}
	if err := store.PutDoc(ctx, doc, chunks); err != nil {
		return err
	}
	if exists {
		rep.Updated++
	} else {
		rep.Added++
	}
	rep.Chunks += len(chunks)
	return nil
}

func displayPath(f file) string {
	if f.folder.Path == "" {
		return f.source
	}
	if f.folder.Only != "" {
		return f.folder.Path
	}
	return filepath.Join(f.folder.Path, filepath.FromSlash(f.rel))
}

// listFiles lists the knowledge files of every folder, sorted by source,
// and the paths of those it skipped because they are not regular files.
func listFiles(folders []Folder) (files []file, skipped []string, err error) {
	for _, folder := range folders {
		if folder.Only != "" {
			info, err := fs.Lstat(folder.FS, path.Join(folder.Root, folder.Only))
			if err != nil {
				return nil, nil, fmt.Errorf("knowledge: %s: %w", folder.Path, err)
			}
			if !info.Mode().IsRegular() {
				skipped = append(skipped, folder.Path)
				continue
			}
			source := folder.Only
			if folder.Name != "" {
				source = folder.Name + "/" + folder.Only
			}
			files = append(files, file{folder: folder, rel: folder.Only, source: source, size: info.Size(), modTime: info.ModTime()})
			continue
		}
		err := fs.WalkDir(folder.FS, folder.Root, func(p string, d fs.DirEntry, err error) error {
			if err != nil {
				return err
			}
			if p != folder.Root && strings.HasPrefix(d.Name(), ".") {
				if d.IsDir() {
					return fs.SkipDir
				}
				return nil
			}
			if d.IsDir() || !isKnowledgeFile(d.Name()) {
				return nil
			}
			rel := p
			if folder.Root != "." {
				rel = strings.TrimPrefix(p, folder.Root+"/")
			}
			if !d.Type().IsRegular() {
				skipped = append(skipped, displayPath(file{folder: folder, rel: rel}))
				return nil
			}
			info, err := d.Info()
			if err != nil {
				return err
			}
			source := rel
			if folder.Name != "" {
				source = folder.Name + "/" + rel
			}
			files = append(files, file{folder: folder, rel: rel, source: source, size: info.Size(), modTime: info.ModTime()})
			return nil
		})
		if err != nil {
			where := folder.Path
			if where == "" {
				where = folder.Root
			}
			return nil, nil, fmt.Errorf("knowledge: %s: %w", where, err)
		}
	}
	sort.Slice(files, func(i, j int) bool { return files[i].source < files[j].source })
	return files, skipped, nil
}
