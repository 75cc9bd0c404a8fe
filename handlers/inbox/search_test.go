package inbox_test

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/einsatz/einsatz/bot/request"
	"github.com/einsatz/einsatz/handlers/inbox"
)

// seedItem files an item straight into the store with one mention in a
// thread of its own, then gives it a status and tags.
func seedItem(t *testing.T, f *fixture, title, text, lang, status string, tags []string, voters ...string) request.Item {
	t.Helper()
	ctx := context.Background()
	all, err := f.store.Items(ctx)
	if err != nil {
		t.Fatal(err)
	}
	n := len(all)
	thread := fmt.Sprintf("t%d", n+1)
	m := request.Mention{Platform: "discord", Channel: "gen", Thread: thread, MessageID: thread, UserID: "u" + thread, UserName: "u" + thread,
		Text: text, Time: t0, Lang: lang, Source: request.SourceDetected}
	it, _, err := f.store.Create(ctx, request.Item{Title: title, Status: request.StatusNew, Created: t0, Updated: t0}, m,
		request.Vote{Platform: "discord", UserID: m.UserID, Time: t0})
	if err != nil {
		t.Fatal(err)
	}
	for _, v := range voters {
		if _, _, err := f.store.Vote(ctx, it.ID, request.Vote{Platform: "discord", UserID: v, Time: t0}); err != nil {
			t.Fatal(err)
		}
	}
	it, err = f.store.Update(ctx, it.ID, func(x *request.Item) error { x.Status, x.Tags = status, tags; return nil })
	if err != nil {
		t.Fatal(err)
	}
	return it
}

// Test: search matches every word in its English or German form, in the
// title, the mentions or the tags; respects the status view (not-request
// and maybe items only where asked for); ranks title matches first unless
// a sort is given.
func TestSearch(t *testing.T) {
	f := newFixture(t, nil)
	seedItem(t, f, "Dark mode for the dashboard", "Please add a dark mode, my eyes hurt at night", "en", request.StatusNew, []string{"ui"})       // #1
	seedItem(t, f, "Exporting reports as CSV", "I'd like exporting our reports to CSV files", "en", request.StatusPlanned, nil)                   // #2
	seedItem(t, f, "Termine im Kalender", "Ein Export der Termine in den Kalender wäre schön", "de", request.StatusNew, []string{"kalender"})     // #3
	seedItem(t, f, "Keyboard shortcuts", "keyboard shortcuts for the editor", "en", request.StatusShipped, nil)                                   // #4
	seedItem(t, f, "Remember me", "it would be nice if the bot remembered me", "en", request.StatusMaybe, nil)                                    // #5
	seedItem(t, f, "Dark chocolate", "I had dark chocolate for lunch", "en", request.StatusNotRequest, nil)                                       // #6
	seedItem(t, f, "Theme settings", "a toggle between a light and a dark mode would help", "en", request.StatusNew, nil, "v1", "v2", "v3", "v4") // #7

	for _, tc := range []struct {
		name   string
		q      string
		filter inbox.Filter
		want   []int
	}{
		{"a word in titles and texts, title first", "dark mode", inbox.Filter{}, []int{1, 7}},
		{"sorted by votes when asked", "dark mode", inbox.Filter{Sort: inbox.SortVotes}, []int{7, 1}},
		{"English stemming: exports finds exporting", "exports", inbox.Filter{}, []int{2, 3}},
		{"German stemming: Termin finds Termine", "Termin", inbox.Filter{}, []int{3}},
		{"German stop words dropped", "der Kalender", inbox.Filter{}, []int{3}},
		{"every word must match", "dark CSV", inbox.Filter{}, []int{}},
		{"two words in one item", "CSV reports", inbox.Filter{}, []int{2}},
		{"case and umlauts", "SCHÖN", inbox.Filter{}, []int{3}},
		{"a tag", "ui", inbox.Filter{}, []int{1}},
		{"stop words only match nothing", "the and", inbox.Filter{}, []int{}},
		{"the open view leaves out shipped items", "keyboard", inbox.Filter{Status: "open"}, []int{}},
		{"all statuses but maybe and not-request", "keyboard", inbox.Filter{}, []int{4}},
		{"not-request hidden by default", "chocolate", inbox.Filter{}, []int{}},
		{"not-request view", "dark", inbox.Filter{Status: request.StatusNotRequest}, []int{6}},
		{"maybe view", "remembered", inbox.Filter{Status: request.StatusMaybe}, []int{5}},
		{"and a tag filter", "dark", inbox.Filter{Tag: "ui"}, []int{1}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got, err := f.svc.Search(context.Background(), tc.q, tc.filter)
			if err != nil {
				t.Fatal(err)
			}
			if !slices.Equal(ids(got), tc.want) {
				t.Errorf("search %q %+v = %v, want %v", tc.q, tc.filter, ids(got), tc.want)
			}
			// The dashboard's Overview searches alike.
			ov, err := f.svc.Overview(context.Background(), func() inbox.Filter { fl := tc.filter; fl.Q = tc.q; return fl }())
			if err != nil || !slices.Equal(ids(ov.Items), tc.want) {
				t.Errorf("overview %q = %v (%v), want %v", tc.q, ids(ov.Items), err, tc.want)
			}
		})
	}
	ov, _ := f.svc.Overview(context.Background(), inbox.Filter{})
	if !slices.Equal(ov.Tags, []string{"kalender", "ui"}) {
		t.Errorf("overview tags = %v", ov.Tags)
	}
}

