package inbox_test

import (
	"context"
	"errors"
	"strings"
	"testing"

	"github.com/einsatz/einsatz/bot/request"
	"github.com/einsatz/einsatz/handlers/inbox"
)

// Staff put items on the public roadmap and take them off; only statuses
// the board shows may go on it, and the description is bounded.
func TestSetPublic(t *testing.T) {
	f := newFixture(t, nil)
	ctx := context.Background()
	seedItem(t, f, "Dark mode", "please add a dark mode", "en", request.StatusPlanned, nil)
	seedItem(t, f, "Spam", "buy now", "en", request.StatusNotRequest, nil)
	text := "A dark theme, following the system."
	long := strings.Repeat("x", 601)
	for _, tc := range []struct {
		name     string
		id       int
		on       bool
		text     *string
		wantErr  error
		public   bool
		wantText string
	}{
		{"on with a description", 1, true, &text, nil, true, text},
		{"off keeps the description", 1, false, nil, nil, false, text},
		{"description too long", 1, true, &long, inbox.ErrBadEdit, false, text},
		{"not a request cannot go on", 2, true, nil, inbox.ErrBadEdit, false, ""},
		{"unknown item", 9, true, nil, request.ErrNotFound, false, ""},
	} {
		it, err := f.svc.SetPublic(ctx, tc.id, tc.on, tc.text, "pm")
		if !errors.Is(err, tc.wantErr) {
			t.Errorf("%s: err %v, want %v", tc.name, err, tc.wantErr)
			continue
		}
		if err != nil {
			continue
		}
		if it.Public != tc.public || it.PublicText != tc.wantText {
			t.Errorf("%s: public %v %q, want %v %q", tc.name, it.Public, it.PublicText, tc.public, tc.wantText)
		}
	}
	it, _ := f.svc.Get(ctx, 1)
	var notes []string
	for _, c := range it.Changes {
		notes = append(notes, c.Note+" by "+c.By)
	}
	if got := strings.Join(notes, "; "); got != "shown on the public roadmap by pm; taken off the public roadmap by pm" {
		t.Errorf("history: %s", got)
	}
}

// The board lists public items in board statuses by votes; a board vote
// counts once per platform account, the community's vote included, and
// only for open items on the board.
func TestBoardVote(t *testing.T) {
	f := newFixture(t, nil)
	ctx := context.Background()
	seedItem(t, f, "Export", "csv export", "en", request.StatusPlanned, nil)               // #1: voted by ut1
	seedItem(t, f, "Dark mode", "dark mode", "en", request.StatusNew, nil, "alice", "bob") // #2: 3 votes
	seedItem(t, f, "Shipped thing", "thing", "en", request.StatusShipped, nil)             // #3
	seedItem(t, f, "Private", "private", "en", request.StatusInProgress, nil)              // #4: not public
	seedItem(t, f, "Declined", "declined", "en", request.StatusPlanned, nil)               // #5: public, then declined
	for _, id := range []int{1, 2, 3, 5} {
		if _, err := f.svc.SetPublic(ctx, id, true, nil, "pm"); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := f.store.Update(ctx, 5, func(it *request.Item) error { it.Status = request.StatusDeclined; return nil }); err != nil {
		t.Fatal(err)
	}
	board, err := f.svc.Board(ctx)
	if err != nil {
		t.Fatal(err)
	}
	var ids []int
	for _, it := range board {
		ids = append(ids, it.ID)
	}
	if len(ids) != 3 || ids[0] != 2 {
		t.Errorf("board = %v, want #2 (most votes) first, then #1 and #3; #4 private and #5 declined left out", ids)
	}
	for _, tc := range []struct {
		name     string
		id       int
		platform string
		user     string
		voted    bool
		wantErr  error
		count    int
	}{
		{"the member who asked in Discord", 1, "discord", "ut1", false, nil, 1},
		{"a new Discord account", 1, "discord", "carol", true, nil, 2},
		{"the same account again", 1, "discord", "carol", false, nil, 2},
		{"the same id on Slack is another account", 1, "slack", "carol", true, nil, 3},
		{"community voter on #2", 2, "discord", "alice", false, nil, 3},
		{"shipped takes no votes", 3, "discord", "carol", false, request.ErrNotFound, 0},
		{"private item", 4, "discord", "carol", false, request.ErrNotFound, 0},
		{"declined item", 5, "discord", "carol", false, request.ErrNotFound, 0},
	} {
		it, voted, err := f.svc.BoardVote(ctx, tc.id, request.Vote{Platform: tc.platform, UserID: tc.user})
		if !errors.Is(err, tc.wantErr) || voted != tc.voted || (err == nil && it.VoteCount != tc.count) {
			t.Errorf("%s: voted %v, %d votes, err %v; want %v, %d, %v", tc.name, voted, it.VoteCount, err, tc.voted, tc.count, tc.wantErr)
		}
	}
	if it, _ := f.svc.Get(ctx, 4); it.VoteCount != 1 {
		t.Errorf("private #4 has %d votes, want its 1", it.VoteCount)
	}
}
