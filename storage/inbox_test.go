package storage

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/dgraph-io/badger/v4"

	"github.com/einsatz/einsatz/bot/request"
)

var inboxT0 = time.Date(2026, 3, 2, 10, 0, 0, 0, time.UTC)

func inboxMention(platform, channel, msg, user, text string, at time.Time) (request.Mention, request.Vote) {
	return request.Mention{Platform: platform, Channel: channel, Thread: msg, MessageID: msg, UserID: user, UserName: user, Text: text, Time: at, Source: request.SourceDetected},
		request.Vote{Platform: platform, UserID: user, Name: user, Time: at}
}

// Test: items are numbered #1, #2, … and come back with their first
// mention and the author's vote; the same message filed twice stores
// nothing new.
func TestInboxNumbersItemsAndDedupesMessages(t *testing.T) {
	s := openTest(t, Options{InMemory: true})
	ctx := context.Background()
	m1, v1 := inboxMention("discord", "gen", "m1", "alice", "dark mode please", inboxT0)
	it, created, err := NewInbox(s).Create(ctx, request.Item{Title: "Dark mode", Status: request.StatusNew, Created: inboxT0, Updated: inboxT0}, m1, v1)
	if err != nil || !created || it.ID != 1 || it.VoteCount != 1 || len(it.Mentions) != 1 || len(it.Votes) != 1 {
		t.Fatalf("first item = %+v, created %v, err %v", it, created, err)
	}
	m2, v2 := inboxMention("slack", "C1", "1.1", "bob", "export to csv", inboxT0)
	it2, created, err := NewInbox(s).Create(ctx, request.Item{Title: "CSV", Status: request.StatusNew}, m2, v2)
	if err != nil || !created || it2.ID != 2 {
		t.Fatalf("second item = %+v, created %v, err %v", it2, created, err)
	}
	again, created, err := NewInbox(s).Create(ctx, request.Item{Title: "Dark mode again"}, m1, v1)
	if err != nil || created || again.ID != 1 {
		t.Fatalf("the same message again: item %d created %v err %v, want #1 and not created", again.ID, created, err)
	}
	_, added, voted, err := NewInbox(s).AddMention(ctx, 2, m1, v1)
	if err != nil || added || voted {
		t.Fatalf("a filed message as mention of another item: added %v voted %v err %v", added, voted, err)
	}
	if _, err := NewInbox(s).Item(ctx, 9); !errors.Is(err, request.ErrNotFound) {
		t.Errorf("missing item: err = %v, want ErrNotFound", err)
	}
	items, err := NewInbox(s).Items(ctx)
	if err != nil || len(items) != 2 || items[0].ID != 1 || items[1].ID != 2 {
		t.Fatalf("items = %+v, err %v", items, err)
	}
}

// Test: one vote per person per item, whether by mention or by button;
// mentions and votes are indexed under the person for export and erasure.
func TestInboxOneVotePerPerson(t *testing.T) {
	s := openTest(t, Options{InMemory: true})
	ctx := context.Background()
	m1, v1 := inboxMention("discord", "gen", "m1", "alice", "dark mode please", inboxT0)
	if _, _, err := NewInbox(s).Create(ctx, request.Item{Title: "Dark mode", Status: request.StatusNew}, m1, v1); err != nil {
		t.Fatal(err)
	}
	m2, v2 := inboxMention("discord", "gen", "m2", "alice", "still want dark mode", inboxT0.Add(time.Hour))
	it, added, voted, err := NewInbox(s).AddMention(ctx, 1, m2, v2)
	if err != nil || !added || voted || it.VoteCount != 1 || len(it.Mentions) != 2 {
		t.Fatalf("alice again: added %v voted %v votes %d mentions %d err %v", added, voted, it.VoteCount, len(it.Mentions), err)
	}
	for i, tc := range []struct {
		vote request.Vote
		want bool
	}{
		{request.Vote{Platform: "slack", UserID: "alice", Time: inboxT0}, true}, // same id, other platform: another person
		{request.Vote{Platform: "slack", UserID: "alice", Time: inboxT0}, false},
		{request.Vote{Platform: "discord", UserID: "bob", Time: inboxT0}, true},
		{request.Vote{Platform: "discord", UserID: "alice", Time: inboxT0}, false},
	} {
		_, voted, err := NewInbox(s).Vote(ctx, 1, tc.vote)
		if err != nil || voted != tc.want {
			t.Errorf("vote %d: voted %v err %v, want %v", i, voted, err, tc.want)
		}
	}
	it, _ = NewInbox(s).Item(ctx, 1)
	if it.VoteCount != 3 || len(it.Votes) != 3 {
		t.Errorf("votes = %d (%d records), want 3", it.VoteCount, len(it.Votes))
	}
	keys, err := s.UserRecords(ctx, "discord", "alice")
	if err != nil {
		t.Fatal(err)
	}
	var mentions, votes int
	for _, k := range keys {
		switch {
		case strings.HasPrefix(k, prefixInboxMention):
			mentions++
		case strings.HasPrefix(k, prefixInboxVote):
			votes++
		}
	}
	if mentions != 2 || votes != 1 {
		t.Errorf("alice's indexed records: %d mentions, %d votes (%v), want 2 and 1", mentions, votes, keys)
	}
}

