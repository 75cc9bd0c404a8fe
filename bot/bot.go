package bot

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"runtime/debug"
	"sync"
	"time"

	"golang.org/x/time/rate"

	"github.com/einsatz/einsatz/bot/lang"
)

// Channel policies: how the bot behaves in a channel.
const (
	PolicyListen  = "listen"  // observe only, never answer messages
	PolicyMention = "mention" // answer when addressed, and follow-ups in threads it serves
	PolicyAuto    = "auto"    // also answer questions on its own
)

// Errors Submit returns. The adapter acknowledges the platform in every case;
// these only tell it (and its logs) what became of the event.
var (
	ErrMalformed = errors.New("bot: malformed event")
	ErrQueueFull = errors.New("bot: queue full, event kept in storage for later")
	ErrDropped   = errors.New("bot: event dropped")
)

// Reasons an event is not handled, as counted in Stats.Dropped.
const (
	DropMalformed   = "malformed"
	DropBotAuthor   = "bot_author"
	DropDuplicate   = "duplicate"
	DropQueueFull   = "queue_full" // the queue was full and storage could not keep it
	DropRateLimited = "rate_limited"
	DropStorage     = "storage_error"
	DropShutdown    = "shutdown"
)

// Options configure a Bot. Zero values get the defaults noted.
type Options struct {
	Store Store
	// Router and Observers may be given here or, usually, registered after
	// New (Route, Fallback, Observe), so that the features can be built
	// with the core as their Poster.
	Router    *Router
	Observers []Observer
	Logger    *slog.Logger // default slog.Default()
	Clock     Clock        // default SystemClock

	Concurrency     int           // threads handled in parallel, default 32
	QueueSize       int           // events waiting in memory, default 1024
	SeenTTL         time.Duration // how long idempotency keys are kept, default 7 days
	HistoryTurns    int           // earlier turns handed to handlers, default 20
	RatePerMinute   float64       // per-user message rate; 0 = no limit
	RateBurst       int           // per-user burst, default 5
	ShutdownTimeout time.Duration // drain deadline on shutdown, default 10s
	SpillInterval   time.Duration // how often spilled events are retried, default 1s
	// ResumeWindow: at start, events accepted by an earlier run but not
	// finished (killed while being handled) are handled again when younger
	// than this, and logged and dropped when older; default 10m (main
	// passes catchup.window: the same "still worth an answer" age).
	ResumeWindow time.Duration
	// StorageRetry is how long a thread waits before retrying an event
	// whose "seen" mark could not be written (a full disk); default 1s.
	StorageRetry time.Duration

	// Policy returns the policy of a channel; default PolicyMention.
	Policy func(platform, channelID string) string
	// DMsOff stops the bot from answering direct messages.
	DMsOff bool
	// IsQuestion decides, in auto channels, whether a message is a question.
	IsQuestion func(text string) bool
	// Read gives a message addressed to the bot its one primary reading
	// (Event.Reading), which routes match on; nil: no readings.
	Read func(text, lang string) Reading
	// Text returns a community-facing text template in a language.
	Text func(lang, key string) string
	// Metrics receives counts as they happen (Prometheus); optional.
	Metrics Metrics
}

// Stats counts what the core did since it started.
type Stats struct {
	Received   int64            // events accepted by Submit
	Handled    int64            // events that went through the pipeline
	Replies    int64            // replies posted
	SendErrors int64            // replies an adapter failed to post
	Errors     int64            // handler and storage errors
	Spilled    int64            // events kept in storage because the queue was full
	Silenced   int64            // replies withheld because staff own the thread
	Queued     int              // events waiting now
	Dropped    map[string]int64 // events not handled, by reason
}

// Bot is the core: it queues events per thread and runs them through the
// pipeline. Create it with New, register the routes and observers, then
// Run it with the adapters.
type Bot struct {
	opts Options
	log  *slog.Logger

	sem chan struct{} // bounds how many threads are handled at once
	// gate is held shared while an event is processed and exclusively by
	// an Exclusive route (and Exclusive).
	gate sync.RWMutex

	mu        sync.Mutex
	threads   map[string]*threadQueue
	queued    int
	stopping  bool
	inflight  map[string]bool // spilled events queued again, by spill id
	senders   map[string]Sender
	limiters  map[string]*userLimit
	stats     Stats
	drainers  sync.WaitGroup
	cancelRun context.CancelFunc
	runCtx    context.Context
	reclaimer Reclaimer     // may hand a staff-owned thread back when a member writes
	replayed  chan struct{} // a spilled event was handled: look for more at once
	backlog   bool          // events wait in storage: new ones must queue behind them
	// storageDown: the last attempt to record an event as seen failed (a
	// full disk, say). Events wait in memory and are retried; the core
	// counts as saturated until a write succeeds again.
	storageDown bool
	writes      uint64 // events recorded as seen, to tell a full disk from one bad event
	started     bool   // Run was called: the routes and observers are fixed
	// unfinished: events an earlier run accepted and did not finish, read
	// by New for Run to resume.
	unfinished []Event
}

type threadQueue struct {
	events []queued
}

type queued struct {
	ev      Event
	spillID string
	// failed counts the attempts storage refused; writes is the core's
	// count of successful writes at the first refusal (see process).
	failed int
	writes uint64
	// resumed: accepted by an earlier run that did not finish it; it holds
	// its seen mark and history turn already.
	resumed bool
}

type userLimit struct {
	lim      *rate.Limiter
	notified bool
}

