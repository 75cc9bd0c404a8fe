// Package slack connects Einsatz to Slack through slack-go: Socket Mode
// (default, no public URL needed) or the Events API over HTTP, with slash
// commands (/einsatz ask|feedback|…), the message shortcut "Send to
// research inbox", Block Kit buttons, answers in the thread of the asking
// message, Markdown turned into mrkdwn and split to Slack's limits.
//
// Every delivery is acknowledged before any work (the Socket Mode ack is
// sent before the payload is even translated; over HTTP the 200 goes out
// right after the signature check). Translated events go through one
// ordered queue to bot.Sink.Submit, so the events of a thread keep their
// order; names of unknown users are looked up concurrently while events
// wait in that queue, never before the ack. Redeliveries and the double
// delivery of a mention (app_mention + message) share an idempotency key,
// which the core dedupes.
//
// The pure translate functions (TranslateEvent, TranslateCommand,
// TranslateInteraction, Mrkdwn, Split) are table-tested on recorded payloads
// in testdata/; slacktest is a fake Slack the integration tests and
// cmd/fakeslack run the unmodified slack-go against.
package slack

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/cenkalti/backoff/v5"
	lru "github.com/hashicorp/golang-lru/v2"
	"github.com/slack-go/slack"

	"github.com/einsatz/einsatz/bot"
)

// Modes.
const (
	ModeSocket = "socket"
	ModeHTTP   = "http"
)

// DefaultAPIURL is Slack's Web API.
const DefaultAPIURL = "https://slack.com/api/"

// Options configure the adapter. Zero values get the defaults noted.
type Options struct {
	Mode          string // ModeSocket (default) or ModeHTTP
	BotToken      string // xoxb-…, for the Web API (both modes)
	AppToken      string // xapp-…, Socket Mode only
	SigningSecret string // HTTP mode only
	APIURL        string // default DefaultAPIURL; must end with "/"

	// Customize posts staff replies relayed from a staff thread or the desk
	// under the staff member's name ("Anna (staff)") rather than naming
	// them in the text; the app needs the chat:write.customize scope.
	Customize bool

	StaffUsers     []string // user ids that are staff
	StaffUserGroup string   // a user group (S…) whose members are staff
	// StaffRefresh is how often the user group's members are fetched again;
	// default 10 minutes.
	StaffRefresh time.Duration

	// Commands are the subcommands of /einsatz (router.Commands()).
	Commands []bot.CommandSpec

	Logger     *slog.Logger // default slog.Default()
	HTTPClient *http.Client // default: keeps 64 idle connections to Slack
	// MaxBody limits an HTTP delivery's body; default 1 MiB.
	MaxBody int64

	// Now is the clock of the HTTP replay window and the caches; default time.Now.
	Now func() time.Time
	// PingTimeout is how long Socket Mode waits for Slack's ping before it
	// reconnects; default 30s (slack-go's).
	PingTimeout time.Duration
	// NameWait bounds how long an event of an unknown user waits in the
	// queue for the user's name; default 2s. The ack never waits.
	NameWait time.Duration
	// SendRetries bounds how often a rate-limited call is retried after
	// Retry-After; default 3. MaxRetryWait caps one wait; default 60s.
	SendRetries  int
	MaxRetryWait time.Duration
	// NameTTL is how long user and channel names are cached; default 1h.
	NameTTL time.Duration
}

// Adapter is the Slack adapter. It implements bot.Adapter, bot.Reactor
// and bot.DirectMessenger.
type Adapter struct {
	opts Options
	log  *slog.Logger
	api  *slack.Client

	botUserID atomic.Value // string
	botID     atomic.Value // string
	teamURL   atomic.Value // string: the workspace's address, for permalinks
	staff     atomic.Pointer[map[string]bool]
	commands  []string
	private   map[string]bool // commands whose replies only their caller sees

	users   *nameCache                 // user id → display name
	posted  *lru.Cache[string, string] // channel/ts of the bot's posts and of thread replies → core thread id
	synth   *lru.Cache[string, string] // synthetic thread key → ts of its first post
	ims     *lru.Cache[string, string] // user id → the bot's direct-message channel with them
	whisper *lru.Cache[string, string] // synthetic thread key of a private command → the user who ran it
	// privIA: event key of a private command run as a message shortcut
	// in a real thread ("Mark solution") → the user who ran it; the
	// replies to that event (Reply.ReplyTo) are shown to them only, in the
	// thread, while the thread's other replies stay public.
	privIA  *lru.Cache[string, string]
	avatars *lru.Cache[string, string] // user id → profile picture URL (users.info image_72)

	// noCustomize: chat.postMessage refused a custom author
	// (missing chat:write.customize); staff replies name them in the text.
	noCustomize atomic.Bool

	lookupMu sync.Mutex
	lookups  map[string]chan struct{}

	q queue

	mu   sync.Mutex
	sink bot.Sink
}

