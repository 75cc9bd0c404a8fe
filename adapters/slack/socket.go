package slack

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"

	"github.com/slack-go/slack"
	"github.com/slack-go/slack/socketmode"

	"github.com/einsatz/einsatz/bot"
)

// runSocket holds the Socket Mode connection until ctx ends. slack-go
// reconnects on its own (on Slack's disconnect message, a dead socket or a
// missed ping) with a fresh URL from apps.connections.open.
func (a *Adapter) runSocket(ctx context.Context) error {
	smc := socketmode.New(a.api,
		socketmode.OptionPingInterval(a.opts.PingTimeout),
		socketmode.OptionLog(slogOutput{a.log}),
	)
	sctx, cancel := context.WithCancel(ctx)
	defer cancel()
	done := make(chan error, 1)
	go func() { done <- smc.RunContext(sctx) }()

	var fatal error
	for {
		select {
		case err := <-done:
			if ctx.Err() != nil {
				return ctx.Err()
			}
			if fatal != nil {
				return fatal
			}
			fix := a.explain("apps.connections.open", err)
			a.log.Error("slack: socket mode stopped", "err", err, "fix", fix)
			return fmt.Errorf("slack: socket mode: %w (%s)", err, fix)
		case evt := <-smc.Events:
			if err := a.onSocketEvent(sctx, smc, evt); err != nil && fatal == nil {
				fatal = err
				cancel()
			}
		}
	}
}

// onSocketEvent acknowledges an envelope first, then hands it on. It
// returns an error only for a connection failure no retry can fix.
func (a *Adapter) onSocketEvent(ctx context.Context, smc *socketmode.Client, evt socketmode.Event) error {
	switch evt.Type {
	case socketmode.EventTypeEventsAPI, socketmode.EventTypeSlashCommand, socketmode.EventTypeInteractive:
		req := evt.Request
		if req == nil {
			return nil
		}
		if err := smc.AckCtx(ctx, req.EnvelopeID, nil); err != nil && ctx.Err() == nil {
			a.log.Error("slack: acknowledging envelope", "envelope", req.EnvelopeID, "err", err)
		}
		payload := req.Payload
		switch evt.Type {
		case socketmode.EventTypeEventsAPI:
			a.accept("event", func(env Env) (bot.Event, error) { return TranslateEvent(payload, env) }, req.RetryAttempt)
		case socketmode.EventTypeSlashCommand:
			a.accept("command", func(env Env) (bot.Event, error) {
				c, err := SlashCommandFromJSON(payload)
				if err != nil {
					return bot.Event{}, err
				}
				return TranslateCommand(c, env)
			}, req.RetryAttempt)
		default:
			a.accept("interaction", func(env Env) (bot.Event, error) { return TranslateInteraction(payload, env) }, req.RetryAttempt)
		}
	case socketmode.EventTypeErrorBadMessage:
		// slack-go could not parse it, so nobody acked it: ack anyway, or
		// Slack keeps redelivering what we cannot read.
		if bad, ok := evt.Data.(*socketmode.ErrorBadMessage); ok {
			var env struct {
				EnvelopeID string `json:"envelope_id"`
			}
			if json.Unmarshal(bad.Message, &env) == nil && env.EnvelopeID != "" {
				_ = smc.AckCtx(ctx, env.EnvelopeID, nil)
			}
			a.log.Warn("slack: unreadable socket message acknowledged and skipped", "err", bad.Cause)
		}
	case socketmode.EventTypeConnectionError:
		if ce, ok := evt.Data.(*slack.ConnectionErrorEvent); ok {
			if fatalAuth(ce.ErrorObj) {
				fix := a.explain("apps.connections.open", ce.ErrorObj)
				a.log.Error("slack: app-level token rejected", "err", ce.ErrorObj, "fix", fix)
				return fmt.Errorf("slack: apps.connections.open: %w (%s)", ce.ErrorObj, fix)
			}
			var rl *slack.RateLimitedError
			if errors.As(ce.ErrorObj, &rl) {
				a.log.Warn("slack: rate-limited while connecting; waiting", "retry_after", rl.RetryAfter)
			} else {
				a.log.Warn("slack: socket connection failed; retrying", "err", ce.ErrorObj, "attempt", ce.Attempt, "backoff", ce.Backoff)
			}
		}
	case socketmode.EventTypeConnected:
		if c, ok := evt.Data.(*socketmode.ConnectedEvent); ok {
			a.log.Info("slack: socket mode connected", "connection", c.ConnectionCount)
		}
	case socketmode.EventTypeIncomingError, socketmode.EventTypeErrorWriteFailed:
		a.log.Warn("slack: socket error; slack-go reconnects", "type", evt.Type)
	case socketmode.EventTypeInvalidAuth:
		return errors.New("slack: socket mode: invalid auth (404 from apps.connections.open): check slack.app_token and slack.api_url")
	default:
		a.log.Debug("slack: socket event", "type", evt.Type)
	}
	return nil
}
