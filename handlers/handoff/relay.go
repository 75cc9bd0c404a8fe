package handoff

import (
	"context"
	"errors"
	"fmt"
	"strings"

	"github.com/einsatz/einsatz/bot"
	"github.com/einsatz/einsatz/bot/config"
	"github.com/einsatz/einsatz/bot/escalation"
	"github.com/einsatz/einsatz/bot/lang"
)

// The relay. Each escalation's notice in staff.channel is the root of a
// staff thread (on whatever platform staff.channel is). A staff member's
// message in that thread goes into the member's thread in their name, as a
// desk reply does; a message starting with the note prefix stays there as
// an internal note. The member's later messages are mirrored into the
// staff thread. Edits and deletions follow the copies. Every copy is
// claimed in storage before it is posted, so nothing goes out twice (a
// redelivery, a restart).

// Messenger is what the relay needs from the core beyond Poster; bot.Bot
// implements it. A Poster without it (tests, the CLI) relays nothing.
type Messenger interface {
	bot.Poster
	Publish(ctx context.Context, to bot.ThreadRef, r bot.Reply) (string, error)
	EditMessage(ctx context.Context, in bot.ThreadRef, messageID string, r bot.Reply) error
	DeleteMessage(ctx context.Context, in bot.ThreadRef, messageID string) error
}

// DefaultNotePrefix starts a staff-only note in a staff thread.
const DefaultNotePrefix = "//"

// NoteReaction, added by staff to their message in a staff thread, makes
// it a note: not relayed, or taken back from the member's thread.
const NoteReaction = "📝"

// stagedTurns bounds the transcript in a staff thread's root.
const stagedTurns = 8

// messenger returns the core's messenger when the relay is on.
func (s *Service) messenger() (Messenger, bool) {
	if s.o.Relays == nil || s.o.StaffChannel.ChannelID == "" {
		return nil, false
	}
	m, ok := s.o.Poster.(Messenger)
	return m, ok
}

// publish posts r and returns the message's id when the poster can tell.
func (s *Service) publish(ctx context.Context, to bot.ThreadRef, r bot.Reply) (string, error) {
	if m, ok := s.o.Poster.(Messenger); ok {
		return m.Publish(ctx, to, r)
	}
	return "", s.o.Poster.Post(ctx, to, r)
}

// transcript is the thread's recent turns for a staff thread's root, the
// message that escalated last.
func transcript(ev *bot.Event) string {
	turns := ev.History
	if len(turns) > stagedTurns {
		turns = turns[len(turns)-stagedTurns:]
	}
	var b strings.Builder
	for _, t := range turns {
		fmt.Fprintf(&b, "\n%s: %s", turnName(t), lang.Excerpt(t.Text, 300))
	}
	if ev.Kind == bot.KindMessage && ev.Text != "" {
		fmt.Fprintf(&b, "\n%s: %s", ev.User.DisplayName(), lang.Excerpt(ev.Text, 300))
	}
	if b.Len() == 0 {
		return ""
	}
	return "\nRecent messages:" + b.String()
}

func turnName(t bot.Turn) string {
	switch {
	case t.Role == bot.RoleBot:
		return "bot"
	case t.Name != "":
		return t.Name
	case t.UserID != "":
		return t.UserID
	}
	return string(t.Role)
}

