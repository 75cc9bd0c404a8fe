// Command einsatz is a self-hosted community engagement bot for Discord,
// Slack and the web. This file is the wiring: load the config, make the
// logger, open storage, build the handlers and the router, start the
// adapters under one context that ends on SIGINT/SIGTERM, and close the
// adapters first and storage last.
//
// Where a message goes: an adapter turns it into a bot.Event and hands it to
// bot.Bot (bot/bot.go), which orders it per thread, records it, runs the
// observers, checks thread ownership and asks the router below for replies.
package main

import (
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"embed"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"log/slog"
	"net/http"
	"os"
	"os/signal"
	"path/filepath"
	"runtime"
	"strings"
	"sync"
	"syscall"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/spf13/cobra"

	"github.com/einsatz/einsatz/adapters/cli"
	"github.com/einsatz/einsatz/adapters/console"
	"github.com/einsatz/einsatz/adapters/discord"
	"github.com/einsatz/einsatz/adapters/openai"
	"github.com/einsatz/einsatz/adapters/slack"
	"github.com/einsatz/einsatz/adapters/web"
	"github.com/einsatz/einsatz/bot"
	"github.com/einsatz/einsatz/bot/config"
	"github.com/einsatz/einsatz/handlers/answer"
	"github.com/einsatz/einsatz/handlers/handoff"
	"github.com/einsatz/einsatz/handlers/imports"
	"github.com/einsatz/einsatz/handlers/inbox"
	"github.com/einsatz/einsatz/handlers/inbox/detect"
	"github.com/einsatz/einsatz/handlers/knowledge"
	"github.com/einsatz/einsatz/handlers/monitor"
	"github.com/einsatz/einsatz/handlers/privacy"
	"github.com/einsatz/einsatz/handlers/sentiment"
	"github.com/einsatz/einsatz/handlers/support"
	"github.com/einsatz/einsatz/storage"
)

// exampleKB is the knowledge base about Einsatz itself, answered from when
// knowledge.paths is empty.
//
//go:embed knowledge
var exampleKB embed.FS

// version is set at build time: go build -ldflags "-X main.version=v1.2.3".
var version = "dev"

func main() {
	if err := newRootCmd(os.Stdin, os.Stdout, os.Stderr).Execute(); err != nil {
		fmt.Fprintln(os.Stderr, "einsatz:", err)
		os.Exit(1)
	}
}

// newLogger makes the one logger; min raises the configured level (chat
// keeps the terminal for the conversation).
func newLogger(c config.Log, w io.Writer, min slog.Level) *slog.Logger {
	var level slog.Level
	if err := level.UnmarshalText([]byte(c.Level)); err != nil {
		level = slog.LevelInfo
	}
	opts := &slog.HandlerOptions{Level: max(level, min)}
	if c.Format == "json" {
		return slog.New(slog.NewJSONHandler(w, opts))
	}
	return slog.New(slog.NewTextHandler(w, opts))
}

// describe lists what the config turns on, for run and config check.
func describe(cfg *config.Config) []string {
	onOff := func(on bool) string {
		if on {
			return "on"
		}
		return "off"
	}
	kb := "built-in example knowledge base"
	if len(cfg.Knowledge.Paths) > 0 {
		kb = strings.Join(cfg.Knowledge.Paths, ", ")
	}
	return []string{
		"storage: " + cfg.Storage.Path,
		"knowledge: " + kb,
		"llm: " + onOff(cfg.LLM.On()),
		"discord: " + onOff(cfg.Discord.On()),
		"slack: " + onOff(cfg.Slack.On()),
	}
}

// app is the bot with its storage and knowledge base, shared by run and chat.
type app struct {
	store   *storage.Store
	kb      *knowledge.Base
	router  *bot.Router
	core    *bot.Bot
	handoff *handoff.Service
	inbox   *inbox.Service
	metrics *prometheus.Registry
}

