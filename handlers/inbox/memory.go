package inbox

import (
	"context"
	"encoding/json"

	"github.com/einsatz/einsatz/bot/personal"
)

// The running service keeps two things in memory that come from what
// people wrote: recent messages (so a 💡 reaction can file a message whose
// text the reaction does not carry) and the word index of open items.
// Export and Erase make it a personal.Part beside the stores, so erasure
// reaches memory too.

// Export returns nothing: what the service holds in memory is a copy of
// records the stores export.
func (s *Service) Export(context.Context, string, string) (map[string][]json.RawMessage, error) {
	return nil, nil
}

// Erase forgets the person's recent messages and drops the word index; the
// next request rebuilds it from the store, where their mentions are gone.
// Run it after the stores' parts.
func (s *Service) Erase(_ context.Context, platform, userID, _ string) (personal.Erasure, error) {
	for _, k := range s.seen.Keys() {
		if m, ok := s.seen.Peek(k); ok && m.User.Platform == platform && m.User.ID == userID {
			s.seen.Remove(k)
		}
	}
	s.Reindex()
	return personal.NewErasure(), nil
}

var _ personal.Part = (*Service)(nil)