// New returns a core with the given options.
func New(opts Options) *Bot {
	if opts.Logger == nil {
		opts.Logger = slog.Default()
	}
	if opts.Clock == nil {
		opts.Clock = SystemClock{}
	}
	if opts.Concurrency <= 0 {
		opts.Concurrency = 32
	}
	if opts.QueueSize <= 0 {
		opts.QueueSize = 1024
	}
	if opts.SeenTTL <= 0 {
		opts.SeenTTL = 7 * 24 * time.Hour
	}
	if opts.HistoryTurns <= 0 {
		opts.HistoryTurns = 20
	}
	if opts.RateBurst <= 0 {
		opts.RateBurst = 5
	}
	if opts.ShutdownTimeout <= 0 {
		opts.ShutdownTimeout = 10 * time.Second
	}
	if opts.SpillInterval <= 0 {
		opts.SpillInterval = time.Second
	}
	if opts.ResumeWindow <= 0 {
		opts.ResumeWindow = 10 * time.Minute
	}
	if opts.StorageRetry <= 0 {
		opts.StorageRetry = time.Second
	}
	if opts.Policy == nil {
		opts.Policy = func(string, string) string { return PolicyMention }
	}
	if opts.IsQuestion == nil {
		opts.IsQuestion = func(string) bool { return false }
	}
	if opts.Text == nil {
		opts.Text = func(_, key string) string { return key }
	}
	if opts.Router == nil {
		opts.Router = NewRouter(nil)
	}
	if opts.Metrics == nil {
		opts.Metrics = nopMetrics{}
	}
	ctx, cancel := context.WithCancel(context.Background())
	b := &Bot{
		opts:      opts,
		log:       opts.Logger,
		sem:       make(chan struct{}, opts.Concurrency),
		threads:   map[string]*threadQueue{},
		inflight:  map[string]bool{},
		senders:   map[string]Sender{},
		limiters:  map[string]*userLimit{},
		stats:     Stats{Dropped: map[string]int64{}},
		runCtx:    ctx,
		cancelRun: cancel,
		replayed:  make(chan struct{}, 1),
	}
	// Read now, before this run accepts anything of its own: Run resumes
	// them (see resume).
	if opts.Store != nil {
		var err error
		if b.unfinished, err = opts.Store.Unfinished(ctx); err != nil {
			b.log.Error("reading events left unfinished by the last run; they are not resumed", "err", err)
		}
	}
	return b
}

// Route adds routes; earlier routes win. Routes and observers are
// registered before Run: the pipeline reads them without a lock.
func (b *Bot) Route(routes ...Route) {
	b.mustNotRun("Route")
	for _, r := range routes {
		b.opts.Router.Add(r)
	}
}

// Fallback sets the handler for events no route matches (the answer from
// the knowledge base).
func (b *Bot) Fallback(h Handler) {
	b.mustNotRun("Fallback")
	b.opts.Router.fallback = h
}

// Reclaim sets who decides, when a member writes in a thread staff own,
// whether the bot takes it back at once and answers (see Reclaimer).
func (b *Bot) Reclaim(r Reclaimer) {
	b.mustNotRun("Reclaim")
	b.reclaimer = r
}

// Observe adds observers, which look at every event (see Observer).
func (b *Bot) Observe(obs ...Observer) {
	b.mustNotRun("Observe")
	b.opts.Observers = append(b.opts.Observers, obs...)
}

// Commands lists the commands of the registered routes, in order, for the
// platforms to register.
func (b *Bot) Commands() []CommandSpec { return b.opts.Router.Commands() }

func (b *Bot) mustNotRun(what string) {
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.started {
		panic("bot: " + what + " called after Run")
	}
}

// Register makes s the sender for replies to events of a platform. Run
// registers its adapters itself; tests and embedders may call it directly.
func (b *Bot) Register(platform string, s Sender) {
	b.mu.Lock()
	defer b.mu.Unlock()
	b.senders[platform] = s
}

// Post sends a message nobody asked for (an alert, an escalation, a status
// update) through the adapter of to.Platform. An empty to.ThreadID posts at
// the top level of the channel; a post into a thread that is not a Notice
// joins the thread's history.
//
// An observer or handler posting into the thread of the event it is
// handling (an acknowledgement) posts after that event's replies: Post
// keeps the reply and returns nil, and the core sends it, as a reply to
// the event, once the route has answered. A send error is then logged,
// not returned.
func (b *Bot) Post(ctx context.Context, to ThreadRef, r Reply) error {
	if h, ok := ctx.Value(heldKey{}).(*held); ok && h.hold(to, r) {
		return nil
	}
	_, err := b.publish(ctx, to, r)
	return err
}

// Publish posts like Post and returns the id of the message posted ("" when
// the adapter cannot tell, see Publisher). It never waits for the replies
// of the event being handled: the id is wanted now.
func (b *Bot) Publish(ctx context.Context, to ThreadRef, r Reply) (string, error) {
	return b.publish(ctx, to, r)
}

// EditMessage changes a message the bot posted in a thread on its platform
// (through the adapter's Editor ability).
func (b *Bot) EditMessage(ctx context.Context, in ThreadRef, messageID string, r Reply) error {
	ed, ok := b.sender(in.Platform).(Editor)
	if !ok {
		return fmt.Errorf("bot: edit on %s: the adapter cannot edit messages", in.Platform)
	}
	if err := ed.Edit(ctx, in, messageID, r); err != nil {
		return fmt.Errorf("bot: edit on %s/%s: %w", in.Platform, in.ChannelID, err)
	}
	return nil
}

