// Package inbox is the research inbox: feature requests from the community
// reach the product team. An observer checks every human message with an
// injected detector; requests, and messages people forward by hand (the
// "Send to research inbox" message command and shortcut, a reaction, or
// /feedback), become items, or a mention and a vote on a matching open
// item. Staff move items through a status workflow; each change is posted
// once in every thread the request came from (within a daily cap per
// channel), sent as one direct message to each person who asked and opted
// in with /notify on, and sent to outgoing webhooks.
package inbox

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"slices"
	"strings"
	"sync"
	"time"

	lru "github.com/hashicorp/golang-lru/v2"

	"github.com/einsatz/einsatz/bot"
	"github.com/einsatz/einsatz/bot/lang"
	"github.com/einsatz/einsatz/bot/request"
)

// transitions says which statuses an item may move to from each status.
// Closed items can be reopened (a decline reconsidered, a shipped feature
// that needs more work); duplicate is reached only by merging, not_request
// only by MarkNotRequest (which tells nobody), and a maybe leaves its state
// only through ConfirmMaybe or MarkNotRequest.
var transitions = map[string][]string{
	request.StatusNew:         {request.StatusUnderReview, request.StatusPlanned, request.StatusInProgress, request.StatusShipped, request.StatusDeclined},
	request.StatusUnderReview: {request.StatusNew, request.StatusPlanned, request.StatusInProgress, request.StatusShipped, request.StatusDeclined},
	request.StatusPlanned:     {request.StatusUnderReview, request.StatusInProgress, request.StatusShipped, request.StatusDeclined},
	request.StatusInProgress:  {request.StatusPlanned, request.StatusShipped, request.StatusDeclined},
	request.StatusShipped:     {request.StatusInProgress},
	request.StatusDeclined:    {request.StatusUnderReview, request.StatusPlanned},
	request.StatusDuplicate:   {},
	request.StatusNotRequest:  {}, // only back to new, through RestoreRequest
	request.StatusMaybe:       {}, // only through ConfirmMaybe (new) or MarkNotRequest
}

// CanMove reports whether an item may go from one status to another.
func CanMove(from, to string) bool { return slices.Contains(transitions[from], to) }

// ValidStatus reports whether s names a status.
func ValidStatus(s string) bool { return slices.Contains(request.Statuses, s) }

// Open reports whether items in the status still collect requests.
func Open(status string) bool {
	return status != request.StatusShipped && status != request.StatusDeclined && status != request.StatusDuplicate &&
		status != request.StatusNotRequest && status != request.StatusMaybe
}

// Errors for expected states (a missing item is request.ErrNotFound).
var (
	ErrBadStatus    = errors.New("inbox: status change not allowed")
	ErrMergeSelf    = errors.New("inbox: cannot merge an item into itself")
	ErrMergeClosed  = errors.New("inbox: cannot merge into a duplicate")
	ErrEmptyRequest = errors.New("inbox: empty request")
	ErrBadEdit      = errors.New("inbox: edit not allowed")
)

// Owners says who owns a thread (staff-owned threads get no status posts);
// storage.Store implements it.
type Owners interface {
	Owner(ctx context.Context, thread bot.ThreadRef) (bot.Owner, error)
}

