// Package config defines Einsatz's typed configuration and loads it from a
// YAML file.
//
// Loading is strict on purpose: a bot that silently ignores a misspelt key
// or runs half-configured is harder to debug than one that refuses to start.
// Parse therefore reports every problem at once (unknown keys, type errors,
// invalid values, secrets written into the file) in a single *Error, each
// with the file line and the full key path.
//
// Scalar values may reference the environment as ${VAR} or ${VAR:-default}.
// Secrets must come from the environment; a literal token in the file is an
// error, so config.yaml can be committed safely.
package config

import (
	"net/url"
	"strings"
	"time"
)

// Config is the whole configuration. Default returns it with every default
// applied; Load and Parse read it from YAML.
type Config struct {
	Bot       Bot       `yaml:"bot"`
	Log       Log       `yaml:"log"`
	Storage   Storage   `yaml:"storage"`
	Core      Core      `yaml:"core"`
	Web       Web       `yaml:"web"`
	LLM       LLM       `yaml:"llm"`
	Discord   Discord   `yaml:"discord"`
	Slack     Slack     `yaml:"slack"`
	Knowledge Knowledge `yaml:"knowledge"`
	Solved    Solved    `yaml:"solved"`
	Staff     Staff     `yaml:"staff"`
	Handoff   Handoff   `yaml:"handoff"`
	Sentiment Sentiment `yaml:"sentiment"`
	Support   Support   `yaml:"support"`
	Inbox     Inbox     `yaml:"inbox"`
	CatchUp   CatchUp   `yaml:"catchup"`
	Channels  Channels  `yaml:"channels"`
	Texts     Texts     `yaml:"texts"`
	Cluster   Cluster   `yaml:"cluster"`

	// lines maps key paths such as "slack.app_token" to the line they were
	// read from, so that Validate can point at the offending line. It is nil
	// for a Config not produced by Parse.
	lines map[string]int
}

// Bot describes the bot itself.
type Bot struct {
	Name string `yaml:"name"` // how the bot calls itself ({bot} in texts); default "Einsatz"
}

// Log configures logging.
type Log struct {
	Level  string `yaml:"level"`  // debug|info|warn|error; default "info"
	Format string `yaml:"format"` // text|json; default "text"
}

// Storage configures the Badger database.
type Storage struct {
	Path         string        `yaml:"path"`          // database directory; default "./data"
	MessageTTL   time.Duration `yaml:"message_ttl"`   // raw messages and thread history; default 720h (30 days)
	SentimentTTL time.Duration `yaml:"sentiment_ttl"` // sentiment rows (aggregates stay); default 2160h (90 days)
	FeedbackTTL  time.Duration `yaml:"feedback_ttl"`  // questions asked and their ratings; default 2160h (90 days)
	AuditTTL     time.Duration `yaml:"audit_ttl"`     // the audit log; default 8760h (365 days)
	SeenTTL      time.Duration `yaml:"seen_ttl"`      // idempotency keys; default 168h (7 days)
	HistoryTurns int           `yaml:"history_turns"` // turns kept per thread; default 20
}

// Core configures event processing.
type Core struct {
	Concurrency     int           `yaml:"concurrency"`      // threads handled in parallel; default 128
	QueueSize       int           `yaml:"queue_size"`       // events waiting in memory; default 1024
	ShutdownTimeout time.Duration `yaml:"shutdown_timeout"` // default 10s
	RateLimit       RateLimit     `yaml:"rate_limit"`
}

// CatchUp configures answering what was posted while the bot was down:
// on start it reads, in the Discord channels and Slack channels and threads
// active within Window, the messages after the last one it handled, and
// answers those it had not (never one twice).
type CatchUp struct {
	Enabled *bool         `yaml:"enabled"` // default true
	Window  time.Duration `yaml:"window"`  // how far back; default 10m, at most 24h
}

// On reports whether the catch-up runs at start.
func (c CatchUp) On() bool { return c.Enabled == nil || *c.Enabled }