var (
	_ bot.Adapter = (*Adapter)(nil)
	_ bot.Reactor = (*Adapter)(nil)

	_ bot.DirectMessenger = (*Adapter)(nil)
)

// New returns an adapter. It checks the options but does not talk to Slack
// yet: Run does (auth.test first), and explains bad tokens in the log.
func New(opts Options) (*Adapter, error) {
	if opts.Mode == "" {
		opts.Mode = ModeSocket
	}
	if opts.APIURL == "" {
		opts.APIURL = DefaultAPIURL
	}
	var problems []string
	switch opts.Mode {
	case ModeSocket:
		if opts.AppToken == "" {
			problems = append(problems, "slack.app_token (xapp-…) is needed in socket mode: create an app-level token with the connections:write scope under Basic Information")
		}
	case ModeHTTP:
		if opts.SigningSecret == "" {
			problems = append(problems, "slack.signing_secret is needed in http mode: copy it from Basic Information → App Credentials")
		}
	default:
		problems = append(problems, fmt.Sprintf("slack.mode %q: want socket or http", opts.Mode))
	}
	if opts.BotToken == "" {
		problems = append(problems, "slack.bot_token (xoxb-…) is needed: copy the Bot User OAuth Token from OAuth & Permissions")
	}
	if !strings.HasSuffix(opts.APIURL, "/") {
		problems = append(problems, fmt.Sprintf("slack.api_url %q must end with \"/\"", opts.APIURL))
	}
	if len(problems) > 0 {
		return nil, fmt.Errorf("slack: %s", strings.Join(problems, "; "))
	}
	if opts.Logger == nil {
		opts.Logger = slog.Default()
	}
	if opts.Now == nil {
		opts.Now = time.Now
	}
	if opts.HTTPClient == nil {
		opts.HTTPClient = defaultHTTPClient()
	}
	if opts.MaxBody <= 0 {
		opts.MaxBody = 1 << 20
	}
	if opts.StaffRefresh <= 0 {
		opts.StaffRefresh = 10 * time.Minute
	}
	if opts.PingTimeout <= 0 {
		opts.PingTimeout = 30 * time.Second
	}
	if opts.NameWait <= 0 {
		opts.NameWait = 2 * time.Second
	}
	if opts.SendRetries <= 0 {
		opts.SendRetries = 3
	}
	if opts.MaxRetryWait <= 0 {
		opts.MaxRetryWait = 60 * time.Second
	}
	if opts.NameTTL <= 0 {
		opts.NameTTL = time.Hour
	}
	a := &Adapter{
		opts:    opts,
		log:     opts.Logger.With("platform", bot.PlatformSlack),
		users:   newNameCache(10000, opts.NameTTL, opts.Now),
		posted:  newCache(20000),
		synth:   newCache(5000),
		ims:     newCache(5000),
		whisper: newCache(5000),
		privIA:  newCache(5000),
		avatars: newCache(5000),
		private: map[string]bool{},
		lookups: map[string]chan struct{}{},
	}
	a.q.init()
	a.botUserID.Store("")
	a.botID.Store("")
	a.teamURL.Store("")
	staff := map[string]bool{}
	for _, u := range opts.StaffUsers {
		staff[u] = true
	}
	a.staff.Store(&staff)
	for _, c := range opts.Commands {
		a.commands = append(a.commands, c.Name)
		a.private[c.Name] = c.Private || c.StaffOnly
	}
	a.api = slack.New(opts.BotToken,
		slack.OptionAPIURL(opts.APIURL),
		slack.OptionHTTPClient(opts.HTTPClient),
		slack.OptionAppLevelToken(opts.AppToken),
		slack.OptionLog(slogOutput{a.log}),
	)
	return a, nil
}