// Options configure the inbox.
type Options struct {
	Store request.Store
	// Owners says who owns a thread; nil: nobody owns any (a CLI
	// without a server posts nothing anyway).
	Owners Owners
	Poster bot.Poster // nil: no acknowledgements or status posts (CLI without a server)
	Clock  bot.Clock
	Logger *slog.Logger
	// Text returns community-facing texts; "" falls back to the built-in
	// English and German defaults (see DefaultText).
	Text func(lang, key string) string
	// DirectMessenger, when set, tells people who opted in (/notify on) of
	// status changes of items they asked for, privately; nil: no DMs.
	DirectMessenger bot.DirectPoster

	// Detect scores a message as a feature request (0…1); nil: no detection.
	Detect    func(text, lang string) float64
	Threshold float64 // default 0.5
	// AutoFile is the score from which a detected request is filed (and
	// thanked); one scoring from Threshold up to it is kept as a maybe
	// for staff to confirm (maybe.go). Default (0) and anything below
	// Threshold: Threshold, so every detected request is filed.
	AutoFile float64
	// Confirm, when set, decides borderline messages (score within
	// Borderline below Threshold) and writes titles; nil: off.
	Confirm    Confirmer
	Borderline float64 // default 0.15
	// Sentiment scores a mention (-1…1); nil: 0.
	Sentiment func(text, lang string) float64
	// Similar is the similarity (0…1) at which a request joins an open
	// item instead of opening a new one; default 0.5.
	Similar float64
	// Embed, when set (llm.embedding_model), also matches by meaning: a
	// request whose words match no open item joins the item whose title or
	// mention embedding is at least SimilarEmbedding (cosine) close to its
	// own. nil: words only. A failing Embed falls back to words.
	Embed            func(ctx context.Context, texts []string) ([][]float32, error)
	SimilarEmbedding float64 // default 0.8

	Acknowledge   *bool  // post an acknowledgement in the thread; default true
	ReactionEmoji string // reaction that forwards a message; default "💡"
	// Quiet, when set, names channels where requests are recorded without
	// an acknowledgement (listen-only channels).
	Quiet func(platform, channelID string) bool
	// DailyCapPerChannel bounds status posts per channel per day (UTC);
	// default 20, negative: no posts.
	DailyCapPerChannel int

	// Notifiers hear of new items, votes and status changes (outgoing
	// webhooks, adapters/webhook), in the background.
	Notifiers []Notifier
}

// Service is the research inbox.
type Service struct {
	o     Options
	ack   bool
	seen  *lru.Cache[string, seenMessage] // recent messages, for reactions that carry no text
	hooks hookQueue

	mu sync.Mutex // orders match-then-file, so one request does not open two items

	idx       *index     // the open items' words, for matching (index.go)
	idxMu     sync.Mutex // orders loading the index against updates to it
	idxLoaded bool       // under idxMu

	vecMu sync.Mutex
	vecs  map[[32]byte][]float32 // embeddings by SHA-256 of the text (no text kept in memory); under vecMu

	searchMu sync.Mutex
	search   *searchIndex // full-text search (search.go), made at the first search; under searchMu
}

type seenMessage struct {
	User      bot.User
	Text      string
	Lang      string
	Permalink string
	Time      time.Time
	Thread    string
}

// New returns the inbox service. Call Close when done, so webhook
// deliveries in flight finish.
func New(o Options) *Service {
	if o.Clock == nil {
		o.Clock = bot.SystemClock{}
	}
	if o.Logger == nil {
		o.Logger = slog.Default()
	}
	if o.Threshold <= 0 {
		o.Threshold = 0.5
	}
	if o.AutoFile < o.Threshold {
		o.AutoFile = o.Threshold
	}
	if o.Borderline <= 0 {
		o.Borderline = 0.15
	}
	if o.Similar <= 0 {
		o.Similar = 0.5
	}
	if o.SimilarEmbedding <= 0 {
		o.SimilarEmbedding = 0.8
	}
	if o.ReactionEmoji == "" {
		o.ReactionEmoji = "💡"
	}
	if o.DailyCapPerChannel == 0 {
		o.DailyCapPerChannel = 20
	}
	seen, _ := lru.New[string, seenMessage](4096)
	s := &Service{o: o, ack: o.Acknowledge == nil || *o.Acknowledge, seen: seen, idx: newIndex()}
	s.hooks.init()
	if sh, ok := o.Store.(sharedStore); ok {
		sh.OnChange(s.changed)
	}
	return s
}

// Close waits for notifications in flight (each gives up after its
// tries) and stops new ones.
func (s *Service) Close() {
	s.hooks.close()
	s.dropSearch()
}

