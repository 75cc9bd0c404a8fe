package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"syscall"
	"time"

	"github.com/einsatz/einsatz/adapters/discord/discordtest"
	"github.com/einsatz/einsatz/adapters/openai/openaitest"
	"github.com/einsatz/einsatz/adapters/slack/slacktest"
)

// Config is one load run.
type Config struct {
	Rate       float64       // messages per second, over all platforms
	Duration   time.Duration // how long messages are sent
	Channels   int           // channels, over all platforms (split evenly)
	Users      int           // users, over all platforms (split evenly)
	LLMLatency time.Duration // the fake LLM's delay per chat call
	// LLMMaxConcurrent is Einsatz's llm.max_concurrent; 0 keeps its default.
	// The bare bot has no limit.
	LLMMaxConcurrent int
	Platforms        []string // "discord", "slack"
	// Drain is how long after the last message the harness waits for
	// answers before it counts the rest as lost.
	Drain time.Duration
	// Einsatz is a built einsatz binary; "" builds one from this module.
	Einsatz string
	// CPUProfile and MemProfile, when set, are files Einsatz writes its
	// CPU profile and (at exit) its allocation profile to.
	CPUProfile, MemProfile string
	// Bots to measure, in order: "einsatz", "bare".
	Bots []string
	// LogDir, when set, keeps each bot's log there (BOT.log) rather than
	// in a temporary directory removed at the end.
	LogDir string
	// Progress receives a line per step; nil = silent.
	Progress io.Writer
}

// Result is what one bot did under the load.
type Result struct {
	Bot        string
	Sent       int
	SendTime   time.Duration // how long sending took (Duration when the harness kept up)
	Answered   int           // questions answered at least once
	Lost       int           // questions not answered within the drain time
	Duplicated int           // questions answered more than once
	P50, P99   time.Duration
	Max        time.Duration
	Acks       int           // Slack acknowledgements during the run
	AckP99     time.Duration // Slack: envelope sent to ack received
	CPU        time.Duration // process CPU time from the first message to the end of the drain
	PeakRSS    int64         // bytes, VmHWM at the end of the drain
	LLMCalls   int           // chat and embedding requests during the run
}

// CPUPerMessage is the bot's CPU time divided by the messages sent.
func (r Result) CPUPerMessage() time.Duration {
	if r.Sent == 0 {
		return 0
	}
	return r.CPU / time.Duration(r.Sent)
}

const (
	llmKey   = "sk-loadtest"
	question = "What is Einsatz?"
	// The fake LLM's answer: a grounded one, citing the first source.
	llmAnswer = "Einsatz is a community bot you run yourself [1]."
)

// Run measures each configured bot in turn, each against fresh fakes and
// in its own process, so CPU time and peak RSS are that bot's alone.
func Run(ctx context.Context, cfg Config) ([]Result, error) {
	if cfg.Rate <= 0 || cfg.Duration <= 0 || cfg.Channels <= 0 || cfg.Users <= 0 || len(cfg.Platforms) == 0 {
		return nil, errors.New("loadtest: rate, duration, channels, users and platforms must be positive")
	}
	for _, p := range cfg.Platforms {
		if p != "discord" && p != "slack" {
			return nil, fmt.Errorf("loadtest: unknown platform %q (discord, slack)", p)
		}
	}
	if cfg.Progress == nil {
		cfg.Progress = io.Discard
	}
	tmp, err := os.MkdirTemp("", "einsatz-loadtest-")
	if err != nil {
		return nil, fmt.Errorf("loadtest: temp dir: %w", err)
	}
	defer os.RemoveAll(tmp)
	var out []Result
	for _, b := range cfg.Bots {
		var start starter
		switch b {
		case "einsatz":
			bin := cfg.Einsatz
			if bin == "" {
				if bin, err = buildEinsatz(ctx, tmp, cfg.Progress); err != nil {
					return out, err
				}
			}
			start = einsatzStarter(bin, filepath.Join(tmp, "einsatz-run"), cfg)
		case "bare":
			start = bareStarter
		default:
			return out, fmt.Errorf("loadtest: unknown bot %q (einsatz, bare)", b)
		}
		fmt.Fprintf(cfg.Progress, "loadtest: %s: %.0f msg/s for %s over %d channels on %s, LLM %s\n",
			b, cfg.Rate, cfg.Duration, cfg.Channels, strings.Join(cfg.Platforms, "+"), cfg.LLMLatency)
		logDir := tmp
		if cfg.LogDir != "" {
			logDir = cfg.LogDir
		}
		r, err := measure(ctx, cfg, b, start, filepath.Join(logDir, b+".log"))
		if err != nil {
			return out, fmt.Errorf("loadtest: %s: %w", b, err)
		}
		out = append(out, r)
	}
	return out, nil
}

