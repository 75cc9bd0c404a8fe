package storage

import (
	"context"
	"fmt"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/dgraph-io/badger/v4"

	"github.com/einsatz/einsatz/bot"
)

// Durable writes that come one after another, each soon after the last
// fsync (a few hundred events a second), share fsyncs: each waits out the
// rest of syncGap and takes the writes arriving meanwhile with it. Without
// the gap each of these writes found the committer idle and got an fsync
// of its own.
func TestDurableWritesSoonAfterAnFsyncShareOne(t *testing.T) {
	ctx := context.Background()
	s, err := Open(Options{Path: t.TempDir()})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	var syncs atomic.Int32
	s.syncDisk = func() error {
		syncs.Add(1)
		return s.db.Sync()
	}
	now := time.Now()
	accept := func(i int) error {
		ev := bot.Event{Key: fmt.Sprint("ev-", i), Kind: bot.KindMessage, Platform: "console", ChannelID: "c",
			ThreadID: fmt.Sprint("t", i), MessageID: fmt.Sprint("m", i), User: bot.User{ID: "u1"}, Text: "hi", Time: now}
		_, err := s.AcceptUnfinished(ctx, ev, "", time.Hour, &bot.Turn{Role: bot.RoleUser, UserID: "u1", Text: "hi", Time: now})
		return err
	}
	if err := accept(0); err != nil { // the disk was idle: synced at once
		t.Fatal(err)
	}
	if got := syncs.Load(); got != 1 {
		t.Fatalf("%d fsyncs after the first write, want 1", got)
	}
	// Eight writers, each starting shortly after the one before, all within
	// one gap: they end up in one or two fsyncs, not eight.
	const n = 8
	var wg sync.WaitGroup
	errs := make(chan error, n)
	for i := 1; i <= n; i++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			errs <- accept(i)
		}()
		time.Sleep(syncGap / (8 * n))
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		if err != nil {
			t.Fatal(err)
		}
	}
	if got := syncs.Load() - 1; got > 2 {
		t.Errorf("%d fsyncs for %d durable writes arriving within one gap after an fsync, want at most 2", got, n)
	}
	if w := s.WriteStats(); w.Durable != n+1 {
		t.Errorf("durable writes = %d, want %d", w.Durable, n+1)
	}
}

// syncWait holds back only a batch that will fsync and comes less than
// syncGap after the last fsync; Sync (force) and writes nobody waits to be
// durable never wait, nor does the first write after a quiet spell.
func TestSyncWait(t *testing.T) {
	s := &Store{opts: Options{MaxBatch: 256}, syncGap: syncGap}
	noop := func(*badger.Txn) error { return nil }
	durable := &op{fn: noop, durable: true}
	visible := &op{fn: noop}
	force := &op{fn: noop, durable: true, force: true}
	tests := []struct {
		name     string
		lastSync time.Time
		batch    []*op
		waits    bool
	}{
		{"no fsync yet", time.Time{}, []*op{durable}, false},
		{"last fsync long ago", time.Now().Add(-time.Second), []*op{durable}, false},
		{"durable right after an fsync", time.Now(), []*op{visible, durable}, true},
		{"nothing durable", time.Now(), []*op{visible}, false},
		{"Sync", time.Now(), []*op{durable, force}, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s.lastSync = tt.lastSync
			w := s.syncWait(tt.batch)
			if got := w > 0; got != tt.waits {
				t.Fatalf("syncWait = %v, want waiting %v", w, tt.waits)
			}
			if w > syncGap {
				t.Fatalf("syncWait = %v, more than the gap %v", w, syncGap)
			}
		})
	}
}
