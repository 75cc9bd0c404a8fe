package kb

import (
	"context"
	"errors"
	"time"
)

// Origins of documents that come from a configured remote source
// (knowledge.sources): kept in step with the website or repository.
const (
	OriginWebsite = "website"
	OriginGit     = "git"
)

// Source types, as knowledge.sources names them.
const (
	SourceWebsite = "website"
	SourceGit     = "git"
)

// SourceState is what einsatz remembers about one remote source between
// syncs and restarts: when it last synced, how that went, and per page or
// file what a conditional re-crawl needs (ETag, Last-Modified, content
// hash) and which document it became.
type SourceState struct {
	ID        string               `json:"id"` // stable: type + " " + url (+ branch and path for git)
	Type      string               `json:"type"`
	URL       string               `json:"url"`
	LastSync  time.Time            `json:"last_sync,omitzero"` // end of the last sync (also a failed one)
	LastOK    time.Time            `json:"last_ok,omitzero"`   // end of the last sync without errors
	Duration  time.Duration        `json:"duration"`           // of the last sync
	Pages     int                  `json:"pages"`              // documents from this source after the last sync
	Errors    int                  `json:"errors"`             // pages or files that failed in the last sync
	LastError string               `json:"last_error,omitempty"`
	Requests  int                  `json:"requests"` // HTTP requests (or git round trips) of the last sync
	Commit    string               `json:"commit,omitempty"`
	Robots    string               `json:"robots,omitempty"` // robots.txt as last fetched, for a 304
	Entries   map[string]PageState `json:"entries,omitempty"`
}

// PageState is one crawled page, sitemap or repository file.
type PageState struct {
	Doc          string   `json:"doc,omitempty"` // the document's source; "" for a sitemap or a page without text
	ETag         string   `json:"etag,omitempty"`
	LastModified string   `json:"last_modified,omitempty"`
	Hash         string   `json:"hash,omitempty"`  // content hash (git: the blob hash)
	Links        []string `json:"links,omitempty"` // links found on the page, or a sitemap's URLs
}

// ErrSourceNotExist is returned for a source that never synced.
var ErrSourceNotExist = errors.New("kb: source not synced yet")

// SourceStore keeps the state of the remote sources; storage.KBSources
// implements it, kbtest.MemSources is the in-memory fake, and
// kbtest.RunSources checks both alike.
type SourceStore interface {
	// Source returns the state of one source, or ErrSourceNotExist.
	Source(ctx context.Context, id string) (SourceState, error)
	// PutSource stores a source's state, replacing the previous one.
	PutSource(ctx context.Context, st SourceState) error
	// Sources returns every stored state, by id.
	Sources(ctx context.Context) ([]SourceState, error)
	// DeleteSource forgets a source (one no longer configured).
	DeleteSource(ctx context.Context, id string) error
}
