package openai

import (
	"context"
	"log/slog"

	"github.com/einsatz/einsatz/bot/config"
)

// FromConfig is the client for the config's llm section, or nil when the
// LLM is off (config.LLM.On). The program builds one and shares it: a
// Client keeps no state between calls (each call has its own backoff and
// Retry-After slot), so answers, summaries and embeddings sharing it retry
// exactly as they would on clients of their own.
func FromConfig(c config.LLM, log *slog.Logger) *Client {
	if !c.On() {
		return nil
	}
	retries := c.MaxRetries
	if retries == 0 {
		retries = -1 // config 0 means none; Options' 0 means the default
	}
	return New(Options{BaseURL: c.BaseURL, APIKey: c.APIKey, Model: c.Model,
		EmbeddingModel: c.EmbeddingModel, Temperature: float32(c.Temperature),
		MaxTokens: c.MaxTokens, MaxRetries: retries, MaxConcurrent: c.MaxConcurrent, Logger: log.With("component", "llm")})
}

// Embeds reports whether the client makes embeddings (llm.embedding_model
// is set); false for a nil client (the LLM is off).
func (c *Client) Embeds() bool { return c != nil && c.opts.EmbeddingModel != "" }

// Embedder makes embeddings; knowledge.Embedder has the same method.
type Embedder interface {
	Embed(ctx context.Context, texts []string) ([][]float32, error)
}

// Embedder is c when it makes embeddings (Embeds), else a nil Embedder,
// which knowledge.Base.SetEmbedder takes as "lexical search only".
func (c *Client) Embedder() Embedder {
	if !c.Embeds() {
		return nil
	}
	return c
}