// Flush waits until every notification queued so far has finished.
func (s *Service) Flush() { s.hooks.wait() }

// Actions and commands the inbox answers.
const (
	ActionVote      = "inbox_vote"
	CommandForward  = "forward"
	CommandFeedback = "feedback"
	CommandNotify   = "notify"
)

// Routes are the inbox's commands and its +1 button. Forwarding, /feedback,
// /notify and voting are explicit actions, so they run in staff-owned
// threads too; their replies there are short notices for the person who
// acted. The
// reaction is handled in Observe (the core routes no reactions).
func (s *Service) Routes() []bot.Route {
	return []bot.Route{
		{Name: "inbox-forward", Match: bot.Command(CommandForward), Handler: bot.HandlerFunc(s.forwardCmd), BypassGate: true,
			Spec: &bot.CommandSpec{Name: CommandForward, Description: "Send a message to the research inbox", Private: true}},
		{Name: "inbox-feedback", Match: bot.Command(CommandFeedback), Handler: bot.HandlerFunc(s.feedbackCmd), BypassGate: true,
			Spec: &bot.CommandSpec{Name: CommandFeedback, Description: "Suggest a feature or send an idea to the product team",
				ArgName: "text", ArgHelp: "Your idea"}},
		{Name: "inbox-notify", Match: bot.Command(CommandNotify), Handler: bot.HandlerFunc(s.notifyCmd), BypassGate: true,
			Spec: &bot.CommandSpec{Name: CommandNotify, Description: "Get a direct message when a feature request you asked for changes status",
				ArgName: "on_or_off", ArgHelp: "on or off", Private: true}},
		{Name: "inbox-vote", Match: bot.Action(ActionVote), Handler: bot.HandlerFunc(s.voteButton), BypassGate: true},
		// A message to the bot read as a feature request is filed here, and
		// thanked: its one response.
		{Name: "inbox-request", Match: bot.Reads(bot.ReadingRequest), Handler: bot.HandlerFunc(s.request)},
	}
}

// request files a message the core read as a feature request and thanks
// the person (the acknowledgement is the message's one reply).
func (s *Service) request(ctx context.Context, ev *bot.Event) ([]bot.Reply, error) {
	text := strings.TrimSpace(ev.Text)
	thread := ev.Thread()
	m := s.mention(ev.Platform, ev.ChannelID, thread.ThreadID, ev.MessageID, ev.User, text, ev.Permalink, ev.Time, ev.Lang, request.SourceDetected)
	if s.o.Detect != nil && s.o.Detect(text, ev.Lang) < s.o.AutoFile {
		// Borderline: kept for staff to confirm, and no thanks.
		return nil, s.fileMaybe(ctx, m)
	}
	res, err := s.Submit(ctx, m, nil)
	if err != nil || !res.Added {
		return nil, err
	}
	if !s.ack || ev.Replayed || (s.o.Quiet != nil && s.o.Quiet(ev.Platform, ev.ChannelID)) {
		return nil, nil
	}
	return []bot.Reply{s.ackReply(ev.Lang, res.Item)}, nil
}

func (s *Service) text(lang, key string, vars ...string) string {
	t := ""
	if s.o.Text != nil {
		t = s.o.Text(lang, key)
	}
	if t == "" || t == key {
		t = DefaultText(lang, key)
	}
	return strings.NewReplacer(vars...).Replace(t)
}

