package inbox_test

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
	"github.com/spf13/cobra"

	"github.com/einsatz/einsatz/adapters/cli"
	"github.com/einsatz/einsatz/adapters/discord"
	"github.com/einsatz/einsatz/adapters/discord/discordtest"
	"github.com/einsatz/einsatz/adapters/slack"
	"github.com/einsatz/einsatz/adapters/slack/slacktest"
	"github.com/einsatz/einsatz/adapters/web"
	"github.com/einsatz/einsatz/adapters/web/webtest"
	"github.com/einsatz/einsatz/adapters/webhook"
	"github.com/einsatz/einsatz/bot"
	"github.com/einsatz/einsatz/bot/request"
	"github.com/einsatz/einsatz/handlers/inbox"
	"github.com/einsatz/einsatz/storage"
)

// These tests run a real bot.Bot with the inbox's routes and observer
// against the fake Discord and the fake Slack at once, with the web server
// for the dashboard and the admin API, and a webhook receiver.

const (
	slackGeneral = "C0GENERAL"
	bob          = "U0BOB"
	carol        = "U0CAROL"
	erin         = "U0ERIN"
	secret       = "hook-secret"
)

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

// hookSink receives webhooks and keeps those whose signature is right.
type hookSink struct {
	mu       sync.Mutex
	payloads []inbox.Payload
	bad      int
}

func (h *hookSink) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	body, _ := io.ReadAll(r.Body)
	h.mu.Lock()
	defer h.mu.Unlock()
	if !webhook.VerifySignature(secret, body, r.Header.Get(webhook.HeaderSignature)) {
		h.bad++
		http.Error(w, "bad signature", http.StatusUnauthorized)
		return
	}
	var p inbox.Payload
	if err := json.Unmarshal(body, &p); err != nil {
		h.bad++
		http.Error(w, err.Error(), http.StatusBadRequest)
		return
	}
	h.payloads = append(h.payloads, p)
}

func (h *hookSink) events(id int) []string {
	h.mu.Lock()
	defer h.mu.Unlock()
	var out []string
	for _, p := range h.payloads {
		if p.Item.ID == id {
			out = append(out, p.Event)
		}
	}
	return out
}

type world struct {
	t       *testing.T
	dir     string
	store   *storage.Store
	svc     *inbox.Service
	core    *bot.Bot
	site    *web.Server
	dc      *discordtest.Server
	general string
	sl      *slacktest.Server
	hooks   *hookSink
	logs    *syncBuffer
	stop    func()
}

// startWorld starts everything; with dir set, storage lives on disk there.
func startWorld(t *testing.T, dir string) *world {
	t.Helper()
	return startWorldWith(t, dir, nil)
}

// startWorldWith is startWorld with the inbox's options changed by mod.
func startWorldWith(t *testing.T, dir string, mod func(*inbox.Options)) *world {
	t.Helper()
	w := &world{t: t, dir: dir, logs: &syncBuffer{}, hooks: &hookSink{}}
	if w.dir == "" {
		w.dir = t.TempDir()
	}
	log := slog.New(slog.NewTextHandler(w.logs, &slog.HandlerOptions{Level: slog.LevelDebug}))
	quiet := slog.New(slog.NewTextHandler(w.logs, &slog.HandlerOptions{Level: slog.LevelWarn}))
	t.Cleanup(func() {
		if t.Failed() {
			t.Logf("logs:\n%s", w.logs.String())
		}
	})
	var err error
	if dir != "" {
		w.store, err = storage.Open(storage.Options{Path: filepath.Join(dir, "db"), Logger: quiet})
	} else {
		w.store, err = storage.Open(storage.Options{InMemory: true, Logger: quiet})
	}
	if err != nil {
		t.Fatal(err)
	}
	hookSrv := httptest.NewServer(w.hooks)
	t.Cleanup(hookSrv.Close)

	core := bot.New(bot.Options{Store: w.store, Logger: log, ShutdownTimeout: 2 * time.Second})
	o := inbox.Options{
		Store:           storage.NewInbox(w.store),
		Owners:          w.store,
		Poster:          core,
		Logger:          log,
		Detect:          fakeDetect,
		Sentiment:       func(string, string) float64 { return 0.1 },
		Notifiers:       []inbox.Notifier{webhook.New(webhook.Options{URL: hookSrv.URL, Secret: secret})},
		DirectMessenger: core,
	}
	if mod != nil {
		mod(&o)
	}
	w.svc = inbox.New(o)
	core.Route(w.svc.Routes()...) // nothing answers but the inbox
	core.Observe(w.svc)
	w.core = core

	w.dc = discordtest.New(t, discordtest.Options{})
	w.general = w.dc.TextChannel(w.dc.Guild, "general")
	da, err := discord.New(discord.Options{Token: w.dc.Token, APIURL: w.dc.URL, Commands: core.Commands(), GuildIDs: []string{w.dc.Guild},
		Logger: log, RetryDelay: 10 * time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}

	w.sl = slacktest.New(slacktest.Options{Mode: slacktest.ModeSocket, AckTimeout: 3 * time.Second, PingInterval: 100 * time.Millisecond})
	t.Cleanup(w.sl.Close)
	w.sl.AddChannel(slackGeneral, "general", slacktest.Public)
	w.sl.AddUser(bob, "bob")
	w.sl.AddUser(carol, "carol")
	w.sl.AddUser(erin, "erin")
	sa, err := slack.New(slack.Options{Mode: slack.ModeSocket, BotToken: w.sl.BotToken(), AppToken: w.sl.AppToken(), SigningSecret: w.sl.SigningSecret(),
		APIURL: w.sl.APIURL(), Commands: core.Commands(), Logger: log, PingTimeout: time.Second, NameWait: time.Second})
	if err != nil {
		t.Fatal(err)
	}

	w.site, err = web.New(web.Options{Addr: "127.0.0.1:0", Store: w.store, Core: core, Logger: quiet,
		CredentialFile: filepath.Join(w.dir, web.CredentialFileName)})
	if err != nil {
		t.Fatal(err)
	}
	w.site.AddInbox(w.svc)

	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- core.Run(ctx, da, sa, w.site) }()
	stopped := false
	w.stop = func() {
		if stopped {
			return
		}
		stopped = true
		cancel()
		select {
		case <-done:
		case <-time.After(10 * time.Second):
			t.Error("bot did not stop")
		}
		w.svc.Close()
		_ = w.store.Close()
	}
	t.Cleanup(w.stop)
	if !w.dc.WaitConnected(5 * time.Second) {
		t.Fatal("Discord adapter did not connect")
	}
	if !w.sl.WaitConnected(1, 5*time.Second) {
		t.Fatal("Slack adapter did not connect")
	}
	<-w.site.Ready()
	return w
}