// React adds the bot's reaction to a message through the adapter's
// Reactor ability.
func (b *Bot) React(ctx context.Context, in ThreadRef, messageID, emoji string) error {
	r, ok := b.sender(in.Platform).(Reactor)
	if !ok {
		return fmt.Errorf("bot: react on %s: the adapter cannot react", in.Platform)
	}
	if err := r.React(ctx, in, messageID, emoji); err != nil {
		return fmt.Errorf("bot: react on %s/%s: %w", in.Platform, in.ChannelID, err)
	}
	return nil
}

// ForumPost describes a forum post through the adapter's Forums ability;
// ok is false when the thread is no forum post or the platform has no
// forums.
func (b *Bot) ForumPost(ctx context.Context, in ThreadRef) (ForumPost, bool, error) {
	f, ok := b.sender(in.Platform).(Forums)
	if !ok {
		return ForumPost{}, false, nil
	}
	p, ok, err := f.ForumPost(ctx, in)
	if err != nil {
		return p, false, fmt.Errorf("bot: forum post on %s/%s: %w", in.Platform, in.ThreadID, err)
	}
	return p, ok, nil
}

// UpdateForumPost sets a forum post's tags and archives it (Forums).
func (b *Bot) UpdateForumPost(ctx context.Context, in ThreadRef, tags []string, archive bool) error {
	f, ok := b.sender(in.Platform).(Forums)
	if !ok {
		return fmt.Errorf("bot: forum post on %s: the adapter has no forums", in.Platform)
	}
	if err := f.UpdateForumPost(ctx, in, tags, archive); err != nil {
		return fmt.Errorf("bot: update forum post on %s/%s: %w", in.Platform, in.ThreadID, err)
	}
	return nil
}

// DeleteMessage deletes a message the bot posted (through Editor).
func (b *Bot) DeleteMessage(ctx context.Context, in ThreadRef, messageID string) error {
	ed, ok := b.sender(in.Platform).(Editor)
	if !ok {
		return fmt.Errorf("bot: delete on %s: the adapter cannot delete messages", in.Platform)
	}
	if err := ed.Delete(ctx, in, messageID); err != nil {
		return fmt.Errorf("bot: delete on %s/%s: %w", in.Platform, in.ChannelID, err)
	}
	return nil
}

func (b *Bot) publish(ctx context.Context, to ThreadRef, r Reply) (string, error) {
	s := b.sender(to.Platform)
	if s == nil {
		return "", fmt.Errorf("bot: post to %s: no adapter for that platform is running", to.Platform)
	}
	r = r.safeSources() // every adapter shows source links: only http(s)
	var id string
	var err error
	if p, ok := s.(Publisher); ok {
		id, err = p.Publish(ctx, to, r)
	} else {
		err = s.Send(ctx, to, r)
	}
	if err != nil {
		return "", fmt.Errorf("bot: post to %s/%s: %w", to.Platform, to.ChannelID, err)
	}
	b.count(func(st *Stats) { st.Replies++ })
	b.opts.Metrics.ReplySent(to.Platform)
	if to.ThreadID != "" && !r.Notice {
		// The bot spoke in the thread: it belongs in the history (and makes
		// the thread one the bot serves).
		turn := Turn{Role: RoleBot, Text: r.Text, Time: b.opts.Clock.Now(), Sources: r.Sources}
		if r.AuthorName != "" {
			turn.Role, turn.Name = RoleStaff, r.AuthorName
		}
		if err := b.opts.Store.AppendTurn(ctx, to, turn); err != nil {
			b.log.Error("recording a post in thread history", "platform", to.Platform, "channel", to.ChannelID, "err", err)
		}
	}
	return id, nil
}

// DirectMessage sends a reply privately to a person on a platform, through
// the adapter's DirectMessenger ability. It fails when no adapter for the
// platform is running or the adapter cannot send direct messages. Direct
// messages join no thread history.
func (b *Bot) DirectMessage(ctx context.Context, platform, userID string, r Reply) error {
	s := b.sender(platform)
	if s == nil {
		return fmt.Errorf("bot: direct message on %s: no adapter for that platform is running", platform)
	}
	dm, ok := s.(DirectMessenger)
	if !ok {
		return fmt.Errorf("bot: direct message on %s: the adapter cannot send direct messages", platform)
	}
	if err := dm.DirectMessage(ctx, userID, r); err != nil {
		return fmt.Errorf("bot: direct message on %s: %w", platform, err)
	}
	b.count(func(st *Stats) { st.Replies++ })
	b.opts.Metrics.ReplySent(platform)
	return nil
}

// Replay records an event from the past (an imported history) as if it had
// been seen live, without answering anyone: the key is claimed for good (so
// a second import adds nothing), a message joins its thread's history and
// the observers (sentiment, feature requests) run. It reports whether the
// event was new.
func (b *Bot) Replay(ctx context.Context, ev Event) (bool, error) {
	if ev.Key == "" || ev.Platform == "" || ev.ChannelID == "" || (ev.ThreadID == "" && ev.MessageID == "") {
		return false, ErrMalformed
	}
	if ev.User.Bot {
		return false, nil
	}
	ev.Replayed = true
	if ev.Lang == "" {
		ev.Lang = lang.Detect(ev.Text)
	}
	var turn *Turn
	if ev.Kind == KindMessage && ev.Text != "" {
		turn = &Turn{Role: RoleUser, UserID: ev.User.ID, Name: ev.User.Name, Text: ev.Text, Time: ev.Time, MessageID: ev.MessageID, Permalink: ev.Permalink}
	}
	first, err := b.opts.Store.Accept(ctx, ev.Key, 0, ev.Thread(), turn)
	if err != nil || !first {
		return false, err
	}
	var errs []error
	for _, o := range b.opts.Observers {
		if err := o.Observe(ctx, &ev); err != nil {
			errs = append(errs, err)
		}
	}
	return true, errors.Join(errs...)
}

