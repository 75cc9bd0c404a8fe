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
	"embed"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"os/signal"
	"strings"
	"syscall"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/spf13/cobra"

	"github.com/einsatz/einsatz/adapters/cli"
	"github.com/einsatz/einsatz/adapters/discord"
	"github.com/einsatz/einsatz/adapters/openai"
	"github.com/einsatz/einsatz/adapters/slack"
	"github.com/einsatz/einsatz/adapters/web"
	"github.com/einsatz/einsatz/adapters/webhook"
	"github.com/einsatz/einsatz/bot"
	"github.com/einsatz/einsatz/bot/config"
	"github.com/einsatz/einsatz/handlers/answer"
	"github.com/einsatz/einsatz/handlers/handoff"
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

// newRootCmd is the command tree over this program's wiring.
func newRootCmd(stdin io.Reader, stdout, stderr io.Writer) *cobra.Command {
	return cli.NewRoot(cli.App{
		Version: version,
		Run:     run,
		NewBot: func(ctx context.Context, cfg *config.Config, log *slog.Logger) (*bot.Bot, func() error, error) {
			a, err := newApp(ctx, cfg, log)
			if err != nil {
				return nil, nil, err
			}
			return a.core, a.close, nil
		},
		Commands:         commands,
		OpenStore:        openStore,
		OpenKB:           openKB,
		KnowledgeFolders: knowledgeFolders,
	}, stdin, stdout, stderr)
}

