// Package discord connects Einsatz to Discord through discordgo: a gateway
// session translates messages, reactions, slash commands, the "Send to
// research inbox" message command and button clicks into bot.Events, and
// Send answers in a thread (started from the user's message, or the
// existing thread or forum post), split under Discord's 2,000 characters,
// with mentions restricted so no text can ping @everyone, @here or a role.
//
// The translation is pure (translate.go, tested on recorded payloads in
// testdata/); the integration tests run the unmodified discordgo against the
// fake in discordtest.
package discord

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"time"

	"github.com/bwmarrin/discordgo"
	"github.com/cenkalti/backoff/v5"
	"github.com/gorilla/websocket"
	lru "github.com/hashicorp/golang-lru/v2"

	"github.com/einsatz/einsatz/bot"
)

// DefaultAPIURL is where Discord's REST API and gateway discovery live.
const DefaultAPIURL = "https://discord.com/"

// Intents the adapter asks for: guilds (channels and threads), messages in
// guilds and DMs, their content (privileged: switched on in the developer
// portal) and reactions in both.
const Intents = discordgo.IntentsGuilds | discordgo.IntentsGuildMessages | discordgo.IntentsMessageContent |
	discordgo.IntentsDirectMessages | discordgo.IntentsGuildMessageReactions | discordgo.IntentsDirectMessageReactions

// Options configure the adapter.
type Options struct {
	// Token is the bot token (discord.token / DISCORD_TOKEN), with or
	// without the "Bot " prefix.
	Token string
	// APIURL sends every REST call and the gateway discovery to another
	// host (a REST proxy, or a fake in tests); default https://discord.com/.
	APIURL string
	// StaffRoles and StaffUsers mark staff (User.Staff) by role or user id.
	StaffRoles []string
	StaffUsers []string
	// Commands are registered as slash commands at start (bulk overwrite,
	// so a restart changes nothing), with the message command
	// "Send to research inbox" (and "Mark solution" with /solved).
	Commands []bot.CommandSpec
	// GuildIDs registers the commands in these guilds only (they appear at
	// once); empty registers them globally.
	GuildIDs []string
	// Logger; default slog.Default().
	Logger *slog.Logger
	// HTTPClient for REST; default a client that keeps 64 idle connections
	// per host (Go's default of 2 opens a connection for almost every
	// request under load). Its Transport is wrapped to honour APIURL.
	HTTPClient *http.Client
	// ThreadArchive is after how many minutes of silence Discord archives
	// the threads the bot starts: 60, 1440 (default), 4320 or 10080.
	ThreadArchive int
	// RetryDelay is the first wait before connecting again after a failed
	// start; default 1 s, doubling up to a minute.
	RetryDelay time.Duration
	// Gateway, when set, runs the gateway in place of the one session
	// (cluster mode: the shards this node holds, paced across the cluster;
	// main wires cluster.Node.RunShards here). It opens shards with
	// a.OpenShard, reads the limits with a.GatewayLimits and returns when
	// ctx ends, having closed them.
	Gateway func(ctx context.Context, a *Adapter) error
}

// Adapter is the Discord adapter. It implements bot.Adapter and the
// optional Typer, Reactor, DirectMessenger and Completer.
type Adapter struct {
	opts   Options
	log    *slog.Logger
	s      *discordgo.Session // REST, and the gateway unless Options.Gateway runs shards
	client *http.Client
	token  string
	id     identity

	sinkMu sync.RWMutex
	sink   bot.Sink

	mu       sync.Mutex
	channels map[string]channelInfo     // channels and threads seen, by id
	topLevel *lru.Cache[string, string] // top-level message id -> thread name for it
	msgChan  *lru.Cache[string, string] // message id -> channel it lives in
	dmChan   *lru.Cache[string, string] // user id -> the bot's DM channel with them
	pending  map[string]*pendingInteraction
	starting map[string]*sync.Mutex // message id -> lock while starting its thread
	// Staff replies through channel webhooks (webhook.go).
	hookMu     sync.Mutex                     // held while a channel's webhook is looked up or created
	hooks      map[string]*discordgo.Webhook  // channel id -> its webhook
	hookDenied map[string]bool                // channel id -> no Manage Webhooks there
	hookMsgs   *lru.Cache[string, webhookRef] // message id -> the webhook that posted it

	blank       int  // guild messages in a row without content that did not mention the bot
	contentWarn bool // the missing MESSAGE_CONTENT explanation was logged
	contentOff  bool // a session was refused MESSAGE_CONTENT: later shards connect without it
	// live: a gateway session got READY, so messages posted from then on
	// arrive as MESSAGE_CREATE (catch-up waits for it, see Ready).
	live bool
}

