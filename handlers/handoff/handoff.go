// Package handoff lets support staff take over any thread: by command,
// button, reaction, or simply by writing in a thread the bot serves. While
// staff own a thread the core keeps the bot silent there (observers still
// log). Hand-back is by command, button or after a quiet time. Escalations
// (a user asks for a human, the bot does not know, a bad rating, strong
// negativity, sensitive topics) post once per thread to the staff channel
// with Take over / Dismiss buttons.
package handoff

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"regexp"
	"strings"
	"time"

	"github.com/einsatz/einsatz/bot"
	"github.com/einsatz/einsatz/bot/escalation"
	"github.com/einsatz/einsatz/bot/lang"
)

// Owners keeps who owns which thread; storage.Store implements it.
type Owners interface {
	Owner(ctx context.Context, thread bot.ThreadRef) (bot.Owner, error)
	SetOwner(ctx context.Context, thread bot.ThreadRef, o bot.Owner) error
	TouchOwner(ctx context.Context, thread bot.ThreadRef, at time.Time) error
	Owned(ctx context.Context) []bot.OwnedThread
}

// Hours are when staff are around; outside them a user asking for a human
// is told when they are back.
type Hours struct {
	Location *time.Location
	Days     map[time.Weekday]bool
	From, To time.Duration // since midnight
}

// Open reports whether t falls inside the hours.
func (h *Hours) Open(t time.Time) bool {
	if h == nil {
		return true
	}
	t = t.In(h.Location)
	since := time.Duration(t.Hour())*time.Hour + time.Duration(t.Minute())*time.Minute
	return h.Days[t.Weekday()] && since >= h.From && since < h.To
}

// Next is the next opening time after t. From is wall-clock time, so the
// opening stays at From on days the clocks change.
func (h *Hours) Next(t time.Time) time.Time {
	t = t.In(h.Location)
	hh, mm := int(h.From/time.Hour), int(h.From%time.Hour/time.Minute)
	for i := 0; i < 8; i++ {
		open := time.Date(t.Year(), t.Month(), t.Day()+i, hh, mm, 0, 0, h.Location)
		if h.Days[open.Weekday()] && open.After(t) {
			return open
		}
	}
	return t
}

// Options configure the hand-off.
type Options struct {
	Store  escalation.Store
	Owners Owners
	Poster bot.Poster
	Clock  bot.Clock
	Logger *slog.Logger
	// Text returns community-facing texts: takeover, release, staff_only,
	// handoff_asked, handoff_after_hours ({when}).
	Text func(lang, key string) string

	StaffChannel bot.ThreadRef // where escalations go; empty: nowhere
	Mention      string        // prepended to escalations (an on-call role or group), optional
	AutoTakeover bool          // a staff message in a thread the bot serves takes it over
	ReleaseAfter time.Duration // hand back after this long without a staff message; 0: never
	Reaction     string        // a staff reaction that takes a thread over, e.g. "✋"; "" = off
	Hours        *Hours        // nil: staff are always around
	SLA          time.Duration // first staff response due within this, counted in Hours; 0: no clock
	Sensitive    []string      // topics that always escalate (billing, security, legal, …)
	// SLAWarnAt is the share of SLA after which the "about to breach"
	// notice goes out (0.8 for 80 %); 0 = DefaultSLAWarnAt.
	SLAWarnAt float64
	// Avatars are pictures (URLs) of staff by name, for desk replies
	// posted in their name (staff.web[].avatar).
	Avatars map[string]string

	// Summarize, when set, writes an escalation's summary from the asker's
	// last messages (main wires the LLM and redacts there). nil, an error or
	// an empty answer: the messages themselves stand in.
	Summarize func(ctx context.Context, lang string, messages []string) (string, error)
	// Sentiment, when set, scores the asker's last message for the
	// escalation notice.
	Sentiment func(text, lang string) (label string, score float64)
	// Relays keeps the relay's records (storage.Relay); with it, and a
	// Poster that is a Messenger (bot.Bot), each escalation opens a staff
	// thread in StaffChannel that relays both ways. nil: no relay.
	Relays escalation.RelayStore
	// NotePrefix starts a staff-only note in a staff thread; "" = "//".
	NotePrefix string
	// History reads a thread's recent turns for the desk's transcript;
	// storage.Store implements it. nil: no transcript.
	History Transcripts
}

