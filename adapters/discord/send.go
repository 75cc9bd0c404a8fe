package discord

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/bwmarrin/discordgo"

	"github.com/einsatz/einsatz/bot"
)

// noMentions lets a message ping nobody: text from an LLM or quoted from a
// user can never reach @everyone, @here, a role or a user. (parse must be
// an empty list, not absent: absent means "parse everything".)
func noMentions() *discordgo.MessageAllowedMentions {
	return &discordgo.MessageAllowedMentions{Parse: []discordgo.AllowedMentionType{}}
}

var (
	roleMention = regexp.MustCompile(`<@&(\d+)>`)
	userMention = regexp.MustCompile(`<@!?(\d+)>`)
)

// withPing puts a reply's Ping before its text and returns the allowed
// mentions that let exactly the roles and users named in Ping be notified.
func withPing(r bot.Reply) (bot.Reply, *discordgo.MessageAllowedMentions) {
	allowed := noMentions()
	if r.Ping == "" {
		return r, allowed
	}
	for _, m := range roleMention.FindAllStringSubmatch(r.Ping, -1) {
		allowed.Roles = append(allowed.Roles, m[1])
	}
	for _, m := range userMention.FindAllStringSubmatch(r.Ping, -1) {
		allowed.Users = append(allowed.Users, m[1])
	}
	r.Text = r.Ping + " " + r.Text
	return r, allowed
}

// Send posts a reply. A reply to an interaction edits the deferred
// response (then follows up); other replies go into the thread: the
// existing thread or forum post, the DM, or a thread started now from the
// user's top-level message.
func (a *Adapter) Send(ctx context.Context, to bot.ThreadRef, r bot.Reply) error {
	if p := a.pendingFor(r.ReplyTo); p != nil {
		return a.sendInteraction(ctx, p, r)
	}
	_, err := a.Publish(ctx, to, r)
	return err
}

// staffText names the staff member a reply comes from (a desk reply, a
// reply relayed from a staff thread).
func staffText(r bot.Reply) string {
	if r.AuthorName == "" {
		return r.Text
	}
	return "**" + r.AuthorName + "** (" + r.StaffMark() + "): " + r.Text
}

// Publish posts a reply into the thread like Send and returns the id of
// its first message (bot.Publisher). A staff reply (AuthorName) goes
// through the channel's webhook in the staff member's name where the bot
// may manage webhooks (webhook.go), and otherwise names them in the text.
func (a *Adapter) Publish(ctx context.Context, to bot.ThreadRef, r bot.Reply) (string, error) {
	plain, allowed := withPing(r)
	chunks, comps := render(plain)
	if len(chunks) == 0 && len(comps) == 0 {
		return "", nil
	}
	channelID, ref, err := a.destination(ctx, to, r.ReplyTo)
	if err != nil {
		return "", err
	}
	if len(chunks) == 0 {
		chunks = []string{""}
	}
	if r.AuthorName != "" && ref == nil {
		if id, ok, err := a.publishAsStaff(ctx, channelID, r, chunks, comps, allowed); ok {
			return id, err
		}
	}
	if r.AuthorName != "" {
		r.Text = staffText(r)
		r, allowed = withPing(r)
		chunks, comps = render(r)
	}
	first := ""
	for i, c := range chunks {
		msg := &discordgo.MessageSend{Content: c, AllowedMentions: allowed}
		if i == 0 && ref != nil {
			msg.Reference = ref
		}
		if i == len(chunks)-1 {
			msg.Components = comps
		}
		m, err := a.createMessage(ctx, channelID, msg, replyNonce(r, i))
		if err != nil {
			a.log.Warn("posting a reply failed", "channel", channelID, "why", explain(err), "err", err)
			return first, fmt.Errorf("discord: post in channel %s: %s: %w", channelID, explain(err), err)
		}
		a.msgChan.Add(m.ID, channelID)
		if first == "" {
			first = m.ID
		}
	}
	return first, nil
}