func newApp(ctx context.Context, cfg *config.Config, log *slog.Logger) (*app, error) {
	store, err := openStore(cfg, log)
	if err != nil {
		return nil, err
	}
	kb, err := syncKnowledge(ctx, cfg, store, log)
	if err != nil {
		store.Close()
		return nil, err
	}

	text := func(lang, key string) string {
		return strings.ReplaceAll(cfg.Texts.Get(lang, key), "{bot}", cfg.Bot.Name)
	}
	// The core posts for the hand-off (notices, escalations); it is built
	// last, so they reach it through this late-bound poster.
	var core *bot.Bot
	poster := posterFunc(func(ctx context.Context, to bot.ThreadRef, r bot.Reply) error { return core.Post(ctx, to, r) })
	dm := inbox.DirectMessengerFunc(func(ctx context.Context, platform, userID string, r bot.Reply) error {
		return core.DirectMessage(ctx, platform, userID, r)
	})
	hours, err := handoffHours(cfg.Handoff.Hours)
	if err != nil {
		kb.Close()
		store.Close()
		return nil, err
	}
	analyzer := sentiment.New()
	llm := newLLM(cfg, log)
	ho := handoff.New(handoff.Options{
		Store:        store,
		Poster:       poster,
		Logger:       log,
		Text:         text,
		StaffChannel: bot.ThreadRef{Platform: cfg.Staff.Channel.Platform, ChannelID: cfg.Staff.Channel.ID},
		Mention:      cfg.Handoff.Mention,
		AutoTakeover: cfg.Handoff.AutoTakeover,
		ReleaseAfter: cfg.Handoff.ReleaseAfter,
		Reaction:     cfg.Handoff.Reaction,
		Hours:        hours,
		Sensitive:    cfg.Handoff.Sensitive,
		Summarize:    llmSummarizer(llm, cfg.LLM.Redact, cfg.LLM.Timeout),
		Sentiment: func(text, lang string) (string, float64) {
			r := analyzer.AnalyzeLang(text, lang)
			return r.Label, r.Score
		},
	})
	pv := privacy.New(store, text, nil)
	ib := newInbox(cfg, store, poster, dm, analyzer, llm, log)
	answers := answer.New(answer.Options{
		Search:          kb,
		Text:            text,
		LLM:             llm,
		Escalator:       ho,
		Persona:         cfg.LLM.Persona,
		BotName:         cfg.Bot.Name,
		Timeout:         cfg.LLM.Timeout,
		HistoryTokens:   cfg.LLM.HistoryTokens,
		MinSimilarity:   cfg.LLM.MinSimilarity,
		MinConfidence:   cfg.Knowledge.MinConfidence,
		NoRedact:        !cfg.LLM.Redact,
		BreakerFailures: cfg.LLM.Breaker.Failures,
		BreakerCooldown: cfg.LLM.Breaker.Cooldown,
		Logger:          log,
	})
	// Answers go through the support log: feedback buttons, shadow mode,
	// repeated questions, saving staff replies as knowledge.
	sup := support.New(support.Options{Answer: answers, Store: store, Escalator: ho, Poster: poster,
		StaffChannel: bot.ThreadRef{Platform: cfg.Staff.Channel.Platform, ChannelID: cfg.Staff.Channel.ID},
		Shadow:       cfg.Channels.Shadow, AddKnowledge: support.AddTo(kb), SaveReaction: cfg.Support.SaveReaction,
		Similarity: cfg.Support.Similarity, Text: text, Logger: log})
	router := newRouter(sup, ho, pv, sup, ib)

	registry := prometheus.NewRegistry()
	registry.MustRegister(collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))

	observers := []bot.Observer{ho, sup}
	if cfg.Inbox.Enabled {
		observers = append(observers, ib)
	}
	if cfg.Sentiment.Enabled {
		mon, err := newMonitor(ctx, cfg, store, poster, ho, analyzer, log)
		if err != nil {
			kb.Close()
			store.Close()
			return nil, err
		}
		observers = append(observers, mon)
	}
	core = bot.New(bot.Options{
		Store:           store,
		Router:          router,
		Observers:       observers,
		Logger:          log,
		Concurrency:     cfg.Core.Concurrency,
		QueueSize:       cfg.Core.QueueSize,
		SeenTTL:         cfg.Storage.SeenTTL,
		HistoryTurns:    cfg.Storage.HistoryTurns,
		RatePerMinute:   cfg.Core.RateLimit.PerMinute,
		RateBurst:       cfg.Core.RateLimit.Burst,
		ShutdownTimeout: cfg.Core.ShutdownTimeout,
		Policy:          cfg.Channels.Policy,
		DMsOff:          !cfg.Channels.DMsOn(),
		IsQuestion:      knowledge.IsQuestion,
		Text:            text,
		Metrics:         web.NewMetrics(registry),
	})
	web.WatchCore(registry, core)
	return &app{store: store, kb: kb, router: router, core: core, handoff: ho, inbox: ib, metrics: registry}, nil
}

// newRouter holds every route, first match wins: the commands, then the
// hand-off's buttons and "talk to a human", and the knowledge-base answer as
// the fallback.
func newRouter(answers bot.Handler, ho *handoff.Service, pv *privacy.Service, sup *support.Answers, ib *inbox.Service) *bot.Router {
	router := bot.NewRouter(answers)
	router.Add(bot.Route{Name: "ask", Match: bot.Command("ask"), Handler: answers,
		Spec: &bot.CommandSpec{Name: "ask", Description: "Ask a question about the project", ArgName: "question", ArgHelp: "What do you want to know?"}})
	for _, routes := range [][]bot.Route{ib.Routes(), ho.Routes(), pv.Routes(), sup.Routes()} {
		for _, r := range routes {
			router.Add(r)
		}
	}
	return router
}

// openStore opens the database with the configured retention.
func openStore(cfg *config.Config, log *slog.Logger) (*storage.Store, error) {
	return storage.Open(storage.Options{Path: cfg.Storage.Path, MessageTTL: cfg.Storage.MessageTTL,
		SentimentTTL: cfg.Storage.SentimentTTL, AuditTTL: cfg.Storage.AuditTTL, FeedbackTTL: cfg.Storage.FeedbackTTL, Logger: log})
}

// newMonitor scores every message's sentiment and alerts staff on spikes.
func newMonitor(ctx context.Context, cfg *config.Config, store *storage.Store, poster monitor.Poster, esc monitor.Escalator, a *sentiment.Analyzer, log *slog.Logger) (*monitor.Monitor, error) {
	opts := monitor.Options{
		Analyze:        analyzer(a),
		Store:          store,
		Logger:         log.With("component", "sentiment"),
		StaffChannel:   bot.ThreadRef{Platform: cfg.Staff.Channel.Platform, ChannelID: cfg.Staff.Channel.ID},
		Poster:         poster,
		MinMessages:    cfg.Sentiment.AlertMinMessages,
		Margin:         cfg.Sentiment.AlertMargin,
		Cooldown:       cfg.Sentiment.AlertCooldown,
		Escalate:       esc,
		StrongNegative: cfg.Sentiment.StrongNegative,
	}
	if cfg.Sentiment.Pseudonymize {
		salt, err := store.Secret(ctx, "pseudonyms")
		if err != nil {
			return nil, err
		}
		opts.Pseudonymize = func(platform, user string) string {
			m := hmac.New(sha256.New, salt)
			m.Write([]byte(platform + "\x00" + user))
			return "p-" + hex.EncodeToString(m.Sum(nil)[:12])
		}
	}
	return monitor.New(opts), nil
}

