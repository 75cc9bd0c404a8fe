package storage

import (
	"bytes"
	"context"
	"encoding/binary"
	"fmt"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/dgraph-io/badger/v4"
	"github.com/dgraph-io/badger/v4/pb"
	"google.golang.org/protobuf/proto"

	"github.com/einsatz/einsatz/bot"
)

// A backup streams in records of about backupBatch, however large the
// database: the server holds one record, not the database, while it
// writes one. Each key appears once, at its latest version, and keeps its
// expiry through a restore.
func TestBackupStreamsInBoundedRecordsOfLatestVersions(t *testing.T) {
	ctx := context.Background()
	s := openTest(t, Options{Path: t.TempDir()})
	const turns, textSize = 3000, 1000
	for i := range turns {
		turn := &bot.Turn{Role: bot.RoleUser, UserID: "u", Text: fmt.Sprint(i, strings.Repeat("x", textSize))}
		if _, err := s.Accept(ctx, fmt.Sprint("e", i), time.Hour, thread, turn); err != nil {
			t.Fatal(err)
		}
	}
	key := []byte("meta/test-overwritten")
	for _, v := range []string{"first", "second", "latest"} {
		if err := s.db.Update(func(txn *badger.Txn) error { return txn.Set(key, []byte(v)) }); err != nil {
			t.Fatal(err)
		}
	}

	var buf bytes.Buffer
	if err := s.Backup(ctx, &buf); err != nil {
		t.Fatal(err)
	}
	records, seen := 0, map[string]int{}
	var expiring *pb.KV
	for r := bytes.NewReader(buf.Bytes()); r.Len() > 0; records++ {
		var head [8]byte
		if _, err := r.Read(head[:]); err != nil {
			t.Fatal(err)
		}
		size := binary.LittleEndian.Uint64(head[:])
		if size > backupBatch+2*textSize {
			t.Errorf("record %d holds %d bytes, more than one batch (%d) and an entry", records+1, size, backupBatch)
		}
		body := make([]byte, size)
		if _, err := r.Read(body); err != nil {
			t.Fatal(err)
		}
		var list pb.KVList
		if err := proto.Unmarshal(body, &list); err != nil {
			t.Fatal(err)
		}
		for _, kv := range list.Kv {
			seen[string(kv.Key)]++
			if string(kv.Key) == string(key) && string(kv.Value) != "latest" {
				t.Errorf("overwritten key backed up as %q, want its latest value", kv.Value)
			}
			if kv.ExpiresAt > 0 && expiring == nil {
				expiring = kv
			}
		}
	}
	if min := turns * textSize / backupBatch; records < min {
		t.Errorf("%d records for %d bytes of turns, want at least %d", records, turns*textSize, min)
	}
	for k, n := range seen {
		if n != 1 {
			t.Errorf("key %q is in the backup %d times, want once", k, n)
		}
	}
	if expiring == nil {
		t.Fatal("no key with an expiry in the backup (the de-duplication claims have one)")
	}

	dir := filepath.Join(t.TempDir(), "restored")
	if err := Restore(dir, bytes.NewReader(buf.Bytes()), Options{}); err != nil {
		t.Fatal(err)
	}
	r := openTest(t, Options{Path: dir})
	if want, got := dump(t, s), dump(t, r); want != got {
		t.Fatalf("restored data differs:\nwant %d bytes\ngot  %d bytes", len(want), len(got))
	}
	if err := r.db.View(func(txn *badger.Txn) error {
		item, err := txn.Get(expiring.Key)
		if err != nil {
			return err
		}
		if item.ExpiresAt() != expiring.ExpiresAt {
			t.Errorf("%q expires at %d after the restore, want %d", expiring.Key, item.ExpiresAt(), expiring.ExpiresAt)
		}
		return nil
	}); err != nil {
		t.Fatal(err)
	}
}
