package solutions

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/einsatz/einsatz/bot"
	langpkg "github.com/einsatz/einsatz/bot/lang"
	"github.com/einsatz/einsatz/bot/solved"
)

// OptOuts remember the members who sent /publish-optout; *storage.Solved
// implements it (by a hash of the id, kept after an erasure).
type OptOuts interface {
	PutPublishOptOut(ctx context.Context, platform, userID string, now time.Time) error
	PublishOptedOut(ctx context.Context, platform, userID string) (bool, error)
}

// optOutRoute is /publish-optout: the member withdraws consent for every
// answer of theirs that waits for or has it, and is never asked again.
// Answers staff rewrote in their own words need no consent and stay.
func (s *Service) optOutRoute() bot.Route {
	return bot.Route{Name: "publish-optout", Match: bot.Command("publish-optout"), Handler: bot.HandlerFunc(s.optOut), BypassGate: true,
		Spec: &bot.CommandSpec{Name: "publish-optout", Description: "Keep all your questions off the public answers page", Private: true}}
}

func (s *Service) optOut(ctx context.Context, ev *bot.Event) ([]bot.Reply, error) {
	lang := threadLang(ev, ev.Lang)
	if l, sure := langpkg.Guess(ev.Args); sure {
		lang = l // the words after the command ("/publish-optout bitte nicht")
	}
	if ev.User.ID == "" || ev.User.Bot {
		return nil, nil
	}
	if err := s.o.OptOuts.PutPublishOptOut(ctx, ev.User.Platform, ev.User.ID, s.o.Clock.Now()); err != nil {
		return nil, err
	}
	all, err := s.o.Store.Candidates(ctx)
	if err != nil {
		return nil, err
	}
	n := 0
	var errs []error
	for _, c := range all {
		if c.Status != solved.StatusApproved || c.Rewritten || c.Thread.Platform != ev.User.Platform ||
			(c.Consent != solved.ConsentAsked && c.Consent != solved.ConsentGiven) {
			continue
		}
		who, err := s.threadAsker(ctx, c.Thread)
		if err != nil || who != ev.User.ID {
			errs = append(errs, err)
			continue
		}
		if _, err := s.setConsent(ctx, c, solved.ConsentDeclined); err != nil {
			errs = append(errs, err)
			continue
		}
		n++
	}
	s.o.Logger.Info("solutions: a member opted out of the public answers", "withdrawn", n)
	return []bot.Reply{{Text: fmt.Sprintf(optOutText(lang), n), Notice: true}}, errors.Join(errs...)
}

// threadAsker is the user id of a thread's first member message ("" when
// unknown: without Threads, or an erased history).
func (s *Service) threadAsker(ctx context.Context, th bot.ThreadRef) (string, error) {
	if s.o.Threads == nil {
		return "", nil
	}
	hist, err := s.o.Threads.History(ctx, th, 50)
	if err != nil {
		return "", err
	}
	for _, t := range hist {
		if t.Role == bot.RoleUser {
			return t.UserID, nil
		}
	}
	return "", nil
}

// optedOut reports whether the asker of c's thread sent /publish-optout.
func (s *Service) optedOut(ctx context.Context, c solved.Candidate) (bool, error) {
	if s.o.OptOuts == nil {
		return false, nil
	}
	who, err := s.threadAsker(ctx, c.Thread)
	if err != nil || who == "" {
		return false, err
	}
	return s.o.OptOuts.PublishOptedOut(ctx, c.Thread.Platform, who)
}

func optOutText(lang string) string {
	if lang == "de" {
		return "Erledigt: Deine Fragen erscheinen nicht mehr auf der öffentlichen Antwortseite (%d zurückgezogen), und ich frage dich nicht mehr danach."
	}
	return "Done: your questions stay off the public answers page (%d withdrawn), and I won't ask you about publishing again."
}
