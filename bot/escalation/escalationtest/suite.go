package escalationtest

import (
	"context"
	"errors"
	"sync"
	"testing"
	"time"

	"github.com/einsatz/einsatz/bot"
	"github.com/einsatz/einsatz/bot/escalation"
)

// Run checks that the stores newStore makes (a fresh, empty one per call)
// behave as escalation.Store says.
func Run(t *testing.T, newStore func(t *testing.T) escalation.Store) {
	now := time.Now().Truncate(time.Second)
	thread := func(id string) bot.ThreadRef { return bot.ThreadRef{Platform: "slack", ChannelID: "C1", ThreadID: id} }
	esc := func(id string, at time.Time) escalation.Escalation {
		return escalation.Escalation{Thread: thread(id), User: bot.User{Platform: "slack", ID: "U1", Name: "ann"}, Reason: "asked",
			Summary: "wants a human", Created: at, Status: escalation.StatusOpen}
	}

	t.Run("OneOpenPerThread", func(t *testing.T) {
		s, ctx := newStore(t), context.Background()
		if _, found, err := s.Escalation(ctx, thread("t1")); found || err != nil {
			t.Fatalf("escalation of an empty store: found %v, err %v", found, err)
		}
		var wg sync.WaitGroup
		var mu sync.Mutex
		created := 0
		for range 6 {
			wg.Add(1)
			go func() {
				defer wg.Done()
				ok, err := s.OpenEscalation(ctx, esc("t1", now))
				if err != nil {
					t.Error(err)
				}
				if ok {
					mu.Lock()
					created++
					mu.Unlock()
				}
			}()
		}
		wg.Wait()
		if created != 1 {
			t.Fatalf("%d triggers at once stored an escalation, want 1", created)
		}
		e, found, err := s.Escalation(ctx, thread("t1"))
		if err != nil || !found || e.Summary != "wants a human" || !e.Open() {
			t.Fatalf("escalation = %+v %v %v", e, found, err)
		}
		// Claimed is still open; resolved is not, and a new one may open.
		e.Status, e.ClaimedBy, e.FirstResponse = escalation.StatusClaimed, "sam", now.Add(time.Minute)
		if err := s.PutEscalation(ctx, e); err != nil {
			t.Fatal(err)
		}
		if ok, _ := s.OpenEscalation(ctx, esc("t1", now.Add(2*time.Minute))); ok {
			t.Fatal("opened a second escalation while one is claimed")
		}
		got, _, _ := s.Escalation(ctx, thread("t1"))
		if got.ClaimedBy != "sam" || got.ResponseTime() != time.Minute {
			t.Fatalf("after the update: %+v", got)
		}
		got.Status, got.Closed = escalation.StatusResolved, now.Add(3*time.Minute)
		if err := s.PutEscalation(ctx, got); err != nil {
			t.Fatal(err)
		}
		if ok, err := s.OpenEscalation(ctx, esc("t1", now.Add(4*time.Minute))); !ok || err != nil {
			t.Fatalf("a new escalation after the last was resolved: %v %v", ok, err)
		}
		if latest, _, _ := s.Escalation(ctx, thread("t1")); !latest.Created.Equal(now.Add(4*time.Minute)) || latest.Status != escalation.StatusOpen {
			t.Fatalf("latest = %+v, want the new one", latest)
		}
	})

	t.Run("Update", func(t *testing.T) {
		s, ctx := newStore(t), context.Background()
		if _, err := s.UpdateEscalation(ctx, thread("none"), func(*escalation.Escalation) error { return nil }); !errors.Is(err, escalation.ErrNotFound) {
			t.Fatalf("update of a missing escalation: %v, want ErrNotFound", err)
		}
		if ok, err := s.OpenEscalation(ctx, esc("u1", now)); !ok || err != nil {
			t.Fatalf("open: %v %v", ok, err)
		}
		got, err := s.UpdateEscalation(ctx, thread("u1"), func(e *escalation.Escalation) error {
			return e.Apply(escalation.ActionClaim, "sam", now.Add(time.Minute), "")
		})
		if err != nil || got.Status != escalation.StatusClaimed || len(got.Changes) != 1 {
			t.Fatalf("claim: %+v, %v", got, err)
		}
		// A failing step changes nothing, not even the audit.
		if _, err := s.UpdateEscalation(ctx, thread("u1"), func(e *escalation.Escalation) error {
			e.Changes = append(e.Changes, escalation.Change{Action: "half done"})
			return e.Apply(escalation.ActionReopen, "ann", now.Add(2*time.Minute), "")
		}); !errors.Is(err, escalation.ErrIllegal) {
			t.Fatalf("reopen of a claimed escalation: %v, want ErrIllegal", err)
		}
		// Updates at once all land: none is lost to another.
		var wg sync.WaitGroup
		for i := range 5 {
			wg.Add(1)
			go func() {
				defer wg.Done()
				if _, err := s.UpdateEscalation(ctx, thread("u1"), func(e *escalation.Escalation) error {
					return e.Apply(escalation.ActionNote, "sam", now.Add(time.Duration(3+i)*time.Minute), "note")
				}); err != nil {
					t.Error(err)
				}
			}()
		}
		wg.Wait()
		e, _, err := s.Escalation(ctx, thread("u1"))
		if err != nil || e.Status != escalation.StatusClaimed || len(e.Changes) != 6 || e.ClaimedBy != "sam" {
			t.Fatalf("after five notes: %+v, %v; want claimed with 6 changes", e, err)
		}
	})

	t.Run("NewestFirst", func(t *testing.T) {
		s, ctx := newStore(t), context.Background()
		for i, id := range []string{"a", "b", "c"} {
			if ok, err := s.OpenEscalation(ctx, esc(id, now.Add(time.Duration(i)*time.Minute))); !ok || err != nil {
				t.Fatalf("open %s: %v %v", id, ok, err)
			}
		}
		all, err := s.Escalations(ctx)
		if err != nil || len(all) != 3 || all[0].Thread.ThreadID != "c" || all[2].Thread.ThreadID != "a" {
			t.Fatalf("escalations = %+v, %v; want c, b, a", all, err)
		}
	})
}
