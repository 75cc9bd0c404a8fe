package discord

import (
	"context"
	"fmt"
	"sort"
	"strconv"
	"time"

	"github.com/bwmarrin/discordgo"

	"github.com/einsatz/einsatz/bot/catchup"
)

// Catch-up after a restart (see package catchup): Discord replays nothing
// after a fresh IDENTIFY, so the adapter reads what was posted while it was
// down with GET /channels/{id}/messages?after= and submits it as it would
// have submitted MESSAGE_CREATE.

// catchUpPages bounds the pages (of 100 messages) read per channel.
const catchUpPages = 10

var _ catchup.Fetcher = (*Adapter)(nil)

// Ready reports whether Run has its sink, knows the bot's id and has a
// gateway session past READY. Until then a message posted after the
// catch-up read its channel would reach the bot neither way (a fresh
// IDENTIFY replays nothing); from READY on the gateway delivers what
// history no longer shows, and what history shows twice the core drops.
func (a *Adapter) Ready() bool {
	a.sinkMu.RLock()
	ok := a.sink != nil
	a.sinkMu.RUnlock()
	a.mu.Lock()
	defer a.mu.Unlock()
	return ok && a.live && a.id.UserID != ""
}

// CatchUp reads, per channel or thread of seen, the messages after its
// mark (see catchup.From) and submits them oldest first. A message the core
// handled already has the same event key and is dropped there.
func (a *Adapter) CatchUp(ctx context.Context, seen []catchup.Seen, since time.Time) (int, error) {
	// Where a thread's messages live: top-level messages and DMs in the
	// channel; a conversation's follow-ups in the Discord thread started
	// from its first message, a channel of its own (that may not exist).
	from := map[string]time.Time{}
	add := func(loc string, f time.Time) {
		if prev, ok := from[loc]; !ok || f.Before(prev) {
			from[loc] = f
		}
	}
	for _, s := range catchup.Newest(seen, catchup.MaxThreads) {
		f := catchup.From(s, since)
		add(s.Thread.ChannelID, f)
		if s.Thread.ThreadID != "" {
			add(s.Thread.ThreadID, f)
		}
	}
	n := 0
	var firstErr error
	for loc, f := range from {
		k, err := a.catchUpChannel(ctx, loc, f)
		n += k
		if err != nil && firstErr == nil {
			firstErr = err
		}
	}
	return n, firstErr
}

func (a *Adapter) catchUpChannel(ctx context.Context, channelID string, from time.Time) (int, error) {
	guildID, err := a.channelGuild(ctx, channelID)
	if restCode(err) == discordgo.ErrCodeUnknownChannel {
		return 0, nil // a conversation nobody started a thread for
	}
	if err != nil {
		return 0, fmt.Errorf("discord: catch up in %s: %w (%s)", channelID, err, explain(err))
	}
	ch := a.channel(ctx, channelID, guildID)
	after := snowflakeAt(from)
	members := map[string]*discordgo.Member{}
	n := 0
	for range catchUpPages {
		msgs, err := a.s.ChannelMessages(channelID, 100, "", after, "", discordgo.WithContext(ctx))
		if err != nil {
			return n, fmt.Errorf("discord: catch up in %s: %w (%s)", channelID, err, explain(err))
		}
		sort.Slice(msgs, func(i, j int) bool { return idLess(msgs[i].ID, msgs[j].ID) })
		id := a.identity()
		for _, m := range msgs {
			after = m.ID
			if m.Author == nil {
				continue
			}
			m.GuildID = guildID // REST messages do not say their guild
			if guildID != "" && len(id.StaffRoles) > 0 && m.Member == nil && m.Author.ID != id.UserID {
				// Nor the author's roles, which say who is staff.
				m.Member = a.catchUpMember(ctx, guildID, m.Author.ID, members)
			}
			a.msgChan.Add(m.ID, m.ChannelID)
			ev, ok := translateMessage(m, ch, id)
			if !ok {
				continue
			}
			if ev.ThreadID == "" {
				a.topLevel.Add(m.ID, threadName(ev.Text, ev.User.Name))
			}
			if a.submit(ev) == nil {
				n++
			}
		}
		if len(msgs) < 100 {
			break
		}
	}
	return n, nil
}

// catchUpMember looks up a message author's guild membership once per
// channel read; nil when it cannot (the message then counts as a member's).
func (a *Adapter) catchUpMember(ctx context.Context, guildID, userID string, seen map[string]*discordgo.Member) *discordgo.Member {
	if m, ok := seen[userID]; ok {
		return m
	}
	m, err := a.s.GuildMember(guildID, userID, discordgo.WithContext(ctx))
	if err != nil {
		a.log.Warn("catch-up: looking up a member's roles", "user", userID, "err", err, "why", explain(err))
		m = nil
	}
	seen[userID] = m
	return m
}

// channelGuild is the guild of a channel ("" for a DM), from the gateway's
// cache or one REST call.
func (a *Adapter) channelGuild(ctx context.Context, channelID string) (string, error) {
	a.mu.Lock()
	info, ok := a.channels[channelID]
	a.mu.Unlock()
	if ok {
		return info.GuildID, nil
	}
	c, err := a.s.Channel(channelID, discordgo.WithContext(ctx))
	if err != nil {
		return "", err
	}
	if c.GuildID != "" {
		a.rememberChannel(c)
	}
	return c.GuildID, nil
}

// discordEpoch is the start of Discord's snowflake clock (2015-01-01).
const discordEpoch = 1420070400000

// snowflakeAt is the smallest snowflake of a moment, for ?after=.
func snowflakeAt(t time.Time) string {
	ms := max(t.UnixMilli()-discordEpoch, 0)
	return strconv.FormatUint(uint64(ms)<<22, 10)
}

func idLess(a, b string) bool {
	x, _ := strconv.ParseUint(a, 10, 64)
	y, _ := strconv.ParseUint(b, 10, 64)
	return x < y
}
