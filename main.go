// Command einsatz is a self-hosted community engagement bot for Discord,
// Slack and the web. This file is the wiring: the command tree (adapters/cli)
// loads the config and makes the logger; run opens storage, builds the
// handlers and their routes (newApp), starts the adapters under one context
// that ends on SIGINT/SIGTERM (serve), and closes the adapters first and
// storage last. What each feature or adapter takes from the config lives
// next to it (FromConfig, OptionsFrom).
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
	"slices"
	"syscall"

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
	"github.com/einsatz/einsatz/bot/catchup"
	"github.com/einsatz/einsatz/bot/config"
	"github.com/einsatz/einsatz/handlers/answer"
	"github.com/einsatz/einsatz/handlers/handoff"
	"github.com/einsatz/einsatz/handlers/inbox"
	"github.com/einsatz/einsatz/handlers/inbox/detect"
	"github.com/einsatz/einsatz/handlers/knowledge"
	"github.com/einsatz/einsatz/handlers/monitor"
	"github.com/einsatz/einsatz/handlers/privacy"
	"github.com/einsatz/einsatz/handlers/reading"
	"github.com/einsatz/einsatz/handlers/sentiment"
	"github.com/einsatz/einsatz/handlers/solutions"
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
		fmt.Fprintln(cli.TerminalSafe(os.Stderr), "einsatz:", err)
		os.Exit(1)
	}
}

// newRootCmd is the command tree over this program's wiring.
func newRootCmd(stdin io.Reader, stdout, stderr io.Writer) *cobra.Command {
	return cli.NewRoot(cli.App{
		Version: version,
		Run:     run,
		NewBot: func(ctx context.Context, cfg *config.Config, log *slog.Logger) (*bot.Bot, func() error, error) {
			a, err := newApp(ctx, cfg, log, nil)
			if err != nil {
				return nil, nil, err
			}
			return a.core, a.close, nil
		},
		Commands:         commands,
		OpenStore:        openStore,
		KnowledgeFolders: knowledgeFolders,
		KnowledgeSources: knowledgeSources,
		ClusterStatus:    clusterStatus,
	}, stdin, stdout, stderr)
}

// run serves every enabled adapter until SIGINT or SIGTERM; the adapters
// and background work stop first, storage closes last.
func run(ctx context.Context, cfg *config.Config, log *slog.Logger, stdout io.Writer) error {
	ctx, stop := signal.NotifyContext(ctx, os.Interrupt, syscall.SIGTERM)
	defer stop()
	applyMemoryLimit(log)
	defer startProfiles(log)()
	cl, err := joinCluster(ctx, cfg, log) // nil with cluster.mode off
	if err != nil {
		return err
	}
	a, err := newApp(ctx, cfg, log, cl)
	if err != nil {
		return errors.Join(err, cl.close())
	}
	err = serve(ctx, cfg, a, cl, log, stdout)
	log.Info("stopped; closing storage")
	return errors.Join(err, cl.close(), a.close())
}

