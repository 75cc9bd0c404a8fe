package solvedtest

import (
	"context"
	"errors"
	"maps"
	"slices"
	"testing"
	"time"

	"github.com/einsatz/einsatz/bot"
	"github.com/einsatz/einsatz/bot/solved"
)

var _ solved.NudgeStore = (*Mem)(nil)

// Nudge implements solved.NudgeStore.
func (m *Mem) Nudge(ctx context.Context, thread string) (solved.Nudge, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	n, ok := m.nudges[thread]
	if !ok {
		return n, solved.ErrNotExist
	}
	return n, ctx.Err()
}

// PutNudge implements solved.NudgeStore.
func (m *Mem) PutNudge(ctx context.Context, n solved.Nudge) error {
	if n.Thread.Key() == "" {
		return errors.New("solvedtest: nudge without thread")
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.nudges == nil {
		m.nudges = map[string]solved.Nudge{}
	}
	m.nudges[n.Thread.Key()] = n
	return ctx.Err()
}

// Nudges implements solved.NudgeStore.
func (m *Mem) Nudges(ctx context.Context) ([]solved.Nudge, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	return slices.Collect(maps.Values(m.nudges)), ctx.Err()
}

// DeleteNudge implements solved.NudgeStore.
func (m *Mem) DeleteNudge(ctx context.Context, thread string) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	delete(m.nudges, thread)
	return ctx.Err()
}

// RunNudges checks that the stores newStore makes (fresh, empty) behave
// as solved.NudgeStore says.
func RunNudges(t *testing.T, newStore func(t *testing.T) solved.NudgeStore) {
	ctx := context.Background()
	at := time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)
	s := newStore(t)
	th := bot.ThreadRef{Platform: "slack", ChannelID: "C1", ThreadID: "1700000000.000100"}
	if _, err := s.Nudge(ctx, th.Key()); !errors.Is(err, solved.ErrNotExist) {
		t.Fatalf("Nudge of an unknown thread: err %v, want ErrNotExist", err)
	}
	if err := s.DeleteNudge(ctx, th.Key()); err != nil {
		t.Fatalf("deleting an unknown nudge: %v", err)
	}
	n := solved.Nudge{Thread: th, Lang: "de", Last: at}
	if err := s.PutNudge(ctx, n); err != nil {
		t.Fatal(err)
	}
	n.Sent, n.Message = at.Add(time.Hour), "1700000100.000200"
	if err := s.PutNudge(ctx, n); err != nil {
		t.Fatal(err)
	}
	other := solved.Nudge{Thread: bot.ThreadRef{Platform: "discord", ChannelID: "2", ThreadID: "3"}, Last: at}
	if err := s.PutNudge(ctx, other); err != nil {
		t.Fatal(err)
	}
	got, err := s.Nudge(ctx, th.Key())
	if err != nil || got.Thread != th || got.Lang != "de" || !got.Last.Equal(at) || !got.Sent.Equal(n.Sent) || got.Message != n.Message {
		t.Fatalf("Nudge = %+v, %v; want %+v", got, err, n)
	}
	if all, err := s.Nudges(ctx); err != nil || len(all) != 2 {
		t.Fatalf("Nudges = %+v, %v; want 2", all, err)
	}
	if err := s.DeleteNudge(ctx, th.Key()); err != nil {
		t.Fatal(err)
	}
	if all, _ := s.Nudges(ctx); len(all) != 1 || all[0].Thread != other.Thread {
		t.Fatalf("after delete: %+v", all)
	}
}