// Stats returns a snapshot of the counters.
func (b *Bot) Stats() Stats {
	b.mu.Lock()
	defer b.mu.Unlock()
	s := b.stats
	s.Queued = b.queued
	s.Dropped = make(map[string]int64, len(b.stats.Dropped))
	for k, v := range b.stats.Dropped {
		s.Dropped[k] = v
	}
	return s
}

// Saturated reports whether the core is behind: the in-memory queue is
// full, events wait in storage (spilled) for room in it, or storage refused
// the last write (events wait in memory for it to come back). New events
// are still accepted while there is room, but /readyz says not ready until
// the backlog is worked off.
func (b *Bot) Saturated() bool {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.queued >= b.opts.QueueSize || b.backlog || b.storageDown
}

func (b *Bot) count(f func(*Stats)) {
	b.mu.Lock()
	f(&b.stats)
	b.mu.Unlock()
}

func (b *Bot) drop(reason string) {
	b.count(func(s *Stats) { s.Dropped[reason]++ })
	b.opts.Metrics.EventDropped(reason)
}

// Run starts the adapters and the spill replay, and blocks until ctx ends.
// Then it waits for the adapters to stop, drains the events in flight
// within the shutdown timeout and keeps whatever is left in storage.
func (b *Bot) Run(ctx context.Context, adapters ...Adapter) error {
	b.mu.Lock()
	b.started = true
	b.mu.Unlock()
	for _, a := range adapters {
		b.Register(a.Platform(), a)
	}
	// Events an earlier run accepted but did not finish go first, before
	// the adapters deliver anything (and before spilled events, which had
	// not been accepted).
	b.resume(ctx)
	// Events kept by an earlier run go next.
	if kept, err := b.opts.Store.Spilled(ctx, 1, nil); err == nil && len(kept) > 0 {
		b.mu.Lock()
		b.backlog = true
		b.mu.Unlock()
	}
	var wg sync.WaitGroup
	errs := make(chan error, len(adapters))
	for _, a := range adapters {
		wg.Add(1)
		go func(a Adapter) {
			defer wg.Done()
			if err := a.Run(ctx, b); err != nil && !errors.Is(err, context.Canceled) {
				b.log.Error("adapter stopped", "platform", a.Platform(), "err", err)
				errs <- fmt.Errorf("%s adapter: %w", a.Platform(), err)
			}
		}(a)
	}
	replayDone := make(chan struct{})
	go func() {
		defer close(replayDone)
		b.replaySpilled(ctx)
	}()
	<-ctx.Done()
	wg.Wait()
	<-replayDone
	b.Shutdown()
	close(errs)
	var all []error
	for err := range errs {
		all = append(all, err)
	}
	return errors.Join(all...)
}

// Shutdown stops accepting events, waits for the queued ones up to the
// shutdown timeout, then cancels what still runs and spills what still waits.
func (b *Bot) Shutdown() {
	b.mu.Lock()
	b.stopping = true
	b.mu.Unlock()
	done := make(chan struct{})
	go func() {
		b.drainers.Wait()
		close(done)
	}()
	select {
	case <-done:
		b.cancelRun()
		return
	case <-time.After(b.opts.ShutdownTimeout):
	}
	b.mu.Lock()
	var left []queued
	for _, t := range b.threads {
		left = append(left, t.events...)
		b.queued -= len(t.events)
		t.events = nil
	}
	b.mu.Unlock()
	b.cancelRun()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	for _, q := range left {
		if q.spillID != "" {
			continue // still in storage
		}
		if err := b.opts.Store.Spill(ctx, q.ev); err != nil {
			b.log.Error("event lost at shutdown", "event", q.ev.Key, "err", err)
			b.drop(DropShutdown)
		}
	}
	b.log.Warn("shutdown deadline passed", "kept_for_next_start", len(left))
	<-done
}

// Submit queues an event. It returns at once; the error says whether the
// event was malformed, kept in storage because the queue is full, or dropped.
func (b *Bot) Submit(ev Event) error {
	if ev.User.Bot {
		b.drop(DropBotAuthor)
		return nil
	}
	if ev.Key == "" || ev.Platform == "" || ev.ChannelID == "" || (ev.ThreadID == "" && ev.MessageID == "") {
		b.drop(DropMalformed)
		b.log.Warn("malformed event skipped", "platform", ev.Platform, "kind", ev.Kind, "key", ev.Key)
		return ErrMalformed
	}
	if ev.Time.IsZero() {
		ev.Time = b.opts.Clock.Now()
	}
	b.opts.Metrics.EventReceived(ev.Platform)
	b.mu.Lock()
	// While kept events wait in storage, new ones queue up behind them
	// there too, so a thread's events are handled in the order they came.
	if b.stopping || b.queued >= b.opts.QueueSize || b.backlog {
		b.mu.Unlock()
		return b.spill(ev)
	}
	b.stats.Received++
	b.enqueueLocked(queued{ev: ev})
	b.mu.Unlock()
	return nil
}

