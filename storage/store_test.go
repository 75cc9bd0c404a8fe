package storage

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/dgraph-io/badger/v4"

	"github.com/einsatz/einsatz/bot"
)

func openTest(t *testing.T, opts Options) *Store {
	t.Helper()
	s, err := Open(opts)
	if err != nil {
		t.Fatalf("Open: %v", err)
	}
	t.Cleanup(func() { s.Close() })
	return s
}

var thread = bot.ThreadRef{Platform: "console", ChannelID: "c/1", ThreadID: "t1"}

func TestAcceptOnceAlsoAfterReopen(t *testing.T) {
	dir := t.TempDir()
	ctx := context.Background()
	s, err := Open(Options{Path: dir})
	if err != nil {
		t.Fatal(err)
	}
	turn := &bot.Turn{Role: bot.RoleUser, UserID: "u1", Text: "hello", Time: time.Now()}
	for i, want := range []bool{true, false} {
		first, err := s.Accept(ctx, "ev-1", time.Hour, thread, turn)
		if err != nil || first != want {
			t.Fatalf("Accept #%d = %v, %v; want %v", i, first, err, want)
		}
	}
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	s = openTest(t, Options{Path: dir})
	if first, err := s.Accept(ctx, "ev-1", time.Hour, thread, turn); err != nil || first {
		t.Fatalf("Accept after reopen = %v, %v; want false", first, err)
	}
	h, err := s.History(ctx, thread, 10)
	if err != nil || len(h) != 1 || h[0].Text != "hello" {
		t.Fatalf("History = %+v, %v; want the one accepted turn", h, err)
	}
}

func TestAcceptConcurrentGroupsCommits(t *testing.T) {
	s := openTest(t, Options{Path: t.TempDir()})
	ctx := context.Background()
	const n = 500
	var wg sync.WaitGroup
	var mu sync.Mutex
	firsts := 0
	for i := range n {
		wg.Add(1)
		go func() {
			defer wg.Done()
			// every key is submitted twice concurrently: exactly one wins
			first, err := s.Accept(ctx, fmt.Sprintf("k%d", i/2), time.Hour, thread, nil)
			if err != nil {
				t.Error(err)
			}
			if first {
				mu.Lock()
				firsts++
				mu.Unlock()
			}
		}()
	}
	wg.Wait()
	if firsts != n/2 {
		t.Fatalf("%d first deliveries, want %d", firsts, n/2)
	}
}

func TestHistoryOrderAndLimit(t *testing.T) {
	s := openTest(t, Options{InMemory: true})
	ctx := context.Background()
	other := bot.ThreadRef{Platform: "console", ChannelID: "c/1", ThreadID: "t10"} // shares a textual prefix
	base := time.Now().Add(-time.Hour)
	for i := range 5 {
		if err := s.AppendTurn(ctx, thread, bot.Turn{Role: bot.RoleUser, Text: fmt.Sprint(i), Time: base.Add(time.Duration(i) * time.Second)}); err != nil {
			t.Fatal(err)
		}
	}
	if err := s.AppendTurn(ctx, other, bot.Turn{Role: bot.RoleUser, Text: "other", Time: base}); err != nil {
		t.Fatal(err)
	}
	if err := s.Sync(ctx); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		n    int
		want string
	}{
		{3, "234"},
		{10, "01234"},
		{1, "4"},
	}
	for _, tt := range tests {
		t.Run(fmt.Sprint(tt.n), func(t *testing.T) {
			h, err := s.History(ctx, thread, tt.n)
			if err != nil {
				t.Fatal(err)
			}
			var got strings.Builder
			for _, turn := range h {
				got.WriteString(turn.Text)
			}
			if got.String() != tt.want {
				t.Fatalf("History(%d) = %q, want %q", tt.n, got.String(), tt.want)
			}
		})
	}
}