// openStaffThread makes the posted notice rootID the escalation's staff
// thread: remembered both ways, the escalating message counted as relayed
// (the root quotes it), and a first line in the thread that says how it
// works (on Discord it also starts the thread staff answer in).
func (s *Service) openStaffThread(ctx context.Context, m Messenger, e escalation.Escalation, rootID string, ev *bot.Event) error {
	staff := bot.ThreadRef{Platform: s.o.StaffChannel.Platform, ChannelID: s.o.StaffChannel.ChannelID, ThreadID: rootID}
	if err := s.o.Relays.PutStaffThread(ctx, staff, e.Thread); err != nil {
		return err
	}
	if ev.Kind == bot.KindMessage && ev.MessageID != "" {
		if _, err := s.o.Relays.ClaimRelay(ctx, escalation.Relayed{Source: escalation.Message{Thread: e.Thread, ID: ev.MessageID},
			Direction: escalation.ToStaff, Time: s.o.Clock.Now()}); err != nil {
			return err
		}
	}
	if _, err := s.o.Store.UpdateEscalation(ctx, e.Thread, func(cur *escalation.Escalation) error {
		if !cur.Created.Equal(e.Created) {
			return errSkip
		}
		cur.StaffThread = staff
		return nil
	}); err != nil && !errors.Is(err, errSkip) {
		return err
	}
	hint := fmt.Sprintf("Replies in this thread go to %s on %s, in your name. Start a message with %s, or react to it with %s, for a note only staff see.",
		e.User.DisplayName(), e.Thread.Platform, s.notePrefix(), NoteReaction)
	if err := m.Post(ctx, staff, bot.Reply{Text: hint, Notice: true}); err != nil {
		s.o.Logger.Error("handoff: first line of the staff thread", "escalation", e.ID, "err", err)
	}
	return nil
}

// staffMark is the word after a staff member's name in a member's thread,
// in its language (texts.staff_mark: "staff", "Team"); "" lets the adapter
// say "staff".
func (s *Service) staffMark(lang string) string {
	if s.o.Text == nil {
		return ""
	}
	return s.o.Text(lang, config.TextStaffMark)
}

func (s *Service) notePrefix() string {
	if s.o.NotePrefix == "" {
		return DefaultNotePrefix
	}
	return s.o.NotePrefix
}

// memberThreadOf returns the member thread when ev happened in a staff
// thread.
func (s *Service) memberThreadOf(ctx context.Context, ev *bot.Event) (bot.ThreadRef, bool, error) {
	if s.o.Relays == nil || ev.Platform != s.o.StaffChannel.Platform || ev.ChannelID != s.o.StaffChannel.ChannelID || ev.ThreadID == "" {
		return bot.ThreadRef{}, false, nil
	}
	return s.o.Relays.StaffThread(ctx, ev.Thread())
}

// inStaffThread matches the messages of staff threads: the bot stays
// silent there (they are for the member, or notes).
func (s *Service) inStaffThread(ev *bot.Event) bool {
	if ev.Kind != bot.KindMessage {
		return false
	}
	_, ok, err := s.memberThreadOf(context.Background(), ev)
	return ok && err == nil
}

func silent(context.Context, *bot.Event) ([]bot.Reply, error) { return nil, nil }

// withLinks is a message's text with its attachments as links.
func withLinks(text string, links []string) string {
	for _, l := range links {
		text = strings.TrimSpace(text + "\n" + l)
	}
	return text
}

