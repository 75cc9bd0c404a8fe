package slack

import (
	"slices"
	"strings"
	"testing"

	"go.yaml.in/yaml/v3"

	"github.com/einsatz/einsatz/bot"
)

func TestManifest(t *testing.T) {
	cmds := []bot.CommandSpec{{Name: "ask"}, {Name: "feedback"}, {Name: "forward"}}
	type parsed struct {
		Features struct {
			Shortcuts []struct {
				Name       string `yaml:"name"`
				CallbackID string `yaml:"callback_id"`
				Type       string `yaml:"type"`
			} `yaml:"shortcuts"`
			SlashCommands []struct {
				Command string `yaml:"command"`
				URL     string `yaml:"url"`
			} `yaml:"slash_commands"`
		} `yaml:"features"`
		OAuthConfig struct {
			Scopes struct {
				Bot []string `yaml:"bot"`
			} `yaml:"scopes"`
		} `yaml:"oauth_config"`
		Settings struct {
			EventSubscriptions struct {
				RequestURL string   `yaml:"request_url"`
				BotEvents  []string `yaml:"bot_events"`
			} `yaml:"event_subscriptions"`
			Interactivity struct {
				IsEnabled  bool   `yaml:"is_enabled"`
				RequestURL string `yaml:"request_url"`
			} `yaml:"interactivity"`
			SocketModeEnabled bool `yaml:"socket_mode_enabled"`
		} `yaml:"settings"`
	}
	parse := func(t *testing.T, opts ManifestOptions) parsed {
		t.Helper()
		out, err := Manifest(opts)
		if err != nil {
			t.Fatal(err)
		}
		var p parsed
		if err := yaml.Unmarshal(out, &p); err != nil {
			t.Fatalf("manifest is not YAML: %v\n%s", err, out)
		}
		return p
	}

	t.Run("socket", func(t *testing.T) {
		p := parse(t, ManifestOptions{Commands: cmds})
		// Exactly the scopes the features use (the Web API methods the
		// adapter calls and the events it reads), nothing more.
		want := []string{"app_mentions:read", "channels:history", "channels:read", "chat:write", "commands", "groups:history",
			"groups:read", "im:history", "im:write", "metadata.message:read", "reactions:read", "reactions:write", "users:read"}
		if !slices.Equal(p.OAuthConfig.Scopes.Bot, want) {
			t.Errorf("scopes %v, want %v", p.OAuthConfig.Scopes.Bot, want)
		}
		if slices.Contains(p.OAuthConfig.Scopes.Bot, "usergroups:read") {
			t.Error("usergroups:read without a staff user group")
		}
		// The events subscribed are exactly the ones TranslateEvent handles.
		handled := map[string]bool{"app_mention": true, "message": true, "reaction_added": true, "reaction_removed": true}
		for _, e := range p.Settings.EventSubscriptions.BotEvents {
			base, _, _ := strings.Cut(e, ".")
			if !handled[base] {
				t.Errorf("subscribed to %s, which the adapter does not handle", e)
			}
		}
		if !slices.Equal(p.Settings.EventSubscriptions.BotEvents, BotEvents) {
			t.Errorf("bot events %v, want %v", p.Settings.EventSubscriptions.BotEvents, BotEvents)
		}
		if !p.Settings.SocketModeEnabled || p.Settings.EventSubscriptions.RequestURL != "" || !p.Settings.Interactivity.IsEnabled {
			t.Errorf("socket settings wrong: %+v", p.Settings)
		}
		if len(p.Features.SlashCommands) != 1 || p.Features.SlashCommands[0].Command != "/einsatz" || p.Features.SlashCommands[0].URL != "" {
			t.Errorf("slash commands %+v", p.Features.SlashCommands)
		}
		if len(p.Features.Shortcuts) != 1 || p.Features.Shortcuts[0].CallbackID != ShortcutResearchInbox || p.Features.Shortcuts[0].Type != "message" {
			t.Errorf("shortcuts %+v", p.Features.Shortcuts)
		}
	})
	t.Run("http", func(t *testing.T) {
		p := parse(t, ManifestOptions{Mode: ModeHTTP, PublicURL: "https://bot.example.org/", StaffUserGroup: true, Commands: cmds[:2]})
		want := "https://bot.example.org/slack/events"
		if p.Settings.SocketModeEnabled || p.Settings.EventSubscriptions.RequestURL != want ||
			p.Settings.Interactivity.RequestURL != want || p.Features.SlashCommands[0].URL != want {
			t.Errorf("http request URLs wrong: %+v %+v", p.Settings, p.Features.SlashCommands)
		}
		if !slices.Contains(p.OAuthConfig.Scopes.Bot, "usergroups:read") {
			t.Error("usergroups:read missing with a staff user group")
		}
		if len(p.Features.Shortcuts) != 0 {
			t.Error("shortcut without a forward command")
		}
	})
	t.Run("mark solution", func(t *testing.T) {
		p := parse(t, ManifestOptions{Commands: []bot.CommandSpec{{Name: "forward"}, {Name: "solved"}}})
		if len(p.Features.Shortcuts) != 2 || p.Features.Shortcuts[1].CallbackID != ShortcutMarkSolution ||
			p.Features.Shortcuts[1].Type != "message" || p.Features.Shortcuts[1].Name != "Mark solution" {
			t.Errorf("shortcuts %+v, want Send to research inbox and Mark solution", p.Features.Shortcuts)
		}
	})
	t.Run("http without public url", func(t *testing.T) {
		if _, err := Manifest(ManifestOptions{Mode: ModeHTTP}); err == nil {
			t.Error("no error")
		}
	})
}