// pendingInteraction is an interaction waiting for the core's replies.
type pendingInteraction struct {
	mu        sync.Mutex
	ia        *discordgo.Interaction
	at        time.Time
	component bool // a button: acknowledged with type 6, replies are follow-ups
	ephemeral bool // replies only the user sees
	deferred  bool // the deferral went through
	edited    bool // @original holds a reply
	replied   bool
}

var (
	errToken = errors.New("discord: the bot token was rejected; check discord.token (or DISCORD_TOKEN): it must be the token from the developer portal's Bot page")
	// ErrNoToken is returned by New without a token.
	ErrNoToken = errors.New("discord: no bot token: set discord.token in the config or DISCORD_TOKEN in the environment")
)

// New returns an adapter; nothing connects before Run.
func New(opts Options) (*Adapter, error) {
	token := strings.TrimSpace(strings.TrimPrefix(strings.TrimSpace(opts.Token), "Bot "))
	if token == "" {
		return nil, ErrNoToken
	}
	if opts.Logger == nil {
		opts.Logger = slog.Default()
	}
	if opts.ThreadArchive == 0 {
		opts.ThreadArchive = 1440
	}
	if opts.RetryDelay <= 0 {
		opts.RetryDelay = time.Second
	}
	client, err := httpClient(opts.APIURL, opts.HTTPClient)
	if err != nil {
		return nil, err
	}
	a := &Adapter{
		opts:       opts,
		log:        opts.Logger.With("platform", bot.PlatformDiscord),
		client:     client,
		token:      token,
		channels:   map[string]channelInfo{},
		topLevel:   newCache(20000),
		msgChan:    newCache(50000),
		dmChan:     newCache(5000),
		pending:    map[string]*pendingInteraction{},
		starting:   map[string]*sync.Mutex{},
		hooks:      map[string]*discordgo.Webhook{},
		hookDenied: map[string]bool{},
		id:         identity{StaffRoles: set(opts.StaffRoles), StaffUsers: set(opts.StaffUsers)},
	}
	a.hookMsgs, _ = lru.New[string, webhookRef](20000)
	if a.s, err = a.newSession(); err != nil {
		return nil, err
	}
	return a, nil
}

// newSession makes a discordgo session with the adapter's handlers: the
// one session, or one per shard (OpenShard).
func (a *Adapter) newSession() (*discordgo.Session, error) {
	s, err := discordgo.New("Bot " + a.token)
	if err != nil {
		return nil, fmt.Errorf("discord: %w", err)
	}
	s.Client = a.client
	s.Identify.Intents = Intents
	s.ShouldReconnectOnError = true
	// No payload compression: discordgo inflates each compressed gateway
	// frame with a fresh zlib reader (its 32 kB window allocated per
	// message), a fifth of all the bot allocated at 300 msg/s in the load
	// harness. Uncompressed, a message event costs 1–2 kB of bandwidth.
	s.Compress = false
	s.Identify.Compress = false
	s.StateEnabled = false // the adapter keeps the little it needs itself
	// Handlers run in the gateway reader, one after another, so messages
	// of a thread reach the core in order; they only translate and submit.
	s.SyncEvents = true
	s.LogLevel = discordgo.LogError
	s.AddHandler(a.onReady)
	s.AddHandler(a.onGuildCreate)
	s.AddHandler(a.onChannelCreate)
	s.AddHandler(a.onChannelUpdate)
	s.AddHandler(a.onThreadCreate)
	s.AddHandler(a.onThreadUpdate)
	s.AddHandler(a.onThreadListSync)
	s.AddHandler(a.onMessageCreate)
	s.AddHandler(a.onMessageUpdate)
	s.AddHandler(a.onMessageDelete)
	s.AddHandler(a.onReactionAdd)
	s.AddHandler(a.onReactionRemove)
	s.AddHandler(a.onInteraction)
	s.AddHandler(func(*discordgo.Session, *discordgo.Disconnect) { a.log.Debug("gateway disconnected") })
	s.AddHandler(func(*discordgo.Session, *discordgo.Resumed) { a.log.Info("gateway session resumed") })
	return s, nil
}