// createMessage posts a message (POST /channels/{id}/messages). With a
// nonce it asks Discord to enforce it (enforce_nonce): when the bot posted
// a message with the same nonce in the last few minutes, Discord answers
// with that message instead of posting another. discordgo's MessageSend
// has neither field, so the body is MessageSend with both added, sent
// through the session's own request path (same bucket, retries and
// rate-limit handling as ChannelMessageSendComplex without files).
func (a *Adapter) createMessage(ctx context.Context, channelID string, msg *discordgo.MessageSend, nonce string) (*discordgo.Message, error) {
	if nonce == "" {
		return a.s.ChannelMessageSendComplex(channelID, msg, discordgo.WithContext(ctx))
	}
	body := struct {
		*discordgo.MessageSend
		Nonce        string `json:"nonce"`
		EnforceNonce bool   `json:"enforce_nonce"`
	}{msg, nonce, true}
	ep := discordgo.EndpointChannelMessages(channelID)
	resp, err := a.s.RequestWithBucketID("POST", ep, body, ep, discordgo.WithContext(ctx))
	if err != nil {
		return nil, err
	}
	var m discordgo.Message
	if err := json.Unmarshal(resp, &m); err != nil {
		return nil, fmt.Errorf("discord: decode created message: %w", err)
	}
	return &m, nil
}

// replyNonce names the i-th message of a reply to an event the same way in
// every run: its event key, its place among the event's replies and i,
// hashed to 24 hex digits (Discord takes at most 25 characters). A reply
// the killed run posted just before it could record that is then not
// posted again by the resumed event. "" for posts nobody asked for
// (alerts, staff relays), which are not resumed.
func replyNonce(r bot.Reply, i int) string {
	if r.ReplyTo == "" {
		return ""
	}
	sum := sha256.Sum256([]byte(r.ReplyTo + "\x00" + strconv.Itoa(r.Part) + "\x00" + strconv.Itoa(i)))
	return hex.EncodeToString(sum[:12])
}

// Edit replaces the text of a message the bot posted (a reply's first
// part), itself or through a channel webhook (a staff reply).
func (a *Adapter) Edit(ctx context.Context, in bot.ThreadRef, messageID string, r bot.Reply) error {
	if _, seen := a.msgChan.Get(messageID); !seen {
		a.learnThread(ctx, in)
	}
	ch := a.messageChannel(in, messageID)
	if hook, ok := a.hookMsgs.Get(messageID); ok {
		return a.editHooked(ctx, hook, ch, messageID, r)
	}
	staff := r
	staff.Text = staffText(r)
	chunks, _ := render(staff)
	if len(chunks) == 0 {
		return nil
	}
	edit := &discordgo.MessageEdit{ID: messageID, Channel: ch, Content: &chunks[0], AllowedMentions: noMentions()}
	_, err := a.s.ChannelMessageEditComplex(edit, discordgo.WithContext(ctx))
	if err != nil && restCode(err) == discordgo.ErrCodeCannotEditFromAnotherUser {
		// Not the bot's own message: a staff reply posted through the
		// channel's webhook before a restart.
		if hook, ok := a.hookOf(ctx, ch, messageID); ok {
			return a.editHooked(ctx, hook, ch, messageID, r)
		}
	}
	if err != nil {
		return fmt.Errorf("discord: edit message %s in channel %s: %s: %w", messageID, ch, explain(err), err)
	}
	return nil
}

func (a *Adapter) editHooked(ctx context.Context, hook webhookRef, ch, messageID string, r bot.Reply) error {
	chunks, _ := render(r)
	if len(chunks) == 0 {
		return nil
	}
	if err := a.editAsStaff(ctx, hook, messageID, chunks[0]); err != nil {
		return fmt.Errorf("discord: edit webhook message %s in channel %s: %s: %w", messageID, ch, explain(err), err)
	}
	return nil
}

