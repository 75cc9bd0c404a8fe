package storage

import (
	"context"
	"encoding/json"
	"fmt"

	badger "github.com/dgraph-io/badger/v4"
)

// Typed JSON records under one key each, for the small stores that keep
// one kind of record by id (knowledge sources, solved-thread candidates).

// getRecord reads the record at key, or returns notFound when there is none.
func getRecord[T any](ctx context.Context, s *Store, key []byte, notFound error) (T, error) {
	var v T
	if err := ctx.Err(); err != nil {
		return v, err
	}
	var found bool
	err := s.view(func(txn *badger.Txn) error {
		var err error
		found, err = getJSON(txn, key, &v)
		return err
	})
	if err == nil && !found {
		err = notFound
	}
	return v, err
}

// putRecord stores v at key, replacing what was there.
func putRecord(ctx context.Context, s *Store, key []byte, v any) error {
	b, err := json.Marshal(v)
	if err != nil {
		return err
	}
	return s.commit(ctx, func(txn *badger.Txn) error { return txn.Set(key, b) })
}

// scanRecords reads every record under prefix, in key order.
func scanRecords[T any](ctx context.Context, s *Store, prefix string) ([]T, error) {
	var out []T
	err := s.scan(ctx, prefix, func(k, v []byte) error {
		var r T
		if err := json.Unmarshal(v, &r); err != nil {
			return fmt.Errorf("%s: %w", k, err)
		}
		out = append(out, r)
		return nil
	})
	return out, err
}
