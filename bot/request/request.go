// Package request holds the research inbox's records — feature requests
// (items), the mentions and votes they collect, their status changes — and
// the interface of the store that keeps them. It is a leaf: storage
// implements Store, handlers/inbox runs the workflow over it, and adapters
// render the records, none of them depending on another.
package request

import (
	"context"
	"errors"
	"strings"
	"time"

	"github.com/einsatz/einsatz/bot"
)

// Statuses of an item, in workflow order.
const (
	StatusNew         = "new"
	StatusUnderReview = "under_review"
	StatusPlanned     = "planned"
	StatusInProgress  = "in_progress"
	StatusShipped     = "shipped"
	StatusDeclined    = "declined"
	StatusDuplicate   = "duplicate" // only through a merge
	// StatusNotRequest marks a false positive of the detector: staff took
	// it out of the inbox quietly (nobody is told), and its mentions are
	// kept as labelled negatives for evaluating the detector.
	StatusNotRequest = "not_request"
	// StatusMaybe holds a message the detector scored between its
	// threshold and the auto-file threshold: kept for staff to confirm
	// (then new) or reject (then not_request), hidden from the lists, never
	// joined by other requests, and nobody was thanked for it.
	StatusMaybe = "maybe"
)

// Statuses lists every status in workflow order.
var Statuses = []string{StatusNew, StatusUnderReview, StatusPlanned, StatusInProgress, StatusShipped, StatusDeclined, StatusDuplicate, StatusNotRequest, StatusMaybe}

// ErrNotFound is returned for an item number that names no item.
var ErrNotFound = errors.New("inbox: no such item")

// ErrNotMerged is returned when a merge to undo is not there: the item is
// no duplicate, or the item it went into was merged on since.
var ErrNotMerged = errors.New("inbox: no merge to undo")

// Sources of a mention.
const (
	SourceDetected  = "detected"  // the detector found it in a message
	SourceForwarded = "forwarded" // message command, shortcut or reaction
	SourceFeedback  = "feedback"  // /feedback
)

// Mention is one time someone asked for an item.
type Mention struct {
	Platform  string    `json:"platform"`
	Channel   string    `json:"channel"`
	Thread    string    `json:"thread,omitempty"` // "" for /feedback outside a thread: no status posts
	MessageID string    `json:"message_id"`
	UserID    string    `json:"user_id"`
	UserName  string    `json:"user_name,omitempty"`
	Text      string    `json:"text"`
	Permalink string    `json:"permalink,omitempty"`
	Time      time.Time `json:"time"`
	Sentiment float64   `json:"sentiment"`
	Lang      string    `json:"lang,omitempty"`
	Source    string    `json:"source"`
	By        string    `json:"by,omitempty"` // who forwarded it, when not the author
	// Merged lists the items the mention came from by merges, oldest
	// first; undoing the last merge moves it back (Store.Unmerge).
	Merged []int `json:"merged,omitempty"`
}

// ThreadRef is the thread the mention was made in.
func (m Mention) ThreadRef() bot.ThreadRef {
	return bot.ThreadRef{Platform: m.Platform, ChannelID: m.Channel, ThreadID: m.Thread}
}

// Vote is one person's +1 on an item.
type Vote struct {
	Platform string    `json:"platform"`
	UserID   string    `json:"user_id"`
	Name     string    `json:"name,omitempty"`
	Time     time.Time `json:"time"`
	// Merged lists the items the vote came from by merges, oldest first;
	// AlsoFrom the items merged in that the person had voted for too (one
	// vote stays): undoing a merge gives those their vote back.
	Merged   []int `json:"merged,omitempty"`
	AlsoFrom []int `json:"also_from,omitempty"`
}

// Change is one status change.
type Change struct {
	From string    `json:"from"`
	To   string    `json:"to"`
	Note string    `json:"note,omitempty"`
	By   string    `json:"by"`
	Time time.Time `json:"time"`
	// Posted and Skipped count the threads told of the change and those
	// left out because their channel's daily cap was reached.
	Posted  int `json:"posted"`
	Skipped int `json:"skipped,omitempty"`
	// Edit is set when the change edited the title or summary (From and To
	// are then the unchanged status); it keeps the old and new texts.
	Edit *Edit `json:"edit,omitempty"`
	// Merge is set on both items of a merge (From and To are then the
	// item's status before and after): what moved, so the history of
	// either item shows it.
	Merge *Merge `json:"merge,omitempty"`
}

// Merge records a merge of item From into item Into: the mentions moved
// and the votes counted anew on Into (a person who had voted for both
// keeps one vote).
type Merge struct {
	From     int `json:"from"`
	Into     int `json:"into"`
	Mentions int `json:"mentions"`
	Votes    int `json:"votes"`
	// Undone marks the change that undid the merge (Store.Unmerge): the
	// counts are then what went back.
	Undone bool `json:"undone,omitempty"`
}