// Delete deletes a message the bot posted, itself or through a channel
// webhook; one gone already is fine.
func (a *Adapter) Delete(ctx context.Context, in bot.ThreadRef, messageID string) error {
	if _, seen := a.msgChan.Get(messageID); !seen {
		a.learnThread(ctx, in)
	}
	ch := a.messageChannel(in, messageID)
	hook, hooked := a.hookMsgs.Get(messageID)
	var err error
	if !hooked {
		err = a.s.ChannelMessageDelete(ch, messageID, discordgo.WithContext(ctx))
		if restCode(err) == discordgo.ErrCodeMissingPermissions {
			// Someone else's message without Manage Messages: a staff
			// reply posted through the channel's webhook before a restart.
			hook, hooked = a.hookOf(ctx, ch, messageID)
		}
	}
	if hooked {
		err = a.deleteAsStaff(ctx, hook, messageID)
	}
	if err != nil && restCode(err) != discordgo.ErrCodeUnknownMessage {
		return fmt.Errorf("discord: delete message %s in channel %s: %s: %w", messageID, ch, explain(err), err)
	}
	return nil
}

// DirectMessage sends a reply to a person in their DM channel with the bot,
// opening it first (POST /users/@me/channels, which returns the existing
// channel when there is one). Like every other send it pings nobody and is
// split at Discord's message limit, buttons going with the last part.
func (a *Adapter) DirectMessage(ctx context.Context, userID string, r bot.Reply) error {
	chunks, comps := render(r)
	if len(chunks) == 0 && len(comps) == 0 {
		return nil
	}
	channelID, ok := a.dmChan.Get(userID)
	if !ok {
		c, err := a.s.UserChannelCreate(userID, discordgo.WithContext(ctx))
		if err != nil {
			a.log.Warn("opening a DM channel failed", "user", userID, "why", explain(err), "err", err)
			return fmt.Errorf("discord: open DM with user %s: %s: %w", userID, explain(err), err)
		}
		channelID = c.ID
		a.dmChan.Add(userID, channelID)
	}
	if len(chunks) == 0 {
		chunks = []string{""}
	}
	for i, c := range chunks {
		msg := &discordgo.MessageSend{Content: c, AllowedMentions: noMentions()}
		if i == len(chunks)-1 {
			msg.Components = comps
		}
		m, err := a.s.ChannelMessageSendComplex(channelID, msg, discordgo.WithContext(ctx))
		if err != nil {
			// The person may block DMs from server members (50007).
			a.log.Warn("sending a DM failed", "user", userID, "channel", channelID, "why", explain(err), "err", err)
			return fmt.Errorf("discord: DM to user %s: %s: %w", userID, explain(err), err)
		}
		a.msgChan.Add(m.ID, channelID)
	}
	return nil
}

// destination is the channel a reply goes to, with a message reference
// when it has to answer at the top of the channel.
func (a *Adapter) destination(ctx context.Context, to bot.ThreadRef, replyTo string) (string, *discordgo.MessageReference, error) {
	if to.ThreadID == "" || to.ThreadID == to.ChannelID {
		return to.ChannelID, nil, nil // a DM, or a post to a channel itself
	}
	if a.isThread(to.ThreadID) {
		return to.ThreadID, nil, nil
	}
	if strings.HasPrefix(replyTo, iaPrefix) && strings.TrimPrefix(replyTo, iaPrefix) == to.ThreadID {
		// A command's thread is named after the interaction, which is no
		// message: its late replies go to the channel.
		return to.ChannelID, nil, nil
	}
	if _, seen := a.topLevel.Get(to.ThreadID); !seen {
		// Not a message we saw at the top of a channel: maybe a thread we
		// forgot (a restart, an old conversation).
		if c, err := a.s.Channel(to.ThreadID, discordgo.WithContext(ctx)); err == nil && isThreadType(c.Type) {
			a.rememberChannel(c)
			return c.ID, nil, nil
		}
	}
	return a.startThread(ctx, to.ChannelID, to.ThreadID)
}

