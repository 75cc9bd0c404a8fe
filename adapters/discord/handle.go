package discord

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"strings"
	"time"

	"github.com/bwmarrin/discordgo"

	"github.com/einsatz/einsatz/bot"
)

// Interactions answered by another process (cluster mode, docs/cluster.md).
//
// The node whose gateway gets an interaction defers it ("thinking…"), but
// the node holding the channel's partition posts the replies. Discord lets
// any process edit the deferred response (PATCH
// /webhooks/{application.id}/{token}/messages/@original) and follow up
// (POST /webhooks/{application.id}/{token}) for 15 minutes, with the
// application id and the interaction token. So the event carries an answer
// handle with both (a sink with SubmitWithHandle takes it), and the node
// posting a reply answers through it (SendWithHandle). The token is a
// credential for 15 minutes: it is never logged.

// tokenLife is how long an interaction token lets the bot answer; a reply
// due later (with a margin for the request) is posted as a plain message.
const tokenLife = 15*time.Minute - 30*time.Second

// answerHandle is what another process needs to answer an interaction.
type answerHandle struct {
	ID        string    `json:"id"`
	AppID     string    `json:"app_id"`
	Token     string    `json:"token"`
	ChannelID string    `json:"channel_id"`
	At        time.Time `json:"at"`                  // when the interaction arrived
	Component bool      `json:"component,omitempty"` // a button: acknowledged silently, replies follow up
	Ephemeral bool      `json:"ephemeral,omitempty"` // replies only the user sees
}

// LogValue and String keep the token out of any log line or error the
// handle gets into.
func (h answerHandle) LogValue() slog.Value { return slog.StringValue(h.String()) }

func (h answerHandle) String() string { return "interaction " + h.ID }

func (h answerHandle) interaction() *discordgo.Interaction {
	return &discordgo.Interaction{ID: h.ID, AppID: h.AppID, Token: h.Token, ChannelID: h.ChannelID}
}

// handleSink is a sink that carries an answer handle with an event (the
// cluster's event stream).
type handleSink interface {
	SubmitWithHandle(ev bot.Event, handle []byte) error
}

// submitInteraction hands an acknowledged interaction to the sink, with
// its answer handle when the sink carries one. acked: this process's
// deferral went through, or another process had acknowledged it already
// (every node's gateway gets it without shards).
func (a *Adapter) submitInteraction(ev bot.Event, p *pendingInteraction, ackErr error) error {
	a.sinkMu.RLock()
	hs, ok := a.sink.(handleSink)
	a.sinkMu.RUnlock()
	acked := ackErr == nil || restCode(ackErr) == discordgo.ErrCodeInteractionHasAlreadyBeenAcknowledged
	if !ok || !acked {
		return a.submit(ev)
	}
	handle, err := json.Marshal(answerHandle{ID: p.ia.ID, AppID: p.ia.AppID, Token: p.ia.Token, ChannelID: p.ia.ChannelID,
		At: p.at, Component: p.component, Ephemeral: p.ephemeral})
	if err != nil {
		return a.submit(ev)
	}
	err = hs.SubmitWithHandle(ev, handle)
	if err != nil && !errors.Is(err, bot.ErrQueueFull) {
		a.log.Warn("event not accepted by the core", "channel", ev.ChannelID, "event", ev.Key, "err", err)
	}
	return err
}

// redact takes the interaction token out of an error's text: a failed
// request's URL (a network error) holds it.
func redact(err error, token string) error {
	if err == nil || token == "" || !strings.Contains(err.Error(), token) {
		return err
	}
	return redactedError{msg: strings.ReplaceAll(err.Error(), token, "<token>"), err: err}
}

type redactedError struct {
	msg string
	err error
}

func (e redactedError) Error() string { return e.msg }
func (e redactedError) Unwrap() error { return e.err }