// Test: a merge moves mentions and votes (a person who voted for both
// keeps one vote), re-points the message index and the user index, and
// marks the source a duplicate.
func TestInboxMerge(t *testing.T) {
	s := openTest(t, Options{InMemory: true})
	ctx := context.Background()
	m1, v1 := inboxMention("discord", "gen", "m1", "alice", "dark mode", inboxT0)
	m2, v2 := inboxMention("slack", "C1", "1.1", "bob", "a dark theme", inboxT0)
	NewInbox(s).Create(ctx, request.Item{Title: "Dark mode", Status: request.StatusNew}, m1, v1)
	NewInbox(s).Create(ctx, request.Item{Title: "Dark theme", Status: request.StatusNew}, m2, v2)
	// Alice voted for both.
	if _, voted, _ := NewInbox(s).Vote(ctx, 2, v1); !voted {
		t.Fatal("alice's vote for #2 not counted")
	}
	ch := request.Change{From: request.StatusNew, To: request.StatusDuplicate, By: "staff", Time: inboxT0.Add(time.Hour)}
	into, err := NewInbox(s).Merge(ctx, 2, 1, ch)
	if err != nil {
		t.Fatal(err)
	}
	if into.VoteCount != 2 || len(into.Votes) != 2 || len(into.Mentions) != 2 {
		t.Errorf("merged item: votes %d (%d records), mentions %d; want 2, 2, 2", into.VoteCount, len(into.Votes), len(into.Mentions))
	}
	dup, _ := NewInbox(s).Item(ctx, 2)
	if dup.Status != request.StatusDuplicate || dup.DuplicateOf != 1 || dup.VoteCount != 0 || len(dup.Mentions) != 0 || len(dup.Votes) != 0 || len(dup.Changes) != 1 {
		t.Errorf("duplicate = %+v", dup)
	}
	// Bob's message now belongs to #1.
	if it, added, _, err := NewInbox(s).AddMention(ctx, 1, m2, v2); err != nil || added || it.ID != 1 {
		t.Errorf("bob's message after merge: item %d added %v err %v", it.ID, added, err)
	}
	keys, _ := s.UserRecords(ctx, "slack", "bob")
	for _, k := range keys {
		if strings.Contains(k, inboxID(2)) {
			t.Errorf("user index still points at #2: %s", k)
		}
	}
	if len(keys) != 2 {
		t.Errorf("bob's records = %v, want a mention and a vote", keys)
	}
}

// Test: the daily cap counts per channel and day.
func TestInboxNoticeCap(t *testing.T) {
	s := openTest(t, Options{InMemory: true})
	ctx := context.Background()
	day := inboxT0.Truncate(24 * time.Hour)
	for i, tc := range []struct {
		channel string
		day     time.Time
		want    bool
	}{
		{"a", day, true}, {"a", day, true}, {"a", day, false}, {"b", day, true}, {"a", day.AddDate(0, 0, 1), true},
	} {
		ok, err := NewInbox(s).TakeNotice(ctx, "discord", tc.channel, tc.day, 2)
		if err != nil || ok != tc.want {
			t.Errorf("notice %d in %s: %v (err %v), want %v", i, tc.channel, ok, err, tc.want)
		}
	}
}

