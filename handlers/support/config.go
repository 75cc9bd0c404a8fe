package support

import (
	"github.com/einsatz/einsatz/bot"
	"github.com/einsatz/einsatz/bot/config"
)

// FromConfig completes o, which carries the dependencies (Answer, Store,
// Escalator, Poster, AddKnowledge, Logger), with the settings from the
// config (support:, staff.channel, channels' shadow mode, texts:).
func FromConfig(cfg *config.Config, o Options) Options {
	o.StaffChannel = bot.ThreadRef{Platform: cfg.Staff.Channel.Platform, ChannelID: cfg.Staff.Channel.ID}
	o.Shadow, o.Text = cfg.Channels.Shadow, cfg.Text
	o.SaveReaction, o.Similarity = cfg.Support.SaveReaction, cfg.Support.Similarity
	return o
}
