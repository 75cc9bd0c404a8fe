package storage

import (
	"bufio"
	"context"
	"encoding/binary"
	"fmt"
	"io"
	"runtime/debug"

	"github.com/dgraph-io/badger/v4"
	"github.com/dgraph-io/badger/v4/pb"
	"google.golang.org/protobuf/proto"
)

// backupBatch bounds one record of a backup: the keys and values held in
// memory at once while a backup streams.
const backupBatch = 256 << 10

// bitDiscardEarlierVersions is Badger's meta bit of that name (Badger
// does not export it); a backup carries it as Badger's own backup does.
const bitDiscardEarlierVersions = 1 << 2

// Backup writes a full backup of the database to w while the bot keeps
// working: the latest version of every live key, from one snapshot, in
// Badger's backup format (records of a little-endian length and a
// protobuf KVList) that Restore reads. It streams with about backupBatch
// of memory, where Badger's Stream.Backup holds 32 MB buffers per
// goroutine (eight by default) and left the server at 145 MB after a
// backup of a small database.
func (s *Store) Backup(ctx context.Context, w io.Writer) error {
	if err := s.Sync(ctx); err != nil {
		return err
	}
	s.closing.RLock()
	defer s.closing.RUnlock()
	if s.closed {
		return ErrClosed
	}
	bw := bufio.NewWriterSize(w, 64<<10)
	var (
		list pb.KVList
		size int
		buf  []byte
	)
	flush := func() error {
		if len(list.Kv) == 0 {
			return nil
		}
		var err error
		buf, err = proto.MarshalOptions{}.MarshalAppend(buf[:0], &list)
		if err != nil {
			return err
		}
		var head [8]byte
		binary.LittleEndian.PutUint64(head[:], uint64(len(buf)))
		if _, err := bw.Write(head[:]); err != nil {
			return err
		}
		if _, err := bw.Write(buf); err != nil {
			return err
		}
		clear(list.Kv)
		list.Kv, size = list.Kv[:0], 0
		return nil
	}
	err := s.db.View(func(txn *badger.Txn) error {
		it := txn.NewIterator(badger.IteratorOptions{}) // latest versions, values read one at a time
		defer it.Close()
		for it.Rewind(); it.Valid(); it.Next() {
			if err := ctx.Err(); err != nil {
				return err
			}
			item := it.Item()
			value, err := item.ValueCopy(nil)
			if err != nil {
				return err
			}
			var meta byte
			if item.DiscardEarlierVersions() {
				meta = bitDiscardEarlierVersions
			}
			list.Kv = append(list.Kv, &pb.KV{
				Key:       item.KeyCopy(nil),
				Value:     value,
				UserMeta:  []byte{item.UserMeta()},
				Version:   item.Version(),
				ExpiresAt: item.ExpiresAt(),
				Meta:      []byte{meta},
			})
			if size += len(item.Key()) + len(value) + 32; size >= backupBatch {
				if err := flush(); err != nil {
					return err
				}
			}
		}
		return flush()
	})
	if err == nil {
		err = bw.Flush()
	}
	if err != nil {
		return fmt.Errorf("storage: backup: %w", err)
	}
	// A backup reads every table once; hand what that freed back to the
	// system now rather than when the runtime gets round to it, so a bot
	// that idles after its nightly backup idles small.
	debug.FreeOSMemory()
	return nil
}
