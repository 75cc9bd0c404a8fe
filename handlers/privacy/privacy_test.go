package privacy_test

import (
	"context"
	"encoding/json"
	"log/slog"
	"strings"
	"testing"
	"time"

	"github.com/einsatz/einsatz/adapters/console/consoletest"
	"github.com/einsatz/einsatz/bot"
	"github.com/einsatz/einsatz/bot/mood"
	"github.com/einsatz/einsatz/bot/qa"
	"github.com/einsatz/einsatz/bot/request"
	"github.com/einsatz/einsatz/handlers/handoff"
	"github.com/einsatz/einsatz/handlers/monitor"
	"github.com/einsatz/einsatz/handlers/privacy"
	"github.com/einsatz/einsatz/storage"
)

var discard = slog.New(slog.DiscardHandler)

func text(_, key string) string { return "TEXT:" + key }

type staffPoster struct{ core *bot.Bot }

func (p staffPoster) Post(ctx context.Context, to bot.ThreadRef, r bot.Reply) error {
	if to.ChannelID == "staff" {
		return nil
	}
	return p.core.Post(ctx, to, r)
}

// A member's data is gone after /forget-me: no key or value in the whole
// database holds their id or anything they wrote, while the other member's
// data and the aggregates stay.
func TestForgetMeLeavesNoTrace(t *testing.T) {
	store, err := storage.Open(storage.Options{InMemory: true, Logger: discard})
	if err != nil {
		t.Fatal(err)
	}
	defer store.Close()
	poster := &staffPoster{}
	ho := handoff.New(handoff.Options{Store: storage.NewHandoff(store), Owners: store, Poster: poster, Logger: discard, Text: text,
		StaffChannel: bot.ThreadRef{Platform: "console", ChannelID: "staff"}})
	mon := monitor.New(monitor.Options{Store: storage.NewSentiment(store), Logger: discard, Analyze: func(t, _ string) monitor.Score {
		if strings.Contains(t, "hate") {
			return monitor.Score{Label: mood.Negative, Score: -0.8}
		}
		return monitor.Score{Label: mood.Neutral}
	}})
	pv := privacy.New(privacy.People{Part: storage.Parts(store)}, text, nil)
	router := bot.NewRouter(bot.HandlerFunc(func(_ context.Context, ev *bot.Event) ([]bot.Reply, error) {
		return []bot.Reply{{Text: "You said: " + ev.Text}}, nil // the bot quotes: its replies hold the member's words
	}))
	for _, r := range append(pv.Routes(), ho.Routes()...) {
		router.Add(r)
	}
	core := bot.New(bot.Options{Store: store, Router: router, Observers: []bot.Observer{mon, ho}, Logger: discard})
	poster.core = core
	h := consoletest.Start(t, func(ctx context.Context, a bot.Adapter) error { return core.Run(ctx, a) })

	secrets := []string{"zebra-7731 is my order number", "I hate waiting for refunds", "please talk to a human about lamarck"}
	h.Say(":user walburga", ":thread solo", secrets[0], secrets[1])
	h.Say(":thread shared", secrets[2], ":user bob", "bob here, also waiting")
	// Everything she wrote is handled (the threads run in parallel) before she asks.
	h.WaitFor("You said: "+secrets[0], 1)
	h.WaitFor("You said: "+secrets[1], 1)
	h.WaitFor("You said: bob here", 1)
	h.WaitFor("TEXT:handoff_asked", 1)

	// Her feature request became an inbox item; she also added her words
	// to bob's request (which votes for it) and voted for another of his;
	// and she asked a question and rated answers Helpful / Not helpful.
	ctx := context.Background()
	req, metoo, question := "a quokka-themed dark mode", "me too, my night-owl eyes agree", "how do I reset the zither-9 router"
	items := feedbackAndRequests(t, store, req, metoo, question)

	h.Say(":user walburga", ":thread other", "/forget-me")
	h.WaitFor("TEXT:forget_me_confirm", 1)
	h.Say("/forget-me confirm")
	h.WaitFor("TEXT:forget_me_done", 1)
	h.Stop()

	var hits []string
	var bobKept, aggregates int
	err = store.Dump(ctx, func(k, v []byte) error {
		kv := strings.ToLower(string(k) + " " + string(v))
		for _, needle := range append([]string{"walburga", "zebra-7731", "refunds", "lamarck", "quokka", "night-owl", "zither-9",
			req, metoo, question}, secrets...) {
			if strings.Contains(kv, needle) {
				hits = append(hits, string(k)+" holds "+needle)
			}
		}
		if strings.Contains(kv, "bob here") {
			bobKept++
		}
		if strings.HasPrefix(string(k), "sent/day/") {
			var b mood.Bucket
			if json.Unmarshal(v, &b) == nil {
				aggregates += b.N
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if len(hits) > 0 {
		t.Fatalf("after erasure the database still holds the member's data:\n%s", strings.Join(hits, "\n"))
	}
	if bobKept == 0 {
		t.Fatal("the other member's message was erased too")
	}
	if aggregates != 4 { // walburga 3, bob 1: counts stay
		t.Fatalf("sentiment aggregates lost counts: %d", aggregates)
	}
	audit, _ := store.Audit(ctx)
	if len(audit) == 0 || audit[len(audit)-1].Action != "erase" || strings.Contains(audit[len(audit)-1].Target, "walburga") {
		t.Fatalf("audit = %+v: want an erase entry that does not say whose", audit)
	}
	esc, _ := storage.NewHandoff(store).Escalations(ctx)
	if len(esc) != 1 || esc[0].User.ID != "erased" {
		t.Fatalf("escalations = %+v: want the one escalation kept without the member", esc)
	}
	items.checkAfterErasure(t, store)
}

// erasedFixture is what feedbackAndRequests wrote, to check after erasure.
type erasedFixture struct {
	hers, bobsMentioned, bobsVoted int    // inbox items
	herQuestion, bobsQuestion      string // support question ids
	bobsTitle                      string
}

const bobsRequest = "export to a spreadsheet please"

// feedbackAndRequests stores, through the storage methods, walburga's
// inbox item, her mention (and so her vote) on bob's item, her plain vote
// on another of bob's items, her question rated Not helpful by her, and
// her Helpful rating of bob's question.
func feedbackAndRequests(t *testing.T, store *storage.Store, req, metoo, question string) erasedFixture {
	t.Helper()
	ctx, now, p := context.Background(), time.Now(), bot.PlatformConsole
	her := request.Vote{Platform: p, UserID: "walburga", Name: "walburga", Time: now}
	bob := request.Vote{Platform: p, UserID: "bob", Name: "bob", Time: now}
	mention := func(user, id, text string) request.Mention {
		return request.Mention{Platform: p, Channel: "general", MessageID: id, UserID: user, UserName: user, Text: text, Time: now, Source: "feedback"}
	}
	item := func(text string) request.Item {
		return request.Item{Title: request.Title(text), Summary: request.Summary(text), Status: request.StatusNew, Created: now, Updated: now}
	}
	var f erasedFixture
	hers, _, err := storage.NewInbox(store).Create(ctx, item(req), mention("walburga", "m1", req), her)
	if err != nil {
		t.Fatal(err)
	}
	mentioned, _, err := storage.NewInbox(store).Create(ctx, item(bobsRequest), mention("bob", "m2", bobsRequest), bob)
	if err != nil {
		t.Fatal(err)
	}
	voted, _, err := storage.NewInbox(store).Create(ctx, item("a calendar feed of events"), mention("bob", "m3", "a calendar feed of events"), bob)
	if err != nil {
		t.Fatal(err)
	}
	if it, added, v, err := storage.NewInbox(store).AddMention(ctx, mentioned.ID, mention("walburga", "m4", metoo), her); err != nil || !added || !v || it.VoteCount != 2 {
		t.Fatalf("her mention on bob's item: %+v added=%v voted=%v %v", it, added, v, err)
	}
	if it, v, err := storage.NewInbox(store).Vote(ctx, voted.ID, her); err != nil || !v || it.VoteCount != 2 {
		t.Fatalf("her vote on bob's item: %+v voted=%v %v", it, v, err)
	}
	f.hers, f.bobsMentioned, f.bobsVoted, f.bobsTitle = hers.ID, mentioned.ID, voted.ID, mentioned.Title

	thread := bot.ThreadRef{Platform: p, ChannelID: "help", ThreadID: "q1"}
	if f.herQuestion, err = storage.NewSupport(store).AddQuestion(ctx, qa.Question{Time: now, Thread: thread, UserID: "walburga", Text: question, Outcome: "answered"}); err != nil {
		t.Fatal(err)
	}
	thread.ThreadID = "q2"
	if f.bobsQuestion, err = storage.NewSupport(store).AddQuestion(ctx, qa.Question{Time: now, Thread: thread, UserID: "bob", Text: "where is the changelog", Outcome: "answered"}); err != nil {
		t.Fatal(err)
	}
	for _, v := range []qa.Vote{
		{QuestionID: f.herQuestion, Platform: p, UserID: "walburga", Helpful: false, Time: now},
		{QuestionID: f.bobsQuestion, Platform: p, UserID: "walburga", Helpful: true, Time: now},
		{QuestionID: f.bobsQuestion, Platform: p, UserID: "bob", Helpful: true, Time: now},
	} {
		if err := storage.NewSupport(store).PutVote(ctx, v); err != nil {
			t.Fatal(err)
		}
	}
	return f
}

// checkAfterErasure: her votes keep counting without naming her (the inbox
// rule, storage.Inbox.Erase), her mentions and words are gone, bob's items
// keep their title, mention and vote count; her question and her ratings
// (support feedback is deleted, not anonymised) are gone, bob's question
// and rating stay.
func (f erasedFixture) checkAfterErasure(t *testing.T, store *storage.Store) {
	t.Helper()
	ctx := context.Background()
	all, err := storage.NewInbox(store).Items(ctx)
	if err != nil {
		t.Fatal(err)
	}
	byID := map[int]request.Item{}
	for _, it := range all {
		byID[it.ID] = it
	}
	wantVotes := map[int]int{f.hers: 1, f.bobsMentioned: 2, f.bobsVoted: 2}
	for id, n := range wantVotes {
		it, ok := byID[id]
		if !ok {
			t.Fatalf("inbox item #%d is gone after the erasure", id)
		}
		stored, err := storage.NewInbox(store).Item(ctx, id)
		if err != nil {
			t.Fatal(err)
		}
		if it.VoteCount != n || stored.VoteCount != n || len(stored.Votes) != n {
			t.Errorf("item #%d votes = %d (list %d, one read %d), want %d: an erased person's vote keeps counting",
				id, it.VoteCount, len(stored.Votes), stored.VoteCount, n)
		}
		for _, v := range stored.Votes {
			if v.UserID != "bob" && (!strings.HasPrefix(v.UserID, "erased-") || v.Name != "") {
				t.Errorf("item #%d keeps a vote naming someone: %+v", id, v)
			}
		}
		for _, m := range stored.Mentions {
			if m.UserID != "bob" {
				t.Errorf("item #%d keeps her mention: %+v", id, m)
			}
		}
	}
	if it := byID[f.hers]; len(it.Mentions) != 0 {
		t.Errorf("her item keeps mentions: %+v", it.Mentions)
	}
	if it := byID[f.bobsMentioned]; it.Title != f.bobsTitle || len(it.Mentions) != 1 {
		t.Errorf("bob's item = %q with %d mentions, want %q with his one mention", it.Title, len(it.Mentions), f.bobsTitle)
	}
	if _, found, err := storage.NewSupport(store).Question(ctx, f.herQuestion); err != nil || found {
		t.Errorf("her question: found=%v %v, want it erased", found, err)
	}
	q, found, err := storage.NewSupport(store).Question(ctx, f.bobsQuestion)
	if err != nil || !found || len(q.Votes) != 1 || q.Votes[0].UserID != "bob" {
		t.Errorf("bob's question = %+v found=%v %v: want it kept with only his rating", q, found, err)
	}
}

func TestExportHasEverything(t *testing.T) {
	store, err := storage.Open(storage.Options{InMemory: true, Logger: discard})
	if err != nil {
		t.Fatal(err)
	}
	defer store.Close()
	mon := monitor.New(monitor.Options{Store: storage.NewSentiment(store), Logger: discard, Analyze: func(string, string) monitor.Score { return monitor.Score{Label: mood.Neutral} }})
	core := bot.New(bot.Options{Store: store, Router: bot.NewRouter(nil), Observers: []bot.Observer{mon}, Logger: discard})
	ctx := context.Background()
	for i, txt := range []string{"first words", "second words"} {
		if _, err := core.Replay(ctx, bot.Event{Key: "k" + txt, Kind: bot.KindMessage, Platform: "slack", ChannelID: "C1", MessageID: txt,
			User: bot.User{Platform: "slack", ID: "U9"}, Text: txt, Time: time.Now().Add(time.Duration(i) * time.Minute)}); err != nil {
			t.Fatal(err)
		}
	}
	data, err := privacy.People{Part: storage.Parts(store)}.ExportUser(ctx, "slack", "U9")
	if err != nil {
		t.Fatal(err)
	}
	if len(data.Records["messages"]) != 2 || len(data.Records["sentiment"]) != 2 {
		t.Fatalf("export = %v", data.Records)
	}
	if !strings.Contains(string(data.Records["messages"][0]), "first words") {
		t.Fatalf("export lacks the message text: %s", data.Records["messages"][0])
	}
}
