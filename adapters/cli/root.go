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

	"github.com/spf13/cobra"

	"github.com/einsatz/einsatz/adapters/console"
	"github.com/einsatz/einsatz/adapters/discord"
	"github.com/einsatz/einsatz/adapters/openai"
	"github.com/einsatz/einsatz/adapters/slack"
	"github.com/einsatz/einsatz/adapters/web"
	"github.com/einsatz/einsatz/bot"
	"github.com/einsatz/einsatz/bot/config"
	"github.com/einsatz/einsatz/handlers/knowledge"
	"github.com/einsatz/einsatz/handlers/solutions"
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
	// KnowledgeSources are the configured websites and repositories.
	KnowledgeSources func(cfg *config.Config) ([]knowledge.Source, error)
	// ClusterStatus prints the state of the configured cluster.
	ClusterStatus func(ctx context.Context, cfg *config.Config, w io.Writer) error
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

// root is what the commands share: the program's wiring, the --config
// flag's value and the streams. Each command is built by a method of its
// own, so NewRoot reads as the table of contents of the CLI.
type root struct {
	app            App
	configPath     string
	dataDir        string // the --data flag
	dataFrom       string // where the last loadConfig found the data directory
	stdin          io.Reader
	stdout, stderr io.Writer
}

// NewRoot builds the command tree; `einsatz` alone runs the bot. app is
// the program's wiring, which the commands call.
func NewRoot(app App, stdin io.Reader, stdout, stderr io.Writer) *cobra.Command {
	// Everything printed passes TerminalSafe: stored data (members' names
	// and words) must not reach a staff terminal as escape sequences.
	stdout, stderr = TerminalSafe(stdout), TerminalSafe(stderr)
	r := &root{app: app, stdin: stdin, stdout: stdout, stderr: stderr}
	cmd := r.newRootCmd()
	cmd.AddCommand(
		r.newRunCmd(),
		r.newChatCmd(),
		r.newConfigCmd(),
		r.newDiscordCmd(),
		r.newSlackCmd(),
		HandoffCommand(r.openHandoff, stdout),
		InboxCommand(r.openInbox, stdout),
		PrivacyCommand(r.openPrivacy, stdout),
		ImportCommand(r.openImporter, stdout),
		SentimentCommand(r.openSentiment, stdout),
		r.newAnalyzeCmd(),
		r.newEvalCmd(),
		r.newKBCmd(),
		r.newReportCmd(),
		r.newBackupCmd(),
		r.newRestoreCmd(),
		r.newVersionCmd(),
		r.newClusterCmd(),
	)
	return cmd
}

// loadConfig reads the --config file; without one (and none asked for
// explicitly) the commands run with the defaults. Either way the data
// directory is the one config.ResolveDataDir finds, the same for every
// command.
func (r *root) loadConfig(cmd *cobra.Command) (*config.Config, error) {
	cfg, err := config.Load(r.configPath)
	if errors.Is(err, fs.ErrNotExist) && !cmd.Flags().Changed("config") && os.Getenv("EINSATZ_CONFIG") == "" {
		cfg = config.Default()
		r.dataFrom = cfg.ResolveDataDir(r.dataDir, os.LookupEnv)
		fmt.Fprintf(r.stderr, "no %s here: running with the defaults (data directory %s, from %s)\n", r.configPath, cfg.Storage.Path, r.dataFrom)
		return cfg, nil
	}
	if err != nil {
		return nil, err
	}
	r.dataFrom = cfg.ResolveDataDir(r.dataDir, os.LookupEnv)
	return cfg, nil
}

// openData is where CLI commands read and change data: the running
// server's admin API when one owns the data directory (client), else the
// database itself (store).
func (r *root) openData(cmd *cobra.Command) (*web.Client, *storage.Store, error) {
	cfg, err := r.loadConfig(cmd)
	if err != nil {
		return nil, nil, err
	}
	return connect(cmd.Context(), r.app, cfg)
}

// newRootCmd is `einsatz` itself: it runs the bot, and holds --config.
func (r *root) newRootCmd() *cobra.Command {
	cmd := &cobra.Command{
		Use:           "einsatz",
		Short:         "Community engagement bot for Discord, Slack and the web",
		SilenceUsage:  true,
		SilenceErrors: true,
		RunE:          r.run,
	}
	cmd.SetIn(r.stdin)
	cmd.SetOut(r.stdout)
	cmd.SetErr(r.stderr)
	defaultConfig := "config.yaml"
	if env := os.Getenv("EINSATZ_CONFIG"); env != "" {
		defaultConfig = env
	}
	cmd.PersistentFlags().StringVar(&r.configPath, "config", defaultConfig, "config file (env EINSATZ_CONFIG)")
	cmd.PersistentFlags().StringVar(&r.dataDir, "data", "", "data directory (default: env "+config.DataDirEnv+", else storage.path of the config file, else ./data)")
	return cmd
}

