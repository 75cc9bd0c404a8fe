package handoff

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/einsatz/einsatz/bot"
	"github.com/einsatz/einsatz/bot/escalation"
	"github.com/einsatz/einsatz/bot/lang"
)

// The desk: what the dashboard and the CLI do with an escalation, by its
// ID. Every surface goes through Act, so the state machine and its audit
// are the same wherever staff work.

// ErrEmpty is returned for a reply or note without text.
var ErrEmpty = errors.New("handoff: the text is empty")

// ErrNoAction is returned for an action the desk does not take.
var ErrNoAction = errors.New("handoff: no such desk action")

// transcriptTurns bounds the transcript the desk shows.
const transcriptTurns = 50

// Find returns the escalation with the ID.
func (s *Service) Find(ctx context.Context, id string) (escalation.Escalation, error) {
	all, err := s.o.Store.Escalations(ctx)
	if err != nil {
		return escalation.Escalation{}, err
	}
	id = strings.TrimPrefix(strings.TrimSpace(id), "#")
	for _, e := range all {
		e.Normalize()
		if e.ID == id {
			return e, nil
		}
	}
	return escalation.Escalation{}, fmt.Errorf("%w: %q", escalation.ErrNotFound, id)
}

// Act does action (an escalation.Action*) on the escalation id as staff,
// with text for a reply or a note, and returns the escalation after it:
//
//   - claim: staff own the thread, the bot stays silent there and says so
//     once (only when it owned the thread until now);
//   - reply: text goes into the member's thread on its platform, in staff's
//     name (and claims the thread when nobody had);
//   - note: internal, only on the desk;
//   - close: done; the bot has the thread again, the member writing again
//     reopens it;
//   - dismiss: nothing to do; the bot has the thread again;
//   - hand_back: the bot has the thread again and says so; no reopening.
//
// A step the status does not allow returns an error wrapping
// escalation.ErrIllegal.
func (s *Service) Act(ctx context.Context, id, action, staff, text string) (escalation.Escalation, error) {
	return s.act(ctx, id, action, staff, text, relayed{})
}

// relayed is what a reply relayed from a staff thread adds to Act.
type relayed struct {
	avatar string          // the staff member's picture, where their platform told it
	posted func(id string) // learns the id of the reply's message in the member's thread ("" when the platform cannot tell)
}

// act is Act, for a reply relayed from a staff thread with via.
func (s *Service) act(ctx context.Context, id, action, staff, text string, via relayed) (escalation.Escalation, error) {
	text = strings.TrimSpace(text)
	if staff == "" {
		staff = "staff"
	}
	e, err := s.Find(ctx, id)
	if err != nil {
		return e, err
	}
	switch action {
	case escalation.ActionClaim, escalation.ActionClose, escalation.ActionDismiss, escalation.ActionHandBack:
	case escalation.ActionReply, escalation.ActionNote:
		if text == "" {
			return e, ErrEmpty
		}
	default:
		return e, fmt.Errorf("%w: %q", ErrNoAction, action)
	}
	// Refuse before anything reaches the member.
	trial := e
	trial.Changes = nil
	if err := trial.Apply(action, staff, s.o.Clock.Now(), ""); err != nil {
		return e, err
	}
	audit, msgID := text, ""
	switch action {
	case escalation.ActionClaim, escalation.ActionReply:
		wasBot, err := s.own(ctx, e.Thread, staff)
		if err != nil {
			return e, err
		}
		if wasBot {
			if err := s.o.Poster.Post(ctx, e.Thread, s.takeoverNotice(e.Lang)); err != nil {
				s.o.Logger.Error("handoff: takeover notice", "escalation", e.ID, "err", err)
			}
		}
		if action == escalation.ActionReply {
			if via.avatar == "" {
				via.avatar = s.o.Avatars[staff] // a desk account's picture
			}
			msgID, err = s.publish(ctx, e.Thread, bot.Reply{Text: text, AuthorName: staff, AuthorAvatar: via.avatar,
				AuthorMark: s.staffMark(e.Lang)})
			if err != nil {
				return e, fmt.Errorf("handoff: reply in %s: %w", e.Thread.Key(), err)
			}
			if via.posted != nil {
				via.posted(msgID)
			}
			audit = lang.Excerpt(text, 80)
		}
	case escalation.ActionClose, escalation.ActionDismiss, escalation.ActionHandBack:
		if err := s.giveBack(ctx, e.Thread, staff, action == escalation.ActionHandBack, e.Lang); err != nil {
			return e, err
		}
	}
	e, err = s.o.Store.UpdateEscalation(ctx, e.Thread, func(cur *escalation.Escalation) error {
		if !cur.Created.Equal(e.Created) {
			return fmt.Errorf("%w: a newer escalation replaced %s", escalation.ErrNotFound, e.ID)
		}
		if err := cur.Apply(action, staff, s.o.Clock.Now(), audit); err != nil {
			return err
		}
		if msgID != "" && len(cur.Changes) > 0 {
			cur.Changes[len(cur.Changes)-1].MessageID = msgID
		}
		return nil
	})
	if err == nil {
		s.closeStaffThread(ctx, e, action, staff)
	}
	return e, err
}

