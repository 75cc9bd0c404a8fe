package slack

import (
	"context"
	"fmt"
	"sort"
	"time"

	"github.com/slack-go/slack"

	"github.com/einsatz/einsatz/bot"
	"github.com/einsatz/einsatz/bot/catchup"
)

// Catch-up after a restart (see package catchup): Slack redelivers only
// envelopes it delivered and saw unacknowledged, so the adapter reads what
// was posted while it was down with conversations.history (a channel's
// top-level messages) and conversations.replies (a thread's), and queues it
// as it queues live deliveries.

// catchUpPages bounds the pages (of 200 messages) read per channel or thread.
const catchUpPages = 5

var _ catchup.Fetcher = (*Adapter)(nil)

// CatchUp reads, per channel of seen, its top-level messages, and per
// thread its replies, from the mark on (see catchup.From), and queues them
// oldest first. A message the core handled already has the same event key
// (slack:msg:<channel>:<ts>) and is dropped there.
func (a *Adapter) CatchUp(ctx context.Context, seen []catchup.Seen, since time.Time) (int, error) {
	channels := map[string]time.Time{}
	threads := map[[2]string]time.Time{}
	for _, s := range catchup.Newest(seen, catchup.MaxThreads) {
		f := catchup.From(s, since)
		ch := s.Thread.ChannelID
		if prev, ok := channels[ch]; !ok || f.Before(prev) {
			channels[ch] = f
		}
		if t := s.Thread.ThreadID; t != "" && t != DMThread {
			k := [2]string{ch, t}
			if prev, ok := threads[k]; !ok || f.Before(prev) {
				threads[k] = f
			}
		}
	}
	var msgs []slack.Message
	var firstErr error
	keep := func(err error) {
		if err != nil && firstErr == nil {
			firstErr = err
		}
	}
	for ch, from := range channels {
		got, err := a.history(ctx, ch, from)
		msgs = append(msgs, got...)
		keep(err)
	}
	for k, from := range threads {
		got, err := a.replies(ctx, k[0], k[1], from)
		msgs = append(msgs, got...)
		keep(err)
	}
	// Oldest first, as they were posted; a thread's parent comes with both
	// calls: the core's keys drop the second one.
	sort.SliceStable(msgs, func(i, j int) bool { return tsTime(msgs[i].Timestamp).Before(tsTime(msgs[j].Timestamp)) })
	n := 0
	for _, m := range msgs {
		in := innerEvent{Type: "message", Subtype: m.SubType, User: m.User, BotID: m.BotID, Text: m.Text,
			TS: m.Timestamp, ThreadTS: m.ThreadTimestamp, Channel: m.Channel}
		for _, f := range m.Files {
			in.Files = append(in.Files, struct {
				Permalink string `json:"permalink"`
			}{Permalink: f.Permalink})
		}
		a.accept("catchup", func(env Env) (bot.Event, error) { return translateMessage(in, env) }, 0)
		n++
	}
	return n, firstErr
}

func (a *Adapter) history(ctx context.Context, channel string, from time.Time) ([]slack.Message, error) {
	var out []slack.Message
	p := &slack.GetConversationHistoryParameters{ChannelID: channel, Oldest: slackTS(from), Limit: 200}
	for range catchUpPages {
		res, err := a.api.GetConversationHistoryContext(ctx, p)
		if err != nil {
			return out, fmt.Errorf("slack: catch up in %s: conversations.history: %w (%s)", channel, err, a.explain("conversations.history", err))
		}
		for _, m := range res.Messages {
			m.Channel = channel // history messages do not repeat it
			out = append(out, m)
		}
		if !res.HasMore || res.ResponseMetaData.NextCursor == "" {
			break
		}
		p.Cursor = res.ResponseMetaData.NextCursor
	}
	return out, nil
}

func (a *Adapter) replies(ctx context.Context, channel, threadTS string, from time.Time) ([]slack.Message, error) {
	var out []slack.Message
	p := &slack.GetConversationRepliesParameters{ChannelID: channel, Timestamp: threadTS, Oldest: slackTS(from), Limit: 200}
	for range catchUpPages {
		msgs, more, next, err := a.api.GetConversationRepliesContext(ctx, p)
		if err != nil {
			return out, fmt.Errorf("slack: catch up in thread %s of %s: conversations.replies: %w (%s)", threadTS, channel, err, a.explain("conversations.replies", err))
		}
		for _, m := range msgs {
			if m.Timestamp == threadTS {
				continue // the parent: read with the channel's history
			}
			m.Channel = channel
			out = append(out, m)
		}
		if !more || next == "" {
			break
		}
		p.Cursor = next
	}
	return out, nil
}

// slackTS formats a moment as a Slack timestamp, for oldest=.
func slackTS(t time.Time) string {
	return fmt.Sprintf("%d.%06d", t.Unix(), t.Nanosecond()/1000)
}
