package discord

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"unicode/utf8"

	"github.com/bwmarrin/discordgo"

	"github.com/einsatz/einsatz/bot"
)

// Staff replies in the staff member's own name. A reply with an
// AuthorName (relayed from a staff thread, or sent from the desk) is
// posted through a webhook of the channel, executed with the staff
// member's name (marked "(staff)") and avatar; in a thread with
// ?thread_id=. One webhook per channel, named WebhookName, is created on
// first use or found again after a restart (GET /channels/{id}/webhooks),
// so its token never has to be stored. Without Manage Webhooks (403) the
// reply falls back to "**Name** (staff): …" from the bot, logged once per
// channel.

// WebhookName names the webhook the adapter creates in a channel.
const WebhookName = "Einsatz relay"

// webhookRef is a webhook message: which webhook posted it, and where.
type webhookRef struct {
	id, token, threadID string
}

// staffName is the username a staff reply is executed with; "" when
// Discord would refuse it (it may not name Discord or Clyde).
func staffName(author, mark string) string {
	name := strings.TrimSpace(author)
	if name == "" {
		return ""
	}
	suffix := " (" + mark + ")"
	if n, m := utf8.RuneCountInString(name), utf8.RuneCountInString(suffix); n > 80-m {
		name = string([]rune(name)[:max(80-m, 1)])
	}
	name += suffix
	lower := strings.ToLower(name)
	if strings.Contains(lower, "discord") || strings.Contains(lower, "clyde") {
		return ""
	}
	return name
}

// webhookFor returns the webhook of channelID, creating it when create is
// set and there is none. ok is false when the bot may not manage webhooks
// there (remembered; logged once per channel).
func (a *Adapter) webhookFor(ctx context.Context, channelID string, create bool) (*discordgo.Webhook, bool, error) {
	a.mu.Lock()
	wh, known := a.hooks[channelID]
	denied := a.hookDenied[channelID]
	botID := a.id.UserID
	a.mu.Unlock()
	if known {
		return wh, true, nil
	}
	if denied {
		return nil, false, nil
	}
	// One lookup at a time, so that two threads of a channel answered at
	// once do not each create a webhook.
	a.hookMu.Lock()
	defer a.hookMu.Unlock()
	a.mu.Lock()
	wh, known = a.hooks[channelID]
	denied = a.hookDenied[channelID]
	a.mu.Unlock()
	if known || denied {
		return wh, !denied, nil
	}
	list, err := a.s.ChannelWebhooks(channelID, discordgo.WithContext(ctx))
	if err == nil {
		for _, h := range list {
			mine := h.ApplicationID == botID || h.User != nil && h.User.ID == botID
			if mine && h.Name == WebhookName && h.Token != "" {
				wh = h
				break
			}
		}
		if wh == nil && create {
			wh, err = a.s.WebhookCreate(channelID, WebhookName, "", discordgo.WithContext(ctx))
		}
	}
	if err != nil {
		if httpStatus(err) == http.StatusForbidden {
			a.mu.Lock()
			a.hookDenied[channelID] = true
			a.mu.Unlock()
			a.log.Warn("staff replies are posted by the bot with the staff member's name in the text: it lacks Manage Webhooks",
				"channel", channelID, "fix", "give the bot the Manage Webhooks permission in this channel and restart", "err", err)
			return nil, false, nil
		}
		return nil, false, fmt.Errorf("discord: webhook of channel %s: %s: %w", channelID, explain(err), err)
	}
	if wh == nil {
		return nil, true, nil
	}
	a.mu.Lock()
	a.hooks[channelID] = wh
	a.mu.Unlock()
	return wh, true, nil
}

func httpStatus(err error) int {
	var re *discordgo.RESTError
	if errors.As(err, &re) && re.Response != nil {
		return re.Response.StatusCode
	}
	return 0
}

// hookTarget is the channel whose webhook posts into channelID (a
// thread's parent) and the thread id to pass; ok is false where webhooks
// cannot post (a DM).
func (a *Adapter) hookTarget(channelID string) (parent, thread string, ok bool) {
	a.mu.Lock()
	c, known := a.channels[channelID]
	a.mu.Unlock()
	switch {
	case !known || c.GuildID == "":
		return "", "", false
	case c.isThread():
		return c.ParentID, c.ID, c.ParentID != ""
	case isForumType(c.Type):
		return "", "", false
	}
	return c.ID, "", true
}

