package storage

import (
	"context"
	"errors"
	"fmt"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/einsatz/einsatz/bot"
	"github.com/einsatz/einsatz/bot/escalation"
)

// BenchmarkMessageWithoutEscalation is a member's message in a thread that
// has no escalation, many threads at once (as under cmd/loadtest): the
// message is accepted, and the hand-off service asks to reopen the thread's
// escalation, which does not exist.
func BenchmarkMessageWithoutEscalation(b *testing.B) {
	s, err := Open(Options{Path: b.TempDir()})
	if err != nil {
		b.Fatal(err)
	}
	defer s.Close()
	h := NewHandoff(s)
	ctx := context.Background()
	var n atomic.Int64
	b.ReportAllocs()
	cpu0 := cpuNow(b)
	b.SetParallelism(32)
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			i := n.Add(1)
			th := bot.ThreadRef{Platform: "discord", ChannelID: fmt.Sprint("c", i%200), ThreadID: fmt.Sprint("t", i)}
			turn := bot.Turn{Role: bot.RoleUser, UserID: "u1", Text: "What is Einsatz?", Time: time.Now()}
			if _, err := s.Accept(ctx, fmt.Sprint("discord:m", i), time.Hour, th, &turn); err != nil {
				b.Fatal(err)
			}
			_, err := h.UpdateEscalation(ctx, th, func(*escalation.Escalation) error { return nil })
			if !errors.Is(err, escalation.ErrNotFound) {
				b.Fatalf("UpdateEscalation = %v", err)
			}
		}
	})
	b.ReportMetric(float64(cpuNow(b)-cpu0)/float64(b.N), "cpu-ns/op")
}

// cpuNow is the process's user and system CPU time: a benchmark's CPU per
// operation means something on a shared machine, its wall time less so.
func cpuNow(b *testing.B) time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		b.Fatal(err)
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}