func defaultHTTPClient() *http.Client {
	t := http.DefaultTransport.(*http.Transport).Clone()
	t.MaxIdleConns = 256
	t.MaxIdleConnsPerHost = 64
	t.IdleConnTimeout = 90 * time.Second
	t.DialContext = (&net.Dialer{Timeout: 10 * time.Second, KeepAlive: 30 * time.Second}).DialContext
	return &http.Client{Transport: t, Timeout: 30 * time.Second}
}

// Platform names the adapter.
func (a *Adapter) Platform() string { return bot.PlatformSlack }

// BotUserID is the bot's own user id, known once Run has called auth.test.
func (a *Adapter) BotUserID() string { return a.botUserID.Load().(string) }

// Ready reports whether Run is up and deliveries are accepted (before
// that, HTTPHandler answers 503 so that Slack retries).
func (a *Adapter) Ready() bool {
	a.mu.Lock()
	defer a.mu.Unlock()
	return a.sink != nil
}

// Run connects to Slack and feeds events to sink until ctx ends. In socket
// mode it holds the websocket (reconnecting when Slack asks); in http mode
// deliveries arrive through HTTPHandler and Run only keeps the queue and
// the staff list going. A bad token ends Run with an error that says what
// to fix; the other adapters keep running.
func (a *Adapter) Run(ctx context.Context, sink bot.Sink) error {
	if err := a.identify(ctx); err != nil {
		return err
	}
	a.mu.Lock()
	a.sink = sink
	a.mu.Unlock()
	defer func() {
		a.mu.Lock()
		a.sink = nil
		a.mu.Unlock()
	}()

	var wg sync.WaitGroup
	defer wg.Wait()
	// A fatal socket error ends Run before ctx does: stop the helpers too.
	rctx, cancel := context.WithCancel(ctx)
	defer cancel()
	wg.Add(2)
	go func() { defer wg.Done(); a.dispatch(rctx, sink) }()
	go func() { defer wg.Done(); a.refreshStaff(rctx) }()

	if a.opts.Mode == ModeHTTP {
		a.log.Info("slack: ready for Events API deliveries over HTTP", "bot_user", a.BotUserID())
		<-ctx.Done()
		return ctx.Err()
	}
	return a.runSocket(ctx)
}

// identify calls auth.test: it learns the bot's ids (to drop its own
// messages and see mentions) and catches swapped or wrong tokens early.
// Other errors (network) are retried with backoff until ctx ends.
func (a *Adapter) identify(ctx context.Context) error {
	// Waits of 1 s doubling up to 30 s, without jitter: one process asks.
	b := &backoff.ExponentialBackOff{InitialInterval: time.Second, Multiplier: 2, MaxInterval: 30 * time.Second}
	res, err := backoff.Retry(ctx, func() (*slack.AuthTestResponse, error) {
		res, err := a.api.AuthTestContext(ctx)
		switch {
		case err == nil:
			return res, nil
		case ctx.Err() != nil:
			return nil, backoff.Permanent(ctx.Err())
		case fatalAuth(err):
			fix := a.explain("auth.test", err)
			a.log.Error("slack: bot token rejected", "err", err, "fix", fix)
			return nil, backoff.Permanent(fmt.Errorf("slack: auth.test: %w (%s)", err, fix))
		}
		return nil, err
	},
		backoff.WithBackOff(b),
		backoff.WithMaxElapsedTime(0), // until ctx ends
		backoff.WithNotify(func(err error, wait time.Duration) {
			a.log.Warn("slack: auth.test failed; retrying", "err", err, "in", wait, "fix", a.explain("auth.test", err))
		}))
	if err != nil {
		return err
	}
	a.botUserID.Store(res.UserID)
	a.botID.Store(res.BotID)
	a.teamURL.Store(res.URL)
	a.log.Info("slack: authenticated", "team", res.Team, "bot_user", res.UserID, "bot_id", res.BotID)
	return nil
}

// isStaff is Env.IsStaff.
func (a *Adapter) isStaff(userID string) bool { return (*a.staff.Load())[userID] }

// refreshStaff keeps the staff user group's members, fetched at start and
// every StaffRefresh (not per message).
func (a *Adapter) refreshStaff(ctx context.Context) {
	if a.opts.StaffUserGroup == "" {
		return
	}
	for {
		members, err := a.api.GetUserGroupMembersContext(ctx, a.opts.StaffUserGroup)
		if err != nil && ctx.Err() == nil {
			a.log.Error("slack: reading staff user group; keeping the last list", "usergroup", a.opts.StaffUserGroup,
				"err", err, "fix", a.explain("usergroups.users.list", err))
		} else if err == nil {
			staff := map[string]bool{}
			for _, u := range a.opts.StaffUsers {
				staff[u] = true
			}
			for _, u := range members {
				staff[u] = true
			}
			a.staff.Store(&staff)
			a.log.Debug("slack: staff user group loaded", "members", len(members))
		}
		select {
		case <-ctx.Done():
			return
		case <-time.After(a.opts.StaffRefresh):
		}
	}
}

