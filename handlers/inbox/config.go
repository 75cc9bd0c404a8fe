package inbox

import (
	"context"

	"github.com/einsatz/einsatz/bot"
	"github.com/einsatz/einsatz/bot/config"
	"github.com/einsatz/einsatz/handlers/answer"
	"github.com/einsatz/einsatz/handlers/inbox/detect"
)

// FromConfig completes o, which carries the dependencies (Store, Owners,
// Poster, DirectMessenger, Logger, Detect, Sentiment, Notifiers), with the
// settings from the config (inbox:, channels' listen-only policy, texts:).
// llm, when not nil, decides borderline requests if inbox.confirm_with_llm
// is set, and matches requests by meaning if it can embed and
// llm.embedding_model is set (texts redacted per llm.redact).
func FromConfig(cfg *config.Config, llm answer.LLM, o Options) Options {
	in := cfg.Inbox
	if in.ConfirmWithLLM && llm != nil {
		o.Confirm = LLMConfirmer(llm)
	}
	type embedder interface {
		Embed(ctx context.Context, texts []string) ([][]float32, error)
	}
	if e, ok := llm.(embedder); ok && cfg.LLM.EmbeddingModel != "" {
		o.Embed = Embedder(e.Embed, cfg.LLM.Redact, cfg.LLM.Timeout)
	}
	o.Text = cfg.Text
	o.Threshold, o.Similar, o.Borderline, o.SimilarEmbedding = in.Threshold, in.Similar, in.Borderline, in.SimilarEmbedding
	o.AutoFile = in.AutoFileThreshold
	if o.AutoFile == 0 {
		o.AutoFile = detect.AutoFileThreshold
	}
	o.Acknowledge, o.ReactionEmoji, o.DailyCapPerChannel = &in.Acknowledge, in.Reaction, in.DailyCap
	o.Quiet = func(platform, channelID string) bool {
		return cfg.Channels.Policy(platform, channelID) == bot.PolicyListen
	}
	return o
}
