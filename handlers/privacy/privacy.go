// Package privacy gives every member the rights over what the bot keeps
// about them (GDPR Art. 15 and 17): an export of everything stored, and an
// erasure — by staff (`einsatz privacy export|erase`) or by the member
// themself (`/forget-me`, with a confirmation).
package privacy

import (
	"context"
	"encoding/json"
	"fmt"
	"strings"
	"sync"
	"time"

	"github.com/einsatz/einsatz/bot"
	"github.com/einsatz/einsatz/bot/personal"
)

// Store exports and erases a person's data; People implements it over
// every store's part (storage.Parts), the CLI over the admin API.
type Store interface {
	ExportUser(ctx context.Context, platform, userID string) (personal.Data, error)
	EraseUser(ctx context.Context, platform, userID, by string) (personal.Erasure, error)
}

// People exports and erases a person by asking every store for its part:
// privacy knows no feature, and a new feature's records are covered by
// adding its part.
type People struct {
	Part personal.Part // usually personal.Parts of every store
	Now  func() time.Time
}

// ExportUser collects every record about a person (GDPR Art. 15).
func (p People) ExportUser(ctx context.Context, platform, userID string) (personal.Data, error) {
	now := time.Now
	if p.Now != nil {
		now = p.Now
	}
	out := personal.Data{Platform: platform, User: userID, Exported: now().UTC(), Records: map[string][]json.RawMessage{}}
	recs, err := p.Part.Export(ctx, platform, userID)
	if err != nil {
		return out, err // the parts say which store failed
	}
	out.Records = recs
	return out, nil
}

// EraseUser removes everything about a person (GDPR Art. 17), or
// anonymises what other people's records count on; by names who asked,
// for the audit log.
func (p People) EraseUser(ctx context.Context, platform, userID, by string) (personal.Erasure, error) {
	return p.Part.Erase(ctx, platform, userID, by)
}

// Actions of the confirmation buttons.
const (
	ActionConfirm = "forget_me_confirm"
	ActionCancel  = "forget_me_cancel"
)

// Service is /forget-me and the admin API for export and erasure.
type Service struct {
	store Store
	text  func(lang, key string) string
	clock bot.Clock

	mu      sync.Mutex
	pending map[string]time.Time // platform/user → when /forget-me was asked
}

// New returns the privacy service. text gives the texts forget_me_confirm,
// forget_me_done, forget_me_cancelled, forget_me_expired.
func New(store Store, text func(lang, key string) string, clock bot.Clock) *Service {
	if clock == nil {
		clock = bot.SystemClock{}
	}
	return &Service{store: store, text: text, clock: clock, pending: map[string]time.Time{}}
}

// confirmWindow is how long a /forget-me waits for its confirmation.
const confirmWindow = 10 * time.Minute

// Routes: /forget-me asks for a confirmation (a button, or "/forget-me
// confirm" where there are no buttons); only the member themself can
// confirm. They run in staff-owned threads too: a right is a right.
func (s *Service) Routes() []bot.Route {
	return []bot.Route{
		{Name: "forget-me", Match: bot.Command("forget-me"), Handler: bot.HandlerFunc(s.forgetMe), BypassGate: true,
			// No declared argument: Discord would make it required, and the
			// confirmation must come first. "/forget-me confirm" still works
			// where commands are typed (Slack, console, web).
			// Exclusive: "/forget-me confirm" erases, and nothing the
			// member wrote may be stored after it by an event still running.
			Spec: &bot.CommandSpec{Name: "forget-me", Description: "Delete everything this bot keeps about you", Private: true}, Exclusive: true},
		{Name: "forget-me-confirm", Match: bot.Action(ActionConfirm), Handler: bot.HandlerFunc(s.confirm), BypassGate: true, Exclusive: true},
		{Name: "forget-me-cancel", Match: bot.Action(ActionCancel), Handler: bot.HandlerFunc(s.cancel), BypassGate: true},
	}
}

func who(ev *bot.Event) string { return ev.User.Platform + "/" + ev.User.ID }

func (s *Service) forgetMe(ctx context.Context, ev *bot.Event) ([]bot.Reply, error) {
	if strings.EqualFold(strings.TrimSpace(ev.Args), "confirm") {
		return s.erase(ctx, ev)
	}
	s.mu.Lock()
	s.pending[who(ev)] = s.clock.Now()
	s.mu.Unlock()
	return []bot.Reply{{Text: s.text(ev.Lang, "forget_me_confirm"), Notice: true, Buttons: []bot.Button{
		{Label: s.label(ev.Lang, "Yes, delete my data", "Ja, meine Daten löschen"), Action: ActionConfirm, Value: ev.User.ID},
		{Label: s.label(ev.Lang, "Cancel", "Abbrechen"), Action: ActionCancel, Value: ev.User.ID},
	}}}, nil
}

func (s *Service) label(lang, en, de string) string {
	if lang == "de" {
		return de
	}
	return en
}

func (s *Service) confirm(ctx context.Context, ev *bot.Event) ([]bot.Reply, error) {
	if ev.Value != ev.User.ID {
		return nil, nil // someone else's button: nothing to do for them
	}
	s.mu.Lock()
	asked, ok := s.pending[who(ev)]
	delete(s.pending, who(ev))
	s.mu.Unlock()
	if !ok || s.clock.Now().Sub(asked) > confirmWindow {
		return []bot.Reply{{Text: s.text(ev.Lang, "forget_me_expired"), Notice: true}}, nil
	}
	return s.erase(ctx, ev)
}

func (s *Service) cancel(_ context.Context, ev *bot.Event) ([]bot.Reply, error) {
	if ev.Value != ev.User.ID {
		return nil, nil
	}
	s.mu.Lock()
	delete(s.pending, who(ev))
	s.mu.Unlock()
	return []bot.Reply{{Text: s.text(ev.Lang, "forget_me_cancelled"), Notice: true}}, nil
}

func (s *Service) erase(ctx context.Context, ev *bot.Event) ([]bot.Reply, error) {
	if _, err := s.store.EraseUser(ctx, ev.User.Platform, ev.User.ID, "the member (/forget-me)"); err != nil {
		return nil, fmt.Errorf("privacy: forget me: %w", err)
	}
	return []bot.Reply{{Text: s.text(ev.Lang, "forget_me_done"), Notice: true}}, nil
}