func (a *Adapter) isThread(id string) bool {
	a.mu.Lock()
	defer a.mu.Unlock()
	c, ok := a.channels[id]
	return ok && c.isThread()
}

// startThread starts a thread from a top-level message, which gives the
// thread the message's id. When the message already has one (160004) that
// thread is used. When no thread can be started (no permission, a channel
// type without threads) the reply goes to the channel as a reply to the
// message.
func (a *Adapter) startThread(ctx context.Context, channelID, messageID string) (string, *discordgo.MessageReference, error) {
	a.mu.Lock()
	lock, ok := a.starting[messageID]
	if !ok {
		lock = &sync.Mutex{}
		a.starting[messageID] = lock
	}
	a.mu.Unlock()
	lock.Lock()
	defer func() {
		lock.Unlock()
		a.mu.Lock()
		delete(a.starting, messageID)
		a.mu.Unlock()
	}()
	if a.isThread(messageID) {
		return messageID, nil, nil // started while we waited
	}
	name, _ := a.topLevel.Get(messageID)
	if name == "" {
		name = "Answer"
	}
	th, err := a.s.MessageThreadStartComplex(channelID, messageID, &discordgo.ThreadStart{
		Name:                name,
		AutoArchiveDuration: a.opts.ThreadArchive,
		Type:                discordgo.ChannelTypeGuildPublicThread,
	}, discordgo.WithContext(ctx))
	switch {
	case err == nil:
		if th.GuildID == "" {
			th.GuildID = a.guildOf(channelID)
		}
		a.rememberChannel(th)
		return th.ID, nil, nil
	case restCode(err) == discordgo.ErrCodeThreadAlreadyCreatedForThisMessage:
		a.rememberChannel(&discordgo.Channel{ID: messageID, GuildID: a.guildOf(channelID), Type: discordgo.ChannelTypeGuildPublicThread, ParentID: channelID})
		return messageID, nil, nil
	case restCode(err) == discordgo.ErrCodeUnknownChannel:
		a.log.Warn("cannot answer: the channel is gone", "channel", channelID, "message", messageID, "err", err)
		return "", nil, fmt.Errorf("discord: start thread in channel %s: %s: %w", channelID, explain(err), err)
	}
	a.log.Warn("cannot start a thread; answering in the channel instead", "channel", channelID, "message", messageID, "why", explain(err), "err", err)
	if restCode(err) == discordgo.ErrCodeUnknownMessage {
		return channelID, nil, nil
	}
	no := false
	return channelID, &discordgo.MessageReference{MessageID: messageID, ChannelID: channelID, FailIfNotExists: &no}, nil
}

func (a *Adapter) guildOf(channelID string) string {
	a.mu.Lock()
	defer a.mu.Unlock()
	return a.channels[channelID].GuildID
}

// messageChannel is the channel a message lives in: where it was seen, or
// by the thread rules (a thread's starter message lives in the parent; a
// forum post's first message in the post).
func (a *Adapter) messageChannel(in bot.ThreadRef, messageID string) string {
	if c, ok := a.msgChan.Get(messageID); ok {
		return c
	}
	if in.ThreadID == "" || in.ThreadID == in.ChannelID {
		return in.ChannelID
	}
	a.mu.Lock()
	th, isThread := a.channels[in.ThreadID]
	a.mu.Unlock()
	if messageID == in.ThreadID {
		if isThread && isForumType(th.ParentType) {
			return in.ThreadID
		}
		return in.ChannelID
	}
	if isThread {
		return in.ThreadID
	}
	return in.ChannelID
}

