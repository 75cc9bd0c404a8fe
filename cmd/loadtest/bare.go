package main

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"net/url"
	"os"
	"os/signal"
	"strings"
	"sync"
	"syscall"
	"time"

	"github.com/bwmarrin/discordgo"
	goopenai "github.com/sashabaranov/go-openai"
	"github.com/slack-go/slack"
	"github.com/slack-go/slack/slackevents"
	"github.com/slack-go/slack/socketmode"
)

// The bare reference bot: what a developer writes in an afternoon directly
// on discordgo, slack-go and go-openai. It answers every mention by asking
// the LLM and replying in the message's thread, with no storage, no
// ordering, no de-duplication and no features. It is the yardstick for
// Einsatz's overhead, not a model to copy.
//
// It runs in its own process (LOADTEST_ROLE=bare) so its CPU time and peak
// RSS are its own; where to connect comes from the environment:
// LOADTEST_DISCORD_URL, LOADTEST_SLACK_URL, LOADTEST_LLM_URL (each empty =
// platform off) and the tokens DISCORD_TOKEN, SLACK_BOT_TOKEN,
// SLACK_APP_TOKEN, OPENAI_API_KEY.

const roleEnv = "LOADTEST_ROLE"

// runBare serves until SIGTERM or SIGINT.
func runBare() error {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	log := slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelWarn}))

	cfg := goopenai.DefaultConfig(os.Getenv("OPENAI_API_KEY"))
	cfg.BaseURL = os.Getenv("LOADTEST_LLM_URL")
	llm := goopenai.NewClientWithConfig(cfg)
	ask := func(ctx context.Context, question string) (string, error) {
		resp, err := llm.CreateChatCompletion(ctx, goopenai.ChatCompletionRequest{
			Model: "gpt-4o-mini",
			Messages: []goopenai.ChatCompletionMessage{
				{Role: goopenai.ChatMessageRoleSystem, Content: "You are a helpful community bot."},
				{Role: goopenai.ChatMessageRoleUser, Content: question},
			},
		})
		if err != nil {
			return "", fmt.Errorf("chat completion: %w", err)
		}
		if len(resp.Choices) == 0 {
			return "", errors.New("chat completion: no choices")
		}
		return resp.Choices[0].Message.Content, nil
	}

	var wg sync.WaitGroup
	errs := make(chan error, 2)
	if u := os.Getenv("LOADTEST_DISCORD_URL"); u != "" {
		wg.Add(1)
		go func() { defer wg.Done(); errs <- bareDiscord(ctx, u, os.Getenv("DISCORD_TOKEN"), ask, log) }()
	}
	if u := os.Getenv("LOADTEST_SLACK_URL"); u != "" {
		wg.Add(1)
		go func() {
			defer wg.Done()
			errs <- bareSlack(ctx, u, os.Getenv("SLACK_BOT_TOKEN"), os.Getenv("SLACK_APP_TOKEN"), ask, log)
		}()
	}
	wg.Wait()
	close(errs)
	var all []error
	for err := range errs {
		if err != nil && !errors.Is(err, context.Canceled) {
			all = append(all, err)
		}
	}
	return errors.Join(all...)
}

type askFunc func(ctx context.Context, question string) (string, error)

// bareDiscord answers mentions in a thread started from the message.
func bareDiscord(ctx context.Context, apiURL, token string, ask askFunc, log *slog.Logger) error {
	base, err := url.Parse(apiURL)
	if err != nil {
		return fmt.Errorf("discord url: %w", err)
	}
	s, err := discordgo.New("Bot " + token)
	if err != nil {
		return fmt.Errorf("discord: %w", err)
	}
	// discordgo's endpoints are fixed to discord.com at init: send them to the fake.
	s.Client = &http.Client{Timeout: 20 * time.Second, Transport: hostRewrite{base: base, next: http.DefaultTransport}}
	s.Identify.Intents = discordgo.IntentsGuilds | discordgo.IntentsGuildMessages | discordgo.IntentsMessageContent
	s.StateEnabled = false
	s.LogLevel = discordgo.LogError
	var me string
	var meMu sync.Mutex
	s.AddHandler(func(_ *discordgo.Session, r *discordgo.Ready) {
		meMu.Lock()
		me = r.User.ID
		meMu.Unlock()
	})
	s.AddHandler(func(s *discordgo.Session, m *discordgo.MessageCreate) {
		meMu.Lock()
		id := me
		meMu.Unlock()
		if m.Author == nil || m.Author.Bot || !mentions(m.Mentions, id) {
			return
		}
		answer, err := ask(ctx, m.Content)
		if err != nil {
			log.Warn("discord: llm", "err", err)
			return
		}
		th, err := s.MessageThreadStartComplex(m.ChannelID, m.ID, &discordgo.ThreadStart{
			Name: "Answer", AutoArchiveDuration: 1440, Type: discordgo.ChannelTypeGuildPublicThread})
		if err != nil {
			log.Warn("discord: start thread", "err", err)
			return
		}
		if _, err := s.ChannelMessageSend(th.ID, answer); err != nil {
			log.Warn("discord: send", "err", err)
		}
	})
	if err := s.Open(); err != nil {
		return fmt.Errorf("discord: open: %w", err)
	}
	<-ctx.Done()
	return s.Close()
}

func mentions(users []*discordgo.User, id string) bool {
	for _, u := range users {
		if u != nil && u.ID == id {
			return true
		}
	}
	return false
}

// hostRewrite sends discord.com requests to the fake.
type hostRewrite struct {
	base *url.URL
	next http.RoundTripper
}

func (t hostRewrite) RoundTrip(r *http.Request) (*http.Response, error) {
	if r.URL.Host != "discord.com" {
		return t.next.RoundTrip(r)
	}
	r = r.Clone(r.Context())
	r.URL.Scheme, r.URL.Host, r.Host = t.base.Scheme, t.base.Host, t.base.Host
	if p := strings.TrimSuffix(t.base.Path, "/"); p != "" {
		r.URL.Path = p + r.URL.Path
	}
	return t.next.RoundTrip(r)
}

// bareSlack answers app_mention events in the message's thread.
func bareSlack(ctx context.Context, apiURL, botToken, appToken string, ask askFunc, log *slog.Logger) error {
	api := slack.New(botToken, slack.OptionAPIURL(apiURL), slack.OptionAppLevelToken(appToken))
	smc := socketmode.New(api)
	done := make(chan error, 1)
	go func() { done <- smc.RunContext(ctx) }()
	for {
		select {
		case err := <-done:
			return err
		case evt := <-smc.Events:
			if evt.Type != socketmode.EventTypeEventsAPI || evt.Request == nil {
				continue
			}
			smc.Ack(*evt.Request)
			ev, ok := evt.Data.(slackevents.EventsAPIEvent)
			if !ok {
				continue
			}
			m, ok := ev.InnerEvent.Data.(*slackevents.AppMentionEvent)
			if !ok {
				continue
			}
			go func() {
				answer, err := ask(ctx, m.Text)
				if err != nil {
					log.Warn("slack: llm", "err", err)
					return
				}
				thread := m.ThreadTimeStamp
				if thread == "" {
					thread = m.TimeStamp
				}
				if _, _, err := api.PostMessageContext(ctx, m.Channel, slack.MsgOptionText(answer, false), slack.MsgOptionTS(thread)); err != nil {
					log.Warn("slack: post", "err", err)
				}
			}()
		}
	}
}
