package slack_test

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/einsatz/einsatz/adapters/slack"
	"github.com/einsatz/einsatz/adapters/slack/slacktest"
	"github.com/einsatz/einsatz/bot"
	"github.com/einsatz/einsatz/storage"
)

const (
	general = "C0GENERAL"
	alice   = "U0ALICE"
	bob     = "U0BOB"
)

// harness runs a real bot.Bot with in-memory storage, an echo handler and
// the Slack adapter against the fake.
type harness struct {
	t       *testing.T
	fake    *slacktest.Server
	adapter *slack.Adapter
	bot     *bot.Bot
	store   *storage.Store
	logs    *syncBuffer
	web     *httptest.Server // http mode

	mu   sync.Mutex
	seen []bot.Event

	cancel context.CancelFunc
	done   chan error
}

type config struct {
	mode    string
	fake    slacktest.Options
	adapter func(*slack.Options)
	handle  func(ctx context.Context, ev *bot.Event) // runs before the echo, e.g. to block
	setup   func(*slacktest.Server)                  // before the adapter starts
}

func start(t *testing.T, cfg config) *harness {
	t.Helper()
	if cfg.mode == "" {
		cfg.mode = slack.ModeSocket
	}
	cfg.fake.Mode = cfg.mode
	if cfg.fake.AckTimeout == 0 {
		cfg.fake.AckTimeout = 3 * time.Second
	}
	if cfg.fake.PingInterval == 0 {
		cfg.fake.PingInterval = 100 * time.Millisecond
	}
	fake := slacktest.New(cfg.fake)
	t.Cleanup(fake.Close)
	fake.AddChannel(general, "general", slacktest.Public)
	fake.AddUser(alice, "alice")
	fake.AddUser(bob, "bob")

	if cfg.setup != nil {
		cfg.setup(fake)
	}
	h := &harness{t: t, fake: fake, logs: &syncBuffer{}}
	log := slog.New(slog.NewTextHandler(h.logs, &slog.HandlerOptions{Level: slog.LevelDebug}))
	store, err := storage.Open(storage.Options{InMemory: true, Logger: slog.New(slog.NewTextHandler(io.Discard, nil))})
	if err != nil {
		t.Fatal(err)
	}
	h.store = store

	opts := slack.Options{
		Mode:          cfg.mode,
		BotToken:      fake.BotToken(),
		AppToken:      fake.AppToken(),
		SigningSecret: fake.SigningSecret(),
		APIURL:        fake.APIURL(),
		Commands:      []bot.CommandSpec{{Name: "ask"}, {Name: "feedback"}, {Name: "forward"}},
		Logger:        log,
		PingTimeout:   time.Second,
		NameWait:      time.Second,
	}
	if cfg.adapter != nil {
		cfg.adapter(&opts)
	}
	a, err := slack.New(opts)
	if err != nil {
		t.Fatal(err)
	}
	h.adapter = a

	echo := bot.HandlerFunc(func(ctx context.Context, ev *bot.Event) ([]bot.Reply, error) {
		h.mu.Lock()
		h.seen = append(h.seen, *ev)
		h.mu.Unlock()
		if cfg.handle != nil {
			cfg.handle(ctx, ev)
		}
		text := ev.Text
		switch ev.Kind {
		case bot.KindCommand:
			text = "/" + ev.Command + " " + ev.Args
		case bot.KindInteraction:
			text = "clicked " + ev.Action + "=" + ev.Value
		case bot.KindReaction:
			return nil, nil
		}
		return []bot.Reply{{
			Text:    fmt.Sprintf("echo: %s (history=%d)", text, len(ev.History)),
			Buttons: []bot.Button{{Label: "Helpful", Action: "feedback", Value: "up"}, {Label: "Not helpful", Action: "feedback", Value: "down"}},
		}}, nil
	})
	h.bot = bot.New(bot.Options{Store: store, Router: bot.NewRouter(echo), Logger: log, ShutdownTimeout: 2 * time.Second})

	if cfg.mode == slack.ModeHTTP {
		mux := http.NewServeMux()
		mux.Handle("/slack/events", a.HTTPHandler())
		h.web = httptest.NewServer(mux)
		t.Cleanup(h.web.Close)
		fake.SetEventsURL(h.web.URL + "/slack/events")
	}

	ctx, cancel := context.WithCancel(context.Background())
	h.cancel = cancel
	h.done = make(chan error, 1)
	go func() { h.done <- h.bot.Run(ctx, a) }()
	t.Cleanup(func() {
		h.stop()
		_ = store.Close()
		if t.Failed() {
			t.Logf("logs:\n%s", h.logs.String())
		}
	})
	if cfg.mode == slack.ModeSocket {
		if !fake.WaitConnected(1, 5*time.Second) {
			t.Fatal("adapter never connected")
		}
	} else {
		waitFor(t, 5*time.Second, "adapter ready", a.Ready)
	}
	return h
}

