// Package support measures and improves the bot's answers. It wraps the
// answer handler (Answers): every question asked is logged (redacted), with
// its outcome and sources; answers get "Helpful" / "Not helpful" buttons
// whose votes are stored with the question ("Not helpful" calls a person);
// in shadow channels the answer goes to the staff channel as a draft with
// "Send" / "Discard" instead of to the community; a question asked again in
// the same thread calls a person. Staff save a reply from a thread as a
// knowledge entry (/savereply or a 📌 reaction). From the log come the
// knowledge gaps (unanswered and badly rated questions, grouped by
// similarity) and the support numbers per channel and week, with
// resolution counted honestly.
package support

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"strings"

	"github.com/einsatz/einsatz/bot"
	"github.com/einsatz/einsatz/bot/lang"
	"github.com/einsatz/einsatz/bot/qa"
	"github.com/einsatz/einsatz/handlers/answer"
)

// Button actions.
const (
	ActionHelpful       = "feedback_up"
	ActionNotHelpful    = "feedback_down"
	ActionShadowSend    = "shadow_send"
	ActionShadowDiscard = "shadow_discard"
)

// Escalation reasons raised here.
const (
	ReasonNotHelpful = "not_helpful"
	ReasonRepeated   = "repeated"
)

// Text keys (community-facing; EN and DE defaults in DefaultTexts).
const (
	TextHelpful       = "feedback_helpful"     // label of the "Helpful" button
	TextNotHelpful    = "feedback_not_helpful" // label of the "Not helpful" button
	TextThanks        = "feedback_thanks"      // after a "Helpful" vote
	TextSorry         = "feedback_sorry"       // after a "Not helpful" vote; a person is asked
	TextReplySaved    = "reply_saved"          // staff saved a reply; placeholder {title}
	TextNoReplyToSave = "reply_none"           // nothing to save in the thread
	TextStaffOnly     = "staff_only"           // exists in the config already
)

// DefaultTexts are the shipped texts, English and German, for the keys
// above (config.Texts holds them once the lead adds them there).
var DefaultTexts = map[string][2]string{
	TextHelpful:       {"Helpful", "Hilfreich"},
	TextNotHelpful:    {"Not helpful", "Nicht hilfreich"},
	TextThanks:        {"Thanks for the feedback!", "Danke für die Rückmeldung!"},
	TextSorry:         {"Sorry that didn't help. I've asked the team to take a look; someone will reply here.", "Schade, dass das nicht geholfen hat. Ich habe das Team gebeten, sich das anzusehen; gleich antwortet dir hier jemand."},
	TextReplySaved:    {"Saved to the knowledge base: {title}", "In der Wissensdatenbank gespeichert: {title}"},
	TextNoReplyToSave: {"There is no team reply to a question in this thread to save.", "In diesem Thread gibt es keine Team-Antwort auf eine Frage, die ich speichern könnte."},
	TextStaffOnly:     {"Only team members can do that.", "Das können nur Teammitglieder."},
}

// Answerer is the answer handler (answer.Handler).
type Answerer interface {
	Answer(ctx context.Context, ev *bot.Event) (answer.Result, error)
}

// Escalator calls a person into a thread; the hand-off service implements it.
type Escalator interface {
	Escalate(ctx context.Context, ev *bot.Event, reason, summary string) error
}

// Options configure Answers.
type Options struct {
	Answer Answerer
	Store  qa.Store
	// Escalator is told of "Not helpful" votes and repeated questions; nil:
	// nobody.
	Escalator Escalator
	// Poster posts drafts to the staff channel and sent drafts to their
	// thread (bot.Bot.Post).
	Poster bot.Poster
	// StaffChannel is where shadow drafts go.
	StaffChannel bot.ThreadRef
	// Shadow reports whether a channel is in shadow mode; nil: none is.
	Shadow func(platform, channelID string) bool
	// AddKnowledge stores a knowledge entry (knowledge.Base.Add, see
	// AddTo); nil turns /savereply and the reaction off.
	AddKnowledge func(ctx context.Context, name, title, url, text string) error
	// SaveReaction is the staff reaction that saves a staff reply as
	// knowledge; default "📌" (Slack's "pushpin" is accepted too); "-" = off.
	SaveReaction string
	// Similarity is the token-set Jaccard similarity from which two
	// questions count as the same (repeated questions); default 0.5.
	Similarity float64
	// Text returns community-facing texts; missing ones come from DefaultTexts.
	Text   func(lang, key string) string
	Clock  bot.Clock
	Logger *slog.Logger
}

