package slack

import (
	"errors"
	"fmt"
	"strings"

	"github.com/slack-go/slack"
)

// scopes says which bot scope each Web API method the adapter calls needs,
// for when Slack's missing_scope answer does not name it.
var scopes = map[string]string{
	"chat.postMessage":      "chat:write",
	"chat.update":           "chat:write",
	"reactions.add":         "reactions:write",
	"users.info":            "users:read",
	"conversations.info":    "channels:read (groups:read for private channels)",
	"usergroups.users.list": "usergroups:read",
	"apps.connections.open": "connections:write (on the app-level token)",
}

// slackCode returns Slack's error code ("channel_not_found") of err, or "".
func slackCode(err error) string {
	var se slack.SlackErrorResponse
	if errors.As(err, &se) {
		return se.Err
	}
	if err != nil && !strings.Contains(err.Error(), " ") {
		return err.Error() // slack-go sometimes passes the bare code on
	}
	return ""
}

// fatalAuth reports whether err means the token itself is wrong, so
// retrying cannot help.
func fatalAuth(err error) bool {
	switch slackCode(err) {
	case "invalid_auth", "not_authed", "not_allowed_token_type", "token_revoked", "account_inactive", "token_expired":
		return true
	}
	return false
}

// explain says, for the log, what to change so that a failed call works.
func (a *Adapter) explain(method string, err error) string {
	code := slackCode(err)
	switch code {
	case "not_allowed_token_type":
		if method == "apps.connections.open" {
			return "slack.app_token must be the app-level token (xapp-…, Basic Information → App-Level Tokens, scope connections:write); it looks like a bot token is there: check that slack.bot_token and slack.app_token are not swapped"
		}
		return "slack.bot_token must be the Bot User OAuth Token (xoxb-…, OAuth & Permissions); it looks like an app-level token (xapp-…) is there: check that slack.bot_token and slack.app_token are not swapped"
	case "invalid_auth", "not_authed", "token_revoked", "token_expired", "account_inactive":
		if method == "apps.connections.open" {
			return "slack.app_token (SLACK_APP_TOKEN) is not valid for this workspace: create a new app-level token with connections:write under Basic Information"
		}
		return "slack.bot_token (SLACK_BOT_TOKEN) is not valid for this workspace: reinstall the app and copy the Bot User OAuth Token (xoxb-…) from OAuth & Permissions"
	case "missing_scope":
		needed := ""
		var se slack.SlackErrorResponse
		if errors.As(err, &se) {
			needed = se.Needed
		}
		if needed == "" {
			needed = scopes[method]
		}
		return fmt.Sprintf("the app lacks the scope %s (needed by %s): add it under OAuth & Permissions → Bot Token Scopes (or re-create the app from `einsatz slack manifest`) and reinstall the app", needed, method)
	case "channel_not_found", "not_in_channel":
		return "the bot cannot see that channel: invite it (/invite @bot) or check the channel id; for private channels and DMs the app needs the groups:/im: scopes"
	case "is_archived":
		return "the channel is archived: unarchive it or stop writing there"
	case "msg_too_long", "invalid_blocks":
		return "the message broke a Slack limit: this is a bug in the Slack adapter, please report it with the log line"
	case "invalid_thread_ts", "thread_not_found":
		return "the thread's parent message is gone or the thread id is not the parent's ts"
	case "user_not_found":
		return "the user is not in this workspace (external or deleted)"
	case "no_such_subteam":
		return "staff.slack.usergroup names no user group of this workspace: use the group's id (S…), not its handle"
	}
	var rl *slack.RateLimitedError
	if errors.As(err, &rl) {
		return fmt.Sprintf("Slack rate-limits %s: slow down (retry after %s)", method, rl.RetryAfter)
	}
	var sc slack.StatusCodeError
	if errors.As(err, &sc) && sc.Code == 404 {
		return "slack.api_url does not point at a Slack Web API (404); it must end with /api/"
	}
	return "see the error; check slack.api_url and the network"
}

// logAPIError logs a failed call with what to fix.
func (a *Adapter) logAPIError(method string, err error) {
	a.log.Error("slack: "+method+" failed", "err", err, "fix", a.explain(method, err))
}