// Observe checks every human message for a feature request and forwards
// messages people react to with the inbox emoji.
func (s *Service) Observe(ctx context.Context, ev *bot.Event) error {
	if ev.User.Bot {
		return nil
	}
	switch ev.Kind {
	case bot.KindReaction:
		if ev.Removed || !s.isInboxReaction(ev.Reaction) {
			return nil
		}
		return s.forwardReaction(ctx, ev)
	case bot.KindMessage:
	default:
		return nil
	}
	text := strings.TrimSpace(ev.Text)
	if text == "" {
		return nil
	}
	thread := ev.Thread()
	s.seen.Add(messageKey(ev.Platform, ev.ChannelID, ev.MessageID), seenMessage{User: ev.User, Text: text, Lang: ev.Lang,
		Permalink: ev.Permalink, Time: ev.Time, Thread: thread.ThreadID})
	// Staff talking about features are not community requests.
	if ev.User.Staff || s.o.Detect == nil {
		return nil
	}
	// A message to the bot has one reading, and the router gives it its one
	// response: the "inbox-request" route files what reads as a request,
	// nothing else is filed. (In staff-owned threads the router is silent,
	// so requests there are still filed here, unacknowledged.)
	if ev.Reading != "" && ev.Owner.Bot() {
		return nil
	}
	score := s.o.Detect(text, ev.Lang)
	var conf *Confirmation
	if score < s.o.Threshold {
		if s.o.Confirm == nil || score < s.o.Threshold-s.o.Borderline {
			return nil
		}
		c, err := s.o.Confirm.Confirm(ctx, text, ev.Lang)
		if err != nil {
			s.o.Logger.Warn("inbox: confirming a borderline request failed; skipped", "platform", ev.Platform, "channel", ev.ChannelID, "err", err)
			return nil
		}
		if !c.FeatureRequest {
			return nil
		}
		conf = &c
	}
	m := s.mention(ev.Platform, ev.ChannelID, thread.ThreadID, ev.MessageID, ev.User, text, ev.Permalink, ev.Time, ev.Lang, request.SourceDetected)
	if conf == nil && score < s.o.AutoFile {
		// Borderline: kept for staff to confirm, and no thanks. (A
		// message the LLM confirmed is filed.)
		return s.fileMaybe(ctx, m)
	}
	res, err := s.Submit(ctx, m, conf)
	if err != nil || !res.Added {
		return err
	}
	// No acknowledgement in staff-owned threads, quiet channels, or for
	// imported history (nobody is waiting for an answer).
	if !s.ack || !ev.Owner.Bot() || ev.Replayed || (s.o.Quiet != nil && s.o.Quiet(ev.Platform, ev.ChannelID)) || s.o.Poster == nil {
		return nil
	}
	return s.o.Poster.Post(ctx, thread, s.ackReply(ev.Lang, res.Item))
}

func messageKey(platform, channel, id string) string { return platform + "/" + channel + "/" + id }

func (s *Service) isInboxReaction(r string) bool { return bot.SameEmoji(r, s.o.ReactionEmoji) }

func (s *Service) mention(platform, channel, thread, msgID string, u bot.User, text, link string, at time.Time, lang, source string) request.Mention {
	m := request.Mention{Platform: platform, Channel: channel, Thread: thread, MessageID: msgID, UserID: u.ID, UserName: u.Name,
		Text: text, Permalink: link, Time: at, Lang: lang, Source: source}
	if m.Time.IsZero() {
		m.Time = s.o.Clock.Now()
	}
	if s.o.Sentiment != nil {
		m.Sentiment = s.o.Sentiment(text, lang)
	}
	return m
}

// Result is what became of a request.
type Result struct {
	Item    request.Item
	Created bool   // a new item
	Added   bool   // false: this message was in the inbox already
	Voted   bool   // the person's vote was counted
	Lang    string // of the request, for the acknowledgement
}