// DefaultSimilarity is the default of Options.Similarity and Settings.Similarity.
const DefaultSimilarity = 0.5

// Answers wraps the answer handler. Build it with New.
type Answers struct {
	o Options
}

// New returns the wrapper.
func New(o Options) *Answers {
	if o.Clock == nil {
		o.Clock = bot.SystemClock{}
	}
	if o.Logger == nil {
		o.Logger = slog.Default()
	}
	if o.Similarity <= 0 {
		o.Similarity = DefaultSimilarity
	}
	if o.SaveReaction == "" {
		o.SaveReaction = "📌"
	}
	return &Answers{o: o}
}

func (a *Answers) text(lang, key string) string {
	if a.o.Text != nil {
		if s := a.o.Text(lang, key); s != "" && s != key {
			return s
		}
	}
	d := DefaultTexts[key]
	if strings.HasPrefix(strings.ToLower(lang), "de") && d[1] != "" {
		return d[1]
	}
	if d[0] != "" {
		return d[0]
	}
	return key
}

// Handle answers through the answer handler, logs the question and, by
// channel, either returns the answer with feedback buttons or holds it
// back as a draft in the staff channel (shadow mode).
func (a *Answers) Handle(ctx context.Context, ev *bot.Event) ([]bot.Reply, error) {
	res, err := a.o.Answer.Answer(ctx, ev)
	if err != nil {
		return res.Replies, err
	}
	if res.Outcome == qa.OutcomeGreeting || res.Outcome == qa.OutcomeIgnored || res.Outcome == "" {
		return res.Replies, nil
	}
	q := qa.Question{
		Time: a.o.Clock.Now(), Thread: ev.Thread(), UserID: ev.User.ID, Lang: ev.Lang,
		Text: res.Question, Outcome: res.Outcome, Reading: string(ev.Reading), Permalink: ev.Permalink,
	}
	if q.Reading == "" {
		q.Reading = string(bot.ReadingQuestion) // a command (/ask) or a caller without readings
	}
	for _, r := range res.Replies {
		q.Sources = append(q.Sources, r.Sources...)
	}
	if res.Escalated {
		q.Escalations = append(q.Escalations, answer.ReasonDontKnow)
	}
	if a.repeated(ev) && a.escalate(ctx, ev, ReasonRepeated, "asked again: "+lang.Excerpt(res.Question, 200)) {
		q.Escalations = append(q.Escalations, ReasonRepeated)
	}
	shadow := a.o.Shadow != nil && a.o.Shadow(ev.Platform, ev.ChannelID)
	if shadow {
		q.Shadow = qa.ShadowPending
	}
	id, err := a.o.Store.AddQuestion(ctx, q)
	if err != nil {
		// Logging must not cost the user the answer.
		a.o.Logger.Error("support: log question", "err", err, "shadow", shadow)
		if shadow {
			return nil, nil // nothing goes to the community in shadow mode, not even an error notice
		}
		return res.Replies, nil
	}
	q.ID = id
	replies := a.decorate(res.Replies, ev.Lang, q)
	if !shadow {
		return replies, nil
	}
	return nil, a.draft(ctx, ev, q, replies)
}

// decorate adds "Helpful" / "Not helpful" to the answer's last reply.
func (a *Answers) decorate(replies []bot.Reply, lang string, q qa.Question) []bot.Reply {
	switch q.Outcome {
	case qa.OutcomeAnswered, qa.OutcomeExtractive, qa.OutcomeDegraded:
	default:
		return replies
	}
	if len(replies) == 0 {
		return replies
	}
	out := append([]bot.Reply(nil), replies...)
	last := &out[len(out)-1]
	last.Buttons = append(append([]bot.Button(nil), last.Buttons...),
		bot.Button{Label: a.text(lang, TextHelpful), Action: ActionHelpful, Value: q.ID},
		bot.Button{Label: a.text(lang, TextNotHelpful), Action: ActionNotHelpful, Value: q.ID},
	)
	return out
}

// escalate calls the Escalator; it reports whether it accepted.
func (a *Answers) escalate(ctx context.Context, ev *bot.Event, reason, summary string) bool {
	if a.o.Escalator == nil {
		return false
	}
	if err := a.o.Escalator.Escalate(context.WithoutCancel(ctx), ev, reason, summary); err != nil {
		a.o.Logger.Warn("support: escalation failed", "reason", reason, "err", err)
		return false
	}
	return true
}

