package inbox

import (
	"context"
	"encoding/json"
	"fmt"
	"strings"
	"time"

	"github.com/einsatz/einsatz/handlers/answer"
)

// Confirmer is the optional LLM check for borderline messages: is this a
// feature request, and if so a short title and summary. Implementations
// ask the model for ConfirmSchema and decode its answer with
// ParseConfirmation.
type Confirmer interface {
	Confirm(ctx context.Context, text, lang string) (Confirmation, error)
}

// ConfirmFunc adapts a function to Confirmer.
type ConfirmFunc func(ctx context.Context, text, lang string) (Confirmation, error)

// Confirm calls f.
func (f ConfirmFunc) Confirm(ctx context.Context, text, lang string) (Confirmation, error) {
	return f(ctx, text, lang)
}

// Confirmation is the model's structured answer.
type Confirmation struct {
	FeatureRequest bool   `json:"feature_request"`
	Title          string `json:"title"`   // at most ~10 words, in the message's language
	Summary        string `json:"summary"` // one or two sentences
}

// ConfirmPrompt is the system prompt for a Confirmer.
const ConfirmPrompt = `You sort messages from a software community chat. Decide whether the message asks for a new feature or a change in behaviour (a feature request). Bug reports (something that should work but does not), questions about how to do something, praise and general complaints are not feature requests. Answer only with JSON matching the schema: feature_request (boolean), title (at most 10 words, in the message's language, naming the feature; empty when not a request), summary (one or two sentences; empty when not a request).`

// ConfirmSchema is the JSON schema of the answer, for structured output.
const ConfirmSchema = `{"type":"object","additionalProperties":false,"required":["feature_request","title","summary"],"properties":{"feature_request":{"type":"boolean"},"title":{"type":"string"},"summary":{"type":"string"}}}`

// ParseConfirmation decodes a model's answer, tolerating a Markdown code
// fence around the JSON.
func ParseConfirmation(answer string) (Confirmation, error) {
	s := strings.TrimSpace(answer)
	s = strings.TrimPrefix(s, "```json")
	s = strings.TrimPrefix(s, "```")
	s = strings.TrimSuffix(strings.TrimSpace(s), "```")
	var c Confirmation
	dec := json.NewDecoder(strings.NewReader(s))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&c); err != nil {
		return Confirmation{}, fmt.Errorf("inbox: confirmation is not the expected JSON: %w", err)
	}
	c.Title, c.Summary = strings.TrimSpace(c.Title), strings.TrimSpace(c.Summary)
	if c.FeatureRequest && c.Title == "" {
		return Confirmation{}, fmt.Errorf("inbox: confirmation without a title")
	}
	return c, nil
}

// LLMConfirmer asks the LLM about a borderline message: feature request or
// not, with a title and summary as JSON (the schema is in the prompt; the
// answer is parsed strictly). The message is redacted first, like questions.
func LLMConfirmer(llm answer.LLM) Confirmer {
	return ConfirmFunc(func(ctx context.Context, text, _ string) (Confirmation, error) {
		out, err := llm.Complete(ctx, []answer.Message{
			{Role: answer.RoleSystem, Content: ConfirmPrompt + "\nJSON schema: " + ConfirmSchema},
			{Role: answer.RoleUser, Content: "<message>\n" + answer.Neutral(answer.Redact(text)) + "\n</message>"},
		})
		if err != nil {
			return Confirmation{}, err
		}
		return ParseConfirmation(out)
	})
}

// Embedder bounds an embeddings call by timeout and redacts the texts first
// unless redact is off (llm.redact), as for questions to the LLM: the inbox
// waits for it while it files a request.
func Embedder(embed func(context.Context, []string) ([][]float32, error), redact bool, timeout time.Duration) func(context.Context, []string) ([][]float32, error) {
	return func(ctx context.Context, texts []string) ([][]float32, error) {
		ctx, cancel := context.WithTimeout(ctx, timeout)
		defer cancel()
		if redact {
			redacted := make([]string, len(texts))
			for i, t := range texts {
				redacted[i] = answer.Redact(t)
			}
			texts = redacted
		}
		return embed(ctx, texts)
	}
}
