package storage

import (
	"bufio"
	"bytes"
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strconv"

	"github.com/dgraph-io/badger/v4"
	"github.com/dgraph-io/badger/v4/pb"
	"google.golang.org/protobuf/proto"
)

// ErrBadBackup is returned by Restore for a file that is not a complete
// einsatz backup: empty, cut short, corrupt, or another program's.
var ErrBadBackup = errors.New("storage: restore")

const (
	// maxBackupRecord bounds one record of a backup (Badger's stream
	// writes batches of about 16 MB and at most about 100 MB): a larger
	// length prefix is corruption or an attack, not data.
	maxBackupRecord = 256 << 20
	// maxBackupKey is Badger's own key size limit.
	maxBackupKey = 65000
)

// Restore loads a backup into a new database at path, which must not exist
// yet or be empty. It reads the backup (Badger's stream format: records of
// an 8-byte length and a protobuf list of keys and values) record by
// record, checks each before it is written, and holds at most one record in
// memory. The database is built in a temporary directory beside path and
// renamed to path only once the whole backup was read, it is an einsatz
// database (it has a schema version) and this build can open it; on any
// error the temporary directory is removed, so there is never a
// half-restored data directory.
func Restore(path string, r io.Reader, opts Options) (err error) {
	if entries, err := os.ReadDir(path); err == nil && len(entries) > 0 {
		return fmt.Errorf("storage: restore: %s is not empty: restore into a new directory, then point storage.path at it", path)
	}
	path = filepath.Clean(path)
	parent := filepath.Dir(path)
	if err := os.MkdirAll(parent, 0o700); err != nil {
		return fmt.Errorf("%w: %v", ErrNotWritable, err)
	}
	tmp, err := os.MkdirTemp(parent, "."+filepath.Base(path)+".restoring-")
	if err != nil {
		return fmt.Errorf("%w: %s: %v (fix its permissions, or restore elsewhere with --into)", ErrNotWritable, parent, err)
	}
	defer func() {
		if err != nil {
			os.RemoveAll(tmp)
		}
	}()
	db, err := badger.Open(badger.DefaultOptions(tmp).WithLogger(nil))
	if err != nil {
		return explainOpenError(tmp, err)
	}
	version, loadErr := load(db, r)
	if err := errors.Join(loadErr, db.Close()); err != nil {
		return err
	}
	want := opts.schemaVersion
	if want == 0 {
		want = SchemaVersion
	}
	switch {
	case version > want:
		return fmt.Errorf("%w: the backup has schema v%d, this build knows v%d: restore it with a newer einsatz", ErrNewerSchema, version, want)
	case version == want:
		opts.Path = tmp
		s, err := Open(opts)
		if err != nil {
			return fmt.Errorf("storage: restore: the restored database does not open: %w", err)
		}
		if err := s.Close(); err != nil {
			return fmt.Errorf("storage: restore: %w", err)
		}
		// An older schema is migrated, after a backup of its own, on the
		// first start: migrating here would put that backup beside tmp.
	}
	// os.Rename does not replace a directory, even an empty one: remove
	// the empty target first (os.Remove fails on one that is not empty).
	if err := os.Remove(path); err != nil && !errors.Is(err, os.ErrNotExist) {
		return fmt.Errorf("storage: restore: %w", err)
	}
	if err := os.Rename(tmp, path); err != nil {
		return fmt.Errorf("storage: restore: %w", err)
	}
	if d, err := os.Open(parent); err == nil {
		_ = d.Sync() // make the rename durable; not every file system can
		d.Close()
	}
	return nil
}