// repeated reports whether the event's question is like one the same user
// asked earlier in the thread and the bot answered.
func (a *Answers) repeated(ev *bot.Event) bool {
	if ev.Kind != bot.KindMessage && ev.Kind != bot.KindCommand {
		return false
	}
	text := ev.Text
	if ev.Kind == bot.KindCommand {
		text = ev.Args
	}
	now := Terms(text, ev.Lang)
	if len(now) == 0 {
		return false
	}
	h := ev.History
	for i, t := range h {
		if t.Role != bot.RoleUser || t.UserID != ev.User.ID {
			continue
		}
		answered := false
		for _, later := range h[i+1:] {
			if later.Role == bot.RoleBot {
				answered = true
				break
			}
			if later.Role == bot.RoleUser && later.UserID == ev.User.ID {
				break // a later question of theirs: that one was answered, if any
			}
		}
		if answered && Similarity(now, Terms(t.Text, ev.Lang)) >= a.o.Similarity {
			return true
		}
	}
	return false
}

// draft stores the held-back answer and posts it to the staff channel.
func (a *Answers) draft(ctx context.Context, ev *bot.Event, q qa.Question, replies []bot.Reply) error {
	d := qa.Draft{ID: q.ID, Thread: q.Thread, UserID: q.UserID, Lang: q.Lang, Replies: replies, Status: qa.ShadowPending, Created: q.Time}
	if err := a.o.Store.PutDraft(ctx, d); err != nil {
		return fmt.Errorf("support: store draft: %w", err)
	}
	if a.o.StaffChannel.ChannelID == "" || a.o.Poster == nil {
		a.o.Logger.Warn("support: shadow draft without a staff channel (set staff.channel)", "thread", q.Thread.Key())
		return nil
	}
	var b strings.Builder
	who := ev.User.Name
	if who == "" {
		who = ev.User.ID
	}
	// The member's name and question are escaped: no links or mentions
	// from them in the staff channel.
	fmt.Fprintf(&b, "Shadow draft (%s) for %s in %s/%s:\n> %s\n\nDraft answer:\n", q.Outcome, bot.EscapeMarkdown(who), q.Thread.Platform, q.Thread.ChannelID,
		bot.EscapeMarkdown(lang.Excerpt(q.Text, 200)))
	for _, r := range replies {
		b.WriteString(strings.TrimSpace(r.Text))
		b.WriteString("\n")
		for _, s := range r.Sources {
			ref := s.URL
			if ref == "" {
				ref = s.Path
			}
			fmt.Fprintf(&b, "- %s (%s)\n", s.Title, ref)
		}
	}
	if ev.Permalink != "" {
		b.WriteString(ev.Permalink + "\n")
	}
	post := bot.Reply{Text: strings.TrimSpace(b.String()), Buttons: []bot.Button{
		{Label: "Send", Action: ActionShadowSend, Value: q.ID},
		{Label: "Discard", Action: ActionShadowDiscard, Value: q.ID},
	}}
	if err := a.o.Poster.Post(ctx, a.o.StaffChannel, post); err != nil {
		return fmt.Errorf("support: post draft: %w", err)
	}
	return nil
}

// Routes are the feedback and shadow buttons and /savereply.
func (a *Answers) Routes() []bot.Route {
	return []bot.Route{
		// Votes are recorded in staff-owned threads too: they are about the
		// bot's earlier answer.
		{Name: "feedback-up", Match: bot.Action(ActionHelpful), Handler: bot.HandlerFunc(a.vote), BypassGate: true},
		{Name: "feedback-down", Match: bot.Action(ActionNotHelpful), Handler: bot.HandlerFunc(a.vote), BypassGate: true},
		{Name: "shadow-send", Match: bot.Action(ActionShadowSend), Handler: bot.HandlerFunc(a.shadowSend), BypassGate: true},
		{Name: "shadow-discard", Match: bot.Action(ActionShadowDiscard), Handler: bot.HandlerFunc(a.shadowDiscard), BypassGate: true},
		{Name: "savereply", Match: bot.Command("savereply"), Handler: bot.HandlerFunc(a.saveReplyCmd), BypassGate: true,
			Spec: &bot.CommandSpec{Name: "savereply", Description: "Save the last team reply in this thread as a knowledge entry", StaffOnly: true}},
	}
}

func (a *Answers) notice(lang, key string) []bot.Reply {
	return []bot.Reply{{Text: a.text(lang, key), Notice: true}}
}

