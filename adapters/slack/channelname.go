package slack

import (
	"context"
	"fmt"

	"github.com/slack-go/slack"
)

// ChannelName returns a channel's name by conversations.info ("general",
// without "#"); "" for a direct message, which has none. Slack's events
// carry only the channel's id, so the dashboard asks once per channel
// (web.ChannelNames) and keeps the name in its name cache. Needs
// channels:read (public) and groups:read (private channels).
func (a *Adapter) ChannelName(ctx context.Context, channelID string) (string, error) {
	ch, err := a.api.GetConversationInfoContext(ctx, &slack.GetConversationInfoInput{ChannelID: channelID})
	if err != nil {
		return "", fmt.Errorf("slack: conversations.info %s: %w (%s)", channelID, err, a.explain("conversations.info", err))
	}
	if ch.IsIM || ch.IsMpIM {
		return "", nil
	}
	return ch.Name, nil
}