func set(list []string) map[string]bool {
	m := make(map[string]bool, len(list))
	for _, s := range list {
		if s = strings.TrimSpace(s); s != "" {
			m[s] = true
		}
	}
	return m
}

// httpClient returns the REST client: the given one or a default, with a
// transport that sends discord.com requests to apiURL.
func httpClient(apiURL string, c *http.Client) (*http.Client, error) {
	if apiURL == "" {
		apiURL = DefaultAPIURL
	}
	u, err := url.Parse(apiURL)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return nil, fmt.Errorf("discord: api_url %q is not an http(s) URL", apiURL)
	}
	var out http.Client
	if c != nil {
		out = *c
	} else {
		tr := http.DefaultTransport.(*http.Transport).Clone()
		tr.MaxIdleConns = 256
		tr.MaxIdleConnsPerHost = 64
		out = http.Client{Timeout: 20 * time.Second}
		out.Transport = tr
	}
	next := out.Transport
	if next == nil {
		next = http.DefaultTransport
	}
	out.Transport = rewrite{base: u, next: next}
	return &out, nil
}

// rewrite sends requests for discord.com to another base URL. discordgo's
// endpoints are computed once at init from discord.com, so the host is
// replaced per request instead (on a clone: a RoundTripper must not change
// the caller's request).
type rewrite struct {
	base *url.URL
	next http.RoundTripper
}

func (t rewrite) RoundTrip(r *http.Request) (*http.Response, error) {
	if r.URL.Host != "discord.com" || (t.base.Host == "discord.com" && t.base.Scheme == "https" && strings.Trim(t.base.Path, "/") == "") {
		return t.next.RoundTrip(r)
	}
	r = r.Clone(r.Context())
	r.URL.Scheme = t.base.Scheme
	r.URL.Host = t.base.Host
	if p := strings.TrimSuffix(t.base.Path, "/"); p != "" {
		r.URL.Path = p + r.URL.Path
		if r.URL.RawPath != "" {
			r.URL.RawPath = p + r.URL.RawPath
		}
	}
	r.Host = t.base.Host
	return t.next.RoundTrip(r)
}

// newCache is golang-lru's LRU of a fixed, positive size (New fails only
// for a size below 1).
func newCache(size int) *lru.Cache[string, string] {
	c, _ := lru.New[string, string](size)
	return c
}

// Platform names the adapter.
func (a *Adapter) Platform() string { return bot.PlatformDiscord }

// Run checks the token, registers the commands, connects the gateway and
// hands events to sink until ctx ends. A rejected token ends Run at once
// with an error naming the setting; the rest of the bot keeps running.
// Network trouble at start is retried; after that discordgo reconnects and
// resumes by itself.
func (a *Adapter) Run(ctx context.Context, sink bot.Sink) error {
	a.sinkMu.Lock()
	a.sink = sink
	a.sinkMu.Unlock()

	var me *discordgo.User
	err := a.retry(ctx, "checking the bot token", func() error {
		var err error
		me, err = a.s.User("@me", discordgo.WithContext(ctx))
		return err
	})
	if err != nil {
		return err
	}
	a.mu.Lock()
	a.id.UserID = me.ID
	a.mu.Unlock()

	var appID string
	if err := a.retry(ctx, "reading the application id", func() error {
		var err error
		appID, err = applicationID(ctx, a.s)
		return err
	}); err != nil {
		return err
	}
	a.registerCommands(ctx, appID)

	if a.opts.Gateway != nil {
		return a.runGateway(ctx)
	}
	if err := a.open(ctx); err != nil {
		return err
	}
	a.log.Info("connected to the Discord gateway", "bot_user", me.Username, "bot_id", me.ID, "application", appID)

	sweep := time.NewTicker(time.Minute)
	defer sweep.Stop()
	for {
		select {
		case <-ctx.Done():
			// Without this a heartbeat that fails against the closing
			// socket makes discordgo reconnect after Close, forever. Every
			// reader of the flag takes a session lock after Close does.
			a.s.ShouldReconnectOnError = false
			if err := a.s.Close(); err != nil {
				a.log.Debug("closing the gateway session", "err", err)
			}
			return nil
		case <-sweep.C:
			a.sweepPending()
		}
	}
}