func (b *Bot) spill(ev Event) error {
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if err := b.opts.Store.Spill(ctx, ev); err != nil {
		b.drop(DropQueueFull)
		b.log.Error("queue full and event could not be kept: dropped", "platform", ev.Platform, "channel", ev.ChannelID, "event", ev.Key, "err", err)
		return fmt.Errorf("%w: %v", ErrDropped, err)
	}
	b.count(func(s *Stats) {
		s.Spilled++
		b.backlog = true
	})
	b.log.Warn("queue full: event kept in storage for later", "platform", ev.Platform, "channel", ev.ChannelID, "event", ev.Key)
	return ErrQueueFull
}

func (b *Bot) enqueueLocked(q queued) {
	key := q.ev.Thread().Key()
	t, ok := b.threads[key]
	if !ok {
		t = &threadQueue{}
		b.threads[key] = t
	}
	t.events = append(t.events, q)
	b.queued++
	if !ok {
		b.drainers.Add(1)
		go b.drain(key, t)
	}
}

// drain handles one thread's events in order; it exists while the thread
// has events waiting, so threads proceed in parallel, bounded by sem. An
// event gives its slot back while it waits on the LLM (see Waiting).
func (b *Bot) drain(key string, t *threadQueue) {
	defer b.drainers.Done()
	for {
		b.mu.Lock()
		if len(t.events) == 0 {
			delete(b.threads, key)
			b.mu.Unlock()
			return
		}
		head := t.events[0].ev
		b.mu.Unlock()
		// The gate before a slot: were it the other way round, events
		// holding slots while they wait for an Exclusive route's gate could
		// leave no slot for the events in progress coming back from the
		// LLM, which the Exclusive route waits for.
		unlock := b.enter(head)
		// Take a slot before taking the event, so an event waiting for a
		// slot still counts as queued.
		b.sem <- struct{}{}
		w := &worker{sem: b.sem, held: true}
		b.mu.Lock()
		if len(t.events) == 0 || t.events[0].ev.Key != head.Key {
			// Shutdown took the events to keep them in storage.
			b.mu.Unlock()
			w.end()
			unlock()
			continue
		}
		q := t.events[0]
		t.events = t.events[1:]
		b.queued--
		b.mu.Unlock()

		retry := b.process(context.WithValue(b.runCtx, workerKey{}, w), q)
		w.end()
		unlock()
		if retry {
			// Storage refused the write: the event goes back to the head
			// of its thread and is tried again after a pause, without a
			// worker; the thread's later events wait behind it.
			b.mu.Lock()
			if q.failed == 0 {
				q.writes = b.writes
			}
			q.failed++
			t.events = append([]queued{q}, t.events...)
			b.queued++
			b.mu.Unlock()
			select {
			case <-b.opts.Clock.After(b.opts.StorageRetry):
			case <-b.runCtx.Done():
			}
		}
	}
}

// enter takes the gate for an event: alone for an Exclusive route, shared
// otherwise. It returns the unlock.
func (b *Bot) enter(ev Event) (unlock func()) {
	if b.opts.Router.exclusive(&ev) {
		b.gate.Lock()
		return b.gate.Unlock
	}
	b.gate.RLock()
	return b.gate.RUnlock
}

// replaySpilled moves events kept in storage back into the queue when it
// has room.
func (b *Bot) replaySpilled(ctx context.Context) {
	// The queue is filled up to half its size, once it has drained to a
	// quarter: a read passes over every kept event still in flight (and
	// the deleted ones Badger has not compacted away yet), so reading
	// again for each event handled cost more than the events did.
	high := max(1, b.opts.QueueSize/2)
	low := high / 2
	for {
		b.mu.Lock()
		room := high - b.queued
		if b.queued > low {
			room = 0
		}
		b.mu.Unlock()
		if room > 0 {
			// Kept events being handled stay in storage until done: pass
			// over them rather than read them again each round.
			spilled, err := b.opts.Store.Spilled(ctx, room, b.inFlight)
			if err != nil && ctx.Err() == nil {
				b.log.Error("reading spilled events", "err", err)
			}
			b.mu.Lock()
			for _, s := range spilled {
				if b.inflight[s.ID] || b.stopping {
					continue
				}
				b.inflight[s.ID] = true
				b.enqueueLocked(queued{ev: s.Event, spillID: s.ID})
			}
			if err == nil && len(spilled) == 0 && len(b.inflight) == 0 {
				b.backlog = false // storage holds nothing more: new events may go straight in
			}
			b.mu.Unlock()
		}
		select {
		case <-ctx.Done():
			return
		case <-b.opts.Clock.After(b.opts.SpillInterval):
		case <-b.replayed:
		}
	}
}

// resume queues the events an earlier run accepted (their seen mark and
// history turn are written) but did not finish: it was killed while
// handling them, and their redelivered or caught-up copies are dropped as
// duplicates. Those younger than ResumeWindow are handled once more, in
// their threads' order and ahead of anything new; older ones are logged
// (without their text) and dropped.
func (b *Bot) resume(ctx context.Context) {
	now := b.opts.Clock.Now()
	resumed := 0
	b.mu.Lock()
	defer b.mu.Unlock()
	events := b.unfinished
	b.unfinished = nil
	for _, ev := range events {
		if now.Sub(ev.Time) > b.opts.ResumeWindow {
			b.log.Warn("event left unfinished by the last run is too old to answer now: dropped",
				"platform", ev.Platform, "channel", ev.ChannelID, "thread", ev.Thread().ThreadID, "event", ev.Key, "time", ev.Time)
			if err := b.opts.Store.Finish(ctx, ev.Key); err != nil {
				b.log.Error("forgetting unfinished event", "event", ev.Key, "err", err)
			}
			continue
		}
		resumed++
		b.stats.Received++
		b.enqueueLocked(queued{ev: ev, resumed: true})
	}
	if resumed > 0 {
		b.log.Info("resuming events left unfinished by the last run", "events", resumed)
	}
}