// Submit files a request: a mention and vote on the best-matching open
// item, or a new item. conf (optional) carries an LLM's title and summary.
func (s *Service) Submit(ctx context.Context, m request.Mention, conf *Confirmation) (Result, error) {
	if strings.TrimSpace(m.Text) == "" {
		return Result{}, ErrEmptyRequest
	}
	if err := s.loadIndex(ctx); err != nil {
		return Result{}, err
	}
	// Matching by meaning asks the embeddings endpoint: outside the lock,
	// and only when the words match no open item.
	embID, embScore := 0, 0.0
	if _, score := s.idx.best(m.Text); score < s.o.Similar && s.o.Embed != nil {
		id, es, err := s.matchEmbedded(ctx, m.Text)
		switch {
		case err != nil:
			s.o.Logger.Warn("inbox: embedding the request failed; matching by words only", "err", err)
		case id != 0 && es >= s.o.SimilarEmbedding:
			embID, embScore = id, max(es, s.o.Similar)
		}
	}
	// Match and file under one lock, so two people asking at once for a
	// new thing open one item, not two. Nothing in here waits on the network.
	s.mu.Lock()
	defer s.mu.Unlock()
	vote := request.Vote{Platform: m.Platform, UserID: m.UserID, Name: m.UserName, Time: m.Time}
	bestID, score := s.idx.best(m.Text)
	if score < s.o.Similar && embID != 0 {
		bestID, score = embID, embScore
	}
	if bestID != 0 && score >= s.o.Similar {
		it, added, voted, err := s.o.Store.AddMention(ctx, bestID, m, vote)
		if err != nil {
			return Result{}, fmt.Errorf("inbox: add mention to #%d: %w", bestID, err)
		}
		if added {
			s.indexAdd(it.ID, m.Text)
			s.o.Logger.Info("inbox: request joined an item", "item", it.ID, "similarity", score, "platform", m.Platform, "channel", m.Channel)
		}
		if voted {
			s.hook(EventVote, it, &m, &vote, nil)
		}
		return Result{Item: it, Added: added, Voted: voted}, nil
	}
	now := s.o.Clock.Now()
	it := request.Item{Title: request.Title(m.Text), Summary: request.Summary(m.Text), Status: request.StatusNew, Created: now, Updated: now}
	if conf != nil {
		if t := strings.TrimSpace(conf.Title); t != "" {
			it.Title = lang.Excerpt(t, 120)
		}
		if sm := strings.TrimSpace(conf.Summary); sm != "" {
			it.Summary = lang.Excerpt(sm, 600)
		}
	}
	it, created, err := s.o.Store.Create(ctx, it, m, vote)
	if err != nil {
		return Result{}, fmt.Errorf("inbox: new item: %w", err)
	}
	if created {
		s.indexPut(it)
		s.o.Logger.Info("inbox: new item", "item", it.ID, "platform", m.Platform, "channel", m.Channel)
		s.hook(EventNew, it, &m, &vote, nil)
	}
	return Result{Item: it, Created: created, Added: created, Voted: created}, nil
}

// ackReply thanks the person and offers the +1 button.
func (s *Service) ackReply(lang string, it request.Item) bot.Reply {
	others := max(it.VoteCount-1, 0)
	key := "feature_ack"
	if others > 0 {
		key = "feature_ack_others"
	}
	return bot.Reply{
		Text:    s.text(lang, key, "{id}", fmt.Sprint(it.ID), "{others}", fmt.Sprint(others)),
		Buttons: []bot.Button{{Label: s.text(lang, "feature_vote_button"), Action: ActionVote, Value: fmt.Sprint(it.ID)}},
	}
}

// targetThread is the thread of the message a command or reaction points at.
func targetThread(ev *bot.Event) bot.ThreadRef {
	t := bot.ThreadRef{Platform: ev.Platform, ChannelID: ev.ChannelID}
	if ev.Target == nil {
		return ev.Thread()
	}
	if ev.Target.ChannelID != "" {
		t.ChannelID = ev.Target.ChannelID
	}
	t.ThreadID = ev.Target.ThreadID
	if t.ThreadID == "" {
		t.ThreadID = ev.Target.ID
	}
	return t
}