// analyzer adapts the sentiment analyzer to the monitor.
func analyzer(a *sentiment.Analyzer) monitor.Analyzer {
	return func(text, lang string) monitor.Score {
		r := a.AnalyzeLang(text, lang)
		return monitor.Score{Label: r.Label, Score: r.Score, Lang: r.Lang}
	}
}

// newLLM is the language model when one is configured (llm.On), else nil:
// then answers are extractive.
func newLLM(cfg *config.Config, log *slog.Logger) answer.LLM {
	if c := openaiClient(cfg, log); c != nil {
		return c
	}
	return nil // not a nil *openai.Client inside the interface
}

// openaiClient is the OpenAI-compatible client, or nil when the LLM is off.
func openaiClient(cfg *config.Config, log *slog.Logger) *openai.Client {
	if !cfg.LLM.On() {
		return nil
	}
	retries := cfg.LLM.MaxRetries
	if retries == 0 {
		retries = -1 // config 0 means none; the client's 0 means its default
	}
	return openai.New(openai.Options{BaseURL: cfg.LLM.BaseURL, APIKey: cfg.LLM.APIKey, Model: cfg.LLM.Model,
		EmbeddingModel: cfg.LLM.EmbeddingModel, Temperature: float32(cfg.LLM.Temperature),
		MaxTokens: cfg.LLM.MaxTokens, MaxRetries: retries, Logger: log.With("component", "llm")})
}

// useEmbeddings adds vector search to the knowledge base when
// llm.embedding_model is set (and the LLM API is on).
func useEmbeddings(cfg *config.Config, kb *knowledge.Base, log *slog.Logger) {
	if cfg.LLM.EmbeddingModel == "" {
		return
	}
	if c := openaiClient(cfg, log); c != nil {
		kb.SetEmbedder(c, knowledge.EmbedOptions{Model: cfg.LLM.EmbeddingModel})
	}
}

// handoffHours are staff's working hours, or nil for always.
func handoffHours(h config.Hours) (*handoff.Hours, error) {
	if !h.Set() {
		return nil, nil
	}
	loc, days, from, to, err := config.ParseHours(h)
	if err != nil {
		return nil, fmt.Errorf("handoff.hours: %w", err)
	}
	return &handoff.Hours{Location: loc, Days: days, From: from, To: to}, nil
}

// discordOptions are the Discord adapter's settings from the config.
func discordOptions(cfg *config.Config, router *bot.Router, log *slog.Logger) discord.Options {
	opts := discord.Options{
		Token: cfg.Discord.Token, APIURL: cfg.Discord.APIURL,
		StaffRoles: cfg.Staff.Discord.Roles, StaffUsers: cfg.Staff.Discord.Users,
		GuildIDs: cfg.Discord.GuildIDs, Logger: log.With("platform", "discord"),
	}
	if router != nil {
		opts.Commands = router.Commands()
	}
	return opts
}

// commandsOnly is a router with every route and no storage behind it:
// enough to list the commands (the Slack manifest).
func commandsOnly() *bot.Router {
	answers := answer.New(answer.Options{})
	return newRouter(answers, handoff.New(handoff.Options{}), privacy.New(nil, nil, nil), support.New(support.Options{Answer: answers}),
		inbox.New(inbox.Options{}))
}

// posterFunc adapts a function to the posters the features need.
type posterFunc func(ctx context.Context, to bot.ThreadRef, r bot.Reply) error

func (f posterFunc) Post(ctx context.Context, to bot.ThreadRef, r bot.Reply) error {
	return f(ctx, to, r)
}

// close lets webhook deliveries finish, releases the knowledge index and,
// last, storage.
func (a *app) close() error {
	a.inbox.Close()
	return errors.Join(a.kb.Close(), a.store.Close())
}

// newInbox files feature requests (detected, forwarded, /feedback) in the
// research inbox.
func newInbox(cfg *config.Config, store *storage.Store, poster inbox.Poster, dm inbox.DirectMessenger, a *sentiment.Analyzer, llm answer.LLM, log *slog.Logger) *inbox.Service {
	hooks := make([]inbox.Webhook, 0, len(cfg.Inbox.Webhooks))
	for _, h := range cfg.Inbox.Webhooks {
		hooks = append(hooks, inbox.Webhook{URL: h.URL, Secret: h.Secret})
	}
	ack := cfg.Inbox.Acknowledge
	var confirm inbox.Confirmer
	if cfg.Inbox.ConfirmWithLLM && llm != nil {
		confirm = llmConfirmer(llm)
	}
	return inbox.New(inbox.Options{
		Confirm:         confirm,
		DirectMessenger: dm, // people who ran /notify on hear of status changes directly
		Store:           store, Poster: poster, Logger: log.With("component", "inbox"),
		Text: func(lang, key string) string {
			return strings.ReplaceAll(cfg.Texts.Get(lang, key), "{bot}", cfg.Bot.Name)
		},
		Detect:    func(t, l string) float64 { return detect.DetectLang(t, l).Score },
		Sentiment: func(t, l string) float64 { return a.AnalyzeLang(t, l).Score },
		Threshold: cfg.Inbox.Threshold, Similar: cfg.Inbox.Similar, Borderline: cfg.Inbox.Borderline,
		Embed: inboxEmbedder(cfg, log), SimilarEmbedding: cfg.Inbox.SimilarEmbedding,
		Acknowledge: &ack, ReactionEmoji: cfg.Inbox.Reaction,
		Quiet:              func(p, ch string) bool { return cfg.Channels.Policy(p, ch) == bot.PolicyListen },
		DailyCapPerChannel: cfg.Inbox.DailyCap, Webhooks: hooks, WebhookTries: uint(cfg.Inbox.WebhookTries),
	})
}

