package knowledge

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"path"
	"sort"
	"strings"
	"sync"
	"time"

	"github.com/einsatz/einsatz/bot"
	"github.com/einsatz/einsatz/bot/kb"
)

// Source is a remote place knowledge comes from: a docs website or a Git
// repository (knowledge.sources). Its documents sit in the same store as
// the files', so search, citations and answers treat them alike.
type Source interface {
	// ID names the source's state; stable while its configuration is.
	ID() string
	// Type is kb.SourceWebsite or kb.SourceGit; Location its URL.
	Type() string
	Location() string
	// Every is how often the source is synced.
	Every() time.Duration
	// Sync brings the source's documents in store in step with the
	// source, reading and updating st (ETags, hashes, counts). A page or
	// file that fails keeps its last good version and is counted in
	// st.Errors; the error returned joins them. progress, when not nil,
	// is called after each page or file.
	Sync(ctx context.Context, store kb.Store, st *kb.SourceState, now time.Time, progress func(done, total int)) (Report, error)
}

// Refresh rebuilds the search index from storage, after documents were
// written there by someone else (a remote source's sync).
func (b *Base) Refresh(ctx context.Context) error {
	b.syncMu.Lock()
	defer b.syncMu.Unlock()
	return b.refresh(ctx, true)
}

// Store is the store the base keeps its documents in.
func (b *Base) Store() kb.Store { return b.store }

// Remote syncs the remote sources into a Base: on demand (SyncSources)
// and on their schedules (Run). One source syncs at a time.
type Remote struct {
	base    *Base
	states  kb.SourceStore
	sources []Source
	clock   bot.Clock
	log     *slog.Logger

	mu sync.Mutex // one source sync at a time
}

// NewRemote returns the remote sources of base, their state kept in
// states. clock drives the schedule (nil: the system clock).
func NewRemote(base *Base, states kb.SourceStore, sources []Source, clock bot.Clock, log *slog.Logger) *Remote {
	if clock == nil {
		clock = bot.SystemClock{}
	}
	if log == nil {
		log = slog.Default()
	}
	return &Remote{base: base, states: states, sources: sources, clock: clock, log: log}
}

// SourceStatus is one configured source as `einsatz kb sources` and the
// dashboard show it.
type SourceStatus struct {
	Type      string        `json:"type"`
	URL       string        `json:"url"`
	Every     time.Duration `json:"every"`
	LastSync  time.Time     `json:"last_sync,omitzero"` // zero: never synced
	Next      time.Time     `json:"next"`
	Duration  time.Duration `json:"duration"`
	Pages     int           `json:"pages"`
	Errors    int           `json:"errors"`
	LastError string        `json:"last_error,omitempty"`
	Requests  int           `json:"requests"`
}

// SourceReport says what syncing one source did.
type SourceReport struct {
	Type   string `json:"type"`
	URL    string `json:"url"`
	Report Report `json:"report"`
	Error  string `json:"error,omitempty"`
}

// Statuses lists the configured sources in configuration order.
func (r *Remote) Statuses(ctx context.Context) ([]SourceStatus, error) {
	out := make([]SourceStatus, 0, len(r.sources))
	for _, src := range r.sources {
		st, err := r.states.Source(ctx, src.ID())
		if err != nil && !errors.Is(err, kb.ErrSourceNotExist) {
			return nil, err
		}
		s := SourceStatus{Type: src.Type(), URL: src.Location(), Every: src.Every(), LastSync: st.LastSync, Duration: st.Duration,
			Pages: st.Pages, Errors: st.Errors, LastError: st.LastError, Requests: st.Requests, Next: r.clock.Now()}
		if !st.LastSync.IsZero() {
			s.Next = st.LastSync.Add(src.Every())
		}
		out = append(out, s)
	}
	return out, nil
}

// SyncSources syncs every source now, one after the other, and rebuilds
// the index once. progress, when not nil, is called after each page or
// file with the source's URL.
func (r *Remote) SyncSources(ctx context.Context, progress func(source string, done, total int)) ([]SourceReport, error) {
	var reps []SourceReport
	var errs []error
	changed := false
	for _, src := range r.sources {
		var p func(done, total int)
		if progress != nil {
			p = func(done, total int) { progress(src.Location(), done, total) }
		}
		rep, err := r.syncOne(ctx, src, p)
		sr := SourceReport{Type: src.Type(), URL: src.Location(), Report: rep}
		if err != nil {
			sr.Error = err.Error()
			errs = append(errs, err)
		}
		reps = append(reps, sr)
		changed = changed || rep.Added+rep.Updated+rep.Removed > 0
		if ctx.Err() != nil {
			break
		}
	}
	removed, err := r.removeOrphans(ctx)
	if err != nil {
		errs = append(errs, err)
	}
	if changed || removed > 0 {
		if err := r.base.Refresh(ctx); err != nil {
			errs = append(errs, err)
		}
	}
	return reps, errors.Join(errs...)
}

