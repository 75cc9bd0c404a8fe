// Package qa holds the support log's records — the questions the bot was
// asked, people's ratings of its answers, the drafts held back in shadow
// mode — and the interface of the store that keeps them. It is a leaf:
// storage implements Store, handlers/support works over it.
package qa

import (
	"context"
	"time"

	"github.com/einsatz/einsatz/bot"
)

// Outcomes of an answer, in Question.Outcome (handlers/answer sets them).
const (
	OutcomeAnswered   = "answered"   // the LLM answered from the sources
	OutcomeExtractive = "extractive" // no LLM configured: the best passage
	OutcomeDegraded   = "degraded"   // the LLM failed or its circuit is open: the best passage, with a note
	OutcomeDontKnow   = "dont_know"  // nothing covers the question: said so, human offered
	OutcomeGreeting   = "greeting"   // an empty message or a greeting
	OutcomeIgnored    = "ignored"    // not a question (a button click): no reply
)

// Shadow states of a question.
const (
	ShadowPending   = "pending"   // the draft waits in the staff channel
	ShadowSent      = "sent"      // staff sent it into the thread
	ShadowDiscarded = "discarded" // staff discarded it
)

// Verdicts.
const (
	VerdictHelpful    = "helpful"
	VerdictNotHelpful = "not_helpful"
)

// Question is one question the bot was asked, as logged.
type Question struct {
	ID     string        `json:"id"` // time-ordered; the value of the buttons
	Time   time.Time     `json:"time"`
	Thread bot.ThreadRef `json:"thread"`
	UserID string        `json:"user_id"`
	Lang   string        `json:"lang,omitempty"`
	// Text is redacted (personal data and secrets removed) unless the
	// answer handler was told not to.
	Text    string       `json:"text"`
	Outcome string       `json:"outcome"` // Outcome*
	Sources []bot.Source `json:"sources,omitempty"`
	// Shadow is "" outside shadow mode, else a Shadow* state.
	Shadow string `json:"shadow,omitempty"`
	// Escalations are the reasons a person was called for this question
	// (dont_know, repeated, not_helpful), each once.
	Escalations []string `json:"escalations,omitempty"`
	// Votes are filled in when reading; they are stored apart (one record
	// per voter, which belongs to the voter).
	Votes []Vote `json:"votes,omitempty"`
	// Reading is the message's primary reading (bot.Reading; "question"
	// for a command); "" in records from before readings were kept.
	Reading string `json:"reading,omitempty"`
	// Permalink links to the question on its platform, when known.
	Permalink string `json:"permalink,omitempty"`
}

// Vote is one person's rating of an answer; the latest vote of a person
// replaces their earlier one.
type Vote struct {
	QuestionID string    `json:"question_id"`
	Platform   string    `json:"platform"`
	UserID     string    `json:"user_id"`
	Helpful    bool      `json:"helpful"`
	Time       time.Time `json:"time"`
}

// Delivered reports whether the answer reached the community: always
// outside shadow mode, in shadow mode once staff sent it.
func (q Question) Delivered() bool { return q.Shadow == "" || q.Shadow == ShadowSent }

// Answered reports whether the bot delivered an answer from the knowledge
// base (by the LLM, extractive, or degraded to extractive).
func (q Question) Answered() bool {
	switch q.Outcome {
	case OutcomeAnswered, OutcomeExtractive, OutcomeDegraded:
		return q.Delivered()
	}
	return false
}

// Escalated reports whether a person was called for the question.
func (q Question) Escalated() bool { return len(q.Escalations) > 0 }

// Verdict is the rating of the answer: "" unrated, "helpful" or
// "not_helpful". The asker's own vote decides when they voted; otherwise
// the majority of votes, a tie counting as not helpful.
func (q Question) Verdict() string {
	if len(q.Votes) == 0 {
		return ""
	}
	up, down := 0, 0
	for _, v := range q.Votes {
		if v.UserID == q.UserID && v.Platform == q.Thread.Platform {
			return verdict(v.Helpful)
		}
		if v.Helpful {
			up++
		} else {
			down++
		}
	}
	return verdict(up > down)
}

func verdict(helpful bool) string {
	if helpful {
		return VerdictHelpful
	}
	return VerdictNotHelpful
}

// Draft is an answer held back in shadow mode.
type Draft struct {
	ID        string        `json:"id"` // the question's ID
	Thread    bot.ThreadRef `json:"thread"`
	UserID    string        `json:"user_id"` // the asker: the draft belongs to them
	Lang      string        `json:"lang,omitempty"`
	Replies   []bot.Reply   `json:"replies"`
	Status    string        `json:"status"` // Shadow* state
	Created   time.Time     `json:"created"`
	SettledBy string        `json:"settled_by,omitempty"`
	Settled   time.Time     `json:"settled,omitempty"`
}

// Store keeps questions, votes and drafts; storage.Support implements it,
// qatest.Mem is the in-memory fake, and qatest.Run checks both alike.
type Store interface {
	// AddQuestion stores a new question and returns its ID (q.ID is ignored).
	AddQuestion(ctx context.Context, q Question) (string, error)
	// Question returns a question with its votes.
	Question(ctx context.Context, id string) (Question, bool, error)
	// UpdateQuestion changes a question in one step: fn gets the stored
	// question and returns whether to write it back.
	UpdateQuestion(ctx context.Context, id string, fn func(q *Question) bool) (Question, bool, error)
	// Questions returns the questions asked in [since, until) with their
	// votes, oldest first.
	Questions(ctx context.Context, since, until time.Time) ([]Question, error)
	// PutVote stores a vote, replacing the voter's earlier one.
	PutVote(ctx context.Context, v Vote) error
	// PutDraft stores a draft.
	PutDraft(ctx context.Context, d Draft) error
	Draft(ctx context.Context, id string) (Draft, bool, error)
	// SettleDraft moves a pending draft to status (sent or discarded) in
	// one step; it reports false when the draft was settled already.
	SettleDraft(ctx context.Context, id, status, by string, at time.Time) (Draft, bool, error)
}