// Transcripts reads a thread's last n turns, oldest first.
type Transcripts interface {
	History(ctx context.Context, thread bot.ThreadRef, n int) ([]bot.Turn, error)
}

// Service is the hand-off.
type Service struct {
	o         Options
	sensitive *regexp.Regexp
}

// New returns the hand-off service.
func New(o Options) *Service {
	if o.Clock == nil {
		o.Clock = bot.SystemClock{}
	}
	if o.Logger == nil {
		o.Logger = slog.Default()
	}
	s := &Service{o: o}
	if len(o.Sensitive) > 0 {
		words := make([]string, len(o.Sensitive))
		for i, w := range o.Sensitive {
			words[i] = regexp.QuoteMeta(strings.ToLower(w))
		}
		s.sensitive = regexp.MustCompile(`\b(` + strings.Join(words, "|") + `)`)
	}
	return s
}

// Actions of the buttons the hand-off uses.
const (
	ActionHuman   = "handoff"         // "Talk to a human" on an answer
	ActionTake    = "handoff_take"    // "Take over" on an escalation
	ActionDismiss = "handoff_dismiss" // "Dismiss" on an escalation
	ActionRelease = "handoff_release" // "Hand back" on a takeover notice
)

// Routes are the hand-off's commands and buttons. Takeover and release run
// in staff-owned threads too.
func (s *Service) Routes() []bot.Route {
	return []bot.Route{
		{Name: "staff-thread", Match: s.inStaffThread, Handler: bot.HandlerFunc(silent), BypassGate: true},
		{Name: "takeover", Match: bot.Command("takeover"), Handler: bot.HandlerFunc(s.takeoverCmd), BypassGate: true,
			Spec: &bot.CommandSpec{Name: "takeover", Description: "Take this thread over: the bot stays silent here", StaffOnly: true}},
		{Name: "release", Match: bot.Command("release"), Handler: bot.HandlerFunc(s.releaseCmd), BypassGate: true,
			Spec: &bot.CommandSpec{Name: "release", Description: "Hand this thread back to the bot", StaffOnly: true}},
		{Name: "release-button", Match: bot.Action(ActionRelease), Handler: bot.HandlerFunc(s.releaseCmd), BypassGate: true},
		{Name: "take-button", Match: bot.Action(ActionTake), Handler: bot.HandlerFunc(s.takeButton), BypassGate: true},
		{Name: "dismiss-button", Match: bot.Action(ActionDismiss), Handler: bot.HandlerFunc(s.dismissButton), BypassGate: true},
		{Name: "human-button", Match: bot.Action(ActionHuman), Handler: bot.HandlerFunc(s.humanRequest)},
		// With readings (bot.Options.Read) the reading decides; without, the words.
		{Name: "human", Match: func(ev *bot.Event) bool {
			return ev.Kind == bot.KindMessage && (ev.Reading == bot.ReadingHuman || ev.Reading == "" && AsksForHuman(ev.Text))
		}, Handler: bot.HandlerFunc(s.humanRequest)},
		{Name: "frustration", Match: bot.Reads(bot.ReadingFrustration), Handler: bot.HandlerFunc(s.frustration)},
	}
}

func (s *Service) text(lang, key string) string {
	if s.o.Text == nil {
		return key
	}
	return s.o.Text(lang, key)
}

func (s *Service) refuse(ev *bot.Event) []bot.Reply {
	return []bot.Reply{{Text: s.text(ev.Lang, "staff_only"), Notice: true}}
}

func (s *Service) takeoverCmd(ctx context.Context, ev *bot.Event) ([]bot.Reply, error) {
	if !ev.User.Staff {
		return s.refuse(ev), nil
	}
	wasBot, err := s.take(ctx, ev.Thread(), ev.User, false)
	if err != nil || !wasBot {
		return nil, err
	}
	return []bot.Reply{s.takeoverNotice(ev.Lang)}, nil
}

func (s *Service) takeoverNotice(lang string) bot.Reply {
	return bot.Reply{Text: s.text(lang, "takeover"), Notice: true,
		Buttons: []bot.Button{{Label: "Hand back to the bot", Action: ActionRelease}}}
}