func (w *world) eventually(what string, cond func() bool) {
	w.t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for time.Now().Before(deadline) {
		if cond() {
			return
		}
		time.Sleep(10 * time.Millisecond)
	}
	w.t.Fatalf("timed out waiting for %s", what)
}

// settle waits until nothing is queued or unacknowledged, and a little more.
func (w *world) settle() {
	w.t.Helper()
	time.Sleep(150 * time.Millisecond)
	w.eventually("the queue to drain", func() bool { return w.core.Stats().Queued == 0 && w.sl.Unacked() == 0 })
	time.Sleep(100 * time.Millisecond)
}

func (w *world) items() []request.Item {
	w.t.Helper()
	items, err := storage.NewInbox(w.store).Items(context.Background())
	if err != nil {
		w.t.Fatal(err)
	}
	return items
}

func (w *world) item(id int) request.Item {
	for _, it := range w.items() {
		if it.ID == id {
			return it
		}
	}
	return request.Item{}
}

// slackThread returns the bot's messages in the thread of ts.
func (w *world) slackThread(ts string) []slacktest.Message {
	var out []slacktest.Message
	for _, m := range w.sl.Posted() {
		if m.ThreadTS == ts {
			out = append(out, m)
		}
	}
	return out
}

// threads are where the cross-platform steps asked.
type threads struct {
	discordDark string // alice's dark mode request (Discord message id = its thread)
	slackDark   string // bob's (Slack ts)
}