// run serves the bot: `einsatz` and `einsatz run`.
func (r *root) run(cmd *cobra.Command, _ []string) error {
	cfg, err := r.loadConfig(cmd)
	if err != nil {
		return err
	}
	return r.app.Run(cmd.Context(), cfg, newLogger(cfg.Log, r.stderr, slog.LevelDebug), r.stdout)
}

func (r *root) newRunCmd() *cobra.Command {
	return &cobra.Command{
		Use:   "run",
		Short: "Run the bot with every configured adapter (the default command)",
		Args:  cobra.NoArgs,
		RunE:  r.run,
	}
}

func (r *root) newChatCmd() *cobra.Command {
	return &cobra.Command{
		Use:   "chat",
		Short: "Talk to the bot in the terminal, through the same pipeline as every platform",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			cfg, err := r.loadConfig(cmd)
			if err != nil {
				return err
			}
			return chat(cmd.Context(), r.app, cfg, newLogger(cfg.Log, r.stderr, slog.LevelWarn), r.stdin, r.stdout)
		},
	}
}

// newConfigCmd is `einsatz config check`.
func (r *root) newConfigCmd() *cobra.Command {
	configCmd := &cobra.Command{Use: "config", Short: "Work with the configuration"}
	configCmd.AddCommand(&cobra.Command{
		Use:   "check",
		Short: "Validate the config file: every problem with its line, non-zero exit on any",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			// No fallback to the defaults here: checking a missing file fails.
			cfg, err := config.Load(r.configPath)
			if err != nil {
				return err
			}
			cfg.ResolveDataDir(r.dataDir, os.LookupEnv)
			fmt.Fprintf(r.stdout, "%s: OK\n", r.configPath)
			for _, line := range Describe(cfg) {
				fmt.Fprintln(r.stdout, "  "+line)
			}
			return nil
		},
	})
	return configCmd
}

// newDiscordCmd is `einsatz discord invite-url`.
func (r *root) newDiscordCmd() *cobra.Command {
	discordCmd := &cobra.Command{Use: "discord", Short: "Set up the Discord bot"}
	discordCmd.AddCommand(&cobra.Command{
		Use:   "invite-url",
		Short: "Print the OAuth2 URL that adds the bot to a server, with exactly the permissions it needs",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			cfg, err := r.loadConfig(cmd)
			if err != nil {
				return err
			}
			id, err := discord.ApplicationID(cmd.Context(), discord.OptionsFrom(cfg, nil, slog.New(slog.DiscardHandler)))
			if err != nil {
				return err
			}
			fmt.Fprintln(r.stdout, discord.InviteURL(id))
			return nil
		},
	})
	return discordCmd
}

// newSlackCmd is `einsatz slack manifest`.
func (r *root) newSlackCmd() *cobra.Command {
	slackCmd := &cobra.Command{Use: "slack", Short: "Set up the Slack app"}
	slackCmd.AddCommand(&cobra.Command{
		Use:   "manifest",
		Short: "Print the Slack app manifest (YAML) for the enabled features",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			cfg, err := r.loadConfig(cmd)
			if err != nil {
				return err
			}
			out, err := slack.Manifest(slack.ManifestOptions{Name: cfg.Bot.Name, Mode: cfg.Slack.Mode, PublicURL: cfg.Web.PublicURL,
				Commands: r.app.Commands(), StaffUserGroup: cfg.Staff.Slack.UserGroup != "", Customize: cfg.Slack.Customize})
			if err != nil {
				return err
			}
			_, err = r.stdout.Write(out)
			return err
		},
	})
	return slackCmd
}

// newEvalCmd is `einsatz eval retrieval|answers`.
func (r *root) newEvalCmd() *cobra.Command {
	evalCmd := &cobra.Command{Use: "eval", Short: "Measure the bot on a labelled set"}
	evalCmd.AddCommand(r.newEvalRetrievalCmd())
	evalCmd.AddCommand(evalAnswersCommand(r.app, r.loadConfig, r.stdout))
	return evalCmd
}

func (r *root) newEvalRetrievalCmd() *cobra.Command {
	return &cobra.Command{
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
			cfg, err := r.loadConfig(cmd)
			if err != nil {
				return err
			}
			kb, release, err := openKB(cmd.Context(), r.app, cfg)
			if err != nil {
				return err
			}
			defer release()
			scores, err := knowledge.EvalRetrieval(cmd.Context(), kb.Search, cases)
			if err != nil {
				return err
			}
			fmt.Fprintf(r.stdout, "queries %d\nMRR@10  %.3f\nR@1     %.3f\nR@5     %.3f\nR@10    %.3f\n",
				scores.N, scores.MRR10, scores.Recall1, scores.Recall5, scores.Recall10)
			for _, m := range scores.Misses {
				fmt.Fprintf(r.stdout, "miss: %q (expected %s)\n", m.Query, m.Expected)
			}
			return nil
		},
	}
}