// Typing shows "Einsatz is typing…" where the answer will appear (in the
// parent channel until the thread exists). Interactions show Discord's own
// "thinking" instead.
func (a *Adapter) Typing(ctx context.Context, in bot.ThreadRef) error {
	if a.pendingFor(interactionKey(in.ThreadID)) != nil {
		return nil
	}
	ch := in.ChannelID
	if in.ThreadID != "" && a.isThread(in.ThreadID) {
		ch = in.ThreadID
	}
	if err := a.s.ChannelTyping(ch, discordgo.WithContext(ctx)); err != nil {
		return fmt.Errorf("discord: typing in channel %s: %s: %w", ch, explain(err), err)
	}
	return nil
}

// React adds a reaction (a unicode emoji, or name:id for a custom one).
func (a *Adapter) React(ctx context.Context, in bot.ThreadRef, messageID, emoji string) error {
	ch := a.messageChannel(in, messageID)
	if err := a.s.MessageReactionAdd(ch, messageID, emoji, discordgo.WithContext(ctx)); err != nil {
		a.log.Warn("adding a reaction failed", "channel", ch, "message", messageID, "why", explain(err), "err", err)
		return fmt.Errorf("discord: react in channel %s: %s: %w", ch, explain(err), err)
	}
	return nil
}

// Interactions.

// handleInteraction acknowledges an interaction at once (Discord allows
// 3 s), then hands it to the core. Commands get "thinking…" (type 5) that
// the first reply replaces; buttons are acknowledged silently (type 6) and
// their replies follow up.
func (a *Adapter) handleInteraction(i *discordgo.Interaction) {
	ctx, cancel := a.lookupCtx()
	defer cancel()
	id := a.identity()
	ch := a.channel(ctx, i.ChannelID, i.GuildID)
	ev, ok := translateInteraction(i, ch, id)
	if !ok {
		if i.Type == discordgo.InteractionApplicationCommand {
			a.respondNow(ctx, i, "This command is not available here.")
		}
		return
	}
	p := &pendingInteraction{ia: i, at: time.Now(), component: i.Type == discordgo.InteractionMessageComponent}
	p.ephemeral = ev.Command == ForwardCommand || a.private(ev.Command)
	resp := &discordgo.InteractionResponse{Type: discordgo.InteractionResponseDeferredChannelMessageWithSource}
	if p.component {
		resp.Type = discordgo.InteractionResponseDeferredMessageUpdate
	} else if p.ephemeral {
		resp.Data = &discordgo.InteractionResponseData{Flags: discordgo.MessageFlagsEphemeral}
	}
	a.mu.Lock()
	a.pending[ev.Key] = p
	a.mu.Unlock()
	dctx, dcancel := context.WithTimeout(ctx, 2500*time.Millisecond)
	err := a.s.InteractionRespond(i, resp, discordgo.WithContext(dctx))
	dcancel()
	switch {
	case err != nil && restCode(err) == discordgo.ErrCodeInteractionHasAlreadyBeenAcknowledged:
		// Another process's gateway got it too (cluster mode without
		// shards) and deferred it: the event carries its answer handle.
		a.log.Debug("the interaction was acknowledged by another process", "channel", i.ChannelID)
	case err != nil:
		a.log.Warn("acknowledging an interaction failed; its replies go to the channel", "channel", i.ChannelID, "why", explain(err), "err", err)
	}
	if err != nil {
		a.mu.Lock()
		delete(a.pending, ev.Key)
		a.mu.Unlock()
	} else {
		p.deferred = true
	}
	if err := a.submitInteraction(ev, p, err); err != nil && !errors.Is(err, bot.ErrQueueFull) {
		a.Completed(&ev) // the core will not: clean up now
	}
}

// private says whether a command's replies are ephemeral: its spec says
// so, or it is for staff only.
func (a *Adapter) private(command string) bool {
	for _, c := range a.opts.Commands {
		if commandName(c.Name) == command && (c.Private || c.StaffOnly) {
			return true
		}
	}
	return false
}

