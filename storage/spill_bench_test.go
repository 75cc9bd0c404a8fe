package storage

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/einsatz/einsatz/bot"
)

// BenchmarkReplaySpilled is one round of the core's replay of kept events
// under a backlog: 512 kept events are in flight (being handled, so still
// kept) and 16 more wait; a round finds the 16. "skip" passes over the
// ones in flight by key, as the core does; "decode-all" is how it was
// before: read and decode every kept event, then drop those in flight.
func BenchmarkReplaySpilled(b *testing.B) {
	s, err := Open(Options{InMemory: true})
	if err != nil {
		b.Fatal(err)
	}
	defer s.Close()
	ctx := context.Background()
	const inFlight, waiting = 512, 16
	for i := range inFlight + waiting {
		ev := bot.Event{Key: fmt.Sprint("discord:m", i), Platform: "discord", ChannelID: "c", MessageID: fmt.Sprint("m", i),
			Text: "@Einsatz What is Einsatz? (42)", Time: time.Unix(int64(i), 0)}
		if err := s.Spill(ctx, ev); err != nil {
			b.Fatal(err)
		}
	}
	all, err := s.Spilled(ctx, inFlight+waiting, nil)
	if err != nil || len(all) != inFlight+waiting {
		b.Fatalf("Spilled = %d, %v", len(all), err)
	}
	inflight := map[string]bool{}
	for _, e := range all[:inFlight] {
		inflight[e.ID] = true
	}
	skip := func(id string) bool { return inflight[id] }
	b.Run("skip", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			got, err := s.Spilled(ctx, inFlight+waiting, skip)
			if err != nil || len(got) != waiting {
				b.Fatalf("Spilled = %d, %v", len(got), err)
			}
		}
	})
	b.Run("decode-all", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			got, err := s.Spilled(ctx, inFlight+waiting, nil)
			n := 0
			for _, e := range got {
				if !inflight[e.ID] {
					n++
				}
			}
			if err != nil || n != waiting {
				b.Fatalf("Spilled = %d, %v", n, err)
			}
		}
	})
}

// BenchmarkReplaySpilledAfterDeletes is a replay round late in a backlog:
// 4,096 kept events were handled and deleted (their tombstones still in
// the memtable), 512 are in flight and 16 wait. A round reads from where
// the last one found the first kept event, not from the start.
func BenchmarkReplaySpilledAfterDeletes(b *testing.B) {
	s, err := Open(Options{InMemory: true})
	if err != nil {
		b.Fatal(err)
	}
	defer s.Close()
	ctx := context.Background()
	const deleted, inFlight, waiting = 4096, 512, 16
	for i := range deleted + inFlight + waiting {
		ev := bot.Event{Key: fmt.Sprint("discord:m", i), Platform: "discord", ChannelID: "c", MessageID: fmt.Sprint("m", i),
			Text: "@Einsatz What is Einsatz? (42)", Time: time.Unix(int64(i), 0)}
		if err := s.Spill(ctx, ev); err != nil {
			b.Fatal(err)
		}
	}
	all, err := s.Spilled(ctx, deleted+inFlight+waiting, nil)
	if err != nil || len(all) != deleted+inFlight+waiting {
		b.Fatalf("Spilled = %d, %v", len(all), err)
	}
	for _, e := range all[:deleted] {
		if err := s.DeleteSpilled(ctx, e.ID); err != nil {
			b.Fatal(err)
		}
	}
	inflight := map[string]bool{}
	for _, e := range all[deleted : deleted+inFlight] {
		inflight[e.ID] = true
	}
	skip := func(id string) bool { return inflight[id] }
	b.ReportAllocs()
	for b.Loop() {
		got, err := s.Spilled(ctx, inFlight+waiting, skip)
		if err != nil || len(got) != waiting {
			b.Fatalf("Spilled = %d, %v", len(got), err)
		}
	}
}
