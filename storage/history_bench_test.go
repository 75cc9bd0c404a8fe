package storage

import (
	"context"
	"fmt"
	"runtime"
	"testing"
	"time"

	"github.com/einsatz/einsatz/bot"
)

// BenchmarkHistoryNewThreads is what the core does for a question that
// opens a thread (every message of cmd/loadtest): accept the member's turn,
// read the thread's history, append the bot's answer. It reports the heap
// the history cache holds per thread once 4,096 such threads are cached
// (cached_B/thread), besides the usual per-op figures.
func BenchmarkHistoryNewThreads(b *testing.B) {
	s, err := Open(Options{InMemory: true})
	if err != nil {
		b.Fatal(err)
	}
	defer s.Close()
	ctx := context.Background()
	now := time.Now()
	i := 0
	step := func() {
		th := bot.ThreadRef{Platform: "discord", ChannelID: fmt.Sprint("c", i%200), ThreadID: fmt.Sprint("t", i)}
		turn := bot.Turn{Role: bot.RoleUser, UserID: "u1", Text: "What is Einsatz? (42)", Time: now, MessageID: fmt.Sprint("m", i)}
		if _, err := s.Accept(ctx, fmt.Sprint("discord:m", i), time.Hour, th, &turn); err != nil {
			b.Fatal(err)
		}
		h, err := s.History(ctx, th, 11)
		if err != nil || len(h) != 1 {
			b.Fatalf("History = %d, %v", len(h), err)
		}
		if err := s.AppendTurn(ctx, th, bot.Turn{Role: bot.RoleBot, Text: "Einsatz is a community bot you run yourself [1].", Time: now}); err != nil {
			b.Fatal(err)
		}
		i++
	}
	b.ReportAllocs()
	for b.Loop() {
		step()
	}
	b.StopTimer()
	// The cache's footprint: fill it with 4,096 fresh threads.
	var m0, m1 runtime.MemStats
	s.recent.Purge()
	runtime.GC()
	runtime.ReadMemStats(&m0)
	for range 4096 {
		step()
	}
	runtime.GC()
	runtime.ReadMemStats(&m1)
	b.ReportMetric(float64(int64(m1.HeapAlloc)-int64(m0.HeapAlloc))/4096, "cached_B/thread")
}

// TestHistoryCacheLongThread: a cached thread that grows past 2×cachedTurns
// still returns its newest turns, in order, the same as read from disk.
func TestHistoryCacheLongThread(t *testing.T) {
	s := openTest(t, Options{InMemory: true})
	ctx := context.Background()
	th := bot.ThreadRef{Platform: "console", ChannelID: "c", ThreadID: "long"}
	t0 := time.Now()
	first := bot.Turn{Role: bot.RoleUser, Text: "0", Time: t0}
	if _, err := s.Accept(ctx, "k0", time.Hour, th, &first); err != nil {
		t.Fatal(err)
	}
	if _, err := s.History(ctx, th, 10); err != nil { // cached from here on
		t.Fatal(err)
	}
	for i := 1; i < 3*cachedTurns+5; i++ {
		turn := bot.Turn{Role: bot.RoleUser, Text: fmt.Sprint(i), Time: t0.Add(time.Duration(i) * time.Millisecond)}
		if _, err := s.Accept(ctx, fmt.Sprint("k", i), time.Hour, th, &turn); err != nil { // durable and cached on return
			t.Fatal(err)
		}
		if i%37 != 0 {
			continue
		}
		got, err := s.History(ctx, th, cachedTurns)
		if err != nil {
			t.Fatal(err)
		}
		disk, err := s.readHistory(ctx, th, cachedTurns)
		if err != nil {
			t.Fatal(err)
		}
		if len(got) != min(i+1, cachedTurns) || len(got) != len(disk) {
			t.Fatalf("after %d turns: %d cached, %d on disk", i+1, len(got), len(disk))
		}
		for j := range got {
			if got[j].Text != disk[j].Text || got[j].Text != fmt.Sprint(i+1-len(got)+j) {
				t.Fatalf("after %d turns: turn %d = %q cached, %q on disk", i+1, j, got[j].Text, disk[j].Text)
			}
		}
	}
}
