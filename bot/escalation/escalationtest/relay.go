package escalationtest

import (
	"context"
	"sync"
	"testing"
	"time"

	"github.com/einsatz/einsatz/bot"
	"github.com/einsatz/einsatz/bot/escalation"
)

// MemRelay is an escalation.RelayStore in memory, safe for concurrent use.
type MemRelay struct {
	mu      sync.Mutex
	relayed map[string]escalation.Relayed
	threads map[bot.ThreadRef]bot.ThreadRef
}

// NewMemRelay returns an empty relay store.
func NewMemRelay() *MemRelay {
	return &MemRelay{relayed: map[string]escalation.Relayed{}, threads: map[bot.ThreadRef]bot.ThreadRef{}}
}

var _ escalation.RelayStore = (*MemRelay)(nil)

// ClaimRelay implements escalation.RelayStore.
func (s *MemRelay) ClaimRelay(_ context.Context, r escalation.Relayed) (bool, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if _, ok := s.relayed[r.Source.Key()]; ok {
		return false, nil
	}
	s.relayed[r.Source.Key()] = r
	return true, nil
}

// PutRelay implements escalation.RelayStore.
func (s *MemRelay) PutRelay(_ context.Context, r escalation.Relayed) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.relayed[r.Source.Key()] = r
	return nil
}

// Relay implements escalation.RelayStore.
func (s *MemRelay) Relay(_ context.Context, source escalation.Message) (escalation.Relayed, bool, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	r, ok := s.relayed[source.Key()]
	return r, ok, nil
}

// PutStaffThread implements escalation.RelayStore.
func (s *MemRelay) PutStaffThread(_ context.Context, staff, member bot.ThreadRef) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.threads[staff] = member
	return nil
}

// StaffThread implements escalation.RelayStore.
func (s *MemRelay) StaffThread(_ context.Context, staff bot.ThreadRef) (bot.ThreadRef, bool, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	m, ok := s.threads[staff]
	return m, ok, nil
}

// RunRelay checks that the stores newStore makes (fresh, empty) behave as
// escalation.RelayStore says.
func RunRelay(t *testing.T, newStore func(t *testing.T) escalation.RelayStore) {
	now := time.Now().Truncate(time.Second)
	staff := bot.ThreadRef{Platform: "slack", ChannelID: "CSTAFF", ThreadID: "1.000"}
	member := bot.ThreadRef{Platform: "discord", ChannelID: "100", ThreadID: "200"}
	src := escalation.Message{Thread: staff, ID: "1.001"}

	t.Run("ClaimOnce", func(t *testing.T) {
		s, ctx := newStore(t), context.Background()
		var wg sync.WaitGroup
		var mu sync.Mutex
		won := 0
		for range 8 {
			wg.Add(1)
			go func() {
				defer wg.Done()
				ok, err := s.ClaimRelay(ctx, escalation.Relayed{Source: src, Direction: escalation.ToMember, Time: now})
				if err != nil {
					t.Error(err)
				}
				if ok {
					mu.Lock()
					won++
					mu.Unlock()
				}
			}()
		}
		wg.Wait()
		if won != 1 {
			t.Fatalf("%d claims of one message won, want 1", won)
		}
		if _, ok, err := s.Relay(ctx, escalation.Message{Thread: staff, ID: "other"}); ok || err != nil {
			t.Fatalf("relay of an unknown message: %v %v", ok, err)
		}
		r := escalation.Relayed{Source: src, Copy: escalation.Message{Thread: member, ID: "300"}, Direction: escalation.ToMember, Time: now}
		if err := s.PutRelay(ctx, r); err != nil {
			t.Fatal(err)
		}
		got, ok, err := s.Relay(ctx, src)
		if !ok || err != nil || got.Copy != r.Copy || got.Direction != escalation.ToMember {
			t.Fatalf("relay = %+v %v %v, want %+v", got, ok, err, r)
		}
		if ok, _ := s.ClaimRelay(ctx, r); ok {
			t.Fatal("claimed a message whose copy is posted")
		}
		// Made a note (📝): the record says so, without the copy.
		r.Internal, r.Copy.ID = true, ""
		if err := s.PutRelay(ctx, r); err != nil {
			t.Fatal(err)
		}
		if got, ok, err := s.Relay(ctx, src); !ok || err != nil || !got.Internal || got.Copy.ID != "" {
			t.Fatalf("relay made a note = %+v %v %v", got, ok, err)
		}
	})

	t.Run("StaffThread", func(t *testing.T) {
		s, ctx := newStore(t), context.Background()
		if _, ok, err := s.StaffThread(ctx, staff); ok || err != nil {
			t.Fatalf("staff thread of an empty store: %v %v", ok, err)
		}
		if err := s.PutStaffThread(ctx, staff, member); err != nil {
			t.Fatal(err)
		}
		got, ok, err := s.StaffThread(ctx, staff)
		if !ok || err != nil || got != member {
			t.Fatalf("staff thread = %+v %v %v, want %+v", got, ok, err, member)
		}
	})
}
