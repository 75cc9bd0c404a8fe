package discord

import (
	"context"
	"encoding/json"
	"fmt"
	"net/url"
	"strconv"
	"strings"

	"github.com/bwmarrin/discordgo"
)

// Permissions returns exactly the permission bits the adapter's features
// need, for the invite URL:
//
//   - View Channels: see the channels it answers in and their messages.
//   - Send Messages: answer in DMs and, where no thread can be started, in
//     the channel itself.
//   - Send Messages in Threads: answers go into threads and forum posts.
//   - Create Public Threads: start the thread an answer goes into, from the
//     question's message.
//   - Read Message History: start a thread from, reply to and react to a
//     message that is already there.
//   - Add Reactions: the reaction ability (acknowledgements, feedback).
//   - Embed Links: answers carry their sources as links.
//   - Manage Webhooks: staff replies relayed into a member's thread are
//     posted through a channel webhook in the staff member's name (one
//     webhook per channel, which the bot creates); without it they are
//     posted by the bot, "**Name** (staff): …".
//   - Manage Threads: a forum post marked solved gets the forum's "Solved"
//     tag and, with solved.archive, is archived; for posts the bot did not
//     start Discord allows that only with Manage Threads. Without it the
//     candidate is made all the same and the failure logged.
//
// Slash commands and buttons need no permission bit (the
// applications.commands scope covers them); Mention Everyone is left out
// on purpose.
func Permissions() int64 {
	return discordgo.PermissionViewChannel |
		discordgo.PermissionSendMessages |
		discordgo.PermissionSendMessagesInThreads |
		discordgo.PermissionCreatePublicThreads |
		discordgo.PermissionReadMessageHistory |
		discordgo.PermissionAddReactions |
		discordgo.PermissionEmbedLinks |
		discordgo.PermissionManageWebhooks |
		discordgo.PermissionManageThreads
}

// InviteURL is the OAuth2 URL that adds the bot to a server with the bot
// and applications.commands scopes and Permissions.
func InviteURL(appID string) string {
	v := url.Values{}
	v.Set("client_id", appID)
	v.Set("permissions", strconv.FormatInt(Permissions(), 10))
	v.Set("scope", "bot applications.commands")
	return "https://discord.com/oauth2/authorize?" + v.Encode()
}

// ApplicationID asks Discord (or opts.APIURL) for the id of the
// application the token belongs to, for `einsatz discord invite-url`.
func ApplicationID(ctx context.Context, opts Options) (string, error) {
	token := strings.TrimSpace(strings.TrimPrefix(strings.TrimSpace(opts.Token), "Bot "))
	if token == "" {
		return "", ErrNoToken
	}
	client, err := httpClient(opts.APIURL, opts.HTTPClient)
	if err != nil {
		return "", err
	}
	s, err := discordgo.New("Bot " + token)
	if err != nil {
		return "", fmt.Errorf("discord: %w", err)
	}
	s.Client = client
	id, err := applicationID(ctx, s)
	if isUnauthorized(err) {
		return "", fmt.Errorf("%w (%v)", errToken, err)
	}
	return id, err
}

func applicationID(ctx context.Context, s *discordgo.Session) (string, error) {
	ep := discordgo.EndpointOAuth2Application("@me")
	body, err := s.RequestWithBucketID("GET", ep, nil, ep, discordgo.WithContext(ctx))
	if err != nil {
		return "", err
	}
	var app struct {
		ID string `json:"id"`
	}
	if err := json.Unmarshal(body, &app); err != nil || app.ID == "" {
		return "", fmt.Errorf("discord: reading the application: unexpected answer %.200q", body)
	}
	return app.ID, nil
}
