package discord_test

import (
	"bytes"
	"context"
	"fmt"
	"log/slog"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/einsatz/einsatz/adapters/discord"
	"github.com/einsatz/einsatz/adapters/discord/discordtest"
	"github.com/einsatz/einsatz/bot"
	"github.com/einsatz/einsatz/storage"
)

// env is a real bot.Bot with in-memory storage, an echo handler and the
// Discord adapter connected to a fake Discord.
type env struct {
	t       *testing.T
	srv     *discordtest.Server
	core    *bot.Bot
	adapter *discord.Adapter
	logs    *syncBuffer
	general string // a text channel with policy "mention"

	mu       sync.Mutex
	observed []bot.Event
	handled  []bot.Event
}

type envOptions struct {
	fake     discordtest.Options
	policy   map[string]string // channel id -> policy, set after channels exist
	token    string
	channels func(srv *discordtest.Server) map[string]string
	dmsOff   bool // bot.Options.DMsOff
}

type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

const longCode = 120 // lines in the code block of the long answer

// echo answers what it got, with how many earlier turns it saw.
func (e *env) echo(ctx context.Context, ev *bot.Event) ([]bot.Reply, error) {
	e.mu.Lock()
	e.handled = append(e.handled, *ev)
	e.mu.Unlock()
	switch ev.Kind {
	case bot.KindCommand:
		if ev.Command == "ask" {
			time.Sleep(300 * time.Millisecond) // longer than the fake's deadline: the deferral must come first
		}
		if ev.Command == "quiet" {
			return nil, nil
		}
		if ev.Target != nil {
			return []bot.Reply{{Text: fmt.Sprintf("%s: %q by %s", ev.Command, ev.Target.Text, ev.Target.User.Name)}}, nil
		}
		return []bot.Reply{{Text: fmt.Sprintf("command %s: %s", ev.Command, ev.Args)}}, nil
	case bot.KindInteraction:
		return []bot.Reply{{Text: fmt.Sprintf("clicked %s=%s", ev.Action, ev.Value), Notice: true}}, nil
	}
	if strings.Contains(ev.Text, "long") {
		var b strings.Builder
		b.WriteString("Here is the whole configuration.\n\n")
		for i := range 30 {
			fmt.Fprintf(&b, "Paragraph %d explains one more detail of the setup in a sentence.\n\n", i)
		}
		b.WriteString("```yaml\n")
		for i := range longCode {
			fmt.Fprintf(&b, "key_%03d: value number %03d with some padding text\n", i, i)
		}
		b.WriteString("```\nThat is all.")
		return []bot.Reply{{Text: b.String()}}, nil
	}
	return []bot.Reply{{
		Text:    fmt.Sprintf("echo: %s (history %d)", ev.Text, len(ev.History)),
		Sources: []bot.Source{{Title: "Guide", URL: "https://example.org/guide"}},
		Buttons: []bot.Button{{Label: "Helpful", Action: "vote", Value: "up"}, {Label: "Not helpful", Action: "vote", Value: "down"}},
	}}, nil
}

