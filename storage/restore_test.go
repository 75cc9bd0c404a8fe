package storage

import (
	"bytes"
	"context"
	"encoding/binary"
	"fmt"
	"math/rand/v2"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/dgraph-io/badger/v4"

	"github.com/einsatz/einsatz/bot"
)

// A backup file can be empty, cut short, or made by someone hostile: restore
// must say so, without a panic, without allocating what a length prefix
// claims, and without leaving a half-written data directory behind.
func TestRestoreRejectsBadBackups(t *testing.T) {
	ctx := context.Background()
	s := openTest(t, Options{Path: t.TempDir()})
	for i := range 200 {
		if _, err := s.Accept(ctx, fmt.Sprint("e", i), time.Hour, thread, &bot.Turn{Role: bot.RoleUser, UserID: "u", Text: strings.Repeat("x", 500)}); err != nil {
			t.Fatal(err)
		}
	}
	var good bytes.Buffer
	if err := s.Backup(ctx, &good); err != nil {
		t.Fatal(err)
	}
	frame := func(size uint64, body []byte) []byte {
		b := binary.LittleEndian.AppendUint64(nil, size)
		return append(b, body...)
	}
	random := make([]byte, 64<<10)
	rng := rand.New(rand.NewPCG(1, 2))
	for i := range random {
		random[i] = byte(rng.Uint32())
	}

	for _, tc := range []struct {
		name   string
		backup []byte
		want   string
	}{
		{"empty file", nil, "empty"},
		{"cut in a length prefix", good.Bytes()[:4], "truncated"},
		{"cut in a record", good.Bytes()[:good.Len()/2], "truncated"},
		{"random bytes", random, "not an einsatz backup"},
		{"length prefix of 2^63", frame(1<<63, []byte("x")), "not an einsatz backup"},
		{"length prefix of 3 GiB", frame(3<<30, []byte("x")), "not an einsatz backup"},
		{"not a record", frame(4, []byte{0xff, 0xff, 0xff, 0xff}), "not an einsatz backup"},
		{"a badger backup of another program", otherBadgerBackup(t), "not an einsatz backup"},
		{"good, then junk", append(bytes.Clone(good.Bytes()), 1, 2, 3), "truncated"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			parent := t.TempDir()
			dir := filepath.Join(parent, "data")
			err := restoreNoPanic(dir, tc.backup)
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("restore = %v, want an error saying %q", err, tc.want)
			}
			if entries, _ := os.ReadDir(parent); len(entries) != 0 {
				var names []string
				for _, e := range entries {
					names = append(names, e.Name())
				}
				t.Errorf("left behind in the parent directory: %v", names)
			}
		})
	}

	// An empty directory that was there stays, and stays empty.
	dir := t.TempDir()
	if err := restoreNoPanic(dir, random); err == nil {
		t.Fatal("random bytes restored")
	}
	if entries, _ := os.ReadDir(dir); len(entries) != 0 {
		t.Errorf("the target directory holds %d entries after a failed restore", len(entries))
	}
	// And a good backup restores into it.
	if err := restoreNoPanic(dir, good.Bytes()); err != nil {
		t.Fatal(err)
	}
	if want, got := dump(t, s), dump(t, openTest(t, Options{Path: dir})); want != got {
		t.Fatal("restored data differs")
	}
}

func restoreNoPanic(dir string, backup []byte) (err error) {
	defer func() {
		if p := recover(); p != nil {
			err = fmt.Errorf("panic: %v", p)
		}
	}()
	return Restore(dir, bytes.NewReader(backup), Options{})
}

// otherBadgerBackup is a well-formed Badger backup of a database einsatz did
// not write.
func otherBadgerBackup(t *testing.T) []byte {
	t.Helper()
	db, err := badger.Open(badger.DefaultOptions("").WithInMemory(true).WithLogger(nil))
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	if err := db.Update(func(txn *badger.Txn) error { return txn.Set([]byte("users/1"), []byte("alice")) }); err != nil {
		t.Fatal(err)
	}
	var b bytes.Buffer
	if _, err := db.Backup(&b, 0); err != nil {
		t.Fatal(err)
	}
	return b.Bytes()
}
