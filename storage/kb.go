package storage

import (
	"context"
	"encoding/json"
	"fmt"
	"net/url"

	"github.com/dgraph-io/badger/v4"

	"github.com/einsatz/einsatz/bot/kb"
)

// The knowledge base's documents and chunks live in Badger; the search index
// is derived from them and rebuilt when missing or stale.

// KB keeps the knowledge base's documents, chunks and embeddings (kb/)
// over the shared Store.
type KB struct{ s *Store }

// NewKB returns the knowledge store over s.
func NewKB(s *Store) *KB { return &KB{s: s} }

func chunkPrefix(source string) string { return prefixChunk + url.PathEscape(source) + "/" }

// Docs returns every knowledge document, in source order.
func (b *KB) Docs(ctx context.Context) ([]kb.Doc, error) {
	var docs []kb.Doc
	err := b.s.scan(ctx, prefixDoc, func(k, v []byte) error {
		var d kb.Doc
		if err := json.Unmarshal(v, &d); err != nil {
			return fmt.Errorf("%s: %w", k, err)
		}
		docs = append(docs, d)
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("storage: knowledge documents: %w", err)
	}
	return docs, nil
}

// PutDoc stores a document and replaces its chunks, in one write. With
// chunks nil only the document record changes (a touched, unchanged file).
func (b *KB) PutDoc(ctx context.Context, doc kb.Doc, chunks []kb.Chunk) error {
	docValue, err := json.Marshal(doc)
	if err != nil {
		return fmt.Errorf("storage: put knowledge document: %w", err)
	}
	values := make([][]byte, len(chunks))
	for i, c := range chunks {
		if values[i], err = json.Marshal(c); err != nil {
			return fmt.Errorf("storage: put knowledge document: %w", err)
		}
	}
	prefix := chunkPrefix(doc.Source)
	err = b.s.commit(ctx, func(txn *badger.Txn) error {
		if chunks != nil {
			if err := deletePrefix(txn, prefix); err != nil {
				return err
			}
			for i, v := range values {
				if err := txn.Set(fmt.Appendf(nil, "%s%05d", prefix, i), v); err != nil {
					return err
				}
			}
		}
		return txn.Set([]byte(prefixDoc+url.PathEscape(doc.Source)), docValue)
	})
	if err != nil {
		return fmt.Errorf("storage: put knowledge document %s: %w", doc.Source, err)
	}
	return nil
}

// DeleteDoc removes a document and its chunks.
func (b *KB) DeleteDoc(ctx context.Context, source string) error {
	err := b.s.commit(ctx, func(txn *badger.Txn) error {
		if err := deletePrefix(txn, chunkPrefix(source)); err != nil {
			return err
		}
		return txn.Delete([]byte(prefixDoc + url.PathEscape(source)))
	})
	if err != nil {
		return fmt.Errorf("storage: delete knowledge document %s: %w", source, err)
	}
	return nil
}

// Chunks returns every chunk, by source and position.
func (b *KB) Chunks(ctx context.Context) ([]kb.Chunk, error) {
	var chunks []kb.Chunk
	err := b.s.scan(ctx, prefixChunk, func(k, v []byte) error {
		var c kb.Chunk
		if err := json.Unmarshal(v, &c); err != nil {
			return fmt.Errorf("%s: %w", k, err)
		}
		chunks = append(chunks, c)
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("storage: knowledge chunks: %w", err)
	}
	return chunks, nil
}

// deletePrefix deletes every key under prefix inside txn.
func deletePrefix(txn *badger.Txn, prefix string) error {
	p := []byte(prefix)
	it := txn.NewIterator(badger.IteratorOptions{Prefix: p})
	var keys [][]byte
	for it.Rewind(); it.ValidForPrefix(p); it.Next() {
		keys = append(keys, it.Item().KeyCopy(nil))
	}
	it.Close()
	for _, k := range keys {
		if err := txn.Delete(k); err != nil {
			return err
		}
	}
	return nil
}