func start(t *testing.T, o envOptions) *env {
	t.Helper()
	if o.fake.InteractionDeadline == 0 {
		o.fake.InteractionDeadline = 200 * time.Millisecond
	}
	srv := discordtest.New(t, o.fake)
	e := &env{t: t, srv: srv, logs: &syncBuffer{}}
	e.general = srv.TextChannel(srv.Guild, "general")
	policies := map[string]string{}
	if o.channels != nil {
		policies = o.channels(srv)
	}
	logger := slog.New(slog.NewTextHandler(e.logs, &slog.HandlerOptions{Level: slog.LevelDebug}))
	t.Cleanup(func() {
		if t.Failed() {
			t.Logf("logs:\n%s", e.logs.String())
		}
	})

	quiet := slog.New(slog.NewTextHandler(e.logs, &slog.HandlerOptions{Level: slog.LevelWarn}))
	store, err := storage.Open(storage.Options{InMemory: true, Logger: quiet})
	if err != nil {
		t.Fatal(err)
	}
	router := bot.NewRouter(bot.HandlerFunc(e.echo))
	for _, name := range []string{"ask", "quiet", "whisper"} {
		router.Add(bot.Route{
			Name: name, Match: bot.Command(name), Handler: bot.HandlerFunc(e.echo),
			Spec: &bot.CommandSpec{Name: name, Description: "Ask the bot", ArgName: "question", ArgHelp: "What you want to know",
				Private: name == "whisper"},
		})
	}
	e.core = bot.New(bot.Options{
		Store:  store,
		Router: router,
		Logger: logger,
		Policy: func(_, ch string) string {
			if p, ok := policies[ch]; ok {
				return p
			}
			return bot.PolicyMention
		},
		Observers: []bot.Observer{bot.ObserverFunc(func(_ context.Context, ev *bot.Event) error {
			e.mu.Lock()
			e.observed = append(e.observed, *ev)
			e.mu.Unlock()
			return nil
		})},
		ShutdownTimeout: 2 * time.Second,
		DMsOff:          o.dmsOff,
	})
	token := srv.Token
	if o.token != "" {
		token = o.token
	}
	e.adapter, err = discord.New(discord.Options{
		Token:      token,
		APIURL:     srv.URL,
		Commands:   router.Commands(),
		GuildIDs:   []string{srv.Guild},
		StaffUsers: []string{"staff-user"},
		Logger:     logger,
		RetryDelay: 10 * time.Millisecond,
	})
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- e.core.Run(ctx, e.adapter) }()
	t.Cleanup(func() {
		cancel()
		select {
		case <-done:
		case <-time.After(10 * time.Second):
			t.Error("bot did not stop")
		}
		_ = store.Close()
	})
	if o.token == "" && !srv.WaitConnected(5*time.Second) {
		t.Fatalf("adapter did not connect; logs:\n%s", e.logs.String())
	}
	return e
}

// eventually polls cond for up to 5 s.
func (e *env) eventually(what string, cond func() bool) {
	e.t.Helper()
	deadline := time.Now().Add(5 * time.Second)
	for time.Now().Before(deadline) {
		if cond() {
			return
		}
		time.Sleep(5 * time.Millisecond)
	}
	e.t.Fatalf("timed out waiting for %s", what)
}

// settle waits until the core has nothing queued and a little more, so
// that "nothing happened" is meaningful.
func (e *env) settle() {
	e.t.Helper()
	time.Sleep(150 * time.Millisecond)
	e.eventually("the queue to drain", func() bool { return e.core.Stats().Queued == 0 })
	time.Sleep(50 * time.Millisecond)
}

func (e *env) observedWhere(f func(bot.Event) bool) []bot.Event {
	e.mu.Lock()
	defer e.mu.Unlock()
	var out []bot.Event
	for _, ev := range e.observed {
		if f(ev) {
			out = append(out, ev)
		}
	}
	return out
}

func (e *env) botMessages(channel string) []discordtest.Message { return e.srv.BotMessages(channel) }

// Test: a mention in a text channel is answered in a thread started from
// the message (which takes the message's id), with typing first, mentions
// disabled, sources as links and buttons.
func TestMentionIsAnsweredInANewThread(t *testing.T) {
	t.Parallel()
	e := start(t, envOptions{})
	alice := e.srv.NewUser("Alice")
	m := e.srv.Post(e.general, alice, "how do I install it?", true)

	e.eventually("an answer in the thread", func() bool { return len(e.botMessages(m.ID)) == 1 })
	starts := e.srv.ThreadStarts()
	if len(starts) != 1 || starts[0].MessageID != m.ID || starts[0].ThreadID != m.ID || starts[0].ParentID != e.general {
		t.Fatalf("thread starts = %+v, want one from message %s in %s", starts, m.ID, e.general)
	}
	if starts[0].Name != "how do I install it?" {
		t.Errorf("thread name = %q", starts[0].Name)
	}
	got := e.botMessages(m.ID)[0]
	if !strings.HasPrefix(got.Content, "echo: how do I install it? (history 0)") {
		t.Errorf("answer = %q", got.Content)
	}
	if !strings.Contains(got.Content, "[Guide](<https://example.org/guide>)") {
		t.Errorf("answer lacks its source link: %q", got.Content)
	}
	if got.AllowedMentions == nil || len(got.AllowedMentions.Parse) != 0 || got.AllowedMentions.Parse == nil {
		t.Errorf("allowed_mentions = %+v, want parse: []", got.AllowedMentions)
	}
	if len(got.Buttons) != 1 || len(got.Buttons[0]) != 2 || got.Buttons[0][0].CustomID != "vote:up" {
		t.Errorf("buttons = %+v", got.Buttons)
	}
	if len(e.botMessages(e.general)) != 0 {
		t.Errorf("the bot posted in the channel itself: %+v", e.botMessages(e.general))
	}
	typing := e.srv.Typing()
	if len(typing) == 0 || typing[0].ChannelID != e.general {
		t.Errorf("typing = %+v, want one in %s", typing, e.general)
	}
}