// buildEinsatz builds the einsatz command of this module into dir.
func buildEinsatz(ctx context.Context, dir string, progress io.Writer) (string, error) {
	bin := filepath.Join(dir, "einsatz")
	fmt.Fprintln(progress, "loadtest: building einsatz")
	cmd := exec.CommandContext(ctx, "go", "build", "-o", bin, "github.com/einsatz/einsatz")
	if b, err := cmd.CombinedOutput(); err != nil {
		return "", fmt.Errorf("loadtest: go build einsatz: %w\n%s", err, b)
	}
	return bin, nil
}

// fakes are the platforms and the LLM one bot runs against.
type fakes struct {
	discord *discordtest.Server
	slack   *slacktest.Server
	llm     *openaitest.Server
}

// starter starts a bot process connected to the fakes, its output in log.
type starter func(ctx context.Context, f fakes, log io.Writer) (*exec.Cmd, error)

func einsatzStarter(bin, dir string, cfg Config) starter {
	llmMaxConcurrent := cfg.LLMMaxConcurrent
	return func(ctx context.Context, f fakes, log io.Writer) (*exec.Cmd, error) {
		if err := os.MkdirAll(dir, 0o700); err != nil {
			return nil, fmt.Errorf("data dir: %w", err)
		}
		env := []string{"OPENAI_API_KEY=" + llmKey}
		for k, p := range map[string]string{"EINSATZ_CPUPROFILE": cfg.CPUProfile, "EINSATZ_MEMPROFILE": cfg.MemProfile} {
			if p != "" {
				abs, err := filepath.Abs(p)
				if err != nil {
					return nil, fmt.Errorf("profile path: %w", err)
				}
				env = append(env, k+"="+abs)
			}
		}
		var b strings.Builder
		fmt.Fprintf(&b, "storage:\n  path: %s\nweb:\n  addr: 127.0.0.1:0\n", filepath.Join(dir, "data"))
		// The per-user limit is off: the harness's few users send far more
		// than a person would.
		b.WriteString("core:\n  rate_limit:\n    per_minute: 0\n")
		fmt.Fprintf(&b, "llm:\n  base_url: %s\n  api_key: ${OPENAI_API_KEY}\n", f.llm.URL)
		if llmMaxConcurrent > 0 {
			fmt.Fprintf(&b, "  max_concurrent: %d\n", llmMaxConcurrent)
		}
		if f.discord != nil {
			fmt.Fprintf(&b, "discord:\n  token: ${DISCORD_TOKEN}\n  api_url: %s\n", f.discord.URL)
			env = append(env, "DISCORD_TOKEN="+f.discord.Token)
		}
		if f.slack != nil {
			fmt.Fprintf(&b, "slack:\n  mode: socket\n  bot_token: ${SLACK_BOT_TOKEN}\n  app_token: ${SLACK_APP_TOKEN}\n  api_url: %s\n", f.slack.APIURL())
			env = append(env, "SLACK_BOT_TOKEN="+f.slack.BotToken(), "SLACK_APP_TOKEN="+f.slack.AppToken())
		}
		cfgPath := filepath.Join(dir, "config.yaml")
		if err := os.WriteFile(cfgPath, []byte(b.String()), 0o600); err != nil {
			return nil, fmt.Errorf("write config: %w", err)
		}
		cmd := exec.Command(bin, "run", "--config", cfgPath)
		cmd.Dir = dir
		cmd.Env = append(baseEnv(), env...)
		cmd.Stdout, cmd.Stderr = log, log
		return cmd, cmd.Start()
	}
}

