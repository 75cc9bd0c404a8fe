package cluster

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"sync/atomic"
	"testing"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"

	"github.com/einsatz/einsatz/bot"
	"github.com/einsatz/einsatz/bot/escalation"
	"github.com/einsatz/einsatz/bot/escalation/escalationtest"
	"github.com/einsatz/einsatz/bot/mood"
	"github.com/einsatz/einsatz/bot/mood/moodtest"
	"github.com/einsatz/einsatz/bot/request"
	"github.com/einsatz/einsatz/bot/request/requesttest"
)

// soloJS starts one embedded server for the conformance suites.
func soloJS(t *testing.T) jetstream.JetStream {
	t.Helper()
	addr := soloServer(t, Settings{}).Client
	nc, err := nats.Connect("nats://" + addr)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(nc.Close)
	js, err := jetstream.New(nc)
	if err != nil {
		t.Fatal(err)
	}
	return js
}

// freshBucket makes a bucket of its own for one subtest of a suite.
func freshBucket(t *testing.T, js jetstream.JetStream, n *atomic.Int64) jetstream.KeyValue {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	kv, err := js.CreateOrUpdateKeyValue(ctx, jetstream.KeyValueConfig{Bucket: fmt.Sprintf("suite_%d", n.Add(1))})
	if err != nil {
		t.Fatal(err)
	}
	return kv
}

var quietLog = slog.New(slog.NewTextHandler(io.Discard, nil))

// The shared escalations behave as escalation.Store says (the suite
// storage.Handoff and the in-memory fake pass).
func TestEscalationsConformance(t *testing.T) {
	js := soloJS(t)
	var n, ops atomic.Int64
	escalationtest.Run(t, func(t *testing.T) escalation.Store {
		x, err := watchEscalations(context.Background(), freshBucket(t, js, &n), quietLog, &ops)
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(x.s.stop)
		return x
	})
}

// The shared sentiment store behaves as mood.Store says, over the
// in-memory fake as the node's own store.
func TestMoodConformance(t *testing.T) {
	js := soloJS(t)
	var n, ops atomic.Int64
	moodtest.Run(t, func(t *testing.T) mood.Store {
		m, err := watchMood(context.Background(), freshBucket(t, js, &n), moodtest.NewMem(), quietLog, &ops, bot.SystemClock{})
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(m.stop)
		return m
	})
}

// The shared inbox behaves as request.Store says.
func TestInboxConformance(t *testing.T) {
	js := soloJS(t)
	var n, ops atomic.Int64
	requesttest.Run(t, func(t *testing.T) request.Store {
		s, err := watchShared[inboxRecord](context.Background(), freshBucket(t, js, &n), quietLog, &ops)
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(s.stop)
		return &Inbox{s: s}
	})
}

// Export and erasure reach the shared inbox and escalations: alice's
// mention goes (the item she titled takes bob's words), her vote keeps
// counting without her id, her opt-in goes; her escalation stays without
// her name and summary.
func TestSharedPrivacy(t *testing.T) {
	js := soloJS(t)
	var n, ops atomic.Int64
	ctx := context.Background()
	s, err := watchShared[inboxRecord](ctx, freshBucket(t, js, &n), quietLog, &ops)
	if err != nil {
		t.Fatal(err)
	}
	defer s.stop()
	ib := &Inbox{s: s}
	at := time.Date(2026, 3, 2, 10, 0, 0, 0, time.UTC)
	ask := func(msg, user, text string) (request.Mention, request.Vote) {
		return request.Mention{Platform: "discord", Channel: "gen", Thread: msg, MessageID: msg, UserID: user, Text: text, Time: at, Source: request.SourceDetected},
			request.Vote{Platform: "discord", UserID: user, Name: user, Time: at}
	}
	m1, v1 := ask("m1", "alice", "Please add a dark mode to the dashboard")
	it, _, err := ib.Create(ctx, request.Item{Title: request.Title(m1.Text), Summary: request.Summary(m1.Text), Status: request.StatusNew, Created: at}, m1, v1)
	if err != nil {
		t.Fatal(err)
	}
	m2, v2 := ask("m2", "bob", "A dark theme for the dashboard would be lovely")
	if _, _, _, err := ib.AddMention(ctx, it.ID, m2, v2); err != nil {
		t.Fatal(err)
	}
	if err := ib.SetOptIn(ctx, "discord", "alice", true, at); err != nil {
		t.Fatal(err)
	}
	data, err := ib.Export(ctx, "discord", "alice")
	if err != nil || len(data["inbox"]) != 3 {
		t.Fatalf("alice's inbox export: %d records, %v; want her mention, vote and opt-in", len(data["inbox"]), err)
	}
	res, err := ib.Erase(ctx, "discord", "alice", "admin")
	if err != nil || res.Removed["inbox"] != 2 || res.Anonymized["inbox"] != 1 {
		t.Fatalf("erase: %+v, %v", res, err)
	}
	got, err := ib.Item(ctx, it.ID)
	if err != nil {
		t.Fatal(err)
	}
	if len(got.Mentions) != 1 || got.Mentions[0].UserID != "bob" || got.Title != request.Title(m2.Text) || got.VoteCount != 2 {
		t.Errorf("after erasure: title %q, mentions %+v, %d votes; want bob's words, his mention, 2 votes", got.Title, got.Mentions, got.VoteCount)
	}
	for _, v := range got.Votes {
		if v.UserID == "alice" || v.Name == "alice" {
			t.Errorf("a vote still names alice: %+v", v)
		}
	}
	if on, _ := ib.OptedIn(ctx, "discord", "alice"); on {
		t.Error("alice's opt-in survived the erasure")
	}
	if data, _ := ib.Export(ctx, "discord", "alice"); len(data["inbox"]) != 0 {
		t.Errorf("alice's export after erasure: %d records", len(data["inbox"]))
	}

	x, err := watchEscalations(ctx, freshBucket(t, js, &n), quietLog, &ops)
	if err != nil {
		t.Fatal(err)
	}
	defer x.s.stop()
	thread := bot.ThreadRef{Platform: "discord", ChannelID: "gen", ThreadID: "t"}
	if _, err := x.OpenEscalation(ctx, escalation.Escalation{Thread: thread, User: bot.User{Platform: "discord", ID: "alice", Name: "Alice"},
		Summary: "alice is stuck", Permalink: "https://example.org/t", Created: at, Status: escalation.StatusOpen}); err != nil {
		t.Fatal(err)
	}
	if data, err := x.Export(ctx, "discord", "alice"); err != nil || len(data["escalations"]) != 1 {
		t.Fatalf("alice's escalations export: %d, %v", len(data["escalations"]), err)
	}
	if res, err := x.Erase(ctx, "discord", "alice", "admin"); err != nil || res.Anonymized["escalations"] != 1 {
		t.Fatalf("erase escalations: %+v, %v", res, err)
	}
	e, ok, _ := x.Escalation(ctx, thread)
	if !ok || e.User.ID != "erased" || e.User.Name == "Alice" || e.Summary != "" || e.Permalink != "" || e.Status != escalation.StatusOpen {
		t.Errorf("escalation after erasure: %+v", e)
	}
}

