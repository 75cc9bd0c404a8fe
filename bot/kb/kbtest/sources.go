package kbtest

import (
	"cmp"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"maps"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/einsatz/einsatz/bot/kb"
)

// MemSources is a kb.SourceStore in memory, safe for concurrent use. It
// keeps states as JSON, like storage.KBSources, so a caller that changes
// a returned state's maps does not change the stored one.
type MemSources struct {
	mu     sync.Mutex
	states map[string][]byte
}

var _ kb.SourceStore = (*MemSources)(nil)

// NewMemSources returns an empty store.
func NewMemSources() *MemSources { return &MemSources{states: map[string][]byte{}} }

// Source implements kb.SourceStore.
func (m *MemSources) Source(ctx context.Context, id string) (kb.SourceState, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	var st kb.SourceState
	b, ok := m.states[id]
	if !ok {
		return st, kb.ErrSourceNotExist
	}
	return st, errors.Join(json.Unmarshal(b, &st), ctx.Err())
}

// PutSource implements kb.SourceStore.
func (m *MemSources) PutSource(_ context.Context, st kb.SourceState) error {
	b, err := json.Marshal(st)
	if err != nil {
		return err
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	m.states[st.ID] = b
	return nil
}

// Sources implements kb.SourceStore.
func (m *MemSources) Sources(ctx context.Context) ([]kb.SourceState, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	var out []kb.SourceState
	for _, id := range slices.Sorted(maps.Keys(m.states)) {
		var st kb.SourceState
		if err := json.Unmarshal(m.states[id], &st); err != nil {
			return nil, err
		}
		out = append(out, st)
	}
	return out, ctx.Err()
}

// DeleteSource implements kb.SourceStore.
func (m *MemSources) DeleteSource(_ context.Context, id string) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	delete(m.states, id)
	return nil
}

// RunSources checks that the stores newStore makes (a fresh, empty one per
// call) behave as kb.SourceStore says.
func RunSources(t *testing.T, newStore func(t *testing.T) kb.SourceStore) {
	ctx := context.Background()
	synced := time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)
	state := func(id string) kb.SourceState {
		return kb.SourceState{ID: id, Type: kb.SourceWebsite, URL: "https://docs.example.org/", LastSync: synced, LastOK: synced,
			Duration: 3 * time.Second, Pages: 2, Errors: 1, LastError: "https://docs.example.org/x: 500", Requests: 4,
			Robots: "User-agent: *\nDisallow: /private/\n",
			Entries: map[string]kb.PageState{
				"https://docs.example.org/a": {Doc: "web/docs.example.org/a", ETag: `"1"`, LastModified: "Sun, 01 Mar 2026 10:00:00 GMT", Hash: "h1",
					Links: []string{"https://docs.example.org/b"}},
			}}
	}
	t.Run("missing", func(t *testing.T) {
		s := newStore(t)
		if _, err := s.Source(ctx, "nope"); !errors.Is(err, kb.ErrSourceNotExist) {
			t.Fatalf("Source of an unknown id: err %v, want ErrSourceNotExist", err)
		}
		got, err := s.Sources(ctx)
		if err != nil || len(got) != 0 {
			t.Fatalf("Sources of an empty store = %v, %v", got, err)
		}
	})
	t.Run("round trip and order", func(t *testing.T) {
		s := newStore(t)
		for _, id := range []string{"website https://b/", "git https://a/ main docs", "website https://a/"} {
			if err := s.PutSource(ctx, state(id)); err != nil {
				t.Fatal(err)
			}
		}
		got, err := s.Source(ctx, "website https://a/")
		if err != nil {
			t.Fatal(err)
		}
		if want := state("website https://a/"); fmt.Sprint(got) != fmt.Sprint(want) {
			t.Errorf("Source = %+v\nwant %+v", got, want)
		}
		all, err := s.Sources(ctx)
		if err != nil {
			t.Fatal(err)
		}
		var ids []string
		for _, st := range all {
			ids = append(ids, st.ID)
		}
		if !slices.IsSortedFunc(ids, cmp.Compare[string]) || len(ids) != 3 {
			t.Errorf("Sources ids = %q, want all three in order", ids)
		}
	})
	t.Run("replace and delete", func(t *testing.T) {
		s := newStore(t)
		st := state("website https://a/")
		if err := s.PutSource(ctx, st); err != nil {
			t.Fatal(err)
		}
		st.Entries = nil
		st.Pages = 0
		if err := s.PutSource(ctx, st); err != nil {
			t.Fatal(err)
		}
		got, err := s.Source(ctx, st.ID)
		if err != nil || len(got.Entries) != 0 || got.Pages != 0 {
			t.Fatalf("after replacing: %+v, %v; want no entries", got, err)
		}
		if err := s.DeleteSource(ctx, st.ID); err != nil {
			t.Fatal(err)
		}
		if _, err := s.Source(ctx, st.ID); !errors.Is(err, kb.ErrSourceNotExist) {
			t.Fatalf("after delete: err %v, want ErrSourceNotExist", err)
		}
	})
}
