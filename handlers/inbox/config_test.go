package inbox_test

import (
	"context"
	"testing"

	"github.com/einsatz/einsatz/bot"
	"github.com/einsatz/einsatz/bot/config"
	"github.com/einsatz/einsatz/handlers/answer"
	"github.com/einsatz/einsatz/handlers/inbox"
)

// embeddingLLM is a model that also embeds, like the OpenAI client.
type embeddingLLM struct{ answer.LLMFunc }

func (embeddingLLM) Embed(context.Context, []string) ([][]float32, error) { return nil, nil }

// The LLM confirms borderline requests only with inbox.confirm_with_llm,
// and matches by meaning only when it embeds and an embedding model is set.
func TestFromConfigUsesTheLLMOnlyWhenConfigured(t *testing.T) {
	complete := answer.LLMFunc(func(context.Context, []answer.Message) (string, error) { return "", nil })
	tests := []struct {
		name                   string
		llm                    answer.LLM
		confirm                bool
		embeddingModel         string
		wantConfirm, wantEmbed bool
	}{
		{"no LLM", nil, true, "text-embedding-3-small", false, false},
		{"confirm off", complete, false, "", false, false},
		{"confirm on", complete, true, "", true, false},
		{"cannot embed", complete, false, "text-embedding-3-small", false, false},
		{"embeds without a model", embeddingLLM{complete}, false, "", false, false},
		{"embeds", embeddingLLM{complete}, false, "text-embedding-3-small", false, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			cfg := config.Default()
			cfg.Inbox.ConfirmWithLLM = tt.confirm
			cfg.LLM.EmbeddingModel = tt.embeddingModel
			o := inbox.FromConfig(cfg, tt.llm, inbox.Options{})
			if (o.Confirm != nil) != tt.wantConfirm || (o.Embed != nil) != tt.wantEmbed {
				t.Errorf("Confirm set %v, Embed set %v; want %v, %v", o.Confirm != nil, o.Embed != nil, tt.wantConfirm, tt.wantEmbed)
			}
		})
	}
}

func TestFromConfigSettings(t *testing.T) {
	cfg := config.Default()
	cfg.Inbox.Acknowledge = false
	cfg.Channels.Default = bot.PolicyListen
	o := inbox.FromConfig(cfg, nil, inbox.Options{})
	if o.Acknowledge == nil || *o.Acknowledge || o.Threshold != cfg.Inbox.Threshold || !o.Quiet("slack", "C1") {
		t.Errorf("options = %+v", o)
	}
	cfg.Inbox.Acknowledge = true // the options keep what the config said when they were made
	if *o.Acknowledge {
		t.Error("Acknowledge follows later changes of the config")
	}
}
