package config

import (
	"errors"
	"os"
	"path/filepath"
	"reflect"
	"regexp"
	"strings"
	"testing"
	"time"

	"go.yaml.in/yaml/v3"
)

// env returns a lookup function over m, standing in for os.LookupEnv.
func env(m map[string]string) func(string) (string, bool) {
	return func(name string) (string, bool) {
		v, ok := m[name]
		return v, ok
	}
}

// wantProblem describes an expected problem; Msg is a substring.
type wantProblem struct {
	Path string
	Line int
	Msg  string
}

// parseErr parses data and returns its problems, failing if it parsed.
func parseErr(t *testing.T, data string, vars map[string]string) []Problem {
	t.Helper()
	cfg, err := Parse([]byte(data), "config.yaml", env(vars))
	if err == nil {
		t.Fatalf("Parse succeeded (%+v), want problems", cfg)
	}
	if cfg != nil {
		t.Errorf("Parse returned a config along with an error")
	}
	var cerr *Error
	if !errors.As(err, &cerr) {
		t.Fatalf("error is %T (%v), want *Error", err, err)
	}
	if cerr.File != "config.yaml" {
		t.Errorf("File = %q, want config.yaml", cerr.File)
	}
	return cerr.Problems
}

func checkProblems(t *testing.T, got []Problem, want []wantProblem) {
	t.Helper()
	if len(got) != len(want) {
		t.Fatalf("got %d problems, want %d:\n%s", len(got), len(want), problemList(got))
	}
	for i, w := range want {
		g := got[i]
		if g.Path != w.Path || g.Line != w.Line || !strings.Contains(g.Msg, w.Msg) {
			t.Errorf("problem %d = %s\nwant line %d: %s: …%s…", i, g, w.Line, w.Path, w.Msg)
		}
	}
}

func problemList(ps []Problem) string {
	var b strings.Builder
	for _, p := range ps {
		b.WriteString("  " + p.String() + "\n")
	}
	return b.String()
}

func TestDefault(t *testing.T) {
	c := Default()
	checks := []struct {
		name      string
		got, want any
	}{
		{"bot.name", c.Bot.Name, "Einsatz"},
		{"log.level", c.Log.Level, "info"},
		{"log.format", c.Log.Format, "text"},
		{"storage.path", c.Storage.Path, "./data"},
		{"storage.message_ttl", c.Storage.MessageTTL, 720 * time.Hour},
		{"storage.seen_ttl", c.Storage.SeenTTL, 168 * time.Hour},
		{"storage.history_turns", c.Storage.HistoryTurns, 20},
		{"core.concurrency", c.Core.Concurrency, 128},
		{"core.queue_size", c.Core.QueueSize, 1024},
		{"core.shutdown_timeout", c.Core.ShutdownTimeout, 10 * time.Second},
		{"core.rate_limit.per_minute", c.Core.RateLimit.PerMinute, 10.0},
		{"core.rate_limit.burst", c.Core.RateLimit.Burst, 5},
		{"web.addr", c.Web.Addr, "127.0.0.1:8080"},
		{"web.public_url", c.Web.PublicURL, ""},
		{"web.read_timeout", c.Web.ReadTimeout, 30 * time.Second},
		{"web.write_timeout", c.Web.WriteTimeout, 30 * time.Second},
		{"web.idle_timeout", c.Web.IdleTimeout, 2 * time.Minute},
		{"web.max_header_bytes", c.Web.MaxHeaderBytes, 65536},
		{"web.max_connections", c.Web.MaxConnections, 1024},
		{"llm.enabled", c.LLM.Enabled, (*bool)(nil)},
		{"llm.base_url", c.LLM.BaseURL, "https://api.openai.com/v1"},
		{"llm.model", c.LLM.Model, "gpt-4o-mini"},
		{"llm.persona", c.LLM.Persona, DefaultPersona},
		{"llm.temperature", c.LLM.Temperature, 0.2},
		{"llm.max_tokens", c.LLM.MaxTokens, 600},
		{"llm.timeout", c.LLM.Timeout, 20 * time.Second},
		{"llm.max_retries", c.LLM.MaxRetries, 3},
		{"llm.history_tokens", c.LLM.HistoryTokens, 1500},
		{"llm.max_concurrent", c.LLM.MaxConcurrent, 8},
		{"catchup.window", c.CatchUp.Window, 10 * time.Minute},
		{"catchup.enabled", c.CatchUp.On(), true},
		{"llm.redact", c.LLM.Redact, true},
		{"llm.breaker.failures", c.LLM.Breaker.Failures, 3},
		{"llm.breaker.cooldown", c.LLM.Breaker.Cooldown, 30 * time.Second},
		{"discord.api_url", c.Discord.APIURL, "https://discord.com/"},
		{"discord.shards", c.Discord.Shards, 0},
		{"discord.identify_reserve", c.Discord.IdentifyReserve, 50},
		{"slack.mode", c.Slack.Mode, "socket"},
		{"slack.api_url", c.Slack.APIURL, "https://slack.com/api/"},
		{"knowledge.paths", len(c.Knowledge.Paths), 0},
		{"channels.default", c.Channels.Default, "mention"},
		{"channels.DMsOn", c.Channels.DMsOn(), true},
		{"llm.On", c.LLM.On(), false},
		{"discord.On", c.Discord.On(), false},
		{"slack.On", c.Slack.On(), false},
	}
	for _, tc := range checks {
		t.Run(tc.name, func(t *testing.T) {
			if !reflect.DeepEqual(tc.got, tc.want) {
				t.Errorf("got %v, want %v", tc.got, tc.want)
			}
		})
	}
	if ps := c.Validate(); len(ps) != 0 {
		t.Errorf("Default() does not validate:\n%s", problemList(ps))
	}
}

