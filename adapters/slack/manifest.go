package slack

import (
	"errors"
	"sort"
	"strings"

	"go.yaml.in/yaml/v3"

	"github.com/einsatz/einsatz/bot"
)

// EventsPath is where HTTP mode expects Slack's requests on the web server.
const EventsPath = "/slack/events"

// BotEvents are the bot events the adapter handles (and the manifest
// subscribes to): mentions, messages in public and private channels and
// DMs, and reactions.
var BotEvents = []string{"app_mention", "message.channels", "message.groups", "message.im", "reaction_added", "reaction_removed"}

// ManifestOptions describe the app to create.
type ManifestOptions struct {
	Name        string // app and bot name; default "Einsatz"
	Description string // one line; default a short description
	Mode        string // ModeSocket (default) or ModeHTTP
	// PublicURL is where Slack reaches the web server (web.public_url); the
	// request URLs are PublicURL + EventsPath. Required in HTTP mode.
	PublicURL string
	// Commands are the subcommands of /einsatz; the shortcut "Send to
	// research inbox" is included when there is a "forward" command, "Mark
	// solution" when there is a "solved" command.
	Commands []bot.CommandSpec
	// StaffUserGroup adds usergroups:read, to read the staff group's members.
	StaffUserGroup bool
	// Customize adds chat:write.customize, to post staff replies under the
	// staff member's name (slack.customize).
	Customize bool
}

type manifest struct {
	DisplayInformation struct {
		Name        string `yaml:"name"`
		Description string `yaml:"description,omitempty"`
	} `yaml:"display_information"`
	Features struct {
		AppHome struct {
			MessagesTabEnabled         bool `yaml:"messages_tab_enabled"`
			MessagesTabReadOnlyEnabled bool `yaml:"messages_tab_read_only_enabled"`
		} `yaml:"app_home"`
		BotUser struct {
			DisplayName  string `yaml:"display_name"`
			AlwaysOnline bool   `yaml:"always_online"`
		} `yaml:"bot_user"`
		Shortcuts     []manifestShortcut `yaml:"shortcuts,omitempty"`
		SlashCommands []manifestCommand  `yaml:"slash_commands,omitempty"`
	} `yaml:"features"`
	OAuthConfig struct {
		Scopes struct {
			Bot []string `yaml:"bot"`
		} `yaml:"scopes"`
	} `yaml:"oauth_config"`
	Settings struct {
		EventSubscriptions struct {
			RequestURL string   `yaml:"request_url,omitempty"`
			BotEvents  []string `yaml:"bot_events"`
		} `yaml:"event_subscriptions"`
		Interactivity struct {
			IsEnabled  bool   `yaml:"is_enabled"`
			RequestURL string `yaml:"request_url,omitempty"`
		} `yaml:"interactivity"`
		OrgDeployEnabled     bool `yaml:"org_deploy_enabled"`
		SocketModeEnabled    bool `yaml:"socket_mode_enabled"`
		TokenRotationEnabled bool `yaml:"token_rotation_enabled"`
	} `yaml:"settings"`
}

type manifestShortcut struct {
	Name        string `yaml:"name"`
	Type        string `yaml:"type"`
	CallbackID  string `yaml:"callback_id"`
	Description string `yaml:"description"`
}

type manifestCommand struct {
	Command      string `yaml:"command"`
	URL          string `yaml:"url,omitempty"`
	Description  string `yaml:"description"`
	UsageHint    string `yaml:"usage_hint,omitempty"`
	ShouldEscape bool   `yaml:"should_escape"`
}

// Manifest returns a Slack app manifest (YAML) with exactly the scopes, bot
// events, the /einsatz command, the shortcut and the Socket Mode or HTTP
// settings the adapter uses. Paste it at api.slack.com/apps → Create New
// App → From a manifest.
func Manifest(opts ManifestOptions) ([]byte, error) {
	if opts.Name == "" {
		opts.Name = "Einsatz"
	}
	if opts.Description == "" {
		opts.Description = "Answers community questions from the knowledge base and hands over to the team."
	}
	if opts.Mode == "" {
		opts.Mode = ModeSocket
	}
	var requestURL string
	switch opts.Mode {
	case ModeSocket:
	case ModeHTTP:
		if opts.PublicURL == "" {
			return nil, errors.New("slack manifest: http mode needs web.public_url, the URL Slack sends requests to")
		}
		requestURL = strings.TrimRight(opts.PublicURL, "/") + EventsPath
	default:
		return nil, errors.New("slack manifest: mode must be socket or http")
	}

	var m manifest
	m.DisplayInformation.Name = opts.Name
	m.DisplayInformation.Description = truncate(opts.Description, 140)
	m.Features.AppHome.MessagesTabEnabled = true // DMs with the bot
	m.Features.BotUser.DisplayName = opts.Name
	m.Features.BotUser.AlwaysOnline = true

	var names []string
	forward, solved := false, false
	for _, c := range opts.Commands {
		names = append(names, c.Name)
		forward = forward || c.Name == "forward"
		solved = solved || c.Name == "solved"
	}
	hint := "ask <question>"
	if len(names) > 0 {
		hint = strings.Join(names, " | ") + " …"
	}
	m.Features.SlashCommands = []manifestCommand{{
		Command: "/einsatz", URL: requestURL, Description: "Ask " + opts.Name + " or run one of its commands",
		UsageHint: truncate(hint, 1000), ShouldEscape: false,
	}}
	if forward {
		m.Features.Shortcuts = []manifestShortcut{{
			Name: "Send to research inbox", Type: "message", CallbackID: ShortcutResearchInbox,
			Description: "Keep this message for the team's research inbox",
		}}
	}
	if solved {
		m.Features.Shortcuts = append(m.Features.Shortcuts, manifestShortcut{
			Name: "Mark solution", Type: "message", CallbackID: ShortcutMarkSolution,
			Description: "This reply solved the thread (Als Lösung markieren)",
		})
	}

	scopes := map[string]bool{
		"app_mentions:read": true, // app_mention
		"channels:history":  true, // message.channels
		"groups:history":    true, // message.groups
		"im:history":        true, // message.im
		"reactions:read":    true, // reaction_added / reaction_removed
		"chat:write":        true, // chat.postMessage, chat.postEphemeral
		"reactions:write":   true, // reactions.add
		"users:read":        true, // users.info (names)
		"channels:read":     true, // conversations.info (channel names for the dashboard)
		"groups:read":       true, // conversations.info of private channels
		"im:write":          true, // conversations.open (direct messages people opted in to)
		"commands":          true, // /einsatz and the shortcut
		// Reads back the einsatz_reply metadata on the bot's own replies, so
		// a reply resumed after a crash is not posted twice.
		"metadata.message:read": true,
	}
	if opts.StaffUserGroup {
		scopes["usergroups:read"] = true // usergroups.users.list
	}
	if opts.Customize {
		scopes["chat:write.customize"] = true // chat.postMessage with username
	}
	for s := range scopes {
		m.OAuthConfig.Scopes.Bot = append(m.OAuthConfig.Scopes.Bot, s)
	}
	sort.Strings(m.OAuthConfig.Scopes.Bot)

	m.Settings.EventSubscriptions.RequestURL = requestURL
	m.Settings.EventSubscriptions.BotEvents = append([]string(nil), BotEvents...)
	m.Settings.Interactivity.IsEnabled = true
	m.Settings.Interactivity.RequestURL = requestURL
	m.Settings.SocketModeEnabled = opts.Mode == ModeSocket
	return yaml.Marshal(&m)
}
