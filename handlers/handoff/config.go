package handoff

import (
	"fmt"

	"github.com/einsatz/einsatz/bot"
	"github.com/einsatz/einsatz/bot/config"
	"github.com/einsatz/einsatz/handlers/answer"
)

// FromConfig completes o, which carries the dependencies (Store, Owners,
// History, Poster, Logger, Sentiment), with the settings from the config (handoff:,
// staff.channel, texts:); llm, when not nil, summarizes escalations
// (redacted per llm.redact, within llm.timeout).
func FromConfig(cfg *config.Config, llm answer.LLM, o Options) (Options, error) {
	if h := cfg.Handoff.Hours; h.Set() {
		loc, days, from, to, err := config.ParseHours(h)
		if err != nil {
			return Options{}, fmt.Errorf("handoff.hours: %w", err)
		}
		o.Hours = &Hours{Location: loc, Days: days, From: from, To: to}
	}
	o.Text = cfg.Text
	o.StaffChannel = bot.ThreadRef{Platform: cfg.Staff.Channel.Platform, ChannelID: cfg.Staff.Channel.ID}
	o.Mention, o.AutoTakeover, o.ReleaseAfter = cfg.Handoff.Mention, cfg.Handoff.AutoTakeover, cfg.Handoff.ReleaseAfter
	o.Reaction, o.Sensitive, o.SLA = cfg.Handoff.Reaction, cfg.Handoff.Sensitive, cfg.Handoff.SLA
	o.NotePrefix = cfg.Handoff.NotePrefix
	for _, a := range cfg.Staff.Web {
		if a.Avatar != "" {
			if o.Avatars == nil {
				o.Avatars = map[string]string{}
			}
			o.Avatars[a.Name] = a.Avatar
		}
	}
	if cfg.Handoff.SLAWarnAt != "" {
		share, err := config.ParsePercent(cfg.Handoff.SLAWarnAt)
		if err != nil {
			return Options{}, fmt.Errorf("handoff.sla_warn_at: %w", err)
		}
		o.SLAWarnAt = share
	}
	o.Summarize = LLMSummarizer(llm, cfg.LLM.Redact, cfg.LLM.Timeout)
	return o, nil
}