func (h *harness) stop() {
	if h.cancel == nil {
		return
	}
	h.cancel()
	h.cancel = nil
	select {
	case <-h.done:
	case <-time.After(10 * time.Second):
		h.t.Error("bot did not stop")
	}
}

func (h *harness) events() []bot.Event {
	h.mu.Lock()
	defer h.mu.Unlock()
	return append([]bot.Event(nil), h.seen...)
}

// settle waits until the fake has nothing unacknowledged and the core has
// nothing queued, then a little longer for stray duplicates to show.
func (h *harness) settle() {
	h.t.Helper()
	waitFor(h.t, 5*time.Second, "deliveries acknowledged and handled", func() bool {
		return h.fake.Unacked() == 0 && h.bot.Stats().Queued == 0
	})
	time.Sleep(150 * time.Millisecond)
}

func waitFor(t *testing.T, d time.Duration, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(d)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(5 * time.Millisecond)
	}
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

// A mention arrives as app_mention and as message; it is answered once, in
// its thread, and the bot's own answer (echoed back by Slack) is ignored.
func TestMentionAnsweredOnceInThread(t *testing.T) {
	h := start(t, config{})
	ts := h.fake.Post(general, alice, "@einsatz how do I reset my password?", "")
	posted := h.fake.WaitPosted(1, 5*time.Second)
	h.settle()
	posted = h.fake.Posted()
	if len(posted) != 1 {
		t.Fatalf("bot posted %d messages, want 1: %+v", len(posted), posted)
	}
	if posted[0].ThreadTS != ts {
		t.Errorf("answer thread_ts = %q, want the mention's ts %q", posted[0].ThreadTS, ts)
	}
	if !strings.Contains(posted[0].Text, "echo: how do I reset my password? (history=0)") {
		t.Errorf("answer = %q", posted[0].Text)
	}
	evs := h.events()
	if len(evs) != 1 || !evs[0].Mentioned || evs[0].User.Name != "alice" {
		t.Errorf("handler saw %+v", evs)
	}
	// The workspace URL from auth.test makes the permalink.
	if want := "https://fake.slack.com/archives/" + general + "/p" + strings.Replace(ts, ".", "", 1); len(evs) == 1 && evs[0].Permalink != want {
		t.Errorf("permalink %q, want %q", evs[0].Permalink, want)
	}
	// app_mention + message + the bot's own message: all acknowledged, none twice.
	acks := h.fake.Acks()
	if len(acks) != 3 {
		t.Errorf("acks = %+v, want 3", acks)
	}
}

// A direct-message conversation is one thread: the bot answers at the top
// level of the IM (not in a Slack thread) and the second message reaches
// the handler with the first exchange as history.
func TestDirectMessagesAreOneConversation(t *testing.T) {
	h := start(t, config{setup: func(f *slacktest.Server) { f.AddChannel("D0ALICE", "", slacktest.IM) }})
	h.fake.Post("D0ALICE", alice, "hello, can you help?", "")
	h.fake.WaitPosted(1, 5*time.Second)
	h.fake.Post("D0ALICE", alice, "and another question", "")
	posted := h.fake.WaitPosted(2, 5*time.Second)
	if len(posted) != 2 {
		t.Fatalf("posted %+v, want two answers", posted)
	}
	for _, p := range posted {
		if p.Channel != "D0ALICE" || p.ThreadTS != "" {
			t.Errorf("answer %+v, want it at the top level of the IM", p)
		}
	}
	if !strings.Contains(posted[1].Text, "(history=2)") {
		t.Errorf("second answer %q, want the first exchange as history", posted[1].Text)
	}
}

