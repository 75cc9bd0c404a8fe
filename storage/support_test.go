package storage

import (
	"context"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/dgraph-io/badger/v4"

	"github.com/einsatz/einsatz/bot"
	"github.com/einsatz/einsatz/bot/qa"
)

func TestSupportQuestionsAndVotes(t *testing.T) {
	s := openTest(t, Options{InMemory: true})
	ctx := context.Background()
	t0 := time.Now().Add(-5 * time.Hour)
	thread := bot.ThreadRef{Platform: "slack", ChannelID: "C1", ThreadID: "1.2"}
	var ids []string
	for i, text := range []string{"first?", "second?", "third?"} {
		id, err := NewSupport(s).AddQuestion(ctx, qa.Question{Time: t0.Add(time.Duration(i) * time.Hour), Thread: thread, UserID: "U1", Text: text, Outcome: "answered"})
		if err != nil {
			t.Fatal(err)
		}
		ids = append(ids, id)
	}
	if !(ids[0] < ids[1] && ids[1] < ids[2]) {
		t.Fatalf("ids %v are not in time order", ids)
	}
	// One vote per person per question: the latest wins.
	for _, v := range []qa.Vote{
		{QuestionID: ids[1], Platform: "slack", UserID: "U1", Helpful: true},
		{QuestionID: ids[1], Platform: "slack", UserID: "U1", Helpful: false},
		{QuestionID: ids[1], Platform: "slack", UserID: "U2", Helpful: true},
	} {
		if err := NewSupport(s).PutVote(ctx, v); err != nil {
			t.Fatal(err)
		}
	}
	q, ok, err := NewSupport(s).Question(ctx, ids[1])
	if err != nil || !ok || len(q.Votes) != 2 || q.Verdict() != qa.VerdictNotHelpful {
		t.Fatalf("question = %+v %v %v, want 2 votes, the asker's latest (not helpful) deciding", q, ok, err)
	}
	// A range returns the questions with their votes, oldest first.
	qs, err := NewSupport(s).Questions(ctx, t0.Add(30*time.Minute), t0.Add(3*time.Hour))
	if err != nil || len(qs) != 2 || qs[0].Text != "second?" || len(qs[0].Votes) != 2 || qs[1].Text != "third?" || len(qs[1].Votes) != 0 {
		t.Fatalf("range = %+v, %v", qs, err)
	}
	// UpdateQuestion changes only when fn says so.
	mark := func(q *qa.Question) bool {
		if q.Escalated() {
			return false
		}
		q.Escalations = append(q.Escalations, "not_helpful")
		return true
	}
	if _, changed, err := NewSupport(s).UpdateQuestion(ctx, ids[0], mark); err != nil || !changed {
		t.Fatalf("first mark: %v %v", changed, err)
	}
	if _, changed, err := NewSupport(s).UpdateQuestion(ctx, ids[0], mark); err != nil || changed {
		t.Fatalf("second mark changed it again: %v %v", changed, err)
	}
	if _, changed, _ := NewSupport(s).UpdateQuestion(ctx, "nope", mark); changed {
		t.Fatal("updated a missing question")
	}
	// Everything is found under the people it belongs to.
	for user, want := range map[string]int{"U1": 4, "U2": 1} {
		keys, err := s.UserRecords(ctx, "slack", user)
		if err != nil {
			t.Fatal(err)
		}
		n := 0
		for _, k := range keys {
			if strings.HasPrefix(k, "sup/") {
				n++
			}
		}
		if n != want {
			t.Errorf("%s has %d support records (%v), want %d", user, n, keys, want)
		}
	}
	// Records carry the message TTL.
	var expires uint64
	_ = s.view(func(txn *badger.Txn) error {
		item, err := txn.Get(supQKey(ids[0]))
		if err == nil {
			expires = item.ExpiresAt()
		}
		return err
	})
	if expires == 0 {
		t.Fatal("question stored without a TTL")
	}
}

func TestSettleDraftOnce(t *testing.T) {
	s := openTest(t, Options{InMemory: true})
	ctx := context.Background()
	d := qa.Draft{ID: "q1", Thread: bot.ThreadRef{Platform: "discord", ChannelID: "c", ThreadID: "t"}, UserID: "u",
		Replies: []bot.Reply{{Text: "draft"}}, Status: qa.ShadowPending}
	if err := NewSupport(s).PutDraft(ctx, d); err != nil {
		t.Fatal(err)
	}
	var wg sync.WaitGroup
	var mu sync.Mutex
	won := 0
	for i := range 8 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			status := qa.ShadowSent
			if i%2 == 1 {
				status = qa.ShadowDiscarded
			}
			_, ok, err := NewSupport(s).SettleDraft(ctx, "q1", status, "staff", time.Now())
			if err != nil {
				t.Error(err)
			}
			if ok {
				mu.Lock()
				won++
				mu.Unlock()
			}
		}()
	}
	wg.Wait()
	if won != 1 {
		t.Fatalf("%d clicks settled the draft, want 1", won)
	}
	got, ok, err := NewSupport(s).Draft(ctx, "q1")
	if err != nil || !ok || got.Status == qa.ShadowPending || got.SettledBy != "staff" || got.Replies[0].Text != "draft" {
		t.Fatalf("draft = %+v %v %v", got, ok, err)
	}
	if _, ok, _ := NewSupport(s).SettleDraft(ctx, "missing", qa.ShadowSent, "x", time.Now()); ok {
		t.Fatal("settled a missing draft")
	}
}
