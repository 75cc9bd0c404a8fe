package web_test

import (
	"context"
	"strconv"
	"testing"

	"github.com/einsatz/einsatz/adapters/web"
	"github.com/einsatz/einsatz/bot"
)

// A staff reply changed after it was sent: an open stream gets an "edit"
// and a "delete" event naming the message; a client that resumes, or
// reloads, gets the edited message and never the deleted one; a reply
// waiting in the mailbox changes the same way.
func TestChatEventsEditAndDelete(t *testing.T) {
	s := startSite(t, web.Options{}, buttons)
	ctx := context.Background()
	url := s.URL() + "/api/chat/conv-edit/events"
	to := webThread("conv-edit")
	_, live := stream(t, url, nil)
	postChat(t, s.URL(), `{"conversation_id":"conv-edit","message_id":"m1","text":"hello"}`, nil)
	next(t, live)
	before := next(t, live) // the answer: a client that saw this much

	keep, err := s.core.Publish(ctx, to, bot.Reply{Text: "Which version?", AuthorName: "anna"})
	if err != nil || keep == "" {
		t.Fatalf("publish: %q %v, want the message's id", keep, err)
	}
	drop, err := s.core.Publish(ctx, to, bot.Reply{Text: "Account 4711 belongs to billing", AuthorName: "anna"})
	if err != nil || drop == "" {
		t.Fatalf("publish: %q %v", drop, err)
	}
	if e := next(t, live); e.ID != keep {
		t.Fatalf("event %s, want the first staff reply %s", e.ID, keep)
	}
	if e := next(t, live); e.ID != drop {
		t.Fatalf("event %s, want the second staff reply %s", e.ID, drop)
	}
	if err := s.core.EditMessage(ctx, to, keep, bot.Reply{Text: "Which version and OS?", AuthorName: "anna"}); err != nil {
		t.Fatal(err)
	}
	if err := s.core.DeleteMessage(ctx, to, drop); err != nil {
		t.Fatal(err)
	}
	keepID, _ := strconv.ParseInt(keep, 10, 64)
	dropID, _ := strconv.ParseInt(drop, 10, 64)
	ed := next(t, live)
	if ed.Name != "edit" || ed.Data.Target != keepID || ed.Data.Text != "Which version and OS?" || !ed.Data.Edited || ed.Data.Role != "staff" {
		t.Fatalf("edit event = %s %+v", ed.Name, ed.Data)
	}
	del := next(t, live)
	if del.Name != "delete" || del.Data.Target != dropID || del.Data.Text != "" {
		t.Fatalf("delete event = %s %+v", del.Name, del.Data)
	}

	// Resuming from before the staff replies, and reloading from the start.
	for _, from := range []string{before.ID, "0"} {
		_, again := stream(t, url+"?last_event_id="+from, nil)
		var got []sseEvent
		for len(got) == 0 || got[len(got)-1].Name != "delete" {
			got = append(got, next(t, again))
		}
		for _, e := range got {
			switch {
			case e.Name == "message" && e.ID == drop:
				t.Fatalf("resume from %s: the deleted reply came back: %+v", from, e.Data)
			case e.Name == "message" && e.ID == keep && (e.Data.Text != "Which version and OS?" || !e.Data.Edited):
				t.Fatalf("resume from %s: the edited reply as it was: %+v", from, e.Data)
			}
		}
	}

	// Nobody watching: the mailbox hands out the reply as it is now.
	quietConv := webThread("conv-mailbox")
	postChat(t, s.URL(), `{"conversation_id":"conv-mailbox","message_id":"m1","text":"hi"}`, nil)
	a, _ := s.core.Publish(ctx, quietConv, bot.Reply{Text: "first", AuthorName: "anna"})
	b, _ := s.core.Publish(ctx, quietConv, bot.Reply{Text: "second", AuthorName: "anna"})
	if err := s.core.EditMessage(ctx, quietConv, a, bot.Reply{Text: "first, edited", AuthorName: "anna"}); err != nil {
		t.Fatal(err)
	}
	if err := s.core.DeleteMessage(ctx, quietConv, b); err != nil {
		t.Fatal(err)
	}
	_, out := postChat(t, s.URL(), `{"conversation_id":"conv-mailbox","message_id":"m2","text":"still there?"}`, nil)
	var staff []web.ChatReply
	for _, r := range out.Replies {
		if r.AuthorName == "anna" {
			staff = append(staff, r)
		}
	}
	if len(staff) != 1 || staff[0].Text != "first, edited" || !staff[0].Edited {
		t.Fatalf("staff replies from the mailbox = %+v, want only the edited first", staff)
	}

	// An id that is not the live chat's is refused.
	if err := s.core.EditMessage(ctx, to, "not-a-number", bot.Reply{Text: "x"}); err == nil {
		t.Fatal("an edit of a foreign id was accepted")
	}
}