func TestParseEmptyIsDefault(t *testing.T) {
	for _, data := range []string{"", "# only a comment\n", "bot:\n"} {
		t.Run(data, func(t *testing.T) {
			cfg, err := Parse([]byte(data), "config.yaml", env(nil))
			if err != nil {
				t.Fatal(err)
			}
			cfg.lines = nil
			if !reflect.DeepEqual(cfg, Default()) {
				t.Errorf("Parse(%q) = %+v, want Default() %+v", data, cfg, Default())
			}
		})
	}
}

func TestParseProblems(t *testing.T) {
	tests := []struct {
		name string
		yaml string
		env  map[string]string
		want []wantProblem
	}{
		{
			name: "misspelt key and half-configured slack",
			yaml: `bot:
  name: Test
log:
  levle: debug
slack:
  mode: socket
  bot_token: ${SLACK_BOT_TOKEN}
`,
			env: map[string]string{"SLACK_BOT_TOKEN": "xoxb-1"},
			want: []wantProblem{
				{"log.levle", 4, `unknown key (did you mean "level"?)`},
				{"slack.app_token", 5, "missing (set SLACK_APP_TOKEN)"},
			},
		},
		{
			name: "hand-off hours and sentiment thresholds",
			yaml: `handoff:
  release_after: -1m
  sla_warn_at: 120%
  hours:
    timezone: Mars/Olympus
    days: [mon]
    from: "09:00"
    to: "17:00"
sentiment:
  alert_margin: 1.5
  strong_negative: 0.5
`,
			want: []wantProblem{
				{"handoff.release_after", 2, "must be 0 (never) or more"},
				{"handoff.sla_warn_at", 3, `must be from 1% to 100%, got "120%"`},
				{"handoff.hours", 4, "timezone: want an IANA name"},
				{"sentiment.alert_margin", 10, "between 0 and 1"},
				{"sentiment.strong_negative", 11, "from -1 up to"},
			},
		},
		{
			name: "misspelt slack key shows what is missing too",
			yaml: `slack:
  bot_tokn: ${SLACK_BOT_TOKEN}
  app_token: ${SLACK_APP_TOKEN}
`,
			env: map[string]string{"SLACK_BOT_TOKEN": "xoxb-1", "SLACK_APP_TOKEN": "xapp-1"},
			want: []wantProblem{
				{"slack.bot_token", 1, "missing (set SLACK_BOT_TOKEN)"},
				{"slack.bot_tokn", 2, `unknown key (did you mean "bot_token"?)`},
			},
		},
		{
			name: "unknown nested key has full path",
			yaml: `core:
  rate_limit:
    per_minute: 5
    burts: 3
`,
			want: []wantProblem{{"core.rate_limit.burts", 4, `did you mean "burst"?`}},
		},
		{
			name: "unknown key in a list item",
			yaml: `channels:
  overrides:
    - platform: slack
      id: C1
      policy: auto
    - platform: slack
      id: C2
      polcy: auto
`,
			// A missing policy is allowed now (channels.default applies, e.g.
			// for a shadow-mode override); the misspelt key is still caught.
			want: []wantProblem{
				{"channels.overrides[1].polcy", 8, `did you mean "policy"?`},
			},
		},
		{
			name: "unknown key far from any known one",
			yaml: "matrix:\n  token: x\n",
			want: []wantProblem{{"matrix", 1, "unknown key"}},
		},
		{
			name: "camel case key",
			yaml: "web:\n  publicURL: https://x.org\n",
			want: []wantProblem{{"web.publicURL", 2, `did you mean "public_url"?`}},
		},
		{
			name: "type errors",
			yaml: `core:
  concurrency: lots
storage:
  message_ttl: 30d
channels:
  dms: maybe
`,
			want: []wantProblem{
				{"core.concurrency", 2, `cannot use "lots": want a whole number`},
				{"storage.message_ttl", 4, "want a duration"},
				{"channels.dms", 6, "want true or false"},
			},
		},
		{
			name: "wrong shapes",
			yaml: `knowledge:
  paths: ./knowledge
slack: on
bot:
  name: [a, b]
`,
			want: []wantProblem{
				{"knowledge.paths", 2, "expected a list"},
				{"slack", 3, "expected a section with keys"},
				{"bot.name", 5, "expected a single value, got a list"},
			},
		},
		{
			name: "swapped slack tokens",
			yaml: `slack:
  bot_token: ${SLACK_BOT_TOKEN}
  app_token: ${SLACK_APP_TOKEN}
`,
			env:  map[string]string{"SLACK_BOT_TOKEN": "xapp-1-A", "SLACK_APP_TOKEN": "xoxb-2-B"},
			want: []wantProblem{{"slack.bot_token", 2, "swapped"}},
		},
		{
			name: "slack token in the wrong variable",
			yaml: `slack:
  bot_token: ${SLACK_BOT_TOKEN}
  app_token: ${SLACK_APP_TOKEN}
`,
			env: map[string]string{"SLACK_BOT_TOKEN": "xoxp-1", "SLACK_APP_TOKEN": "abc"},
			want: []wantProblem{
				{"slack.bot_token", 2, "user token (xoxp-)"},
				{"slack.app_token", 3, "must start with xapp-"},
			},
		},
		{
			name: "slack http mode",
			yaml: `slack:
  mode: http
  bot_token: ${SLACK_BOT_TOKEN}
  api_url: https://slack.com/api
`,
			env: map[string]string{"SLACK_BOT_TOKEN": "xoxb-1"},
			want: []wantProblem{
				{"slack.signing_secret", 1, "missing (set SLACK_SIGNING_SECRET)"},
				{"slack.api_url", 4, `must end with "/"`},
			},
		},
		{
			name: "slack mode unknown",
			yaml: "slack:\n  mode: websocket\n",
			want: []wantProblem{{"slack.mode", 2, "must be one of socket, http"}},
		},
		{
			name: "literal secrets",
			yaml: `discord:
  token: abc.def
llm:
  api_key: "sk-123"
staff:
  web:
    - name: alice
      role: admin
      token: hunter2
`,
			want: []wantProblem{
				{"discord.token", 2, "put secrets in the environment, not in the file: use ${DISCORD_TOKEN}"},
				{"llm.api_key", 4, "use ${OPENAI_API_KEY}"},
				{"staff.web[0].token", 9, "put secrets in the environment"},
			},
		},
		{
			name: "secret default written in the file",
			yaml: "slack:\n  app_token: ${SLACK_APP_TOKEN:-xapp-literal}\n",
			want: []wantProblem{
				{"slack.bot_token", 1, "missing (set SLACK_BOT_TOKEN)"},
				{"slack.app_token", 2, "use ${SLACK_APP_TOKEN}"},
			},
		},
		{
			name: "secret with literal prefix",
			yaml: "discord:\n  token: Bot ${DISCORD_TOKEN}\n",
			env:  map[string]string{"DISCORD_TOKEN": "abc"},
			want: []wantProblem{{"discord.token", 2, "use ${DISCORD_TOKEN}"}},
		},
		{
			name: "unterminated and malformed references",
			yaml: `bot:
  name: ${BOT_NAME
web:
  public_url: ${}
`,
			want: []wantProblem{
				{"bot.name", 2, `unterminated "${"`},
				{"web.public_url", 4, `invalid environment variable name ""`},
			},
		},
		{
			name: "invalid values",
			yaml: `log:
  level: verbose
  format: xml
storage:
  message_ttl: -1h
core:
  concurrency: -1
  rate_limit:
    per_minute: -2
web:
  addr: localhost
  public_url: bot.example.org
llm:
  base_url: localhost:11434
discord:
  api_url: ftp://discord.com/
channels:
  default: always
`,
			want: []wantProblem{
				{"log.level", 2, "must be one of debug, info, warn, error"},
				{"log.format", 3, `must be one of text, json, got "xml"`},
				{"storage.message_ttl", 5, "must be a positive duration"},
				{"core.concurrency", 7, "at least 1"},
				{"core.rate_limit.per_minute", 9, "must be 0 (no limit) or more"},
				{"web.addr", 11, "host:port"},
				{"web.public_url", 12, "absolute http(s) URL"},
				{"llm.base_url", 14, "absolute http(s) URL"},
				{"discord.api_url", 16, "absolute http(s) URL"},
				{"channels.default", 18, `got "always"`},
			},
		},
		{
			name: "staff",
			yaml: `staff:
  channel:
    platform: slack
  web:
    - name: alice
      role: root
      token: ${A}
      password_hash: ${H}
    - role: staff
    - name: alice
      role: staff
      token: ${B}
      avatar: http://example.org/alice.png
`,
			env: map[string]string{"A": "same-token-twice-1", "B": "same-token-twice-1", "H": "h"},
			want: []wantProblem{
				{"staff.channel.id", 2, "set it together with staff.channel.platform"},
				{"staff.web[0]", 5, "not both"},
				{"staff.web[0].role", 6, "must be one of admin, staff"},
				{"staff.web[1].name", 9, "needs a name"},
				{"staff.web[1]", 9, "needs a token"},
				{"staff.web[2].name", 10, `duplicate account name "alice"`},
				{"staff.web[2].token", 12, "same token as staff.web[0]"},
				{"staff.web[2].avatar", 13, `must be an https URL of a picture, got "http://example.org/alice.png"`},
			},
		},
		{
			name: "weak staff credentials",
			yaml: `staff:
  web:
    - name: alice
      role: admin
      token: ${A}
    - name: bob
      role: staff
      password_hash: ${H}
`,
			env: map[string]string{"A": "x", "H": "md5:5f4dcc3b5aa765d61d8327deb882cf99"},
			want: []wantProblem{
				{"staff.web[0].token", 5, "too short: 1 characters, needs at least 16"},
				{"staff.web[1].password_hash", 8, "must be a bcrypt hash"},
			},
		},
		{
			name: "channel overrides",
			yaml: `channels:
  overrides:
    - platform: irc
      id: "#help"
      policy: auto
    - policy: listen
    - platform: slack
      id: C1
      policy: auto
    - platform: slack
      id: C1
      policy: listen
`,
			want: []wantProblem{
				{"channels.overrides[0].platform", 3, "must be one of discord, slack, web, console"},
				{"channels.overrides[1].platform", 6, "missing"},
				{"channels.overrides[1].id", 6, "missing"},
				{"channels.overrides[3]", 10, "duplicate override"},
			},
		},
		{
			name: "llm enabled without key",
			yaml: "llm:\n  enabled: true\n  api_key: ${OPENAI_API_KEY}\n",
			want: []wantProblem{{"llm.api_key", 3, "missing (set OPENAI_API_KEY)"}},
		},
		{
			name: "llm limits out of range",
			yaml: `llm:
  base_url: https://api.openai.com
  persona: " "
  temperature: 2.5
  max_tokens: -1
  timeout: -1s
  max_retries: 11
  history_tokens: -5
  breaker:
    failures: -1
    cooldown: -2s
  min_similarity: 1.5
  max_concurrent: -3
`,
			want: []wantProblem{
				{"llm.base_url", 2, "must include /v1"},
				{"llm.persona", 3, "must not be empty"},
				{"llm.temperature", 4, "between 0 and 2"},
				{"llm.max_tokens", 5, "at least 1"},
				{"llm.timeout", 6, "positive duration"},
				{"llm.max_retries", 7, "between 0 and 10"},
				{"llm.history_tokens", 8, "at least 1"},
				{"llm.breaker.failures", 10, "at least 1"},
				{"llm.breaker.cooldown", 11, "positive duration"},
				{"llm.min_similarity", 12, "between 0 and 1"},
				{"llm.max_concurrent", 13, "between 1 and 1024"},
			},
		},
		{
			name: "catch-up window out of range",
			yaml: "catchup:\n  window: 48h\n",
			want: []wantProblem{{"catchup.window", 2, "at most 24h"}},
		},
		{
			name: "forum tag without letters",
			yaml: "solved:\n  forum_tags:\n    - Solved\n    - \"✅ \"\n",
			want: []wantProblem{{"solved.forum_tags[1]", 4, "must name a tag with letters"}},
		},
		{
			name: "unknown text key",
			yaml: "texts:\n  de:\n    gretting: Moin\n",
			want: []wantProblem{{"texts.de.gretting", 3, `unknown text key (did you mean "greeting"?)`}},
		},
		{
			name: "cluster mode and addresses",
			yaml: "cluster:\n  mode: embeded\n  partitions: -1\n",
			want: []wantProblem{
				{"cluster.mode", 2, `must be one of off, embedded, external, got "embeded"`},
				{"cluster.partitions", 3, "must be between 1 and 1024, got -1"},
			},
		},
		{
			name: "cluster embedded peers",
			yaml: "cluster:\n  mode: embedded\n  replicas: 4\n  peers:\n    - 10.0.0.2:6222\n    - nohost\n",
			want: []wantProblem{
				{"cluster.replicas", 3, "4 replicas need at least 4 nodes; cluster.peers names 2 others"},
				{"cluster.peers[1]", 6, `must be host:port such as 10.0.0.2:6222, got "nohost"`},
			},
		},
		{
			name: "discord shards on one machine",
			yaml: "discord:\n  shards: 4\n  identify_reserve: -1\n",
			want: []wantProblem{
				{"discord.shards", 2, "is 4, but one machine runs one gateway session: shards are spread over the nodes of a cluster (cluster.mode embedded or external)"},
				{"discord.identify_reserve", 3, "must not be negative (0 takes the default, 50), got -1"},
			},
		},
		{
			name: "cluster external without url",
			yaml: "cluster:\n  mode: external\n  peers: [a:1]\n",
			want: []wantProblem{
				{"cluster", 1, "mode external needs cluster.url, such as nats://nats-1:4222,nats://nats-2:4222"},
				{"cluster.peers", 3, "is for mode embedded; an external cluster is configured in NATS itself"},
			},
		},
		{
			name: "duplicate key",
			yaml: "bot:\n  name: A\n  name: B\n",
			want: []wantProblem{{"bot.name", 3, "duplicate key (first set on line 2)"}},
		},
		{
			name: "merge key",
			yaml: "base: &b\n  name: A\nbot:\n  <<: *b\n",
			want: []wantProblem{
				{"base", 1, "unknown key"},
				{"bot", 4, "merge keys (<<) are not supported"},
			},
		},
		{
			name: "syntax error",
			yaml: "bot:\n  name: a\n   bad: indent\n",
			want: []wantProblem{{"", 3, "invalid YAML"}},
		},
		{
			name: "two documents",
			yaml: "bot:\n  name: a\n---\nbot:\n  name: b\n",
			want: []wantProblem{{"", 3, "only one YAML document"}},
		},
		{
			name: "not a mapping",
			yaml: "- a\n- b\n",
			want: []wantProblem{{"", 1, "expected a section with keys, got a list"}},
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			checkProblems(t, parseErr(t, tc.yaml, tc.env), tc.want)
		})
	}
}