// serve builds the adapters over the app and runs them until ctx ends.
func serve(ctx context.Context, cfg *config.Config, a *app, cl *clustered, log *slog.Logger, stdout io.Writer) error {
	settings := cli.Describe(cfg)
	for _, line := range settings {
		log.Info("config", "setting", line)
	}
	site, err := web.FromConfig(cfg, web.Features{Store: a.store, Core: a.core, KB: a.kb, Sources: a.remote, Inbox: a.inbox, Desk: a.handoff, Mood: a.shared.mood,
		Memory:     append(slices.Clone(a.shared.parts), a.inbox),
		Candidates: a.solutions, Metrics: a.metrics, Problems: cl.problems(), Settings: settings, Logger: log})
	if err != nil {
		return err
	}
	s := cli.Serving{Core: a.core, Web: site, Logger: log,
		Background: []cli.Task{{Run: cl.once("handoff", a.handoff.Run), Failed: "handoff: hand-back timer stopped"},
			{Run: cl.once("nudge", a.solutions.Run), Failed: "solutions: nudge timer stopped"}}}
	s.Background = append(s.Background, cl.knowledgeTasks(cfg, a, log)...) // in a cluster: shared through the object store
	if cfg.Discord.On() {
		opts := discord.OptionsFrom(cfg, a.core.Commands(), log)
		opts.Gateway = cl.discordGateway(cfg) // the shards this node holds, in a cluster
		da, err := discord.New(opts)
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
		// Slack's events carry channel ids only: the dashboard's names
		// come from conversations.info, once per channel a day.
		names := web.NewChannelNames(storage.NewNames(a.store), bot.PlatformSlack, sa.ChannelName, nil, log)
		a.core.Observe(names)
		defer names.Wait() // before storage closes
		s.Adapters = append(s.Adapters, sa)
	}
	if cfg.CatchUp.On() {
		s.Background = append(s.Background, cl.catchUpTask(cfg, a, s.Adapters, log))
	}
	// In a cluster, Discord's and Slack's events go through the streams;
	// the web chat is answered by the node that took the request.
	s.Adapters = cl.adapters(s.Adapters)
	s.Background = append(s.Background, cl.tasks(a.core)...)
	return cli.Serve(ctx, s, stdout)
}

// app is the bot with its storage and knowledge base, shared by run and chat.
type app struct {
	store   *storage.Store
	kb      *knowledge.Base
	remote  *knowledge.Remote // the websites and repositories of knowledge.sources
	core    *bot.Bot
	handoff *handoff.Service
	inbox   *inbox.Service
	// solutions are the solved threads' knowledge candidates.
	solutions *solutions.Service
	metrics   *prometheus.Registry
	shared    sharedState // escalations, inbox, sentiment: the cluster's in cluster mode
}

