package slack

import (
	"log/slog"

	"github.com/einsatz/einsatz/bot"
	"github.com/einsatz/einsatz/bot/config"
)

// OptionsFrom are the adapter's settings from the config (slack: and
// staff.slack:); commands are the slash commands the bot answers.
func OptionsFrom(cfg *config.Config, commands []bot.CommandSpec, log *slog.Logger) Options {
	return Options{
		Mode: cfg.Slack.Mode, BotToken: cfg.Slack.BotToken, AppToken: cfg.Slack.AppToken,
		SigningSecret: cfg.Slack.SigningSecret, APIURL: cfg.Slack.APIURL, Customize: cfg.Slack.Customize,
		StaffUsers: cfg.Staff.Slack.Users, StaffUserGroup: cfg.Staff.Slack.UserGroup,
		Commands: commands, Logger: log, // New adds platform=slack
	}
}