func TestErrorMessage(t *testing.T) {
	err := &Error{File: "config.yaml", Problems: []Problem{
		{Path: "slack.app_token", Line: 12, Msg: "missing (set SLACK_APP_TOKEN)"},
		{Path: "storage.path", Msg: "must not be empty"},
		{Path: "slack.bot_tokn", Line: 7, Msg: `unknown key (did you mean "bot_token"?)`},
		{Line: 9, Msg: "invalid YAML: oops"},
	}}
	want := `config.yaml: 4 problems:
config.yaml:7: slack.bot_tokn: unknown key (did you mean "bot_token"?)
config.yaml:9: invalid YAML: oops
config.yaml:12: slack.app_token: missing (set SLACK_APP_TOKEN)
config.yaml: storage.path: must not be empty`
	if got := err.Error(); got != want {
		t.Errorf("Error() =\n%s\nwant\n%s", got, want)
	}

	one := &Error{File: "c.yaml", Problems: []Problem{{Path: "bot.name", Line: 2, Msg: "bad"}}}
	if got, want := one.Error(), "c.yaml:2: bot.name: bad"; got != want {
		t.Errorf("Error() = %q, want %q", got, want)
	}
	if got, want := (Problem{Path: "slack.bot_tokn", Line: 7, Msg: "unknown key"}).String(), "line 7: slack.bot_tokn: unknown key"; got != want {
		t.Errorf("Problem.String() = %q, want %q", got, want)
	}
}