// inFlight reports whether the kept event id is queued or being handled.
func (b *Bot) inFlight(id string) bool {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.inflight[id]
}

// process runs one event through the pipeline. It reports retry when
// storage refused to record the event as seen and the event should be
// tried again later (nothing else happened to it: no adapter was told).
func (b *Bot) process(ctx context.Context, q queued) (retry bool) {
	ev := q.ev
	thread := ev.Thread()
	log := eventLogger{base: b.log, ev: &ev}
	ev.Outcome = OutcomeSilent
	accepted := q.resumed // this event holds an unfinished record to forget
	// unspilled: the write that recorded a kept event as seen also forgot
	// it (the unfinished record took over), so no delete of its own.
	unspilled := false
	defer func() {
		if retry {
			return
		}
		if accepted && ctx.Err() == nil {
			// Done, answered or given up: not resumed at the next start.
			// One cut off by the shutdown deadline is resumed.
			if err := b.opts.Store.Finish(context.WithoutCancel(ctx), ev.Key); err != nil {
				log.Error("forgetting finished event", "err", err)
			}
		}
		if c, ok := b.sender(ev.Platform).(Completer); ok {
			c.Completed(&ev)
		}
	}()
	defer func() {
		if q.spillID == "" || retry {
			return // a retried kept event stays kept and in flight
		}
		// A kept event that could not be recorded stays kept: the next
		// replay tries it again.
		if ev.Outcome != OutcomeFailed && !unspilled {
			if err := b.opts.Store.DeleteSpilled(context.WithoutCancel(ctx), q.spillID); err != nil {
				log.Error("forgetting handled spilled event", "err", err)
			}
		}
		b.mu.Lock()
		delete(b.inflight, q.spillID)
		b.mu.Unlock()
		select {
		case b.replayed <- struct{}{}:
		default:
		}
	}()
	// A panicking handler costs this event, not the process and every
	// event queued behind it.
	defer func() {
		if r := recover(); r != nil {
			log.Error("panic while handling an event", "panic", r, "stack", string(debug.Stack()))
			b.count(func(s *Stats) { s.Errors++ })
			if ev.Outcome == OutcomeSilent {
				ev.Outcome = OutcomeFailed
			}
		}
	}()

	if ev.Lang == "" {
		ev.Lang = lang.Detect(ev.Text)
	}
	var turn *Turn
	if ev.Kind == KindMessage && ev.Text != "" {
		role := RoleUser
		if ev.User.Staff {
			role = RoleStaff
		}
		turn = &Turn{Role: role, UserID: ev.User.ID, Name: ev.User.Name, Text: ev.Text, Time: ev.Time, MessageID: ev.MessageID, Permalink: ev.Permalink}
	}
	if q.resumed {
		b.count(func(s *Stats) { s.Handled++ })
		b.handle(ctx, &ev, thread, turn, true, log)
		return false
	}
	first, err := b.opts.Store.AcceptUnfinished(ctx, ev, q.spillID, b.opts.SeenTTL, turn)
	unspilled = err == nil && q.spillID != ""
	// Without a durable "seen" mark the bot could act twice; it does not
	// act now, and tries again when storage takes writes (a full disk gets
	// room back). An event refused three times while others were recorded
	// is the problem itself, not the disk: it is dropped as before.
	b.mu.Lock()
	alone := q.failed >= 2 && b.writes != q.writes
	b.mu.Unlock()
	if err != nil && ctx.Err() == nil && !alone {
		b.mu.Lock()
		first := !b.storageDown
		b.storageDown = true
		b.mu.Unlock()
		if first {
			b.log.Error("storage refuses writes: events wait in memory and are retried; new ones are refused once the queue is full", "err", err)
		}
		b.count(func(s *Stats) { s.Errors++ })
		return true
	}
	if err != nil {
		// Shutting down, or this event alone cannot be recorded: not handled.
		log.Error("recording event as seen; not handled", "err", err)
		ev.Outcome = OutcomeFailed
		b.drop(DropStorage)
		b.count(func(s *Stats) { s.Errors++ })
		return false
	}
	b.mu.Lock()
	recovered := b.storageDown
	b.storageDown = false
	b.writes++
	b.mu.Unlock()
	if recovered {
		b.log.Warn("storage takes writes again: resuming")
	}
	if !first {
		log.Debug("redelivered event ignored")
		ev.Outcome = OutcomeDuplicate
		b.drop(DropDuplicate)
		return
	}
	accepted = true
	b.count(func(s *Stats) { s.Handled++ })
	b.handle(ctx, &ev, thread, turn, false, log)
	return false
}