func (s *Service) releaseCmd(ctx context.Context, ev *bot.Event) ([]bot.Reply, error) {
	if !ev.User.Staff {
		return s.refuse(ev), nil
	}
	released, err := s.release(ctx, ev.Thread(), ev.User.DisplayName())
	if err != nil || !released {
		return nil, err
	}
	// Not a notice: "I'm back" is the bot speaking in the thread again, and
	// recorded so, the thread counts as one the bot serves.
	return []bot.Reply{{Text: s.text(ev.Lang, "release")}}, nil
}

// take gives the thread to a staff member and claims its escalation. It
// reports whether the bot owned the thread until now: only then is the
// takeover notice due (the bot says once that it stays silent).
func (s *Service) take(ctx context.Context, thread bot.ThreadRef, staff bot.User, auto bool) (bool, error) {
	now := s.o.Clock.Now()
	name := staff.DisplayName()
	by := name
	if auto {
		by = name + " (wrote in the thread)"
	}
	before, err := s.o.Owners.Owner(ctx, thread)
	if err != nil {
		return false, fmt.Errorf("handoff: take over: %w", err)
	}
	if err := s.o.Owners.SetOwner(ctx, thread, bot.Owner{Staff: name, Since: now, By: by, LastActive: now}); err != nil {
		return false, fmt.Errorf("handoff: take over: %w", err)
	}
	return before.Bot(), s.step(ctx, thread, escalation.ActionClaim, name, "")
}

// step moves the thread's latest escalation, if there is one and the step
// is allowed; a thread without an escalation, or one the step does not
// apply to (a claim of what one holds), is no error here.
func (s *Service) step(ctx context.Context, thread bot.ThreadRef, action, actor, text string) error {
	e, err := s.o.Store.UpdateEscalation(ctx, thread, func(e *escalation.Escalation) error {
		return e.Apply(action, actor, s.o.Clock.Now(), text)
	})
	if err != nil && !errors.Is(err, escalation.ErrNotFound) && !errors.Is(err, escalation.ErrIllegal) {
		return err
	}
	if err == nil {
		s.closeStaffThread(ctx, e, action, actor)
	}
	return nil
}

// release hands the thread back; it reports false when the bot owned it.
func (s *Service) release(ctx context.Context, thread bot.ThreadRef, by string) (bool, error) {
	o, err := s.o.Owners.Owner(ctx, thread)
	if err != nil || o.Bot() {
		return false, err
	}
	now := s.o.Clock.Now()
	if err := s.o.Owners.SetOwner(ctx, thread, bot.Owner{Since: now, By: by}); err != nil {
		return false, fmt.Errorf("handoff: hand back: %w", err)
	}
	return true, s.step(ctx, thread, escalation.ActionHandBack, by, "")
}

// escalationFor finds the escalation a staff-channel button points at.
func (s *Service) escalationFor(ctx context.Context, ev *bot.Event) (escalation.Escalation, error) {
	all, err := s.o.Store.Escalations(ctx)
	if err != nil {
		return escalation.Escalation{}, err
	}
	for _, e := range all {
		if e.Thread.Key() == ev.Value {
			e.Normalize()
			return e, nil
		}
	}
	return escalation.Escalation{}, fmt.Errorf("handoff: no escalation for %q", ev.Value)
}

func (s *Service) takeButton(ctx context.Context, ev *bot.Event) ([]bot.Reply, error) {
	if !ev.User.Staff {
		return s.refuse(ev), nil
	}
	e, err := s.escalationFor(ctx, ev)
	if err != nil {
		return nil, err
	}
	wasBot, err := s.take(ctx, e.Thread, ev.User, false)
	if err != nil {
		return nil, err
	}
	if wasBot {
		if err := s.o.Poster.Post(ctx, e.Thread, s.takeoverNotice(e.Lang)); err != nil {
			s.o.Logger.Error("handoff: takeover notice", "thread", e.Thread.Key(), "err", err)
		}
	}
	return []bot.Reply{{Text: fmt.Sprintf("%s took over %s.", ev.User.DisplayName(), e.Thread.Key()), Notice: true}}, nil
}