// crossPlatform runs the steps on both fakes and checks each.
func (w *world) crossPlatform() threads {
	t := w.t
	t.Helper()
	var th threads
	alice := w.dc.NewUser("alice")
	mod := w.dc.NewUser("mod")

	// 1. A feature request on Discord: item #1, acknowledged in its thread
	// with a +1 button.
	m := w.dc.Post(w.general, alice, "Please add a dark mode for the dashboard, my eyes hurt at night", false)
	th.discordDark = m.ID
	w.eventually("the acknowledgement on Discord", func() bool { return len(w.dc.BotMessages(m.ID)) == 1 })
	ack := w.dc.BotMessages(m.ID)[0]
	if !strings.Contains(ack.Content, "product team as #1.") {
		t.Errorf("Discord ack = %q", ack.Content)
	}
	if len(ack.Buttons) != 1 || len(ack.Buttons[0]) != 1 || ack.Buttons[0][0].CustomID != "inbox_vote:1" {
		t.Errorf("Discord ack buttons = %+v, want one inbox_vote:1", ack.Buttons)
	}
	if it := w.item(1); it.VoteCount != 1 || len(it.Mentions) != 1 || it.Mentions[0].Permalink == "" {
		t.Errorf("item #1 after Discord = %+v", it)
	}

	// 2. The same request on Slack: a second mention and vote on #1.
	th.slackDark = w.sl.Post(slackGeneral, bob, "please add dark mode to the dashboard", "")
	w.eventually("the acknowledgement on Slack", func() bool { return len(w.slackThread(th.slackDark)) == 1 })
	if got := w.slackThread(th.slackDark)[0].Text; !strings.Contains(got, "#1 (1 others asked for this too)") {
		t.Errorf("Slack ack = %q", got)
	}
	if it := w.item(1); it.VoteCount != 2 || len(it.Mentions) != 2 || strings.Join(inbox.Platforms(it), ",") != "discord,slack" || len(w.items()) != 1 {
		t.Errorf("item #1 after Slack = %d votes, %d mentions; %d items", it.VoteCount, len(it.Mentions), len(w.items()))
	}
	// carol's +1 on Slack counts once.
	ackTS := w.slackThread(th.slackDark)[0].TS
	for range 2 {
		if err := w.sl.Click(slackGeneral, carol, ackTS, "+1"); err != nil {
			t.Fatal(err)
		}
	}
	w.eventually("carol's vote", func() bool { return w.item(1).VoteCount == 3 })

	// 3. A bug report and a question create nothing and get no answer.
	bug := w.dc.Post(w.general, alice, "The dashboard crashes with error 500 when I log in", false)
	question := w.sl.Post(slackGeneral, bob, "How do I reset my password?", "")
	w.settle()
	if n := len(w.items()); n != 1 {
		t.Errorf("%d items after a bug report and a question, want 1", n)
	}
	if len(w.dc.BotMessages(bug.ID)) != 0 || len(w.slackThread(question)) != 0 {
		t.Error("the bot answered a bug report or a question")
	}
	if got := w.item(1).VoteCount; got != 3 {
		t.Errorf("item #1 has %d votes after carol clicked twice, want 3", got)
	}

	// 4. Discord's message command forwards a message the detector missed.
	dave := w.dc.NewUser("dave")
	miss := w.dc.Post(w.general, dave, "Exporting reports to spreadsheets is something I really miss", false)
	w.settle()
	w.dc.MessageCommand(w.general, mod, discord.ForwardCommandName, miss.ID)
	w.eventually("item #2 from the message command", func() bool { return len(w.items()) == 2 })
	w.eventually("the acknowledgement of the forwarded message", func() bool { return len(w.dc.BotMessages(miss.ID)) == 1 })
	if it := w.item(2); it.Mentions[0].UserName != "dave" || it.Mentions[0].By != "mod" || it.Mentions[0].Source != request.SourceForwarded {
		t.Errorf("forwarded mention = %+v", it.Mentions[0])
	}

	// 5. Slack's message shortcut.
	shortcut := w.sl.Post(slackGeneral, erin, "Keyboard shortcuts for the editor would save me hours", "")
	w.settle()
	if err := w.sl.Shortcut(slackGeneral, bob, slack.ShortcutResearchInbox, shortcut); err != nil {
		t.Fatal(err)
	}
	w.eventually("item #3 from the shortcut", func() bool { return len(w.items()) == 3 })
	w.eventually("the acknowledgement in the shortcut's thread", func() bool { return len(w.slackThread(shortcut)) == 1 })
	if it := w.item(3); it.Mentions[0].UserID != erin || it.Votes[0].UserID != erin {
		t.Errorf("shortcut item = %+v", it)
	}

	// 6. The 💡 reaction, on Discord and (as :bulb:) on Slack.
	frank := w.dc.NewUser("frank")
	offline := w.dc.Post(w.general, frank, "An offline mode for travelling by train", false)
	w.settle()
	w.dc.React(w.general, offline.ID, alice, "💡")
	w.eventually("item #4 from the Discord reaction", func() bool { return len(w.items()) == 4 })
	w.eventually("the acknowledgement of the reacted message", func() bool { return len(w.dc.BotMessages(offline.ID)) == 1 })
	if it := w.item(4); it.Mentions[0].Text != "An offline mode for travelling by train" || it.Mentions[0].UserName != "frank" {
		t.Errorf("reaction item = %+v", it.Mentions[0])
	}
	cal := w.sl.Post(slackGeneral, carol, "Ein Kalenderexport im iCal-Format für die Termine", "")
	w.settle()
	w.sl.React(slackGeneral, bob, cal, "bulb", false)
	w.eventually("item #5 from the Slack reaction", func() bool { return len(w.items()) == 5 })
	w.eventually("the acknowledgement on Slack (in German)", func() bool {
		th := w.slackThread(cal)
		return len(th) == 1 && strings.Contains(th[0].Text, "Danke!")
	})
	w.svc.Flush()
	if ev := w.hooks.events(1); strings.Join(ev, ",") != "item.created,item.voted,item.voted" {
		t.Errorf("webhooks for #1 = %v, want created and two votes", ev)
	}
	return th
}