// publishAsStaff posts a staff reply through the channel's webhook. It
// reports false (and posts nothing) when it cannot: the caller then posts
// as the bot with the name in the text. A webhook someone deleted (10015)
// is replaced once.
func (a *Adapter) publishAsStaff(ctx context.Context, channelID string, r bot.Reply, chunks []string, comps []discordgo.MessageComponent, allowed *discordgo.MessageAllowedMentions) (string, bool, error) {
	name := staffName(r.AuthorName, r.StaffMark())
	parent, thread, ok := a.hookTarget(channelID)
	if name == "" || !ok {
		return "", false, nil
	}
	for attempt := 0; ; attempt++ {
		wh, ok, err := a.webhookFor(ctx, parent, true)
		if err != nil || !ok || wh == nil {
			if err != nil {
				a.log.Warn("no webhook for a staff reply; posting it as the bot", "channel", parent, "err", err)
			}
			return "", false, nil
		}
		first, replaced := "", false
		for i, c := range chunks {
			p := &discordgo.WebhookParams{Content: c, Username: name, AvatarURL: r.AuthorAvatar, AllowedMentions: allowed}
			if i == len(chunks)-1 {
				p.Components = comps
			}
			m, err := a.s.WebhookThreadExecute(wh.ID, wh.Token, true, thread, p, discordgo.WithContext(ctx))
			if err != nil && i == 0 && attempt == 0 && restCode(err) == discordgo.ErrCodeUnknownWebhook {
				a.forgetWebhook(parent) // deleted by someone: once more with a new one
				replaced = true
				break
			}
			if err != nil {
				return first, true, fmt.Errorf("discord: staff reply through the webhook of %s: %s: %w", parent, explain(err), err)
			}
			if m == nil {
				continue
			}
			a.msgChan.Add(m.ID, m.ChannelID)
			a.hookMsgs.Add(m.ID, webhookRef{id: wh.ID, token: wh.Token, threadID: thread})
			if first == "" {
				first = m.ID
			}
		}
		if !replaced {
			return first, true, nil
		}
	}
}

func (a *Adapter) forgetWebhook(channelID string) {
	a.mu.Lock()
	delete(a.hooks, channelID)
	a.mu.Unlock()
}

// hookOf finds the webhook that posted messageID in channelID: remembered
// from posting it, or (after a restart) the channel's webhook.
func (a *Adapter) hookOf(ctx context.Context, channelID, messageID string) (webhookRef, bool) {
	if ref, ok := a.hookMsgs.Get(messageID); ok {
		return ref, true
	}
	parent, thread, ok := a.hookTarget(channelID)
	if !ok {
		return webhookRef{}, false
	}
	wh, ok, err := a.webhookFor(ctx, parent, false)
	if err != nil || !ok || wh == nil {
		return webhookRef{}, false
	}
	return webhookRef{id: wh.ID, token: wh.Token, threadID: thread}, true
}

// webhookMessageURI is a webhook message's endpoint, with the thread it
// lives in (discordgo's WebhookMessageEdit/Delete cannot pass thread_id,
// which Discord needs for a message in a thread).
func webhookMessageURI(ref webhookRef, messageID string) string {
	uri := discordgo.EndpointWebhookMessage(ref.id, ref.token, messageID)
	if ref.threadID != "" {
		uri += "?" + url.Values{"thread_id": {ref.threadID}}.Encode()
	}
	return uri
}

// editAsStaff edits a webhook message.
func (a *Adapter) editAsStaff(ctx context.Context, ref webhookRef, messageID, content string) error {
	_, err := a.s.RequestWithBucketID(http.MethodPatch, webhookMessageURI(ref, messageID),
		&discordgo.WebhookEdit{Content: &content, AllowedMentions: noMentions()},
		discordgo.EndpointWebhookToken("", ""), discordgo.WithContext(ctx))
	return err
}

// deleteAsStaff deletes a webhook message.
func (a *Adapter) deleteAsStaff(ctx context.Context, ref webhookRef, messageID string) error {
	_, err := a.s.RequestWithBucketID(http.MethodDelete, webhookMessageURI(ref, messageID), nil,
		discordgo.EndpointWebhookToken("", ""), discordgo.WithContext(ctx))
	return err
}

// learnThread looks up the thread of in when the adapter does not know it
// (a restart: a staff reply edited before the thread was seen again), so
// that its messages are looked for in the thread, not in its parent.
func (a *Adapter) learnThread(ctx context.Context, in bot.ThreadRef) {
	if in.ThreadID == "" || in.ThreadID == in.ChannelID {
		return
	}
	a.mu.Lock()
	_, known := a.channels[in.ThreadID]
	a.mu.Unlock()
	if _, top := a.topLevel.Get(in.ThreadID); known || top {
		return
	}
	if c, err := a.s.Channel(in.ThreadID, discordgo.WithContext(ctx)); err == nil && isThreadType(c.Type) {
		a.rememberChannel(c)
	}
}