// retry runs f until it succeeds, ctx ends or the token is rejected.
func (a *Adapter) retry(ctx context.Context, what string, f func() error) error {
	_, err := backoff.Retry(ctx, func() (struct{}, error) {
		err := f()
		switch {
		case err == nil:
			return struct{}{}, nil
		case isUnauthorized(err):
			return struct{}{}, backoff.Permanent(fmt.Errorf("%w (%s: %v)", errToken, what, err))
		case ctx.Err() != nil:
			return struct{}{}, backoff.Permanent(ctx.Err())
		}
		return struct{}{}, err
	}, a.retryOptions("discord: "+what+" failed; trying again")...)
	return err
}

// retryOptions wait RetryDelay, doubling up to a minute, without jitter
// (one process retries), until ctx ends; each wait is logged with msg.
func (a *Adapter) retryOptions(msg string) []backoff.RetryOption {
	b := &backoff.ExponentialBackOff{InitialInterval: a.opts.RetryDelay, Multiplier: 2, MaxInterval: time.Minute}
	return []backoff.RetryOption{
		backoff.WithBackOff(b),
		backoff.WithMaxElapsedTime(0),
		backoff.WithNotify(func(err error, wait time.Duration) { a.log.Warn(msg, "err", err, "in", wait) }),
	}
}

func isUnauthorized(err error) bool {
	var re *discordgo.RESTError
	if errors.As(err, &re) && re.Response != nil && re.Response.StatusCode == http.StatusUnauthorized {
		return true
	}
	return errors.Is(err, discordgo.ErrUnauthorized)
}

// open connects the gateway, trying again with backoff; a rejected token
// (openSession) and the end of ctx stop it.
func (a *Adapter) open(ctx context.Context) error {
	_, err := backoff.Retry(ctx, func() (struct{}, error) {
		err := a.openSession(a.s)
		switch {
		case err == nil:
			return struct{}{}, nil
		case errors.Is(err, errToken):
			return struct{}{}, backoff.Permanent(err)
		case ctx.Err() != nil:
			return struct{}{}, backoff.Permanent(ctx.Err())
		}
		return struct{}{}, err
	}, a.retryOptions("discord: connecting to the gateway failed; trying again")...)
	return err
}

// openSession opens one gateway session (the only one, or a shard's). A
// 4004 close is a bad token (errToken); a 4014 close means a privileged
// intent is not enabled in the developer portal: the adapter explains and
// connects without MESSAGE_CONTENT at once (it then sees the text of
// mentions and DMs only), and later shards connect without it too.
func (a *Adapter) openSession(s *discordgo.Session) error {
	for {
		err := s.Open()
		var ce *websocket.CloseError
		switch {
		case errors.As(err, &ce) && ce.Code == 4004:
			return fmt.Errorf("%w (gateway: %v)", errToken, err)
		case errors.As(err, &ce) && ce.Code == 4014 && s.Identify.Intents&discordgo.IntentsMessageContent != 0:
			a.warnContent("the gateway refused the MESSAGE CONTENT intent (close 4014)")
			a.mu.Lock()
			a.contentOff = true
			a.mu.Unlock()
			s.Identify.Intents &^= discordgo.IntentsMessageContent
			continue
		}
		return err
	}
}

// warnContent explains, once, that message text is missing.
func (a *Adapter) warnContent(why string) {
	a.mu.Lock()
	done := a.contentWarn
	a.contentWarn = true
	a.mu.Unlock()
	if done {
		return
	}
	a.log.Error("discord: messages arrive without their text because the MESSAGE CONTENT intent is off ("+why+"). "+
		"Switch on \"Message Content Intent\" under Privileged Gateway Intents on the Bot page of your application "+
		"at https://discord.com/developers/applications and restart. Until then the bot only sees the text of "+
		"messages that mention it and of direct messages.", "reason", why)
}

// registerCommands overwrites the application's commands with the
// configured ones, globally or per guild. A failure is logged, not fatal:
// mentions and messages work without commands.
func (a *Adapter) registerCommands(ctx context.Context, appID string) {
	cmds := applicationCommands(a.opts.Commands)
	targets := a.opts.GuildIDs
	if len(targets) == 0 {
		targets = []string{""}
	}
	for _, g := range targets {
		if _, err := a.s.ApplicationCommandBulkOverwrite(appID, g, cmds, discordgo.WithContext(ctx)); err != nil {
			hint := ""
			if restCode(err) == discordgo.ErrCodeMissingAccess {
				hint = "; invite the bot with the applications.commands scope (einsatz discord invite-url)"
			}
			a.log.Error("discord: registering application commands failed"+hint, "guild", g, "err", err)
			continue
		}
		a.log.Info("discord: application commands registered", "guild", g, "count", len(cmds))
	}
}