// env is the translation environment of the moment.
func (a *Adapter) env() Env {
	return Env{
		BotUserID: a.BotUserID(),
		BotID:     a.botID.Load().(string),
		TeamURL:   a.teamURL.Load().(string),
		IsStaff:   a.isStaff,
		Commands:  a.commands,
		ThreadOf: func(channelID, ts string) string {
			t, _ := a.posted.Get(channelID + "/" + ts)
			return t
		},
	}
}

// accept is where every acknowledged payload goes: it translates, drops
// what is not for the core, starts a name lookup when needed and queues
// the event in arrival order. It never blocks on the network.
func (a *Adapter) accept(kind string, translate func(Env) (bot.Event, error), retry int) {
	ev, err := translate(a.env())
	if err != nil {
		if errors.Is(err, ErrSkip) {
			a.log.Debug("slack: payload skipped", "kind", kind, "reason", err)
		} else {
			a.log.Warn("slack: payload not understood", "kind", kind, "err", err)
		}
		return
	}
	if ev.User.Bot {
		a.log.Debug("slack: message by a bot ignored", "channel", ev.ChannelID, "user", ev.User.ID)
		return
	}
	if retry > 0 {
		a.log.Debug("slack: redelivery", "event", ev.Key, "retry", retry)
	}
	if (ev.Kind == bot.KindCommand && strings.HasPrefix(ev.MessageID, SyntheticPrefix) && a.private[ev.Command]) ||
		strings.HasPrefix(ev.ThreadID, EphemeralPrefix) {
		// A private slash command, or a click on an ephemeral message: its
		// thread is its own, and every reply in it is shown to that user only.
		a.whisper.Add(ev.Thread().Key(), ev.User.ID)
	} else if ev.Kind == bot.KindCommand && ev.Target != nil && a.private[ev.Command] {
		// A private command run as a message shortcut: only its own
		// replies are private (the thread is a real one).
		a.privIA.Add(ev.Key, ev.User.ID)
	}
	if ev.Kind == bot.KindMessage && ev.ThreadID != "" && ev.ThreadID != ev.MessageID {
		// Slack's reaction events do not say the thread: remember a reply's,
		// so a ✅ on it (marking the thread solved) lands in its thread.
		a.posted.Add(ev.ChannelID+"/"+ev.MessageID, ev.ThreadID)
	} else if ev.Kind == bot.KindMessage && ev.MessageID != "" && !a.posted.Contains(ev.ChannelID+"/"+ev.MessageID) {
		// A top-level message: known to be in no thread, so a reaction
		// on it needs no lookup (threadlookup.go).
		a.posted.Add(ev.ChannelID+"/"+ev.MessageID, "")
	}
	var thread <-chan struct{}
	if ev.Kind == bot.KindReaction && ev.ThreadID == "" && ev.MessageID != "" && !ev.User.Bot {
		// A reaction on a message the adapter has not seen since it
		// started (or forgot): ask Slack which thread it is in (threadlookup.go).
		thread = a.lookupThread(ev.ChannelID, ev.MessageID)
	}
	var ready <-chan struct{}
	if ev.User.Name == "" {
		if name, ok := a.users.get(ev.User.ID); ok {
			ev.User.Name = name
		} else {
			ready = a.lookupUser(ev.User.ID)
		}
	} else {
		a.users.put(ev.User.ID, ev.User.Name)
	}
	if ev.User.Staff && ev.User.ID != "" {
		// A staff member's picture goes with their replies relayed in
		// their name (icon_url, a Discord webhook's avatar_url).
		if av, ok := a.avatars.Get(ev.User.ID); ok {
			ev.User.Avatar = av
		} else if ready == nil {
			ready = a.lookupUser(ev.User.ID)
		}
	}
	a.q.push(pending{ev: ev, ready: ready, thread: thread})
}