// A follow-up in the thread (no new mention) reaches the handler with the
// earlier turns and is answered in the same thread.
func TestFollowUpCarriesHistory(t *testing.T) {
	h := start(t, config{})
	ts := h.fake.Post(general, alice, "@einsatz how do I reset my password?", "")
	h.fake.WaitPosted(1, 5*time.Second)
	h.settle()
	h.fake.Post(general, alice, "and where is the settings page?", ts)
	posted := h.fake.WaitPosted(2, 5*time.Second)
	if len(posted) != 2 {
		t.Fatalf("follow-up not answered; posted %+v", posted)
	}
	if posted[1].ThreadTS != ts {
		t.Errorf("follow-up answered in %q, want thread %q", posted[1].ThreadTS, ts)
	}
	evs := h.events()
	last := evs[len(evs)-1]
	if len(last.History) != 2 || last.History[0].Text != "how do I reset my password?" || last.History[1].Role != bot.RoleBot {
		t.Errorf("history = %+v, want the question and the bot's answer", last.History)
	}
	if !strings.Contains(posted[1].Text, "(history=2)") {
		t.Errorf("answer = %q", posted[1].Text)
	}
	if n := len(h.fake.Calls("users.info")); n != 1 {
		t.Errorf("users.info called %d times for one user, want 1 (names are cached)", n)
	}
}

// Staff come from staff.slack.users and the staff user group, fetched once
// at start (not per message).
func TestStaffFromUserGroup(t *testing.T) {
	h := start(t, config{
		setup:   func(f *slacktest.Server) { f.AddUserGroup("S0STAFF", bob) },
		adapter: func(o *slack.Options) { o.StaffUserGroup = "S0STAFF"; o.StaffUsers = []string{"U0CAROL"} },
	})
	// The fake records the call before the adapter has stored the answer:
	// wait for the adapter's own word that the group is loaded.
	waitFor(t, 5*time.Second, "user group loaded", func() bool { return strings.Contains(h.logs.String(), "staff user group loaded") })
	h.fake.Post(general, alice, "@einsatz one", "")
	h.fake.Post(general, bob, "@einsatz two", "")
	h.fake.Post(general, "U0CAROL", "@einsatz three", "")
	h.fake.WaitPosted(3, 5*time.Second)
	h.settle()
	staff := map[string]bool{}
	for _, ev := range h.events() {
		staff[ev.User.ID] = ev.User.Staff
	}
	if staff[alice] || !staff[bob] || !staff["U0CAROL"] {
		t.Errorf("staff flags %v, want only bob (group) and carol (list)", staff)
	}
	if n := len(h.fake.Calls("usergroups.users.list")); n != 1 {
		t.Errorf("usergroups.users.list called %d times, want once", n)
	}
}

// The bot's own messages and other bots' messages (even mentions) trigger
// nothing.
func TestIgnoresItselfAndOtherBots(t *testing.T) {
	h := start(t, config{})
	h.fake.AddBot("U0OTHER", "B0OTHER", "otherbot")
	h.fake.Post(general, alice, "@einsatz hello", "")
	h.fake.WaitPosted(1, 5*time.Second)
	h.fake.Post(general, "U0OTHER", "@einsatz are you there?", "")
	h.settle()
	if n := len(h.events()); n != 1 {
		t.Errorf("handler ran %d times, want 1 (only alice's mention)", n)
	}
	if n := len(h.fake.Posted()); n != 1 {
		t.Errorf("bot posted %d messages, want 1", n)
	}
	if !strings.Contains(h.logs.String(), "message by a bot ignored") {
		t.Error("no log line for the ignored bot messages")
	}
}