// ErrNoReply is returned for a reply the desk cannot change: unknown,
// deleted already, or posted where the platform did not tell its id.
var ErrNoReply = errors.New("handoff: no such staff reply to change")

// Revise edits a staff reply the escalation posted into the member's
// thread (found by its message id) to text, or deletes it (remove). The
// reply keeps its author; the change is marked on the escalation's
// history. The member's open web chat, Discord or Slack thread follows.
func (s *Service) Revise(ctx context.Context, id, messageID, staff, text string, remove bool) (escalation.Escalation, error) {
	text = strings.TrimSpace(text)
	if !remove && text == "" {
		return escalation.Escalation{}, ErrEmpty
	}
	e, err := s.Find(ctx, id)
	if err != nil {
		return e, err
	}
	author := ""
	for _, c := range e.Changes {
		if c.Action == escalation.ActionReply && messageID != "" && c.MessageID == messageID && !c.Deleted {
			author = c.Actor
		}
	}
	m, ok := s.o.Poster.(Messenger)
	if author == "" || !ok {
		return e, ErrNoReply
	}
	if remove {
		err = m.DeleteMessage(ctx, e.Thread, messageID)
	} else {
		err = m.EditMessage(ctx, e.Thread, messageID, bot.Reply{Text: text, AuthorName: author, AuthorMark: s.staffMark(e.Lang)})
	}
	if err != nil {
		return e, fmt.Errorf("handoff: change reply in %s: %w", e.Thread.Key(), err)
	}
	s.o.Logger.Info("handoff: staff reply changed from the desk", "escalation", e.ID, "by", staff, "deleted", remove)
	return s.o.Store.UpdateEscalation(ctx, e.Thread, func(cur *escalation.Escalation) error {
		for i := range cur.Changes {
			c := &cur.Changes[i]
			if c.Action != escalation.ActionReply || c.MessageID != messageID {
				continue
			}
			if remove {
				c.Deleted = true
			} else {
				c.Text, c.Edited = lang.Excerpt(text, 80), true
			}
		}
		return nil
	})
}

// own gives the thread to staff (or keeps it theirs, and active); it
// reports whether the bot owned it until now.
func (s *Service) own(ctx context.Context, thread bot.ThreadRef, staff string) (bool, error) {
	now := s.o.Clock.Now()
	o, err := s.o.Owners.Owner(ctx, thread)
	if err != nil {
		return false, fmt.Errorf("handoff: take over: %w", err)
	}
	if !o.Bot() {
		return false, s.o.Owners.TouchOwner(ctx, thread, now)
	}
	if err := s.o.Owners.SetOwner(ctx, thread, bot.Owner{Staff: staff, Since: now, By: staff + " (desk)", LastActive: now}); err != nil {
		return false, fmt.Errorf("handoff: take over: %w", err)
	}
	return true, nil
}

