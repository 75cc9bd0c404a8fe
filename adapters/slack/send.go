package slack

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/slack-go/slack"

	"github.com/einsatz/einsatz/bot"
)

// Slack's limits, and how replies are cut to them. A section block holds
// at most 3,000 characters and a message at most 50 blocks and 40,000
// characters of text. A reply is converted to mrkdwn and split into
// sections of at most SectionLimit characters (at paragraph, line or word
// breaks; a cut code block is closed and reopened); one message carries
// at most SectionsPerMessage sections (30,000 characters, so its text
// fallback stays under 40,000 and there is room for the sources and
// buttons blocks), and a longer reply continues in further messages of
// the same thread. Sources and buttons go with the last message.
const (
	SectionLimit       = 3000
	SectionsPerMessage = 10
	maxContextElements = 10
	maxButtons         = 25
	maxButtonLabel     = 75
	maxButtonValue     = 2000
	maxActionID        = 255
)

// outgoing is one Slack message of a reply.
type outgoing struct {
	text   string
	blocks []slack.Block
}

// render turns a reply into the Slack messages that carry it (text
// fallback + blocks). It is pure; Send posts what it returns.
func render(r bot.Reply) []outgoing {
	text := strings.TrimSpace(r.Text)
	if r.AuthorName != "" { // a staff reply from the desk: who wrote it
		text = "**" + r.AuthorName + "** (" + r.StaffMark() + "): " + text
	}
	sections := Split(Mrkdwn(text), SectionLimit)
	if r.Ping != "" {
		// The mention is Slack syntax already: not escaped, so it notifies.
		if len(sections) == 0 {
			sections = []string{r.Ping}
		} else {
			sections[0] = r.Ping + " " + sections[0]
		}
	}
	var msgs []outgoing
	for len(sections) > 0 {
		n := min(len(sections), SectionsPerMessage)
		var m outgoing
		for _, s := range sections[:n] {
			m.blocks = append(m.blocks, slack.NewSectionBlock(slack.NewTextBlockObject(slack.MarkdownType, s, false, false), nil, nil))
		}
		m.text = strings.Join(sections[:n], "\n")
		msgs = append(msgs, m)
		sections = sections[n:]
	}
	if len(msgs) == 0 {
		msgs = append(msgs, outgoing{})
	}
	last := &msgs[len(msgs)-1]
	if b := sourcesBlock(r.Sources); b != nil {
		last.blocks = append(last.blocks, b)
		if last.text == "" {
			last.text = "Sources"
		}
	}
	if b := buttonsBlock(r.Buttons); b != nil {
		last.blocks = append(last.blocks, b)
		if last.text == "" {
			last.text = r.Buttons[0].Label
		}
	}
	return msgs
}

func sourcesBlock(sources []bot.Source) slack.Block {
	var elems []slack.MixedElement
	for i, s := range sources {
		title := strings.TrimSpace(s.Title)
		if title == "" {
			title = s.Path
		}
		if title == "" {
			title = s.URL
		}
		title = truncate(title, 200)
		var text string
		switch {
		case s.URL != "":
			text = slackLink(s.URL, title)
		case s.Path != "" && s.Path != title:
			text = escape(title) + " (`" + escape(s.Path) + "`)"
		default:
			text = escape(title)
		}
		if i == 0 {
			text = "Sources: " + text
		}
		if len(elems) == maxContextElements-1 && len(sources) > maxContextElements {
			elems = append(elems, slack.NewTextBlockObject(slack.MarkdownType, fmt.Sprintf("and %d more", len(sources)-i), false, false))
			break
		}
		elems = append(elems, slack.NewTextBlockObject(slack.MarkdownType, text, false, false))
	}
	if len(elems) == 0 {
		return nil
	}
	return slack.NewContextBlock("einsatz_sources", elems...)
}

func buttonsBlock(buttons []bot.Button) slack.Block {
	if len(buttons) == 0 {
		return nil
	}
	count := map[string]int{}
	for _, b := range buttons {
		count[b.Action]++
	}
	var elems []slack.BlockElement
	for i, b := range buttons {
		if i == maxButtons {
			break
		}
		id := b.Action
		if count[b.Action] > 1 { // action ids must be unique in a block
			id = fmt.Sprintf("%s#%d", b.Action, i)
		}
		if len(id) > maxActionID {
			id = id[:maxActionID]
		}
		label := truncate(b.Label, maxButtonLabel)
		elems = append(elems, slack.NewButtonBlockElement(id, truncate(b.Value, maxButtonValue),
			slack.NewTextBlockObject(slack.PlainTextType, label, true, false)))
	}
	return slack.NewActionBlock("einsatz_actions", elems...)
}

func truncate(s string, n int) string {
	if utf8.RuneCountInString(s) <= n {
		return s
	}
	r := []rune(s)
	return string(r[:n-1]) + "…"
}

