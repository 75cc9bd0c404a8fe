// Package solutions turns solved community threads into knowledge. The
// asker or staff mark a thread solved — a ✅ reaction on the message that
// solved it, or /solved (the last reply of someone other than the asker
// then counts as the solution) — and the thread's question with that
// answer, PII redacted, becomes a knowledge candidate. Staff approve
// (optionally edited) or reject candidates on the dashboard or with
// `einsatz kb candidates|approve|reject`; an approved one is added to the
// knowledge base citing the thread, and answers the next person who asks.
package solutions

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"log/slog"
	"strings"
	"time"

	"github.com/einsatz/einsatz/bot"
	"github.com/einsatz/einsatz/bot/config"
	"github.com/einsatz/einsatz/bot/lang"
	"github.com/einsatz/einsatz/bot/solved"
	"github.com/einsatz/einsatz/handlers/answer"
)

// DefaultReaction marks a thread solved.
const DefaultReaction = "✅"

// Options configure the service.
type Options struct {
	Store solved.Store
	// AddKnowledge adds an approved candidate to the knowledge base (the
	// knowledge base's Add, as support.AddTo adapts it); nil refuses
	// approvals.
	AddKnowledge func(ctx context.Context, name, title, url, text string) error
	// Reaction marks a thread solved; "" is DefaultReaction, "-" turns
	// reactions off (/solved still works).
	Reaction string
	// Publish turns on the public answer pages (knowledge.publish): an
	// approved candidate asks its asker for consent in the thread.
	Publish bool
	// Poster posts the consent question and the nudge; *bot.Bot.
	Poster Poster
	// NudgeAfter is the quiet time after an answer before the bot asks
	// "did this solve it?" (solved.nudge_after); 0 turns the nudge off. It
	// needs Nudges, Threads and Poster.
	NudgeAfter time.Duration
	// Quiet are the hours no nudge is sent (solved.quiet_hours); a nudge
	// due then goes out at their end. Zero: none.
	Quiet   QuietHours
	Nudges  solved.NudgeStore
	Threads Threads
	Clock   bot.Clock
	Logger  *slog.Logger
	// Forums tags a solved forum post with its forum's solved tag (one of
	// ForumTags; empty: DefaultForumTags) and, with Archive, archives it
	// (solved.forum_tags, solved.archive); *bot.Bot. Nil leaves posts be.
	Forums    Forums
	ForumTags []string
	Archive   bool
	// OpenTags name the tags a solved post loses ("Unsolved", "Offen";
	// solved.open_tags); nil is DefaultOpenTags, empty none.
	OpenTags []string
	// OptOuts keep /publish-optout (with Publish; nil: no such command);
	// *storage.Solved. The asker is found in the thread's history (Threads).
	OptOuts OptOuts
	// Reactor reacts ✅ on a solved Slack thread's parent message;
	// *bot.Bot. Nil leaves it.
	Reactor Reactor
}

// FromConfig takes the settings from the configuration.
func FromConfig(cfg *config.Config, o Options) Options {
	o.Reaction = cfg.Knowledge.SolvedReaction
	o.Publish = cfg.Knowledge.Publish
	o.NudgeAfter = cfg.Solved.NudgeAfter
	if loc, from, to, err := config.ParseQuietHours(cfg.Solved, cfg.Handoff.Hours); err == nil && loc != nil {
		o.Quiet = QuietHours{Loc: loc, From: from, To: to}
	}
	o.ForumTags = cfg.Solved.ForumTags
	o.Archive = cfg.Solved.Archive
	o.OpenTags = cfg.Solved.OpenTags
	return o
}

// Service makes and settles knowledge candidates.
type Service struct {
	o       Options
	consent consentCache
	public  publicTexts
}

// New returns the service.
func New(o Options) *Service {
	if o.Reaction == "" {
		o.Reaction = DefaultReaction
	}
	if o.Clock == nil {
		o.Clock = bot.SystemClock{}
	}
	if o.Logger == nil {
		o.Logger = slog.New(slog.DiscardHandler)
	}
	return &Service{o: o}
}

// Why a thread could not be marked solved.
var (
	ErrNoQuestion = errors.New("solutions: no member question in this thread")
	ErrNoAnswer   = errors.New("solutions: no reply in this thread to take as the solution")
	ErrNotAllowed = errors.New("solutions: only the asker or staff mark a thread solved")
)

// CandidateID is the candidate's id for a thread: stable, so marking the
// same thread again updates its candidate.
func CandidateID(thread bot.ThreadRef) string {
	sum := sha256.Sum256([]byte(thread.Key()))
	return hex.EncodeToString(sum[:6])
}