// vote stores a "Helpful" / "Not helpful" click; the first "Not helpful"
// on a question calls a person.
func (a *Answers) vote(ctx context.Context, ev *bot.Event) ([]bot.Reply, error) {
	helpful := ev.Action == ActionHelpful
	q, ok, err := a.o.Store.Question(ctx, ev.Value)
	if err != nil {
		return nil, err
	}
	if !ok {
		a.o.Logger.Info("support: vote on an unknown question (expired?)", "question", ev.Value)
		return a.notice(ev.Lang, TextThanks), nil
	}
	v := qa.Vote{QuestionID: q.ID, Platform: ev.Platform, UserID: ev.User.ID, Helpful: helpful, Time: a.o.Clock.Now()}
	if err := a.o.Store.PutVote(ctx, v); err != nil {
		return nil, err
	}
	if helpful {
		return a.notice(ev.Lang, TextThanks), nil
	}
	_, first, err := a.o.Store.UpdateQuestion(ctx, q.ID, func(q *qa.Question) bool {
		for _, r := range q.Escalations {
			if r == ReasonNotHelpful {
				return false
			}
		}
		q.Escalations = append(q.Escalations, ReasonNotHelpful)
		return true
	})
	if err != nil {
		return nil, err
	}
	if first && !a.escalate(ctx, ev, ReasonNotHelpful, "rated not helpful: "+lang.Excerpt(q.Text, 200)) {
		// Nobody was called: let a later vote try again.
		if _, _, err := a.o.Store.UpdateQuestion(ctx, q.ID, func(q *qa.Question) bool {
			q.Escalations = without(q.Escalations, ReasonNotHelpful)
			return true
		}); err != nil {
			a.o.Logger.Error("support: undo escalation mark", "err", err)
		}
		return a.notice(ev.Lang, TextThanks), nil
	}
	return a.notice(ev.Lang, TextSorry), nil
}

func without(list []string, s string) []string {
	var out []string
	for _, x := range list {
		if x != s {
			out = append(out, x)
		}
	}
	return out
}

// shadowSend posts a draft into its thread.
func (a *Answers) shadowSend(ctx context.Context, ev *bot.Event) ([]bot.Reply, error) {
	if !ev.User.Staff {
		return a.notice(ev.Lang, TextStaffOnly), nil
	}
	d, ok, err := a.o.Store.SettleDraft(ctx, ev.Value, qa.ShadowSent, ev.User.DisplayName(), a.o.Clock.Now())
	if err != nil {
		return nil, err
	}
	if !ok {
		return []bot.Reply{{Text: settledText(d, ev.Value), Notice: true}}, nil
	}
	var errs []error
	for _, r := range d.Replies {
		r.ReplyTo = ""
		if err := a.o.Poster.Post(ctx, d.Thread, r); err != nil {
			errs = append(errs, err)
		}
	}
	if _, _, err := a.o.Store.UpdateQuestion(ctx, d.ID, func(q *qa.Question) bool { q.Shadow = qa.ShadowSent; return true }); err != nil {
		errs = append(errs, err)
	}
	if err := errors.Join(errs...); err != nil {
		return nil, fmt.Errorf("support: send draft %s: %w", d.ID, err)
	}
	return []bot.Reply{{Text: fmt.Sprintf("%s sent the draft into %s.", ev.User.DisplayName(), d.Thread.Key()), Notice: true}}, nil
}

// shadowDiscard drops a draft.
func (a *Answers) shadowDiscard(ctx context.Context, ev *bot.Event) ([]bot.Reply, error) {
	if !ev.User.Staff {
		return a.notice(ev.Lang, TextStaffOnly), nil
	}
	d, ok, err := a.o.Store.SettleDraft(ctx, ev.Value, qa.ShadowDiscarded, ev.User.DisplayName(), a.o.Clock.Now())
	if err != nil {
		return nil, err
	}
	if !ok {
		return []bot.Reply{{Text: settledText(d, ev.Value), Notice: true}}, nil
	}
	if _, _, err := a.o.Store.UpdateQuestion(ctx, d.ID, func(q *qa.Question) bool { q.Shadow = qa.ShadowDiscarded; return true }); err != nil {
		return nil, err
	}
	return []bot.Reply{{Text: fmt.Sprintf("%s discarded the draft for %s.", ev.User.DisplayName(), d.Thread.Key()), Notice: true}}, nil
}

func settledText(d qa.Draft, id string) string {
	if d.ID == "" {
		return fmt.Sprintf("No draft %s (it may have expired).", id)
	}
	return fmt.Sprintf("That draft was %s already by %s.", d.Status, d.SettledBy)
}
