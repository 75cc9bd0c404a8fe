package qatest

import (
	"context"
	"sync"
	"testing"
	"time"

	"github.com/einsatz/einsatz/bot"
	"github.com/einsatz/einsatz/bot/qa"
)

// Run checks that the stores newStore makes (a fresh, empty one per call)
// behave as qa.Store says.
func Run(t *testing.T, newStore func(t *testing.T) qa.Store) {
	t.Run("QuestionsAndVotes", func(t *testing.T) {
		s, ctx := newStore(t), context.Background()
		t0 := time.Now().Add(-5 * time.Hour).Truncate(time.Second)
		thread := bot.ThreadRef{Platform: "slack", ChannelID: "C1", ThreadID: "1.2"}
		var ids []string
		for i, text := range []string{"first?", "second?", "third?"} {
			id, err := s.AddQuestion(ctx, qa.Question{ID: "ignored", Time: t0.Add(time.Duration(i) * time.Hour), Thread: thread, UserID: "U1", Text: text, Outcome: qa.OutcomeAnswered})
			if err != nil {
				t.Fatal(err)
			}
			ids = append(ids, id)
		}
		if !(ids[0] < ids[1] && ids[1] < ids[2]) || ids[0] == "ignored" {
			t.Fatalf("ids %v are not made by the store in time order", ids)
		}
		// One vote per person per question: the latest wins.
		for _, v := range []qa.Vote{
			{QuestionID: ids[1], Platform: "slack", UserID: "U1", Helpful: true, Time: t0},
			{QuestionID: ids[1], Platform: "slack", UserID: "U1", Helpful: false, Time: t0},
			{QuestionID: ids[1], Platform: "slack", UserID: "U2", Helpful: true, Time: t0},
		} {
			if err := s.PutVote(ctx, v); err != nil {
				t.Fatal(err)
			}
		}
		if err := s.PutVote(ctx, qa.Vote{QuestionID: ids[1], Platform: "slack"}); err == nil {
			t.Error("a vote without a voter was accepted")
		}
		q, ok, err := s.Question(ctx, ids[1])
		if err != nil || !ok || q.ID != ids[1] || q.Text != "second?" || len(q.Votes) != 2 || q.Verdict() != qa.VerdictNotHelpful {
			t.Fatalf("question = %+v %v %v, want 2 votes, the asker's latest (not helpful) deciding", q, ok, err)
		}
		if _, ok, err := s.Question(ctx, "nope"); ok || err != nil {
			t.Errorf("missing question: found %v, err %v", ok, err)
		}
		// A range returns the questions with their votes, oldest first.
		qs, err := s.Questions(ctx, t0.Add(30*time.Minute), t0.Add(2*time.Hour+time.Minute))
		if err != nil || len(qs) != 2 || qs[0].Text != "second?" || len(qs[0].Votes) != 2 || qs[1].Text != "third?" || len(qs[1].Votes) != 0 {
			t.Fatalf("range = %+v, %v", qs, err)
		}
		if qs, _ := s.Questions(ctx, t0, t0.Add(time.Hour)); len(qs) != 1 || qs[0].ID != ids[0] {
			t.Fatalf("[t0, t0+1h) = %+v, want only the first (until is exclusive)", qs)
		}
		// UpdateQuestion changes only when fn says so.
		mark := func(q *qa.Question) bool {
			if q.Escalated() {
				return false
			}
			q.Escalations = append(q.Escalations, "not_helpful")
			return true
		}
		if q, changed, err := s.UpdateQuestion(ctx, ids[0], mark); err != nil || !changed || len(q.Escalations) != 1 {
			t.Fatalf("first mark: %+v %v %v", q, changed, err)
		}
		if _, changed, err := s.UpdateQuestion(ctx, ids[0], mark); err != nil || changed {
			t.Fatalf("second mark changed it again: %v %v", changed, err)
		}
		if _, changed, _ := s.UpdateQuestion(ctx, "nope", mark); changed {
			t.Fatal("updated a missing question")
		}
		if q, _, _ := s.Question(ctx, ids[0]); !q.Escalated() {
			t.Fatalf("the mark was not stored: %+v", q)
		}
	})

	t.Run("SettleDraftOnce", func(t *testing.T) {
		s, ctx := newStore(t), context.Background()
		d := qa.Draft{ID: "q1", Thread: bot.ThreadRef{Platform: "discord", ChannelID: "c", ThreadID: "t"}, UserID: "u",
			Replies: []bot.Reply{{Text: "draft"}}, Status: qa.ShadowPending, Created: time.Now()}
		if err := s.PutDraft(ctx, d); err != nil {
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
				_, ok, err := s.SettleDraft(ctx, "q1", status, "staff", time.Now())
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
		got, ok, err := s.Draft(ctx, "q1")
		if err != nil || !ok || got.Status == qa.ShadowPending || got.SettledBy != "staff" || got.Replies[0].Text != "draft" {
			t.Fatalf("draft = %+v %v %v", got, ok, err)
		}
		again, ok, err := s.SettleDraft(ctx, "q1", qa.ShadowSent, "other", time.Now())
		if err != nil || ok || again.SettledBy != "staff" {
			t.Fatalf("settling again = %+v %v %v, want the stored draft and false", again, ok, err)
		}
		if _, ok, _ := s.SettleDraft(ctx, "missing", qa.ShadowSent, "x", time.Now()); ok {
			t.Fatal("settled a missing draft")
		}
		if _, ok, _ := s.Draft(ctx, "missing"); ok {
			t.Fatal("found a missing draft")
		}
	})
}