func TestOwnerAndAudit(t *testing.T) {
	s := openTest(t, Options{InMemory: true})
	ctx := context.Background()
	if o, err := s.Owner(ctx, thread); err != nil || !o.Bot() {
		t.Fatalf("new thread owner = %+v, %v; want the bot", o, err)
	}
	at := time.Unix(2000, 0).UTC()
	if err := s.SetOwner(ctx, thread, bot.Owner{Staff: "anna", Since: at, By: "anna"}); err != nil {
		t.Fatal(err)
	}
	if o, _ := s.Owner(ctx, thread); o.Staff != "anna" || !o.Since.Equal(at) {
		t.Fatalf("owner = %+v, want anna since %v", o, at)
	}
	if err := s.SetOwner(ctx, thread, bot.Owner{By: "anna", Since: at.Add(time.Minute)}); err != nil {
		t.Fatal(err)
	}
	if o, _ := s.Owner(ctx, thread); !o.Bot() {
		t.Fatalf("after release owner = %+v, want the bot", o)
	}
	audit, err := s.Audit(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if len(audit) != 2 || audit[0].Action != "takeover" || audit[1].Action != "release" || audit[0].Actor != "anna" {
		t.Fatalf("audit = %+v", audit)
	}
}

func TestOwnerSurvivesReopen(t *testing.T) {
	dir := t.TempDir()
	s, err := Open(Options{Path: dir})
	if err != nil {
		t.Fatal(err)
	}
	if err := s.SetOwner(context.Background(), thread, bot.Owner{Staff: "anna", By: "anna"}); err != nil {
		t.Fatal(err)
	}
	s.Close()
	s = openTest(t, Options{Path: dir})
	if o, _ := s.Owner(context.Background(), thread); o.Staff != "anna" {
		t.Fatalf("owner after reopen = %+v, want anna", o)
	}
}

func TestUserRecordsFindPersonalData(t *testing.T) {
	s := openTest(t, Options{InMemory: true})
	ctx := context.Background()
	if _, err := s.Accept(ctx, "e1", time.Hour, thread, &bot.Turn{Role: bot.RoleUser, UserID: "u/1", Text: "mine", Time: time.Now()}); err != nil {
		t.Fatal(err)
	}
	if err := s.AppendTurn(ctx, thread, bot.Turn{Role: bot.RoleBot, Text: "answer", Time: time.Now()}); err != nil {
		t.Fatal(err)
	}
	keys, err := s.UserRecords(ctx, "console", "u/1")
	if err != nil {
		t.Fatal(err)
	}
	if len(keys) != 1 || !strings.HasPrefix(keys[0], histPrefix(thread)) {
		t.Fatalf("UserRecords = %q, want the one history key", keys)
	}
	if other, _ := s.UserRecords(ctx, "console", "u"); len(other) != 0 {
		t.Fatalf("UserRecords of another user = %q, want none", other)
	}
}

func TestSpill(t *testing.T) {
	s := openTest(t, Options{InMemory: true})
	ctx := context.Background()
	for i := range 3 {
		ev := bot.Event{Key: fmt.Sprint("k", i), Platform: "console", ChannelID: "c", MessageID: "m", Text: fmt.Sprint(i), Time: time.Unix(int64(i), 0)}
		if err := s.Spill(ctx, ev); err != nil {
			t.Fatal(err)
		}
	}
	got, err := s.Spilled(ctx, 2, nil)
	if err != nil || len(got) != 2 || got[0].Event.Key != "k0" || got[1].Event.Key != "k1" {
		t.Fatalf("Spilled(2) = %+v, %v", got, err)
	}
	if err := s.DeleteSpilled(ctx, got[0].ID); err != nil {
		t.Fatal(err)
	}
	got, _ = s.Spilled(ctx, 10, nil)
	if len(got) != 2 || got[0].Event.Key != "k1" {
		t.Fatalf("after delete Spilled = %+v", got)
	}
}

// TestSpilledAfterDeletesAndLateWrites: reads of kept events start past
// the deleted ones, yet find every event kept, oldest first — also one
// written after a read with an older time than any read so far, and one
// written after a read found none.
func TestSpilledAfterDeletesAndLateWrites(t *testing.T) {
	s := openTest(t, Options{InMemory: true})
	ctx := context.Background()
	spill := func(key string, sec int64) {
		t.Helper()
		ev := bot.Event{Key: key, Platform: "console", ChannelID: "c", MessageID: key, Time: time.Unix(sec, 0)}
		if err := s.Spill(ctx, ev); err != nil {
			t.Fatal(err)
		}
	}
	keys := func(n int, skip func(string) bool) []string {
		t.Helper()
		got, err := s.Spilled(ctx, n, skip)
		if err != nil {
			t.Fatal(err)
		}
		var out []string
		for _, e := range got {
			out = append(out, e.Event.Key)
		}
		return out
	}
	del := func(n int) {
		t.Helper()
		got, err := s.Spilled(ctx, n, nil)
		if err != nil {
			t.Fatal(err)
		}
		for _, e := range got {
			if err := s.DeleteSpilled(ctx, e.ID); err != nil {
				t.Fatal(err)
			}
		}
	}
	for i := range 6 {
		spill(fmt.Sprint("k", i), int64(10+i))
	}
	del(3)
	if got := keys(10, nil); !slices.Equal(got, []string{"k3", "k4", "k5"}) {
		t.Fatalf("after deleting 3: %q", got)
	}
	// Skipped (in flight) events are still kept: a later read sees them.
	first, _ := s.Spilled(ctx, 1, nil)
	if got := keys(10, func(id string) bool { return id == first[0].ID }); !slices.Equal(got, []string{"k4", "k5"}) {
		t.Fatalf("skipping the first: %q", got)
	}
	if got := keys(10, nil); !slices.Equal(got, []string{"k3", "k4", "k5"}) {
		t.Fatalf("after a skip: %q", got)
	}
	spill("early", 1) // older than every event read so far
	if got := keys(10, nil); !slices.Equal(got, []string{"early", "k3", "k4", "k5"}) {
		t.Fatalf("after an earlier write: %q", got)
	}
	del(10)
	if got := keys(10, nil); len(got) != 0 {
		t.Fatalf("after deleting all: %q", got)
	}
	spill("late", 5)
	spill("later", 50)
	if got := keys(10, nil); !slices.Equal(got, []string{"late", "later"}) {
		t.Fatalf("after writes once none was kept: %q", got)
	}
}

func TestOpenErrors(t *testing.T) {
	locked := t.TempDir()
	openTest(t, Options{Path: locked})

	file := filepath.Join(t.TempDir(), "file")
	if err := os.WriteFile(file, []byte("x"), 0o600); err != nil {
		t.Fatal(err)
	}

	newer := t.TempDir()
	s, err := Open(Options{Path: newer})
	if err != nil {
		t.Fatal(err)
	}
	if err := s.writeSchema(SchemaVersion + 1); err != nil {
		t.Fatal(err)
	}
	s.Close()

	corrupt := t.TempDir()
	s, err = Open(Options{Path: corrupt})
	if err != nil {
		t.Fatal(err)
	}
	s.Close()
	if err := os.WriteFile(filepath.Join(corrupt, "MANIFEST"), []byte("not a manifest at all"), 0o600); err != nil {
		t.Fatal(err)
	}

	tests := []struct {
		name, path string
		want       error
		mention    string
	}{
		{"locked", locked, ErrLocked, "already running"},
		{"not a directory", filepath.Join(file, "data"), ErrNotWritable, "EINSATZ_DATA"},
		{"newer schema", newer, ErrNewerSchema, "upgrade einsatz"},
		{"corrupt", corrupt, ErrCorrupt, "einsatz restore"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s, err := Open(Options{Path: tt.path})
			if err == nil {
				s.Close()
				t.Fatal("Open succeeded")
			}
			if !errors.Is(err, tt.want) || !strings.Contains(err.Error(), tt.mention) {
				t.Fatalf("Open error = %v; want %v mentioning %q", err, tt.want, tt.mention)
			}
		})
	}
	// The refused newer database is untouched.
	s, err = Open(Options{Path: newer, schemaVersion: SchemaVersion + 1})
	if err != nil {
		t.Fatalf("newer database damaged: %v", err)
	}
	s.Close()
}