// app is the bot with its storage and knowledge base, shared by run and chat.
type app struct {
	store   *storage.Store
	kb      *knowledge.Base
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
	// One client for every use of the language model (nil when it is off).
	client := openai.FromConfig(cfg.LLM, log)
	var llm answer.LLM // a nil interface, not a nil *openai.Client, when off
	if client != nil {
		llm = client
	}
	kb, err := syncKnowledge(ctx, cfg, store, client, log)
	if err != nil {
		store.Close()
		return nil, err
	}

	text := func(lang, key string) string {
		return strings.ReplaceAll(cfg.Texts.Get(lang, key), "{bot}", cfg.Bot.Name)
	}
	registry := prometheus.NewRegistry()
	registry.MustRegister(collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	// The core comes first: the features post through it (notices,
	// escalations, acknowledgements); their routes are registered below.
	core := bot.New(bot.Options{
		Store:           store,
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
	hours, err := handoffHours(cfg.Handoff.Hours)
	if err != nil {
		kb.Close()
		store.Close()
		return nil, err
	}
	analyzer := sentiment.New()
	ho := handoff.New(handoff.Options{
		Store:        storage.NewHandoff(store),
		Owners:       store,
		Poster:       core,
		Logger:       log,
		Text:         text,
		StaffChannel: bot.ThreadRef{Platform: cfg.Staff.Channel.Platform, ChannelID: cfg.Staff.Channel.ID},
		Mention:      cfg.Handoff.Mention,
		AutoTakeover: cfg.Handoff.AutoTakeover,
		ReleaseAfter: cfg.Handoff.ReleaseAfter,
		Reaction:     cfg.Handoff.Reaction,
		Hours:        hours,
		Sensitive:    cfg.Handoff.Sensitive,
		Summarize:    handoff.LLMSummarizer(llm, cfg.LLM.Redact, cfg.LLM.Timeout),
		Sentiment:    analyzer.Label,
	})
	pv := privacy.New(privacy.People{Part: storage.Parts(store)}, text, nil)
	ib := newInbox(cfg, store, core, analyzer, llm, client, log)
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
	sup := support.New(support.Options{Answer: answers, Store: storage.NewSupport(store), Escalator: ho, Poster: core,
		StaffChannel: bot.ThreadRef{Platform: cfg.Staff.Channel.Platform, ChannelID: cfg.Staff.Channel.ID},
		Shadow:       cfg.Channels.Shadow, AddKnowledge: support.AddTo(kb), SaveReaction: cfg.Support.SaveReaction,
		Similarity: cfg.Support.Similarity, Text: text, Logger: log})
	register(core, sup, ho, pv, sup, ib)
	core.Observe(ho, sup)
	if cfg.Inbox.Enabled {
		core.Observe(ib)
	}
	if cfg.Sentiment.Enabled {
		mon, err := newMonitor(ctx, cfg, store, core, ho, analyzer, log)
		if err != nil {
			kb.Close()
			store.Close()
			return nil, err
		}
		core.Observe(mon)
	}
	return &app{store: store, kb: kb, core: core, handoff: ho, inbox: ib, metrics: registry}, nil
}

// register adds every route to the core, first match wins: the commands,
// then the hand-off's buttons and "talk to a human", and the knowledge-base
// answer as the fallback.
func register(core *bot.Bot, answers bot.Handler, ho *handoff.Service, pv *privacy.Service, sup *support.Answers, ib *inbox.Service) {
	core.Fallback(answers)
	core.Route(bot.Route{Name: "ask", Match: bot.Command("ask"), Handler: answers,
		Spec: &bot.CommandSpec{Name: "ask", Description: "Ask a question about the project", ArgName: "question", ArgHelp: "What do you want to know?"}})
	for _, routes := range [][]bot.Route{ib.Routes(), ho.Routes(), pv.Routes(), sup.Routes()} {
		core.Route(routes...)
	}
}

// openStore opens the database with the configured retention.
func openStore(cfg *config.Config, log *slog.Logger) (*storage.Store, error) {
	return storage.Open(storage.Options{Path: cfg.Storage.Path, MessageTTL: cfg.Storage.MessageTTL,
		SentimentTTL: cfg.Storage.SentimentTTL, AuditTTL: cfg.Storage.AuditTTL, FeedbackTTL: cfg.Storage.FeedbackTTL, Logger: log})
}

// newMonitor scores every message's sentiment and alerts staff on spikes.
func newMonitor(ctx context.Context, cfg *config.Config, store *storage.Store, poster bot.Poster, esc monitor.Escalator, a *sentiment.Analyzer, log *slog.Logger) (*monitor.Monitor, error) {
	opts := monitor.Options{
		Analyze:        monitor.SentimentAnalyzer(a),
		Store:          storage.NewSentiment(store),
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
		opts.Pseudonymize = monitor.Pseudonymizer(salt)
	}
	return monitor.New(opts), nil
}

// useEmbeddings adds vector search to the knowledge base when
// llm.embedding_model is set (and the LLM API is on).
func useEmbeddings(cfg *config.Config, kb *knowledge.Base, client *openai.Client) {
	if client.Embeds() {
		kb.SetEmbedder(client, knowledge.EmbedOptions{Model: cfg.LLM.EmbeddingModel})
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

// commands lists every route's command from a core with no storage
// behind it, never run (the Slack manifest).
func commands() []bot.CommandSpec {
	core, answers := bot.New(bot.Options{}), answer.New(answer.Options{})
	register(core, answers, handoff.New(handoff.Options{}), privacy.New(nil, nil, nil), support.New(support.Options{Answer: answers}),
		inbox.New(inbox.Options{}))
	return core.Commands()
}

// close lets webhook deliveries finish, releases the knowledge index and,
// last, storage.
func (a *app) close() error {
	a.inbox.Close()
	return errors.Join(a.kb.Close(), a.store.Close())
}

// newInbox files feature requests (detected, forwarded, /feedback) in the
// research inbox.
func newInbox(cfg *config.Config, store *storage.Store, core *bot.Bot, a *sentiment.Analyzer, llm answer.LLM, client *openai.Client, log *slog.Logger) *inbox.Service {
	hooks := make([]inbox.Notifier, 0, len(cfg.Inbox.Webhooks))
	for _, h := range cfg.Inbox.Webhooks {
		hooks = append(hooks, webhook.New(webhook.Options{URL: h.URL, Secret: h.Secret, Tries: uint(cfg.Inbox.WebhookTries)}))
	}
	ack := cfg.Inbox.Acknowledge
	var confirm inbox.Confirmer
	if cfg.Inbox.ConfirmWithLLM && llm != nil {
		confirm = inbox.LLMConfirmer(llm)
	}
	return inbox.New(inbox.Options{
		Confirm:         confirm,
		DirectMessenger: core, // people who ran /notify on hear of status changes directly
		Store:           storage.NewInbox(store), Owners: store, Poster: core, Logger: log.With("component", "inbox"),
		Text: func(lang, key string) string {
			return strings.ReplaceAll(cfg.Texts.Get(lang, key), "{bot}", cfg.Bot.Name)
		},
		Detect:    func(t, l string) float64 { return detect.DetectLang(t, l).Score },
		Sentiment: a.Score,
		Threshold: cfg.Inbox.Threshold, Similar: cfg.Inbox.Similar, Borderline: cfg.Inbox.Borderline,
		Embed: inboxEmbedder(cfg, client), SimilarEmbedding: cfg.Inbox.SimilarEmbedding,
		Acknowledge: &ack, ReactionEmoji: cfg.Inbox.Reaction,
		Quiet:              func(p, ch string) bool { return cfg.Channels.Policy(p, ch) == bot.PolicyListen },
		DailyCapPerChannel: cfg.Inbox.DailyCap, Notifiers: hooks,
	})
}

// inboxEmbedder lets the research inbox match requests by meaning when
// llm.embedding_model is set (texts redacted per llm.redact); else nil.
func inboxEmbedder(cfg *config.Config, client *openai.Client) func(context.Context, []string) ([][]float32, error) {
	if !client.Embeds() {
		return nil
	}
	return inbox.Embedder(client.Embed, cfg.LLM.Redact, cfg.LLM.Timeout)
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
func syncKnowledge(ctx context.Context, cfg *config.Config, store *storage.Store, client *openai.Client, log *slog.Logger) (*knowledge.Base, error) {
	folders, err := knowledgeFolders(cfg)
	if err != nil {
		return nil, err
	}
	kb := knowledge.NewBase(storage.NewKB(store), folders, log)
	useEmbeddings(cfg, kb, client)
	rep, err := kb.Sync(ctx, nil)
	if err != nil {
		kb.Close()
		return nil, err
	}
	log.Info("knowledge base synced", "report", rep.String(), "chunks", kb.Len())
	return kb, nil
}

// openKB is the knowledge base on the database, for `einsatz kb` when no
// server runs.
func openKB(ctx context.Context, cfg *config.Config) (cli.KB, func() error, error) {
	store, err := storage.Open(storage.Options{Path: cfg.Storage.Path, Logger: slog.New(slog.DiscardHandler)})
	if err != nil {
		return nil, nil, err
	}
	folders, err := knowledgeFolders(cfg)
	if err != nil {
		store.Close()
		return nil, nil, err
	}
	kb := knowledge.NewBase(storage.NewKB(store), folders, nil)
	useEmbeddings(cfg, kb, openai.FromConfig(cfg.LLM, slog.New(slog.DiscardHandler)))
	if err := kb.Rebuild(ctx); err != nil {
		store.Close()
		return nil, nil, err
	}
	return kb, func() error { return errors.Join(kb.Close(), store.Close()) }, nil
}

// run serves every enabled adapter until SIGINT or SIGTERM; the adapters
// and background work stop first, storage closes last.
func run(ctx context.Context, cfg *config.Config, log *slog.Logger, stdout io.Writer) error {
	ctx, stop := signal.NotifyContext(ctx, os.Interrupt, syscall.SIGTERM)
	defer stop()
	a, err := newApp(ctx, cfg, log)
	if err != nil {
		return err
	}
	err = serve(ctx, cfg, a, log, stdout)
	log.Info("stopped; closing storage")
	return errors.Join(err, a.close())
}

// serve builds the adapters over the app and runs them until ctx ends.
func serve(ctx context.Context, cfg *config.Config, a *app, log *slog.Logger, stdout io.Writer) error {
	settings := cli.Describe(cfg)
	for _, line := range settings {
		log.Info("config", "setting", line)
	}
	site, err := web.FromConfig(cfg, web.Features{Store: a.store, Core: a.core, KB: a.kb, Inbox: a.inbox,
		Metrics: a.metrics, Settings: settings, Logger: log})
	if err != nil {
		return err
	}
	s := cli.Serving{Core: a.core, Web: site, Logger: log,
		Background: []cli.Task{{Run: a.handoff.Run, Failed: "handoff: hand-back timer stopped"}}}
	if len(cfg.Knowledge.Paths) > 0 {
		s.Background = append(s.Background, cli.Task{Run: func(ctx context.Context) error { return a.kb.Watch(ctx, 500*time.Millisecond) },
			Failed: "knowledge: file watcher stopped; use 'einsatz kb sync'"})
	}
	if cfg.Discord.On() {
		da, err := discord.New(discord.OptionsFrom(cfg, a.core.Commands(), log))
		if err != nil {
			return err
		}
		s.Adapters = append(s.Adapters, da)
	}
	if cfg.Slack.On() {
		sa, err := slack.New(slack.OptionsFrom(cfg, a.core.Commands(), log))
		if err != nil {
			return err
		}
		if cfg.Slack.Mode == slack.ModeHTTP {
			site.Mount(slack.EventsPath, sa.HTTPHandler())
		}
		s.Adapters = append(s.Adapters, sa)
	}
	return cli.Serve(ctx, s, stdout)
}