// Test: the search index follows changes made after it was built: edits,
// tags, merges, new requests.
func TestSearchFollowsChanges(t *testing.T) {
	f := newFixture(t, nil)
	ctx := context.Background()
	seedItem(t, f, "Dark mode", "please add dark mode", "en", request.StatusNew, nil)
	seedItem(t, f, "Webhooks", "send a webhook for new items", "en", request.StatusNew, nil)
	search := func(q string) []int {
		t.Helper()
		got, err := f.svc.Search(ctx, q, inbox.Filter{})
		if err != nil {
			t.Fatal(err)
		}
		return ids(got)
	}
	if got := search("dark"); !slices.Equal(got, []int{1}) {
		t.Fatalf("dark = %v", got)
	}
	title := "Night theme"
	if _, err := f.svc.Edit(ctx, 1, inbox.EditRequest{Title: &title}, "pat"); err != nil {
		t.Fatal(err)
	}
	if got := search("night"); !slices.Equal(got, []int{1}) {
		t.Errorf("after the edit, night = %v", got)
	}
	if _, err := f.svc.EditTags(ctx, 2, []string{"API"}, nil); err != nil {
		t.Fatal(err)
	}
	if got := search("api"); !slices.Equal(got, []int{2}) {
		t.Errorf("after tagging, api = %v", got)
	}
	if _, err := f.svc.Merge(ctx, 2, 1, "pat"); err != nil {
		t.Fatal(err)
	}
	// The webhook mention moved to #1; #2 keeps its title (a title match
	// ranks first).
	if got := search("webhook"); !slices.Equal(got, []int{2, 1}) {
		t.Errorf("after the merge, webhook = %v, want [2 1]", got)
	}
	if got := search("send"); !slices.Equal(got, []int{1}) {
		t.Errorf("after the merge, send = %v, want [1]", got)
	}
	f.svc.Reindex() // erasure drops the index; the next search builds it again
	if got := search("send"); !slices.Equal(got, []int{1}) {
		t.Errorf("after Reindex, send = %v, want [1]", got)
	}
}