// newApp builds the whole bot without adapters: storage, the knowledge
// base, the core, then the features with their routes and observers. cl
// shares thread ownership with the cluster (nil: one machine).
func newApp(ctx context.Context, cfg *config.Config, log *slog.Logger, cl *clustered) (_ *app, err error) {
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
	kb, err := cl.knowledge(ctx, cfg, store, client, log) // syncKnowledge on one machine
	if err != nil {
		store.Close()
		return nil, err
	}
	defer func() {
		if err != nil {
			kb.Close()
			store.Close()
		}
	}()

	// What every node must see: the cluster's buckets, or this store.
	shared, err := cl.shared(ctx, cfg, store)
	if err != nil {
		return nil, err
	}
	analyzer := sentiment.New()
	registry := prometheus.NewRegistry()
	registry.MustRegister(collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	cl.register(registry)
	// The core comes first: the features post through it (notices,
	// escalations, acknowledgements); their routes are registered below.
	core := bot.New(bot.Options{
		Store:           cl.coreStore(store),
		Logger:          log,
		Concurrency:     cfg.Core.Concurrency,
		QueueSize:       cfg.Core.QueueSize,
		SeenTTL:         cfg.Storage.SeenTTL,
		ResumeWindow:    cfg.CatchUp.Window,
		HistoryTurns:    cfg.Storage.HistoryTurns,
		RatePerMinute:   cfg.Core.RateLimit.PerMinute,
		RateBurst:       cfg.Core.RateLimit.Burst,
		ShutdownTimeout: cfg.Core.ShutdownTimeout,
		Policy:          cfg.Channels.Policy,
		DMsOff:          !cfg.Channels.DMsOn(),
		IsQuestion:      knowledge.IsQuestion,
		Read:            reading.FromConfig(cfg, analyzer.Score).Read,
		Text:            cfg.Text,
		Metrics:         web.NewMetrics(registry),
	})
	web.WatchCore(registry, core)

	// The features: each takes its settings from the config (FromConfig)
	// and what it works with from here.
	hoOpts, err := handoff.FromConfig(cfg, llm, handoff.Options{Store: shared.escalations, Owners: cl.owners(store), History: store, Poster: core,
		Relays: storage.NewRelay(store),
		Logger: log, Sentiment: analyzer.Label})
	if err != nil {
		return nil, err
	}
	ho := handoff.New(hoOpts)
	// The inbox tells people who ran /notify on of status changes directly.
	ib := inbox.New(inbox.FromConfig(cfg, llm, inbox.Options{Store: shared.inbox, Owners: store, Poster: core,
		DirectMessenger: core, Logger: log.With("component", "inbox"), Sentiment: analyzer.Score,
		Detect: func(t, l string) float64 { return detect.DetectLang(t, l).Score }, Notifiers: webhook.FromConfig(cfg.Inbox)}))
	// Erasure reaches every store, then what the inbox holds in memory.
	pv := privacy.New(privacy.People{Part: append(append(storage.Parts(store), shared.parts...), ib)}, cfg.Text, nil)
	answers := answer.New(answer.FromConfig(cfg, answer.Options{Search: kb, LLM: llm, Escalator: ho, Logger: log}))
	// Answers go through the support log: feedback buttons, shadow mode,
	// repeated questions, saving staff replies as knowledge.
	sup := support.New(support.FromConfig(cfg, support.Options{Answer: answers, Store: storage.NewSupport(store), Escalator: ho,
		Poster: core, AddKnowledge: support.AddTo(kb), Logger: log}))

	// Solved threads become knowledge candidates staff review.
	// They ask the asker before one goes on the public answer pages, and
	// nudge quiet answered threads ("did this solve it?").
	sol := solutions.New(solutions.FromConfig(cfg, solutions.Options{Store: storage.NewSolved(store), AddKnowledge: support.AddTo(kb),
		Poster: core, Nudges: storage.NewSolved(store), OptOuts: storage.NewSolved(store), Threads: store, Forums: core, Reactor: core, Logger: log.With("component", "solutions")}))

	register(core, sup, ho, pv, sup, ib, sol)
	core.Route(reading.Routes(cfg.Text)...)
	core.Observe(ho, sup, sol)
	// The dashboard shows names instead of ids: keep those events carry.
	core.Observe(web.RecordNames(storage.NewNames(store), log))
	core.Reclaim(ho) // a member writing after staff went quiet gets the bot back at once
	if cfg.CatchUp.On() {
		// The newest message handled per thread, for the catch-up at the next start.
		marks, err := cl.catchUpMarks(ctx, cfg, store)
		if err != nil {
			return nil, err
		}
		core.Observe(catchup.NewRecorder(marks, nil, log.With("component", "catchup"),
			bot.PlatformDiscord, bot.PlatformSlack))
	}
	if cfg.Inbox.Enabled {
		core.Observe(ib)
	}
	if cfg.Sentiment.Enabled {
		monOpts, err := monitor.FromConfig(ctx, cfg, store, monitor.Options{Analyze: monitor.SentimentAnalyzer(analyzer),
			Store: shared.mood, Poster: core, Escalate: ho, Logger: log.With("component", "sentiment")})
		if err != nil {
			return nil, err
		}
		core.Observe(monitor.New(monOpts))
	}
	sources, err := knowledgeSources(cfg)
	if err != nil {
		return nil, err
	}
	remote := knowledge.NewRemote(kb, storage.NewKBSources(store), sources, nil, log)
	return &app{store: store, kb: kb, remote: remote, core: core, handoff: ho, inbox: ib, solutions: sol, metrics: registry, shared: shared}, nil
}

// openStore opens the database with the configured retention.
func openStore(cfg *config.Config, log *slog.Logger) (*storage.Store, error) {
	return storage.Open(storage.Options{Path: cfg.Storage.Path, MessageTTL: cfg.Storage.MessageTTL,
		SentimentTTL: cfg.Storage.SentimentTTL, AuditTTL: cfg.Storage.AuditTTL, FeedbackTTL: cfg.Storage.FeedbackTTL, Logger: log})
}

// knowledgeFolders are the configured folders, or the built-in example
// when neither folders nor remote sources are configured.
func knowledgeFolders(cfg *config.Config) ([]knowledge.Folder, error) {
	if len(cfg.Knowledge.Paths) == 0 {
		if len(cfg.Knowledge.Sources) > 0 {
			return nil, nil
		}
		return []knowledge.Folder{{FS: exampleKB, Root: "knowledge"}}, nil
	}
	return knowledge.Folders(cfg.Knowledge.Paths, cfg.Knowledge.BaseURLs)
}

// knowledgeSources are the configured websites and Git repositories.
func knowledgeSources(cfg *config.Config) ([]knowledge.Source, error) {
	var out []knowledge.Source
	for _, s := range cfg.Knowledge.Sources {
		switch s.Type {
		case "website":
			w, err := knowledge.NewWebsite(s.URL)
			if err != nil {
				return nil, err
			}
			w.Sitemap, w.Include, w.Exclude, w.Delay = s.Sitemap, s.Include, s.Exclude, s.Delay
			w.MaxPages, w.MaxBytes, w.Interval = s.MaxPages, int64(s.MaxBytes), s.Every
			out = append(out, w)
		case "git":
			out = append(out, &knowledge.GitRepo{URL: s.URL, Branch: s.Branch, Path: s.Path, BaseURL: s.BaseURL, Interval: s.Every})
		}
	}
	return out, nil
}

// syncKnowledge reads changed knowledge files into storage and builds the
// search index.
func syncKnowledge(ctx context.Context, cfg *config.Config, store *storage.Store, client *openai.Client, log *slog.Logger) (*knowledge.Base, error) {
	folders, err := knowledgeFolders(cfg)
	if err != nil {
		return nil, err
	}
	kb := knowledge.NewBase(storage.NewKB(store), folders, log)
	kb.SetEmbedder(client.Embedder(), knowledge.EmbedOptions{Model: cfg.LLM.EmbeddingModel})
	rep, err := kb.Sync(ctx, nil)
	if err != nil {
		kb.Close()
		return nil, err
	}
	log.Info("knowledge base synced", "report", rep.String(), "chunks", kb.Len())
	return kb, nil
}

// register adds every route to the core, first match wins: the commands,
// then the hand-off's buttons and "talk to a human", and the knowledge-base
// answer as the fallback.
func register(core *bot.Bot, answers bot.Handler, ho *handoff.Service, pv *privacy.Service, sup *support.Answers, ib *inbox.Service, sol *solutions.Service) {
	core.Fallback(answers)
	core.Route(bot.Route{Name: "ask", Match: bot.Command("ask"), Handler: answers,
		Spec: &bot.CommandSpec{Name: "ask", Description: "Ask a question about the project", ArgName: "question", ArgHelp: "What do you want to know?"}})
	for _, routes := range [][]bot.Route{ib.Routes(), ho.Routes(), pv.Routes(), sup.Routes(), sol.Routes()} {
		core.Route(routes...)
	}
}

// commands lists every route's command from a core with no storage
// behind it, never run (the Slack manifest).
func commands() []bot.CommandSpec {
	core, answers := bot.New(bot.Options{}), answer.New(answer.Options{})
	register(core, answers, handoff.New(handoff.Options{}), privacy.New(nil, nil, nil), support.New(support.Options{Answer: answers}),
		inbox.New(inbox.Options{}), solutions.New(solutions.Options{}))
	return core.Commands()
}

// close lets webhook deliveries finish, releases the knowledge index and,
// last, storage.
func (a *app) close() error {
	a.inbox.Close()
	return errors.Join(a.kb.Close(), a.store.Close())
}