// inboxEmbedder lets the research inbox match requests by meaning when
// llm.embedding_model is set (texts redacted per llm.redact); else nil.
func inboxEmbedder(cfg *config.Config, log *slog.Logger) func(context.Context, []string) ([][]float32, error) {
	if cfg.LLM.EmbeddingModel == "" {
		return nil
	}
	c := openaiClient(cfg, log)
	if c == nil {
		return nil
	}
	return func(ctx context.Context, texts []string) ([][]float32, error) {
		// The inbox waits for this while it files a request: bounded.
		ctx, cancel := context.WithTimeout(ctx, cfg.LLM.Timeout)
		defer cancel()
		if cfg.LLM.Redact {
			redacted := make([]string, len(texts))
			for i, t := range texts {
				redacted[i] = answer.Redact(t)
			}
			texts = redacted
		}
		return c.Embed(ctx, texts)
	}
}

// llmSummarizer has the LLM sum up, for staff, what a member who needs a
// person wants (from their last messages, redacted like questions unless
// llm.redact is off); nil without an LLM.
func llmSummarizer(llm answer.LLM, redact bool, timeout time.Duration) func(context.Context, string, []string) (string, error) {
	if llm == nil {
		return nil
	}
	return func(ctx context.Context, _ string, msgs []string) (string, error) {
		if timeout > 0 {
			var cancel context.CancelFunc
			ctx, cancel = context.WithTimeout(ctx, timeout)
			defer cancel()
		}
		var b strings.Builder
		for _, m := range msgs {
			if redact {
				m = answer.Redact(m)
			}
			b.WriteString("<message>\n" + m + "\n</message>\n")
		}
		return llm.Complete(ctx, []answer.Message{
			{Role: answer.RoleSystem, Content: "A community member's messages follow; they asked for, or need, a person from the support team. " +
				"In one or two English sentences, tell the team what the member needs. Add nothing that is not in the messages."},
			{Role: answer.RoleUser, Content: b.String()},
		})
	}
}

// llmConfirmer asks the LLM about a borderline message: feature request or
// not, with a title and summary as JSON (the schema is in the prompt; the
// answer is parsed strictly). The message is redacted first, like questions.
func llmConfirmer(llm answer.LLM) inbox.Confirmer {
	return inbox.ConfirmFunc(func(ctx context.Context, text, _ string) (inbox.Confirmation, error) {
		out, err := llm.Complete(ctx, []answer.Message{
			{Role: answer.RoleSystem, Content: inbox.ConfirmPrompt + "\nJSON schema: " + inbox.ConfirmSchema},
			{Role: answer.RoleUser, Content: "<message>\n" + answer.Redact(text) + "\n</message>"},
		})
		if err != nil {
			return inbox.Confirmation{}, err
		}
		return inbox.ParseConfirmation(out)
	})
}

// knowledgeFolders are the configured folders, or the built-in example.
func knowledgeFolders(cfg *config.Config) ([]knowledge.Folder, error) {
	if len(cfg.Knowledge.Paths) == 0 {
		return []knowledge.Folder{{FS: exampleKB, Root: "knowledge"}}, nil
	}
	return knowledge.Folders(cfg.Knowledge.Paths, cfg.Knowledge.BaseURLs)
}

// syncKnowledge reads changed knowledge files into storage and builds the
// search index.
func syncKnowledge(ctx context.Context, cfg *config.Config, store *storage.Store, log *slog.Logger) (*knowledge.Base, error) {
	folders, err := knowledgeFolders(cfg)
	if err != nil {
		return nil, err
	}
	kb := knowledge.NewBase(store, folders, log)
	useEmbeddings(cfg, kb, log)
	rep, err := kb.Sync(ctx, nil)
	if err != nil {
		kb.Close()
		return nil, err
	}
	log.Info("knowledge base synced", "report", rep.String(), "chunks", kb.Len())
	return kb, nil
}

// openData is where CLI commands read and change data: the running
// server's admin API when one owns the data directory (client), else the
// database itself (store).
func openData(cmd *cobra.Command, loadConfig func(*cobra.Command) (*config.Config, error)) (*web.Client, *storage.Store, error) {
	cfg, err := loadConfig(cmd)
	if err != nil {
		return nil, nil, err
	}
	return connect(cmd.Context(), cfg)
}

// connect is openData with the config loaded.
func connect(ctx context.Context, cfg *config.Config) (*web.Client, *storage.Store, error) {
	client, err := web.Running(ctx, cfg.Storage.Path)
	if err == nil {
		return client, nil, nil
	}
	if !errors.Is(err, web.ErrNotRunning) {
		return nil, nil, err
	}
	store, err := openStore(cfg, slog.New(slog.DiscardHandler))
	return nil, store, err
}

// openKB is the knowledge base for `einsatz kb`: the running server's, or
// the database's when no server runs.
func openKB(ctx context.Context, cfg *config.Config) (cli.KB, func() error, error) {
	if client, err := web.Running(ctx, cfg.Storage.Path); err == nil {
		return cli.RemoteKB{Client: client}, func() error { return nil }, nil
	} else if !errors.Is(err, web.ErrNotRunning) {
		return nil, nil, err
	}
	store, err := storage.Open(storage.Options{Path: cfg.Storage.Path, Logger: slog.New(slog.DiscardHandler)})
	if err != nil {
		return nil, nil, err
	}
	folders, err := knowledgeFolders(cfg)
	if err != nil {
		store.Close()
		return nil, nil, err
	}
	kb := knowledge.NewBase(store, folders, nil)
	useEmbeddings(cfg, kb, slog.New(slog.DiscardHandler))
	if err := kb.Rebuild(ctx); err != nil {
		store.Close()
		return nil, nil, err
	}
	return kb, func() error { return errors.Join(kb.Close(), store.Close()) }, nil
}