func TestParseSortsProblemsByLine(t *testing.T) {
	// Validation problems (found after decoding) must interleave with
	// decoding problems by line.
	ps := parseErr(t, "log:\n  level: loud\ncore:\n  concurency: 3\n", nil)
	checkProblems(t, ps, []wantProblem{
		{"log.level", 2, "must be one of"},
		{"core.concurency", 4, `did you mean "concurrency"?`},
	})
}

func TestEnvExpansion(t *testing.T) {
	vars := map[string]string{
		"NAME":   "Helga",
		"EMPTY":  "",
		"SECRET": `xoxb-a#b: c 'd' "e" ${NOT_EXPANDED}`,
		"CONC":   "7",
		"YES":    "true",
	}
	tests := []struct {
		name string
		yaml string
		get  func(*Config) any
		want any
	}{
		{"plain", "bot:\n  name: ${NAME}\n", func(c *Config) any { return c.Bot.Name }, "Helga"},
		{"in text", "bot:\n  name: Bot ${NAME}!\n", func(c *Config) any { return c.Bot.Name }, "Bot Helga!"},
		{"unset gives default", "bot:\n  name: ${UNSET}\n", func(c *Config) any { return c.Bot.Name }, "Einsatz"},
		{"fallback when unset", "bot:\n  name: ${UNSET:-Otto}\n", func(c *Config) any { return c.Bot.Name }, "Otto"},
		{"fallback when empty", "bot:\n  name: ${EMPTY:-Otto}\n", func(c *Config) any { return c.Bot.Name }, "Otto"},
		{"fallback not used when set", "bot:\n  name: ${NAME:-Otto}\n", func(c *Config) any { return c.Bot.Name }, "Helga"},
		{"nested fallback", "bot:\n  name: ${UNSET:-${NAME}}\n", func(c *Config) any { return c.Bot.Name }, "Helga"},
		{"fallback with colon", "web:\n  addr: ${UNSET:-0.0.0.0:9000}\n", func(c *Config) any { return c.Web.Addr }, "0.0.0.0:9000"},
		{"dollar without brace stays", "bot:\n  name: $NAME costs $5\n", func(c *Config) any { return c.Bot.Name }, "$NAME costs $5"},
		{"quoted", "bot:\n  name: \"${NAME}\"\n", func(c *Config) any { return c.Bot.Name }, "Helga"},
		{"secret with # and colon", "discord:\n  token: ${SECRET}\n", func(c *Config) any { return c.Discord.Token }, vars["SECRET"]},
		{"number", "core:\n  concurrency: ${CONC}\n", func(c *Config) any { return c.Core.Concurrency }, 7},
		{"number fallback", "core:\n  queue_size: ${UNSET:-64}\n", func(c *Config) any { return c.Core.QueueSize }, 64},
		{"bool", "channels:\n  dms: ${YES}\n", func(c *Config) any { return c.Channels.DMsOn() }, true},
		{"empty pointer stays automatic", "llm:\n  enabled: ${UNSET}\n", func(c *Config) any { return c.LLM.Enabled }, (*bool)(nil)},
		{"duration", "core:\n  shutdown_timeout: ${UNSET:-3s}\n", func(c *Config) any { return c.Core.ShutdownTimeout }, 3 * time.Second},
		{"quoted in flow list", "knowledge:\n  paths: [\"${NAME}\", ./kb]\n", func(c *Config) any { return c.Knowledge.Paths }, []string{"Helga", "./kb"}},
		{"list item", "knowledge:\n  paths:\n    - ${NAME}\n    - ./kb\n", func(c *Config) any { return c.Knowledge.Paths }, []string{"Helga", "./kb"}},
		{"keys are not expanded", "texts:\n  en:\n    greeting: Hi ${NAME}\n", func(c *Config) any { return c.Texts.EN["greeting"] }, "Hi Helga"},
		{"alias", "bot:\n  name: &n ${NAME}\nstaff:\n  slack:\n    usergroup: *n\n", func(c *Config) any { return c.Staff.Slack.UserGroup }, "Helga"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			cfg, err := Parse([]byte(tc.yaml), "config.yaml", env(vars))
			if err != nil {
				t.Fatal(err)
			}
			if got := tc.get(cfg); !reflect.DeepEqual(got, tc.want) {
				t.Errorf("got %#v, want %#v", got, tc.want)
			}
		})
	}
}