// An envelope whose ack is lost is redelivered with retry_attempt and
// still handled once.
func TestUnackedEnvelopeRedeliveredHandledOnce(t *testing.T) {
	h := start(t, config{fake: slacktest.Options{AckTimeout: 200 * time.Millisecond}})
	h.fake.LoseAcks(2) // app_mention and message: both come again
	h.fake.Post(general, alice, "@einsatz are you there?", "")
	h.fake.WaitPosted(1, 5*time.Second)
	waitFor(t, 5*time.Second, "redeliveries", func() bool {
		n := 0
		for _, a := range h.fake.Acks() {
			if a.Attempt == 1 && !a.Lost {
				n++
			}
		}
		return n == 2
	})
	h.settle()
	if n := len(h.events()); n != 1 {
		t.Errorf("handler ran %d times, want 1", n)
	}
	if n := len(h.fake.Posted()); n != 1 {
		t.Errorf("bot posted %d messages, want 1", n)
	}
	// An envelope is acknowledged once the core took the event; a worker
	// finds it is a repeat and counts the drop after that: wait for the
	// count, then check it stays.
	waitFor(t, 5*time.Second, "three duplicates dropped", func() bool { return h.bot.Stats().Dropped[bot.DropDuplicate] >= 3 })
	h.settle()
	if d := h.bot.Stats().Dropped[bot.DropDuplicate]; d != 3 {
		t.Errorf("duplicates dropped by the core = %d, want 3 (mention twice + message once more)", d)
	}
}

// Slack's disconnect makes the adapter reconnect with a fresh URL from
// apps.connections.open; so does a dropped socket. Messages after that are
// answered.
func TestSocketReconnects(t *testing.T) {
	h := start(t, config{})
	h.fake.Disconnect(50 * time.Millisecond)
	if !h.fake.WaitConnected(2, 5*time.Second) {
		t.Fatal("no reconnect after disconnect")
	}
	h.fake.DropConnections()
	if !h.fake.WaitConnected(3, 5*time.Second) {
		t.Fatal("no reconnect after a dropped socket")
	}
	if n := len(h.fake.Calls("apps.connections.open")); n < 3 {
		t.Errorf("apps.connections.open called %d times, want a fresh URL per connection", n)
	}
	ts := h.fake.Post(general, alice, "@einsatz still there?", "")
	posted := h.fake.WaitPosted(1, 5*time.Second)
	if len(posted) != 1 || posted[0].ThreadTS != ts {
		t.Fatalf("no answer after reconnect: %+v", posted)
	}
}

// A slash command, the research-inbox shortcut and a button click reach the
// core as command, command with Target, and interaction.
func TestCommandShortcutAndButtonReachCore(t *testing.T) {
	h := start(t, config{})
	h.fake.SlashCommand(general, alice, "/einsatz", "ask how do I log in?")
	posted := h.fake.WaitPosted(1, 5*time.Second)
	if len(posted) != 1 || posted[0].ThreadTS != "" || !strings.Contains(posted[0].Text, "/ask how do I log in?") {
		t.Fatalf("slash command answer: %+v", posted)
	}

	ts := h.fake.Post(general, bob, "it would be great to export reports as CSV", "")
	if err := h.fake.Shortcut(general, alice, slack.ShortcutResearchInbox, ts); err != nil {
		t.Fatal(err)
	}
	posted = h.fake.WaitPosted(2, 5*time.Second)

	mention := h.fake.Post(general, alice, "@einsatz what is einsatz?", "")
	posted = h.fake.WaitPosted(3, 5*time.Second)
	if len(posted) < 3 {
		t.Fatalf("posted %+v", posted)
	}
	if err := h.fake.Click(general, bob, posted[2].TS, "Not helpful"); err != nil {
		t.Fatal(err)
	}
	h.fake.WaitPosted(4, 5*time.Second)
	h.settle()

	evs := h.events()
	if len(evs) != 4 {
		t.Fatalf("handler saw %d events, want 4: %+v", len(evs), evs)
	}
	if ev := evs[0]; ev.Kind != bot.KindCommand || ev.Command != "ask" || ev.Args != "how do I log in?" {
		t.Errorf("slash command event %+v", ev)
	}
	if ev := evs[1]; ev.Kind != bot.KindCommand || ev.Command != "forward" || ev.Target == nil ||
		ev.Target.Text != "it would be great to export reports as CSV" || ev.Target.User.ID != bob {
		t.Errorf("shortcut event %+v (target %+v)", ev, ev.Target)
	}
	ev := evs[3]
	if ev.Kind != bot.KindInteraction || ev.Action != "feedback" || ev.Value != "down" || ev.User.ID != bob {
		t.Errorf("click event %+v", ev)
	}
	if ev.Thread().ThreadID != mention || len(ev.History) != 2 {
		t.Errorf("click landed in thread %q with %d turns, want the mention's thread %q with its 2 turns",
			ev.Thread().ThreadID, len(ev.History), mention)
	}
}

