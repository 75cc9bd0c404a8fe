package web

import (
	"context"
	"strings"
	"sync"
	"time"

	"github.com/einsatz/einsatz/bot"
)

// ChannelNames is an observer that asks a platform for the name of each
// channel it sees an event from without one (Slack's events carry only
// ids), once per channel and then again after refresh, and keeps it in the
// name cache the dashboard reads. The lookup runs in the background: an
// event never waits for it. Call Wait after the core stopped and before
// the cache closes.
type ChannelNames struct {
	names    Names
	platform string
	lookup   func(ctx context.Context, channelID string) (string, error)
	clock    bot.Clock
	log      interface {
		Warn(msg string, args ...any)
	}
	refresh time.Duration

	mu    sync.Mutex
	asked map[string]time.Time // channel id → when it was last looked up
	wg    sync.WaitGroup
}

// channelRefresh is how often a channel's name is looked up again (a
// renamed channel shows its new name by then).
const channelRefresh = 24 * time.Hour

// NewChannelNames returns the observer for one platform's channels.
func NewChannelNames(names Names, platform string, lookup func(ctx context.Context, channelID string) (string, error), clock bot.Clock,
	log interface {
		Warn(msg string, args ...any)
	}) *ChannelNames {
	if clock == nil {
		clock = bot.SystemClock{}
	}
	return &ChannelNames{names: names, platform: platform, lookup: lookup, clock: clock, log: log, refresh: channelRefresh,
		asked: map[string]time.Time{}}
}

// Observe starts a lookup of the event's channel when it is due.
func (c *ChannelNames) Observe(_ context.Context, ev *bot.Event) error {
	if ev.Platform != c.platform || ev.ChannelID == "" || ev.ChannelName != "" || strings.HasPrefix(ev.ChannelID, "D") {
		return nil // another platform, a name already given (RecordNames keeps it), or a direct message
	}
	now := c.clock.Now()
	c.mu.Lock()
	if last, ok := c.asked[ev.ChannelID]; ok && now.Sub(last) < c.refresh {
		c.mu.Unlock()
		return nil
	}
	c.asked[ev.ChannelID] = now
	c.wg.Add(1)
	c.mu.Unlock()
	go func() {
		defer c.wg.Done()
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		name, err := c.lookup(ctx, ev.ChannelID)
		if err != nil {
			c.log.Warn("names: looking up a channel's name", "platform", c.platform, "channel", ev.ChannelID, "err", err)
			return // asked again after refresh
		}
		if err := c.names.Put(ctx, nameChannel, c.platform, ev.ChannelID, name, now); err != nil {
			c.log.Warn("names: remember a channel's name", "err", err)
		}
	}()
	return nil
}

// Wait waits for the lookups in flight.
func (c *ChannelNames) Wait() { c.wg.Wait() }