func TestMigrationBacksUpFirst(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "data")
	s, err := Open(Options{Path: dir})
	if err != nil {
		t.Fatal(err)
	}
	if err := s.AppendTurn(context.Background(), thread, bot.Turn{Role: bot.RoleUser, Text: "old", Time: time.Now()}); err != nil {
		t.Fatal(err)
	}
	s.Close() // commits the queued turn

	migrated := false
	s = openTest(t, Options{Path: dir, schemaVersion: SchemaVersion + 1, migrations: []Migration{{
		From: SchemaVersion,
		Apply: func(txn *badger.Txn) error {
			migrated = true
			return txn.Set([]byte("meta/migrated"), []byte("yes"))
		},
	}}})
	if !migrated {
		t.Fatal("migration did not run")
	}
	if v, _ := s.readSchema(); v != SchemaVersion+1 {
		t.Fatalf("schema after migration = %d", v)
	}
	backups, _ := filepath.Glob(dir + ".backup-schema-v1-*")
	if len(backups) != 1 {
		t.Fatalf("backups = %v, want one", backups)
	}
	// The backup restores into a database holding the pre-migration data.
	f, err := os.Open(backups[0])
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	db, err := badger.Open(badger.DefaultOptions("").WithInMemory(true).WithLogger(nil))
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	if err := db.Load(f, 16); err != nil {
		t.Fatal(err)
	}
	err = db.View(func(txn *badger.Txn) error {
		if _, err := txn.Get([]byte("meta/migrated")); !errors.Is(err, badger.ErrKeyNotFound) {
			return fmt.Errorf("backup already migrated: %v", err)
		}
		item, err := txn.Get([]byte(keySchema))
		if err != nil {
			return err
		}
		return item.Value(func(v []byte) error {
			if string(v) != "1" {
				return fmt.Errorf("backup schema = %s", v)
			}
			return nil
		})
	})
	if err != nil {
		t.Fatal(err)
	}
}