func bareStarter(ctx context.Context, f fakes, log io.Writer) (*exec.Cmd, error) {
	self, err := os.Executable()
	if err != nil {
		return nil, fmt.Errorf("find own binary: %w", err)
	}
	env := []string{roleEnv + "=bare", "LOADTEST_LLM_URL=" + f.llm.URL, "OPENAI_API_KEY=" + llmKey}
	if f.discord != nil {
		env = append(env, "LOADTEST_DISCORD_URL="+f.discord.URL, "DISCORD_TOKEN="+f.discord.Token)
	}
	if f.slack != nil {
		env = append(env, "LOADTEST_SLACK_URL="+f.slack.APIURL(), "SLACK_BOT_TOKEN="+f.slack.BotToken(), "SLACK_APP_TOKEN="+f.slack.AppToken())
	}
	cmd := exec.Command(self)
	cmd.Env = append(baseEnv(), env...)
	cmd.Stdout, cmd.Stderr = log, log
	return cmd, cmd.Start()
}

// baseEnv is the harness's environment without the settings the bots
// take from it, so a developer's real tokens never reach a fake.
func baseEnv() []string {
	var out []string
	for _, kv := range os.Environ() {
		k, _, _ := strings.Cut(kv, "=")
		if strings.HasPrefix(k, "DISCORD_") || strings.HasPrefix(k, "SLACK_") || strings.HasPrefix(k, "OPENAI_") ||
			strings.HasPrefix(k, "EINSATZ_") || strings.HasPrefix(k, "LOADTEST_") {
			continue
		}
		out = append(out, kv)
	}
	return out
}

// replies records when the bot's messages reached the fake platforms, by
// the question they answer ("d/<thread id>" or "s/<channel>/<thread ts>").
type replies struct {
	mu sync.Mutex
	at map[string][]time.Time
}

func (r *replies) add(key string) {
	now := time.Now()
	r.mu.Lock()
	r.at[key] = append(r.at[key], now)
	r.mu.Unlock()
}

func (r *replies) get(key string) []time.Time {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.at[key]
}