// applicationCommands turns command specs into Discord's slash commands
// (names lower case, descriptions 1-100 characters), plus the message
// commands: "Send to research inbox", and "Mark solution" ("Als Lösung
// markieren" in German clients) when there is /solved.
func applicationCommands(specs []bot.CommandSpec) []*discordgo.ApplicationCommand {
	out := []*discordgo.ApplicationCommand{}
	seen := map[string]bool{}
	solved := false
	for _, sp := range specs {
		solved = solved || sp.Name == SolutionCommand
		name := commandName(sp.Name)
		if name == "" || seen[name] || sp.Name == ForwardCommand {
			continue // forward is the message command below, not a slash command
		}
		seen[name] = true
		c := &discordgo.ApplicationCommand{
			Type:        discordgo.ChatApplicationCommand,
			Name:        name,
			Description: describe(sp.Description, sp.Name),
		}
		if sp.ArgName != "" {
			c.Options = []*discordgo.ApplicationCommandOption{{
				Type:        discordgo.ApplicationCommandOptionString,
				Name:        commandName(sp.ArgName),
				Description: describe(sp.ArgHelp, sp.ArgName),
				Required:    true,
			}}
		}
		out = append(out, c)
	}
	out = append(out, &discordgo.ApplicationCommand{Type: discordgo.MessageApplicationCommand, Name: ForwardCommandName})
	if solved {
		// /solved has a message command too: the asker or staff pick the
		// message that solved the thread.
		out = append(out, &discordgo.ApplicationCommand{Type: discordgo.MessageApplicationCommand, Name: SolutionCommandName,
			NameLocalizations: &map[discordgo.Locale]string{discordgo.German: SolutionCommandNameDE}})
	}
	return out
}

func commandName(s string) string {
	var b strings.Builder
	for _, r := range strings.ToLower(strings.TrimSpace(s)) {
		switch {
		case r == '-' || r == '_' || (r >= 'a' && r <= 'z') || (r >= '0' && r <= '9'):
			b.WriteRune(r)
		case r == ' ':
			b.WriteRune('-')
		}
	}
	return truncate(b.String(), 32)
}

func describe(desc, fallback string) string {
	desc = strings.TrimSpace(desc)
	if desc == "" {
		desc = fallback
	}
	if desc == "" {
		desc = "-"
	}
	return truncate(desc, 100)
}

// restCode is Discord's JSON error code of a REST error, 0 if none.
func restCode(err error) int {
	var re *discordgo.RESTError
	if errors.As(err, &re) && re.Message != nil {
		return re.Message.Code
	}
	return 0
}

// explain names common REST failures for the log.
func explain(err error) string {
	switch restCode(err) {
	case discordgo.ErrCodeUnknownChannel:
		return "unknown channel (deleted, or the bot cannot see it)"
	case discordgo.ErrCodeUnknownMessage:
		return "unknown message (deleted)"
	case discordgo.ErrCodeMissingPermissions:
		return "missing permission in this channel"
	case discordgo.ErrCodeMissingAccess:
		return "no access to this channel"
	case discordgo.ErrCodeInvalidFormBody:
		return "Discord rejected the message"
	case discordgo.ErrCodeUnknownInteraction:
		return "the interaction expired (not answered within 3 s)"
	case discordgo.ErrCodeCannotSendMessagesToThisUser:
		return "the person does not accept direct messages from the bot"
	case discordgo.ErrCodeInvalidRecipients:
		return "no such user to message"
	}
	var ne net.Error
	if errors.As(err, &ne) {
		return "network error"
	}
	return "request failed"
}

// identity is who the bot is (UserID "" before Run checked the token) and
// who is staff.
func (a *Adapter) identity() identity {
	a.mu.Lock()
	defer a.mu.Unlock()
	return a.id
}

func (a *Adapter) submit(ev bot.Event) error {
	a.sinkMu.RLock()
	sink := a.sink
	a.sinkMu.RUnlock()
	if sink == nil {
		return errors.New("discord: not running")
	}
	err := sink.Submit(ev)
	if err != nil && !errors.Is(err, bot.ErrQueueFull) {
		a.log.Warn("event not accepted by the core", "channel", ev.ChannelID, "event", ev.Key, "err", err)
	}
	return err
}