// fromStaff handles an event in a staff thread: a staff member's message
// goes to the member (or is a note), an edit or deletion follows the copy.
func (s *Service) fromStaff(ctx context.Context, ev *bot.Event, member bot.ThreadRef) error {
	m, ok := s.messenger()
	if !ok || !ev.User.Staff {
		return nil // only staff speak for staff
	}
	src := escalation.Message{Thread: ev.Thread(), ID: ev.MessageID}
	name := ev.User.DisplayName()
	text := withLinks(ev.Text, ev.Attachments)
	switch ev.Kind {
	case bot.KindMessage:
		if text == "" {
			return nil
		}
		e, found, err := s.o.Store.Escalation(ctx, member)
		if err != nil || !found {
			return err
		}
		e.Normalize()
		if note, isNote := strings.CutPrefix(text, s.notePrefix()); isNote {
			_, err := s.Act(ctx, e.ID, escalation.ActionNote, name, note)
			return err
		}
		claimed, err := s.o.Relays.ClaimRelay(ctx, escalation.Relayed{Source: src, Direction: escalation.ToMember, Time: s.o.Clock.Now()})
		if err != nil || !claimed {
			return err // !claimed: relayed before (a redelivery, a restart)
		}
		var copyID string
		_, err = s.act(ctx, e.ID, escalation.ActionReply, name, text, relayed{avatar: ev.User.Avatar, posted: func(id string) { copyID = id }})
		if errors.Is(err, escalation.ErrIllegal) {
			return m.Post(ctx, ev.Thread(), bot.Reply{Notice: true,
				Text: fmt.Sprintf("Not sent: escalation %s is %s. Reopen it from the desk, or write to %s in their thread.", e.ID, e.Status, e.User.DisplayName())})
		}
		if err != nil {
			return err
		}
		return s.o.Relays.PutRelay(ctx, escalation.Relayed{Source: src, Copy: escalation.Message{Thread: member, ID: copyID},
			Direction: escalation.ToMember, Time: s.o.Clock.Now()})
	case bot.KindEdit, bot.KindDelete:
		mark := ""
		if e, found, err := s.o.Store.Escalation(ctx, member); err == nil && found {
			mark = s.staffMark(e.Lang)
		}
		return s.followCopy(ctx, m, ev, src, bot.Reply{Text: text, AuthorName: name, AuthorMark: mark})
	case bot.KindReaction:
		if ev.Removed || !bot.SameEmoji(ev.Reaction, NoteReaction) {
			return nil
		}
		return s.noteByReaction(ctx, m, ev, member, src)
	}
	return nil
}

// noteByReaction makes the message a staff member reacted to with 📝 a
// note: one not relayed yet never will be; one relayed is deleted from the
// member's thread (on every platform, the web chat too; a copy whose id
// is unknown, relayed by an older version, cannot be taken back, which
// the staff thread is told). Its text goes on the escalation as a note,
// as one written with the note prefix would.
func (s *Service) noteByReaction(ctx context.Context, m Messenger, ev *bot.Event, member bot.ThreadRef, src escalation.Message) error {
	e, found, err := s.o.Store.Escalation(ctx, member)
	if err != nil || !found || ev.MessageID == "" {
		return err
	}
	e.Normalize()
	author, text := ev.User.DisplayName(), ""
	for _, t := range ev.History {
		if t.MessageID == ev.MessageID && t.Role != bot.RoleBot {
			author, text = turnName(t), t.Text
		}
	}
	now := s.o.Clock.Now()
	rec := escalation.Relayed{Source: src, Direction: escalation.ToMember, Time: now, Internal: true}
	claimed, err := s.o.Relays.ClaimRelay(ctx, rec)
	if err != nil {
		return err
	}
	if !claimed {
		prev, found, err := s.o.Relays.Relay(ctx, src)
		if err != nil || !found || prev.Internal || prev.Direction != escalation.ToMember {
			return err // gone, marked before (a redelivery), or a mirror of the member
		}
		switch {
		case prev.Copy.ID != "":
			if err := m.DeleteMessage(ctx, prev.Copy.Thread, prev.Copy.ID); err != nil {
				return fmt.Errorf("handoff: take a note back from %s: %w", prev.Copy.Thread.Key(), err)
			}
		case prev.Copy.Thread.Platform != "":
			if err := m.Post(ctx, ev.Thread(), bot.Reply{Notice: true,
				Text: fmt.Sprintf("Kept as a note, but %s has already seen it: a message on %s cannot be taken back.", e.User.DisplayName(), prev.Copy.Thread.Platform)}); err != nil {
				s.o.Logger.Error("handoff: notice in the staff thread", "escalation", e.ID, "err", err)
			}
		}
		prev.Internal, prev.Copy.ID = true, ""
		if err := s.o.Relays.PutRelay(ctx, prev); err != nil {
			return err
		}
	}
	if text == "" {
		text = "(message " + ev.MessageID + ")"
	}
	if author != ev.User.DisplayName() {
		text = author + ": " + text
	}
	_, err = s.Act(ctx, e.ID, escalation.ActionNote, ev.User.DisplayName(), text)
	return err
}