// RateLimit limits how fast one user can make the bot answer.
type RateLimit struct {
	PerMinute float64 `yaml:"per_minute"` // default 10; 0 turns the limit off
	Burst     int     `yaml:"burst"`      // default 5
}

// Web configures the HTTP server (dashboard, web chat, webhooks).
type Web struct {
	Addr      string `yaml:"addr"`       // listen address; default "127.0.0.1:8080"
	PublicURL string `yaml:"public_url"` // URL users reach the server at; optional
	// CORSOrigins may call the chat API from a browser ("https://example.org",
	// or "*" for any); empty = same origin only.
	CORSOrigins []string `yaml:"cors_origins"`
	// APIKey, when set, is required by the chat API (header X-API-Key or
	// "Authorization: Bearer"); the chat page itself needs none.
	APIKey string `yaml:"api_key" secret:"EINSATZ_WEB_API_KEY"`
	// ChatRateLimit limits chat API requests per client IP; default 30 per
	// minute, burst 10.
	ChatRateLimit RateLimit `yaml:"chat_rate_limit"`
	// TrustProxy takes the client IP from X-Forwarded-For and the page's
	// scheme and host from X-Forwarded-Proto/-Host (behind a reverse proxy
	// only). Default false.
	TrustProxy bool `yaml:"trust_proxy"`
	// ReadTimeout bounds reading one whole request, body included, so slow
	// clients cannot hold connections open; default 30s.
	ReadTimeout time.Duration `yaml:"read_timeout"`
	// WriteTimeout bounds writing one response; the chat API adds its own
	// wait for the answer, streams push it forward per write; default 30s.
	WriteTimeout time.Duration `yaml:"write_timeout"`
	// IdleTimeout closes keep-alive connections idle this long; default 2m.
	IdleTimeout time.Duration `yaml:"idle_timeout"`
	// MaxHeaderBytes bounds a request's header; default 65536.
	MaxHeaderBytes int `yaml:"max_header_bytes"`
	// MaxConnections bounds the connections served at once; more wait to be
	// accepted. Default 1024.
	MaxConnections int `yaml:"max_connections"`
}

// LLM configures the language model (any OpenAI-compatible API).
type LLM struct {
	Enabled        *bool  `yaml:"enabled"`  // nil = automatic, see On
	BaseURL        string `yaml:"base_url"` // default "https://api.openai.com/v1"
	APIKey         string `yaml:"api_key" secret:"OPENAI_API_KEY"`
	Model          string `yaml:"model"` // default "gpt-4o-mini"
	EmbeddingModel string `yaml:"embedding_model"`
	// MinSimilarity, with an embedding model, lets a passage whose
	// embedding is at least this similar to the question's support an
	// answer even when it shares few words with it (a paraphrase); 0 = off:
	// only word coverage decides.
	MinSimilarity float64 `yaml:"min_similarity"`
	// Persona is the bot's role in the system message ({bot} = bot.name);
	// default DefaultPersona.
	Persona     string  `yaml:"persona"`
	Temperature float64 `yaml:"temperature"` // default 0.2; 0 is kept
	MaxTokens   int     `yaml:"max_tokens"`  // answer length limit; default 600
	// Timeout is the total deadline of one answer, retries included;
	// default 20s.
	Timeout    time.Duration `yaml:"timeout"`
	MaxRetries int           `yaml:"max_retries"` // retries on 429/5xx; default 3, 0 = none
	// HistoryTokens bounds the thread history sent along (≈ characters/4);
	// default 1500.
	HistoryTokens int `yaml:"history_tokens"`
	// Redact removes e-mail addresses, phone numbers, keys and tokens,
	// IBANs and card numbers before text goes to the model; default true.
	Redact bool `yaml:"redact"`
	// MaxConcurrent bounds the calls to the model in flight at once (set it
	// for the provider's rate limit: about requests per minute / 60 ×
	// seconds per answer); more wait their turn without holding one of
	// core.concurrency's workers. Default 8.
	MaxConcurrent int        `yaml:"max_concurrent"`
	Breaker       LLMBreaker `yaml:"breaker"`
}

