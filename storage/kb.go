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

// PutDoc stores a document and replaces its chunks, in one write when they
// fit in maxWriteBytes (a Badger transaction is capped at 15% of a
// memtable); a larger document's chunks go in several writes, the document
// record last, so until that last one lands the stored document still names
// the old content and the next sync writes it again. With chunks nil only
// the document record changes (a touched, unchanged file).
func (b *KB) PutDoc(ctx context.Context, doc kb.Doc, chunks []kb.Chunk) error {
	docValue, err := json.Marshal(doc)
	if err != nil {
		return fmt.Errorf("storage: put knowledge document: %w", err)
	}
	values := make([][]byte, len(chunks))
	size := len(docValue)
	for i, c := range chunks {
		if values[i], err = json.Marshal(c); err != nil {
			return fmt.Errorf("storage: put knowledge document: %w", err)
		}
		size += len(values[i])
	}
	prefix := chunkPrefix(doc.Source)
	putChunks := func(txn *badger.Txn, from, to int) error {
		for i := from; i < to; i++ {
			if err := txn.Set(fmt.Appendf(nil, "%s%05d", prefix, i), values[i]); err != nil {
				return err
			}
		}
		return nil
	}
	putDoc := func(txn *badger.Txn) error {
		return txn.Set([]byte(prefixDoc+url.PathEscape(doc.Source)), docValue)
	}
	if size <= maxWriteBytes || chunks == nil {
		err = b.s.commit(ctx, func(txn *badger.Txn) error {
			if chunks != nil {
				if err := deletePrefix(txn, prefix); err != nil {
					return err
				}
				if err := putChunks(txn, 0, len(values)); err != nil {
					return err
				}
			}
			return putDoc(txn)
		})
	} else {
		err = b.s.commit(ctx, func(txn *badger.Txn) error { return deletePrefix(txn, prefix) })
		for _, pg := range pages(values) {
			if err != nil {
				break
			}
			err = b.s.commit(ctx, func(txn *badger.Txn) error { return putChunks(txn, pg[0], pg[1]) })
		}
		if err == nil {
			err = b.s.commit(ctx, putDoc)
		}
	}
	if err != nil {
		return fmt.Errorf("storage: put knowledge document %s: %w", doc.Source, err)
	}
	return nil
}

// maxWriteBytes is how many bytes of values one write of many records
// (a document's chunks, a batch of vectors) puts in one Badger
// transaction: well under the 600 kB a transaction may hold with 4 MB
// memtables (see Open).
const maxWriteBytes = 256 << 10

// pages splits values into [from, to) runs of at most maxWriteBytes each
// (a larger value makes a run of its own).
func pages(values [][]byte) [][2]int {
	var out [][2]int
	start, size := 0, 0
	for i, v := range values {
		if i > start && size+len(v) > maxWriteBytes {
			out = append(out, [2]int{start, i})
			start, size = i, 0
		}
		size += len(v)
	}
	if start < len(values) {
		out = append(out, [2]int{start, len(values)})
	}
	return out
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