func (s *Service) dismissButton(ctx context.Context, ev *bot.Event) ([]bot.Reply, error) {
	if !ev.User.Staff {
		return s.refuse(ev), nil
	}
	e, err := s.escalationFor(ctx, ev)
	if err != nil {
		return nil, err
	}
	if _, err := s.Act(ctx, e.ID, escalation.ActionDismiss, ev.User.DisplayName(), ""); err != nil {
		if errors.Is(err, escalation.ErrIllegal) {
			return []bot.Reply{{Text: fmt.Sprintf("The escalation of %s is %s: it cannot be dismissed now.", e.Thread.Key(), e.Status), Notice: true}}, nil
		}
		return nil, err
	}
	return []bot.Reply{{Text: fmt.Sprintf("%s dismissed the escalation of %s.", ev.User.DisplayName(), e.Thread.Key()), Notice: true}}, nil
}

// humanRequest: the user asked for a person (words or the button).
func (s *Service) humanRequest(ctx context.Context, ev *bot.Event) ([]bot.Reply, error) {
	if err := s.Escalate(ctx, ev, "asked for a human", ""); err != nil {
		return nil, err
	}
	now := s.o.Clock.Now()
	if !s.o.Hours.Open(now) {
		when := s.o.Hours.Next(now).Format("Mon 15:04 MST")
		return []bot.Reply{{Text: strings.ReplaceAll(s.text(ev.Lang, "handoff_after_hours"), "{when}", when)}}, nil
	}
	return []bot.Reply{{Text: s.text(ev.Lang, "handoff_asked")}}, nil
}

// frustration: an angry or frustrated member gets empathy and a person,
// not an answer from the docs; staff see the reason.
func (s *Service) frustration(ctx context.Context, ev *bot.Event) ([]bot.Reply, error) {
	if err := s.Escalate(ctx, ev, ReasonFrustration, ""); err != nil {
		return nil, err
	}
	return []bot.Reply{{Text: s.text(ev.Lang, "handoff_frustration")}}, nil
}

// ReasonFrustration is the escalation reason of a complaint.
const ReasonFrustration = "frustration"

var asksHuman = regexp.MustCompile(`(?i)\b(` +
	`(talk|speak|chat)\s+(to|with)\s+(a|an|some)?\s*(real\s+)?(human|person|agent|someone|somebody|staff|support|team member)|` +
	`real\s+(human|person)|human\s+please|get\s+me\s+a\s+human|` +
	`(need|want|like)\s+(a|an|to\s+talk\s+to\s+a)\s+(real\s+)?(human|person|agent)\b|` +
	`menschliche[nr]?\s+(support|hilfe|ansprechpartner\w*)|` +
	`kann\s+mir\s+(bitte\s+)?(ein|eine)\s+(mitarbeiter(in)?|mensch)\s+(helfen|antworten)|` +
	`(mit\s+)?(einem|nem)\s+(echten\s+)?(menschen|mitarbeiter|mitarbeiterin|support)\s+(sprechen|reden|schreiben)|` +
	`echte[nrs]?\s+(menschen|person|mitarbeiter)|mensch\s+bitte|` +
	`kann\s+mir\s+(bitte\s+)?(jemand|einer)\s+vom\s+(team|support)` +
	`)`)

// AsksForHuman tells whether a message asks for a person (English and German).
func AsksForHuman(text string) bool { return asksHuman.MatchString(text) }