func TestExpandEnvLiteral(t *testing.T) {
	vars := env(map[string]string{"A": "a", "EMPTY": ""})
	tests := []struct {
		in          string
		want        string
		wantLiteral bool
	}{
		{"${A}", "a", false},
		{"${A}${A}", "aa", false},
		{"${UNSET}", "", false},
		{"${UNSET:-}", "", false},
		{"${EMPTY:-${A}}", "a", false},
		{"${UNSET:-x}", "x", true},
		{"x${A}", "xa", true},
		{"plain", "plain", true},
		{"", "", false},
	}
	for _, tc := range tests {
		t.Run(tc.in, func(t *testing.T) {
			got, literal, err := expandEnv(tc.in, vars)
			if err != nil {
				t.Fatal(err)
			}
			if got != tc.want || literal != tc.wantLiteral {
				t.Errorf("expandEnv(%q) = %q, literal %v; want %q, literal %v", tc.in, got, literal, tc.want, tc.wantLiteral)
			}
		})
	}
}

func TestFullConfig(t *testing.T) {
	vars := map[string]string{
		"DISCORD_TOKEN":          "discord-secret",
		"SLACK_BOT_TOKEN":        "xoxb-1",
		"SLACK_SIGNING_SECRET":   "sign",
		"WEB_TOKEN_ALICE":        "alice-secret-token-1",
		"EINSATZ_WEB_API_KEY":    "web-key",
		"EINSATZ_WEBHOOK_SECRET": "hook-secret",
	}
	data, err := os.ReadFile(filepath.Join("testdata", "full.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	cfg, err := Parse(data, "full.yaml", env(vars))
	if err != nil {
		t.Fatal(err)
	}
	no := false
	yes := true
	want := &Config{
		Bot: Bot{Name: "Helferlein"},
		Log: Log{Level: "debug", Format: "json"},
		Storage: Storage{Path: "/var/lib/einsatz", MessageTTL: 48 * time.Hour, SentimentTTL: 49 * time.Hour, FeedbackTTL: 50 * time.Hour,
			AuditTTL: 51 * time.Hour, SeenTTL: 24 * time.Hour, HistoryTurns: 8},
		Core: Core{Concurrency: 4, QueueSize: 16, ShutdownTimeout: 3 * time.Second,
			RateLimit: RateLimit{PerMinute: 0, Burst: 2}},
		Web: Web{Addr: ":9090", PublicURL: "https://bot.example.org", CORSOrigins: []string{"https://example.org", "*"},
			APIKey: "web-key", ChatRateLimit: RateLimit{PerMinute: 5, Burst: 1}, TrustProxy: true,
			ReadTimeout: 20 * time.Second, WriteTimeout: 40 * time.Second, IdleTimeout: 90 * time.Second, MaxHeaderBytes: 32768, MaxConnections: 200},
		LLM: LLM{Enabled: &yes, BaseURL: "http://localhost:11434/v1", Model: "llama3", EmbeddingModel: "nomic-embed-text",
			Persona: "You are {bot}, the Helferlein of our forum.", Temperature: 0, MaxTokens: 300, Timeout: 8 * time.Second,
			MaxRetries: 0, HistoryTokens: 500, Redact: false, MaxConcurrent: 3, Breaker: LLMBreaker{Failures: 5, Cooldown: time.Minute}},
		Discord: Discord{Token: "discord-secret", APIURL: "http://127.0.0.1:9001/", GuildIDs: []string{"444"}, IdentifyReserve: 50},
		Handoff: Handoff{AutoTakeover: false, ReleaseAfter: 0, Reaction: "", Mention: "<@&555>", Sensitive: []string{"billing", "Rechnung"},
			Hours: Hours{Timezone: "Europe/Berlin", Days: []string{"mon", "fri"}, From: "09:00", To: "17:30"}, NotePrefix: "//", SLAWarnAt: "80%"},
		Support: Support{FollowUp: 2 * time.Hour, Similarity: 0.7, SaveReaction: "-"},
		Inbox: Inbox{Enabled: false, Threshold: 0.6, Similar: 0.4, SimilarEmbedding: 0.8, Acknowledge: false, Reaction: "👍", DailyCap: -1,
			Webhooks: []Webhook{{URL: "https://tracker.example.org/hook", Secret: "hook-secret"}}, WebhookTries: 2,
			ConfirmWithLLM: true, Borderline: 0.2},
		CatchUp:   CatchUp{Enabled: &no, Window: 3 * time.Minute},
		Sentiment: Sentiment{Enabled: false, Pseudonymize: true, AlertMargin: 0.3, AlertMinMessages: 50, AlertCooldown: 30 * time.Minute, StrongNegative: -0.8},
		Slack: Slack{Mode: "http", BotToken: "xoxb-1", SigningSecret: "sign",
			APIURL: "http://127.0.0.1:9002/api/"},
		Knowledge: Knowledge{Paths: []string{"./knowledge", "./faq.md"}},
		Staff: Staff{
			Channel: ChannelRef{Platform: "slack", ID: "C0STAFF"},
			Discord: DiscordStaff{Roles: []string{"111111111111111111"}, Users: []string{"222222222222222222"}},
			Slack:   SlackStaff{Users: []string{"U01", "U02"}, UserGroup: "S0TEAM"},
			Web: []WebAccount{
				{Name: "alice", Role: "admin", Token: "alice-secret-token-1"},
				{Name: "bob", Role: "staff", PasswordHash: "$2a$04$Qaor/cN/4AxwDmNN2vYvT..7fkEg9tCYw6KdsKoFntt0ei8BL11aW"},
			},
		},
		Channels: Channels{Default: "listen", DMs: &no, Overrides: []ChannelOverride{
			{Platform: "discord", ID: "333", Policy: "auto"},
			{Platform: "slack", ID: "C0HELP", Policy: "mention"},
		}},
		Texts: Texts{EN: map[string]string{"greeting": "Hello from {bot}!"}, DE: map[string]string{"sources": "Quellen"}},
	}
	cfg.lines = nil
	if !reflect.DeepEqual(cfg, want) {
		t.Errorf("got  %+v\nwant %+v", cfg, want)
	}
	if !cfg.LLM.On() || !cfg.Discord.On() || !cfg.Slack.On() {
		t.Errorf("adapters: llm %v, discord %v, slack %v; want all on", cfg.LLM.On(), cfg.Discord.On(), cfg.Slack.On())
	}
}

func TestLoad(t *testing.T) {
	t.Setenv("EINSATZ_TEST_BOT_NAME", "Loaded")
	path := filepath.Join(t.TempDir(), "config.yaml")
	if err := os.WriteFile(path, []byte("bot:\n  name: ${EINSATZ_TEST_BOT_NAME}\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	cfg, err := Load(path)
	if err != nil {
		t.Fatal(err)
	}
	if cfg.Bot.Name != "Loaded" {
		t.Errorf("bot.name = %q, want Loaded", cfg.Bot.Name)
	}

	_, err = Load(filepath.Join(t.TempDir(), "missing.yaml"))
	if !errors.Is(err, os.ErrNotExist) {
		t.Errorf("Load(missing) = %v, want an os.ErrNotExist error", err)
	}
}

func TestTextsGet(t *testing.T) {
	texts := Texts{
		EN: map[string]string{"greeting": "Hello {bot}", "sources": ""},
		DE: map[string]string{"takeover": "Übernommen"},
	}
	builtinENGreeting, builtinDEGreeting := builtinText(TextGreeting)
	_, builtinDESources := builtinText(TextSources)
	builtinENSources, _ := builtinText(TextSources)
	tests := []struct {
		lang, key, want string
	}{
		{"en", "greeting", "Hello {bot}"},
		{"de", "takeover", "Übernommen"},      // configured German
		{"de", "greeting", builtinDEGreeting}, // built-in German beats configured English
		{"de", "sources", builtinDESources},   // empty configured value counts as unset
		{"en", "sources", builtinENSources},   // likewise
		{"de-AT", "takeover", "Übernommen"},   // region is ignored
		{"fr", "greeting", "Hello {bot}"},     // other languages use English
		{"", "takeover", "A team member has joined; I'll step back."},
		{"en", "nonsense", ""},
		{"de", "nonsense", ""},
	}
	for _, tc := range tests {
		t.Run(tc.lang+"/"+tc.key, func(t *testing.T) {
			if got := texts.Get(tc.lang, tc.key); got != tc.want {
				t.Errorf("Get(%q, %q) = %q, want %q", tc.lang, tc.key, got, tc.want)
			}
		})
	}
	if builtinENGreeting != "Hi! I'm {bot}. Ask me anything about the project." {
		t.Errorf("built-in greeting = %q", builtinENGreeting)
	}
	// Every key needs both languages, so that Get never falls back by accident.
	for _, key := range textKeys() {
		if en, de := builtinText(key); en == "" || de == "" || en == de && key != TextSources {
			t.Errorf("built-in text %q: en %q, de %q", key, en, de)
		}
	}
}

func TestChannelsPolicy(t *testing.T) {
	c := Channels{
		Default: "listen",
		Overrides: []ChannelOverride{
			{Platform: "slack", ID: "C1", Policy: "auto"},
			{Platform: "discord", ID: "C1", Policy: "mention"},
		},
	}
	tests := []struct {
		name         string
		channels     Channels
		platform, id string
		want         string
	}{
		{"override", c, "slack", "C1", "auto"},
		{"same id other platform", c, "discord", "C1", "mention"},
		{"no override", c, "slack", "C2", "listen"},
		{"unset default", Channels{}, "slack", "C1", "mention"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if got := tc.channels.Policy(tc.platform, tc.id); got != tc.want {
				t.Errorf("Policy(%q, %q) = %q, want %q", tc.platform, tc.id, got, tc.want)
			}
		})
	}
}

func TestChannelsDMsOn(t *testing.T) {
	no, yes := false, true
	tests := []struct {
		name string
		dms  *bool
		want bool
	}{{"unset", nil, true}, {"true", &yes, true}, {"false", &no, false}}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if got := (Channels{DMs: tc.dms}).DMsOn(); got != tc.want {
				t.Errorf("DMsOn() = %v, want %v", got, tc.want)
			}
		})
	}
}

