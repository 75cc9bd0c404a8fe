package monitor

import (
	"context"

	"github.com/einsatz/einsatz/bot"
	"github.com/einsatz/einsatz/bot/config"
)

// Secrets keeps the program's secret keys (storage.Store.Secret).
type Secrets interface {
	Secret(ctx context.Context, name string) ([]byte, error)
}

// FromConfig completes o, which carries the dependencies (Analyze, Store,
// Poster, Escalate, Logger), with the settings from the config
// (sentiment:, staff.channel). With sentiment.pseudonymize the user ids
// are hashed with the "pseudonyms" key from secrets.
func FromConfig(ctx context.Context, cfg *config.Config, secrets Secrets, o Options) (Options, error) {
	s := cfg.Sentiment
	if s.Pseudonymize {
		salt, err := secrets.Secret(ctx, "pseudonyms")
		if err != nil {
			return Options{}, err
		}
		o.Pseudonymize = Pseudonymizer(salt)
	}
	o.StaffChannel = bot.ThreadRef{Platform: cfg.Staff.Channel.Platform, ChannelID: cfg.Staff.Channel.ID}
	o.MinMessages, o.Margin, o.Cooldown, o.StrongNegative = s.AlertMinMessages, s.AlertMargin, s.AlertCooldown, s.StrongNegative
	return o, nil
}
