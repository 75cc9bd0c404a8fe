package storage

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"time"
)

// optOutKey names a member's /publish-optout by a hash of platform and
// user id: the record says "never publish this member's answers", and is
// kept after an erasure so that preference still holds.
func optOutKey(platform, userID string) []byte {
	sum := sha256.Sum256([]byte(join(platform, userID)))
	return []byte(prefixKBOptOut + hex.EncodeToString(sum[:16]))
}

type optOut struct {
	Since time.Time `json:"since"`
}

var errNoOptOut = errors.New("no opt-out")

// PutPublishOptOut records that a member opted out of the public answer
// pages.
func (b *Solved) PutPublishOptOut(ctx context.Context, platform, userID string, now time.Time) error {
	if err := putRecord(ctx, b.s, optOutKey(platform, userID), optOut{Since: now}); err != nil {
		return fmt.Errorf("storage: put publish opt-out: %w", err)
	}
	return nil
}

// PublishOptedOut reports whether a member opted out of the public answer
// pages.
func (b *Solved) PublishOptedOut(ctx context.Context, platform, userID string) (bool, error) {
	_, err := getRecord[optOut](ctx, b.s, optOutKey(platform, userID), errNoOptOut)
	if errors.Is(err, errNoOptOut) {
		return false, nil
	}
	if err != nil {
		return false, fmt.Errorf("storage: publish opt-out: %w", err)
	}
	return true, nil
}
