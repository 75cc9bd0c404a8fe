// Package cli is the command line: the cobra command tree of einsatz and
// its subcommands. It parses arguments and prints; the work is done by the
// running server (through its admin API), by the feature packages on the
// database directly when no server runs, or by the program's wiring (App).
package cli

import (
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"log/slog"
	"os"
	"os/signal"
	"runtime"
	"strings"
	"syscall"
	"time"

	"github.com/spf13/cobra"

	"github.com/einsatz/einsatz/adapters/console"
	"github.com/einsatz/einsatz/adapters/discord"
	"github.com/einsatz/einsatz/adapters/openai"
	"github.com/einsatz/einsatz/adapters/slack"
	"github.com/einsatz/einsatz/adapters/web"
	"github.com/einsatz/einsatz/bot"
	"github.com/einsatz/einsatz/bot/config"
	"github.com/einsatz/einsatz/bot/escalation"
	"github.com/einsatz/einsatz/handlers/handoff"
	"github.com/einsatz/einsatz/handlers/imports"
	"github.com/einsatz/einsatz/handlers/inbox"
	"github.com/einsatz/einsatz/handlers/inbox/detect"
	"github.com/einsatz/einsatz/handlers/knowledge"
	"github.com/einsatz/einsatz/handlers/privacy"
	"github.com/einsatz/einsatz/handlers/sentiment"
	"github.com/einsatz/einsatz/handlers/support"
	"github.com/einsatz/einsatz/storage"
)

// App is what the commands need from the program's wiring (package main),
// passed in so that this package does not depend on it.
type App struct {
	Version string
	// Run serves every enabled adapter until ctx ends or SIGINT/SIGTERM.
	Run func(ctx context.Context, cfg *config.Config, log *slog.Logger, stdout io.Writer) error
	// NewBot builds the whole bot without adapters (chat, import); close
	// releases what it opened, storage last.
	NewBot func(ctx context.Context, cfg *config.Config, log *slog.Logger) (core *bot.Bot, close func() error, err error)
	// Commands lists the bot's commands without opening storage.
	Commands func() []bot.CommandSpec
	// OpenStore opens the database with the configured retention.
	OpenStore func(cfg *config.Config, log *slog.Logger) (*storage.Store, error)
	// KnowledgeFolders are the configured knowledge folders, or the
	// built-in example.
	KnowledgeFolders func(cfg *config.Config) ([]knowledge.Folder, error)
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

// Describe lists what the config turns on, for run and config check.
func Describe(cfg *config.Config) []string {
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

// NewRoot builds the command tree; `einsatz` alone runs the bot. app is
// the program's wiring, which the commands call.
func NewRoot(app App, stdin io.Reader, stdout, stderr io.Writer) *cobra.Command {
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
		return app.Run(cmd.Context(), cfg, newLogger(cfg.Log, stderr, slog.LevelDebug), stdout)
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
			return chat(cmd.Context(), app, cfg, newLogger(cfg.Log, stderr, slog.LevelWarn), stdin, stdout)
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
			for _, line := range Describe(cfg) {
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
			id, err := discord.ApplicationID(cmd.Context(), discord.OptionsFrom(cfg, nil, slog.New(slog.DiscardHandler)))
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
				Commands: app.Commands(), StaffUserGroup: cfg.Staff.Slack.UserGroup != ""})
			if err != nil {
				return err
			}
			_, err = stdout.Write(out)
			return err
		},
	})
	root.AddCommand(slackCmd)
	root.AddCommand(HandoffCommand(func(cmd *cobra.Command) (Escalations, func() error, error) {
		client, store, err := openData(cmd, app, loadConfig)
		if err != nil {
			return nil, nil, err
		}
		if client != nil {
			return RemoteEscalations(client), func() error { return nil }, nil
		}
		return func(ctx context.Context, open bool) ([]escalation.Escalation, error) {
			return handoff.List(ctx, storage.NewHandoff(store), open)
		}, store.Close, nil
	}, stdout))
	root.AddCommand(InboxCommand(func(cmd *cobra.Command) (Inbox, func() error, error) {
		client, store, err := openData(cmd, app, loadConfig)
		if err != nil {
			return nil, nil, err
		}
		if client != nil {
			return RemoteInbox(client), func() error { return nil }, nil
		}
		ib := inbox.New(inbox.Options{Store: storage.NewInbox(store), Owners: store, Logger: slog.New(slog.DiscardHandler)})
		return ib, func() error { ib.Close(); return store.Close() }, nil
	}, stdout))
	root.AddCommand(PrivacyCommand(func(cmd *cobra.Command) (Privacy, func() error, error) {
		client, store, err := openData(cmd, app, loadConfig)
		if err != nil {
			return nil, nil, err
		}
		if client != nil {
			return RemotePrivacy{Client: client}, func() error { return nil }, nil
		}
		return privacy.People{Part: storage.Parts(store)}, store.Close, nil
	}, stdout))
	root.AddCommand(ImportCommand(func(cmd *cobra.Command) (Importer, func() error, error) {
		cfg, err := loadConfig(cmd)
		if err != nil {
			return nil, nil, err
		}
		if client, err := web.Running(cmd.Context(), cfg.Storage.Path); err == nil {
			return RemoteImporter(client), func() error { return nil }, nil
		}
		// No server: the whole bot, without adapters, replays the export.
		core, closeBot, err := app.NewBot(cmd.Context(), cfg, newLogger(cfg.Log, stderr, slog.LevelWarn))
		if err != nil {
			return nil, nil, err
		}
		run := func(ctx context.Context, kind, path string, progress func(done, total int)) (imports.Summary, error) {
			ex, err := imports.Read(kind, path)
			if err != nil {
				return imports.Summary{}, err
			}
			return imports.Run(ctx, core, ex, progress)
		}
		return run, closeBot, nil
	}, stdout))
	root.AddCommand(SentimentCommand(func(cmd *cobra.Command) (SentimentSource, func() error, error) {
		client, store, err := openData(cmd, app, loadConfig)
		if err != nil {
			return nil, nil, err
		}
		if client != nil {
			return RemoteSentiment{Client: client}, func() error { return nil }, nil
		}
		return LocalSentiment{Store: storage.NewSentiment(store), Now: time.Now}, store.Close, nil
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
			kb, release, err := openKB(cmd.Context(), app, cfg)
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
	evalCmd.AddCommand(evalAnswersCommand(app, loadConfig, stdout))
	root.AddCommand(evalCmd)
	openSupport := func(cmd *cobra.Command) (SupportSource, func() error, error) {
		cfg, err := loadConfig(cmd)
		if err != nil {
			return nil, nil, err
		}
		client, store, err := connect(cmd.Context(), app, cfg)
		if err != nil {
			return nil, nil, err
		}
		if client != nil {
			return RemoteSupport{Client: client}, func() error { return nil }, nil
		}
		settings := support.Settings{FollowUp: cfg.Support.FollowUp, Similarity: cfg.Support.Similarity}
		return LocalSupport{Store: storage.NewSupport(store), Settings: settings}, store.Close, nil
	}
	kbCmd := KBCommand(func(cmd *cobra.Command) (KB, func() error, error) {
		cfg, err := loadConfig(cmd)
		if err != nil {
			return nil, nil, err
		}
		return openKB(cmd.Context(), app, cfg)
	}, stdout)
	kbCmd.AddCommand(GapsCommand(openSupport, stdout))
	root.AddCommand(kbCmd)
	reportCmd := &cobra.Command{Use: "report", Short: "Reports for the support and product teams"}
	reportCmd.AddCommand(SupportCommand(openSupport, stdout))
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
			fmt.Fprintf(stdout, "einsatz %s (%s, schema v%d)\n", app.Version, runtime.Version(), storage.SchemaVersion)
		},
	})
	return root
}