// run serves every enabled adapter until SIGINT or SIGTERM.
func run(ctx context.Context, cfg *config.Config, log *slog.Logger, stdout io.Writer) error {
	ctx, stop := signal.NotifyContext(ctx, os.Interrupt, syscall.SIGTERM)
	defer stop()
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	a, err := newApp(ctx, cfg, log)
	if err != nil {
		return err
	}
	// Background work (hand-back timer, file watcher) ends before storage
	// closes.
	var background sync.WaitGroup
	shutdown := func(err error) error {
		cancel()
		background.Wait()
		log.Info("stopped; closing storage")
		return errors.Join(err, a.close())
	}
	for _, line := range describe(cfg) {
		log.Info("config", "setting", line)
	}
	site, err := newWeb(cfg, a, log)
	if err != nil {
		return shutdown(err)
	}
	// Without its web server the bot is of no use: if it cannot listen
	// (the port is taken), everything stops with that error.
	adapters := []bot.Adapter{essentialWeb{site, cancel}}
	background.Go(func() {
		if err := a.handoff.Run(ctx); err != nil {
			log.Error("handoff: hand-back timer stopped", "err", err)
		}
	})
	if len(cfg.Knowledge.Paths) > 0 {
		background.Go(func() {
			if err := a.kb.Watch(ctx, 500*time.Millisecond); err != nil {
				log.Error("knowledge: file watcher stopped; use 'einsatz kb sync'", "err", err)
			}
		})
	}
	if cfg.Discord.On() {
		da, err := discord.New(discordOptions(cfg, a.router, log))
		if err != nil {
			return shutdown(err)
		}
		adapters = append(adapters, da)
	}
	if cfg.Slack.On() {
		sa, err := slack.New(slack.Options{
			Mode: cfg.Slack.Mode, BotToken: cfg.Slack.BotToken, AppToken: cfg.Slack.AppToken,
			SigningSecret: cfg.Slack.SigningSecret, APIURL: cfg.Slack.APIURL,
			StaffUsers: cfg.Staff.Slack.Users, StaffUserGroup: cfg.Staff.Slack.UserGroup,
			Commands: a.router.Commands(), Logger: log.With("platform", "slack"),
		})
		if err != nil {
			return shutdown(err)
		}
		if cfg.Slack.Mode == slack.ModeHTTP {
			site.Mount(slack.EventsPath, sa.HTTPHandler())
		}
		adapters = append(adapters, sa)
	}
	names := make([]string, 0, len(adapters))
	for _, ad := range adapters {
		names = append(names, ad.Platform())
	}
	runErr := make(chan error, 1)
	go func() { runErr <- a.core.Run(ctx, adapters...) }()
	select {
	case <-site.Ready():
		fmt.Fprintf(stdout, "einsatz is running; adapters enabled: %s. Ctrl-C stops.\n", strings.Join(names, ", "))
		fmt.Fprintf(stdout, "Chat:      %s/\n", site.URL())
		fmt.Fprintf(stdout, "Dashboard: %s/dashboard\n", site.URL())
		if login := site.LoginURL(); login != "" {
			fmt.Fprintf(stdout, "Log in once with: %s\n", login)
		}
	case err := <-runErr:
		return shutdown(err)
	}
	return shutdown(<-runErr)
}

// essentialWeb is the web adapter whose failure stops the bot: a taken
// port must not leave a process that serves nothing. It embeds the server
// itself, not an interface, so its optional abilities (Completer) stay
// visible to the core.
type essentialWeb struct {
	*web.Server
	stop context.CancelFunc
}

func (e essentialWeb) Run(ctx context.Context, sink bot.Sink) error {
	err := e.Server.Run(ctx, sink)
	if err != nil && !errors.Is(err, context.Canceled) {
		e.stop()
	}
	return err
}