// Test: a follow-up in the thread the bot started (no mention needed) is
// answered in that thread, and the handler receives the earlier turns.
func TestFollowUpInThreadSeesHistory(t *testing.T) {
	t.Parallel()
	e := start(t, envOptions{})
	alice := e.srv.NewUser("Alice")
	m := e.srv.Post(e.general, alice, "first question", true)
	e.eventually("the first answer", func() bool { return len(e.botMessages(m.ID)) == 1 })

	e.srv.Post(m.ID, alice, "and a follow-up", false)
	e.eventually("the second answer", func() bool { return len(e.botMessages(m.ID)) == 2 })
	second := e.botMessages(m.ID)[1].Content
	if !strings.HasPrefix(second, "echo: and a follow-up (history 2)") {
		t.Errorf("follow-up answer = %q, want history 2 (question and answer)", second)
	}
	if n := len(e.srv.ThreadStarts()); n != 1 {
		t.Errorf("%d threads started, want 1", n)
	}
	e.mu.Lock()
	last := e.handled[len(e.handled)-1]
	e.mu.Unlock()
	if len(last.History) != 2 || last.History[0].Text != "first question" || last.History[1].Role != bot.RoleBot {
		t.Errorf("history = %+v", last.History)
	}
	if last.ChannelID != e.general || last.ThreadID != m.ID {
		t.Errorf("follow-up placed in %s/%s, want %s/%s", last.ChannelID, last.ThreadID, e.general, m.ID)
	}
}

// Test: the bot's own messages (which come back as MESSAGE_CREATE) and other
// bots' messages never reach the handlers and are never answered.
func TestIgnoresOwnEchoAndOtherBots(t *testing.T) {
	t.Parallel()
	e := start(t, envOptions{})
	alice := e.srv.NewUser("Alice")
	other := e.srv.NewBot("OtherBot")
	m := e.srv.Post(e.general, alice, "hello", true)
	e.eventually("the answer", func() bool { return len(e.botMessages(m.ID)) == 1 })
	o := e.srv.Post(e.general, other, "I am a bot mentioning you", true)
	e.srv.Post(m.ID, other, "a bot in the thread", true)
	e.settle()

	if n := len(e.botMessages(m.ID)); n != 1 {
		t.Errorf("%d bot messages in the thread, want 1 (no answer to echoes or bots)", n)
	}
	if n := len(e.botMessages(o.ID)); n != 0 {
		t.Errorf("answered another bot")
	}
	if got := e.observedWhere(func(ev bot.Event) bool { return ev.User.ID == e.srv.BotID || ev.User.Bot }); len(got) != 0 {
		t.Errorf("observers saw bot events: %+v", got)
	}
	if d := e.core.Stats().Dropped[bot.DropBotAuthor]; d != 2 {
		t.Errorf("core dropped %d bot-authored events, want 2 (the other bot's; the own echo never reaches it)", d)
	}
}