// respondNow answers an interaction the core does not handle.
func (a *Adapter) respondNow(ctx context.Context, i *discordgo.Interaction, text string) {
	err := a.s.InteractionRespond(i, &discordgo.InteractionResponse{
		Type: discordgo.InteractionResponseChannelMessageWithSource,
		Data: &discordgo.InteractionResponseData{Content: text, Flags: discordgo.MessageFlagsEphemeral, AllowedMentions: noMentions()},
	}, discordgo.WithContext(ctx))
	if err != nil {
		a.log.Debug("answering an unknown interaction", "channel", i.ChannelID, "err", err)
	}
}

func (a *Adapter) pendingFor(key string) *pendingInteraction {
	if !strings.HasPrefix(key, iaPrefix) {
		return nil
	}
	a.mu.Lock()
	defer a.mu.Unlock()
	return a.pending[key]
}

// sendInteraction answers through the interaction's webhook: the first
// chunk replaces "thinking…", the rest follow up. Replies to a button
// always follow up; notices there are shown to the clicker only.
func (a *Adapter) sendInteraction(ctx context.Context, p *pendingInteraction, r bot.Reply) error {
	chunks, comps := render(r)
	if len(chunks) == 0 && len(comps) == 0 {
		return nil
	}
	if len(chunks) == 0 {
		chunks = []string{""}
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	var flags discordgo.MessageFlags
	if p.ephemeral || (p.component && r.Notice) {
		flags = discordgo.MessageFlagsEphemeral
	}
	for i, c := range chunks {
		var rowComps []discordgo.MessageComponent
		if i == len(chunks)-1 {
			rowComps = comps
		}
		var err error
		if !p.component && !p.edited {
			edit := &discordgo.WebhookEdit{Content: &c, AllowedMentions: noMentions()}
			if rowComps != nil {
				edit.Components = &rowComps
			}
			_, err = a.s.InteractionResponseEdit(p.ia, edit, discordgo.WithContext(ctx))
			if err == nil {
				p.edited = true
			}
		} else {
			_, err = a.s.FollowupMessageCreate(p.ia, true, &discordgo.WebhookParams{
				Content: c, Components: rowComps, AllowedMentions: noMentions(), Flags: flags,
			}, discordgo.WithContext(ctx))
		}
		if err != nil {
			err = redact(err, p.ia.Token)
			a.log.Warn("answering an interaction failed", "channel", p.ia.ChannelID, "why", explain(err), "err", err)
			return fmt.Errorf("discord: answer interaction in channel %s: %s: %w", p.ia.ChannelID, explain(err), err)
		}
		p.replied = true
	}
	return nil
}

// Completed finishes an interaction once the core is done with it. A
// command that got no reply at all (the thread is owned by staff, a rate
// limit, a silent handler) has its "thinking…" placeholder deleted rather
// than left spinning for 15 minutes or replaced by filler: the command
// leaves no trace. A button needs nothing: its acknowledgement shows none.
func (a *Adapter) Completed(ev *bot.Event) {
	if ev == nil || !strings.HasPrefix(ev.Key, iaPrefix) {
		return
	}
	a.mu.Lock()
	p := a.pending[ev.Key]
	delete(a.pending, ev.Key)
	a.mu.Unlock()
	if p == nil {
		return
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.replied || p.component || !p.deferred {
		return
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if err := a.s.InteractionResponseDelete(p.ia, discordgo.WithContext(ctx)); err != nil {
		a.log.Debug("removing an unanswered interaction's placeholder", "channel", p.ia.ChannelID, "err", redact(err, p.ia.Token))
	}
}

// sweepPending forgets interactions older than their 15-minute token.
func (a *Adapter) sweepPending() {
	a.mu.Lock()
	defer a.mu.Unlock()
	for k, p := range a.pending {
		if time.Since(p.at) > 15*time.Minute {
			delete(a.pending, k)
		}
	}
}