// dispatch submits queued events in order. An event whose user's name is
// being looked up waits for it at most NameWait.
func (a *Adapter) dispatch(ctx context.Context, sink bot.Sink) {
	for {
		p, ok := a.q.pop(ctx)
		if !ok {
			// Shutting down: what was acknowledged still goes to the core
			// (which keeps it in storage if it cannot handle it any more).
			for _, p := range a.q.drain() {
				a.submit(sink, p.ev)
			}
			return
		}
		if p.ready != nil {
			t := time.NewTimer(a.opts.NameWait)
			select {
			case <-p.ready:
			case <-t.C:
			case <-ctx.Done():
			}
			t.Stop()
			if name, ok := a.users.get(p.ev.User.ID); ok && name != "" || p.ev.User.Name == "" {
				p.ev.User.Name = name
			}
			if p.ev.User.Staff {
				p.ev.User.Avatar, _ = a.avatars.Get(p.ev.User.ID)
			}
		}
		if p.thread != nil {
			a.awaitThread(ctx, &p)
		}
		a.submit(sink, p.ev)
	}
}

func (a *Adapter) submit(sink bot.Sink, ev bot.Event) {
	submit := sink.Submit
	if hs, ok := sink.(handleSink); ok {
		if h := a.handleOf(ev); h != nil {
			submit = func(ev bot.Event) error { return hs.SubmitWithHandle(ev, h) }
		}
	}
	if err := submit(ev); err != nil && !errors.Is(err, bot.ErrQueueFull) {
		a.log.Error("slack: event not accepted by the core", "event", ev.Key, "err", err)
	}
}

// lookupUser fetches a user's name in the background (once per user at a
// time) and returns a channel closed when it is cached or failed.
func (a *Adapter) lookupUser(id string) <-chan struct{} {
	a.lookupMu.Lock()
	defer a.lookupMu.Unlock()
	if ch, ok := a.lookups[id]; ok {
		return ch
	}
	ch := make(chan struct{})
	a.lookups[id] = ch
	go func() {
		defer func() {
			a.lookupMu.Lock()
			delete(a.lookups, id)
			a.lookupMu.Unlock()
			close(ch)
		}()
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		u, err := a.api.GetUserInfoContext(ctx, id)
		if err != nil {
			a.log.Warn("slack: looking up a user's name", "user", id, "err", err, "fix", a.explain("users.info", err))
			a.users.put(id, "") // do not ask again for every message; retried after NameTTL
			a.avatars.Add(id, "")
			return
		}
		a.avatars.Add(id, u.Profile.Image72) // "" when there is none: not asked again
		name := u.Profile.DisplayName
		if name == "" {
			name = u.RealName
		}
		if name == "" {
			name = u.Name
		}
		a.users.put(id, name)
	}()
	return ch
}

// UserName returns a user's display name (cached; users.info on a miss).
func (a *Adapter) UserName(ctx context.Context, userID string) string {
	if name, ok := a.users.get(userID); ok {
		return name
	}
	select {
	case <-a.lookupUser(userID):
	case <-ctx.Done():
	}
	name, _ := a.users.get(userID)
	return name
}

type pending struct {
	ev     bot.Event
	ready  <-chan struct{} // the user's name and picture are looked up
	thread <-chan struct{} // the reacted-to message's thread is looked up
}

// queue is an unbounded FIFO: pushing never blocks the ack path.
type queue struct {
	mu     sync.Mutex
	items  []pending
	signal chan struct{}
}

func (q *queue) init() { q.signal = make(chan struct{}, 1) }

func (q *queue) push(p pending) {
	q.mu.Lock()
	q.items = append(q.items, p)
	q.mu.Unlock()
	select {
	case q.signal <- struct{}{}:
	default:
	}
}

func (q *queue) pop(ctx context.Context) (pending, bool) {
	for {
		q.mu.Lock()
		if len(q.items) > 0 {
			p := q.items[0]
			q.items[0] = pending{}
			q.items = q.items[1:]
			q.mu.Unlock()
			return p, true
		}
		q.mu.Unlock()
		select {
		case <-ctx.Done():
			return pending{}, false
		case <-q.signal:
		}
	}
}

func (q *queue) drain() []pending {
	q.mu.Lock()
	defer q.mu.Unlock()
	items := q.items
	q.items = nil
	return items
}

// slogOutput routes slack-go's debug logger to slog at debug level.
type slogOutput struct{ log *slog.Logger }

func (o slogOutput) Output(_ int, s string) error {
	o.log.Debug("slack-go: " + strings.TrimSpace(s))
	return nil
}