func TestLLMOn(t *testing.T) {
	no, yes := false, true
	tests := []struct {
		name string
		llm  LLM
		want bool
	}{
		{"no key", LLM{BaseURL: "https://api.openai.com/v1"}, false},
		{"no key, default base url", LLM{}, false},
		{"key", LLM{BaseURL: "https://api.openai.com/v1", APIKey: "sk-1"}, true},
		{"local without key", LLM{BaseURL: "http://localhost:11434/v1"}, true},
		{"enabled false with key", LLM{Enabled: &no, APIKey: "sk-1"}, false},
		{"enabled false local", LLM{Enabled: &no, BaseURL: "http://localhost:11434/v1"}, false},
		{"enabled true with key", LLM{Enabled: &yes, APIKey: "sk-1"}, true},
		{"openai host in other case", LLM{BaseURL: "https://API.OpenAI.com/v1"}, false},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if got := tc.llm.On(); got != tc.want {
				t.Errorf("On() = %v, want %v", got, tc.want)
			}
		})
	}
}

func TestAdaptersOn(t *testing.T) {
	tests := []struct {
		name string
		got  bool
		want bool
	}{
		{"discord off", Discord{}.On(), false},
		{"discord on", Discord{Token: "t"}.On(), true},
		{"slack off", Slack{Mode: "socket"}.On(), false},
		{"slack bot token", Slack{BotToken: "xoxb-1"}.On(), true},
		{"slack signing secret only", Slack{SigningSecret: "s"}.On(), true},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if tc.got != tc.want {
				t.Errorf("On() = %v, want %v", tc.got, tc.want)
			}
		})
	}
}