// Escalate posts the thread to the staff channel, once while it is open. It
// implements the Escalator interfaces of the answer and monitor packages.
func (s *Service) Escalate(ctx context.Context, ev *bot.Event, reason, summary string) error {
	msgs := askerMessages(ev, 3)
	if summary == "" {
		summary = quote(msgs)
	}
	now := s.o.Clock.Now()
	e := escalation.Escalation{ID: escalation.IDOf(ev.Thread(), now), Thread: ev.Thread(), User: ev.User, Lang: ev.Lang, Reason: reason,
		Summary: summary, Permalink: ev.Permalink, Created: now, Status: escalation.StatusOpen}
	if s.o.Sentiment != nil && len(msgs) > 0 {
		label, score := s.o.Sentiment(msgs[len(msgs)-1], ev.Lang)
		e.Sentiment = fmt.Sprintf("%s (%.2f)", label, score)
	}
	created, err := s.o.Store.OpenEscalation(ctx, e)
	if err != nil || !created {
		return err
	}
	// The LLM's summary is asked for only once the escalation is new (one
	// call per escalation, not per trigger).
	if s.o.Summarize != nil && len(msgs) > 0 {
		sum, err := s.o.Summarize(ctx, ev.Lang, msgs)
		switch {
		case err != nil:
			s.o.Logger.Warn("handoff: the LLM could not summarise; the last messages stand in", "thread", e.Thread.Key(), "err", err)
		case strings.TrimSpace(sum) != "":
			e.Summary = "Summary: " + lang.Excerpt(sum, 200)
			// Stored only if the escalation is still this one, unchanged in
			// the meantime (an erasure of the member may have anonymised it).
			cur, ok, err := s.o.Store.Escalation(ctx, e.Thread)
			switch {
			case err != nil:
				s.o.Logger.Error("handoff: re-reading the escalation; staff are told all the same", "thread", e.Thread.Key(), "err", err)
			case !ok || !cur.Created.Equal(e.Created) || cur.Summary != summary:
				return nil // gone or changed meanwhile (an erasure): no notice with the member's words
			default:
				if err := s.o.Store.PutEscalation(ctx, e); err != nil {
					s.o.Logger.Error("handoff: storing the summary; staff are told all the same", "thread", e.Thread.Key(), "err", err)
				}
			}
		}
	}
	if s.o.StaffChannel.ChannelID == "" || s.o.Poster == nil {
		s.o.Logger.Warn("handoff: escalation without a staff channel (set staff.channel)", "thread", e.Thread.Key(), "reason", reason)
		return nil
	}
	r := bot.Reply{Text: escalationText(e), Ping: s.o.Mention, Buttons: []bot.Button{
		{Label: "Take over", Action: ActionTake, Value: e.Thread.Key()},
		{Label: "Dismiss", Action: ActionDismiss, Value: e.Thread.Key()},
	}}
	if m, ok := s.messenger(); ok {
		// The notice is the root of the escalation's staff thread.
		r.Text += transcript(ev)
		id, err := m.Publish(ctx, s.o.StaffChannel, r)
		if err != nil {
			return fmt.Errorf("handoff: post escalation: %w", err)
		}
		if id == "" {
			return nil // the platform cannot tell the notice's id: no staff thread
		}
		if err := s.openStaffThread(ctx, m, e, id, ev); err != nil {
			return fmt.Errorf("handoff: open staff thread: %w", err)
		}
		return nil
	}
	if err := s.o.Poster.Post(ctx, s.o.StaffChannel, r); err != nil {
		return fmt.Errorf("handoff: post escalation: %w", err)
	}
	return nil
}

// escalationText is the staff channel's notice. The member's name and
// words (and a summary of them) are escaped: they must not turn into links
// or mentions there.
func escalationText(e escalation.Escalation) string {
	var b strings.Builder
	who := e.User.Name
	if who == "" {
		who = e.User.ID
	}
	fmt.Fprintf(&b, "Escalation (%s): %s in %s/%s needs a person.", bot.EscapeMarkdown(e.Reason), bot.EscapeMarkdown(who),
		bot.EscapeMarkdown(e.Thread.Platform), bot.EscapeMarkdown(e.Thread.ChannelID))
	if e.Summary != "" {
		b.WriteString("\n" + summaryMarkdown(e.Summary))
	}
	if e.Sentiment != "" {
		b.WriteString("\nSentiment: " + e.Sentiment)
	}
	if e.Permalink != "" {
		b.WriteString("\n" + e.Permalink)
	}
	return b.String()
}

// summaryMarkdown escapes a stored summary line by line, keeping the two
// prefixes Escalate writes itself: "> " before quoted messages and
// "Summary: " before the model's.
func summaryMarkdown(summary string) string {
	lines := strings.Split(summary, "\n")
	for i, l := range lines {
		prefix := ""
		for _, p := range []string{"> ", "Summary: "} {
			if strings.HasPrefix(l, p) {
				prefix = p
				break
			}
		}
		lines[i] = prefix + bot.EscapeMarkdown(l[len(prefix):])
	}
	return strings.Join(lines, "\n")
}