// Gateway handlers.

func (a *Adapter) onReady(_ *discordgo.Session, r *discordgo.Ready) {
	a.mu.Lock()
	if r.User != nil {
		a.id.UserID = r.User.ID
	}
	a.live = true
	a.mu.Unlock()
	a.log.Debug("gateway ready", "guilds", len(r.Guilds))
}

func (a *Adapter) rememberChannel(c *discordgo.Channel) {
	if c == nil || c.ID == "" {
		return
	}
	a.mu.Lock()
	defer a.mu.Unlock()
	a.rememberChannelLocked(c)
}

func (a *Adapter) rememberChannelLocked(c *discordgo.Channel) {
	info := channelInfo{ID: c.ID, GuildID: c.GuildID, Type: c.Type, ParentID: c.ParentID, Name: c.Name}
	if info.isThread() {
		if p, ok := a.channels[c.ParentID]; ok {
			info.ParentType, info.parentSeen, info.ParentName = p.Type, true, p.Name
		}
	}
	if len(a.channels) > 200000 {
		// Threads come and go; forget them all rather than grow forever.
		// What is needed again is fetched once more.
		a.channels = map[string]channelInfo{}
	}
	a.channels[c.ID] = info
}

func (a *Adapter) onGuildCreate(_ *discordgo.Session, g *discordgo.GuildCreate) {
	if g.Guild == nil {
		return
	}
	a.mu.Lock()
	defer a.mu.Unlock()
	for _, c := range g.Channels {
		c.GuildID = g.ID
		a.rememberChannelLocked(c)
	}
	for _, c := range g.Threads {
		c.GuildID = g.ID
		a.rememberChannelLocked(c)
	}
}

func (a *Adapter) onChannelCreate(_ *discordgo.Session, c *discordgo.ChannelCreate) {
	a.rememberChannel(c.Channel)
}
func (a *Adapter) onChannelUpdate(_ *discordgo.Session, c *discordgo.ChannelUpdate) {
	a.rememberChannel(c.Channel)
}
func (a *Adapter) onThreadCreate(_ *discordgo.Session, c *discordgo.ThreadCreate) {
	a.rememberChannel(c.Channel)
}
func (a *Adapter) onThreadUpdate(_ *discordgo.Session, c *discordgo.ThreadUpdate) {
	a.rememberChannel(c.Channel)
}
func (a *Adapter) onThreadListSync(_ *discordgo.Session, l *discordgo.ThreadListSync) {
	for _, c := range l.Threads {
		a.rememberChannel(c)
	}
}

// channel describes a channel, from what the gateway told or, failing
// that, one REST call (remembered). DMs need no lookup.
func (a *Adapter) channel(ctx context.Context, id, guildID string) channelInfo {
	if guildID == "" {
		return channelInfo{ID: id, Type: discordgo.ChannelTypeDM}
	}
	a.mu.Lock()
	info, ok := a.channels[id]
	a.mu.Unlock()
	if ok && (!info.isThread() || info.parentSeen || info.ParentID == "") {
		return info
	}
	if !ok {
		c, err := a.s.Channel(id, discordgo.WithContext(ctx))
		if err != nil {
			a.log.Warn("looking up a channel", "channel", id, "err", err, "why", explain(err))
			return channelInfo{ID: id, GuildID: guildID}
		}
		if c.GuildID == "" {
			c.GuildID = guildID
		}
		a.rememberChannel(c)
		info = channelInfo{ID: c.ID, GuildID: c.GuildID, Type: c.Type, ParentID: c.ParentID, Name: c.Name}
	}
	if info.isThread() && info.ParentID != "" {
		a.mu.Lock()
		p, ok := a.channels[info.ParentID]
		a.mu.Unlock()
		if !ok {
			if c, err := a.s.Channel(info.ParentID, discordgo.WithContext(ctx)); err == nil {
				a.rememberChannel(c)
				p = channelInfo{ID: c.ID, Type: c.Type, Name: c.Name}
			}
		}
		info.ParentType, info.parentSeen, info.ParentName = p.Type, true, p.Name
		a.mu.Lock()
		a.channels[id] = info
		a.mu.Unlock()
	}
	return info
}