func TestCloseRefusesWrites(t *testing.T) {
	s, err := Open(Options{InMemory: true})
	if err != nil {
		t.Fatal(err)
	}
	s.Close()
	if _, err := s.Accept(context.Background(), "k", time.Hour, thread, nil); !errors.Is(err, ErrClosed) {
		t.Fatalf("Accept after Close = %v, want ErrClosed", err)
	}
	// Reads too (Badger would panic on a closed database).
	if _, err := s.Spilled(context.Background(), 10, nil); !errors.Is(err, ErrClosed) {
		t.Fatalf("Spilled after Close = %v, want ErrClosed", err)
	}
	if _, err := s.History(context.Background(), bot.ThreadRef{Platform: "x", ChannelID: "y", ThreadID: "z"}, 5); !errors.Is(err, ErrClosed) {
		t.Fatalf("History after Close = %v, want ErrClosed", err)
	}
}

func TestLoginCodeWorksOnce(t *testing.T) {
	s := openTest(t, Options{InMemory: true})
	ctx := context.Background()
	if err := s.AddLoginCode(ctx, "codehash", LoginCode{Name: "admin", Role: "admin"}, time.Hour); err != nil {
		t.Fatal(err)
	}
	sess, err := s.RedeemLoginCode(ctx, "codehash", "sess1", time.Unix(5, 0), time.Hour)
	if err != nil || sess.Name != "admin" || sess.Role != "admin" {
		t.Fatalf("first redeem = %+v, %v", sess, err)
	}
	if _, err := s.RedeemLoginCode(ctx, "codehash", "sess2", time.Unix(6, 0), time.Hour); !errors.Is(err, ErrNotFound) {
		t.Fatalf("second redeem err = %v, want ErrNotFound", err)
	}
	if got, err := s.Session(ctx, "sess1"); err != nil || got.Name != "admin" {
		t.Fatalf("Session = %+v, %v", got, err)
	}
	if _, err := s.Session(ctx, "sess2"); !errors.Is(err, ErrNotFound) {
		t.Fatalf("session of the refused redeem exists: %v", err)
	}
	if err := s.DeleteSession(ctx, "sess1"); err != nil {
		t.Fatal(err)
	}
	if _, err := s.Session(ctx, "sess1"); !errors.Is(err, ErrNotFound) {
		t.Fatalf("deleted session: %v", err)
	}
}

func TestBackupRestoreSameData(t *testing.T) {
	ctx := context.Background()
	s := openTest(t, Options{Path: t.TempDir()})
	for i := range 50 {
		if _, err := s.Accept(ctx, fmt.Sprint("e", i), time.Hour, thread, &bot.Turn{Role: bot.RoleUser, UserID: "u", Text: fmt.Sprint("m", i)}); err != nil {
			t.Fatal(err)
		}
	}
	if err := s.SetOwner(ctx, thread, bot.Owner{Staff: "anna"}); err != nil {
		t.Fatal(err)
	}
	var buf strings.Builder
	if err := s.Backup(ctx, &buf); err != nil {
		t.Fatal(err)
	}
	dir := filepath.Join(t.TempDir(), "restored")
	if err := Restore(dir, strings.NewReader(buf.String()), Options{}); err != nil {
		t.Fatal(err)
	}
	r := openTest(t, Options{Path: dir})
	want, got := dump(t, s), dump(t, r)
	if len(want) == 0 || want != got {
		t.Fatalf("restored data differs:\nwant %d bytes\ngot  %d bytes", len(want), len(got))
	}
	if err := Restore(dir, strings.NewReader(buf.String()), Options{}); err == nil || !strings.Contains(err.Error(), "not empty") {
		t.Fatalf("restore into a used directory: %v", err)
	}
}

