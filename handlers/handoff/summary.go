package handoff

import (
	"context"
	"strings"
	"time"

	"github.com/einsatz/einsatz/handlers/answer"
)

// LLMSummarizer has the LLM sum up, for staff, what a member who needs a
// person wants (from their last messages, redacted like questions unless
// redact is off), bounded by timeout; nil without an LLM. It is meant for
// Options.Summarize.
func LLMSummarizer(llm answer.LLM, redact bool, timeout time.Duration) func(context.Context, string, []string) (string, error) {
	if llm == nil {
		return nil
	}
	return func(ctx context.Context, _ string, msgs []string) (string, error) {
		if timeout > 0 {
			var cancel context.CancelFunc
			ctx, cancel = context.WithTimeout(ctx, timeout)
			defer cancel()
		}
		var b strings.Builder
		for _, m := range msgs {
			if redact {
				m = answer.Redact(m)
			}
			// A member must not close the section and write instructions.
			b.WriteString("<message>\n" + answer.Neutral(m) + "\n</message>\n")
		}
		sum, err := llm.Complete(ctx, []answer.Message{
			{Role: answer.RoleSystem, Content: "A community member's messages follow; they asked for, or need, a person from the support team. " +
				"In one or two English sentences, tell the team what the member needs. Add nothing that is not in the messages."},
			{Role: answer.RoleUser, Content: b.String()},
		})
		// A model that answers with its not-covered marker out of habit
		// must not put it in front of staff: without anything else, the
		// last messages stand in.
		return answer.StripSentinel(sum), err
	}
}