// askerMessages are the asker's last n messages, the current one included
// (only theirs: an erasure of someone else must not leave their words in
// this escalation).
func askerMessages(ev *bot.Event, n int) []string {
	var msgs []string
	for _, t := range ev.History {
		if t.Role == bot.RoleUser && t.UserID == ev.User.ID {
			msgs = append(msgs, t.Text)
		}
	}
	if ev.Kind == bot.KindMessage && ev.Text != "" {
		msgs = append(msgs, ev.Text)
	}
	if len(msgs) > n {
		msgs = msgs[len(msgs)-n:]
	}
	return msgs
}

// quote is the summary when no LLM wrote one: the messages, quoted.
func quote(msgs []string) string {
	lines := make([]string, len(msgs))
	for i, m := range msgs {
		lines[i] = "> " + lang.Excerpt(m, 200)
	}
	return strings.Join(lines, "\n")
}

// Observe takes a thread over when staff write in it (or react with the
// takeover emoji), keeps staff-owned threads from being handed back while
// staff are active, and escalates sensitive topics.
func (s *Service) Observe(ctx context.Context, ev *bot.Event) error {
	if ev.Replayed {
		return nil // history: nobody is waiting for staff
	}
	if member, ok, err := s.memberThreadOf(ctx, ev); err != nil || ok {
		if err != nil {
			return err
		}
		return s.fromStaff(ctx, ev, member)
	}
	err := s.observe(ctx, ev)
	// After a reopen: the member's message reaches the staff thread too.
	return errors.Join(err, s.toStaffThread(ctx, ev))
}

func (s *Service) observe(ctx context.Context, ev *bot.Event) error {
	thread := ev.Thread()
	now := s.o.Clock.Now()
	switch {
	case ev.Kind == bot.KindReaction && ev.User.Staff && s.o.Reaction != "" && bot.SameEmoji(ev.Reaction, s.o.Reaction) && !ev.Removed:
		owner, err := s.o.Owners.Owner(ctx, thread)
		if err != nil || !owner.Bot() {
			return err
		}
		if _, err := s.take(ctx, thread, ev.User, false); err != nil {
			return err
		}
		return s.o.Poster.Post(ctx, thread, s.takeoverNotice(ev.Lang))
	case ev.Kind == bot.KindMessage && ev.User.Staff:
		owner, err := s.o.Owners.Owner(ctx, thread)
		if err != nil {
			return err
		}
		if !owner.Bot() {
			// Staff writing in their thread answer the escalation.
			if err := s.o.Owners.TouchOwner(ctx, thread, now); err != nil {
				return err
			}
			return s.step(ctx, thread, escalation.ActionReply, ev.User.DisplayName(), lang.Excerpt(ev.Text, 80))
		}
		if s.o.AutoTakeover && servedByBot(ev.History) && bot.OthersInThread(ev.History, ev.User.ID) {
			if _, err := s.take(ctx, thread, ev.User, true); err != nil {
				return err
			}
			return s.o.Poster.Post(ctx, thread, s.takeoverNotice(ev.Lang))
		}
		return s.noteResponse(ctx, thread, now)
	case ev.Kind == bot.KindMessage:
		if err := s.reopen(ctx, ev); err != nil {
			return err
		}
		if s.sensitive != nil {
			if m := s.sensitive.FindString(strings.ToLower(ev.Text)); m != "" {
				return s.Escalate(ctx, ev, "sensitive topic: "+m, "")
			}
		}
	}
	return nil
}

// reopen: the member wrote again in a thread whose escalation staff
// closed; it goes back into the queue, and the staff channel hears it.
func (s *Service) reopen(ctx context.Context, ev *bot.Event) error {
	e, err := s.o.Store.UpdateEscalation(ctx, ev.Thread(), func(e *escalation.Escalation) error {
		if e.Status != escalation.StatusClosed || e.User.ID != ev.User.ID {
			return errSkip
		}
		return e.Apply(escalation.ActionReopen, ev.User.DisplayName(), s.o.Clock.Now(), "")
	})
	switch {
	case errors.Is(err, errSkip) || errors.Is(err, escalation.ErrNotFound) || errors.Is(err, escalation.ErrIllegal):
		return nil
	case err != nil:
		return err
	}
	s.toStaff(ctx, fmt.Sprintf("Escalation %s reopened: %s wrote again in %s.", e.ID, e.User.DisplayName(), e.Thread.Key()), e)
	return nil
}

