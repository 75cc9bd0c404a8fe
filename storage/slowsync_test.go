package storage

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/einsatz/einsatz/bot"
)

// Fault: a slow disk. While an fsync hangs, events keep being accepted:
// none is acknowledged (Accept returns) before the fsync holding it is
// done, the ones arriving meanwhile are grouped into the next batch (one
// more fsync, not one each), and after a reopen every acknowledged event is
// there once: accepted again it is recognised as seen, and its turn is in
// the thread's history once.
func TestSlowFsyncAcknowledgesOnlyDurableWrites(t *testing.T) {
	dir := t.TempDir()
	quiet := slog.New(slog.NewTextHandler(io.Discard, nil))
	s, err := Open(Options{Path: dir, Logger: quiet})
	if err != nil {
		t.Fatal(err)
	}
	var syncs atomic.Int32
	entered := make(chan struct{}, 100)
	gate := make(chan struct{})
	s.syncDisk = func() error {
		syncs.Add(1)
		entered <- struct{}{}
		<-gate // the disk takes its time
		return s.db.Sync()
	}
	ctx := context.Background()
	threads := []bot.ThreadRef{{Platform: "test", ChannelID: "c", ThreadID: "a"}, {Platform: "test", ChannelID: "c", ThreadID: "b"}}
	var acked atomic.Int32
	var wg sync.WaitGroup
	accept := func(key string, th bot.ThreadRef) {
		defer wg.Done()
		first, err := s.Accept(ctx, key, time.Hour, th, &bot.Turn{Role: bot.RoleUser, Text: key, MessageID: key})
		if err != nil || !first {
			t.Errorf("Accept %s = %v, %v; want first, nil", key, first, err)
		}
		acked.Add(1)
	}

	wg.Add(1)
	go accept("k0", threads[0])
	<-entered // k0's batch is committed and its fsync hangs
	const n = 40
	for i := 1; i <= n; i++ {
		wg.Add(1)
		go accept(fmt.Sprint("k", i), threads[i%2])
	}
	// The 40 queue up behind the hanging fsync.
	for deadline := time.Now().Add(10 * time.Second); len(s.ops) < n; time.Sleep(time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatalf("%d of %d writes queued", len(s.ops), n)
		}
	}
	if a := acked.Load(); a != 0 {
		t.Fatalf("%d events acknowledged while the fsync holding them hangs", a)
	}
	close(gate)
	wg.Wait()
	if got := syncs.Load(); got > 3 {
		t.Errorf("%d fsyncs for %d writes arriving during one slow fsync, want them grouped (at most 3)", got, n+1)
	}
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}

	s, err = Open(Options{Path: dir, Logger: quiet})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	for i := 0; i <= n; i++ {
		key := fmt.Sprint("k", i)
		if first, err := s.Accept(ctx, key, time.Hour, threads[i%2], nil); err != nil || first {
			t.Errorf("after reopen, Accept %s = %v, %v; want seen already", key, first, err)
		}
	}
	seen := map[string]int{}
	for _, th := range threads {
		hist, err := s.History(ctx, th, 100)
		if err != nil {
			t.Fatal(err)
		}
		for _, turn := range hist {
			seen[turn.Text]++
		}
	}
	for i := 0; i <= n; i++ {
		if k := fmt.Sprint("k", i); seen[k] != 1 {
			t.Errorf("%s is in the history %d times, want 1", k, seen[k])
		}
	}
	t.Logf("%d writes during a hanging fsync: %d fsyncs in all, every write durable once", n+1, syncs.Load())
}