// chat runs the bot with the console adapter until the input ends.
func chat(ctx context.Context, app App, cfg *config.Config, log *slog.Logger, in io.Reader, out io.Writer) error {
	ctx, stop := signal.NotifyContext(ctx, os.Interrupt, syscall.SIGTERM)
	defer stop()
	core, closeBot, err := app.NewBot(ctx, cfg, log)
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
	runErr := core.Run(ctx, endsInput{con, cancel})
	return errors.Join(runErr, closeBot())
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

// openData is where CLI commands read and change data: the running
// server's admin API when one owns the data directory (client), else the
// database itself (store).
func openData(cmd *cobra.Command, app App, loadConfig func(*cobra.Command) (*config.Config, error)) (*web.Client, *storage.Store, error) {
	cfg, err := loadConfig(cmd)
	if err != nil {
		return nil, nil, err
	}
	return connect(cmd.Context(), app, cfg)
}

// connect is openData with the config loaded.
func connect(ctx context.Context, app App, cfg *config.Config) (*web.Client, *storage.Store, error) {
	client, err := web.Running(ctx, cfg.Storage.Path)
	if err == nil {
		return client, nil, nil
	}
	if !errors.Is(err, web.ErrNotRunning) {
		return nil, nil, err
	}
	store, err := app.OpenStore(cfg, slog.New(slog.DiscardHandler))
	return nil, store, err
}

// openKB is the knowledge base for `einsatz kb`: the running server's, or
// the one on the database when no server runs (embedding new chunks when
// llm.embedding_model is set).
func openKB(ctx context.Context, app App, cfg *config.Config) (KB, func() error, error) {
	if client, err := web.Running(ctx, cfg.Storage.Path); err == nil {
		return RemoteKB{Client: client}, func() error { return nil }, nil
	} else if !errors.Is(err, web.ErrNotRunning) {
		return nil, nil, err
	}
	store, err := storage.Open(storage.Options{Path: cfg.Storage.Path, Logger: slog.New(slog.DiscardHandler)})
	if err != nil {
		return nil, nil, err
	}
	folders, err := app.KnowledgeFolders(cfg)
	if err != nil {
		store.Close()
		return nil, nil, err
	}
	kb := knowledge.NewBase(storage.NewKB(store), folders, nil)
	llm := openai.FromConfig(cfg.LLM, slog.New(slog.DiscardHandler))
	kb.SetEmbedder(llm.Embedder(), knowledge.EmbedOptions{Model: cfg.LLM.EmbeddingModel})
	if err := kb.Rebuild(ctx); err != nil {
		store.Close()
		return nil, nil, err
	}
	return kb, func() error { return errors.Join(kb.Close(), store.Close()) }, nil
}