// handle runs an accepted event through the handlers and sends its replies.
// resumed: the event was accepted by an earlier run (see resume).
func (b *Bot) handle(ctx context.Context, ev *Event, thread ThreadRef, turn *Turn, resumed bool, log eventLogger) {
	// Read after Accept: that write came after every earlier turn of this
	// thread, so they are all in; the newest turn is this event's own.
	history, err := b.opts.Store.History(ctx, thread, b.opts.HistoryTurns+1)
	if err != nil {
		log.Error("reading thread history", "err", err)
	}
	switch {
	case resumed:
		// Take the event's own turn out of the history. A reply the killed
		// run recorded after it (the thread's events are handled one at a
		// time) means the answer went out: it is not sent again.
		if turn != nil {
			for i := len(history) - 1; i >= 0; i-- {
				if h := history[i]; h.Role == turn.Role && h.MessageID == turn.MessageID && h.Text == turn.Text {
					if servedByBot(history[i+1:]) {
						log.Info("resumed event was answered before the restart: not answered again")
						ev.Outcome = OutcomeAnswered
						return
					}
					history = append(history[:i:i], history[i+1:]...)
					break
				}
			}
		}
		if len(history) > b.opts.HistoryTurns {
			history = history[len(history)-b.opts.HistoryTurns:]
		}
	case turn != nil && len(history) > 0:
		history = history[:len(history)-1]
	case len(history) > b.opts.HistoryTurns:
		history = history[1:]
	}
	ev.History = history
	if ev.Owner, err = b.opts.Store.Owner(ctx, thread); err != nil {
		log.Error("reading thread owner", "err", err)
	}
	if !ev.Owner.Bot() && b.reclaimer != nil && ev.Kind == KindMessage && !ev.User.Staff {
		switch back, err := b.reclaimer.Reclaim(ctx, ev); {
		case err != nil:
			log.Error("asking whether staff's thread comes back to the bot", "err", err)
		case back:
			ev.Owner = Owner{}
		}
	}
	ev.Addressed = b.addressed(ev)
	if ev.Addressed && ev.Kind == KindMessage && b.opts.Read != nil {
		ev.Reading = b.opts.Read(ev.Text, ev.Lang)
	}

	// What observers and handlers post into this thread waits for the
	// route's replies, so an acknowledgement never races the answer.
	later := &held{thread: thread.Key()}
	ctx = context.WithValue(ctx, heldKey{}, later)
	var observed sync.WaitGroup
	if len(b.opts.Observers) > 0 {
		observed.Add(1)
		seen := *ev // observers get their own copy; handlers may change theirs
		go func() {
			defer observed.Done()
			defer func() {
				if r := recover(); r != nil {
					log.Error("panic in an observer", "panic", r, "stack", string(debug.Stack()))
				}
			}()
			for _, o := range b.opts.Observers {
				if err := o.Observe(ctx, &seen); err != nil {
					log.Error("observer failed", "observer", fmt.Sprintf("%T", o), "err", err)
				}
			}
		}()
	}
	replies := b.respond(ctx, ev, log)
	next := b.send(ctx, ev, thread, replies, 0, resumed, log)
	observed.Wait()
	b.send(ctx, ev, thread, later.release(), next, resumed, log)
}

// held keeps the posts into an event's own thread made while the event is
// handled, for the core to send after the event's replies.
type held struct {
	thread string // ThreadRef.Key of the event

	mu       sync.Mutex
	replies  []Reply
	released bool
}

type heldKey struct{}

// hold keeps r when it goes to the event's thread and the event is still
// being handled; else the caller posts it now.
func (h *held) hold(to ThreadRef, r Reply) bool {
	h.mu.Lock()
	defer h.mu.Unlock()
	if h.released || to.Key() != h.thread {
		return false
	}
	h.replies = append(h.replies, r)
	return true
}

// release returns what was held; later posts go out at once.
func (h *held) release() []Reply {
	h.mu.Lock()
	defer h.mu.Unlock()
	h.released = true
	return h.replies
}

// Exclusive runs fn alone, as an Exclusive route runs: after every event in
// progress is done, before any other starts. The admin API's erasure uses it.
func (b *Bot) Exclusive(fn func()) {
	b.gate.Lock()
	defer b.gate.Unlock()
	fn()
}

// addressed decides whether the bot should answer the event at all.
func (b *Bot) addressed(ev *Event) bool {
	switch ev.Kind {
	case KindCommand, KindInteraction:
		return true
	case KindMessage:
	default:
		return false
	}
	if ev.User.Staff && !ev.Mentioned && OthersInThread(ev.History, ev.User.ID) {
		return false // staff talking to someone in a thread are not asking the bot
	}
	if ev.DM {
		return !b.opts.DMsOff
	}
	switch b.opts.Policy(ev.Platform, ev.ChannelID) {
	case PolicyListen:
		return false
	case PolicyAuto:
		if ev.NewTopic || b.opts.IsQuestion(ev.Text) {
			return true
		}
	}
	return ev.Mentioned || servedByBot(ev.History)
}

// OthersInThread reports whether people other than userID wrote in the
// thread: a staff message there is for them, not for the bot.
func OthersInThread(history []Turn, userID string) bool {
	for _, t := range history {
		if t.Role != RoleBot && t.UserID != userID {
			return true
		}
	}
	return false
}

// servedByBot reports whether the bot has answered in the thread before,
// so follow-ups there need no new mention.
func servedByBot(history []Turn) bool {
	for _, t := range history {
		if t.Role == RoleBot {
			return true
		}
	}
	return false
}

