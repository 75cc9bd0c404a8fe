package storage

import (
	"errors"
	"fmt"
	"os"
	"strconv"
	"time"

	"github.com/dgraph-io/badger/v4"
)

// checkSchema stamps a new database with the current schema version,
// refuses a newer one, and migrates an older one after backing it up.
func (s *Store) checkSchema() error {
	version, err := s.readSchema()
	if err != nil {
		return err
	}
	want := s.opts.schemaVersion
	switch {
	case version == want:
		return nil
	case version == 0:
		empty, err := s.empty()
		if err != nil {
			return err
		}
		if !empty {
			return fmt.Errorf("%w: %s has data but no schema version; it is not an einsatz database", ErrCorrupt, s.opts.Path)
		}
		return s.writeSchema(want)
	case version > want:
		return fmt.Errorf("%w: %s has schema v%d, this build knows v%d: upgrade einsatz, or restore a backup made by this version", ErrNewerSchema, s.opts.Path, version, want)
	}
	if !s.opts.InMemory {
		path := backupPath(s.opts.Path, version, time.Now())
		if err := s.backupTo(path); err != nil {
			return fmt.Errorf("storage: backup before migration from schema v%d: %w", version, err)
		}
		s.log.Info("database backed up before migration", "backup", path, "from", version, "to", want)
	}
	for v := version; v < want; v++ {
		m, ok := s.migration(v)
		if !ok {
			return fmt.Errorf("storage: no migration from schema v%d", v)
		}
		if err := s.db.Update(func(txn *badger.Txn) error {
			if err := m.Apply(txn); err != nil {
				return err
			}
			return txn.Set([]byte(keySchema), []byte(strconv.Itoa(v+1)))
		}); err != nil {
			return fmt.Errorf("storage: migrate schema v%d to v%d: %w", v, v+1, err)
		}
	}
	return s.db.Sync()
}

func (s *Store) migration(from int) (Migration, bool) {
	for _, m := range s.opts.migrations {
		if m.From == from {
			return m, true
		}
	}
	return Migration{}, false
}

func (s *Store) readSchema() (int, error) {
	var version int
	err := s.db.View(func(txn *badger.Txn) error {
		item, err := txn.Get([]byte(keySchema))
		if errors.Is(err, badger.ErrKeyNotFound) {
			return nil
		}
		if err != nil {
			return err
		}
		return item.Value(func(v []byte) error {
			version, err = strconv.Atoi(string(v))
			return err
		})
	})
	if err != nil {
		return 0, fmt.Errorf("%w: reading schema version: %v", ErrCorrupt, err)
	}
	return version, nil
}

func (s *Store) writeSchema(v int) error {
	if err := s.db.Update(func(txn *badger.Txn) error {
		return txn.Set([]byte(keySchema), []byte(strconv.Itoa(v)))
	}); err != nil {
		return fmt.Errorf("storage: write schema version: %w", err)
	}
	return s.db.Sync()
}

func (s *Store) empty() (bool, error) {
	empty := true
	err := s.db.View(func(txn *badger.Txn) error {
		it := txn.NewIterator(badger.IteratorOptions{})
		defer it.Close()
		it.Rewind()
		empty = !it.Valid()
		return nil
	})
	return empty, err
}

func (s *Store) backupTo(path string) error {
	f, err := os.OpenFile(path, os.O_CREATE|os.O_EXCL|os.O_WRONLY, 0o600)
	if err != nil {
		return err
	}
	if _, err := s.db.Backup(f, 0); err != nil {
		f.Close()
		return err
	}
	if err := f.Sync(); err != nil {
		f.Close()
		return err
	}
	return f.Close()
}