func (r *root) newBackupCmd() *cobra.Command {
	return &cobra.Command{
		Use:   "backup FILE",
		Short: "Write a backup of the database (through the running server when one is up)",
		Args:  cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			cfg, err := r.loadConfig(cmd)
			if err != nil {
				return err
			}
			return backup(cmd.Context(), cfg, r.dataFrom, args[0], r.stdout)
		},
	}
}

func (r *root) newRestoreCmd() *cobra.Command {
	var into string
	restoreCmd := &cobra.Command{
		Use:   "restore FILE",
		Short: "Restore a backup into an empty data directory (refuses while a server runs)",
		Args:  cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			cfg, err := r.loadConfig(cmd)
			if err != nil {
				return err
			}
			if into == "" {
				into = cfg.Storage.Path
			}
			return restore(cmd.Context(), cfg, args[0], into, r.stdout)
		},
	}
	restoreCmd.Flags().StringVar(&into, "into", "", "data directory to restore into (default: storage.path); must be empty or absent")
	return restoreCmd
}

func (r *root) newVersionCmd() *cobra.Command {
	return &cobra.Command{
		Use:   "version",
		Short: "Print the version",
		Args:  cobra.NoArgs,
		Run: func(*cobra.Command, []string) {
			fmt.Fprintf(r.stdout, "einsatz %s (%s, schema v%d)\n", r.app.Version, runtime.Version(), storage.SchemaVersion)
		},
	}
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
// one owns the data directory, else from the database directly. It refuses
// a database it did not find (no database in the directory, or one that
// holds nothing yet): a backup of the wrong, empty place would look like
// a good one. from says where the data directory came from, for messages.
func backup(ctx context.Context, cfg *config.Config, from, file string, stdout io.Writer) error {
	dir := cfg.Storage.Path
	var source func(io.Writer) error
	client, err := web.Running(ctx, dir)
	switch {
	case err == nil:
		fmt.Fprintf(stdout, "backing up through the running server at %s\n", client.URL)
		source = func(w io.Writer) error { return client.Backup(ctx, w) }
	case !errors.Is(err, web.ErrNotRunning):
		return fmt.Errorf("backup: %w", err)
	case !storage.Exists(dir):
		return fmt.Errorf("backup: no einsatz database in %s (data directory from %s): point --data, %s or storage.path at the directory einsatz run uses",
			dir, from, config.DataDirEnv)
	default:
		store, err := storage.Open(storage.Options{Path: dir, Logger: slog.New(slog.DiscardHandler)})
		if err != nil {
			return fmt.Errorf("backup: %w", err)
		}
		defer store.Close()
		has, err := store.HoldsData(ctx)
		if err != nil {
			return fmt.Errorf("backup: %w", err)
		}
		if !has {
			return fmt.Errorf("backup: the database in %s (data directory from %s) holds no data: is it the one einsatz run uses? Point --data, %s or storage.path at that one",
				dir, from, config.DataDirEnv)
		}
		source = func(w io.Writer) error { return store.Backup(ctx, w) }
	}
	f, err := os.OpenFile(file, os.O_CREATE|os.O_EXCL|os.O_WRONLY, 0o600)
	if err != nil {
		return fmt.Errorf("backup: %w", err)
	}
	if err := errors.Join(source(f), f.Sync(), f.Close()); err != nil {
		os.Remove(file)
		return fmt.Errorf("backup: %w", err)
	}
	fmt.Fprintf(stdout, "backup of %s written to %s\n", dir, file)
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
	var sources []knowledge.Source
	if app.KnowledgeSources != nil {
		if sources, err = app.KnowledgeSources(cfg); err != nil {
			kb.Close()
			store.Close()
			return nil, nil, err
		}
	}
	remote := knowledge.NewRemote(kb, storage.NewKBSources(store), sources, nil, slog.New(slog.DiscardHandler))
	sol := solutions.New(solutions.Options{Store: storage.NewSolved(store), Logger: slog.New(slog.DiscardHandler),
		AddKnowledge: func(ctx context.Context, name, title, url, text string) error {
			_, err := kb.Add(ctx, name, title, url, text)
			return err
		}})
	return LocalKB{Base: kb, Remote: remote, Solutions: sol}, func() error { return errors.Join(kb.Close(), store.Close()) }, nil
}