// Test: likely duplicates are open items with similar words, best first,
// with the score; the item itself, closed items and unrelated ones are
// not suggested.
func TestSimilarSuggestions(t *testing.T) {
	f := newFixture(t, nil)
	ctx := context.Background()
	seedItem(t, f, "Dark mode for the dashboard", "please add a dark mode to the dashboard", "en", request.StatusNew, nil) // #1
	seedItem(t, f, "Dashboard dark theme", "a dark theme for the dashboard", "en", request.StatusUnderReview, nil)         // #2
	seedItem(t, f, "CSV export", "export to CSV", "en", request.StatusNew, nil)                                            // #3
	seedItem(t, f, "Dark mode in the widget", "dark mode for the chat widget", "en", request.StatusShipped, nil)           // #4 (closed)
	seedItem(t, f, "Dark mode everywhere", "dark mode for the dashboard", "en", request.StatusNew, nil)                    // #5

	got, err := f.svc.Similar(ctx, 1, 0)
	if err != nil {
		t.Fatal(err)
	}
	var gotIDs []int
	for _, s := range got {
		gotIDs = append(gotIDs, s.ID)
		if s.Score <= 0 || s.Score > 1.0000001 {
			t.Errorf("#%d score %v out of (0, 1]", s.ID, s.Score)
		}
	}
	// #5 shares "dark mode … dashboard" with #1; #2 "dashboard dark".
	if !slices.Equal(gotIDs, []int{5, 2}) {
		t.Fatalf("similar to #1 = %+v, want #5 then #2", got)
	}
	if got[0].Score < 0.6 || got[1].Score >= got[0].Score || got[0].Title != "Dark mode everywhere" || got[0].Votes != 1 {
		t.Errorf("suggestions = %+v", got)
	}
	if got, err := f.svc.Similar(ctx, 3, 0); err != nil || len(got) != 0 {
		t.Errorf("similar to the CSV export = %+v, %v; want none", got, err)
	}
	if got, _ := f.svc.Similar(ctx, 1, 1); len(got) != 1 || got[0].ID != 5 {
		t.Errorf("n=1: %+v", got)
	}
	if _, err := f.svc.Similar(ctx, 99, 0); err == nil {
		t.Error("similar to a missing item: no error")
	}
}

// Test: after a merge, everyone who asked for either item hears of the
// next status change (a post in each thread, a DM to those who opted in),
// and both items' histories show the merge.
func TestMergeThenStatusTellsEveryone(t *testing.T) {
	dms := &dmRecorder{}
	f := newFixture(t, func(o *inbox.Options) { o.DirectMessenger = dms })
	ctx := context.Background()
	seedItem(t, f, "Dark mode", "please add dark mode", "en", request.StatusNew, nil, "alice")   // #1, thread t1
	seedItem(t, f, "Night theme", "a night theme please", "de", request.StatusNew, nil, "alice") // #2, thread t2; alice voted for both
	if err := f.store.SetOptIn(ctx, "discord", "ut2", true, t0); err != nil {                    // #2's requester wants DMs
		t.Fatal(err)
	}
	f.clock.Advance(time.Hour)
	into, err := f.svc.Merge(ctx, 2, 1, "pat")
	if err != nil {
		t.Fatal(err)
	}
	if into.VoteCount != 3 || len(into.Mentions) != 2 {
		t.Errorf("merged: %d votes, %d mentions; want 3 (ut1, alice, ut2) and 2", into.VoteCount, len(into.Mentions))
	}
	want := request.Merge{From: 2, Into: 1, Mentions: 1, Votes: 1}
	if last := into.Changes[len(into.Changes)-1]; last.Merge == nil || *last.Merge != want || last.By != "pat" || !last.Time.Equal(t0.Add(time.Hour)) {
		t.Errorf("#1's history = %+v", into.Changes)
	}
	dup, _ := f.svc.Get(ctx, 2)
	if last := dup.Changes[len(dup.Changes)-1]; last.Merge == nil || *last.Merge != want || last.To != request.StatusDuplicate {
		t.Errorf("#2's history = %+v", dup.Changes)
	}
	if len(f.post.all()) != 0 || len(dms.take()) != 0 {
		t.Error("the merge itself told someone")
	}
	if _, err := f.svc.SetStatus(ctx, 1, request.StatusPlanned, "", "pat"); err != nil {
		t.Fatal(err)
	}
	var threads []string
	for _, p := range f.post.all() {
		threads = append(threads, p.To.ThreadID)
	}
	slices.Sort(threads)
	if !slices.Equal(threads, []string{"t1", "t2"}) {
		t.Errorf("status posts in %v, want both items' threads t1 and t2", threads)
	}
	got := dms.take()
	if len(got) != 1 || got[0].User != "ut2" || !strings.Contains(got[0].Reply.Text, "#1") {
		t.Errorf("DMs = %+v, want one to ut2 about #1", got)
	}
}