func TestSuggest(t *testing.T) {
	keys := []string{"bot_token", "app_token", "signing_secret", "mode", "api_url"}
	tests := []struct{ key, want string }{
		{"bot_tokn", "bot_token"},
		{"BotToken", "bot_token"},
		{"signing-secret", "signing_secret"},
		{"mdoe", "mode"},
		{"mdo", ""}, // two edits on a short key is a guess too far
		{"mod", "mode"},
		{"webhook", ""},
	}
	for _, tc := range tests {
		t.Run(tc.key, func(t *testing.T) {
			got := suggest(tc.key, keys)
			want := ""
			if tc.want != "" {
				want = ` (did you mean "` + tc.want + `"?)`
			}
			if got != want {
				t.Errorf("suggest(%q) = %q, want %q", tc.key, got, want)
			}
		})
	}
}

// TestShippedConfig checks the repository's config.yaml: it must load with
// an empty environment, leave every adapter off, and document every key.
func TestShippedConfig(t *testing.T) {
	const path = "../../config.yaml"
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	cfg, err := Parse(data, "config.yaml", env(nil))
	if err != nil {
		t.Fatalf("shipped config.yaml does not load with an empty environment:\n%v", err)
	}
	if cfg.Discord.On() || cfg.Slack.On() || cfg.LLM.On() {
		t.Errorf("adapters on with an empty environment: discord %v, slack %v, llm %v",
			cfg.Discord.On(), cfg.Slack.On(), cfg.LLM.On())
	}
	if cfg.Web.Addr != "127.0.0.1:8080" || cfg.Storage.Path != "./data" || len(cfg.Knowledge.Paths) != 0 {
		t.Errorf("web.addr %q, storage.path %q, knowledge.paths %q: want the defaults",
			cfg.Web.Addr, cfg.Storage.Path, cfg.Knowledge.Paths)
	}

	doc := newDocFile(t, data)
	for _, p := range documentedPaths(reflect.TypeFor[Config](), "") {
		t.Run(p, func(t *testing.T) {
			if !doc.documents(p) {
				t.Errorf("config.yaml does not show %s, neither as a key nor as a commented example under its section", p)
			}
		})
	}

	// The commented text examples must be the real built-in texts.
	for _, lang := range []string{"en", "de"} {
		for _, key := range textKeys() {
			line, ok := doc.commentedKey("texts."+lang, key)
			if !ok {
				continue // reported above
			}
			var m map[string]string
			uncommented := strings.TrimPrefix(strings.TrimSpace(line), "# ")
			if err := yaml.Unmarshal([]byte(uncommented), &m); err != nil {
				t.Errorf("texts.%s.%s: commented example is not valid YAML: %v", lang, key, err)
				continue
			}
			en, de := builtinText(key)
			want := map[string]string{"en": en, "de": de}[lang]
			if m[key] != want {
				t.Errorf("texts.%s.%s: config.yaml shows %q, built-in is %q", lang, key, m[key], want)
			}
		}
	}
}