// newWeb builds the web adapter: chat page and API, dashboard, admin API.
func newWeb(cfg *config.Config, a *app, log *slog.Logger) (*web.Server, error) {
	accounts := make([]web.Account, 0, len(cfg.Staff.Web))
	for _, acc := range cfg.Staff.Web {
		accounts = append(accounts, web.Account{Name: acc.Name, Role: acc.Role, Token: acc.Token, PasswordHash: acc.PasswordHash})
	}
	site, err := web.New(web.Options{
		Addr:           cfg.Web.Addr,
		PublicURL:      cfg.Web.PublicURL,
		CORSOrigins:    cfg.Web.CORSOrigins,
		APIKey:         cfg.Web.APIKey,
		ChatPerMin:     cfg.Web.ChatRateLimit.PerMinute,
		ChatBurst:      cfg.Web.ChatRateLimit.Burst,
		TrustProxy:     cfg.Web.TrustProxy,
		Accounts:       accounts,
		CredentialFile: filepath.Join(cfg.Storage.Path, web.CredentialFileName),
		Store:          a.store,
		Core:           a.core,
		Gatherer:       a.metrics,
		BotName:        cfg.Bot.Name,
		Logger:         log,
		Status: func() []string {
			return append(describe(cfg), fmt.Sprintf("knowledge chunks: %d", a.kb.Len()))
		},
	})
	if err != nil {
		return nil, err
	}
	audit := func(r *http.Request, action, target string) {
		staff, _ := web.StaffFrom(r)
		if err := a.store.AddAudit(r.Context(), storage.AuditEntry{Actor: staff.Name, Action: action, Target: target}); err != nil {
			log.Error("audit", "action", action, "err", err)
		}
	}
	for pattern, h := range a.kb.AdminRoutes(audit) {
		site.AddAdminRoute(pattern, h)
	}
	for pattern, h := range handoff.AdminRoutes(a.store) {
		site.AddAdminRoute(pattern, h)
	}
	site.AddPage(web.Page{Path: "/dashboard/escalations", Title: "Escalations", Handler: handoff.Page(a.store, site.RenderPage)})
	// Export, erasure and imports touch every member's data: admins only.
	for pattern, h := range privacy.AdminRoutes(a.store, func(r *http.Request) string { staff, _ := web.StaffFrom(r); return staff.Name }) {
		// Run alone, like /forget-me: no event still being handled may
		// store the person's words after the erasure.
		site.AddAdminRoute(pattern, web.AdminOnly(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			a.core.Exclusive(func() { h.ServeHTTP(w, r) })
		})))
	}
	for pattern, h := range imports.AdminRoutes(a.core, audit) {
		site.AddAdminRoute(pattern, web.AdminOnly(h))
	}
	ui := inbox.Web{Render: site.RenderPage, CSRF: site.CSRFToken, Staff: web.StaffName}
	site.AddPage(web.Page{Path: inbox.PagePath, Title: "Research inbox", Handler: a.inbox.Page(ui)})
	for pattern, h := range a.inbox.DashboardRoutes(ui) {
		site.AddStaffRoute(pattern, h)
	}
	for pattern, h := range a.inbox.AdminRoutes(web.StaffName) {
		site.AddAdminRoute(pattern, h)
	}
	settings := support.Settings{FollowUp: cfg.Support.FollowUp, Similarity: cfg.Support.Similarity}
	for pattern, h := range support.AdminRoutes(a.store, settings) {
		site.AddAdminRoute(pattern, h)
	}
	site.AddPage(web.Page{Path: "/dashboard/gaps", Title: "Knowledge gaps", Handler: support.GapsPage(a.store, settings, site.RenderPage)})
	site.AddPage(web.Page{Path: "/dashboard/support", Title: "Support", Handler: support.SupportPage(a.store, settings, site.RenderPage)})
	for pattern, h := range monitor.AdminRoutes(a.store, bot.SystemClock{}) {
		site.AddAdminRoute(pattern, h)
	}
	site.AddPage(web.Page{Path: "/dashboard/sentiment", Title: "Sentiment", Handler: monitor.Page(a.store, nil, site.RenderPage)})
	return site, nil
}

// chat runs the bot with the console adapter until the input ends.
func chat(ctx context.Context, cfg *config.Config, log *slog.Logger, in io.Reader, out io.Writer) error {
	ctx, stop := signal.NotifyContext(ctx, os.Interrupt, syscall.SIGTERM)
	defer stop()
	a, err := newApp(ctx, cfg, log)
	if err != nil {
		return err
	}
	interactive := false
	if f, ok := in.(*os.File); ok {
		if st, err := f.Stat(); err == nil && st.Mode()&os.ModeCharDevice != 0 {
			interactive = true
			fmt.Fprintf(out, "Chatting with %s. Type a question (:help for more, Ctrl-D to quit).\n", cfg.Bot.Name)
		}
	}
	con := console.New(in, out, console.Options{BotName: cfg.Bot.Name, Prompt: interactive})
	// The chat ends with its input: then the core drains what is queued.
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	runErr := a.core.Run(ctx, endsInput{con, cancel})
	return errors.Join(runErr, a.close())
}

// endsInput cancels the run when the console's input ends.
type endsInput struct {
	*console.Adapter
	cancel context.CancelFunc
}

func (e endsInput) Run(ctx context.Context, sink bot.Sink) error {
	defer e.cancel()
	return e.Adapter.Run(ctx, sink)
}

// backup writes a backup file: through the running server's admin API when
// one owns the data directory, else from the database directly.
func backup(ctx context.Context, cfg *config.Config, file string, stdout io.Writer) error {
	f, err := os.OpenFile(file, os.O_CREATE|os.O_EXCL|os.O_WRONLY, 0o600)
	if err != nil {
		return fmt.Errorf("backup: %w", err)
	}
	write := func() error {
		client, err := web.Running(ctx, cfg.Storage.Path)
		if err == nil {
			fmt.Fprintf(stdout, "backing up through the running server at %s\n", client.URL)
			return client.Backup(ctx, f)
		}
		if !errors.Is(err, web.ErrNotRunning) {
			return err
		}
		store, err := storage.Open(storage.Options{Path: cfg.Storage.Path, Logger: slog.New(slog.DiscardHandler)})
		if err != nil {
			return err
		}
		defer store.Close()
		return store.Backup(ctx, f)
	}
	if err := errors.Join(write(), f.Sync(), f.Close()); err != nil {
		os.Remove(file)
		return fmt.Errorf("backup: %w", err)
	}
	fmt.Fprintf(stdout, "backup written to %s\n", file)
	return nil
}

// restore loads a backup into an empty data directory.
func restore(ctx context.Context, cfg *config.Config, file, into string, stdout io.Writer) error {
	if client, err := web.Running(ctx, cfg.Storage.Path); err == nil {
		return fmt.Errorf("restore: einsatz is running at %s with this data directory: stop it first", client.URL)
	}
	f, err := os.Open(file)
	if err != nil {
		return fmt.Errorf("restore: %w", err)
	}
	defer f.Close()
	if err := storage.Restore(into, f, storage.Options{Logger: slog.New(slog.DiscardHandler)}); err != nil {
		return err
	}
	fmt.Fprintf(stdout, "restored %s into %s\n", file, into)
	return nil
}