func dump(t *testing.T, s *Store) string {
	t.Helper()
	var b strings.Builder
	if err := s.Dump(context.Background(), func(k, v []byte) error {
		fmt.Fprintf(&b, "%s=%x\n", k, v)
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	return b.String()
}

func TestRetentionCountsFromTheRecordsOwnTime(t *testing.T) {
	s := openTest(t, Options{InMemory: true, MessageTTL: 24 * time.Hour})
	ctx := context.Background()
	old := &bot.Turn{Role: bot.RoleUser, UserID: "u", Text: "from an old export", Time: time.Now().Add(-48 * time.Hour)}
	recent := &bot.Turn{Role: bot.RoleUser, UserID: "u", Text: "yesterday", Time: time.Now().Add(-23 * time.Hour)}
	for i, turn := range []*bot.Turn{old, recent} {
		if first, err := s.Accept(ctx, fmt.Sprint("e", i), 0, thread, turn); err != nil || !first {
			t.Fatalf("Accept: %v, %v", first, err)
		}
	}
	h, _ := s.History(ctx, thread, 10)
	if len(h) != 1 || h[0].Text != "yesterday" {
		t.Fatalf("history = %+v, want only the turn inside the retention period", h)
	}
	// The expired one is still known as seen: a re-import adds nothing.
	if first, _ := s.Accept(ctx, "e0", 0, thread, old); first {
		t.Fatal("re-import of an expired message accepted again")
	}
	err := s.Dump(ctx, func(k, v []byte) error {
		if strings.Contains(string(v), "old export") {
			t.Errorf("expired message stored under %s", k)
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
}

// An op that does not fit the transaction the batch has filled runs alone,
// and no transaction is committed holding half of an op.
func TestFlushSplitsFullTransactionsWithoutHalfWrites(t *testing.T) {
	s := openTest(t, Options{InMemory: true})
	filler := &op{done: make(chan error, 1), fn: func(txn *badger.Txn) error {
		for i := range int(s.db.MaxBatchCount()) - 100 { // close to Badger's entry limit for one transaction
			if err := txn.Set([]byte(fmt.Sprintf("test/fill/%05d", i)), []byte("x")); err != nil {
				return err
			}
		}
		return nil
	}}
	first := false
	turn := bot.Turn{Role: bot.RoleUser, UserID: "u", Text: "hello", Time: time.Now()}
	value, _ := json.Marshal(turn)
	accept := &op{done: make(chan error, 1), fn: func(txn *badger.Txn) error {
		first = false
		if _, err := txn.Get(seenKey("ev")); err == nil {
			return nil
		}
		if err := txn.Set(seenKey("ev"), nil); err != nil {
			return err
		}
		for range 10 { // more entries than the filler left room for
			if err := s.setTurn(txn, thread, "u", time.Now(), value); err != nil {
				return err
			}
		}
		first = true
		return nil
	}}
	failing := &op{done: make(chan error, 1), fn: func(txn *badger.Txn) error {
		if err := txn.Set([]byte("test/half"), []byte("written before the failure")); err != nil {
			return err
		}
		return errors.New("fails after a write")
	}}
	s.flush([]*op{filler, failing, accept})
	if err := <-filler.done; err != nil {
		t.Fatalf("filler: %v", err)
	}
	if err := <-failing.done; err == nil {
		t.Fatal("the failing op reported success")
	}
	if err := <-accept.done; err != nil || !first {
		t.Fatalf("accept after a full transaction: first=%v err=%v, want a first delivery", first, err)
	}
	h, err := s.History(context.Background(), thread, 20)
	if err != nil || len(h) != 10 {
		t.Fatalf("history = %d turns, %v; want the 10 the op wrote", len(h), err)
	}
	err = s.view(func(txn *badger.Txn) error {
		if _, err := txn.Get([]byte("test/half")); !errors.Is(err, badger.ErrKeyNotFound) {
			return fmt.Errorf("a failed op's write was committed: %v", err)
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
}
