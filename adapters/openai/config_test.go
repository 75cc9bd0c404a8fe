package openai

import (
	"testing"

	"github.com/einsatz/einsatz/bot/config"
)

func TestFromConfig(t *testing.T) {
	off := false
	tests := []struct {
		name        string
		llm         config.LLM
		wantNil     bool
		wantRetries int // Options.MaxRetries after New
		wantEmbeds  bool
	}{
		{"no key for OpenAI: off", config.LLM{}, true, 0, false},
		{"switched off", config.LLM{Enabled: &off, APIKey: "sk-x"}, true, 0, false},
		{"max_retries 0 means none", config.LLM{APIKey: "sk-x"}, false, 0, false},
		{"max_retries kept", config.LLM{APIKey: "sk-x", MaxRetries: 5, EmbeddingModel: "text-embedding-3-small"}, false, 5, true},
		{"local server needs no key", config.LLM{BaseURL: "http://127.0.0.1:11434/v1", MaxRetries: 2}, false, 2, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := FromConfig(tt.llm, quiet)
			if (c == nil) != tt.wantNil {
				t.Fatalf("client = %v, want nil %v", c, tt.wantNil)
			}
			if c.Embeds() != tt.wantEmbeds || (c.Embedder() != nil) != tt.wantEmbeds {
				t.Errorf("Embeds() = %v, Embedder() = %v, want embeddings %v", c.Embeds(), c.Embedder(), tt.wantEmbeds)
			}
			if c != nil && c.opts.MaxRetries != tt.wantRetries {
				t.Errorf("MaxRetries = %d, want %d", c.opts.MaxRetries, tt.wantRetries)
			}
		})
	}
}
