package support

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"strings"

	"github.com/einsatz/einsatz/bot"
	"github.com/einsatz/einsatz/handlers/answer"
	"github.com/einsatz/einsatz/handlers/knowledge"
)

// AddTo adapts a knowledge base to Options.AddKnowledge.
func AddTo(kb *knowledge.Base) func(ctx context.Context, name, title, url, text string) error {
	return func(ctx context.Context, name, title, url, text string) error {
		_, err := kb.Add(ctx, name, title, url, text)
		return err
	}
}

// ErrNothingToSave: the thread has no staff reply to a question.
var ErrNothingToSave = errors.New("support: no team reply to a question in this thread")

// Entry is a knowledge entry made from a staff reply.
type Entry struct {
	Name, Title, URL, Text string
}

// EntryFrom finds the staff reply to save in a thread's history and the
// question it answered: the last staff turn (by staffID when given), and
// the last user turn before it. Both are redacted.
func EntryFrom(history []bot.Turn, staffID, thread, permalink string) (Entry, error) {
	at := -1
	for i := len(history) - 1; i >= 0; i-- {
		t := history[i]
		if t.Role == bot.RoleStaff && strings.TrimSpace(t.Text) != "" && (staffID == "" || t.UserID == staffID) {
			at = i
			break
		}
	}
	if at < 0 && staffID != "" {
		return EntryFrom(history, "", thread, permalink)
	}
	if at < 0 {
		return Entry{}, ErrNothingToSave
	}
	// The answer may take several consecutive staff messages.
	start := at
	for start > 0 && history[start-1].Role == bot.RoleStaff && history[start-1].UserID == history[at].UserID {
		start--
	}
	q := -1
	for i := start - 1; i >= 0; i-- {
		if history[i].Role == bot.RoleUser && strings.TrimSpace(history[i].Text) != "" {
			q = i
			break
		}
	}
	if q < 0 {
		return Entry{}, ErrNothingToSave
	}
	var parts []string
	for _, t := range history[start : at+1] {
		parts = append(parts, strings.TrimSpace(answer.Redact(t.Text)))
	}
	question := strings.Join(strings.Fields(answer.Redact(history[q].Text)), " ")
	title := question
	if r := []rune(title); len(r) > 80 {
		title = string(r[:80]) + "…"
	}
	sum := sha256.Sum256([]byte(thread + "\x00" + question))
	return Entry{
		Name:  "staff-reply-" + hex.EncodeToString(sum[:6]),
		Title: title,
		URL:   permalink,
		Text:  "## " + question + "\n\n" + strings.Join(parts, "\n\n") + "\n",
	}, nil
}

// save stores the entry for the thread of ev.
func (a *Answers) save(ctx context.Context, ev *bot.Event, staffID, permalink string) (Entry, error) {
	if a.o.AddKnowledge == nil {
		return Entry{}, errors.New("support: saving replies is off (no knowledge base)")
	}
	e, err := EntryFrom(ev.History, staffID, ev.Thread().Key(), permalink)
	if err != nil {
		return e, err
	}
	if err := a.o.AddKnowledge(ctx, e.Name, e.Title, e.URL, e.Text); err != nil {
		return e, fmt.Errorf("support: save reply: %w", err)
	}
	a.o.Logger.Info("support: staff reply saved as knowledge", "name", e.Name, "thread", ev.Thread().Key(), "by", ev.User.DisplayName())
	return e, nil
}

// saveReplyCmd is /savereply.
func (a *Answers) saveReplyCmd(ctx context.Context, ev *bot.Event) ([]bot.Reply, error) {
	if !ev.User.Staff {
		return a.notice(ev.Lang, TextStaffOnly), nil
	}
	e, err := a.save(ctx, ev, "", ev.Permalink)
	if errors.Is(err, ErrNothingToSave) {
		return a.notice(ev.Lang, TextNoReplyToSave), nil
	}
	if err != nil {
		return nil, err
	}
	return []bot.Reply{{Text: strings.ReplaceAll(a.text(ev.Lang, TextReplySaved), "{title}", e.Title), Notice: true}}, nil
}

// isSaveReaction accepts the configured emoji, also by its Slack name.
func (a *Answers) isSaveReaction(r string) bool {
	return a.o.SaveReaction != "-" && bot.SameEmoji(r, a.o.SaveReaction)
}

// Observe saves a staff reply when staff react with the save reaction on a
// staff message (reactions never reach the router); the confirmation goes
// to the staff channel.
func (a *Answers) Observe(ctx context.Context, ev *bot.Event) error {
	if ev.Kind != bot.KindReaction || ev.Removed || !ev.User.Staff || !a.isSaveReaction(ev.Reaction) || a.o.AddKnowledge == nil {
		return nil
	}
	staffID, permalink := "", ev.Permalink
	if ev.Target != nil {
		if ev.Target.User.Bot {
			return nil // a reaction on the bot's answer: nothing of staff to save
		}
		staffID = ev.Target.User.ID
		if ev.Target.Permalink != "" {
			permalink = ev.Target.Permalink
		}
	}
	e, err := a.save(ctx, ev, staffID, permalink)
	if errors.Is(err, ErrNothingToSave) {
		return nil
	}
	if err != nil {
		return err
	}
	if a.o.StaffChannel.ChannelID == "" || a.o.Poster == nil {
		return nil
	}
	return a.o.Poster.Post(ctx, a.o.StaffChannel, bot.Reply{Notice: true,
		Text: fmt.Sprintf("%s saved a reply from %s to the knowledge base: %s", bot.EscapeMarkdown(ev.User.DisplayName()), ev.Thread().Key(),
			bot.EscapeMarkdown(e.Title))})
}