// Test: in a forum whose policy is "auto", a new post is answered without
// a mention, inside the post.
func TestAutoForumPostIsAnswered(t *testing.T) {
	t.Parallel()
	var forum string
	e := start(t, envOptions{channels: func(srv *discordtest.Server) map[string]string {
		forum = srv.ForumChannel(srv.Guild, "help")
		return map[string]string{forum: bot.PolicyAuto}
	}})
	bob := e.srv.NewUser("Bob")
	post, first := e.srv.ForumPost(forum, bob, "Login fails", "I cannot log in since the update")
	e.eventually("an answer in the post", func() bool { return len(e.botMessages(post)) == 1 })
	if got := e.botMessages(post)[0].Content; !strings.HasPrefix(got, "echo: I cannot log in since the update (history 0)") {
		t.Errorf("answer = %q", got)
	}
	if n := len(e.srv.ThreadStarts()); n != 0 {
		t.Errorf("%d threads started in a forum post", n)
	}
	evs := e.observedWhere(func(ev bot.Event) bool { return ev.MessageID == first.ID })
	if len(evs) != 1 || !evs[0].NewTopic || evs[0].ChannelID != forum || evs[0].ThreadID != post {
		t.Errorf("forum event = %+v", evs)
	}
}

// Test: a channel with policy "listen" gets no answer, not even to a
// mention, while observers still see the message.
func TestListenChannelGetsNoAnswer(t *testing.T) {
	t.Parallel()
	var quiet string
	e := start(t, envOptions{channels: func(srv *discordtest.Server) map[string]string {
		quiet = srv.TextChannel(srv.Guild, "announcements")
		return map[string]string{quiet: bot.PolicyListen}
	}})
	alice := e.srv.NewUser("Alice")
	m := e.srv.Post(quiet, alice, "is this thing on?", true)
	e.eventually("the observer to see it", func() bool {
		return len(e.observedWhere(func(ev bot.Event) bool { return ev.MessageID == m.ID })) == 1
	})
	e.settle()
	if all := e.srv.AllBotMessages(); len(all) != 0 {
		t.Errorf("bot posted in a listen channel: %+v", all)
	}
	if n := len(e.srv.ThreadStarts()); n != 0 {
		t.Errorf("%d threads started", n)
	}
}

// Test: commands are registered in the guild (idempotently), and a slash
// command is deferred within the deadline and then edited with the answer,
// although the handler takes longer than the deadline.
func TestSlashCommandDeferredThenEdited(t *testing.T) {
	t.Parallel()
	e := start(t, envOptions{})
	byName := map[string]discordtest.Command{}
	for _, c := range e.srv.Commands(e.srv.Guild) {
		byName[c.Name] = c
	}
	ask, fwd := byName["ask"], byName[discord.ForwardCommandName]
	if len(byName) != 4 || ask.Type != 1 || len(ask.Options) != 1 || ask.Options[0].Name != "question" || !ask.Options[0].Required || fwd.Type != 3 {
		t.Fatalf("registered commands = %+v", byName)
	}
	if n := len(e.srv.Commands("")); n != 0 {
		t.Errorf("%d global commands registered, want none (guild ids given)", n)
	}
	alice := e.srv.NewUser("Alice")
	id := e.srv.SlashCommand(e.general, alice, "ask", "what is einsatz?")
	e.eventually("the edit", func() bool {
		rs := e.srv.InteractionResponses(id)
		return len(rs) >= 2
	})
	rs := e.srv.InteractionResponses(id)
	if rs[0].Kind != "callback" || rs[0].Type != 5 || rs[0].Status != 204 || rs[0].After > 200*time.Millisecond {
		t.Errorf("first response = %+v, want a type 5 deferral within the deadline", rs[0])
	}
	if rs[1].Kind != "edit" || rs[1].Status != 200 || rs[1].Content != "command ask: what is einsatz?" || rs[1].After < 300*time.Millisecond {
		t.Errorf("second response = %+v, want the edited answer after the handler's 300 ms", rs[1])
	}
	msgs := e.botMessages(e.general)
	if len(msgs) != 1 || msgs[0].Content != "command ask: what is einsatz?" || msgs[0].Interaction != id || msgs[0].Flags&(1<<7) != 0 {
		t.Errorf("channel messages = %+v, want the one edited response", msgs)
	}

	// A command the handler answers with nothing: the placeholder goes.
	q := e.srv.SlashCommand(e.general, alice, "quiet", "")
	e.eventually("the placeholder's removal", func() bool {
		rs := e.srv.InteractionResponses(q)
		return len(rs) == 2 && rs[1].Kind == "delete" && rs[1].Status == 204
	})

	// A private command (CommandSpec.Private) is deferred ephemerally:
	// only the caller sees the answer.
	w := e.srv.SlashCommand(e.general, alice, "whisper", "just for me")
	e.eventually("the private answer", func() bool { return len(e.srv.InteractionResponses(w)) >= 2 })
	rs = e.srv.InteractionResponses(w)
	if rs[0].Kind != "callback" || rs[0].Type != 5 || rs[0].Flags&64 == 0 || rs[1].Content != "command whisper: just for me" {
		t.Errorf("responses to /whisper = %+v, want an ephemeral deferral and the answer", rs)
	}
	if rs[0].Flags&64 != 0 && rs[1].Kind == "edit" {
		for _, m := range e.botMessages(e.general) {
			if m.Interaction == w && m.Flags&64 == 0 {
				t.Errorf("the private answer is a public channel message: %+v", m)
			}
		}
	}
}