// documentedPaths lists the key paths config.yaml must show for type t:
// every field, list items as "list[].key", and every text key.
func documentedPaths(t reflect.Type, prefix string) []string {
	var paths []string
	for i := 0; i < t.NumField(); i++ {
		f := t.Field(i)
		name, _, _ := strings.Cut(f.Tag.Get("yaml"), ",")
		if !f.IsExported() || name == "" {
			continue
		}
		p := joinPath(prefix, name)
		paths = append(paths, p)
		switch ft := f.Type; {
		case ft.Kind() == reflect.Struct:
			paths = append(paths, documentedPaths(ft, p)...)
		case ft.Kind() == reflect.Slice && ft.Elem().Kind() == reflect.Struct:
			paths = append(paths, documentedPaths(ft.Elem(), p+"[]")...)
		case ft.Kind() == reflect.Map && t == reflect.TypeFor[Texts]():
			for _, key := range textKeys() {
				paths = append(paths, p+"."+key)
			}
		}
	}
	return paths
}

// docFile is config.yaml seen as documentation: its keys, and the commented
// examples indented under them.
type docFile struct {
	lines []string
	keys  map[string]*yaml.Node // key path (list items as "[]") → key node
}

func newDocFile(t *testing.T, data []byte) *docFile {
	var root yaml.Node
	if err := yaml.Unmarshal(data, &root); err != nil {
		t.Fatal(err)
	}
	d := &docFile{lines: strings.Split(string(data), "\n"), keys: map[string]*yaml.Node{}}
	var walk func(n *yaml.Node, path string)
	walk = func(n *yaml.Node, path string) {
		switch n.Kind {
		case yaml.DocumentNode:
			for _, c := range n.Content {
				walk(c, path)
			}
		case yaml.MappingNode:
			for i := 0; i+1 < len(n.Content); i += 2 {
				p := joinPath(path, n.Content[i].Value)
				d.keys[p] = n.Content[i]
				walk(n.Content[i+1], p)
			}
		case yaml.SequenceNode:
			for _, c := range n.Content {
				walk(c, path+"[]")
			}
		}
	}
	walk(&root, "")
	return d
}

// documents reports whether path is a key in the file or, failing that, a
// commented example under its nearest section that is.
func (d *docFile) documents(path string) bool {
	if _, ok := d.keys[path]; ok {
		return true
	}
	key := path[strings.LastIndex(path, ".")+1:]
	for section := path; section != ""; {
		section = section[:max(strings.LastIndex(section, "."), 0)]
		section = strings.TrimSuffix(section, "[]")
		if _, ok := d.keys[section]; ok {
			_, found := d.commentedKey(section, key)
			return found
		}
	}
	return false
}

// commentedKey finds a comment line "# key:" or "# - key:" indented under
// the key at section, and returns it.
func (d *docFile) commentedKey(section, key string) (string, bool) {
	n, ok := d.keys[section]
	if !ok {
		return "", false
	}
	re := regexp.MustCompile(`^\s*#\s*(-\s+)?` + regexp.QuoteMeta(key) + `:`)
	for _, line := range d.lines[n.Line:] { // n.Line is 1-based: this starts after it
		trimmed := strings.TrimLeft(line, " ")
		if trimmed == "" {
			continue
		}
		if len(line)-len(trimmed) < n.Column { // back at or above the section's indentation
			break
		}
		if re.MatchString(line) {
			return line, true
		}
	}
	return "", false
}