// Old escalations and old counts of status posts are deleted as on one
// machine (storage.message_ttl from creation; 48 hours), also from a
// second node's copy; newer ones stay.
func TestSharedRecordsExpire(t *testing.T) {
	js := soloJS(t)
	var n, ops atomic.Int64
	ctx := context.Background()
	kv := freshBucket(t, js, &n)
	a, err := watchEscalations(ctx, kv, quietLog, &ops)
	if err != nil {
		t.Fatal(err)
	}
	defer a.s.stop()
	b, err := watchEscalations(ctx, kv, quietLog, &ops)
	if err != nil {
		t.Fatal(err)
	}
	defer b.s.stop()
	now := time.Date(2026, 3, 31, 12, 0, 0, 0, time.UTC)
	keep := 30 * 24 * time.Hour
	old := bot.ThreadRef{Platform: "discord", ChannelID: "c", ThreadID: "old"}
	recent := bot.ThreadRef{Platform: "discord", ChannelID: "c", ThreadID: "recent"}
	for thread, created := range map[bot.ThreadRef]time.Time{old: now.Add(-keep), recent: now.Add(-keep + time.Minute)} {
		if _, err := a.OpenEscalation(ctx, escalation.Escalation{Thread: thread, Created: created, Status: escalation.StatusOpen}); err != nil {
			t.Fatal(err)
		}
	}
	waitEscalations(t, b, 2)
	if k, err := a.expire(ctx, now, keep); err != nil || k != 1 {
		t.Fatalf("expire: %d, %v; want the old one", k, err)
	}
	if k, err := b.expire(ctx, now, keep); err != nil || k != 0 {
		t.Errorf("the other node's sweep after it: %d, %v; want nothing left to delete", k, err)
	}
	waitEscalations(t, b, 1)
	if _, ok, _ := b.Escalation(ctx, recent); !ok {
		t.Error("the recent escalation was deleted")
	}

	s, err := watchShared[inboxRecord](ctx, freshBucket(t, js, &n), quietLog, &ops)
	if err != nil {
		t.Fatal(err)
	}
	defer s.stop()
	ib := &Inbox{s: s}
	for _, day := range []time.Time{now.AddDate(0, 0, -2), now.AddDate(0, 0, -1)} {
		if ok, err := ib.TakeNotice(ctx, "discord", "gen", day, 1); err != nil || !ok {
			t.Fatal(ok, err)
		}
	}
	if k, err := ib.expire(ctx, now); err != nil || k != 1 {
		t.Fatalf("expire notices: %d, %v; want the day before yesterday's", k, err)
	}
	if ok, _ := ib.TakeNotice(ctx, "discord", "gen", now.AddDate(0, 0, -1), 1); ok {
		t.Error("yesterday's count was lost: another status post was allowed over the cap")
	}
}

func waitEscalations(t *testing.T, x *Escalations, want int) {
	t.Helper()
	deadline := time.Now().Add(5 * time.Second)
	for {
		all, _ := x.Escalations(context.Background())
		if len(all) == want {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("%d escalations, want %d", len(all), want)
		}
		time.Sleep(10 * time.Millisecond)
	}
}