// Test: a long answer is split under 2,000 characters at paragraph
// boundaries, and the code block is closed and reopened (with its language)
// rather than cut.
func TestLongAnswerSplitAroundCodeBlock(t *testing.T) {
	t.Parallel()
	e := start(t, envOptions{})
	alice := e.srv.NewUser("Alice")
	m := e.srv.Post(e.general, alice, "show me the long config", true)
	e.eventually("the answer", func() bool { return len(e.botMessages(m.ID)) >= 3 })
	e.settle()
	msgs := e.botMessages(m.ID)
	var code []string
	for i, msg := range msgs {
		if n := len([]rune(msg.Content)); n > 2000 {
			t.Errorf("message %d has %d characters", i, n)
		}
		if strings.Count(msg.Content, "```")%2 != 0 {
			t.Errorf("message %d has an unbalanced code fence:\n%s", i, msg.Content)
		}
		inCode := false
		for _, l := range strings.Split(msg.Content, "\n") {
			switch {
			case strings.HasPrefix(l, "```"):
				if !inCode && l != "```yaml" {
					t.Errorf("message %d reopens the block without its language: %q", i, l)
				}
				inCode = !inCode
			case inCode:
				code = append(code, l)
			case strings.HasPrefix(l, "key_"):
				t.Errorf("message %d has code outside a block: %q", i, l)
			}
		}
		if i > 0 && !strings.HasPrefix(msg.Content, "```yaml") && !strings.HasPrefix(msg.Content, "Paragraph") {
			t.Errorf("message %d starts mid-paragraph: %.40q", i, msg.Content)
		}
	}
	if len(code) != longCode {
		t.Fatalf("%d code lines arrived, want %d", len(code), longCode)
	}
	for i, l := range code {
		if !strings.HasPrefix(l, fmt.Sprintf("key_%03d:", i)) {
			t.Fatalf("code line %d = %q", i, l)
		}
	}
	if last := msgs[len(msgs)-1]; !strings.HasSuffix(last.Content, "That is all.") {
		t.Errorf("last message = %.60q…", last.Content)
	}
}