// Mark makes (or updates) the candidate of ev's thread. messageID names
// the solving message; "" takes the last reply after the question by
// someone other than the asker (else the asker's own last reply).
func (s *Service) Mark(ctx context.Context, ev *bot.Event, messageID string) (solved.Candidate, error) {
	if s.o.Store == nil {
		return solved.Candidate{}, errors.New("solutions: no candidate store")
	}
	qi := -1
	for i, t := range ev.History {
		if t.Role == bot.RoleUser && strings.TrimSpace(t.Text) != "" {
			qi = i
			break
		}
	}
	if qi < 0 {
		return solved.Candidate{}, ErrNoQuestion
	}
	q := ev.History[qi]
	by := "asker"
	switch {
	case ev.User.Staff:
		by = "staff"
	case ev.User.ID != q.UserID:
		return solved.Candidate{}, ErrNotAllowed
	}
	ai := -1
	if messageID != "" {
		for i := qi + 1; i < len(ev.History); i++ {
			if t := ev.History[i]; t.Role != bot.RoleBot && (t.MessageID == messageID || (t.Permalink != "" && t.Permalink == messageID)) {
				ai = i
			}
		}
	} else {
		asker := -1
		for i := len(ev.History) - 1; i > qi; i-- {
			t := ev.History[i]
			if t.Role == bot.RoleBot || strings.TrimSpace(t.Text) == "" {
				continue
			}
			if t.UserID != q.UserID {
				ai = i
				break
			}
			if asker < 0 {
				asker = i
			}
		}
		if ai < 0 {
			ai = asker
		}
	}
	if ai < 0 || strings.TrimSpace(ev.History[ai].Text) == "" {
		return solved.Candidate{}, ErrNoAnswer
	}
	a := ev.History[ai]
	thread := ev.Thread()
	c := solved.Candidate{
		ID:        CandidateID(thread),
		Thread:    thread,
		Question:  strings.TrimSpace(withoutNames(answer.Redact(q.Text), participants(ev))),
		Answer:    strings.TrimSpace(withoutNames(answer.Redact(a.Text), participants(ev))),
		Permalink: a.Permalink,
		By:        by,
		Created:   s.o.Clock.Now(),
		Status:    solved.StatusPending,
		Lang:      lang.Detect(q.Text), // the question's, also when /solved came without words
	}
	if c.Permalink == "" && ev.Target != nil {
		c.Permalink = ev.Target.Permalink
	}
	if c.Permalink == "" {
		c.Permalink = q.Permalink
	}
	old, err := s.o.Store.Candidate(ctx, c.ID)
	switch {
	case err == nil && old.Status == solved.StatusApproved:
		s.showSolved(ctx, thread)
		return old, nil // already in the knowledge base; staff edit it there
	case err == nil:
		c.Created = old.Created
	case !errors.Is(err, solved.ErrNotExist):
		return c, err
	}
	if err := s.o.Store.PutCandidate(ctx, c); err != nil {
		return c, err
	}
	s.o.Logger.Info("solutions: thread marked solved", "candidate", c.ID, "thread", thread.Key(), "by", by)
	s.showSolved(ctx, thread)
	return c, nil
}

// Observe marks a thread solved when the asker or staff react with the
// solved reaction on the message that solved it (reactions never reach
// the router). A ✅ on the bot's own answer is thanks, not a new entry.
//
// It also watches threads for the nudge, takes the asker's ✅ on the
// consent question and the nudge, and unpublishes an answer whose
// message was deleted.
func (s *Service) Observe(ctx context.Context, ev *bot.Event) error {
	if ev.Replayed || ev.User.Bot {
		return nil
	}
	switch ev.Kind {
	case bot.KindMessage:
		return s.watch(ctx, ev)
	case bot.KindDelete:
		return s.deleted(ctx, ev)
	case bot.KindReaction:
	default:
		return nil
	}
	if bot.SameEmoji(ev.Reaction, DefaultReaction) || bot.SameEmoji(ev.Reaction, s.o.Reaction) {
		if done, err := s.consentReaction(ctx, ev); done || err != nil {
			return err
		}
		if done, err := s.nudgeReaction(ctx, ev); done || err != nil {
			return err
		}
	}
	if ev.Removed || s.o.Reaction == "-" || !bot.SameEmoji(ev.Reaction, s.o.Reaction) {
		return nil
	}
	if ev.Target == nil || ev.Target.User.Bot || ev.Target.ID == "" {
		return nil
	}
	_, err := s.Mark(ctx, ev, ev.Target.ID)
	if errors.Is(err, ErrNoQuestion) || errors.Is(err, ErrNoAnswer) || errors.Is(err, ErrNotAllowed) {
		return nil
	}
	return err
}

// Routes is /solved, the asker's yes/no to the consent question and,
// with publishing, /publish-optout.
func (s *Service) Routes() []bot.Route {
	routes := []bot.Route{s.consentRoute(), {Name: "solved", Match: bot.Command("solved"), Handler: bot.HandlerFunc(s.solvedCmd), BypassGate: true,
		Spec: &bot.CommandSpec{Name: "solved", Description: "Mark this thread solved: its answer becomes a knowledge candidate", Private: true}}}
	if s.o.Publish && s.o.OptOuts != nil {
		routes = append(routes, s.optOutRoute()) // /publish-optout
	}
	return routes
}

