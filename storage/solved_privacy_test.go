package storage

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/einsatz/einsatz/bot"
	"github.com/einsatz/einsatz/bot/solved"
)

// Erasing a person takes the answers of threads they wrote in off the
// public pages at once (also one staff rewrote), removes their pending
// candidates, and leaves other people's threads alone; export lists them.
func TestErasureUnpublishesTheirAnswers(t *testing.T) {
	ctx := context.Background()
	s := openTest(t, Options{InMemory: true})
	sol := NewSolved(s)
	now := time.Now()
	th := func(id string) bot.ThreadRef {
		return bot.ThreadRef{Platform: "discord", ChannelID: "c/1", ThreadID: id}
	}
	write := func(thread bot.ThreadRef, user, text string) {
		t.Helper()
		turn := &bot.Turn{Role: bot.RoleUser, UserID: user, Text: text, Time: now}
		if _, err := s.Accept(ctx, fmt.Sprintf("%s-%s-%s", thread.ThreadID, user, text), time.Hour, thread, turn); err != nil {
			t.Fatal(err)
		}
	}
	write(th("t1"), "mia", "how do I fix E4711?")
	write(th("t2"), "mia", "where are the logs?")
	write(th("t3"), "mia", "pending question")
	write(th("t4"), "bob", "bob's own question")
	for _, c := range []solved.Candidate{
		{ID: "c1", Thread: th("t1"), Status: solved.StatusApproved, Consent: solved.ConsentGiven, Question: "how do I fix E4711?", Answer: "new token"},
		{ID: "c2", Thread: th("t2"), Status: solved.StatusApproved, Rewritten: true, Question: "where are the logs?", Answer: "in logs/"},
		{ID: "c3", Thread: th("t3"), Status: solved.StatusPending, Question: "pending question", Answer: "x"},
		{ID: "c4", Thread: th("t4"), Status: solved.StatusApproved, Consent: solved.ConsentGiven, Question: "bob's own question", Answer: "y"},
	} {
		c.Created = now
		if err := sol.PutCandidate(ctx, c); err != nil {
			t.Fatal(err)
		}
	}
	data, err := exportUser(ctx, s, "discord", "mia")
	if err != nil || len(data.Records["knowledge_candidates"]) != 3 {
		t.Fatalf("export: %d candidates, %v; want 3", len(data.Records["knowledge_candidates"]), err)
	}
	res, err := eraseUser(ctx, s, "discord", "mia", "test")
	if err != nil {
		t.Fatal(err)
	}
	if res.Removed["knowledge_candidates"] != 1 || res.Anonymized["public_answers"] != 2 {
		t.Errorf("erasure = %+v", res)
	}
	for id, public := range map[string]bool{"c1": false, "c2": false, "c4": true} {
		c, err := sol.Candidate(ctx, id)
		if err != nil || c.Public() != public {
			t.Errorf("%s: public %v, want %v (%+v, %v)", id, c.Public(), public, c, err)
		}
	}
	if _, err := sol.Candidate(ctx, "c3"); err == nil {
		t.Errorf("the pending candidate of the erased person's thread is still stored")
	}
}