// Test: a reaction (added and removed), a button click and the "Send to
// research inbox" message command reach the core with what they point at.
func TestReactionButtonAndMessageCommandReachTheCore(t *testing.T) {
	t.Parallel()
	e := start(t, envOptions{})
	alice := e.srv.NewUser("Alice")
	m := e.srv.Post(e.general, alice, "question", true)
	e.eventually("the answer", func() bool { return len(e.botMessages(m.ID)) == 1 })
	answer := e.botMessages(m.ID)[0]

	e.srv.React(m.ID, answer.ID, alice, "👍")
	e.srv.Unreact(m.ID, answer.ID, alice, "👍")
	e.eventually("both reactions", func() bool {
		return len(e.observedWhere(func(ev bot.Event) bool { return ev.Kind == bot.KindReaction })) == 2
	})
	rs := e.observedWhere(func(ev bot.Event) bool { return ev.Kind == bot.KindReaction })
	if rs[0].Reaction != "👍" || rs[0].Removed || !rs[1].Removed || rs[0].Target == nil || rs[0].Target.ID != answer.ID ||
		rs[0].Thread() != (bot.ThreadRef{Platform: "discord", ChannelID: e.general, ThreadID: m.ID}) || rs[0].User.Name != "Alice" {
		t.Errorf("reactions = %+v", rs)
	}

	click := e.srv.ClickButton(m.ID, answer.ID, alice, "vote:up")
	e.eventually("the click's reply", func() bool {
		rs := e.srv.InteractionResponses(click)
		return len(rs) == 2 && rs[1].Kind == "followup"
	})
	cr := e.srv.InteractionResponses(click)
	if cr[0].Type != 6 || cr[1].Content != "clicked vote=up" || cr[1].Flags&(1<<6) == 0 {
		t.Errorf("click responses = %+v, want a silent type 6 then an ephemeral follow-up", cr)
	}

	fwd := e.srv.MessageCommand(e.general, alice, discord.ForwardCommandName, m.ID)
	e.eventually("the forward reply", func() bool {
		rs := e.srv.InteractionResponses(fwd)
		return len(rs) == 2 && rs[1].Kind == "edit"
	})
	fr := e.srv.InteractionResponses(fwd)
	if fr[0].Type != 5 || fr[0].Flags&(1<<6) == 0 || fr[1].Content != `forward: "<@`+e.srv.BotID+`> question" by Alice` {
		t.Errorf("forward responses = %+v", fr)
	}
	e.mu.Lock()
	defer e.mu.Unlock()
	var kinds []string
	for _, ev := range e.handled {
		kinds = append(kinds, fmt.Sprintf("%s/%s%s", ev.Kind, ev.Command, ev.Action))
	}
	if want := "message/ interaction/vote command/forward"; strings.Join(kinds, " ") != want {
		t.Errorf("handled %v, want %s", kinds, want)
	}
}

// Test: after a dropped gateway connection discordgo resumes (no second
// IDENTIFY); events posted meanwhile arrive, events delivered again are
// recognised, and nothing is answered twice.
func TestDisconnectResumesWithoutDoubleAnswers(t *testing.T) {
	t.Parallel()
	e := start(t, envOptions{fake: discordtest.Options{ResumeRedeliver: 100}})
	alice := e.srv.NewUser("Alice")
	m1 := e.srv.Post(e.general, alice, "before the cut", true)
	e.eventually("the first answer", func() bool { return len(e.botMessages(m1.ID)) == 1 })

	e.srv.Disconnect()
	m2 := e.srv.Post(e.general, alice, "during the cut", true)
	e.eventually("a resume", func() bool { return e.srv.Resumes() == 1 && e.srv.Connected() == 1 })
	e.eventually("the second answer", func() bool { return len(e.botMessages(m2.ID)) == 1 })
	m3 := e.srv.Post(e.general, alice, "after the cut", true)
	e.eventually("the third answer", func() bool { return len(e.botMessages(m3.ID)) == 1 })
	e.settle()

	for _, m := range []discordtest.Message{m1, m2, m3} {
		if n := len(e.botMessages(m.ID)); n != 1 {
			t.Errorf("message %q answered %d times", m.Content, n)
		}
	}
	if n := e.srv.Identifies(); n != 1 {
		t.Errorf("%d IDENTIFYs, want 1 (resume, not a new session)", n)
	}
	// The gateway's frames come uncompressed: discordgo would inflate
	// each compressed one with a fresh zlib reader.
	if n := e.srv.CompressedIdentifies(); n != 0 {
		t.Errorf("%d IDENTIFYs asked for payload compression, want none", n)
	}
	if d := e.core.Stats().Dropped[bot.DropDuplicate]; d < 1 {
		t.Errorf("no redelivered event was recognised as a duplicate (dropped: %v)", e.core.Stats().Dropped)
	}
	if n := len(e.srv.ThreadStarts()); n != 3 {
		t.Errorf("%d threads started, want 3", n)
	}
}