// LLMBreaker configures the circuit breaker in front of the model.
type LLMBreaker struct {
	Failures int           `yaml:"failures"` // failed answers in a row that open it; default 3
	Cooldown time.Duration `yaml:"cooldown"` // open time before a probe; default 30s
}

// DefaultPersona is the default of llm.persona.
const DefaultPersona = "You are {bot}, a friendly and precise helper in this project's community. " +
	"You answer questions about the project for its users."

// On reports whether the language model should be used. Unless switched off
// explicitly, it is on when there is an API key, or when base_url points to
// a server other than OpenAI's (a local Ollama, say, needs no key).
func (l LLM) On() bool {
	if l.Enabled != nil && !*l.Enabled {
		return false
	}
	return l.APIKey != "" || !isOpenAI(l.BaseURL)
}

// isOpenAI reports whether base is OpenAI's API, which needs a key. An empty
// base means the default, which is OpenAI.
func isOpenAI(base string) bool {
	if base == "" {
		return true
	}
	u, err := url.Parse(base)
	if err != nil {
		return false
	}
	return strings.EqualFold(u.Hostname(), "api.openai.com")
}

// Discord configures the Discord adapter.
type Discord struct {
	Token  string `yaml:"token" secret:"DISCORD_TOKEN"`
	APIURL string `yaml:"api_url"` // default "https://discord.com/"
	// GuildIDs registers the application commands in these servers only
	// (they appear at once); empty registers them globally.
	GuildIDs []string `yaml:"guild_ids"`
	// Shards is the gateway shard count in cluster mode (the nodes share
	// the shards by leases); 0 takes what Discord recommends
	// (GET /gateway/bot). One machine runs one session: 0 or 1 there.
	Shards int `yaml:"shards"`
	// IdentifyReserve: in cluster mode no shard IDENTIFYs while Discord's
	// session_start_limit.remaining is below it, so a restarting fleet
	// cannot use up the day's budget (1,000 for most bots). Default 50.
	IdentifyReserve int `yaml:"identify_reserve"`
}

// On reports whether the Discord adapter should run.
func (d Discord) On() bool { return d.Token != "" }

// Slack configures the Slack adapter.
type Slack struct {
	Mode          string `yaml:"mode"` // socket (default) | http
	BotToken      string `yaml:"bot_token" secret:"SLACK_BOT_TOKEN"`
	AppToken      string `yaml:"app_token" secret:"SLACK_APP_TOKEN"`
	SigningSecret string `yaml:"signing_secret" secret:"SLACK_SIGNING_SECRET"`
	APIURL        string `yaml:"api_url"` // default "https://slack.com/api/"; must end with "/"
	// Customize posts relayed staff replies under the staff member's name
	// (needs the chat:write.customize scope); default false: the name is
	// put before the text.
	Customize bool `yaml:"customize"`
}

// On reports whether the Slack adapter should run. Any credential counts:
// validation makes sure the ones the mode needs are all there.
func (s Slack) On() bool {
	return s.BotToken != "" || s.AppToken != "" || s.SigningSecret != ""
}

