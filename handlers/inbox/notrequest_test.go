package inbox_test

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"strings"
	"sync"
	"testing"

	"github.com/einsatz/einsatz/bot/request"
	"github.com/einsatz/einsatz/handlers/inbox"
)

// eventLog is a Notifier that keeps the events it heard.
type eventLog struct {
	mu     sync.Mutex
	events []string
}

func (e *eventLog) Notify(_ context.Context, p inbox.Payload) error {
	e.mu.Lock()
	defer e.mu.Unlock()
	e.events = append(e.events, p.Event)
	return nil
}

func (e *eventLog) all() []string {
	e.mu.Lock()
	defer e.mu.Unlock()
	return append([]string(nil), e.events...)
}

// Test: "not a request" takes a false detection out of the inbox without a
// word to anyone: no post in the member's thread, no direct message to a
// member who opted in, no status webhook (only the quiet not_request
// event). The item leaves the default and "open" lists (a status filter
// still shows it), stops collecting mentions, cannot get a status, and its
// mentions are exported as labelled negatives. Undo makes it new again,
// quietly too, and it collects mentions again.
func TestNotARequestIsQuiet(t *testing.T) {
	dms, hooks := &dmRecorder{}, &eventLog{}
	f := newFixture(t, func(o *inbox.Options) {
		o.DirectMessenger = dms
		o.Notifiers = []inbox.Notifier{hooks}
	})
	ctx := context.Background()
	runNotify(t, f.svc, notifyEvent("discord", "alice", "on", "en"))
	dms.take()
	f.svc.Observe(ctx, message("discord", "gen", "m1", "alice", "Please add more coffee to the kitchen, the machine is empty"))
	f.svc.Observe(ctx, message("discord", "gen", "m2", "bob", "please add dark mode"))
	f.svc.Flush()
	before, hooksBefore := len(f.post.all()), len(hooks.all())

	it, err := f.svc.MarkNotRequest(ctx, 1, "pat")
	if err != nil {
		t.Fatal(err)
	}
	f.svc.Flush()
	if it.Status != request.StatusNotRequest {
		t.Errorf("status = %s, want not_request", it.Status)
	}
	if posts := f.post.all()[before:]; len(posts) != 0 {
		t.Errorf("not a request posted %+v; want nothing in any thread", posts)
	}
	if got := dms.take(); len(got) != 0 {
		t.Errorf("not a request sent DMs %+v; want none", got)
	}
	if ev := hooks.all()[hooksBefore:]; strings.Join(ev, ",") != inbox.EventNotRequest {
		t.Errorf("webhook events = %v, want only %s", ev, inbox.EventNotRequest)
	}
	last := it.Changes[len(it.Changes)-1]
	if last.From != request.StatusNew || last.To != request.StatusNotRequest || last.By != "pat" || last.Posted != 0 {
		t.Errorf("change = %+v", last)
	}

	for _, tc := range []struct {
		status string
		want   []int
	}{{"", []int{2}}, {"open", []int{2}}, {request.StatusNotRequest, []int{1}}} {
		items, err := f.svc.List(ctx, inbox.Filter{Status: tc.status})
		if err != nil {
			t.Fatal(err)
		}
		var ids []int
		for _, it := range items {
			ids = append(ids, it.ID)
		}
		if len(ids) != len(tc.want) || (len(ids) > 0 && ids[0] != tc.want[0]) {
			t.Errorf("list status=%q = %v, want %v", tc.status, ids, tc.want)
		}
	}

	// The same false positive again does not join the removed item.
	f.svc.Observe(ctx, message("discord", "gen", "m3", "carol", "Please add more coffee to the kitchen, the machine is empty"))
	if it, _ := f.store.Item(ctx, 1); len(it.Mentions) != 1 {
		t.Errorf("removed item collected a mention: %d mentions", len(it.Mentions))
	}

	if _, err := f.svc.SetStatus(ctx, 1, request.StatusPlanned, "", "pat"); !errors.Is(err, inbox.ErrBadStatus) {
		t.Errorf("status change of a removed item: err %v, want ErrBadStatus", err)
	}
	if _, err := f.svc.SetStatus(ctx, 2, request.StatusNotRequest, "", "pat"); !errors.Is(err, inbox.ErrBadStatus) {
		t.Errorf("not_request by status change: err %v, want ErrBadStatus", err)
	}
	if _, err := f.svc.MarkNotRequest(ctx, 1, "pat"); !errors.Is(err, inbox.ErrBadStatus) {
		t.Errorf("marking twice: err %v, want ErrBadStatus", err)
	}

	items, _ := f.svc.List(ctx, inbox.Filter{})
	all, _ := f.store.Items(ctx)
	var buf bytes.Buffer
	if err := inbox.WriteNegatives(&buf, all); err != nil {
		t.Fatal(err)
	}
	lines := strings.Split(strings.TrimSpace(buf.String()), "\n")
	if len(lines) != 1 {
		t.Fatalf("negatives = %q, want one line (item #1's one mention; #2 is a request)", buf.String())
	}
	var neg inbox.Negative
	if err := json.Unmarshal([]byte(lines[0]), &neg); err != nil {
		t.Fatal(err)
	}
	if neg.Item != 1 || neg.Label != "not_request" || !strings.Contains(neg.Text, "coffee") || neg.MessageID != "m1" || neg.Source != request.SourceDetected {
		t.Errorf("negative = %+v", neg)
	}
	for _, x := range items {
		if x.ID == 1 {
			t.Errorf("default list shows the removed #1")
		}
	}

	// Undo: new again, nobody told, collecting mentions again.
	f.svc.Flush()
	before, hooksBefore = len(f.post.all()), len(hooks.all())
	it, err = f.svc.RestoreRequest(ctx, 1, "pat")
	if err != nil {
		t.Fatal(err)
	}
	f.svc.Flush()
	if it.Status != request.StatusNew {
		t.Errorf("after undo status = %s, want new", it.Status)
	}
	if posts := f.post.all()[before:]; len(posts) != 0 {
		t.Errorf("undo posted %+v", posts)
	}
	if got := dms.take(); len(got) != 0 {
		t.Errorf("undo sent DMs %+v", got)
	}
	if ev := hooks.all()[hooksBefore:]; strings.Join(ev, ",") != inbox.EventRestored {
		t.Errorf("undo webhook events = %v, want only %s", ev, inbox.EventRestored)
	}
	if _, err := f.svc.RestoreRequest(ctx, 1, "pat"); !errors.Is(err, inbox.ErrBadStatus) {
		t.Errorf("undo of an item that is a request: err %v", err)
	}
	f.svc.Observe(ctx, message("discord", "gen", "m4", "dave", "Please add more coffee to the kitchen, the machine is empty"))
	if it, _ := f.store.Item(ctx, 1); len(it.Mentions) != 2 {
		t.Errorf("restored item has %d mentions, want 2 (it collects again)", len(it.Mentions))
	}

	// A merged item cannot be marked: its mentions live in the other item.
	if _, err := f.svc.Merge(ctx, 2, 1, "pat"); err != nil {
		t.Fatal(err)
	}
	if _, err := f.svc.MarkNotRequest(ctx, 2, "pat"); !errors.Is(err, inbox.ErrBadStatus) {
		t.Errorf("marking a duplicate: err %v", err)
	}
}

