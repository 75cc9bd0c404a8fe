package storage

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/dgraph-io/badger/v4"

	"github.com/einsatz/einsatz/bot"
)

// A database whose tables were written with block compression (Badger's
// default, and einsatz's before it turned compression off to bound the
// compaction buffers) opens and reads: each table keeps the compression it
// was written with, and later compactions rewrite it uncompressed.
func TestOpensTablesWrittenWithCompression(t *testing.T) {
	dir := t.TempDir()
	ctx := context.Background()
	s, err := Open(Options{Path: dir})
	if err != nil {
		t.Fatal(err)
	}
	for i := range 200 {
		turn := &bot.Turn{Role: bot.RoleUser, UserID: "u", Text: fmt.Sprint(i, strings.Repeat(" the same words again", 20))}
		if _, err := s.Accept(ctx, fmt.Sprint("e", i), time.Hour, thread, turn); err != nil {
			t.Fatal(err)
		}
	}
	want := dump(t, s)
	s.Close()

	// Rewrite every record with Badger's default options (Snappy) and
	// close, which flushes them into a compressed table.
	db, err := badger.Open(badger.DefaultOptions(dir).WithLogger(nil))
	if err != nil {
		t.Fatal(err)
	}
	wb := db.NewWriteBatch()
	if err := db.View(func(txn *badger.Txn) error {
		it := txn.NewIterator(badger.DefaultIteratorOptions)
		defer it.Close()
		for it.Rewind(); it.Valid(); it.Next() {
			v, err := it.Item().ValueCopy(nil)
			if err != nil {
				return err
			}
			if err := wb.SetEntry(badger.NewEntry(it.Item().KeyCopy(nil), v).WithMeta(it.Item().UserMeta())); err != nil {
				return err
			}
		}
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	if err := wb.Flush(); err != nil {
		t.Fatal(err)
	}
	if err := db.Close(); err != nil {
		t.Fatal(err)
	}
	db, err = badger.Open(badger.DefaultOptions(dir).WithLogger(nil).WithReadOnly(true))
	if err != nil {
		t.Fatal(err)
	}
	compressed := false
	for _, ti := range db.Tables() {
		compressed = compressed || ti.OnDiskSize < ti.UncompressedSize/2
	}
	db.Close()
	if !compressed {
		t.Fatal("no compressed table was written: the test tests nothing")
	}

	r := openTest(t, Options{Path: dir})
	if got := dump(t, r); got != want {
		t.Fatalf("data read back differs:\nwant %d bytes\ngot  %d bytes", len(want), len(got))
	}
}