// resolveTarget fills in the text and author of the message an event
// points at: from the event, from the messages seen lately, or from the
// thread's history.
func (s *Service) resolveTarget(ev *bot.Event) (bot.Message, bool) {
	if ev.Target == nil || ev.Target.ID == "" {
		return bot.Message{}, false
	}
	t := *ev.Target
	if t.ChannelID == "" {
		t.ChannelID = ev.ChannelID
	}
	if seen, ok := s.seen.Get(messageKey(ev.Platform, t.ChannelID, t.ID)); ok {
		if strings.TrimSpace(t.Text) == "" {
			t.Text = seen.Text
		}
		if t.User.ID == "" {
			t.User = seen.User
		}
		if t.Permalink == "" {
			t.Permalink = seen.Permalink
		}
		if t.Time.IsZero() {
			t.Time = seen.Time
		}
	}
	if strings.TrimSpace(t.Text) == "" {
		// The history has no message ids: the thread's first turn is its
		// starter message; otherwise the author's latest turn.
		root := t.ThreadID == "" || t.ThreadID == t.ID
		for i := range ev.History {
			turn := ev.History[i]
			if root && turn.Role != bot.RoleBot {
				t.Text, t.User.ID, t.User.Name = turn.Text, turn.UserID, turn.Name
				break
			}
		}
		if t.Text == "" && t.User.ID != "" {
			for i := len(ev.History) - 1; i >= 0; i-- {
				if turn := ev.History[i]; turn.UserID == t.User.ID {
					t.Text = turn.Text
					break
				}
			}
		}
	}
	t.Text = strings.TrimSpace(t.Text)
	return t, t.Text != ""
}

// forward files the message an event points at; the forwarder's vote
// stands in when the author is unknown.
func (s *Service) forward(ctx context.Context, ev *bot.Event) (Result, bot.ThreadRef, error) {
	t, ok := s.resolveTarget(ev)
	if !ok {
		return Result{}, bot.ThreadRef{}, ErrEmptyRequest
	}
	thread := targetThread(ev)
	author := t.User
	if author.ID == "" {
		author = ev.User
	}
	author.Platform = ev.Platform
	lang := ev.Lang
	if seen, ok := s.seen.Get(messageKey(ev.Platform, thread.ChannelID, t.ID)); ok && seen.Lang != "" {
		lang = seen.Lang
	}
	m := s.mention(ev.Platform, thread.ChannelID, thread.ThreadID, t.ID, author, t.Text, t.Permalink, t.Time, lang, request.SourceForwarded)
	if author.ID != ev.User.ID {
		m.By = ev.User.DisplayName()
	}
	res, err := s.Submit(ctx, m, nil)
	res.Lang = m.Lang
	return res, thread, err
}

// forwardReaction files a message someone reacted to with the inbox emoji.
func (s *Service) forwardReaction(ctx context.Context, ev *bot.Event) error {
	res, thread, err := s.forward(ctx, ev)
	if errors.Is(err, ErrEmptyRequest) {
		s.o.Logger.Info("inbox: reaction on a message whose text is unknown; not forwarded", "platform", ev.Platform, "channel", ev.ChannelID)
		return nil
	}
	if err != nil || !res.Added {
		return err
	}
	return s.postAck(ctx, thread, res.Lang, res.Item)
}

// postAck acknowledges in a thread the bot serves.
func (s *Service) postAck(ctx context.Context, thread bot.ThreadRef, lang string, it request.Item) error {
	if !s.ack || s.o.Poster == nil || (s.o.Quiet != nil && s.o.Quiet(thread.Platform, thread.ChannelID)) {
		return nil
	}
	owner, err := s.owner(ctx, thread)
	if err != nil || !owner.Bot() {
		return err
	}
	return s.o.Poster.Post(ctx, thread, s.ackReply(lang, it))
}