// A private command (CommandSpec.Private) is answered with
// chat.postEphemeral to its caller only; a click on the ephemeral answer's
// button comes back to the command's thread and is answered privately too.
// An ordinary command stays public.
func TestPrivateCommandAnsweredEphemerally(t *testing.T) {
	h := start(t, config{adapter: func(o *slack.Options) {
		o.Commands = append(o.Commands, bot.CommandSpec{Name: "notify", Private: true})
	}})
	h.fake.SlashCommand(general, alice, "/einsatz", "notify on")
	posted := h.fake.WaitPosted(1, 5*time.Second)
	if len(posted) != 1 || posted[0].EphemeralFor != alice || !strings.Contains(posted[0].Text, "/notify on") {
		t.Fatalf("answer to a private command: %+v, want one ephemeral message for alice", posted)
	}
	// The adapter learns the answer's ts when chat.postEphemeral returns,
	// just after the fake records it; a person cannot click sooner.
	h.settle()
	if err := h.fake.Click(general, bob, posted[0].TS, "Helpful"); err == nil {
		t.Errorf("bob clicked a button on alice's ephemeral message")
	}
	if err := h.fake.Click(general, alice, posted[0].TS, "Helpful"); err != nil {
		t.Fatal(err)
	}
	posted = h.fake.WaitPosted(2, 5*time.Second)
	if len(posted) != 2 || posted[1].EphemeralFor != alice || !strings.Contains(posted[1].Text, "clicked feedback=up") {
		t.Fatalf("answer to the click: %+v, want a second ephemeral message for alice", posted)
	}
	if evs := h.events(); len(evs) != 2 || evs[1].Thread() != evs[0].Thread() {
		t.Errorf("events %+v: the click should land in the command's thread", evs)
	}

	h.fake.SlashCommand(general, alice, "/einsatz", "ask how do I log in?")
	posted = h.fake.WaitPosted(3, 5*time.Second)
	if len(posted) != 3 || posted[2].EphemeralFor != "" {
		t.Fatalf("answer to /einsatz ask: %+v, want a public message", posted)
	}
	if n := len(h.fake.Calls("chat.postEphemeral")); n != 2 {
		t.Errorf("%d chat.postEphemeral calls, want 2", n)
	}
}

// Acks stay far under Slack's 3 s while the handler is slow: the ack never
// waits for the core.
func TestAcksFastWhileHandlerSlow(t *testing.T) {
	release := make(chan struct{})
	h := start(t, config{handle: func(ctx context.Context, ev *bot.Event) {
		select {
		case <-release:
		case <-ctx.Done():
		}
	}})
	const n = 20
	for i := 0; i < n; i++ {
		h.fake.Post(general, alice, fmt.Sprintf("@einsatz question %d", i), "")
	}
	waitFor(t, 3*time.Second, "all envelopes acknowledged while the handler blocks", func() bool {
		return len(h.fake.Acks()) == 2*n
	})
	var worst time.Duration
	for _, a := range h.fake.Acks() {
		worst = max(worst, a.Latency)
	}
	if worst > time.Second { // Slack's limit is 3 s; an ack that waited for work would be seconds
		t.Errorf("slowest ack %v", worst)
	}
	if len(h.fake.Posted()) != 0 {
		t.Error("answers before the handler was released")
	}
	close(release)
	if posted := h.fake.WaitPosted(n, 10*time.Second); len(posted) != n {
		t.Errorf("%d answers, want %d", len(posted), n)
	}
	t.Logf("slowest of %d acks: %v", 2*n, worst)
}