// Knowledge configures the knowledge base.
type Knowledge struct {
	Paths []string `yaml:"paths"` // empty = the example knowledge base built into the binary
	// BaseURLs gives a folder's public address: a document without a url in
	// its front matter is cited as base URL + its path in the folder. Keys
	// are entries of Paths.
	BaseURLs map[string]string `yaml:"base_urls"`
	// MinConfidence is how sure the bot must be that the best passage
	// answers a question before it answers with it (0..1; 0 = the default,
	// 0.6, chosen for precision); below it says "I don't know".
	MinConfidence float64 `yaml:"min_confidence"`
	// Sources are remote places the knowledge base also comes from: docs
	// websites and Git repositories, synced on a schedule.
	Sources []KnowledgeSource `yaml:"sources"`
	// SolvedReaction is the reaction with which the asker or staff mark the
	// message that solved a thread; the thread becomes a knowledge
	// candidate staff review. "" is ✅, "-" turns reactions off (/solved
	// still works).
	SolvedReaction string `yaml:"solved_reaction"`
	// Publish serves approved solved-thread answers as public pages under
	// /answers/ (with /sitemap.xml and /llms.txt); one from a community
	// thread only once its asker agreed or staff marked it rewritten.
	Publish bool `yaml:"publish"`
	// PublishKB adds the knowledge documents staff own (files, website and
	// Git sources; not added ones) to the public pages; nil = on when
	// Publish is (see PublishesKB).
	PublishKB *bool `yaml:"publish_kb"`
	// PublicURL is the base of the answer pages' canonical URLs; default
	// web.public_url.
	PublicURL string `yaml:"public_url"`
}

// Solved configures what happens around solved threads.
type Solved struct {
	// NudgeAfter is how long a member's thread must be quiet after the
	// bot's or staff's answer before the bot asks once "Did this solve
	// it?"; 0 turns the nudge off.
	NudgeAfter time.Duration `yaml:"nudge_after"`
	// QuietHours is when no nudge is sent, "HH:MM-HH:MM" (it may wrap past
	// midnight, e.g. "22:00-08:00"); a nudge falling due then waits for its
	// end. "" = none. ParseQuietHours reads it.
	QuietHours string `yaml:"quiet_hours"`
	// Timezone is QuietHours' IANA zone; "" = handoff.hours.timezone, else
	// UTC.
	Timezone string `yaml:"timezone"`
	// ForumTags are the names of the tag a Discord forum post gets when it
	// is marked solved (the first one its forum offers; case, spaces and
	// emoji do not matter); empty: "Solved" or "Gelöst".
	ForumTags []string `yaml:"forum_tags"`
	// OpenTags name the tags that say a post is not solved yet; a post
	// marked solved loses them. Absent: Unsolved, Ungelöst, Open, Offen;
	// [] keeps them.
	OpenTags []string `yaml:"open_tags"`
	// Archive archives a Discord forum post once it is marked solved.
	Archive bool `yaml:"archive"`
}

// KnowledgeSource is one remote knowledge source. Type website crawls a
// docs site (from its sitemap, or from links under url); type git reads a
// docs folder of a repository branch.
type KnowledgeSource struct {
	Type  string        `yaml:"type"`  // website or git
	URL   string        `yaml:"url"`   // website: start page; git: repository (https, ssh, file:// or a local path)
	Every time.Duration `yaml:"every"` // how often to sync; default 6h (website), 1h (git)

	// Website.
	Sitemap  string        `yaml:"sitemap"`   // sitemap or sitemap index; default: robots.txt's, else links from url
	Include  []string      `yaml:"include"`   // URL path prefixes or patterns (path.Match) to crawl; default: all under url
	Exclude  []string      `yaml:"exclude"`   // URL path prefixes or patterns to skip
	Delay    time.Duration `yaml:"delay"`     // between requests; robots.txt's Crawl-delay wins when longer; default 250ms
	MaxPages int           `yaml:"max_pages"` // default 2000
	MaxBytes int           `yaml:"max_bytes"` // largest page read, in bytes; default 2 MiB

	// Git.
	Branch  string `yaml:"branch"`   // default main
	Path    string `yaml:"path"`     // docs folder in the repository; default: all of it
	BaseURL string `yaml:"base_url"` // files are cited as base_url + their path in the repository; default derived for github.com and gitlab.com
}

// Staff says who the team is and where they are alerted.
type Staff struct {
	Channel ChannelRef   `yaml:"channel"` // where alerts/escalations go; may be empty
	Discord DiscordStaff `yaml:"discord"`
	Slack   SlackStaff   `yaml:"slack"`
	Web     []WebAccount `yaml:"web"`
}