// load writes the records of a backup into db and returns the schema
// version the backup holds.
func load(db *badger.DB, r io.Reader) (int, error) {
	br := bufio.NewReaderSize(r, 64<<10)
	ldr := db.NewKVLoader(16)
	var (
		record        bytes.Buffer // grows with what is read, never with what a prefix claims
		schema        []byte
		schemaVersion uint64
		records       int
		offset        int64
	)
	for {
		var head [8]byte
		n, err := io.ReadFull(br, head[:])
		if err == io.EOF {
			break
		}
		if err == io.ErrUnexpectedEOF {
			return 0, fmt.Errorf("%w: the backup is truncated: it ends inside the length of record %d (byte %d)", ErrBadBackup, records+1, offset+int64(n))
		}
		if err != nil {
			return 0, fmt.Errorf("storage: restore: reading backup: %w", err)
		}
		size := binary.LittleEndian.Uint64(head[:])
		if size > maxBackupRecord {
			return 0, fmt.Errorf("%w: record %d (byte %d) claims %d bytes, more than the %d a backup record can have: not an einsatz backup, or corrupt",
				ErrBadBackup, records+1, offset, size, maxBackupRecord)
		}
		record.Reset()
		got, err := io.CopyN(&record, br, int64(size))
		if err == io.EOF {
			return 0, fmt.Errorf("%w: the backup is truncated: record %d (byte %d) has %d of its %d bytes", ErrBadBackup, records+1, offset, got, size)
		}
		if err != nil {
			return 0, fmt.Errorf("storage: restore: reading backup: %w", err)
		}
		var list pb.KVList
		if err := proto.Unmarshal(record.Bytes(), &list); err != nil {
			return 0, fmt.Errorf("%w: record %d (byte %d) is not a list of keys and values: not an einsatz backup, or corrupt", ErrBadBackup, records+1, offset)
		}
		for _, kv := range list.Kv {
			if len(kv.Key) == 0 || len(kv.Key) > maxBackupKey {
				return 0, fmt.Errorf("%w: record %d (byte %d) has a key of %d bytes: not an einsatz backup, or corrupt", ErrBadBackup, records+1, offset, len(kv.Key))
			}
			if string(kv.Key) == keySchema && (schema == nil || kv.Version >= schemaVersion) {
				schema, schemaVersion = bytes.Clone(kv.Value), kv.Version
			}
			if err := ldr.Set(kv); err != nil {
				return 0, fmt.Errorf("storage: restore: writing record %d: %w", records+1, err)
			}
		}
		records++
		offset += 8 + int64(size)
	}
	if records == 0 {
		return 0, fmt.Errorf("%w: the backup is empty: no records (a backup of even an empty einsatz database has one)", ErrBadBackup)
	}
	if err := ldr.Finish(); err != nil {
		return 0, fmt.Errorf("storage: restore: writing: %w", err)
	}
	version, err := strconv.Atoi(string(schema))
	if schema == nil || err != nil || version < 1 {
		return 0, fmt.Errorf("%w: the backup has no schema version: not an einsatz backup", ErrBadBackup)
	}
	return version, nil
}

// Exists says whether path holds a database (Badger's MANIFEST), without
// creating one as Open would: for commands that must not work on a
// database they did not find.
func Exists(path string) bool {
	info, err := os.Stat(filepath.Join(path, "MANIFEST"))
	return err == nil && info.Mode().IsRegular()
}

// HoldsData says whether the database holds anything but its own
// bookkeeping (meta/: the schema version, secrets): a database Open has
// just made does not.
func (s *Store) HoldsData(ctx context.Context) (bool, error) {
	found := false
	err := s.view(func(txn *badger.Txn) error {
		it := txn.NewIterator(badger.IteratorOptions{}) // keys only
		defer it.Close()
		for it.Rewind(); it.Valid(); it.Next() { // meta/ holds a handful of keys
			if err := ctx.Err(); err != nil {
				return err
			}
			if !bytes.HasPrefix(it.Item().Key(), []byte(prefixMeta)) {
				found = true
				return nil
			}
		}
		return nil
	})
	if err != nil {
		return false, fmt.Errorf("storage: holds data: %w", err)
	}
	return found, nil
}
