package reading

import (
	"github.com/einsatz/einsatz/bot/config"
	"github.com/einsatz/einsatz/handlers/handoff"
	"github.com/einsatz/einsatz/handlers/inbox/detect"
	"github.com/einsatz/einsatz/handlers/knowledge"
)

// FromConfig is the reader as the bot runs it: the question model, the
// hand-off's "talk to a human" words, the sentiment score and, while the
// research inbox detects requests (inbox.enabled), the feature-request
// model at inbox.threshold.
func FromConfig(cfg *config.Config, sentiment func(text, lang string) float64) *Reader {
	o := Options{Question: knowledge.QuestionScore, Human: handoff.AsksForHuman, Sentiment: sentiment}
	if cfg.Inbox.Enabled {
		o.Request, o.RequestThreshold = detect.Score, cfg.Inbox.Threshold
	}
	return New(o)
}