// Handoff configures how staff take threads over and are called in.
type Handoff struct {
	AutoTakeover bool          `yaml:"auto_takeover"` // a staff message in a thread the bot serves takes it over; default true
	ReleaseAfter time.Duration `yaml:"release_after"` // hand back after this long without a staff message; 0 = never; default 2h
	Reaction     string        `yaml:"reaction"`      // a staff reaction that takes a thread over; default "✋"; "" = off
	Mention      string        `yaml:"mention"`       // put in front of escalations, e.g. <@&ROLE> or <!subteam^S123>
	Sensitive    []string      `yaml:"sensitive"`     // words that always escalate (billing, security, …)
	Hours        Hours         `yaml:"hours"`         // when staff are around; empty: always
	// SLA is the time to the first staff response, counted only during
	// Hours; 0 = no SLA clock.
	SLA time.Duration `yaml:"sla"`
	// SLAWarnAt is how much of the SLA may pass without a staff response
	// before the "about to breach" notice goes out, a percentage from 1%
	// to 100%; default "80%". ParsePercent reads it.
	SLAWarnAt string `yaml:"sla_warn_at"`
	// NotePrefix starts a staff-only note in an escalation's staff thread
	// (it is not sent to the member); default "//".
	NotePrefix string `yaml:"note_prefix"`
}

// Hours are staff's working hours.
type Hours struct {
	Timezone string   `yaml:"timezone"` // IANA name, e.g. Europe/Berlin
	Days     []string `yaml:"days"`     // mon … sun
	From     string   `yaml:"from"`     // HH:MM
	To       string   `yaml:"to"`       // HH:MM
}

// Set reports whether working hours are configured.
func (h Hours) Set() bool { return h.Timezone != "" || len(h.Days) > 0 || h.From != "" || h.To != "" }

// Sentiment configures sentiment logging and spike alerts.
type Sentiment struct {
	Enabled      bool `yaml:"enabled"`      // log every message's sentiment; default true
	Pseudonymize bool `yaml:"pseudonymize"` // store a keyed hash instead of the user id; default false
	// Alerts go to staff.channel when a channel's negative share over the
	// last hour (at least AlertMinMessages) exceeds its 14-day baseline by
	// AlertMargin; at most one per channel per AlertCooldown.
	AlertMargin      float64       `yaml:"alert_margin"`       // default 0.2 (20 percentage points)
	AlertMinMessages int           `yaml:"alert_min_messages"` // default 20
	AlertCooldown    time.Duration `yaml:"alert_cooldown"`     // default 2h
	// StrongNegative: a message at or below this score escalates its
	// thread; default -0.6.
	StrongNegative float64 `yaml:"strong_negative"`
}

// Support configures feedback, knowledge gaps and the support report.
type Support struct {
	// FollowUp: an answer with no follow-up question from the asker within
	// this window counts as "no follow-up" (never as "helpful"); default 24h.
	FollowUp time.Duration `yaml:"follow_up"`
	// Similarity (0..1) groups paraphrased questions in the gaps list and
	// spots a repeated question in a thread; default 0.5.
	Similarity float64 `yaml:"similarity"`
	// SaveReaction: a staff reaction that saves the thread's staff reply as
	// a knowledge entry; default "📌"; "-" turns it off.
	SaveReaction string `yaml:"save_reaction"`
}