// Test: an update that fn refuses writes nothing.
func TestInboxUpdateRefused(t *testing.T) {
	s := openTest(t, Options{InMemory: true})
	ctx := context.Background()
	m1, v1 := inboxMention("discord", "gen", "m1", "alice", "dark mode", inboxT0)
	NewInbox(s).Create(ctx, request.Item{Title: "Dark mode", Status: request.StatusNew}, m1, v1)
	refuse := errors.New("no")
	if _, err := NewInbox(s).Update(ctx, 1, func(it *request.Item) error { it.Status = "x"; return refuse }); !errors.Is(err, refuse) {
		t.Fatalf("err = %v", err)
	}
	if it, _ := NewInbox(s).Item(ctx, 1); it.Status != request.StatusNew {
		t.Errorf("status = %q after a refused update", it.Status)
	}
}

// Test: the erasure rule keeps a person's vote counted without their id
// and lets their mention go.
func TestInboxAnonymizeVote(t *testing.T) {
	s := openTest(t, Options{InMemory: true})
	ctx := context.Background()
	m1, v1 := inboxMention("discord", "gen", "m1", "alice", "dark mode", inboxT0)
	NewInbox(s).Create(ctx, request.Item{Title: "Dark mode", Status: request.StatusNew}, m1, v1)
	NewInbox(s).Vote(ctx, 1, request.Vote{Platform: "discord", UserID: "bob", Time: inboxT0})
	keys, _ := s.UserRecords(ctx, "discord", "alice")
	err := s.commit(ctx, func(txn *badger.Txn) error {
		for _, k := range keys {
			done, err := s.anonymizeInboxRecord(txn, k, "alice")
			if err != nil {
				return err
			}
			if strings.HasPrefix(k, prefixInboxVote) != done {
				t.Errorf("%s: anonymised %v", k, done)
			}
			if !done {
				if err := txn.Delete([]byte(k)); err != nil {
					return err
				}
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	it, _ := NewInbox(s).Item(ctx, 1)
	if it.VoteCount != 2 || len(it.Mentions) != 0 {
		t.Fatalf("after erasure: %d votes, %d mentions; want 2 and 0", it.VoteCount, len(it.Mentions))
	}
	for _, v := range it.Votes {
		if v.UserID == "alice" {
			t.Errorf("alice still named in %+v", it.Votes)
		}
	}
}

// Test: /notify's opt-in is stored with a user index entry (so export
// shows it), off deletes record and index entry, and erasure (the inbox's part)
// deletes the opt-in record outright rather than anonymising it.
func TestInboxOptInSetUnsetAndErased(t *testing.T) {
	s := openTest(t, Options{InMemory: true})
	ctx := context.Background()
	key := string(inboxOptInKey("discord", "alice"))
	on := func(platform, user string) bool {
		t.Helper()
		ok, err := NewInbox(s).OptedIn(ctx, platform, user)
		if err != nil {
			t.Fatal(err)
		}
		return ok
	}
	exists := func(k string) bool {
		t.Helper()
		found := false
		if err := s.view(func(txn *badger.Txn) error {
			_, err := txn.Get([]byte(k))
			if errors.Is(err, badger.ErrKeyNotFound) {
				return nil
			}
			found = err == nil
			return err
		}); err != nil {
			t.Fatal(err)
		}
		return found
	}
	if on("discord", "alice") {
		t.Fatal("opted in before /notify on")
	}
	if err := NewInbox(s).SetOptIn(ctx, "discord", "alice", true, inboxT0); err != nil {
		t.Fatal(err)
	}
	if !on("discord", "alice") || on("slack", "alice") || on("discord", "bob") {
		t.Fatal("opt-in not stored for exactly discord/alice")
	}
	if keys, _ := s.UserRecords(ctx, "discord", "alice"); len(keys) != 1 || keys[0] != key {
		t.Fatalf("user index = %v, want [%s]", keys, key)
	}
	if data, err := exportUser(ctx, s, "discord", "alice"); err != nil || len(data.Records["inbox"]) != 1 || !strings.Contains(string(data.Records["inbox"][0]), `"user_id":"alice"`) {
		t.Fatalf("export = %+v, %v", data.Records, err)
	}
	if err := NewInbox(s).SetOptIn(ctx, "discord", "alice", false, inboxT0); err != nil {
		t.Fatal(err)
	}
	if on("discord", "alice") || exists(key) || exists(string(userIndexKey("discord", "alice", key))) {
		t.Fatal("off left the record or its index entry")
	}
	if err := NewInbox(s).SetOptIn(ctx, "discord", "alice", false, inboxT0); err != nil {
		t.Fatalf("off twice: %v", err)
	}

	// On again, with a mention and a vote; then erasure.
	if err := NewInbox(s).SetOptIn(ctx, "discord", "alice", true, inboxT0); err != nil {
		t.Fatal(err)
	}
	if err := NewInbox(s).SetOptIn(ctx, "discord", "bob", true, inboxT0); err != nil {
		t.Fatal(err)
	}
	m1, v1 := inboxMention("discord", "gen", "m1", "alice", "dark mode please", inboxT0)
	if _, _, err := NewInbox(s).Create(ctx, request.Item{Title: "Dark mode", Status: request.StatusNew}, m1, v1); err != nil {
		t.Fatal(err)
	}
	res, err := eraseUser(ctx, s, "discord", "alice", "admin")
	if err != nil {
		t.Fatal(err)
	}
	if exists(key) || on("discord", "alice") || exists(string(userIndexKey("discord", "alice", key))) {
		t.Fatal("erasure left alice's opt-in")
	}
	if res.Removed["inbox"] != 2 || res.Anonymized["inbox"] != 1 {
		t.Errorf("erasure = %+v, want the mention and the opt-in removed, the vote anonymised", res)
	}
	if !on("discord", "bob") {
		t.Error("erasing alice removed bob's opt-in")
	}
}

// Erasure takes the person's words out of an item's title and summary too:
// from another asker's wording when there is one, else a neutral title.
func TestInboxErasureRetitles(t *testing.T) {
	s := openTest(t, Options{InMemory: true})
	ctx := context.Background()
	aliceText := "Please add a zebra-striped dark mode for my setup"
	m1, v1 := inboxMention("discord", "gen", "m1", "alice", aliceText, inboxT0)
	NewInbox(s).Create(ctx, request.Item{Title: request.Title(aliceText), Summary: request.Summary(aliceText), Status: request.StatusNew}, m1, v1)
	m2, v2 := inboxMention("slack", "C1", "m2", "bob", "dark mode would be great", inboxT0.Add(time.Minute))
	if _, _, _, err := NewInbox(s).AddMention(ctx, 1, m2, v2); err != nil {
		t.Fatal(err)
	}
	m3, v3 := inboxMention("discord", "gen", "m3", "alice", "Export to iCal for the zebra calendar", inboxT0)
	NewInbox(s).Create(ctx, request.Item{Title: request.Title(m3.Text), Summary: request.Summary(m3.Text), Status: request.StatusNew}, m3, v3)

	if _, err := eraseUser(ctx, s, "discord", "alice", "test"); err != nil {
		t.Fatal(err)
	}
	one, _ := NewInbox(s).Item(ctx, 1)
	two, _ := NewInbox(s).Item(ctx, 2)
	if one.Title != "dark mode would be great" || one.VoteCount != 2 {
		t.Fatalf("item 1 = %q (%d votes), want bob's wording and both votes", one.Title, one.VoteCount)
	}
	if strings.Contains(two.Title+two.Summary, "zebra") || two.VoteCount != 1 {
		t.Fatalf("item 2 = %q / %q (%d votes), want a neutral title and the vote kept", two.Title, two.Summary, two.VoteCount)
	}
}
