package solutions

import (
	"context"
	"errors"
	"time"

	"github.com/einsatz/einsatz/bot"
	"github.com/einsatz/einsatz/bot/solved"
)

// The inactivity nudge (solved.nudge_after): when a member's question
// thread got an answer from the bot or staff and then nobody wrote for
// NudgeAfter, the bot asks the asker once "Did this solve it? React ✅" —
// never twice in a thread, never in a thread staff own, never in one
// already marked solved. A ✅ on the nudge by the asker (or staff) marks
// the thread solved like /solved.

// Threads reads a thread's history and owner; storage.Store implements it.
type Threads interface {
	History(ctx context.Context, thread bot.ThreadRef, n int) ([]bot.Turn, error)
	Owner(ctx context.Context, thread bot.ThreadRef) (bot.Owner, error)
}

// nudgeKeep is how long a watched thread is remembered after its last
// message (and a sent nudge, so it is never sent twice while the thread
// is alive).
const nudgeKeep = 30 * 24 * time.Hour

var nudgeTexts = map[string]string{
	"en": "Did this solve it? React ✅ to this message to mark it solved.",
	"de": "Hat das dein Problem gelöst? Reagiere mit ✅ auf diese Nachricht, um es als gelöst zu markieren.",
}

func nudgeText(lang string) string {
	if t, ok := nudgeTexts[lang]; ok {
		return t
	}
	return nudgeTexts["en"]
}

func (s *Service) nudgesOn() bool {
	return s.o.NudgeAfter > 0 && s.o.Nudges != nil && s.o.Threads != nil && s.o.Poster != nil
}

// watch notes a person's message in a thread for the nudge: the thread's
// last activity moves, and a member's thread starts being watched.
func (s *Service) watch(ctx context.Context, ev *bot.Event) error {
	if !s.nudgesOn() || ev.Kind != bot.KindMessage || ev.Platform == bot.PlatformWeb || ev.DM {
		return nil
	}
	thread := ev.Thread()
	n, err := s.o.Nudges.Nudge(ctx, thread.Key())
	switch {
	case errors.Is(err, solved.ErrNotExist):
		if ev.User.Staff || !ev.Addressed {
			return nil // only a member's question to the bot starts the watch
		}
		n = solved.Nudge{Thread: thread, Lang: ev.Lang}
	case err != nil:
		return err
	}
	if !n.Sent.IsZero() {
		return nil // asked once; never again
	}
	n.Last = s.o.Clock.Now()
	return s.o.Nudges.PutNudge(ctx, n)
}

// nudgeReaction marks the thread solved when the asker or staff react ✅
// on the nudge. It reports whether the reaction was on a nudge.
func (s *Service) nudgeReaction(ctx context.Context, ev *bot.Event) (bool, error) {
	// The nudge says ✅; the configured solved reaction counts too.
	if s.o.Nudges == nil || ev.Removed || ev.Target == nil || ev.Target.ID == "" ||
		!(bot.SameEmoji(ev.Reaction, DefaultReaction) || bot.SameEmoji(ev.Reaction, s.o.Reaction)) {
		return false, nil
	}
	n, err := s.o.Nudges.Nudge(ctx, ev.Thread().Key())
	if errors.Is(err, solved.ErrNotExist) || (err == nil && n.Message != ev.Target.ID) {
		return false, nil
	}
	if err != nil {
		return false, err
	}
	c, err := s.Mark(ctx, ev, "")
	switch {
	case errors.Is(err, ErrNoAnswer):
		// Only the bot answered: its answer came from the knowledge base
		// already, so there is nothing new to review.
		s.o.Logger.Info("solutions: thread solved by the bot's answer", "thread", ev.Thread().Key())
		s.showSolved(ctx, ev.Thread())
		return true, nil
	case errors.Is(err, ErrNoQuestion), errors.Is(err, ErrNotAllowed):
		return true, nil
	case err != nil:
		return true, err
	}
	s.o.Logger.Info("solutions: nudge answered", "candidate", c.ID)
	return true, nil
}

// Nudge sends the nudges that are due and forgets threads long quiet.
func (s *Service) Nudge(ctx context.Context) error {
	if !s.nudgesOn() {
		return nil
	}
	all, err := s.o.Nudges.Nudges(ctx)
	if err != nil {
		return err
	}
	now := s.o.Clock.Now()
	var errs []error
	for _, n := range all {
		if err := ctx.Err(); err != nil {
			return err
		}
		key := n.Thread.Key()
		last := n.Last
		if n.Sent.After(last) {
			last = n.Sent
		}
		if now.Sub(last) > nudgeKeep {
			errs = append(errs, s.o.Nudges.DeleteNudge(ctx, key))
			continue
		}
		if !n.Sent.IsZero() || now.Sub(n.Last) < s.o.NudgeAfter {
			continue
		}
		if s.o.Quiet.Quiet(now) {
			continue // asked at the end of the quiet hours (Run looks every minute)
		}
		if due, err := s.nudgeDue(ctx, n, now); err != nil || !due {
			errs = append(errs, err)
			continue
		}
		id, err := s.o.Poster.Publish(ctx, n.Thread, bot.Reply{Text: nudgeText(n.Lang)})
		if err != nil {
			errs = append(errs, err)
			continue
		}
		n.Sent, n.Message = now, id
		if err := s.o.Nudges.PutNudge(ctx, n); err != nil {
			errs = append(errs, err)
			continue
		}
		s.o.Logger.Info("solutions: asked whether the thread is solved", "thread", key)
	}
	return errors.Join(errs...)
}

// nudgeDue reads the thread: bot-owned, not yet solved, its last message
// the bot's or staff's answer to a member, quiet for NudgeAfter.
func (s *Service) nudgeDue(ctx context.Context, n solved.Nudge, now time.Time) (bool, error) {
	owner, err := s.o.Threads.Owner(ctx, n.Thread)
	if err != nil || !owner.Bot() {
		return false, err // claimed: staff handle it; looked at again after the release
	}
	if _, err := s.o.Store.Candidate(ctx, CandidateID(n.Thread)); err == nil {
		return false, nil // marked solved already
	} else if !errors.Is(err, solved.ErrNotExist) {
		return false, err
	}
	hist, err := s.o.Threads.History(ctx, n.Thread, 50)
	if err != nil || len(hist) == 0 {
		return false, err
	}
	member := false
	for _, t := range hist {
		member = member || t.Role == bot.RoleUser
	}
	last := hist[len(hist)-1]
	return member && (last.Role == bot.RoleBot || last.Role == bot.RoleStaff) && now.Sub(last.Time) >= s.o.NudgeAfter, nil
}

// Run sends the nudges as they fall due, looking every minute of the
// clock, until ctx ends. Without nudge_after it returns at once.
func (s *Service) Run(ctx context.Context) error {
	if !s.nudgesOn() {
		return nil
	}
	for {
		select {
		case <-ctx.Done():
			return nil
		case <-s.o.Clock.After(time.Minute):
		}
		if err := s.Nudge(ctx); err != nil && !errors.Is(err, context.Canceled) {
			s.o.Logger.Error("solutions: nudges", "err", err)
		}
	}
}