// Test: tags are added and removed in one step, normalised.
func TestEditTags(t *testing.T) {
	f := newFixture(t, nil)
	ctx := context.Background()
	seedItem(t, f, "Dark mode", "please add dark mode", "en", request.StatusNew, []string{"ui", "theme"})
	for _, tc := range []struct {
		add, remove, want []string
	}{
		{[]string{" API ", "ui"}, nil, []string{"api", "theme", "ui"}},
		{nil, []string{"THEME"}, []string{"api", "ui"}},
		{[]string{"a, b"}, []string{"api"}, []string{"a", "b", "ui"}},
		{[]string{"x"}, []string{"x"}, []string{"a", "b", "ui"}},
		{nil, []string{"a", "b", "ui", "missing"}, nil},
	} {
		it, err := f.svc.EditTags(ctx, 1, tc.add, tc.remove)
		if err != nil {
			t.Fatal(err)
		}
		if !slices.Equal(it.Tags, tc.want) {
			t.Errorf("add %q remove %q: tags %q, want %q", tc.add, tc.remove, it.Tags, tc.want)
		}
	}
	if _, err := f.svc.EditTags(ctx, 9, []string{"x"}, nil); err == nil {
		t.Error("tagging a missing item: no error")
	}
}

// Test: undoing a merge restores the duplicate's status from before the
// merge and tells nobody; only a merged duplicate can be taken apart.
func TestUnmerge(t *testing.T) {
	f := newFixture(t, nil)
	ctx := context.Background()
	seedItem(t, f, "Dark mode", "please add dark mode", "en", request.StatusNew, nil)
	seedItem(t, f, "Night theme", "a night theme please", "en", request.StatusUnderReview, nil)
	if _, err := f.svc.Unmerge(ctx, 2, "pat"); !errors.Is(err, request.ErrNotMerged) {
		t.Errorf("undo without a merge: %v, want ErrNotMerged", err)
	}
	if _, err := f.svc.Merge(ctx, 2, 1, "pat"); err != nil {
		t.Fatal(err)
	}
	it, err := f.svc.Unmerge(ctx, 2, "lee")
	if err != nil {
		t.Fatal(err)
	}
	last := it.Changes[len(it.Changes)-1]
	if it.Status != request.StatusUnderReview || last.By != "lee" || last.Note != "merge into #1 undone" || last.Merge == nil || !last.Merge.Undone {
		t.Errorf("#2 after the undo: %s, last change %+v", it.Status, last)
	}
	if len(f.post.all()) != 0 {
		t.Errorf("the undo posted %+v", f.post.all())
	}
	// The matching index follows: a request like #2 joins #2 again.
	res, err := f.svc.Submit(ctx, request.Mention{Platform: "discord", Channel: "gen", MessageID: "later", UserID: "zoe", Text: "a night theme please", Time: t0}, nil)
	if err != nil || res.Item.ID != 2 || res.Created {
		t.Errorf("a request like #2 after the undo went to #%d (created %v, %v)", res.Item.ID, res.Created, err)
	}
	if _, err := f.svc.Unmerge(ctx, 1, "lee"); !errors.Is(err, request.ErrNotMerged) {
		t.Errorf("undo of an item that was merged into: %v, want ErrNotMerged", err)
	}
}