// Inbox configures the research inbox of feature requests.
type Inbox struct {
	Enabled   bool    `yaml:"enabled"`   // detect feature requests in every message; default true
	Threshold float64 `yaml:"threshold"` // detector score (0..1) that makes a message a request; default 0.5
	// AutoFileThreshold is the detector score (0..1) from which a request
	// is filed and thanked; one scoring from Threshold up to it is kept as
	// a "maybe" for staff to confirm. 0: the detector's own
	// (detect.AutoFileThreshold); at or below Threshold: no maybe stage.
	AutoFileThreshold float64 `yaml:"auto_file_threshold"`
	Similar           float64 `yaml:"similar"` // similarity (0..1) at which a request joins an open item; default 0.5
	// SimilarEmbedding, with llm.embedding_model: the cosine (0..1) at which
	// a request whose words match no open item joins the one it means;
	// default 0.8.
	SimilarEmbedding float64 `yaml:"similar_embedding"`
	Acknowledge      bool    `yaml:"acknowledge"` // thank the requester in the thread, with a +1 button; default true
	Reaction         string  `yaml:"reaction"`    // reaction that forwards a message to the inbox; default "💡"
	// DailyCap bounds status-change posts per channel per day; default 20;
	// a negative number turns status posts off.
	DailyCap     int       `yaml:"daily_cap"`
	Webhooks     []Webhook `yaml:"webhooks"`      // HMAC-signed JSON POSTs on new item, vote and status change
	WebhookTries int       `yaml:"webhook_tries"` // deliveries tried per event, with backoff; default 5
	// ConfirmWithLLM asks the LLM (when one is on) about borderline
	// messages, scoring within Borderline below Threshold, and lets it
	// write titles; default false.
	ConfirmWithLLM bool    `yaml:"confirm_with_llm"`
	Borderline     float64 `yaml:"borderline"` // default 0.15
	// PublicBoard serves the public roadmap at /roadmap: the items staff
	// marked public, by status, with vote counts; visitors signed in with
	// Discord or Slack (PublicBoardOAuth) vote. Default false.
	PublicBoard      bool       `yaml:"public_board"`
	PublicBoardOAuth BoardOAuth `yaml:"public_board_oauth"`
}

// BoardOAuth are the OAuth2 apps visitors of the public roadmap sign in
// with to vote; a provider without a client id is not offered.
type BoardOAuth struct {
	Discord DiscordOAuth `yaml:"discord"`
	Slack   SlackOAuth   `yaml:"slack"`
}

// DiscordOAuth is a Discord application's OAuth2 client (scope identify).
type DiscordOAuth struct {
	ClientID     string `yaml:"client_id"`
	ClientSecret string `yaml:"client_secret" secret:"EINSATZ_DISCORD_OAUTH_SECRET"`
}

// SlackOAuth is a Slack app's "Sign in with Slack" (OpenID Connect) client;
// TeamID, when set, admits members of that workspace only.
type SlackOAuth struct {
	ClientID     string `yaml:"client_id"`
	ClientSecret string `yaml:"client_secret" secret:"EINSATZ_SLACK_OAUTH_SECRET"`
	TeamID       string `yaml:"team_id"`
}

// Webhook is an issue tracker (or anything) told about inbox changes.
type Webhook struct {
	URL    string `yaml:"url"`
	Secret string `yaml:"secret" secret:"EINSATZ_WEBHOOK_SECRET"` // signs the body (X-Einsatz-Signature)
}

// ChannelRef names one channel on one platform.
type ChannelRef struct {
	Platform string `yaml:"platform"`
	ID       string `yaml:"id"`
}

// DiscordStaff lists staff on Discord by role or user ID.
type DiscordStaff struct {
	Roles []string `yaml:"roles"`
	Users []string `yaml:"users"`
}

// SlackStaff lists staff on Slack by user ID or user group.
type SlackStaff struct {
	Users     []string `yaml:"users"`
	UserGroup string   `yaml:"usergroup"`
}

// WebAccount is a login for the web dashboard. It has exactly one of Token
// and PasswordHash.
type WebAccount struct {
	Name         string `yaml:"name"`
	Role         string `yaml:"role"` // admin|staff
	Token        string `yaml:"token" secret:"EINSATZ_WEB_TOKEN_<NAME>"`
	PasswordHash string `yaml:"password_hash"`
	// Avatar is the https URL of the account's picture: replies sent from
	// the desk show it where they are posted in the staff member's name
	// (a Discord webhook, Slack with slack.customize). Optional.
	Avatar string `yaml:"avatar"`
}

