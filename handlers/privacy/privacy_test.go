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
	ho := handoff.New(handoff.Options{Store: store, Poster: poster, Logger: discard, Text: text,
		StaffChannel: bot.ThreadRef{Platform: "console", ChannelID: "staff"}})
	mon := monitor.New(monitor.Options{Store: store, Logger: discard, Analyze: func(t, _ string) monitor.Score {
		if strings.Contains(t, "hate") {
			return monitor.Score{Label: monitor.Negative, Score: -0.8}
		}
		return monitor.Score{Label: monitor.Neutral}
	}})
	pv := privacy.New(store, text, nil)
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

	h.Say(":user walburga", ":thread other", "/forget-me")
	h.WaitFor("TEXT:forget_me_confirm", 1)
	h.Say("/forget-me confirm")
	h.WaitFor("TEXT:forget_me_done", 1)
	h.Stop()

	ctx := context.Background()
	var hits []string
	var bobKept, aggregates int
	err = store.Dump(ctx, func(k, v []byte) error {
		kv := string(k) + " " + string(v)
		for _, needle := range append([]string{"walburga", "zebra-7731", "refunds", "lamarck"}, secrets...) {
			if strings.Contains(kv, needle) {
				hits = append(hits, string(k)+" holds "+needle)
			}
		}
		if strings.Contains(kv, "bob here") {
			bobKept++
		}
		if strings.HasPrefix(string(k), "sent/day/") {
			var b monitor.Bucket
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
	esc, _ := store.Escalations(ctx)
	if len(esc) != 1 || esc[0].User.ID != "erased" {
		t.Fatalf("escalations = %+v: want the one escalation kept without the member", esc)
	}
}

func TestExportHasEverything(t *testing.T) {
	store, err := storage.Open(storage.Options{InMemory: true, Logger: discard})
	if err != nil {
		t.Fatal(err)
	}
	defer store.Close()
	mon := monitor.New(monitor.Options{Store: store, Logger: discard, Analyze: func(string, string) monitor.Score { return monitor.Score{Label: monitor.Neutral} }})
	core := bot.New(bot.Options{Store: store, Router: bot.NewRouter(nil), Observers: []bot.Observer{mon}, Logger: discard})
	ctx := context.Background()
	for i, txt := range []string{"first words", "second words"} {
		if _, err := core.Replay(ctx, bot.Event{Key: "k" + txt, Kind: bot.KindMessage, Platform: "slack", ChannelID: "C1", MessageID: txt,
			User: bot.User{Platform: "slack", ID: "U9"}, Text: txt, Time: time.Now().Add(time.Duration(i) * time.Minute)}); err != nil {
			t.Fatal(err)
		}
	}
	data, err := store.ExportUser(ctx, "slack", "U9")
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
