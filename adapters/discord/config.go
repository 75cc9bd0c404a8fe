package discord

import (
	"log/slog"

	"github.com/einsatz/einsatz/bot"
	"github.com/einsatz/einsatz/bot/config"
)

// OptionsFrom are the adapter's settings from the config (discord: and
// staff.discord:); commands are the slash commands to register, nil for
// none (the CLI's setup commands).
func OptionsFrom(cfg *config.Config, commands []bot.CommandSpec, log *slog.Logger) Options {
	return Options{
		Token: cfg.Discord.Token, APIURL: cfg.Discord.APIURL,
		StaffRoles: cfg.Staff.Discord.Roles, StaffUsers: cfg.Staff.Discord.Users,
		GuildIDs: cfg.Discord.GuildIDs, Logger: log, Commands: commands, // New adds platform=discord
	}
}