// Test: the whole flow across Discord and Slack (see crossPlatform), then a
// status change from the dashboard in headless Chromium posts exactly once
// in each original thread (naming who asked there) and fires a signed
// webhook; the CSV export through the admin API reads back.
func TestEndToEndDiscordSlackDashboard(t *testing.T) {
	w := startWorld(t, "")
	th := w.crossPlatform()
	discordBefore := len(w.dc.BotMessages(th.discordDark))
	slackBefore := len(w.slackThread(th.slackDark))

	ctx := webtest.Browser(t)
	webtest.Do(t, ctx, chromedp.Navigate(w.site.LoginURL()), chromedp.WaitVisible(chromedp.CSS("main.dash")))
	webtest.Do(t, ctx, chromedp.Navigate(w.site.URL()+"/dashboard/inbox?status=open&sort=votes"), chromedp.WaitVisible(chromedp.ID("items")))
	first := webtest.Run(t, ctx, chromedp.Evaluate[string](`document.querySelector("#items tr[data-id]").dataset.id + "/" + document.querySelector("#items tr[data-id] .votes").textContent`))
	if first != "1/3" {
		t.Errorf("first row of the list = %q, want item 1 with 3 votes", first)
	}
	webtest.Do(t, ctx, chromedp.Navigate(w.site.URL()+"/dashboard/inbox/1"), chromedp.WaitVisible(chromedp.ID("status-form")))
	webtest.Run(t, ctx, chromedp.Evaluate[bool](`document.getElementById("status").value = "planned"; document.getElementById("note").value = "Coming in March – thanks, everyone!"; true`))
	webtest.Do(t, ctx, chromedp.Click(chromedp.ID("status-submit")))
	webtest.WaitFor(t, ctx, `document.getElementById("flash") !== null && document.getElementById("status-now").textContent === "planned"`)

	w.eventually("the status post on Discord", func() bool { return len(w.dc.BotMessages(th.discordDark)) > discordBefore })
	w.eventually("the status post on Slack", func() bool { return len(w.slackThread(th.slackDark)) > slackBefore })
	w.settle()
	dposts := w.dc.BotMessages(th.discordDark)[discordBefore:]
	sposts := w.slackThread(th.slackDark)[slackBefore:]
	if len(dposts) != 1 || len(sposts) != 1 {
		t.Fatalf("status posts: %d on Discord, %d on Slack; want one each", len(dposts), len(sposts))
	}
	if c := dposts[0].Content; !strings.Contains(c, "planned") || !strings.Contains(c, "Coming in March – thanks, everyone!") || !strings.Contains(c, "@alice") {
		t.Errorf("Discord status post = %q", c)
	}
	if c := sposts[0].Text; !strings.Contains(c, "planned") || !strings.Contains(c, "@bob") || strings.Contains(c, "@alice") {
		t.Errorf("Slack status post = %q", c)
	}
	it := w.item(1)
	if last := it.Changes[len(it.Changes)-1]; last.By != "admin" || last.Posted != 2 {
		t.Errorf("change = %+v, want by admin, 2 threads told", last)
	}
	w.svc.Flush()
	if ev := w.hooks.events(1); len(ev) == 0 || ev[len(ev)-1] != inbox.EventStatus {
		t.Errorf("webhooks for #1 = %v, want a status change last", ev)
	}
	w.hooks.mu.Lock()
	bad := w.hooks.bad
	w.hooks.mu.Unlock()
	if bad != 0 {
		t.Errorf("%d webhooks with a bad signature", bad)
	}
	// A form post without the CSRF token is refused.
	status := webtest.Run(t, ctx, chromedp.Evaluate[float64](`fetch("/dashboard/inbox/1/status", {method: "POST", body: new URLSearchParams({status: "in_progress"}), redirect: "manual"}).then(r => r.status)`, chromedp.EvalAwaitPromise))
	if status != 403 {
		t.Errorf("status form without CSRF: %v, want 403", status)
	}

	// Merge through the dashboard form: #5 into #2.
	webtest.Do(t, ctx, chromedp.Navigate(w.site.URL()+"/dashboard/inbox"), chromedp.WaitVisible(chromedp.ID("merge-form")))
	webtest.Run(t, ctx, chromedp.Evaluate[bool](`document.getElementById("merge-from").value = "5"; document.getElementById("merge-into").value = "2"; true`))
	webtest.Do(t, ctx, chromedp.Click(chromedp.ID("merge-submit")))
	webtest.WaitFor(t, ctx, `location.pathname === "/dashboard/inbox/2" && document.getElementById("flash") !== null`)
	if it := w.item(5); it.Status != request.StatusDuplicate || it.DuplicateOf != 2 {
		t.Errorf("#5 after merge = %s → %d", it.Status, it.DuplicateOf)
	}
	if it := w.item(2); len(it.Mentions) != 2 || it.VoteCount != 2 {
		t.Errorf("#2 after merge: %d mentions, %d votes; want 2 and 2", len(it.Mentions), it.VoteCount)
	}

	// CSV export through the admin API (as the CLI would) reads back.
	client, err := web.Running(context.Background(), w.dir)
	if err != nil {
		t.Fatal(err)
	}
	resp, err := client.Get(context.Background(), "/api/admin/inbox/export?format=csv")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	back, err := inbox.ReadCSV(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	if len(back) != 5 || back[0].ID != 1 || back[0].Status != request.StatusPlanned || back[0].VoteCount != 3 || !strings.Contains(back[0].Mentions[0].Text, "dark mode") {
		t.Errorf("CSV export = %+v", back)
	}
	var out bytes.Buffer
	cmd := cli.InboxCommand(func(*cobra.Command) (cli.Inbox, func() error, error) {
		return cli.RemoteInbox(client), func() error { return nil }, nil
	}, &out)
	cmd.SetArgs([]string{"status", "1", "in_progress", "--note", "Started"})
	if err := cmd.ExecuteContext(context.Background()); err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(out.String(), "#1 is now in_progress (2 threads told)") {
		t.Errorf("CLI status through the server: %q", out.String())
	}
	if it := w.item(1); it.Changes[len(it.Changes)-1].By != "local-cli" {
		t.Errorf("CLI change by %q, want local-cli", it.Changes[len(it.Changes)-1].By)
	}
}

// Test: the cross-platform steps with storage on disk; after the bot
// stops, `einsatz inbox list` (the CLI command in-process, on the
// database) shows the items with their votes and platforms.
func TestEndToEndOnDiskThenInboxList(t *testing.T) {
	dir := t.TempDir()
	w := startWorld(t, dir)
	w.crossPlatform()
	w.stop()

	var out bytes.Buffer
	open := func(*cobra.Command) (cli.Inbox, func() error, error) {
		store, err := storage.Open(storage.Options{Path: filepath.Join(dir, "db"), Logger: slog.New(slog.NewTextHandler(io.Discard, nil))})
		if err != nil {
			return nil, nil, err
		}
		return inbox.New(inbox.Options{Store: storage.NewInbox(store), Owners: store}), store.Close, nil
	}
	cmd := cli.InboxCommand(open, &out)
	cmd.SetArgs([]string{"list"})
	if err := cmd.ExecuteContext(context.Background()); err != nil {
		t.Fatal(err)
	}
	lines := strings.Split(strings.TrimSpace(out.String()), "\n")
	if len(lines) != 6 {
		t.Fatalf("inbox list printed %d lines, want a header and 5 items:\n%s", len(lines), out.String())
	}
	if f := strings.Fields(lines[0]); strings.Join(f, " ") != "ID STATUS VOTES 7D MENTIONS PLATFORMS TAGS CREATED TITLE" {
		t.Errorf("header = %q", lines[0])
	}
	// Sorted by votes: #1 first, asked on both platforms.
	if f := strings.Fields(lines[1]); len(f) < 9 || f[0] != "#1" || f[1] != "new" || f[2] != "3" || f[4] != "2" || f[5] != "discord,slack" || !strings.Contains(lines[1], "Please add a dark mode") {
		t.Errorf("first row = %q", lines[1])
	}
	for _, want := range []string{"#2", "#3", "#4", "#5", "Exporting reports", "Keyboard shortcuts", "offline mode", "Kalenderexport"} {
		if !strings.Contains(out.String(), want) {
			t.Errorf("inbox list lacks %q:\n%s", want, out.String())
		}
	}

	out.Reset()
	cmd = cli.InboxCommand(open, &out)
	cmd.SetArgs([]string{"list", "--platform", "slack", "--sort", "newest"})
	if err := cmd.ExecuteContext(context.Background()); err != nil {
		t.Fatal(err)
	}
	if lines := strings.Split(strings.TrimSpace(out.String()), "\n"); len(lines) != 4 || !strings.HasPrefix(lines[1], "#5") {
		t.Errorf("slack items, newest first:\n%s", out.String())
	}
}

// Test: opt-in DMs end to end on both fakes. alice (Discord) and bob
// (Slack) run /notify on (both answer only to them: ephemeral on
// Discord, chat.postEphemeral on Slack); dave (Discord) asks and carol (Slack) votes without opting in;
// frank (Discord) opts in but refuses DMs. A status change then sends
// exactly one DM to alice (POST /users/@me/channels, then a message that
// pings nobody) and one to bob (conversations.open, then chat.postMessage
// in the IM), each naming the item, status and note; dave and carol get
// none; frank's failure does not stop the change or the thread posts.
// After alice's /notify off the next change DMs only bob. The core's
// DirectMessage fails for the web adapter (no DM ability) and for a
// platform without an adapter.
func TestEndToEndNotifyDirectMessages(t *testing.T) {
	w := startWorld(t, "")
	ctx := context.Background()
	alice, dave, frank := w.dc.NewUser("alice"), w.dc.NewUser("dave"), w.dc.NewUser("frank")

	first := w.dc.Post(w.general, alice, "Please add a dark mode for the dashboard, my eyes hurt at night", false)
	w.eventually("item #1", func() bool { return len(w.items()) == 1 })
	daveMsg := w.dc.Post(w.general, dave, "please add dark mode to the dashboard", false)
	frankMsg := w.dc.Post(w.general, frank, "please add dark mode to the dashboard, really", false)
	bobTS := w.sl.Post(slackGeneral, bob, "please add dark mode to the dashboard", "")
	w.eventually("the acknowledgement on Slack", func() bool { return len(w.slackThread(bobTS)) == 1 })
	if err := w.sl.Click(slackGeneral, carol, w.slackThread(bobTS)[0].TS, "+1"); err != nil {
		t.Fatal(err)
	}
	w.eventually("five people on #1", func() bool { it := w.item(1); return it.VoteCount == 5 && len(it.Mentions) == 4 })
	if n := len(w.items()); n != 1 {
		t.Fatalf("%d items, want the requests on one", n)
	}

	// Opt in: alice and frank on Discord, bob on Slack.
	notifyDiscord := func(u discordtest.User, arg, want string) {
		t.Helper()
		id := w.dc.SlashCommand(w.general, u, inbox.CommandNotify, arg)
		w.eventually("the answer to /notify "+arg, func() bool {
			for _, r := range w.dc.InteractionResponses(id) {
				if r.Kind == "edit" && strings.Contains(r.Content, want) {
					return true
				}
			}
			return false
		})
		for _, r := range w.dc.InteractionResponses(id) {
			if r.Kind == "callback" && r.Flags&64 == 0 {
				t.Errorf("/notify answered publicly on Discord: %+v", r)
			}
		}
	}
	notifyDiscord(alice, "on", "direct message")
	notifyDiscord(frank, "on", "direct message")
	w.dc.BlockDMs(frank, true)
	before := len(w.sl.Posted())
	w.sl.SlashCommand(slackGeneral, bob, "/einsatz", "notify on")
	w.eventually("the answer to /einsatz notify on", func() bool {
		for _, m := range w.sl.Posted()[before:] {
			if strings.Contains(m.Text, "direct message") {
				return true
			}
		}
		return false
	})
	for _, m := range w.sl.Posted()[before:] {
		if strings.Contains(m.Text, "direct message") && m.EphemeralFor != bob {
			t.Errorf("/einsatz notify on answered for %q, want only bob to see it: %+v", m.EphemeralFor, m)
		}
	}
	for _, u := range []struct{ platform, id string }{{"discord", alice.ID}, {"discord", frank.ID}, {"slack", bob}} {
		if on, err := storage.NewInbox(w.store).OptedIn(ctx, u.platform, u.id); err != nil || !on {
			t.Fatalf("%s/%s not opted in (%v)", u.platform, u.id, err)
		}
	}
	w.settle()
	discordThreads := []string{first.ID, daveMsg.ID, frankMsg.ID}
	postsBefore := map[string]int{}
	for _, id := range discordThreads {
		postsBefore[id] = len(w.dc.BotMessages(id))
	}
	slackBefore := len(w.slackThread(bobTS))

	// The status change.
	if _, err := w.svc.SetStatus(ctx, 1, request.StatusPlanned, "Coming in March", "sam"); err != nil {
		t.Fatal(err)
	}
	w.eventually("the DMs", func() bool { return len(w.dc.DirectMessages(alice)) == 1 && len(w.sl.DirectMessages(bob)) == 1 })
	w.settle()
	ad, bd := w.dc.DirectMessages(alice), w.sl.DirectMessages(bob)
	if len(ad) != 1 || len(bd) != 1 {
		t.Fatalf("DMs: alice %d, bob %d; want one each", len(ad), len(bd))
	}
	for who, text := range map[string]string{"alice": ad[0].Content, "bob": bd[0].Text} {
		if !strings.Contains(text, "#1") || !strings.Contains(text, "planned") || !strings.Contains(text, "Coming in March") {
			t.Errorf("DM to %s = %q, want item, status and note", who, text)
		}
	}
	if am := ad[0].AllowedMentions; am == nil || len(am.Parse) != 0 || len(ad[0].Mentions) != 0 {
		t.Errorf("Discord DM allowed mentions = %+v, pings %v; want none", am, ad[0].Mentions)
	}
	if c, ok := w.dc.ChannelInfo(ad[0].ChannelID); !ok || c.Type != discordtest.TypeDM || c.OwnerID != alice.ID {
		t.Errorf("alice's DM went to channel %+v", c)
	}
	if n := len(w.sl.Calls("conversations.open")); n != 1 {
		t.Errorf("conversations.open called %d times, want 1", n)
	}
	if len(w.dc.DirectMessages(dave)) != 0 || len(w.dc.DirectMessages(frank)) != 0 || len(w.sl.DirectMessages(carol)) != 0 {
		t.Error("a DM to someone who did not opt in (or refuses DMs)")
	}
	for _, id := range discordThreads {
		if got := len(w.dc.BotMessages(id)) - postsBefore[id]; got != 1 {
			t.Errorf("Discord thread %s got %d status posts, want 1", id, got)
		}
	}
	if got := len(w.slackThread(bobTS)) - slackBefore; got != 1 {
		t.Errorf("Slack thread got %d status posts, want 1", got)
	}
	if it := w.item(1); it.Status != request.StatusPlanned || it.Changes[len(it.Changes)-1].Posted != 4 {
		t.Errorf("after the change: %s, %+v", it.Status, it.Changes)
	}
	if !strings.Contains(w.logs.String(), "status DM failed") {
		t.Error("frank's refused DM was not logged")
	}

	// alice turns DMs off: the next change reaches only bob.
	notifyDiscord(alice, "off", "no more")
	if _, err := w.svc.SetStatus(ctx, 1, request.StatusInProgress, "", "sam"); err != nil {
		t.Fatal(err)
	}
	w.eventually("bob's second DM", func() bool { return len(w.sl.DirectMessages(bob)) == 2 })
	w.settle()
	if n := len(w.dc.DirectMessages(alice)); n != 1 {
		t.Errorf("alice has %d DMs after /notify off and another change, want still 1", n)
	}
	if got := w.sl.DirectMessages(bob)[1].Text; !strings.Contains(got, "in progress") {
		t.Errorf("bob's second DM = %q", got)
	}

	// The core refuses DMs where the adapter has no such ability (the web
	// chat) or no adapter runs.
	if err := w.core.DirectMessage(ctx, bot.PlatformWeb, "someone", bot.Reply{Text: "hi"}); err == nil || !strings.Contains(err.Error(), "cannot send direct messages") {
		t.Errorf("DM on the web adapter: %v", err)
	}
	if err := w.core.DirectMessage(ctx, "irc", "someone", bot.Reply{Text: "hi"}); err == nil || !strings.Contains(err.Error(), "no adapter") {
		t.Errorf("DM without an adapter: %v", err)
	}
}

// Test: in Chromium, the item page's "Not a request" button (a form with
// the CSRF token) takes item #1 out of the inbox and posts nothing in the
// member's Discord or Slack thread, sends no status webhook; the list no
// longer shows it, the status filter does. The edit form changes the
// title (recorded in the history), the undo button makes the item new
// again, silently too. Then the CLI through the server does the same and
// exports the mentions as negatives.
func TestEndToEndNotARequestInBrowser(t *testing.T) {
	w := startWorld(t, "")
	th := w.crossPlatform()
	w.settle()
	w.svc.Flush()
	discordBefore := len(w.dc.BotMessages(th.discordDark))
	slackBefore := len(w.slackThread(th.slackDark))
	hooksBefore := len(w.hooks.events(1))
	quiet := func(when string) {
		t.Helper()
		w.settle()
		w.svc.Flush()
		if d, s := w.dc.BotMessages(th.discordDark)[discordBefore:], w.slackThread(th.slackDark)[slackBefore:]; len(d) != 0 || len(s) != 0 {
			t.Errorf("%s: posts in the member's threads: Discord %+v, Slack %+v; want none", when, d, s)
		}
		for _, ev := range w.hooks.events(1)[hooksBefore:] {
			if ev == inbox.EventStatus {
				t.Errorf("%s: a status webhook was sent", when)
			}
		}
	}

	ctx := webtest.Browser(t)
	webtest.Do(t, ctx, chromedp.Navigate(w.site.LoginURL()), chromedp.WaitVisible(chromedp.CSS("main.dash")))
	// Without the CSRF token the form post is refused.
	status := webtest.Run(t, ctx, chromedp.Evaluate[float64](`fetch("/dashboard/inbox/1/not-request", {method: "POST", redirect: "manual"}).then(r => r.status)`, chromedp.EvalAwaitPromise))
	if status != 403 {
		t.Errorf("not-request form without CSRF: %v, want 403", status)
	}
	webtest.Do(t, ctx, chromedp.Navigate(w.site.URL()+"/dashboard/inbox/1"), chromedp.WaitVisible(chromedp.ID("not-request-form")))
	webtest.Do(t, ctx, chromedp.Click(chromedp.ID("not-request-submit")))
	webtest.WaitFor(t, ctx, `document.getElementById("flash") !== null && document.getElementById("status-now").textContent === "not request" && document.getElementById("restore-form") !== null && document.getElementById("status-form") === null`)
	if it := w.item(1); it.Status != request.StatusNotRequest || it.Changes[len(it.Changes)-1].By != "admin" {
		t.Errorf("#1 after the button = %s, changes %+v", it.Status, it.Changes)
	}
	quiet("not a request")

	webtest.Do(t, ctx, chromedp.Navigate(w.site.URL()+"/dashboard/inbox"), chromedp.WaitVisible(chromedp.ID("filter")))
	if shown := webtest.Run(t, ctx, chromedp.Evaluate[bool](`document.querySelector('#items tr[data-id="1"]') !== null`)); shown {
		t.Error("the inbox list still shows #1")
	}
	webtest.Do(t, ctx, chromedp.Navigate(w.site.URL()+"/dashboard/inbox?status=not_request"), chromedp.WaitVisible(chromedp.ID("items")))
	if ids := webtest.Run(t, ctx, chromedp.Evaluate[string](`[...document.querySelectorAll("#items tr[data-id]")].map(r => r.dataset.id).join(",")`)); ids != "1" {
		t.Errorf("status=not_request lists %q, want 1", ids)
	}

	// Edit the title, then undo "not a request".
	webtest.Do(t, ctx, chromedp.Navigate(w.site.URL()+"/dashboard/inbox/1"), chromedp.WaitVisible(chromedp.ID("edit-form")))
	webtest.Run(t, ctx, chromedp.Evaluate[bool](`document.getElementById("edit-title").value = "Dark mode"; document.getElementById("edit-summary").value = "A dark theme for the dashboard"; true`))
	webtest.Do(t, ctx, chromedp.Click(chromedp.ID("edit-submit")))
	webtest.WaitFor(t, ctx, `document.getElementById("flash") !== null && document.querySelector("h1, h2") !== null && document.getElementById("changes").textContent.includes("edited title and summary")`)
	if it := w.item(1); it.Title != "Dark mode" || it.Summary != "A dark theme for the dashboard" {
		t.Errorf("#1 after the edit = %q / %q", it.Title, it.Summary)
	}
	webtest.Do(t, ctx, chromedp.Click(chromedp.ID("restore-submit")))
	webtest.WaitFor(t, ctx, `document.getElementById("status-now").textContent === "new" && document.getElementById("not-request-form") !== null`)
	quiet("undo")

	// The CLI through the running server.
	client, err := web.Running(context.Background(), w.dir)
	if err != nil {
		t.Fatal(err)
	}
	run := func(args ...string) string {
		t.Helper()
		var out bytes.Buffer
		cmd := cli.InboxCommand(func(*cobra.Command) (cli.Inbox, func() error, error) {
			return cli.RemoteInbox(client), func() error { return nil }, nil
		}, &out)
		cmd.SetArgs(args)
		if err := cmd.ExecuteContext(context.Background()); err != nil {
			t.Fatalf("einsatz inbox %v: %v", args, err)
		}
		return out.String()
	}
	if out := run("not-request", "1"); !strings.Contains(out, "#1 is marked as not a request") {
		t.Errorf("CLI not-request: %q", out)
	}
	if out := run("edit", "1", "--title", "Dark theme"); !strings.Contains(out, "#1 Dark theme") {
		t.Errorf("CLI edit: %q", out)
	}
	out := run("export", "--not-requests")
	lines := strings.Split(strings.TrimSpace(out), "\n")
	if n := len(w.item(1).Mentions); len(lines) != n || !strings.Contains(lines[0], `"label":"not_request"`) || !strings.Contains(out, "dark mode") {
		t.Errorf("CLI export --not-requests = %q, want %d lines labelled not_request", out, n)
	}
	if out := run("not-request", "1", "--undo"); !strings.Contains(out, "#1 is new again") {
		t.Errorf("CLI undo: %q", out)
	}
	if it := w.item(1); it.Status != request.StatusNew || it.Changes[len(it.Changes)-1].By != "local-cli" {
		t.Errorf("#1 after the CLI = %s, last change %+v", it.Status, it.Changes[len(it.Changes)-1])
	}
	quiet("CLI")
}

// maybeWorld is a world where fakeDetect's borderline "maybe add" (0.4)
// lies between the threshold and the auto-file threshold, with two such
// messages on Discord (#1, #2) and a sure request (#3).
func maybeWorld(t *testing.T) (*world, string) {
	t.Helper()
	w := startWorldWith(t, "", func(o *inbox.Options) { o.Threshold, o.AutoFile = 0.3, 0.5 })
	alice, dave := w.dc.NewUser("alice"), w.dc.NewUser("dave")
	m := w.dc.Post(w.general, alice, "maybe add a calendar export for the events page, not sure", false)
	w.eventually("the first maybe", func() bool { return len(w.items()) == 1 })
	w.dc.Post(w.general, dave, "we could maybe add offline mode to the app some day", false)
	w.eventually("the second maybe", func() bool { return len(w.items()) == 2 })
	w.dc.Post(w.general, dave, "Please add a dark mode for the dashboard", false)
	w.eventually("the request", func() bool { return len(w.items()) == 3 })
	w.settle()
	return w, m.ID
}

// Test: the dashboard's Maybe tab lists the borderline detections (the
// main list does not), and one click on Confirm files one as new without a
// word in the member's thread; "Not a request" removes the other.
func TestEndToEndMaybeInBrowser(t *testing.T) {
	w, thread := maybeWorld(t)
	if got := w.dc.BotMessages(thread); len(got) != 0 {
		t.Fatalf("a maybe was thanked: %+v", got)
	}
	ctx := webtest.Browser(t)
	webtest.Do(t, ctx, chromedp.Navigate(w.site.LoginURL()), chromedp.WaitVisible(chromedp.CSS("main.dash")))
	rows := `[...document.querySelectorAll("#items tr[data-id], #maybe-items tr[data-id]")].map(r => r.dataset.id).join(",")`
	webtest.Do(t, ctx, chromedp.Navigate(w.site.URL()+"/dashboard/inbox"), chromedp.WaitVisible(chromedp.ID("tab-maybe")))
	if ids := webtest.Run(t, ctx, chromedp.Evaluate[string](rows)); ids != "3" {
		t.Errorf("main list = %q, want only the sure request 3", ids)
	}
	if n := webtest.Run(t, ctx, chromedp.Text(chromedp.ID("maybe-count"))); n != "2" {
		t.Errorf("Maybe tab count = %q, want 2", n)
	}
	webtest.Do(t, ctx, chromedp.Click(chromedp.ID("tab-maybe")), chromedp.WaitVisible(chromedp.ID("maybe-items")))
	if ids := webtest.Run(t, ctx, chromedp.Evaluate[string](rows)); ids != "2,1" {
		t.Errorf("Maybe tab = %q, want 2,1 (newest first)", ids)
	}
	webtest.Do(t, ctx, chromedp.Click(chromedp.CSS(`#maybe-items tr[data-id="1"] .confirm-submit`)))
	webtest.WaitFor(t, ctx, `document.getElementById("flash") !== null && document.getElementById("flash").textContent.includes("#1 confirmed") && document.querySelector('#maybe-items tr[data-id="1"]') === null`)
	if it := w.item(1); it.Status != request.StatusNew || it.Changes[len(it.Changes)-1].By != "admin" {
		t.Errorf("#1 after Confirm = %s, changes %+v", it.Status, it.Changes)
	}
	webtest.Do(t, ctx, chromedp.Click(chromedp.CSS(`#maybe-items tr[data-id="2"] .reject-submit`)))
	webtest.WaitFor(t, ctx, `document.getElementById("maybe-empty") !== null && document.getElementById("maybe-count").textContent === "0"`)
	if it := w.item(2); it.Status != request.StatusNotRequest {
		t.Errorf("#2 after Not a request = %s", it.Status)
	}
	w.settle()
	w.svc.Flush()
	if got := w.dc.BotMessages(thread); len(got) != 0 {
		t.Errorf("confirming posted in the member's thread: %+v", got)
	}
	if ev := w.hooks.events(1); len(ev) != 1 || ev[0] != inbox.EventNew {
		t.Errorf("webhooks for #1 = %v, want only %s on confirm", ev, inbox.EventNew)
	}
	if ev := w.hooks.events(2); len(ev) != 0 {
		t.Errorf("webhooks for #2 = %v, want none", ev)
	}

	// The CLI through the running server.
	client, err := web.Running(context.Background(), w.dir)
	if err != nil {
		t.Fatal(err)
	}
	var out bytes.Buffer
	cmd := cli.InboxCommand(func(*cobra.Command) (cli.Inbox, func() error, error) {
		return cli.RemoteInbox(client), func() error { return nil }, nil
	}, &out)
	cmd.SetErr(io.Discard) // the refusal below prints its usage
	cmd.SetArgs([]string{"maybe"})
	if err := cmd.ExecuteContext(context.Background()); err != nil || strings.Contains(out.String(), "#1") || strings.Contains(out.String(), "#2") {
		t.Errorf("CLI maybe after deciding both = %q, %v; want no rows", out.String(), err)
	}
	out.Reset()
	cmd.SetArgs([]string{"confirm", "3"})
	if err := cmd.ExecuteContext(context.Background()); err == nil || !strings.Contains(err.Error(), "not a maybe") {
		t.Errorf("CLI confirm of a request: %q, %v; want refused", out.String(), err)
	}
}