// Channels says when the bot speaks in which channel.
type Channels struct {
	Default   string            `yaml:"default"` // listen|mention|auto; default "mention"
	DMs       *bool             `yaml:"dms"`     // answer direct messages; default true
	Overrides []ChannelOverride `yaml:"overrides"`
}

// ChannelOverride sets the policy of one channel.
type ChannelOverride struct {
	Platform string `yaml:"platform"`
	ID       string `yaml:"id"`
	Policy   string `yaml:"policy"` // listen|mention|auto; "" = channels.default
	// Shadow posts the bot's draft answers to staff.channel, with Send and
	// Discard buttons, instead of answering in the channel.
	Shadow bool `yaml:"shadow"`
}

// Policy returns the policy for a channel: its override if there is one,
// otherwise the default.
func (c Channels) Policy(platform, channelID string) string {
	for _, o := range c.Overrides {
		if o.Platform == platform && o.ID == channelID && o.Policy != "" {
			return o.Policy
		}
	}
	if c.Default == "" {
		return PolicyMention // a hand-built Config without defaults applied
	}
	return c.Default
}

// Shadow reports whether a channel is in shadow mode.
func (c Channels) Shadow(platform, channelID string) bool {
	for _, o := range c.Overrides {
		if o.Platform == platform && o.ID == channelID {
			return o.Shadow
		}
	}
	return false
}

// DMsOn reports whether the bot answers direct messages (default yes).
func (c Channels) DMsOn() bool { return c.DMs == nil || *c.DMs }

// Channel policies.
const (
	PolicyListen  = "listen"
	PolicyMention = "mention"
	PolicyAuto    = "auto"
)

// Default returns the configuration an empty file gives.
func Default() *Config {
	c := &Config{}
	// Set here rather than in fillDefaults: an explicit per_minute: 0 in the
	// file means "no limit" and must not be replaced.
	c.Core.RateLimit.PerMinute = 10
	// Likewise: temperature 0, max_retries 0 and redact false are real choices.
	c.LLM.Temperature = 0.2
	c.LLM.MaxRetries = 3
	c.LLM.Redact = true
	// And: auto_takeover false, release_after 0 and enabled false too.
	c.Handoff.AutoTakeover = true
	c.Handoff.ReleaseAfter = 2 * time.Hour
	c.Handoff.Reaction = "✋"
	c.Sentiment.Enabled = true
	c.Inbox.Enabled = true
	c.Inbox.Acknowledge = true
	c.Inbox.DailyCap = 20
	c.fillDefaults()
	return c
}