func (b *Bot) respond(ctx context.Context, ev *Event, log eventLogger) []Reply {
	route, ok := b.opts.Router.route(ev)
	if !ev.Owner.Bot() && !(ok && route.BypassGate) {
		log.Info("thread owned by staff: staying silent", "owner", ev.Owner.Staff)
		b.count(func(s *Stats) { s.Silenced++ })
		return nil
	}
	if !ev.Addressed {
		return nil
	}
	if !ev.User.Staff && !b.allow(ev) {
		return nil
	}
	if t, ok := b.sender(ev.Platform).(Typer); ok {
		if err := t.Typing(ctx, ev.Thread()); err != nil {
			log.Debug("typing indicator", "err", err)
		}
	}
	start := time.Now()
	// The route found above: nothing since has changed what routes match.
	name, replies, err := b.opts.Router.handle(ctx, ev, route, ok)
	b.opts.Metrics.Handled(name, time.Since(start), err)
	if err != nil {
		log.Error("handler failed", "handler", name, "err", err)
		b.count(func(s *Stats) { s.Errors++ })
		return []Reply{{Text: b.opts.Text(ev.Lang, "error"), Notice: true}}
	}
	return replies
}

// allow applies the per-user rate limit. The first message over the limit
// gets one polite notice (as a reply); the rest of the flood is dropped.
func (b *Bot) allow(ev *Event) bool {
	if b.opts.RatePerMinute <= 0 {
		return true
	}
	now := b.opts.Clock.Now()
	key := ev.Platform + "/" + ev.User.ID
	b.mu.Lock()
	l, ok := b.limiters[key]
	if !ok {
		if len(b.limiters) > 10000 {
			b.pruneLimitersLocked(now)
		}
		l = &userLimit{lim: rate.NewLimiter(rate.Limit(b.opts.RatePerMinute/60), b.opts.RateBurst)}
		b.limiters[key] = l
	}
	allowed := l.lim.AllowN(now, 1)
	notify := false
	if allowed {
		l.notified = false
	} else if !l.notified {
		l.notified = true
		notify = true
	}
	b.mu.Unlock()
	if !allowed {
		b.drop(DropRateLimited)
	}
	if notify {
		b.send(context.Background(), ev, ev.Thread(), []Reply{{Text: b.opts.Text(ev.Lang, "rate_limited"), Notice: true}}, 0, false, eventLogger{b.log, ev})
	}
	return allowed
}

func (b *Bot) pruneLimitersLocked(now time.Time) {
	for k, l := range b.limiters {
		if l.lim.TokensAt(now) >= float64(b.opts.RateBurst) {
			delete(b.limiters, k)
		}
	}
}

func (b *Bot) sender(platform string) Sender {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.senders[platform]
}

// send posts the replies and records them in the thread's history.
//
// The replies are numbered from part on (Reply.Part), and send returns the
// number after the last, so every reply of an event has its own number in
// every run. For a resumed event an adapter with the Resender ability posts
// only what the platform does not show yet.
func (b *Bot) send(ctx context.Context, ev *Event, thread ThreadRef, replies []Reply, part int, resumed bool, log eventLogger) int {
	if len(replies) == 0 {
		return part
	}
	s := b.sender(ev.Platform)
	if s == nil {
		log.Error("no adapter for platform: replies not sent", "replies", len(replies))
		b.count(func(st *Stats) { st.SendErrors += int64(len(replies)) })
		return part + len(replies)
	}
	post := s.Send
	if rs, ok := s.(Resender); ok && resumed {
		post = rs.Resend
	}
	for _, r := range replies {
		r.ReplyTo = ev.Key
		r.Part = part
		part++
		r = r.safeSources() // every adapter shows source links: only http(s)
		if err := post(ctx, thread, r); err != nil {
			log.Error("sending reply", "err", err)
			b.count(func(st *Stats) { st.SendErrors++ })
			continue
		}
		b.count(func(st *Stats) { st.Replies++ })
		b.opts.Metrics.ReplySent(ev.Platform)
		ev.Outcome = OutcomeAnswered
		if r.Notice {
			continue
		}
		turn := Turn{Role: RoleBot, Text: r.Text, Time: b.opts.Clock.Now(), Sources: r.Sources}
		if err := b.opts.Store.AppendTurn(ctx, thread, turn); err != nil {
			log.Error("recording reply in thread history", "err", err)
		}
	}
	return part
}

// eventLogger logs with the event's platform, channel, thread and key. It
// adds them only when a line is written: most events log nothing, and
// slog.Logger.With would allocate for every one.
type eventLogger struct {
	base *slog.Logger
	ev   *Event
}

func (l eventLogger) log(level slog.Level, msg string, args ...any) {
	ctx := context.Background()
	if !l.base.Enabled(ctx, level) {
		return
	}
	attrs := append([]any{"platform", l.ev.Platform, "channel", l.ev.ChannelID, "thread", l.ev.Thread().ThreadID, "event", l.ev.Key}, args...)
	l.base.Log(ctx, level, msg, attrs...)
}

func (l eventLogger) Debug(msg string, args ...any) { l.log(slog.LevelDebug, msg, args...) }
func (l eventLogger) Info(msg string, args ...any)  { l.log(slog.LevelInfo, msg, args...) }
func (l eventLogger) Error(msg string, args ...any) { l.log(slog.LevelError, msg, args...) }

type nopMetrics struct{}

func (nopMetrics) EventReceived(string)                 {}
func (nopMetrics) ReplySent(string)                     {}
func (nopMetrics) EventDropped(string)                  {}
func (nopMetrics) Handled(string, time.Duration, error) {}