// Edit is an edit of an item's title or summary; a field left unchanged
// has empty old and new values.
type Edit struct {
	OldTitle   string `json:"old_title,omitempty"`
	Title      string `json:"title,omitempty"`
	OldSummary string `json:"old_summary,omitempty"`
	Summary    string `json:"summary,omitempty"`
}

// What says in a few words what an edit changed ("title", "summary" or
// "title and summary").
func (e Edit) What() string {
	switch t, s := e.Title != e.OldTitle, e.Summary != e.OldSummary; {
	case t && s:
		return "title and summary"
	case t:
		return "title"
	}
	return "summary"
}

// Item is a feature request in the inbox.
type Item struct {
	ID          int       `json:"id"`
	Title       string    `json:"title"`
	Summary     string    `json:"summary,omitempty"`
	Status      string    `json:"status"`
	Tags        []string  `json:"tags,omitempty"`
	Created     time.Time `json:"created"`
	Updated     time.Time `json:"updated"`
	VoteCount   int       `json:"votes"`
	DuplicateOf int       `json:"duplicate_of,omitempty"`
	Changes     []Change  `json:"changes,omitempty"`
	// Public puts the item on the public roadmap (inbox.public_board) with
	// its title and PublicText, a description staff wrote for everyone;
	// nothing else of the item is shown there.
	Public     bool   `json:"public,omitempty"`
	PublicText string `json:"public_text,omitempty"`
	// Filled in on reads from their own records.
	Mentions []Mention `json:"mentions,omitempty"`
	Votes    []Vote    `json:"vote_list,omitempty"`
}

// VotesSince counts the votes cast at or after t.
func (it Item) VotesSince(t time.Time) int {
	n := 0
	for _, v := range it.Votes {
		if !v.Time.Before(t) {
			n++
		}
	}
	return n
}

// OptIn is a person's wish to hear, by direct message, when an item they
// asked for changes status.
type OptIn struct {
	Platform string    `json:"platform"`
	UserID   string    `json:"user_id"`
	Since    time.Time `json:"since"`
}

// Store keeps the inbox; storage.Inbox implements it, requesttest.Mem is
// the in-memory fake, and requesttest.Run checks both alike.
type Store interface {
	// Create numbers and stores a new item with its first mention and the
	// author's vote. When the mention's message is already in the inbox it
	// stores nothing and returns that item with created false.
	Create(ctx context.Context, it Item, first Mention, vote Vote) (Item, bool, error)
	// AddMention adds a mention and the person's vote (unless they voted
	// already). added is false when the message was already in the inbox
	// (it is then that message's item); voted says whether a vote was
	// counted.
	AddMention(ctx context.Context, id int, m Mention, vote Vote) (it Item, added, voted bool, err error)
	// Vote counts a vote unless the person voted already.
	Vote(ctx context.Context, id int, vote Vote) (Item, bool, error)
	// Item returns an item with its mentions (oldest first) and votes; an
	// unknown number is ErrNotFound.
	Item(ctx context.Context, id int) (Item, error)
	// Items returns every item with its mentions and votes, by number.
	Items(ctx context.Context) ([]Item, error)
	// Update changes an item in one step (fn sees the stored item and may
	// refuse by returning an error, which Update returns wrapped).
	Update(ctx context.Context, id int, fn func(*Item) error) (Item, error)
	// Merge moves from's mentions and votes to into (a person who voted
	// for both keeps one vote) and marks from a duplicate of into.
	Merge(ctx context.Context, from, into int, ch Change) (Item, error)
	// Unmerge undoes the merge of from into the item it is a duplicate of:
	// the mentions and votes that came from it go back (a person who had
	// voted for both gets their vote on from back), from takes status
	// ch.To, and both histories record it (ch on from). It returns from.
	Unmerge(ctx context.Context, from int, ch Change) (Item, error)
	// TakeNotice uses one of a channel's status posts for the day; it
	// reports false when limit posts went out that day.
	TakeNotice(ctx context.Context, platform, channel string, day time.Time, limit int) (bool, error)
	// SetOptIn stores (on) or deletes (off) a person's wish for a direct
	// message when an item they asked for changes status; the record is
	// personal data (exported, deleted on erasure).
	SetOptIn(ctx context.Context, platform, userID string, on bool, at time.Time) error
	// OptedIn reports whether a person asked for those messages.
	OptedIn(ctx context.Context, platform, userID string) (bool, error)
}

// Title makes a short title from a request's text: its first sentence,
// at most 80 characters.
func Title(text string) string {
	text = strings.Join(strings.Fields(text), " ")
	if i := strings.IndexAny(text, ".!?\n"); i >= 20 {
		text = text[:i]
	}
	return excerpt(text, 80)
}

// Summary makes an item's summary from a request's text.
func Summary(text string) string { return excerpt(text, 280) }

func excerpt(s string, n int) string {
	s = strings.Join(strings.Fields(s), " ")
	if r := []rune(s); len(r) > n {
		return strings.TrimSpace(string(r[:n-1])) + "…"
	}
	return s
}
