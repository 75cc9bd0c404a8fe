package storage

import (
	"context"

	"github.com/einsatz/einsatz/bot/personal"
)

// exportUser and eraseUser ask every part of s, as handlers/privacy does.
func exportUser(ctx context.Context, s *Store, platform, userID string) (personal.Data, error) {
	recs, err := Parts(s).Export(ctx, platform, userID)
	return personal.Data{Platform: platform, User: userID, Records: recs}, err
}

func eraseUser(ctx context.Context, s *Store, platform, userID, by string) (personal.Erasure, error) {
	return Parts(s).Erase(ctx, platform, userID, by)
}