func (s *Service) forwardCmd(ctx context.Context, ev *bot.Event) ([]bot.Reply, error) {
	res, thread, err := s.forward(ctx, ev)
	if errors.Is(err, ErrEmptyRequest) {
		return []bot.Reply{{Text: s.text(ev.Lang, "feature_forward_empty"), Notice: true}}, nil
	}
	if err != nil {
		return nil, err
	}
	id := fmt.Sprint(res.Item.ID)
	if !res.Added {
		return []bot.Reply{{Text: s.text(ev.Lang, "feature_forwarded_already", "{id}", id), Notice: true}}, nil
	}
	if thread == ev.Thread() && ev.Owner.Bot() && s.ack {
		// The command answers in the message's own thread (Slack): the
		// acknowledgement is the answer.
		return []bot.Reply{s.ackReply(ev.Lang, res.Item)}, nil
	}
	if err := s.postAck(ctx, thread, res.Lang, res.Item); err != nil {
		s.o.Logger.Error("inbox: acknowledge forwarded message", "platform", thread.Platform, "channel", thread.ChannelID, "err", err)
	}
	return []bot.Reply{{Text: s.text(ev.Lang, "feature_forwarded", "{id}", id), Notice: true}}, nil
}

func (s *Service) feedbackCmd(ctx context.Context, ev *bot.Event) ([]bot.Reply, error) {
	text := strings.TrimSpace(ev.Args)
	if text == "" {
		return []bot.Reply{{Text: s.text(ev.Lang, "feedback_empty"), Notice: true}}, nil
	}
	msgID := ev.MessageID
	if msgID == "" {
		msgID = ev.Key
	}
	m := s.mention(ev.Platform, ev.ChannelID, ev.ThreadID, msgID, ev.User, text, ev.Permalink, ev.Time, ev.Lang, request.SourceFeedback)
	res, err := s.Submit(ctx, m, nil)
	if err != nil {
		return nil, err
	}
	r := s.ackReply(ev.Lang, res.Item)
	if !ev.Owner.Bot() {
		// Staff own the thread: a short notice for the person, no button.
		r = bot.Reply{Text: s.text(ev.Lang, "feature_forwarded", "{id}", fmt.Sprint(res.Item.ID)), Notice: true}
	}
	return []bot.Reply{r}, nil
}

func (s *Service) voteButton(ctx context.Context, ev *bot.Event) ([]bot.Reply, error) {
	var id int
	if _, err := fmt.Sscan(ev.Value, &id); err != nil || id <= 0 {
		return nil, fmt.Errorf("inbox: vote button with value %q", ev.Value)
	}
	v := request.Vote{Platform: ev.Platform, UserID: ev.User.ID, Name: ev.User.Name, Time: s.o.Clock.Now()}
	it, voted, err := s.Vote(ctx, id, v)
	if errors.Is(err, request.ErrNotFound) {
		return []bot.Reply{{Text: s.text(ev.Lang, "feature_vote_gone", "{id}", ev.Value), Notice: true}}, nil
	}
	if err != nil {
		return nil, err
	}
	key := "feature_voted"
	if !voted {
		key = "feature_voted_already"
	}
	return []bot.Reply{{Text: s.text(ev.Lang, key, "{id}", fmt.Sprint(it.ID), "{votes}", fmt.Sprint(it.VoteCount)), Notice: true}}, nil
}

// Vote counts a person's +1 (once per item). A vote for a duplicate goes
// to the item it was merged into.
func (s *Service) Vote(ctx context.Context, id int, v request.Vote) (request.Item, bool, error) {
	for range 5 {
		it, err := s.o.Store.Item(ctx, id)
		if err != nil {
			return request.Item{}, false, err
		}
		if it.Status == request.StatusDuplicate && it.DuplicateOf > 0 {
			id = it.DuplicateOf
			continue
		}
		break
	}
	it, voted, err := s.o.Store.Vote(ctx, id, v)
	if err != nil {
		return request.Item{}, false, err
	}
	if voted {
		s.hook(EventVote, it, nil, &v, nil)
	}
	return it, voted, nil
}

// owner says who owns a thread; without Owners nobody does.
func (s *Service) owner(ctx context.Context, thread bot.ThreadRef) (bot.Owner, error) {
	if s.o.Owners == nil {
		return bot.Owner{}, nil
	}
	return s.o.Owners.Owner(ctx, thread)
}