// syncOne syncs one source and stores its state, also after a failure.
func (r *Remote) syncOne(ctx context.Context, src Source, progress func(done, total int)) (Report, error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	st, err := r.states.Source(ctx, src.ID())
	if err != nil && !errors.Is(err, kb.ErrSourceNotExist) {
		return Report{}, err
	}
	st.ID, st.Type, st.URL = src.ID(), src.Type(), src.Location()
	start := r.clock.Now()
	rep, syncErr := src.Sync(ctx, r.base.store, &st, start, progress)
	st.LastSync = r.clock.Now()
	st.Duration = st.LastSync.Sub(start)
	st.LastError = ""
	if syncErr != nil {
		st.LastError = firstLine(syncErr.Error())
	} else {
		st.LastOK = st.LastSync
	}
	if err := r.states.PutSource(context.WithoutCancel(ctx), st); err != nil {
		return rep, errors.Join(syncErr, err)
	}
	if syncErr != nil {
		syncErr = fmt.Errorf("knowledge: %s %s: %w", src.Type(), src.Location(), syncErr)
	}
	return rep, syncErr
}

// removeOrphans deletes the website and Git documents that no configured
// source claims (a source taken out of the configuration, a sync cut off
// before it stored its state).
func (r *Remote) removeOrphans(ctx context.Context) (int, error) {
	claimed := map[string]bool{}
	for _, src := range r.sources {
		st, err := r.states.Source(ctx, src.ID())
		if errors.Is(err, kb.ErrSourceNotExist) {
			continue
		}
		if err != nil {
			return 0, err
		}
		for _, e := range st.Entries {
			if e.Doc != "" {
				claimed[e.Doc] = true
			}
		}
	}
	docs, err := r.base.store.Docs(ctx)
	if err != nil {
		return 0, err
	}
	n := 0
	for _, d := range docs {
		if (d.Origin == kb.OriginWebsite || d.Origin == kb.OriginGit) && !claimed[d.Source] {
			if err := r.base.store.DeleteDoc(ctx, d.Source); err != nil {
				return n, err
			}
			n++
		}
	}
	return n, nil
}

// Run syncs each source when it is due (Every after its last sync; at
// once when it never synced) until ctx ends.
func (r *Remote) Run(ctx context.Context) error {
	if len(r.sources) == 0 {
		return nil
	}
	for {
		due, wait, err := r.due(ctx)
		if err != nil {
			r.log.Error("knowledge sources: reading state", "err", err)
			wait = time.Minute
		}
		if len(due) > 0 {
			changed := false
			for _, src := range due {
				rep, err := r.syncOne(ctx, src, nil)
				if ctx.Err() != nil {
					return nil
				}
				if err != nil {
					r.log.Warn("knowledge source synced with errors", "type", src.Type(), "url", src.Location(), "report", rep.String(), "err", err)
				} else {
					r.log.Info("knowledge source synced", "type", src.Type(), "url", src.Location(), "report", rep.String())
				}
				changed = changed || rep.Added+rep.Updated+rep.Removed > 0
			}
			removed, err := r.removeOrphans(ctx)
			if err != nil {
				r.log.Error("knowledge sources: removing orphaned documents", "err", err)
			}
			if changed || removed > 0 {
				if err := r.base.Refresh(ctx); err != nil {
					r.log.Error("knowledge sources: rebuilding the index", "err", err)
				}
			}
			continue
		}
		select {
		case <-ctx.Done():
			return nil
		case <-r.clock.After(wait):
		}
	}
}

// due returns the sources to sync now, or how long until the next is due.
func (r *Remote) due(ctx context.Context) ([]Source, time.Duration, error) {
	now := r.clock.Now()
	var due []Source
	wait := time.Duration(-1)
	for _, src := range r.sources {
		st, err := r.states.Source(ctx, src.ID())
		if err != nil && !errors.Is(err, kb.ErrSourceNotExist) {
			return nil, 0, err
		}
		next := st.LastSync.Add(src.Every())
		if st.LastSync.IsZero() || !next.After(now) {
			due = append(due, src)
			continue
		}
		if d := next.Sub(now); wait < 0 || d < wait {
			wait = d
		}
	}
	return due, wait, nil
}

// putMarkdown splits a page or file, already turned into Markdown, into
// chunks and stores it as a document of origin. Chunks without a url of
// their own (front matter) are cited with url; title names a document
// whose text has no title of its own; lang ("en", "de", else ignored)
// overrides the guess from its words. It returns the chunk count.
func putMarkdown(ctx context.Context, store kb.Store, origin, source, title, url, lang, hash, markdown string, now time.Time) (int, error) {
	chunks, err := Split(source, []byte(markdown))
	if err != nil {
		return 0, err
	}
	fallback := strings.TrimSuffix(path.Base(source), path.Ext(source)) // Split's title when the text has none
	l, _ := normalizeLang(lang)
	for i := range chunks {
		if chunks[i].URL == "" {
			chunks[i].URL = url
		}
		if title != "" && chunks[i].Title == fallback {
			chunks[i].Title = title
		}
		if l != "" {
			chunks[i].Lang = l
		}
	}
	doc := kb.Doc{Source: source, Origin: origin, Hash: hash, Size: int64(len(markdown)), Synced: now, Chunks: len(chunks), URL: url, Title: title}
	if len(chunks) > 0 {
		doc.Title, doc.URL = chunks[0].Title, chunks[0].URL
	}
	if chunks == nil {
		chunks = []kb.Chunk{}
	}
	if err := store.PutDoc(ctx, doc, chunks); err != nil {
		return 0, err
	}
	return len(chunks), nil
}

// sortedKeys returns m's keys in order.
func sortedKeys[V any](m map[string]V) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}

func firstLine(s string) string {
	for i, c := range s {
		if c == '\n' {
			return s[:i] + " …"
		}
	}
	return s
}