// measure runs the load against one bot.
func measure(ctx context.Context, cfg Config, name string, start starter, logPath string) (res Result, err error) {
	res.Bot = name
	rep := &replies{at: map[string][]time.Time{}}
	f := fakes{}
	llm, err := openaitest.New(openaitest.Options{APIKey: llmKey, Reply: func(openaitest.Request) openaitest.Reply {
		return openaitest.Reply{Content: llmAnswer, Delay: cfg.LLMLatency}
	}})
	if err != nil {
		return res, err
	}
	defer llm.Close()
	f.llm = llm

	type target struct {
		post func(i int) (key string) // sends message i, returns its question key
	}
	var targets []target
	var warm []func() string
	// Channels and users are split over the platforms.
	nChans := max(1, (cfg.Channels+len(cfg.Platforms)-1)/len(cfg.Platforms))
	nUsers := max(1, (cfg.Users+len(cfg.Platforms)-1)/len(cfg.Platforms))
	if slices.Contains(cfg.Platforms, "discord") {
		// The fake's per-route limit is Discord's; the harness measures the
		// bot, not Discord's rate limits, so it is raised out of the way.
		d, err := discordtest.Start(discordtest.Options{RateLimit: 1 << 20, OnMessage: func(m discordtest.Message) {
			if !m.Edited && !m.Deleted && m.Interaction == "" {
				rep.add("d/" + m.ChannelID)
			}
		}})
		if err != nil {
			return res, err
		}
		defer d.Close()
		f.discord = d
		chans := make([]string, nChans)
		for i := range chans {
			chans[i] = d.TextChannel(d.Guild, fmt.Sprintf("load-%d", i))
		}
		users := make([]discordtest.User, nUsers)
		for i := range users {
			users[i] = d.NewUser(fmt.Sprintf("user%d", i))
		}
		warmCh := d.TextChannel(d.Guild, "warmup")
		warm = append(warm, func() string { return "d/" + d.Post(warmCh, users[0], question, true).ID })
		targets = append(targets, target{post: func(i int) string {
			m := d.Post(chans[i%len(chans)], users[(i*7)%len(users)], fmt.Sprintf("%s (%d)", question, i), true)
			return "d/" + m.ID
		}})
	}
	if slices.Contains(cfg.Platforms, "slack") {
		s := slacktest.New(slacktest.Options{OnPost: func(m slacktest.Message) {
			if !m.Edited && !m.Deleted && m.EphemeralFor == "" && m.ThreadTS != "" {
				rep.add("s/" + m.Channel + "/" + m.ThreadTS)
			}
		}})
		defer s.Close()
		f.slack = s
		chans := make([]string, nChans)
		for i := range chans {
			chans[i] = fmt.Sprintf("CLOAD%05d", i)
			s.AddChannel(chans[i], fmt.Sprintf("load-%d", i), slacktest.Public)
		}
		users := make([]string, nUsers)
		for i := range users {
			users[i] = fmt.Sprintf("ULOAD%05d", i)
			s.AddUser(users[i], fmt.Sprintf("user%d", i))
		}
		s.AddChannel("CWARMUP", "warmup", slacktest.Public)
		mention := "@" + slacktest.DefaultBotName + " "
		warm = append(warm, func() string { return "s/CWARMUP/" + s.Post("CWARMUP", users[0], mention+question, "") })
		targets = append(targets, target{post: func(i int) string {
			c := chans[i%len(chans)]
			return "s/" + c + "/" + s.Post(c, users[(i*7)%len(users)], fmt.Sprintf("%s%s (%d)", mention, question, i), "")
		}})
	}

	logFile, err := os.Create(logPath)
	if err != nil {
		return res, fmt.Errorf("log file: %w", err)
	}
	defer logFile.Close()
	cmd, err := start(ctx, f, logFile)
	if err != nil {
		return res, fmt.Errorf("start: %w", err)
	}
	exited := make(chan struct{})
	go func() { _ = cmd.Wait(); close(exited) }()
	defer func() {
		if serr := stop(cmd, exited); serr != nil && err == nil {
			err = serr
		}
		if err != nil {
			err = fmt.Errorf("%w\n%s", err, tail(logPath, 30))
		}
	}()

	// Connected, and one answer on each platform: the bot is ready.
	if f.discord != nil && !f.discord.WaitConnected(60*time.Second) {
		return res, errors.New("did not connect to Discord")
	}
	if f.slack != nil && !f.slack.WaitConnected(1, 60*time.Second) {
		return res, errors.New("did not connect to Slack")
	}
	for _, w := range warm {
		key := w()
		deadline := time.Now().Add(60 * time.Second)
		for len(rep.get(key)) == 0 {
			if time.Now().After(deadline) {
				return res, fmt.Errorf("no answer to the warm-up question %s", key)
			}
			select {
			case <-exited:
				return res, errors.New("the bot exited")
			case <-time.After(20 * time.Millisecond):
			}
		}
	}
	fmt.Fprintf(cfg.Progress, "loadtest: %s ready (pid %d)\n", name, cmd.Process.Pid)

	pid := cmd.Process.Pid
	cpu0, err := cpuTime(pid)
	if err != nil {
		return res, err
	}
	acks0 := 0
	if f.slack != nil {
		acks0 = len(f.slack.Acks())
	}
	llm0 := len(llm.Requests())

	// Send on a fixed schedule, each message from its own goroutine so a
	// slow send does not hold back the next.
	total := int(cfg.Rate * cfg.Duration.Seconds())
	interval := time.Duration(float64(time.Second) / cfg.Rate)
	sentAt := make([]time.Time, total)
	keys := make([]string, total)
	var wg sync.WaitGroup
	begin := time.Now()
	for i := range total {
		if d := time.Until(begin.Add(time.Duration(i) * interval)); d > 0 {
			time.Sleep(d)
		}
		wg.Add(1)
		go func() {
			defer wg.Done()
			tg := targets[i%len(targets)]
			sentAt[i] = time.Now()
			keys[i] = tg.post(i / len(targets))
		}()
	}
	wg.Wait()
	res.SendTime = time.Since(begin)
	fmt.Fprintf(cfg.Progress, "loadtest: %s: %d messages sent in %s; waiting for answers\n", name, total, res.SendTime.Round(time.Millisecond))

	answered := func() int {
		n := 0
		for _, k := range keys {
			if len(rep.get(k)) > 0 {
				n++
			}
		}
		return n
	}
	deadline := time.Now().Add(cfg.Drain)
	for answered() < total && time.Now().Before(deadline) {
		select {
		case <-exited:
			return res, errors.New("the bot exited under load")
		case <-time.After(100 * time.Millisecond):
		}
	}
	// A moment more for answers sent twice to arrive.
	time.Sleep(min(cfg.LLMLatency+time.Second, 3*time.Second))

	cpu1, err := cpuTime(pid)
	if err != nil {
		return res, err
	}
	if res.PeakRSS, err = peakRSS(pid); err != nil {
		return res, err
	}
	res.CPU = cpu1 - cpu0
	res.LLMCalls = len(llm.Requests()) - llm0
	res.Sent = total
	var lat []time.Duration
	for i, k := range keys {
		at := rep.get(k)
		switch {
		case len(at) == 0:
			res.Lost++
			continue
		case len(at) > 1:
			res.Duplicated++
		}
		res.Answered++
		lat = append(lat, at[0].Sub(sentAt[i]))
	}
	res.P50, res.P99, res.Max = pct(lat, 50), pct(lat, 99), pct(lat, 100)
	if f.slack != nil {
		var acks []time.Duration
		for _, a := range f.slack.Acks()[acks0:] {
			acks = append(acks, a.Latency)
		}
		res.Acks, res.AckP99 = len(acks), pct(acks, 99)
	}
	return res, nil
}

// pct is the p-th percentile (nearest rank) of ds; 0 for none.
func pct(ds []time.Duration, p int) time.Duration {
	if len(ds) == 0 {
		return 0
	}
	s := slices.Clone(ds)
	slices.Sort(s)
	i := (p*len(s)+99)/100 - 1
	return s[max(0, min(i, len(s)-1))]
}

// stop ends the bot with SIGTERM, then SIGKILL after 20 s.
func stop(cmd *exec.Cmd, exited <-chan struct{}) error {
	select {
	case <-exited:
		return nil
	default:
	}
	_ = cmd.Process.Signal(syscall.SIGTERM)
	select {
	case <-exited:
		return nil
	case <-time.After(20 * time.Second):
		_ = cmd.Process.Kill()
		<-exited
		return errors.New("did not stop within 20 s of SIGTERM")
	}
}

// tail is the end of the bot's log, for errors.
func tail(path string, lines int) string {
	b, err := os.ReadFile(path)
	if err != nil {
		return ""
	}
	ls := strings.Split(strings.TrimRight(string(b), "\n"), "\n")
	return strings.Join(ls[max(0, len(ls)-lines):], "\n")
}