// Test: editing an item's title and summary records old and new texts in
// its history, tells nobody, leaves fields that were not given alone,
// refuses an empty or overlong title, and a no-op edit records nothing.
func TestEditTitleAndSummary(t *testing.T) {
	f := newFixture(t, nil)
	ctx := context.Background()
	f.svc.Observe(ctx, message("discord", "gen", "m1", "alice", "please add dark mode to the dashboard, my eyes hurt at night"))
	orig, _ := f.store.Item(ctx, 1)
	before := len(f.post.all())
	s := func(v string) *string { return &v }

	it, err := f.svc.Edit(ctx, 1, inbox.EditRequest{Title: s("  Dark   mode "), Summary: s("A dark theme for the dashboard.")}, "pat")
	if err != nil {
		t.Fatal(err)
	}
	if it.Title != "Dark mode" || it.Summary != "A dark theme for the dashboard." || it.Status != request.StatusNew {
		t.Errorf("edited item = %q / %q / %s", it.Title, it.Summary, it.Status)
	}
	last := it.Changes[len(it.Changes)-1]
	if last.Edit == nil || last.Edit.OldTitle != orig.Title || last.Edit.Title != "Dark mode" || last.Edit.OldSummary != orig.Summary ||
		last.By != "pat" || last.From != request.StatusNew || last.To != request.StatusNew || last.Edit.What() != "title and summary" {
		t.Errorf("edit change = %+v (edit %+v)", last, last.Edit)
	}
	if posts := f.post.all()[before:]; len(posts) != 0 {
		t.Errorf("edit posted %+v", posts)
	}

	it, err = f.svc.Edit(ctx, 1, inbox.EditRequest{Summary: s("")}, "sam")
	if err != nil || it.Title != "Dark mode" || it.Summary != "" || it.Changes[len(it.Changes)-1].Edit.What() != "summary" {
		t.Errorf("summary-only edit: %q / %q, err %v", it.Title, it.Summary, err)
	}
	n := len(it.Changes)
	if it, err = f.svc.Edit(ctx, 1, inbox.EditRequest{Title: s("Dark mode")}, "sam"); err != nil || len(it.Changes) != n {
		t.Errorf("no-op edit: %d changes (want %d), err %v", len(it.Changes), n, err)
	}
	for _, bad := range []inbox.EditRequest{{Title: s("   ")}, {Title: s(strings.Repeat("x", 121))}, {Summary: s(strings.Repeat("y", 601))}} {
		if _, err := f.svc.Edit(ctx, 1, bad, "sam"); !errors.Is(err, inbox.ErrBadEdit) {
			t.Errorf("edit %+v: err %v, want ErrBadEdit", bad, err)
		}
	}
	if _, err := f.svc.Edit(ctx, 9, inbox.EditRequest{Title: s("x")}, "sam"); !errors.Is(err, request.ErrNotFound) {
		t.Errorf("edit of a missing item: err %v", err)
	}
}