// HTTP mode: signed deliveries are answered (also redelivered ones, once);
// forged, stale, unsigned and tampered requests get 401 and reach nothing;
// url_verification is answered.
func TestHTTPModeSignatures(t *testing.T) {
	h := start(t, config{mode: slack.ModeHTTP, fake: slacktest.Options{AckTimeout: 2 * time.Second}})
	url := h.web.URL + "/slack/events"

	ts := h.fake.Post(general, alice, "@einsatz hello over http", "")
	posted := h.fake.WaitPosted(1, 5*time.Second)
	if len(posted) != 1 || posted[0].ThreadTS != ts {
		t.Fatalf("http mention not answered in its thread: %+v", posted)
	}
	if err := h.fake.Click(general, bob, posted[0].TS, "Helpful"); err != nil { // interactivity as a form
		t.Fatal(err)
	}
	h.fake.WaitPosted(2, 5*time.Second)
	h.fake.LoseAcks(1) // the next 200 is "lost": Slack retries with X-Slack-Retry-Num
	h.fake.SlashCommand(general, bob, "/einsatz", "feedback great bot")
	h.fake.WaitPosted(3, 5*time.Second)
	h.settle()
	for _, a := range h.fake.Acks() {
		if a.Status != http.StatusOK || a.Latency > time.Second {
			t.Errorf("delivery %+v: want a quick 200", a)
		}
	}
	evs := h.events()
	if len(evs) != 3 {
		t.Fatalf("handler ran %d times, want 3 (mention, click, and the command once despite its retry)", len(evs))
	}
	if evs[1].Kind != bot.KindInteraction || evs[1].Action != "feedback" || evs[1].Value != "up" ||
		evs[2].Kind != bot.KindCommand || evs[2].Command != "feedback" || evs[2].Args != "great bot" {
		t.Errorf("events over HTTP: %+v", evs[1:])
	}
	retried := false
	for _, a := range h.fake.Acks() {
		retried = retried || a.Attempt == 1
	}
	if !retried {
		t.Error("the fake did not retry the delivery whose 200 was lost")
	}

	body := h.fake.MessageBody(general, alice, "<@"+h.fake.BotUserID()+"> sneaky")
	for _, v := range []struct {
		name string
		v    slacktest.Variant
		want int
	}{
		{"forged", slacktest.Forged, http.StatusUnauthorized},
		{"stale", slacktest.Stale, http.StatusUnauthorized},
		{"unsigned", slacktest.Unsigned, http.StatusUnauthorized},
		{"tampered", slacktest.Tampered, http.StatusUnauthorized},
	} {
		resp, err := http.DefaultClient.Do(h.fake.Request(url, v.v, "application/json", body))
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != v.want {
			t.Errorf("%s request: status %d, want %d", v.name, resp.StatusCode, v.want)
		}
	}

	challenge := []byte(`{"token":"x","challenge":"3eZbrw1aBm2rZgRNFdxV2595E9CY3gmdALWMmHkvFXO7tYXAYM8P","type":"url_verification"}`)
	resp, err := http.DefaultClient.Do(h.fake.Request(url, slacktest.Signed, "application/json", challenge))
	if err != nil {
		t.Fatal(err)
	}
	var got struct{ Challenge string }
	_ = json.NewDecoder(resp.Body).Decode(&got)
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK || got.Challenge != "3eZbrw1aBm2rZgRNFdxV2595E9CY3gmdALWMmHkvFXO7tYXAYM8P" {
		t.Errorf("url_verification: %d %q", resp.StatusCode, got.Challenge)
	}

	// A correctly signed request of our own is accepted.
	resp, err = http.DefaultClient.Do(h.fake.Request(url, slacktest.Signed, "application/json", body))
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		t.Errorf("signed request: status %d", resp.StatusCode)
	}
	waitFor(t, 5*time.Second, "signed request handled", func() bool { return len(h.events()) == 4 })
}

