package answer_test

import (
	"context"
	"strings"
	"testing"

	"github.com/einsatz/einsatz/adapters/openai/openaitest"
	"github.com/einsatz/einsatz/bot"
	"github.com/einsatz/einsatz/bot/qa"
	"github.com/einsatz/einsatz/handlers/answer"
)

// With an LLM, several questions are answered in one call from the
// passages of all of them, and a question the model says is not covered
// gets the honest line (never the marker) and one escalation.
func TestSeveralQuestionsLLM(t *testing.T) {
	ix := answer.ExampleIndex(t)
	const msg = "hey, how do I connect Slack? and can I run it without an LLM?"

	t.Run("one call for both", func(t *testing.T) {
		esc := &escalations{}
		fake, h := setup(t, ix, answer.Options{Escalator: esc})
		res, err := h.Answer(context.Background(), &bot.Event{Kind: bot.KindMessage, Text: msg, Lang: "en"})
		if err != nil {
			t.Fatal(err)
		}
		reqs := fake.Requests()
		if len(reqs) != 1 {
			t.Fatalf("%d LLM calls, want 1", len(reqs))
		}
		last := reqs[0].Messages[len(reqs[0].Messages)-1].Content
		src, q := section(last, "sources"), section(last, "question")
		for _, want := range []string{"bot tokens", "Ollama"} {
			if !strings.Contains(src, want) {
				t.Errorf("sources lack the passages of both questions (%q):\n%s", want, src)
			}
		}
		if !strings.Contains(q, "1. How do I connect Slack?") || !strings.Contains(q, "2. Can I run it without an LLM?") {
			t.Errorf("question section = %q, want both questions numbered", q)
		}
		if !strings.Contains(last, "Answer each of them") {
			t.Errorf("the request does not ask to answer each question:\n%s", last)
		}
		if res.Outcome != qa.OutcomeAnswered || len(res.Replies) != 1 || !strings.HasPrefix(res.Replies[0].Text, "According to the documentation [1]") {
			t.Fatalf("result = %+v, want the fake's answer", res)
		}
		if len(res.Replies[0].Sources) == 0 || len(esc.list()) != 0 {
			t.Errorf("sources %+v, escalations %q: want sources and no escalation", res.Replies[0].Sources, esc.list())
		}
	})

	t.Run("the model covers one", func(t *testing.T) {
		esc := &escalations{}
		fake, h := setup(t, ix, answer.Options{Escalator: esc})
		fake.Enqueue(openaitest.Reply{Content: "Einsatz connects to Discord and Slack with bot tokens that you create on each platform [1].\n\n" + answer.Sentinel})
		res, err := h.Answer(context.Background(), &bot.Event{Kind: bot.KindMessage, Text: msg, Lang: "en"})
		if err != nil {
			t.Fatal(err)
		}
		if res.Outcome != qa.OutcomeAnswered || len(res.Replies) != 1 {
			t.Fatalf("result = %+v, want one answer", res)
		}
		r := res.Replies[0]
		if !strings.Contains(r.Text, "bot tokens") || !strings.Contains(r.Text, "I don't know about “Can I run it without an LLM?”") || answer.HasSentinel(r.Text) {
			t.Errorf("reply = %q, want the answer and the honest line, no marker", r.Text)
		}
		if len(esc.list()) != 1 || !res.Escalated || len(r.Buttons) != 1 {
			t.Errorf("escalations %q, buttons %+v: want one escalation and the handoff button", esc.list(), r.Buttons)
		}
	})

	t.Run("only the known question reaches the model", func(t *testing.T) {
		esc := &escalations{}
		fake, h := setup(t, ix, answer.Options{Escalator: esc})
		res, err := h.Answer(context.Background(), &bot.Event{Kind: bot.KindMessage, Lang: "en",
			Text: "How do I connect Slack? And does Einsatz support Microsoft Teams?"})
		if err != nil {
			t.Fatal(err)
		}
		reqs := fake.Requests()
		if len(reqs) != 1 {
			t.Fatalf("%d LLM calls, want 1", len(reqs))
		}
		if q := section(reqs[0].Messages[len(reqs[0].Messages)-1].Content, "question"); strings.Contains(q, "Teams") {
			t.Errorf("question section = %q, want only the question the knowledge base covers", q)
		}
		if len(res.Replies) != 1 || !strings.Contains(res.Replies[0].Text, "I don't know about “Does Einsatz support Microsoft Teams?”") || len(esc.list()) != 1 {
			t.Fatalf("result = %+v, escalations %q", res, esc.list())
		}
	})
}