// Bad input: a wrong token ends Run at once with an error naming the
// setting, and does not take the rest of the bot down.
func TestInvalidTokenNamesTheSetting(t *testing.T) {
	t.Parallel()
	srv := discordtest.New(t, discordtest.Options{})
	a, err := discord.New(discord.Options{Token: "wrong", APIURL: srv.URL, Logger: slog.New(slog.NewTextHandler(&syncBuffer{}, nil))})
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	err = a.Run(ctx, sinkFunc(func(bot.Event) error { return nil }))
	if err == nil || !strings.Contains(err.Error(), "discord.token") || !strings.Contains(err.Error(), "DISCORD_TOKEN") {
		t.Fatalf("Run = %v, want an error naming discord.token and DISCORD_TOKEN", err)
	}
	if ctx.Err() != nil {
		t.Fatal("Run retried a rejected token until the deadline")
	}
	if _, err := discord.New(discord.Options{}); err == nil || !strings.Contains(err.Error(), "DISCORD_TOKEN") {
		t.Errorf("New without token = %v", err)
	}
}

type sinkFunc func(bot.Event) error

func (f sinkFunc) Submit(ev bot.Event) error { return f(ev) }

// Bad input: a channel where the bot may not post: the failure is logged
// with the channel, counted, and the bot goes on.
func TestMissingPermissionIsLoggedNotFatal(t *testing.T) {
	t.Parallel()
	e := start(t, envOptions{})
	locked := e.srv.TextChannel(e.srv.Guild, "locked")
	e.srv.SetDenied(locked, true)
	alice := e.srv.NewUser("Alice")
	e.srv.Post(locked, alice, "anyone?", true)
	e.eventually("the send error", func() bool { return e.core.Stats().SendErrors == 1 })
	if logs := e.logs.String(); !strings.Contains(logs, "channel="+locked) || !strings.Contains(logs, "missing permission") {
		t.Errorf("logs do not name the channel and the cause:\n%s", logs)
	}
	m := e.srv.Post(e.general, alice, "still there?", true)
	e.eventually("an answer elsewhere", func() bool { return len(e.botMessages(m.ID)) == 1 })
}

// Bad input: without the MESSAGE CONTENT intent enabled in the portal the
// gateway refuses IDENTIFY (4014); the adapter explains it in the log,
// connects without it, and still answers mentions.
func TestMissingMessageContentIntentIsExplained(t *testing.T) {
	t.Parallel()
	e := start(t, envOptions{fake: discordtest.Options{NoMessageContentIntent: true}})
	if logs := e.logs.String(); !strings.Contains(logs, "Message Content Intent") || !strings.Contains(logs, "4014") {
		t.Errorf("no explanation in the logs:\n%s", logs)
	}
	alice := e.srv.NewUser("Alice")
	m := e.srv.Post(e.general, alice, "mentioned text arrives", true)
	e.eventually("the answer", func() bool { return len(e.botMessages(m.ID)) == 1 })
	if got := e.botMessages(m.ID)[0].Content; !strings.HasPrefix(got, "echo: mentioned text arrives") {
		t.Errorf("answer = %q", got)
	}
	p := e.srv.Post(e.general, alice, "not mentioned", false)
	e.eventually("the observer", func() bool {
		return len(e.observedWhere(func(ev bot.Event) bool { return ev.MessageID == p.ID })) == 1
	})
	if ev := e.observedWhere(func(ev bot.Event) bool { return ev.MessageID == p.ID })[0]; ev.Text != "" {
		t.Errorf("fake did not redact: %q", ev.Text)
	}
}

// DMs are one conversation: answered in the DM channel with history.
func TestDirectMessagesKeepOneConversation(t *testing.T) {
	t.Parallel()
	e := start(t, envOptions{})
	alice := e.srv.NewUser("Alice")
	dm := e.srv.DMChannel(alice)
	e.srv.Post(dm, alice, "hi in private", false)
	e.eventually("the first DM answer", func() bool { return len(e.botMessages(dm)) == 1 })
	e.srv.Post(dm, alice, "again", false)
	e.eventually("the second DM answer", func() bool { return len(e.botMessages(dm)) == 2 })
	if got := e.botMessages(dm)[1].Content; !strings.HasPrefix(got, "echo: again (history 2)") {
		t.Errorf("second DM answer = %q", got)
	}
	if n := len(e.srv.ThreadStarts()); n != 0 {
		t.Errorf("%d threads started in a DM", n)
	}
}