func (a *Adapter) lookupCtx() (context.Context, context.CancelFunc) {
	return context.WithTimeout(context.Background(), 10*time.Second)
}

func (a *Adapter) onMessageCreate(_ *discordgo.Session, m *discordgo.MessageCreate) {
	if m.Message == nil || m.Author == nil {
		return
	}
	id := a.identity()
	if m.Author.ID == id.UserID {
		a.msgChan.Add(m.ID, m.ChannelID) // our own echo: only where it lives
		return
	}
	ctx, cancel := a.lookupCtx()
	defer cancel()
	ch := a.channel(ctx, m.ChannelID, m.GuildID)
	ev, ok := translateMessage(m.Message, ch, id)
	if !ok {
		return
	}
	a.msgChan.Add(m.ID, m.ChannelID)
	if ev.ThreadID == "" {
		a.topLevel.Add(m.ID, threadName(ev.Text, ev.User.Name))
	}
	a.checkContent(m.Message, ev)
	_ = a.submit(ev)
}

// onMessageUpdate passes a person's edit of their message to the core
// (the relay follows it into its copy).
func (a *Adapter) onMessageUpdate(_ *discordgo.Session, m *discordgo.MessageUpdate) {
	if m.Message == nil || m.Author == nil || m.Author.ID == a.identity().UserID {
		return
	}
	ctx, cancel := a.lookupCtx()
	defer cancel()
	if ev, ok := translateEdit(m.Message, a.channel(ctx, m.ChannelID, m.GuildID), a.identity()); ok && !ev.User.Bot {
		_ = a.submit(ev)
	}
}

// onMessageDelete passes a deletion to the core.
func (a *Adapter) onMessageDelete(_ *discordgo.Session, m *discordgo.MessageDelete) {
	if m.Message == nil {
		return
	}
	ctx, cancel := a.lookupCtx()
	defer cancel()
	if ev, ok := translateDelete(m.Message, a.channel(ctx, m.ChannelID, m.GuildID)); ok {
		_ = a.submit(ev)
	}
}

// checkContent notices messages that keep arriving blank: the sign of a
// missing MESSAGE_CONTENT intent.
func (a *Adapter) checkContent(m *discordgo.Message, ev bot.Event) {
	if ev.DM || ev.Mentioned || ev.User.Bot {
		return
	}
	blank := m.Content == "" && len(m.Attachments) == 0 && len(m.Embeds) == 0 && len(m.StickerItems) == 0 && m.Poll == nil
	a.mu.Lock()
	if !blank {
		a.blank = 0
		a.mu.Unlock()
		return
	}
	a.blank++
	n := a.blank
	a.mu.Unlock()
	if n >= 3 {
		a.warnContent(fmt.Sprintf("%d guild messages in a row arrived blank", n))
	}
}

// threadName names the thread started for a question: its first line.
func threadName(text, user string) string {
	line, _, _ := strings.Cut(strings.TrimSpace(text), "\n")
	line = strings.TrimSpace(strings.Trim(line, "*_`>#~|"))
	if line == "" {
		if user == "" {
			return "Answer"
		}
		return "Answer for " + user
	}
	return truncate(line, 90)
}

func (a *Adapter) onReactionAdd(_ *discordgo.Session, r *discordgo.MessageReactionAdd) {
	a.onReaction(r.MessageReaction, r.Member, false)
}

func (a *Adapter) onReactionRemove(_ *discordgo.Session, r *discordgo.MessageReactionRemove) {
	a.onReaction(r.MessageReaction, nil, true)
}

func (a *Adapter) onReaction(r *discordgo.MessageReaction, member *discordgo.Member, removed bool) {
	if r == nil {
		return
	}
	id := a.identity()
	if r.UserID == id.UserID || (member != nil && member.User != nil && member.User.Bot) {
		return
	}
	ctx, cancel := a.lookupCtx()
	defer cancel()
	ev, ok := translateReaction(r, member, removed, a.channel(ctx, r.ChannelID, r.GuildID), id)
	if ok {
		_ = a.submit(ev)
	}
}

func (a *Adapter) onInteraction(_ *discordgo.Session, i *discordgo.InteractionCreate) {
	if i.Interaction == nil {
		return
	}
	// Acknowledging is an HTTP round trip: keep the gateway reader free.
	go a.handleInteraction(i.Interaction)
}