// tokenGone says whether Discord refused a webhook request because the
// interaction token expired (401, 50027 after 15 minutes) or is unknown.
func tokenGone(err error) bool {
	switch restCode(err) {
	case discordgo.ErrCodeInvalidWebhookTokenProvided, discordgo.ErrCodeUnknownWebhook:
		return true
	}
	return false
}

// SendWithHandle posts a reply to an interaction through its answer
// handle, from any process: the first message of the first reply
// (Reply.Part 0) replaces a command's "thinking…", everything else
// follows up (a button's replies always do). Editing @original again
// (the event handled a second time after a failover) shows the same
// text. Once the token expired the reply is posted as a plain message;
// one only the user was to see is dropped rather than shown to all.
func (a *Adapter) SendWithHandle(ctx context.Context, to bot.ThreadRef, r bot.Reply, handle []byte) error {
	var h answerHandle
	if err := json.Unmarshal(handle, &h); err != nil || h.Token == "" || h.AppID == "" {
		return a.Send(ctx, to, r)
	}
	ephemeral := h.Ephemeral || (h.Component && r.Notice)
	if time.Since(h.At) > tokenLife {
		return a.sendExpired(ctx, to, r, h, ephemeral)
	}
	chunks, comps := render(r)
	if len(chunks) == 0 && len(comps) == 0 {
		return nil
	}
	if len(chunks) == 0 {
		chunks = []string{""}
	}
	var flags discordgo.MessageFlags
	if ephemeral {
		flags = discordgo.MessageFlagsEphemeral
	}
	ia := h.interaction()
	for i, c := range chunks {
		var rowComps []discordgo.MessageComponent
		if i == len(chunks)-1 {
			rowComps = comps
		}
		var err error
		if !h.Component && r.Part == 0 && i == 0 {
			edit := &discordgo.WebhookEdit{Content: &c, AllowedMentions: noMentions()}
			if rowComps != nil {
				edit.Components = &rowComps
			}
			_, err = a.s.InteractionResponseEdit(ia, edit, discordgo.WithContext(ctx))
		} else {
			_, err = a.s.FollowupMessageCreate(ia, true, &discordgo.WebhookParams{
				Content: c, Components: rowComps, AllowedMentions: noMentions(), Flags: flags,
			}, discordgo.WithContext(ctx))
		}
		if err != nil {
			err = redact(err, h.Token)
			if i == 0 && tokenGone(err) {
				return a.sendExpired(ctx, to, r, h, ephemeral)
			}
			a.log.Warn("answering an interaction failed", "channel", h.ChannelID, "why", explain(err), "err", err)
			return fmt.Errorf("discord: answer interaction in channel %s: %s: %w", h.ChannelID, explain(err), err)
		}
	}
	return nil
}

// sendExpired posts the reply to an interaction whose token expired as a
// plain message (a command's thread is no message: into the channel).
func (a *Adapter) sendExpired(ctx context.Context, to bot.ThreadRef, r bot.Reply, h answerHandle, ephemeral bool) error {
	if ephemeral {
		a.log.Warn("a private reply to an interaction was dropped: its token expired", "channel", h.ChannelID, "interaction", h.ID)
		return nil
	}
	a.log.Info("the interaction's token expired: its reply is posted as a message", "channel", h.ChannelID, "interaction", h.ID)
	_, err := a.Publish(ctx, to, r)
	return err
}

// CloseHandle removes the "thinking…" placeholder of a command that got
// no reply at all (see Completed), through its answer handle.
func (a *Adapter) CloseHandle(ctx context.Context, handle []byte) {
	var h answerHandle
	if err := json.Unmarshal(handle, &h); err != nil || h.Token == "" || h.Component || time.Since(h.At) > tokenLife {
		return
	}
	if err := a.s.InteractionResponseDelete(h.interaction(), discordgo.WithContext(ctx)); err != nil {
		a.log.Debug("removing an unanswered interaction's placeholder", "channel", h.ChannelID, "err", redact(err, h.Token))
	}
}