// threadTS says where a reply to thread goes: the thread's ts, the first
// post of a synthetic thread (slash commands), or "" for the top level.
func (a *Adapter) threadTS(to bot.ThreadRef) string {
	if to.ThreadID == DMThread {
		return "" // a DM conversation is answered at its top level
	}
	if to.ThreadID == "" || isTS(to.ThreadID) {
		return to.ThreadID
	}
	ts, _ := a.synth.Get(to.Key())
	return ts
}

// Send posts a reply in the thread: threaded under the thread's parent
// message, split over several messages when it is long. A rate-limited
// post waits for Retry-After and tries again (SendRetries times). In the
// thread of a private command the reply is shown to its caller only
// (chat.postEphemeral, at the channel's top level); a click on its buttons
// maps back to the command's thread all the same.
func (a *Adapter) Send(ctx context.Context, to bot.ThreadRef, r bot.Reply) error {
	_, err := a.Publish(ctx, to, r)
	return err
}

// Publish posts like Send and returns the ts of the first message posted
// (bot.Publisher). With Options.Customize a staff reply is posted under
// the staff member's name, marked "(staff)", and picture (username and
// icon_url, chat:write.customize) instead of naming them in the text.
// When Slack refuses that (the app lacks the scope: missing_scope) the
// reply names them in the text, as do all later ones (logged once).
func (a *Adapter) Publish(ctx context.Context, to bot.ThreadRef, r bot.Reply) (string, error) {
	return a.publishReply(ctx, to, r, nil)
}

// publishReply is Publish leaving out the messages of the reply whose index
// is in skip.
func (a *Adapter) publishReply(ctx context.Context, to bot.ThreadRef, r bot.Reply, skip map[int]bool) (string, error) {
	if a.customizes() && r.AuthorName != "" {
		custom := []slack.MsgOption{slack.MsgOptionUsername(r.AuthorName + " (" + r.StaffMark() + ")")}
		if r.AuthorAvatar != "" {
			custom = append(custom, slack.MsgOptionIconURL(r.AuthorAvatar))
		}
		plain := r
		plain.AuthorName = ""
		ts, err := a.publish(ctx, to, plain, custom, skip)
		if ts != "" || slackCode(err) != "missing_scope" {
			return ts, err
		}
		if !a.noCustomize.Swap(true) {
			a.log.Warn("slack: staff replies name the staff member in the text: the app may not post under another name",
				"fix", "add the chat:write.customize scope (slack.customize) and reinstall the app", "err", err)
		}
	}
	return a.publish(ctx, to, r, nil, skip)
}

// customizes says whether staff replies are posted under their author.
func (a *Adapter) customizes() bool { return a.opts.Customize && !a.noCustomize.Load() }

// destination says where a reply to thread goes: the thread's ts ("" for
// the top level) and, for a private reply, the only user who sees it.
func (a *Adapter) destination(to bot.ThreadRef, r bot.Reply) (threadTS, user string) {
	user, private := a.whisper.Get(to.Key())
	if private {
		return "", user
	}
	if u, ok := a.privIA.Get(r.ReplyTo); ok && r.ReplyTo != "" {
		user = u // a private shortcut's reply: ephemeral, in its thread
	}
	return a.threadTS(to), user
}

// publish posts the messages of a reply but those whose index is in skip
// (posted already, see Resend).
func (a *Adapter) publish(ctx context.Context, to bot.ThreadRef, r bot.Reply, custom []slack.MsgOption, skip map[int]bool) (string, error) {
	threadTS, user := a.destination(to, r)
	_, private := a.whisper.Get(to.Key())
	first := ""
	for i, m := range render(r) {
		if m.text == "" && len(m.blocks) == 0 {
			continue // nothing to say (a blank reply)
		}
		if skip[i] {
			continue
		}
		opts := []slack.MsgOption{
			slack.MsgOptionText(m.text, false),
			slack.MsgOptionDisableLinkUnfurl(),
			slack.MsgOptionDisableMediaUnfurl(),
		}
		if len(m.blocks) > 0 {
			opts = append(opts, slack.MsgOptionBlocks(m.blocks...))
		}
		if threadTS != "" {
			opts = append(opts, slack.MsgOptionTS(threadTS))
		}
		if r.ReplyTo != "" && user == "" {
			opts = append(opts, slack.MsgOptionMetadata(replyMetadata(r, i)))
		}
		opts = append(opts, custom...)
		ts, err := a.post(ctx, to.ChannelID, user, opts)
		if err != nil {
			return first, fmt.Errorf("slack: post message in %s: %w", to.ChannelID, err)
		}
		if first == "" {
			first = ts
		}
		a.posted.Add(to.ChannelID+"/"+ts, to.ThreadID)
		if !private && user == "" && threadTS == "" && to.ThreadID != "" && to.ThreadID != DMThread {
			// A reply in a synthetic thread (a slash command's answer):
			// later messages of this thread go under the first. A reply
			// with no thread at all (an alert) stays at the top level.
			a.synth.Add(to.Key(), ts)
			threadTS = ts
		}
	}
	return first, nil
}

