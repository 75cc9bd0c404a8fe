package storage

import (
	"context"
	"encoding/json"
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
	var st kb.SourceState
	if err := ctx.Err(); err != nil {
		return st, err
	}
	err := b.s.view(func(txn *badger.Txn) error {
		item, err := txn.Get(sourceKey(id))
		if errors.Is(err, badger.ErrKeyNotFound) {
			return kb.ErrSourceNotExist
		}
		if err != nil {
			return err
		}
		return item.Value(func(v []byte) error { return json.Unmarshal(v, &st) })
	})
	if err != nil && !errors.Is(err, kb.ErrSourceNotExist) {
		return st, fmt.Errorf("storage: knowledge source %s: %w", id, err)
	}
	return st, err
}

// PutSource stores a source's state.
func (b *KBSources) PutSource(ctx context.Context, st kb.SourceState) error {
	v, err := json.Marshal(st)
	if err != nil {
		return fmt.Errorf("storage: put knowledge source: %w", err)
	}
	err = b.s.commit(ctx, func(txn *badger.Txn) error { return txn.Set(sourceKey(st.ID), v) })
	if err != nil {
		return fmt.Errorf("storage: put knowledge source %s: %w", st.ID, err)
	}
	return nil
}

// Sources returns every stored state, by id.
func (b *KBSources) Sources(ctx context.Context) ([]kb.SourceState, error) {
	var out []kb.SourceState
	err := b.s.scan(ctx, prefixKBSource, func(k, v []byte) error {
		var st kb.SourceState
		if err := json.Unmarshal(v, &st); err != nil {
			return fmt.Errorf("%s: %w", k, err)
		}
		out = append(out, st)
		return nil
	})
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
