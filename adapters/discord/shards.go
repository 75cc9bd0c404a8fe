package discord

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/bwmarrin/discordgo"
)

// GatewayLimits is what GET /gateway/bot tells: the recommended shard
// count and the session start limit (IDENTIFYs left today, when the count
// resets, and how many IDENTIFYs may start per 5 seconds).
type GatewayLimits struct {
	Shards         int
	Total          int
	Remaining      int
	ResetAfter     time.Duration
	MaxConcurrency int
}

// GatewayLimits reads GET /gateway/bot.
func (a *Adapter) GatewayLimits(ctx context.Context) (GatewayLimits, error) {
	g, err := a.s.GatewayBot(discordgo.WithContext(ctx))
	if err != nil {
		return GatewayLimits{}, fmt.Errorf("discord: GET /gateway/bot: %w", err)
	}
	l := g.SessionStartLimit
	return GatewayLimits{Shards: g.Shards, Total: l.Total, Remaining: l.Remaining,
		ResetAfter: time.Duration(l.ResetAfter) * time.Millisecond, MaxConcurrency: max(1, l.MaxConcurrency)}, nil
}

// OpenShard connects a gateway session for shard of shards (one IDENTIFY,
// which the caller paced) and returns a function that closes it. The
// session delivers to the adapter's sink like the one session does;
// discordgo resumes it by itself after a dropped connection.
func (a *Adapter) OpenShard(ctx context.Context, shard, shards int) (func(), error) {
	s, err := a.newSession()
	if err != nil {
		return nil, err
	}
	s.ShardID, s.ShardCount = shard, shards
	if a.noContent() {
		s.Identify.Intents &^= discordgo.IntentsMessageContent
	}
	if err := a.openSession(s); err != nil {
		if errors.Is(err, errToken) {
			return nil, err
		}
		return nil, fmt.Errorf("discord: open shard %d of %d: %w", shard, shards, err)
	}
	if ctx.Err() != nil {
		closeSession(s)
		return nil, ctx.Err()
	}
	a.log.Info("connected a gateway shard", "shard", shard, "shards", shards)
	return func() { closeSession(s) }, nil
}

// IsTokenError reports whether err says Discord rejected the bot token,
// which no retry mends.
func IsTokenError(err error) bool { return errors.Is(err, errToken) }

// closeSession closes a gateway session for good (see Run).
func closeSession(s *discordgo.Session) {
	s.ShouldReconnectOnError = false
	_ = s.Close()
}

func (a *Adapter) noContent() bool {
	a.mu.Lock()
	defer a.mu.Unlock()
	return a.contentOff
}

// runGateway hands the gateway to Options.Gateway (the shards) and sweeps
// expired interactions until ctx ends.
func (a *Adapter) runGateway(ctx context.Context) error {
	done := make(chan error, 1)
	go func() { done <- a.opts.Gateway(ctx, a) }()
	sweep := time.NewTicker(time.Minute)
	defer sweep.Stop()
	for {
		select {
		case err := <-done:
			return err
		case <-sweep.C:
			a.sweepPending()
		}
	}
}
