package slack

import (
	"context"
	"fmt"

	"github.com/slack-go/slack"

	"github.com/einsatz/einsatz/bot"
)

// chat.postMessage has no idempotency key. So every message of a reply to
// an event carries message metadata naming it (replyMetadata: the event's
// key, the reply's place among the event's replies, the message's place in
// the reply), and a resumed event's reply (Resend) first looks in the
// thread, or the channel's recent history, for the bot's messages with
// that metadata and posts only the rest. The look-up costs one or a few
// conversations.replies / conversations.history calls (channels:history,
// groups:history, im:history, which catch-up needs anyway), and only for
// events resumed after a kill.

// replyEventType is the event_type of the metadata on the bot's replies.
const replyEventType = "einsatz_reply"

// resendPages bounds the look-up: at most this many pages of 200 messages.
const resendPages = 5

// replyMetadata names the i-th message of a reply to an event the same way
// in every run.
func replyMetadata(r bot.Reply, i int) slack.SlackMetadata {
	return slack.SlackMetadata{EventType: replyEventType,
		EventPayload: map[string]any{"event": r.ReplyTo, "part": r.Part, "message": i}}
}

// Resend posts a reply of a resumed event, leaving out the messages of it
// the killed run posted already (bot.Resender). When the look-up fails the
// reply is posted: it may then show twice, but it is not lost. A private
// (ephemeral) reply cannot be read back and is posted as it is.
func (a *Adapter) Resend(ctx context.Context, to bot.ThreadRef, r bot.Reply) error {
	threadTS, user := a.destination(to, r)
	if r.ReplyTo == "" || user != "" {
		return a.Send(ctx, to, r)
	}
	posted, err := a.postedMessages(ctx, to.ChannelID, threadTS, r)
	switch {
	case err != nil:
		a.log.Warn("slack: cannot tell whether a resumed event was answered before the restart; answering it (it may show twice)",
			"channel", to.ChannelID, "event", r.ReplyTo, "err", err)
	case len(posted) > 0:
		a.log.Info("slack: a resumed event's reply was posted before the restart: not posted again",
			"channel", to.ChannelID, "event", r.ReplyTo, "part", r.Part, "messages", len(posted))
	}
	_, err = a.publishReply(ctx, to, r, posted)
	return err
}

// postedMessages returns the indexes of the messages of reply r the bot has
// posted in the thread (threadTS) or at the channel's top level ("").
func (a *Adapter) postedMessages(ctx context.Context, channelID, threadTS string, r bot.Reply) (map[int]bool, error) {
	botID, _ := a.botID.Load().(string)
	found := map[int]bool{}
	cursor := ""
	for range resendPages {
		var msgs []slack.Message
		next, method := "", "conversations.history"
		if threadTS != "" {
			method = "conversations.replies"
		}
		err := a.retry(ctx, method, func() error {
			var err error
			if threadTS != "" {
				msgs, _, next, err = a.api.GetConversationRepliesContext(ctx, &slack.GetConversationRepliesParameters{
					ChannelID: channelID, Timestamp: threadTS, Cursor: cursor, Limit: 200, IncludeAllMetadata: true})
				return err
			}
			var res *slack.GetConversationHistoryResponse
			res, err = a.api.GetConversationHistoryContext(ctx, &slack.GetConversationHistoryParameters{
				ChannelID: channelID, Cursor: cursor, Limit: 200, IncludeAllMetadata: true})
			if err == nil {
				msgs, next = res.Messages, res.ResponseMetaData.NextCursor
			}
			return err
		})
		if err != nil {
			return nil, fmt.Errorf("slack: %s in %s: %w (%s)", method, channelID, err, a.explain(method, err))
		}
		for _, m := range msgs {
			if i, ok := replyIndex(m, r, botID); ok {
				found[i] = true
			}
		}
		if next == "" {
			break
		}
		cursor = next
	}
	return found, nil
}

// replyIndex reports whether m is a message of reply r posted by the bot
// (botID; "" = not known yet, any app) and which one.
func replyIndex(m slack.Message, r bot.Reply, botID string) (int, bool) {
	md := m.Metadata
	if md.EventType != replyEventType || (botID != "" && m.BotID != botID) {
		return 0, false
	}
	event, _ := md.EventPayload["event"].(string)
	part, okPart := md.EventPayload["part"].(float64)
	msg, okMsg := md.EventPayload["message"].(float64)
	if event != r.ReplyTo || !okPart || !okMsg || int(part) != r.Part {
		return 0, false
	}
	return int(msg), true
}