// giveBack returns the thread to the bot; announce says so in the thread.
func (s *Service) giveBack(ctx context.Context, thread bot.ThreadRef, staff string, announce bool, lng string) error {
	o, err := s.o.Owners.Owner(ctx, thread)
	if err != nil || o.Bot() {
		return err
	}
	if err := s.o.Owners.SetOwner(ctx, thread, bot.Owner{Since: s.o.Clock.Now(), By: staff}); err != nil {
		return fmt.Errorf("handoff: hand back: %w", err)
	}
	if announce {
		if err := s.o.Poster.Post(ctx, thread, bot.Reply{Text: s.text(lng, "release")}); err != nil {
			s.o.Logger.Error("handoff: hand-back notice", "thread", thread.Key(), "err", err)
		}
	}
	return nil
}

// Filter picks escalations for the queue.
type Filter struct {
	// State: "open" (open, claimed or answered: the default of the desk),
	// "unclaimed", "mine" (claimed by Staff), "closed" (closed or
	// dismissed), "all", or one status.
	State    string
	Staff    string // who "mine" is
	Platform string
	Channel  string
}

// Match reports whether e passes the filter.
func (f Filter) Match(e escalation.Escalation) bool {
	e.Normalize()
	if f.Platform != "" && e.Thread.Platform != f.Platform || f.Channel != "" && e.Thread.ChannelID != f.Channel {
		return false
	}
	switch f.State {
	case "", "all":
		return true
	case "open":
		return e.Open()
	case "unclaimed":
		return e.Status == escalation.StatusOpen
	case "mine":
		return e.Open() && e.ClaimedBy != "" && e.ClaimedBy == f.Staff
	case "closed":
		return !e.Open()
	}
	return e.Status == f.State
}

// Queue lists the escalations that pass f, newest first.
func Queue(ctx context.Context, store Lister, f Filter) ([]escalation.Escalation, error) {
	all, err := store.Escalations(ctx)
	if err != nil {
		return nil, err
	}
	var out []escalation.Escalation
	for _, e := range all {
		e.Normalize()
		if f.Match(e) {
			out = append(out, e)
		}
	}
	return out, nil
}

// Queue lists the escalations that pass f, newest first.
func (s *Service) Queue(ctx context.Context, f Filter) ([]escalation.Escalation, error) {
	return Queue(ctx, s.o.Store, f)
}

// Ticket is an escalation as the desk shows it: with the thread's recent
// transcript (the bot's answers with their sources, staff replies) and
// its SLA clock.
type Ticket struct {
	escalation.Escalation
	Transcript []bot.Turn `json:"transcript"`
	SLA        SLAState   `json:"sla"`
	Owner      bot.Owner  `json:"owner"`
}

// Ticket returns the escalation with the ID, its transcript and clock.
func (s *Service) Ticket(ctx context.Context, id string) (Ticket, error) {
	e, err := s.Find(ctx, id)
	if err != nil {
		return Ticket{}, err
	}
	t := Ticket{Escalation: e, SLA: s.SLAOf(e, s.o.Clock.Now())}
	if s.o.History != nil {
		if t.Transcript, err = s.o.History.History(ctx, e.Thread, transcriptTurns); err != nil {
			return t, fmt.Errorf("handoff: transcript of %s: %w", e.ID, err)
		}
	}
	if s.o.Owners != nil {
		if t.Owner, err = s.o.Owners.Owner(ctx, e.Thread); err != nil {
			return t, err
		}
	}
	return t, nil
}

// Now is the service's clock (the desk shows times against it).
func (s *Service) Now() time.Time { return s.o.Clock.Now() }

// SLAState is an escalation's SLA clock.
type SLAState struct {
	On bool `json:"on"` // an SLA is configured
	// Met: the first staff response came within the SLA; Breached: it came
	// late or is overdue. Neither: still running.
	Met      bool          `json:"met,omitempty"`
	Breached bool          `json:"breached,omitempty"`
	Left     time.Duration `json:"left,omitempty"` // working time left while running (negative: overdue)
	Warn     bool          `json:"warn,omitempty"` // running and SLAWarnAt used: about to breach
}

// DefaultSLAWarnAt is the share of the SLA after which staff are warned
// when Options.SLAWarnAt is not set (handoff.sla_warn_at: 80%).
const DefaultSLAWarnAt = 0.8