// Edit replaces the text of a message the bot posted (chat.update) with
// the reply's first part.
func (a *Adapter) Edit(ctx context.Context, in bot.ThreadRef, messageID string, r bot.Reply) error {
	if a.customizes() {
		r.AuthorName = "" // the name is the message's author already
	}
	m := render(r)[0]
	opts := []slack.MsgOption{slack.MsgOptionText(m.text, false)}
	if len(m.blocks) > 0 {
		opts = append(opts, slack.MsgOptionBlocks(m.blocks...))
	}
	err := a.retry(ctx, "chat.update", func() error {
		_, _, _, err := a.api.UpdateMessageContext(ctx, in.ChannelID, messageID, opts...)
		return err
	})
	if err != nil {
		return fmt.Errorf("slack: update message %s in %s: %w", messageID, in.ChannelID, err)
	}
	return nil
}

// Delete deletes a message the bot posted (chat.delete); one gone already
// is fine.
func (a *Adapter) Delete(ctx context.Context, in bot.ThreadRef, messageID string) error {
	err := a.retry(ctx, "chat.delete", func() error {
		_, _, err := a.api.DeleteMessageContext(ctx, in.ChannelID, messageID)
		return err
	})
	if err != nil && slackCode(err) != "message_not_found" {
		return fmt.Errorf("slack: delete message %s in %s: %w", messageID, in.ChannelID, err)
	}
	return nil
}

// post sends one message to the channel, or with a user to that user only
// (chat.postEphemeral), and returns its ts.
func (a *Adapter) post(ctx context.Context, channelID, user string, opts []slack.MsgOption) (string, error) {
	method := "chat.postMessage"
	if user != "" {
		method = "chat.postEphemeral"
	}
	var ts string
	err := a.retry(ctx, method, func() error {
		var err error
		if user != "" {
			ts, err = a.api.PostEphemeralContext(ctx, channelID, user, opts...)
		} else {
			_, ts, err = a.api.PostMessageContext(ctx, channelID, opts...)
		}
		return err
	})
	return ts, err
}

// DirectMessage sends a reply to a person in their direct-message
// conversation with the bot: conversations.open (scope im:write) finds or
// opens it, then the reply is posted there like any other (chat.postMessage,
// split when long), at the top level.
func (a *Adapter) DirectMessage(ctx context.Context, userID string, r bot.Reply) error {
	channelID, ok := a.ims.Get(userID)
	if !ok {
		var ch *slack.Channel
		err := a.retry(ctx, "conversations.open", func() error {
			var err error
			ch, _, _, err = a.api.OpenConversationContext(ctx, &slack.OpenConversationParameters{Users: []string{userID}})
			return err
		})
		if err != nil {
			return fmt.Errorf("slack: open DM with %s: %w", userID, err)
		}
		if ch == nil || ch.ID == "" {
			return fmt.Errorf("slack: open DM with %s: no channel in the answer", userID)
		}
		channelID = ch.ID
		a.ims.Add(userID, channelID)
	}
	return a.Send(ctx, bot.ThreadRef{Platform: bot.PlatformSlack, ChannelID: channelID}, r)
}

// React adds a reaction to a message; one already there is fine.
func (a *Adapter) React(ctx context.Context, in bot.ThreadRef, messageID, emoji string) error {
	name := bot.EmojiName(emoji)
	err := a.retry(ctx, "reactions.add", func() error {
		return a.api.AddReactionContext(ctx, name, slack.NewRefToMessage(in.ChannelID, messageID))
	})
	if err != nil && slackCode(err) != "already_reacted" {
		return fmt.Errorf("slack: react %s to %s: %w", name, messageID, err)
	}
	return nil
}

// retry runs a Web API call, waiting out rate limits (Retry-After) up to
// SendRetries times, and logs a final failure with what to fix.
func (a *Adapter) retry(ctx context.Context, method string, call func() error) error {
	for attempt := 0; ; attempt++ {
		err := call()
		if err == nil {
			return nil
		}
		var rl *slack.RateLimitedError
		if errors.As(err, &rl) && attempt < a.opts.SendRetries && rl.RetryAfter <= a.opts.MaxRetryWait {
			wait := max(rl.RetryAfter, 100*time.Millisecond)
			a.log.Warn("slack: rate limited; retrying after Retry-After", "method", method, "retry_after", wait, "attempt", attempt+1)
			t := time.NewTimer(wait)
			select {
			case <-ctx.Done():
				t.Stop()
				return fmt.Errorf("%w (while waiting out a rate limit)", ctx.Err())
			case <-t.C:
			}
			continue
		}
		if slackCode(err) != "already_reacted" {
			a.logAPIError(method, err)
		}
		return err
	}
}
