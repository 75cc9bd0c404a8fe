package storage

import (
	"context"
	"errors"
	"fmt"
	"net/url"

	"github.com/dgraph-io/badger/v4"

	"github.com/einsatz/einsatz/bot/kb"
)

// KBSources keeps the state of the knowledge base's remote sources
// (websites, Git repositories) over the shared Store, so a restart
// re-crawls conditionally instead of from scratch.
type KBSources struct{ s *Store }

// NewKBSources returns the source-state store over s.
func NewKBSources(s *Store) *KBSources { return &KBSources{s: s} }

var _ kb.SourceStore = (*KBSources)(nil)

func sourceKey(id string) []byte { return []byte(prefixKBSource + url.PathEscape(id)) }

// Source returns the state of one source, or kb.ErrSourceNotExist.
func (b *KBSources) Source(ctx context.Context, id string) (kb.SourceState, error) {
	st, err := getRecord[kb.SourceState](ctx, b.s, sourceKey(id), kb.ErrSourceNotExist)
	if err != nil && !errors.Is(err, kb.ErrSourceNotExist) {
		return st, fmt.Errorf("storage: knowledge source %s: %w", id, err)
	}
	return st, err
}

// PutSource stores a source's state.
func (b *KBSources) PutSource(ctx context.Context, st kb.SourceState) error {
	if err := putRecord(ctx, b.s, sourceKey(st.ID), st); err != nil {
		return fmt.Errorf("storage: put knowledge source %s: %w", st.ID, err)
	}
	return nil
}

// Sources returns every stored state, by id.
func (b *KBSources) Sources(ctx context.Context) ([]kb.SourceState, error) {
	out, err := scanRecords[kb.SourceState](ctx, b.s, prefixKBSource)
	if err != nil {
		return nil, fmt.Errorf("storage: knowledge sources: %w", err)
	}
	return out, nil
}

// DeleteSource forgets a source.
func (b *KBSources) DeleteSource(ctx context.Context, id string) error {
	err := b.s.commit(ctx, func(txn *badger.Txn) error { return txn.Delete(sourceKey(id)) })
	if err != nil {
		return fmt.Errorf("storage: delete knowledge source %s: %w", id, err)
	}
	return nil
}