// closeStaffThread ends the escalation's staff thread with a line that
// says who ended it and that the member's later messages no longer come
// here (after a close, a message of theirs reopens it and comes again).
func (s *Service) closeStaffThread(ctx context.Context, e escalation.Escalation, action, actor string) {
	m, ok := s.messenger()
	if !ok || e.StaffThread.ThreadID == "" {
		return
	}
	who := e.User.DisplayName()
	var line string
	switch action {
	case escalation.ActionHandBack:
		line = fmt.Sprintf("Handed back to the bot by %s: the bot answers %s again, and their later messages no longer come here.", actor, who)
	case escalation.ActionClose:
		line = fmt.Sprintf("Closed by %s: the bot answers %s again. If they write again, the escalation reopens and their messages come here again.", actor, who)
	case escalation.ActionDismiss:
		line = fmt.Sprintf("Dismissed by %s: the bot answers %s again, and their later messages no longer come here.", actor, who)
	default:
		return
	}
	if err := m.Post(ctx, e.StaffThread, bot.Reply{Text: line, Notice: true}); err != nil {
		s.o.Logger.Error("handoff: closing line in the staff thread", "escalation", e.ID, "err", err)
	}
}

// followCopy edits or deletes the copy of src as ev says.
func (s *Service) followCopy(ctx context.Context, m Messenger, ev *bot.Event, src escalation.Message, r bot.Reply) error {
	rec, found, err := s.o.Relays.Relay(ctx, src)
	if err != nil || !found || rec.Copy.ID == "" || rec.Internal {
		return err // not relayed, the platform could not tell the copy's id, or made a note
	}
	if ev.Kind == bot.KindDelete {
		return m.DeleteMessage(ctx, rec.Copy.Thread, rec.Copy.ID)
	}
	if strings.TrimSpace(r.Text) == "" {
		return nil
	}
	return m.EditMessage(ctx, rec.Copy.Thread, rec.Copy.ID, r)
}

// toStaffThread mirrors a message of an escalated member thread (and its
// edits and deletions) into the escalation's staff thread.
func (s *Service) toStaffThread(ctx context.Context, ev *bot.Event) error {
	m, ok := s.messenger()
	if !ok || ev.User.Bot || ev.MessageID == "" {
		return nil
	}
	if ev.Kind != bot.KindMessage && ev.Kind != bot.KindEdit && ev.Kind != bot.KindDelete {
		return nil
	}
	e, found, err := s.o.Store.Escalation(ctx, ev.Thread())
	if err != nil || !found || e.StaffThread.ThreadID == "" {
		return err
	}
	src := escalation.Message{Thread: ev.Thread(), ID: ev.MessageID}
	// Mirrors are notices: the member's words stay out of the staff
	// thread's history (an erasure of the member finds them in theirs).
	r := bot.Reply{Text: ev.User.DisplayName() + ": " + withLinks(ev.Text, ev.Attachments), Notice: true}
	if ev.Kind != bot.KindMessage {
		return s.followCopy(ctx, m, ev, src, r)
	}
	if !e.Open() || strings.TrimSpace(ev.Text) == "" && len(ev.Attachments) == 0 {
		return nil
	}
	claimed, err := s.o.Relays.ClaimRelay(ctx, escalation.Relayed{Source: src, Direction: escalation.ToStaff, Time: s.o.Clock.Now()})
	if err != nil || !claimed {
		return err
	}
	id, err := m.Publish(ctx, e.StaffThread, r)
	if err != nil {
		return fmt.Errorf("handoff: mirror into staff thread of %s: %w", e.ID, err)
	}
	return s.o.Relays.PutRelay(ctx, escalation.Relayed{Source: src, Copy: escalation.Message{Thread: e.StaffThread, ID: id},
		Direction: escalation.ToStaff, Time: s.o.Clock.Now()})
}