func (s *Service) warnShare() float64 {
	if s.o.SLAWarnAt <= 0 || s.o.SLAWarnAt > 1 {
		return DefaultSLAWarnAt
	}
	return s.o.SLAWarnAt
}

// SLAOf is e's SLA clock at now.
func (s *Service) SLAOf(e escalation.Escalation, now time.Time) SLAState {
	if s.o.SLA <= 0 {
		return SLAState{}
	}
	st := SLAState{On: true}
	if !e.FirstResponse.IsZero() {
		st.Met = s.o.Hours.Working(e.Created, e.FirstResponse) <= s.o.SLA
		st.Breached = !st.Met
		return st
	}
	if !e.Open() {
		return st // closed without any staff response (legacy records)
	}
	used := s.o.Hours.Working(e.Created, now)
	st.Left = s.o.SLA - used
	st.Breached = st.Left < 0
	st.Warn = float64(used) >= s.warnShare()*float64(s.o.SLA)
	return st
}

// CheckSLA posts the about-to-breach notice to the staff channel, once per
// escalation, for every open escalation without a staff response whose
// SLA is used up to SLAWarnAt (80 % unless configured).
func (s *Service) CheckSLA(ctx context.Context) error {
	if s.o.SLA <= 0 {
		return nil
	}
	all, err := s.o.Store.Escalations(ctx)
	if err != nil {
		return err
	}
	now := s.o.Clock.Now()
	var errs []error
	for _, e := range all {
		e.Normalize()
		st := s.SLAOf(e, now)
		if e.Status != escalation.StatusOpen || !st.Warn || !e.SLANotice.IsZero() {
			continue
		}
		// Mark first: two sweeps at once post one notice.
		e, err := s.o.Store.UpdateEscalation(ctx, e.Thread, func(cur *escalation.Escalation) error {
			return cur.Apply(escalation.ActionSLA, "SLA clock", now, "")
		})
		if errors.Is(err, escalation.ErrIllegal) || errors.Is(err, escalation.ErrNotFound) {
			continue
		}
		if err != nil {
			errs = append(errs, err)
			continue
		}
		when := fmt.Sprintf("%s left", st.Left.Round(time.Minute))
		if st.Left < 0 {
			when = fmt.Sprintf("%s overdue", (-st.Left).Round(time.Minute))
		}
		text := fmt.Sprintf("SLA about to breach: escalation %s (%s) of %s in %s has no staff response yet, %s of %s.",
			e.ID, e.Reason, e.User.DisplayName(), e.Thread.Key(), when, s.o.SLA)
		if s.o.Mention != "" && s.o.StaffChannel.ChannelID != "" && s.o.Poster != nil {
			if err := s.o.Poster.Post(ctx, s.o.StaffChannel, bot.Reply{Text: text, Ping: s.o.Mention,
				Buttons: []bot.Button{{Label: "Take over", Action: ActionTake, Value: e.Thread.Key()}}}); err != nil {
				errs = append(errs, err)
			}
			continue
		}
		s.toStaff(ctx, text, e)
	}
	return errors.Join(errs...)
}

// Working is the time between from and to that falls inside the hours
// (all of it when h is nil): the SLA counts only while staff are around.
func (h *Hours) Working(from, to time.Time) time.Duration {
	if !to.After(from) {
		return 0
	}
	if h == nil {
		return to.Sub(from)
	}
	var sum time.Duration
	t := from.In(h.Location)
	for t.Before(to) {
		day := time.Date(t.Year(), t.Month(), t.Day(), 0, 0, 0, 0, h.Location)
		open, shut := day.Add(h.From), day.Add(h.To)
		if h.Days[t.Weekday()] && t.Before(shut) {
			start := t
			if start.Before(open) {
				start = open
			}
			end := shut
			if to.Before(end) {
				end = to
			}
			if end.After(start) {
				sum += end.Sub(start)
			}
		}
		t = day.AddDate(0, 0, 1)
	}
	return sum
}

// Escalations lists every escalation, newest first (a Lister).
func (s *Service) Escalations(ctx context.Context) ([]escalation.Escalation, error) {
	return Queue(ctx, s.o.Store, Filter{})
}
