package requesttest

import (
	"context"
	"errors"
	"slices"
	"testing"
	"time"

	"github.com/einsatz/einsatz/bot/request"
)

var t0 = time.Date(2026, 3, 2, 10, 0, 0, 0, time.UTC)

func ask(platform, channel, msg, user, text string, at time.Time) (request.Mention, request.Vote) {
	return request.Mention{Platform: platform, Channel: channel, Thread: msg, MessageID: msg, UserID: user, UserName: user, Text: text, Time: at, Source: request.SourceDetected},
		request.Vote{Platform: platform, UserID: user, Name: user, Time: at}
}

// Run checks that the stores newStore makes (a fresh, empty one per call)
// behave as request.Store says.
func Run(t *testing.T, newStore func(t *testing.T) request.Store) {
	t.Run("NumbersItemsAndDedupesMessages", func(t *testing.T) {
		s, ctx := newStore(t), context.Background()
		m1, v1 := ask("discord", "gen", "m1", "alice", "dark mode please", t0)
		it, created, err := s.Create(ctx, request.Item{Title: "Dark mode", Status: request.StatusNew, Created: t0, Updated: t0}, m1, v1)
		if err != nil || !created || it.ID != 1 || it.VoteCount != 1 || len(it.Mentions) != 1 || len(it.Votes) != 1 || it.Title != "Dark mode" {
			t.Fatalf("first item = %+v, created %v, err %v", it, created, err)
		}
		m2, v2 := ask("slack", "C1", "1.1", "bob", "export to csv", t0)
		it2, created, err := s.Create(ctx, request.Item{Title: "CSV", Status: request.StatusNew}, m2, v2)
		if err != nil || !created || it2.ID != 2 {
			t.Fatalf("second item = %+v, created %v, err %v", it2, created, err)
		}
		again, created, err := s.Create(ctx, request.Item{Title: "Dark mode again"}, m1, v1)
		if err != nil || created || again.ID != 1 || again.Title != "Dark mode" {
			t.Fatalf("the same message again: item %+v created %v err %v, want #1 unchanged and not created", again, created, err)
		}
		it, added, voted, err := s.AddMention(ctx, 2, m1, v1)
		if err != nil || added || voted || it.ID != 1 {
			t.Fatalf("a filed message as mention of another item: item %d added %v voted %v err %v", it.ID, added, voted, err)
		}
		if _, err := s.Item(ctx, 9); !errors.Is(err, request.ErrNotFound) {
			t.Errorf("missing item: err = %v, want ErrNotFound", err)
		}
		if _, _, err := s.Vote(ctx, 9, v1); !errors.Is(err, request.ErrNotFound) {
			t.Errorf("vote for a missing item: err = %v, want ErrNotFound", err)
		}
		if _, _, _, err := s.AddMention(ctx, 9, m2, v2); !errors.Is(err, request.ErrNotFound) {
			t.Errorf("mention of a missing item: err = %v, want ErrNotFound", err)
		}
		items, err := s.Items(ctx)
		if err != nil || len(items) != 2 || items[0].ID != 1 || items[1].ID != 2 || len(items[0].Mentions) != 1 || items[1].VoteCount != 1 {
			t.Fatalf("items = %+v, err %v", items, err)
		}
	})

	t.Run("OneVotePerPerson", func(t *testing.T) {
		s, ctx := newStore(t), context.Background()
		m1, v1 := ask("discord", "gen", "m1", "alice", "dark mode please", t0)
		if _, _, err := s.Create(ctx, request.Item{Title: "Dark mode", Status: request.StatusNew}, m1, v1); err != nil {
			t.Fatal(err)
		}
		m2, v2 := ask("discord", "gen", "m2", "alice", "still want dark mode", t0.Add(time.Hour))
		it, added, voted, err := s.AddMention(ctx, 1, m2, v2)
		if err != nil || !added || voted || it.VoteCount != 1 || len(it.Mentions) != 2 || !it.Updated.Equal(m2.Time) {
			t.Fatalf("alice again: added %v voted %v votes %d mentions %d updated %v err %v", added, voted, it.VoteCount, len(it.Mentions), it.Updated, err)
		}
		if it.Mentions[0].MessageID != "m1" || it.Mentions[1].MessageID != "m2" {
			t.Errorf("mentions %+v, want oldest first", it.Mentions)
		}
		for i, tc := range []struct {
			vote request.Vote
			want bool
		}{
			{request.Vote{Platform: "slack", UserID: "alice", Time: t0.Add(2 * time.Hour)}, true}, // same id, other platform: another person
			{request.Vote{Platform: "slack", UserID: "alice", Time: t0}, false},
			{request.Vote{Platform: "discord", UserID: "bob", Time: t0.Add(time.Hour)}, true},
			{request.Vote{Platform: "discord", UserID: "alice", Time: t0}, false},
		} {
			_, voted, err := s.Vote(ctx, 1, tc.vote)
			if err != nil || voted != tc.want {
				t.Errorf("vote %d: voted %v err %v, want %v", i, voted, err, tc.want)
			}
		}
		it, err = s.Item(ctx, 1)
		if err != nil || it.VoteCount != 3 || len(it.Votes) != 3 {
			t.Fatalf("votes = %d (%d records), err %v, want 3", it.VoteCount, len(it.Votes), err)
		}
		for i := 1; i < len(it.Votes); i++ {
			if it.Votes[i].Time.Before(it.Votes[i-1].Time) {
				t.Errorf("votes not in time order: %+v", it.Votes)
			}
		}
		if got := it.VotesSince(t0.Add(time.Hour)); got != 2 {
			t.Errorf("votes since +1h = %d, want 2", got)
		}
	})

	t.Run("Merge", func(t *testing.T) {
		s, ctx := newStore(t), context.Background()
		m1, v1 := ask("discord", "gen", "m1", "alice", "dark mode", t0)
		m2, v2 := ask("slack", "C1", "1.1", "bob", "a dark theme", t0)
		mustCreate(t, s, request.Item{Title: "Dark mode", Status: request.StatusNew}, m1, v1)
		mustCreate(t, s, request.Item{Title: "Dark theme", Status: request.StatusNew}, m2, v2)
		if _, voted, _ := s.Vote(ctx, 2, v1); !voted { // alice voted for both
			t.Fatal("alice's vote for #2 not counted")
		}
		ch := request.Change{From: request.StatusNew, To: request.StatusDuplicate, By: "staff", Time: t0.Add(time.Hour)}
		into, err := s.Merge(ctx, 2, 1, ch)
		if err != nil {
			t.Fatal(err)
		}
		if into.ID != 1 || into.VoteCount != 2 || len(into.Votes) != 2 || len(into.Mentions) != 2 || !into.Updated.Equal(ch.Time) {
			t.Errorf("merged item: %+v; want #1 with 2 votes, 2 mentions, updated at the merge", into)
		}
		dup, err := s.Item(ctx, 2)
		if err != nil || dup.Status != request.StatusDuplicate || dup.DuplicateOf != 1 || dup.VoteCount != 0 || len(dup.Mentions) != 0 || len(dup.Votes) != 0 || len(dup.Changes) != 1 {
			t.Errorf("duplicate = %+v, %v", dup, err)
		}
		// Both histories record the merge and what moved: bob's mention,
		// and bob's vote (alice had voted for #1 already).
		want := request.Merge{From: 2, Into: 1, Mentions: 1, Votes: 1}
		if last := dup.Changes[0]; last.Merge == nil || *last.Merge != want || last.To != request.StatusDuplicate || last.By != "staff" {
			t.Errorf("duplicate's change = %+v, want merge %+v", last, want)
		}
		if n := len(into.Changes); n != 1 || into.Changes[0].Merge == nil || *into.Changes[0].Merge != want ||
			into.Changes[0].To != request.StatusNew || into.Changes[0].By != "staff" || !into.Changes[0].Time.Equal(ch.Time) {
			t.Errorf("merged item's history = %+v, want one merge %+v by staff", into.Changes, want)
		}
		// Bob's message now belongs to #1.
		if it, added, _, err := s.AddMention(ctx, 1, m2, v2); err != nil || added || it.ID != 1 {
			t.Errorf("bob's message after merge: item %d added %v err %v", it.ID, added, err)
		}
		if _, err := s.Merge(ctx, 2, 7, ch); !errors.Is(err, request.ErrNotFound) {
			t.Errorf("merge into a missing item: err = %v, want ErrNotFound", err)
		}
	})

	t.Run("Unmerge", func(t *testing.T) {
		s, ctx := newStore(t), context.Background()
		m1, v1 := ask("discord", "gen", "m1", "alice", "dark mode", t0)
		m2, v2 := ask("slack", "C1", "1.1", "bob", "a dark theme", t0)
		mustCreate(t, s, request.Item{Title: "Dark mode", Status: request.StatusNew}, m1, v1)
		mustCreate(t, s, request.Item{Title: "Dark theme", Status: request.StatusUnderReview}, m2, v2)
		if _, voted, _ := s.Vote(ctx, 2, v1); !voted { // alice voted for both
			t.Fatal("alice's vote for #2 not counted")
		}
		if _, err := s.Unmerge(ctx, 2, request.Change{To: request.StatusUnderReview}); !errors.Is(err, request.ErrNotMerged) {
			t.Errorf("unmerge before a merge: err = %v, want ErrNotMerged", err)
		}
		ch := request.Change{From: request.StatusUnderReview, To: request.StatusDuplicate, By: "staff", Time: t0.Add(time.Hour)}
		if _, err := s.Merge(ctx, 2, 1, ch); err != nil {
			t.Fatal(err)
		}
		// After the merge carol asks in #1: her request stays there.
		m3, v3 := ask("discord", "gen", "m3", "carol", "dark mode please", t0.Add(2*time.Hour))
		if _, _, _, err := s.AddMention(ctx, 1, m3, v3); err != nil {
			t.Fatal(err)
		}
		undo := request.Change{From: request.StatusDuplicate, To: request.StatusUnderReview, By: "lead", Time: t0.Add(3 * time.Hour)}
		back, err := s.Unmerge(ctx, 2, undo)
		if err != nil {
			t.Fatal(err)
		}
		voters := func(it request.Item) []string {
			var out []string
			for _, v := range it.Votes {
				out = append(out, v.UserID)
			}
			slices.Sort(out)
			return out
		}
		if back.ID != 2 || back.Status != request.StatusUnderReview || back.DuplicateOf != 0 || len(back.Mentions) != 1 || back.Mentions[0].UserID != "bob" ||
			len(back.Mentions[0].Merged) != 0 || !slices.Equal(voters(back), []string{"alice", "bob"}) || back.VoteCount != 2 {
			t.Errorf("#2 after the undo = %+v; want under review with bob's mention and the votes of alice and bob", back)
		}
		want := request.Merge{From: 2, Into: 1, Mentions: 1, Votes: 2, Undone: true}
		if last := back.Changes[len(back.Changes)-1]; last.Merge == nil || *last.Merge != want || last.By != "lead" {
			t.Errorf("#2's last change = %+v, want the undo %+v", last, want)
		}
		one, _ := s.Item(ctx, 1)
		if len(one.Mentions) != 2 || one.Mentions[1].UserID != "carol" || !slices.Equal(voters(one), []string{"alice", "carol"}) || one.VoteCount != 2 {
			t.Errorf("#1 after the undo = %+v; want alice's and carol's mentions and votes", one)
		}
		for _, v := range one.Votes {
			if len(v.AlsoFrom) != 0 || len(v.Merged) != 0 {
				t.Errorf("#1 vote %+v still marked as merged", v)
			}
		}
		if last := one.Changes[len(one.Changes)-1]; last.Merge == nil || *last.Merge != want {
			t.Errorf("#1's history = %+v", one.Changes)
		}
		// Bob's message belongs to #2 again.
		if it, added, _, err := s.AddMention(ctx, 1, m2, v2); err != nil || added || it.ID != 2 {
			t.Errorf("bob's message after the undo: item %d added %v err %v", it.ID, added, err)
		}
		if _, err := s.Unmerge(ctx, 2, undo); !errors.Is(err, request.ErrNotMerged) {
			t.Errorf("second undo: err = %v, want ErrNotMerged", err)
		}
		// A chain: #2 into #1, #1 into #3; #2's undo waits for #1's.
		mustCreate(t, s, request.Item{Title: "Themes", Status: request.StatusNew}, m3Other(t0), request.Vote{})
		if _, err := s.Merge(ctx, 2, 1, ch); err != nil {
			t.Fatal(err)
		}
		if _, err := s.Merge(ctx, 1, 3, request.Change{From: request.StatusNew, To: request.StatusDuplicate, By: "staff", Time: t0.Add(4 * time.Hour)}); err != nil {
			t.Fatal(err)
		}
		if _, err := s.Unmerge(ctx, 2, undo); !errors.Is(err, request.ErrNotMerged) {
			t.Errorf("undo under a later merge: err = %v, want ErrNotMerged", err)
		}
		if _, err := s.Unmerge(ctx, 1, request.Change{To: request.StatusNew, Time: t0.Add(5 * time.Hour)}); err != nil {
			t.Fatal(err)
		}
		if back, err := s.Unmerge(ctx, 2, undo); err != nil || len(back.Mentions) != 1 || back.Mentions[0].UserID != "bob" {
			t.Errorf("undo after undoing the later merge: %+v, %v", back, err)
		}
	})

	t.Run("NoticeCap", func(t *testing.T) {
		s, ctx := newStore(t), context.Background()
		day := t0.Truncate(24 * time.Hour)
		for i, tc := range []struct {
			channel string
			day     time.Time
			want    bool
		}{
			{"a", day, true}, {"a", day.Add(5 * time.Hour), true}, {"a", day, false}, {"b", day, true}, {"a", day.AddDate(0, 0, 1), true},
		} {
			ok, err := s.TakeNotice(ctx, "discord", tc.channel, tc.day, 2)
			if err != nil || ok != tc.want {
				t.Errorf("notice %d in %s: %v (err %v), want %v", i, tc.channel, ok, err, tc.want)
			}
		}
	})

	t.Run("Update", func(t *testing.T) {
		s, ctx := newStore(t), context.Background()
		m1, v1 := ask("discord", "gen", "m1", "alice", "dark mode", t0)
		mustCreate(t, s, request.Item{Title: "Dark mode", Status: request.StatusNew}, m1, v1)
		refuse := errors.New("no")
		if _, err := s.Update(ctx, 1, func(it *request.Item) error { it.Status = "x"; return refuse }); !errors.Is(err, refuse) {
			t.Fatalf("refused update: err = %v", err)
		}
		if it, _ := s.Item(ctx, 1); it.Status != request.StatusNew {
			t.Errorf("status = %q after a refused update", it.Status)
		}
		it, err := s.Update(ctx, 1, func(it *request.Item) error {
			it.Status, it.Tags = request.StatusPlanned, []string{"ui"}
			it.ID = 99 // ignored: the number is the store's
			return nil
		})
		if err != nil || it.ID != 1 || it.Status != request.StatusPlanned || len(it.Tags) != 1 || len(it.Mentions) != 1 || it.VoteCount != 1 {
			t.Fatalf("update = %+v, %v", it, err)
		}
		if _, err := s.Update(ctx, 5, func(*request.Item) error { return nil }); !errors.Is(err, request.ErrNotFound) {
			t.Errorf("update of a missing item: err = %v, want ErrNotFound", err)
		}
	})

	t.Run("OptIn", func(t *testing.T) {
		s, ctx := newStore(t), context.Background()
		on := func(platform, user string) bool {
			t.Helper()
			ok, err := s.OptedIn(ctx, platform, user)
			if err != nil {
				t.Fatal(err)
			}
			return ok
		}
		if on("discord", "alice") {
			t.Fatal("opted in before asking")
		}
		if err := s.SetOptIn(ctx, "discord", "alice", true, t0); err != nil {
			t.Fatal(err)
		}
		if !on("discord", "alice") || on("slack", "alice") || on("discord", "bob") {
			t.Fatal("opt-in is not per platform and person")
		}
		if err := s.SetOptIn(ctx, "discord", "alice", true, t0.Add(time.Hour)); err != nil || !on("discord", "alice") {
			t.Fatalf("opting in twice: %v", err)
		}
		if err := s.SetOptIn(ctx, "discord", "alice", false, t0); err != nil || on("discord", "alice") {
			t.Fatalf("opting out: %v", err)
		}
		if err := s.SetOptIn(ctx, "discord", "alice", false, t0); err != nil {
			t.Fatalf("opting out twice: %v", err)
		}
		if err := s.SetOptIn(ctx, "", "alice", true, t0); err == nil {
			t.Error("opt-in without a platform was accepted")
		}
	})
}

func mustCreate(t *testing.T, s request.Store, it request.Item, m request.Mention, v request.Vote) request.Item {
	t.Helper()
	out, _, err := s.Create(context.Background(), it, m, v)
	if err != nil {
		t.Fatal(err)
	}
	return out
}

// m3Other is a mention of its own for a third item.
func m3Other(at time.Time) request.Mention {
	return request.Mention{Platform: "discord", Channel: "gen", MessageID: "m9", UserID: "dave", Text: "themes", Time: at}
}