// texts are /solved's replies.
var texts = map[string]map[string]string{
	"en": {"marked": "Thanks! This thread is marked solved; the team will review the answer for the knowledge base.",
		"marked_bot":  "Thanks! This thread is marked solved.",
		"no_question": "There is no question in this thread to mark solved.",
		"no_answer":   "I found no reply in this thread to take as the solution.",
		"not_allowed": "Only the person who asked, or the team, can mark this thread solved."},
	"de": {"marked": "Danke! Dieser Thread ist als gelöst markiert; das Team prüft die Antwort für die Wissensdatenbank.",
		"marked_bot":  "Danke! Dieser Thread ist als gelöst markiert.",
		"no_question": "In diesem Thread gibt es keine Frage, die gelöst sein könnte.",
		"no_answer":   "Ich habe in diesem Thread keine Antwort gefunden, die die Lösung sein könnte.",
		"not_allowed": "Nur wer gefragt hat oder das Team kann diesen Thread als gelöst markieren."},
}

func text(lang, key string) string {
	if t, ok := texts[lang]; ok {
		return t[key]
	}
	return texts["en"][key]
}

// solvedCmd is /solved [message link or id].
func (s *Service) solvedCmd(ctx context.Context, ev *bot.Event) ([]bot.Reply, error) {
	msg := strings.TrimSpace(ev.Args)
	if ev.Target != nil && ev.Target.ID != "" {
		msg = ev.Target.ID // a message command on the solving message
	}
	_, err := s.Mark(ctx, ev, msg)
	l := ev.Lang
	if strings.TrimSpace(ev.Args) == "" {
		// No words to tell the language ("Mark solution", a bare /solved):
		// the thread's, as its question shows.
		l = threadLang(ev, l)
	}
	key := "marked"
	switch {
	case errors.Is(err, ErrNoQuestion):
		key = "no_question"
	case errors.Is(err, ErrNoAnswer) && ev.Target != nil && ev.Target.User.Bot:
		// "Mark solution" on the bot's own answer: solved, but nothing new
		// for the knowledge base (the answer came from it).
		key = "marked_bot"
		s.showSolved(ctx, ev.Thread())
		s.o.Logger.Info("solutions: thread solved by the bot's answer", "thread", ev.Thread().Key())
	case errors.Is(err, ErrNoAnswer):
		key = "no_answer"
	case errors.Is(err, ErrNotAllowed):
		key = "not_allowed"
	case err != nil:
		return nil, err
	}
	return []bot.Reply{{Text: text(l, key), Notice: true}}, nil
}

// threadLang is the language of the thread's first member message, or
// fallback when it says nothing clear.
func threadLang(ev *bot.Event, fallback string) string {
	for _, t := range ev.History {
		if t.Role == bot.RoleUser && strings.TrimSpace(t.Text) != "" {
			if l, sure := lang.Guess(t.Text); sure {
				return l
			}
			break
		}
	}
	return fallback
}

// Pending returns the candidates waiting for staff, oldest first.
func (s *Service) Pending(ctx context.Context) ([]solved.Candidate, error) {
	all, err := s.o.Store.Candidates(ctx)
	if err != nil {
		return nil, err
	}
	var out []solved.Candidate
	for _, c := range all {
		if c.Status == solved.StatusPending {
			out = append(out, c)
		}
	}
	return out, nil
}

// Edit changes a pending candidate's question and answer (empty keeps).
func (s *Service) Edit(ctx context.Context, id, question, ans string) (solved.Candidate, error) {
	c, err := s.o.Store.Candidate(ctx, id)
	if err != nil {
		return c, err
	}
	if q := strings.Join(strings.Fields(question), " "); q != "" {
		c.Question = q
	}
	if a := strings.TrimSpace(ans); a != "" {
		c.Answer = a
	}
	return c, s.o.Store.PutCandidate(ctx, c)
}

// EntryName is the knowledge entry an approved candidate becomes.
func EntryName(id string) string { return "solved-" + id }

// Approve adds a candidate to the knowledge base — the question as the
// heading, the answer below, cited with the thread's link — and keeps it
// as approved, so marking the thread again does not bring it back.
func (s *Service) Approve(ctx context.Context, id string) (solved.Candidate, error) {
	if s.o.AddKnowledge == nil {
		return solved.Candidate{}, errors.New("solutions: approving is off (no knowledge base)")
	}
	c, err := s.o.Store.Candidate(ctx, id)
	if err != nil {
		return c, err
	}
	title := c.Question
	if r := []rune(title); len(r) > 80 {
		title = string(r[:80]) + "…"
	}
	name := EntryName(c.ID)
	if err := s.o.AddKnowledge(ctx, name, title, c.Permalink, "## "+c.Question+"\n\n"+c.Answer+"\n"); err != nil {
		return c, fmt.Errorf("solutions: approve %s: %w", id, err)
	}
	c.Status, c.Entry, c.Reviewed = solved.StatusApproved, name, s.o.Clock.Now()
	if err := s.o.Store.PutCandidate(ctx, c); err != nil {
		return c, err
	}
	s.o.Logger.Info("solutions: candidate approved", "candidate", c.ID)
	return s.askConsent(ctx, c)
}

// Reject removes a candidate.
func (s *Service) Reject(ctx context.Context, id string) error {
	if _, err := s.o.Store.Candidate(ctx, id); err != nil {
		return err
	}
	return s.o.Store.DeleteCandidate(ctx, id)
}
