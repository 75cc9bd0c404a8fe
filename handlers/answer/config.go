package answer

import "github.com/einsatz/einsatz/bot/config"

// FromConfig completes o, which carries the dependencies (Search, LLM,
// Escalator, Logger), with the settings from the config (llm:,
// knowledge.min_confidence, bot.name, texts:).
func FromConfig(cfg *config.Config, o Options) Options {
	o.Text, o.BotName = cfg.Text, cfg.Bot.Name
	o.Persona, o.Timeout, o.HistoryTokens = cfg.LLM.Persona, cfg.LLM.Timeout, cfg.LLM.HistoryTokens
	o.MinSimilarity, o.MinConfidence = cfg.LLM.MinSimilarity, cfg.Knowledge.MinConfidence
	o.NoRedact = !cfg.LLM.Redact
	o.BreakerFailures, o.BreakerCooldown = cfg.LLM.Breaker.Failures, cfg.LLM.Breaker.Cooldown
	return o
}