// fillDefaults replaces zero values with defaults. It runs after decoding
// too, because a value from an unset ${VAR} arrives as zero and should mean
// "use the default", just like a missing key.
func (c *Config) fillDefaults() {
	setString(&c.Bot.Name, "Einsatz")
	setString(&c.Log.Level, "info")
	setString(&c.Log.Format, "text")
	setString(&c.Storage.Path, "./data")
	setDuration(&c.Storage.MessageTTL, 720*time.Hour)
	setDuration(&c.Storage.SeenTTL, 168*time.Hour)
	setDuration(&c.Storage.SentimentTTL, 2160*time.Hour)
	setDuration(&c.Storage.FeedbackTTL, 2160*time.Hour)
	setDuration(&c.Storage.AuditTTL, 8760*time.Hour)
	setInt(&c.Storage.HistoryTurns, 20)
	setInt(&c.Core.Concurrency, 128)
	setInt(&c.Core.QueueSize, 1024)
	setDuration(&c.Core.ShutdownTimeout, 10*time.Second)
	setDuration(&c.CatchUp.Window, 10*time.Minute)
	setInt(&c.Core.RateLimit.Burst, 5) // a burst of 0 would block everything
	setString(&c.Web.Addr, "127.0.0.1:8080")
	setDuration(&c.Web.ReadTimeout, 30*time.Second)
	setDuration(&c.Web.WriteTimeout, 30*time.Second)
	setDuration(&c.Web.IdleTimeout, 2*time.Minute)
	setInt(&c.Web.MaxHeaderBytes, 64<<10)
	setInt(&c.Web.MaxConnections, 1024)
	if c.Web.ChatRateLimit.PerMinute == 0 && c.Web.ChatRateLimit.Burst == 0 {
		c.Web.ChatRateLimit = RateLimit{PerMinute: 30, Burst: 10}
	}
	setString(&c.LLM.BaseURL, "https://api.openai.com/v1")
	setString(&c.LLM.Model, "gpt-4o-mini")
	setString(&c.LLM.Persona, DefaultPersona)
	setInt(&c.LLM.MaxTokens, 600)
	setDuration(&c.LLM.Timeout, 20*time.Second)
	setInt(&c.LLM.HistoryTokens, 1500)
	setInt(&c.LLM.MaxConcurrent, 8)
	setInt(&c.LLM.Breaker.Failures, 3)
	setDuration(&c.LLM.Breaker.Cooldown, 30*time.Second)
	setString(&c.Discord.APIURL, "https://discord.com/")
	setInt(&c.Discord.IdentifyReserve, 50)
	setString(&c.Slack.Mode, "socket")
	setString(&c.Slack.APIURL, "https://slack.com/api/")
	setString(&c.Channels.Default, PolicyMention)
	for i := range c.Knowledge.Sources {
		src := &c.Knowledge.Sources[i]
		if src.Type == "git" {
			setDuration(&src.Every, time.Hour)
			setString(&src.Branch, "main")
			continue
		}
		setDuration(&src.Every, 6*time.Hour)
		setDuration(&src.Delay, 250*time.Millisecond)
		setInt(&src.MaxPages, 2000)
		setInt(&src.MaxBytes, 2<<20)
	}
	setDuration(&c.Support.FollowUp, 24*time.Hour)
	if c.Support.Similarity == 0 {
		c.Support.Similarity = 0.5
	}
	setString(&c.Support.SaveReaction, "📌")
	setString(&c.Handoff.NotePrefix, "//")
	setString(&c.Handoff.SLAWarnAt, "80%")
	if c.Inbox.Threshold == 0 {
		c.Inbox.Threshold = 0.5
	}
	if c.Inbox.SimilarEmbedding == 0 {
		c.Inbox.SimilarEmbedding = 0.8
	}
	if c.Inbox.Similar == 0 {
		c.Inbox.Similar = 0.5
	}
	if c.Inbox.Borderline == 0 {
		c.Inbox.Borderline = 0.15
	}
	setString(&c.Inbox.Reaction, "💡")
	setInt(&c.Inbox.WebhookTries, 5)
	if c.Sentiment.AlertMargin == 0 {
		c.Sentiment.AlertMargin = 0.2
	}
	setInt(&c.Sentiment.AlertMinMessages, 20)
	setDuration(&c.Sentiment.AlertCooldown, 2*time.Hour)
	if c.Sentiment.StrongNegative == 0 {
		c.Sentiment.StrongNegative = -0.6
	}
	if c.Channels.DMs == nil {
		on := true
		c.Channels.DMs = &on
	}
}

func setString(p *string, def string) {
	if *p == "" {
		*p = def
	}
}

func setInt(p *int, def int) {
	if *p == 0 {
		*p = def
	}
}

func setDuration(p *time.Duration, def time.Duration) {
	if *p == 0 {
		*p = def
	}
}

// PublishesKB reports whether the knowledge base is served as public pages:
// knowledge.publish_kb when set, else knowledge.publish; never without
// knowledge.publish.
func (k Knowledge) PublishesKB() bool {
	return k.Publish && (k.PublishKB == nil || *k.PublishKB)
}
