package storage

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/einsatz/einsatz/bot"
	"github.com/einsatz/einsatz/bot/escalation"
	"github.com/einsatz/einsatz/bot/mood"
	"github.com/einsatz/einsatz/bot/qa"
)

// Each record kind expires after its own retention period, counted from
// the record's own time: of two records of a kind, the one past that kind's
// TTL is gone (with its user index entry), the one just inside it is kept —
// even when it is older than another kind's TTL. Time "passes" the way the
// message test does it: records are written with times in the past.
func TestRetentionPerKindCountsFromTheRecordsOwnTime(t *testing.T) {
	const (
		messageTTL   = 24 * time.Hour
		sentimentTTL = 48 * time.Hour
		feedbackTTL  = 72 * time.Hour
		auditTTL     = 96 * time.Hour
	)
	s := openTest(t, Options{InMemory: true, MessageTTL: messageTTL, SentimentTTL: sentimentTTL,
		FeedbackTTL: feedbackTTL, AuditTTL: auditTTL})
	ctx := context.Background()
	ch := mood.Channel{Platform: "console", ID: "c/1"}
	must := func(err error) {
		t.Helper()
		if err != nil {
			t.Fatal(err)
		}
	}

	kinds := []struct {
		name string
		ttl  time.Duration
		// add writes one record of the kind, of time at, carrying mark.
		add func(at time.Time, mark string)
		// stored lists the marks of the kind's records still readable.
		stored func() []string
	}{
		{"message", messageTTL,
			func(at time.Time, mark string) {
				first, err := s.Accept(ctx, "ev-"+mark, 0, thread, &bot.Turn{Role: bot.RoleUser, UserID: "u", Text: mark, Time: at})
				if err != nil || !first {
					t.Fatalf("Accept %s: %v, %v", mark, first, err)
				}
			},
			func() []string {
				h, err := s.History(ctx, thread, 100)
				must(err)
				var out []string
				for _, turn := range h {
					out = append(out, turn.Text)
				}
				return out
			}},
		{"sentiment", sentimentTTL,
			func(at time.Time, mark string) {
				must(NewSentiment(s).Log(ctx, mood.Row{Platform: ch.Platform, Channel: ch.ID, User: "u", MessageID: mark,
					Time: at, Label: mood.Neutral}, "u"))
				must(s.Sync(ctx)) // neutral rows are queued without waiting
			},
			func() []string {
				rows, err := NewSentiment(s).Rows(ctx, ch, time.Now().Add(-365*24*time.Hour), time.Now().Add(time.Hour))
				must(err)
				var out []string
				for _, r := range rows {
					out = append(out, r.MessageID)
				}
				return out
			}},
		{"feedback", feedbackTTL, // a question and its Helpful rating, each of time at
			func(at time.Time, mark string) {
				id, err := NewSupport(s).AddQuestion(ctx, qa.Question{Time: at, Thread: thread, UserID: "u", Text: mark, Outcome: "answered"})
				must(err)
				must(NewSupport(s).PutVote(ctx, qa.Vote{QuestionID: id, Platform: "console", UserID: "rater-" + mark, Helpful: true, Time: at}))
			},
			func() []string {
				qs, err := NewSupport(s).Questions(ctx, time.Now().Add(-365*24*time.Hour), time.Now().Add(time.Hour))
				must(err)
				var out []string
				for _, q := range qs {
					out = append(out, q.Text)
					for _, v := range q.Votes {
						out = append(out, v.UserID)
					}
				}
				return out
			}},
		{"escalation", messageTTL, // it quotes the member's messages: their retention, from its creation
			func(at time.Time, mark string) {
				_, err := NewHandoff(s).OpenEscalation(ctx, escalation.Escalation{Thread: bot.ThreadRef{Platform: "console", ChannelID: "c", ThreadID: mark},
					User: bot.User{Platform: "console", ID: "u"}, Reason: "asked", Summary: mark, Created: at, Status: escalation.StatusOpen})
				must(err)
			},
			func() []string {
				es, err := NewHandoff(s).Escalations(ctx)
				must(err)
				var out []string
				for _, e := range es {
					out = append(out, e.Summary)
				}
				return out
			}},
		{"audit", auditTTL,
			func(at time.Time, mark string) {
				must(s.AddAudit(ctx, AuditEntry{Time: at, Actor: "anna", Action: "login", Target: mark}))
			},
			func() []string {
				return auditMarks(t, s, "login", func(e AuditEntry) string { return e.Target })
			}},
	}

	now := time.Now()
	for _, k := range kinds {
		k.add(now.Add(-k.ttl-time.Hour), k.name+"-past-ttl")
		k.add(now.Add(-k.ttl+time.Hour), k.name+"-within-ttl")
	}

	for _, k := range kinds {
		t.Run(k.name, func(t *testing.T) {
			got := k.stored()
			want := []string{k.name + "-within-ttl"}
			if k.name == "feedback" {
				want = append(want, "rater-"+k.name+"-within-ttl")
			}
			if strings.Join(got, "|") != strings.Join(want, "|") {
				t.Fatalf("stored = %q, want only %q (%v past its own time is expired, newer is kept)", got, want, k.ttl)
			}
		})
	}

	// Nothing past its retention is left under any key, and no user index
	// entry outlives the record it points to.
	keys := map[string]bool{}
	must(s.Dump(ctx, func(k, v []byte) error {
		keys[string(k)] = true
		if strings.Contains(string(k)+" "+string(v), "-past-ttl") {
			t.Errorf("expired record stored under %s", k)
		}
		return nil
	}))
	for k := range keys {
		if !strings.HasPrefix(k, prefixUser) {
			continue
		}
		parts := strings.SplitN(strings.TrimPrefix(k, prefixUser), "/", 3)
		if len(parts) == 3 && !keys[parts[2]] {
			t.Errorf("user index entry %s outlives its record", k)
		}
	}
	// The aggregates hold nobody's data and keep the expired row's count.
	buckets, err := NewSentiment(s).Buckets(ctx, mood.Day, ch, now.Add(-10*24*time.Hour), now.Add(48*time.Hour))
	must(err)
	n := 0
	for _, b := range buckets {
		n += b.N
	}
	if n != 2 {
		t.Fatalf("sentiment aggregates count %d rows, want 2 (the expired one still counts)", n)
	}
}

func auditMarks(t *testing.T, s *Store, action string, mark func(AuditEntry) string) []string {
	t.Helper()
	entries, err := s.Audit(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	var out []string
	for _, e := range entries {
		if e.Action == action {
			out = append(out, mark(e))
		}
	}
	return out
}