// A mention inside a thread a user created is answered in that thread.
func TestMentionInUserThread(t *testing.T) {
	t.Parallel()
	e := start(t, envOptions{})
	alice := e.srv.NewUser("Alice")
	th := e.srv.Thread(e.general, "my topic", alice)
	e.srv.Post(th, alice, "help here", true)
	e.eventually("the answer", func() bool { return len(e.botMessages(th)) == 1 })
	if n := len(e.srv.ThreadStarts()); n != 0 {
		t.Errorf("%d threads started inside a thread", n)
	}
}

// Commands are registered by bulk overwrite: a restart registers the same
// set again, keeping their ids, and adds nothing.
func TestCommandRegistrationIsIdempotent(t *testing.T) {
	t.Parallel()
	srv := discordtest.New(t, discordtest.Options{})
	specs := []bot.CommandSpec{{Name: "ask", Description: "Ask", ArgName: "question"}, {Name: "feedback", Description: "Tell us"}}
	run := func() []discordtest.Command {
		a, err := discord.New(discord.Options{Token: srv.Token, APIURL: srv.URL, Commands: specs, Logger: slog.New(slog.NewTextHandler(&syncBuffer{}, nil))})
		if err != nil {
			t.Fatal(err)
		}
		ctx, cancel := context.WithCancel(context.Background())
		done := make(chan error, 1)
		go func() { done <- a.Run(ctx, sinkFunc(func(bot.Event) error { return nil })) }()
		if !srv.WaitConnected(5 * time.Second) {
			t.Fatal("not connected")
		}
		cancel()
		<-done
		return srv.Commands("")
	}
	first, second := run(), run()
	if len(first) != 3 || fmt.Sprint(first) != fmt.Sprint(second) {
		t.Errorf("first start registered %+v\nsecond start %+v", first, second)
	}
}

// Rate limits: the fake sends Discord's rate-limit headers (and would
// answer 429); discordgo waits for the bucket to reset, and every answer
// still arrives.
func TestRateLimitsAreRespected(t *testing.T) {
	t.Parallel()
	e := start(t, envOptions{fake: discordtest.Options{RateLimit: 2}})
	alice := e.srv.NewUser("Alice")
	var ms []discordtest.Message
	for i := range 4 {
		ms = append(ms, e.srv.Post(e.general, alice, fmt.Sprint("question ", i), true))
	}
	for _, m := range ms {
		e.eventually("every answer", func() bool { return len(e.botMessages(m.ID)) == 1 })
	}
	if e.core.Stats().SendErrors != 0 {
		t.Errorf("send errors: %d", e.core.Stats().SendErrors)
	}
	// discordgo reads X-RateLimit-Remaining/Reset-After and waits before
	// the limit instead of running into 429s.
	if n := e.srv.RateLimited(); n != 0 {
		t.Errorf("%d requests ran into 429", n)
	}
	if n := len(e.srv.Typing()); n != 4 {
		t.Errorf("%d typing calls in one channel, want 4", n)
	}
}

// Test: a reply's Ping (handoff.mention, e.g. an on-call role) notifies
// exactly that role; mentions inside the text (which may come from users or
// the LLM) notify nobody.
func TestPingNotifiesOnlyTheConfiguredMention(t *testing.T) {
	t.Parallel()
	e := start(t, envOptions{})
	staff := e.srv.TextChannel(e.srv.Guild, "staff")
	err := e.core.Post(context.Background(), bot.ThreadRef{Platform: bot.PlatformDiscord, ChannelID: staff},
		bot.Reply{Ping: "<@&555>", Text: "Escalation: alice quoted <@&666>, <@123> and @everyone"})
	if err != nil {
		t.Fatal(err)
	}
	msgs := e.botMessages(staff)
	if len(msgs) != 1 {
		t.Fatalf("%d messages in the staff channel, want 1", len(msgs))
	}
	m := msgs[0]
	if !strings.HasPrefix(m.Content, "<@&555> Escalation") {
		t.Errorf("content %q, want the ping first", m.Content)
	}
	if fmt.Sprint(m.RoleMentions) != "[555]" || len(m.Mentions) != 0 || m.AllowedMentions == nil || len(m.AllowedMentions.Parse) != 0 {
		t.Errorf("pinged roles %v, users %v, allowed %+v; want only role 555", m.RoleMentions, m.Mentions, m.AllowedMentions)
	}
}