// errSkip leaves an escalation unchanged without it being an error.
var errSkip = errors.New("handoff: nothing to change")

// toStaff posts a line about e to the staff channel, if there is one.
func (s *Service) toStaff(ctx context.Context, text string, e escalation.Escalation) {
	if s.o.StaffChannel.ChannelID == "" || s.o.Poster == nil {
		s.o.Logger.Info("handoff: "+text, "thread", e.Thread.Key())
		return
	}
	if err := s.o.Poster.Post(ctx, s.o.StaffChannel, bot.Reply{Text: text, Notice: true}); err != nil {
		s.o.Logger.Error("handoff: post to the staff channel", "escalation", e.ID, "err", err)
	}
}

// noteResponse marks the first staff reaction to an open escalation.
func (s *Service) noteResponse(ctx context.Context, thread bot.ThreadRef, now time.Time) error {
	_, err := s.o.Store.UpdateEscalation(ctx, thread, func(e *escalation.Escalation) error {
		if !e.Open() || !e.FirstResponse.IsZero() {
			return errSkip
		}
		e.FirstResponse = now
		return nil
	})
	if err != nil && !errors.Is(err, errSkip) && !errors.Is(err, escalation.ErrNotFound) {
		return err
	}
	return nil
}

func servedByBot(history []bot.Turn) bool {
	for _, t := range history {
		if t.Role == bot.RoleBot {
			return true
		}
	}
	return false
}

// Run hands threads back after ReleaseAfter without a staff message, until
// ctx ends; it looks every minute of the clock.
func (s *Service) Run(ctx context.Context) error {
	if s.o.ReleaseAfter <= 0 && s.o.SLA <= 0 {
		return nil
	}
	for {
		select {
		case <-ctx.Done():
			return nil
		case <-s.o.Clock.After(time.Minute):
		}
		if s.o.ReleaseAfter > 0 {
			if err := s.ReleaseIdle(ctx); err != nil && !errors.Is(err, context.Canceled) {
				s.o.Logger.Error("handoff: hand back idle threads", "err", err)
			}
		}
		if err := s.CheckSLA(ctx); err != nil && !errors.Is(err, context.Canceled) {
			s.o.Logger.Error("handoff: SLA clock", "err", err)
		}
	}
}

// Reclaim implements bot.Reclaimer: a member writing in a thread whose
// staff have been quiet for ReleaseAfter gets the bot back at once (and
// its answer), instead of waiting for the next sweep.
func (s *Service) Reclaim(ctx context.Context, ev *bot.Event) (bool, error) {
	if s.o.ReleaseAfter <= 0 || ev.Owner.Bot() {
		return false, nil
	}
	last := ev.Owner.LastActive
	if last.IsZero() {
		last = ev.Owner.Since
	}
	if s.o.Clock.Now().Sub(last) < s.o.ReleaseAfter {
		return false, nil
	}
	return s.release(ctx, ev.Thread(), "auto-release (member wrote)")
}

// ReleaseIdle hands back every thread whose staff have been quiet for
// ReleaseAfter, with a notice in the thread.
func (s *Service) ReleaseIdle(ctx context.Context) error {
	now := s.o.Clock.Now()
	var errs []error
	for _, t := range s.o.Owners.Owned(ctx) {
		last := t.Owner.LastActive
		if last.IsZero() {
			last = t.Owner.Since
		}
		if now.Sub(last) < s.o.ReleaseAfter {
			continue
		}
		released, err := s.release(ctx, t.Thread, "auto-release")
		if err != nil {
			errs = append(errs, err)
			continue
		}
		if released {
			if err := s.o.Poster.Post(ctx, t.Thread, bot.Reply{Text: s.text("", "release")}); err != nil {
				errs = append(errs, err)
			}
		}
	}
	return errors.Join(errs...)
}