// newRootCmd builds the command tree; `einsatz` alone runs the bot.
func newRootCmd(stdin io.Reader, stdout, stderr io.Writer) *cobra.Command {
	var configPath string
	loadConfig := func(cmd *cobra.Command) (*config.Config, error) {
		cfg, err := config.Load(configPath)
		if errors.Is(err, fs.ErrNotExist) && !cmd.Flags().Changed("config") && os.Getenv("EINSATZ_CONFIG") == "" {
			fmt.Fprintf(stderr, "no %s here: running with the defaults\n", configPath)
			return config.Default(), nil
		}
		return cfg, err
	}
	runE := func(cmd *cobra.Command, _ []string) error {
		cfg, err := loadConfig(cmd)
		if err != nil {
			return err
		}
		return run(cmd.Context(), cfg, newLogger(cfg.Log, stderr, slog.LevelDebug), stdout)
	}
	root := &cobra.Command{
		Use:           "einsatz",
		Short:         "Community engagement bot for Discord, Slack and the web",
		SilenceUsage:  true,
		SilenceErrors: true,
		RunE:          runE,
	}
	root.SetIn(stdin)
	root.SetOut(stdout)
	root.SetErr(stderr)
	defaultConfig := "config.yaml"
	if env := os.Getenv("EINSATZ_CONFIG"); env != "" {
		defaultConfig = env
	}
	root.PersistentFlags().StringVar(&configPath, "config", defaultConfig, "config file (env EINSATZ_CONFIG)")

	root.AddCommand(&cobra.Command{
		Use:   "run",
		Short: "Run the bot with every configured adapter (the default command)",
		Args:  cobra.NoArgs,
		RunE:  runE,
	})
	root.AddCommand(&cobra.Command{
		Use:   "chat",
		Short: "Talk to the bot in the terminal, through the same pipeline as every platform",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			cfg, err := loadConfig(cmd)
			if err != nil {
				return err
			}
			return chat(cmd.Context(), cfg, newLogger(cfg.Log, stderr, slog.LevelWarn), stdin, stdout)
		},
	})
	configCmd := &cobra.Command{Use: "config", Short: "Work with the configuration"}
	configCmd.AddCommand(&cobra.Command{
		Use:   "check",
		Short: "Validate the config file: every problem with its line, non-zero exit on any",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			cfg, err := config.Load(configPath)
			if err != nil {
				return err
			}
			fmt.Fprintf(stdout, "%s: OK\n", configPath)
			for _, line := range describe(cfg) {
				fmt.Fprintln(stdout, "  "+line)
			}
			return nil
		},
	})
	root.AddCommand(configCmd)
	discordCmd := &cobra.Command{Use: "discord", Short: "Set up the Discord bot"}
	discordCmd.AddCommand(&cobra.Command{
		Use:   "invite-url",
		Short: "Print the OAuth2 URL that adds the bot to a server, with exactly the permissions it needs",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			cfg, err := loadConfig(cmd)
			if err != nil {
				return err
			}
			id, err := discord.ApplicationID(cmd.Context(), discordOptions(cfg, nil, slog.New(slog.DiscardHandler)))
			if err != nil {
				return err
			}
			fmt.Fprintln(stdout, discord.InviteURL(id))
			return nil
		},
	})
	root.AddCommand(discordCmd)
	slackCmd := &cobra.Command{Use: "slack", Short: "Set up the Slack app"}
	slackCmd.AddCommand(&cobra.Command{
		Use:   "manifest",
		Short: "Print the Slack app manifest (YAML) for the enabled features",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			cfg, err := loadConfig(cmd)
			if err != nil {
				return err
			}
			out, err := slack.Manifest(slack.ManifestOptions{Name: cfg.Bot.Name, Mode: cfg.Slack.Mode, PublicURL: cfg.Web.PublicURL,
				Commands: commandsOnly().Commands(), StaffUserGroup: cfg.Staff.Slack.UserGroup != ""})
			if err != nil {
				return err
			}
			_, err = stdout.Write(out)
			return err
		},
	})
	root.AddCommand(slackCmd)
	root.AddCommand(cli.HandoffCommand(func(cmd *cobra.Command) (cli.Escalations, func() error, error) {
		client, store, err := openData(cmd, loadConfig)
		if err != nil {
			return nil, nil, err
		}
		if client != nil {
			return cli.RemoteEscalations(client), func() error { return nil }, nil
		}
		return func(ctx context.Context, open bool) ([]handoff.Escalation, error) {
			return handoff.List(ctx, store, open)
		}, store.Close, nil
	}, stdout))
	root.AddCommand(cli.InboxCommand(func(cmd *cobra.Command) (cli.Inbox, func() error, error) {
		client, store, err := openData(cmd, loadConfig)
		if err != nil {
			return nil, nil, err
		}
		if client != nil {
			return cli.RemoteInbox(client), func() error { return nil }, nil
		}
		ib := inbox.New(inbox.Options{Store: store, Logger: slog.New(slog.DiscardHandler)})
		return ib, func() error { ib.Close(); return store.Close() }, nil
	}, stdout))
	root.AddCommand(cli.PrivacyCommand(func(cmd *cobra.Command) (cli.Privacy, func() error, error) {
		client, store, err := openData(cmd, loadConfig)
		if err != nil {
			return nil, nil, err
		}
		if client != nil {
			return cli.RemotePrivacy{Client: client}, func() error { return nil }, nil
		}
		return store, store.Close, nil
	}, stdout))
	root.AddCommand(cli.ImportCommand(func(cmd *cobra.Command) (cli.Importer, func() error, error) {
		cfg, err := loadConfig(cmd)
		if err != nil {
			return nil, nil, err
		}
		if client, err := web.Running(cmd.Context(), cfg.Storage.Path); err == nil {
			return cli.RemoteImporter(client), func() error { return nil }, nil
		}
		// No server: the whole bot, without adapters, replays the export.
		a, err := newApp(cmd.Context(), cfg, newLogger(cfg.Log, stderr, slog.LevelWarn))
		if err != nil {
			return nil, nil, err
		}
		run := func(ctx context.Context, kind, path string, progress func(done, total int)) (imports.Summary, error) {
			ex, err := imports.Read(kind, path)
			if err != nil {
				return imports.Summary{}, err
			}
			return imports.Run(ctx, a.core, ex, progress)
		}
		return run, a.close, nil
	}, stdout))
	root.AddCommand(cli.SentimentCommand(func(cmd *cobra.Command) (cli.SentimentSource, func() error, error) {
		client, store, err := openData(cmd, loadConfig)
		if err != nil {
			return nil, nil, err
		}
		if client != nil {
			return cli.RemoteSentiment{Client: client}, func() error { return nil }, nil
		}
		return cli.LocalSentiment{Store: store, Now: time.Now}, store.Close, nil
	}, stdout))
	root.AddCommand(&cobra.Command{
		Use:   "analyze",
		Short: "Score JSON lines from stdin offline: sentiment, language, question (one output line per input line)",
		Long: `Reads lines {"text": ..., "lang"?: ...} on stdin and writes exactly one JSON line per input line,
in order: {"sentiment": {"label": ..., "score": ...}, "lang": ..., "intent": {"feature_request": ..., "question": ...}}.
A blank or malformed line gives {"error": ...} in its place. Offline and deterministic; needs no server.
The feature-request and question detectors are the ones the bot uses live,
with the config's inbox.threshold.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			cfg, err := loadConfig(cmd)
			if err != nil {
				return err
			}
			intent := func(text, lang string) (bool, bool) {
				return detect.DetectLang(text, lang).Score >= cfg.Inbox.Threshold, knowledge.IsQuestion(text)
			}
			_, err = sentiment.AnalyzeStream(stdin, stdout, sentiment.New(), intent)
			return err
		},
	})
	evalCmd := &cobra.Command{Use: "eval", Short: "Measure the bot on a labelled set"}
	evalCmd.AddCommand(&cobra.Command{
		Use:   "retrieval FILE.jsonl",
		Short: `Retrieval quality on lines {"query": ..., "expected": "<file name or source path>"}: MRR@10, recall@1/5/10`,
		Args:  cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			f, err := os.Open(args[0])
			if err != nil {
				return err
			}
			defer f.Close()
			cases, err := knowledge.ReadRetrievalCases(f)
			if err != nil {
				return fmt.Errorf("%s: %w", args[0], err)
			}
			cfg, err := loadConfig(cmd)
			if err != nil {
				return err
			}
			kb, release, err := openKB(cmd.Context(), cfg)
			if err != nil {
				return err
			}
			defer release()
			scores, err := knowledge.EvalRetrieval(cmd.Context(), kb.Search, cases)
			if err != nil {
				return err
			}
			fmt.Fprintf(stdout, "queries %d\nMRR@10  %.3f\nR@1     %.3f\nR@5     %.3f\nR@10    %.3f\n",
				scores.N, scores.MRR10, scores.Recall1, scores.Recall5, scores.Recall10)
			for _, m := range scores.Misses {
				fmt.Fprintf(stdout, "miss: %q (expected %s)\n", m.Query, m.Expected)
			}
			return nil
		},
	})
	evalCmd.AddCommand(evalAnswersCommand(loadConfig, stdout))
	root.AddCommand(evalCmd)
	openSupport := func(cmd *cobra.Command) (cli.SupportSource, func() error, error) {
		cfg, err := loadConfig(cmd)
		if err != nil {
			return nil, nil, err
		}
		client, store, err := connect(cmd.Context(), cfg)
		if err != nil {
			return nil, nil, err
		}
		if client != nil {
			return cli.RemoteSupport{Client: client}, func() error { return nil }, nil
		}
		settings := support.Settings{FollowUp: cfg.Support.FollowUp, Similarity: cfg.Support.Similarity}
		return cli.LocalSupport{Store: store, Settings: settings}, store.Close, nil
	}
	kbCmd := cli.KBCommand(func(cmd *cobra.Command) (cli.KB, func() error, error) {
		cfg, err := loadConfig(cmd)
		if err != nil {
			return nil, nil, err
		}
		return openKB(cmd.Context(), cfg)
	}, stdout)
	kbCmd.AddCommand(cli.GapsCommand(openSupport, stdout))
	root.AddCommand(kbCmd)
	reportCmd := &cobra.Command{Use: "report", Short: "Reports for the support and product teams"}
	reportCmd.AddCommand(cli.SupportCommand(openSupport, stdout))
	root.AddCommand(reportCmd)
	root.AddCommand(&cobra.Command{
		Use:   "backup FILE",
		Short: "Write a backup of the database (through the running server when one is up)",
		Args:  cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			cfg, err := loadConfig(cmd)
			if err != nil {
				return err
			}
			return backup(cmd.Context(), cfg, args[0], stdout)
		},
	})
	var into string
	restoreCmd := &cobra.Command{
		Use:   "restore FILE",
		Short: "Restore a backup into an empty data directory (refuses while a server runs)",
		Args:  cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			cfg, err := loadConfig(cmd)
			if err != nil {
				return err
			}
			if into == "" {
				into = cfg.Storage.Path
			}
			return restore(cmd.Context(), cfg, args[0], into, stdout)
		},
	}
	restoreCmd.Flags().StringVar(&into, "into", "", "data directory to restore into (default: storage.path); must be empty or absent")
	root.AddCommand(restoreCmd)
	root.AddCommand(&cobra.Command{
		Use:   "version",
		Short: "Print the version",
		Args:  cobra.NoArgs,
		Run: func(*cobra.Command, []string) {
			fmt.Fprintf(stdout, "einsatz %s (%s, schema v%d)\n", version, runtime.Version(), storage.SchemaVersion)
		},
	})
	return root
}
