package handoff_test

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/einsatz/einsatz/handlers/answer"
	"github.com/einsatz/einsatz/handlers/handoff"
)

func TestLLMSummarizerRedactsAndBounds(t *testing.T) {
	if handoff.LLMSummarizer(nil, true, time.Second) != nil {
		t.Fatal("a summarizer without an LLM")
	}
	var sent []answer.Message
	var deadline bool
	llm := answer.LLMFunc(func(ctx context.Context, msgs []answer.Message) (string, error) {
		sent = msgs
		_, deadline = ctx.Deadline()
		return "Ann cannot log in and wants a person.", nil
	})
	for _, redact := range []bool{true, false} {
		got, err := handoff.LLMSummarizer(llm, redact, time.Second)(context.Background(), "en", []string{"I can't log in", "mail me at ann@example.org"})
		if err != nil || got != "Ann cannot log in and wants a person." || !deadline {
			t.Fatalf("summary = %q, %v (deadline %v)", got, err, deadline)
		}
		if len(sent) != 2 || sent[0].Role != answer.RoleSystem || !strings.Contains(sent[1].Content, "I can't log in") ||
			strings.Contains(sent[1].Content, "ann@example.org") != !redact {
			t.Fatalf("redact=%v: prompt = %+v", redact, sent)
		}
	}
}