// The replay window follows the injected clock.
func TestHTTPReplayWindowUsesClock(t *testing.T) {
	skew := 6 * time.Minute
	h := start(t, config{mode: slack.ModeHTTP, adapter: func(o *slack.Options) {
		o.Now = func() time.Time { return time.Now().Add(skew) }
	}})
	body := h.fake.MessageBody(general, alice, "hello")
	resp, err := http.DefaultClient.Do(h.fake.Request(h.web.URL+"/slack/events", slacktest.Signed, "application/json", body))
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusUnauthorized {
		t.Errorf("request 6 minutes old by the adapter's clock: status %d, want 401", resp.StatusCode)
	}
}

func TestBodyLimit(t *testing.T) {
	h := start(t, config{mode: slack.ModeHTTP, adapter: func(o *slack.Options) { o.MaxBody = 512 }})
	body := h.fake.MessageBody(general, alice, strings.Repeat("x", 1000))
	resp, err := http.DefaultClient.Do(h.fake.Request(h.web.URL+"/slack/events", slacktest.Signed, "application/json", body))
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusRequestEntityTooLarge {
		t.Errorf("status %d, want 413", resp.StatusCode)
	}
}

// The "Mark solution" shortcut on a reply in a thread, in both modes: the
// core gets the command "solved" in that thread (its history, the reply as
// Target); the reply to it is ephemeral for its user, inside the thread,
// while the answer to a message in the same thread right after stays
// public.
func TestMarkSolutionShortcutInThread(t *testing.T) {
	for _, mode := range []string{slack.ModeSocket, slack.ModeHTTP} {
		t.Run(mode, func(t *testing.T) {
			h := start(t, config{mode: mode, adapter: func(o *slack.Options) {
				o.Commands = append(o.Commands, bot.CommandSpec{Name: "solved", Private: true})
			}})
			parent := h.fake.Post(general, alice, "@einsatz how do I rotate the key?", "")
			h.fake.WaitPosted(1, 5*time.Second)
			reply := h.fake.Post(general, bob, "Run einsatz key rotate.", parent)
			h.fake.WaitPosted(2, 5*time.Second) // the harness echoes every message
			if err := h.fake.Shortcut(general, alice, slack.ShortcutMarkSolution, reply); err != nil {
				t.Fatal(err)
			}
			said := func(part string) *slacktest.Message {
				for _, m := range h.fake.Posted() {
					if strings.Contains(m.Text, part) {
						return &m
					}
				}
				return nil
			}
			waitFor(t, 5*time.Second, "the shortcut's answer", func() bool { return said("/solved") != nil })
			if m := said("/solved"); m.EphemeralFor != alice || m.ThreadTS != parent {
				t.Errorf("answer to the shortcut: %+v, want it for alice only in the thread %s", m, parent)
			}
			h.fake.Post(general, bob, "@einsatz thanks", parent)
			waitFor(t, 5*time.Second, "the next answer", func() bool { return said("thanks") != nil })
			if m := said("thanks"); m.EphemeralFor != "" || m.ThreadTS != parent {
				t.Errorf("the next answer in the thread: %+v, want it public in the thread", m)
			}
			h.settle()
			var ev *bot.Event
			for _, e := range h.events() {
				if e.Kind == bot.KindCommand {
					ev = &e
				}
			}
			if ev == nil || ev.Command != "solved" || ev.Thread().ThreadID != parent || ev.Target == nil ||
				ev.Target.ID != reply || ev.Target.User.ID != bob || len(ev.History) < 3 {
				t.Errorf("shortcut event %+v, want solved in thread %s with bob's reply as target and the history", ev, parent)
			}
		})
	}
}
