package inbox_test

import (
	"bytes"
	"context"
	"errors"
	"slices"
	"strings"
	"testing"

	"github.com/einsatz/einsatz/bot"
	"github.com/einsatz/einsatz/bot/config"
	"github.com/einsatz/einsatz/bot/request"
	"github.com/einsatz/einsatz/handlers/inbox"
	"github.com/einsatz/einsatz/handlers/inbox/detect"
)

// maybeDetect scores "please add" as a sure request (0.9) and "could we
// add" as a borderline one (0.6: above the threshold 0.5, below the
// auto-file threshold 0.7 the maybe tests use).
func maybeDetect(text, _ string) float64 {
	low := strings.ToLower(text)
	switch {
	case strings.Contains(low, "please add"):
		return 0.9
	case strings.Contains(low, "could we add"):
		return 0.6
	}
	return 0.05
}

func ids(items []request.Item) []int {
	var out []int
	for _, it := range items {
		out = append(out, it.ID)
	}
	return out
}

// Test: a message the detector scores between its threshold and the
// auto-file threshold is kept as a maybe: nobody is thanked, the webhooks
// hear nothing, it is not in the default or open lists (a status filter
// shows it), a sure request with the same words does not join it and it
// joins nothing, it cannot be merged or given a status. Confirming makes it
// new (the webhooks hear of a new item, nobody is told in a thread);
// rejecting it makes it not_request without a webhook and exports it as a
// labelled negative.
func TestBorderlineRequestIsAMaybe(t *testing.T) {
	hooks := &eventLog{}
	f := newFixture(t, func(o *inbox.Options) {
		o.Detect, o.Threshold, o.AutoFile = maybeDetect, 0.5, 0.7
		o.Notifiers = []inbox.Notifier{hooks}
	})
	ctx := context.Background()
	observe := func(ev *bot.Event) {
		t.Helper()
		if err := f.svc.Observe(ctx, ev); err != nil {
			t.Fatal(err)
		}
		f.svc.Flush()
	}

	observe(message("discord", "gen", "m1", "alice", "could we add a calendar export for events"))
	if posts := f.post.all(); len(posts) != 0 {
		t.Fatalf("a maybe was thanked: %+v", posts)
	}
	if ev := hooks.all(); len(ev) != 0 {
		t.Fatalf("webhooks heard of a maybe: %v", ev)
	}
	it, err := f.store.Item(ctx, 1)
	if err != nil || it.Status != request.StatusMaybe || len(it.Mentions) != 1 {
		t.Fatalf("item #1 = %+v, %v; want a maybe with the message", it, err)
	}

	// A sure request with the same words opens its own item (thanked);
	// another borderline one does not join either.
	observe(message("discord", "gen", "m2", "bob", "please add a calendar export for events"))
	observe(message("discord", "gen", "m3", "carol", "could we add a calendar export for events"))
	if posts := f.post.all(); len(posts) != 1 || !strings.Contains(posts[0].Reply.Text, "#2") {
		t.Fatalf("posts = %+v, want one thanks, for #2", posts)
	}
	if it, _ := f.store.Item(ctx, 1); len(it.Mentions) != 1 {
		t.Errorf("the maybe collected mentions: %d", len(it.Mentions))
	}
	if it, _ := f.store.Item(ctx, 3); it.Status != request.StatusMaybe {
		t.Errorf("#3 = %s, want its own maybe", it.Status)
	}

	for _, tc := range []struct {
		status string
		want   []int
	}{{"", []int{2}}, {"open", []int{2}}, {request.StatusMaybe, []int{1, 3}}} {
		items, err := f.svc.List(ctx, inbox.Filter{Status: tc.status, Sort: inbox.SortNewest})
		if err != nil {
			t.Fatal(err)
		}
		got := ids(items)
		slices.Sort(got)
		if !slices.Equal(got, tc.want) {
			t.Errorf("list status=%q = %v, want %v", tc.status, got, tc.want)
		}
	}
	if ov, err := f.svc.Overview(ctx, inbox.Filter{}); err != nil || ov.Maybe != 2 {
		t.Errorf("overview maybe count = %d, %v; want 2", ov.Maybe, err)
	}

	for name, err := range map[string]error{
		"merge a maybe":      second(f.svc.Merge(ctx, 1, 2, "pat")),
		"merge into a maybe": second(f.svc.Merge(ctx, 2, 1, "pat")),
		"status of a maybe":  second(f.svc.SetStatus(ctx, 1, request.StatusPlanned, "", "pat")),
		"status to maybe":    second(f.svc.SetStatus(ctx, 2, request.StatusMaybe, "", "pat")),
		"confirm a request":  second(f.svc.ConfirmMaybe(ctx, 2, "pat")),
	} {
		if !errors.Is(err, inbox.ErrBadStatus) {
			t.Errorf("%s: err %v, want ErrBadStatus", name, err)
		}
	}

	before, hooksBefore := len(f.post.all()), len(hooks.all())
	it, err = f.svc.ConfirmMaybe(ctx, 1, "pat")
	f.svc.Flush()
	if err != nil || it.Status != request.StatusNew {
		t.Fatalf("confirm: %+v, %v; want new", it, err)
	}
	if last := it.Changes[len(it.Changes)-1]; last.From != request.StatusMaybe || last.To != request.StatusNew || last.By != "pat" {
		t.Errorf("change = %+v", last)
	}
	if posts := f.post.all()[before:]; len(posts) != 0 {
		t.Errorf("confirming posted %+v; want nothing (the member is not thanked late)", posts)
	}
	if ev := hooks.all()[hooksBefore:]; !slices.Equal(ev, []string{inbox.EventNew}) {
		t.Errorf("webhooks on confirm = %v, want [%s]", ev, inbox.EventNew)
	}
	if items, _ := f.svc.List(ctx, inbox.Filter{}); !slices.Contains(ids(items), 1) {
		t.Errorf("confirmed #1 not in the list: %v", ids(items))
	}

	hooksBefore = len(hooks.all())
	if it, err := f.svc.MarkNotRequest(ctx, 3, "pat"); err != nil || it.Status != request.StatusNotRequest {
		t.Fatalf("reject: %+v, %v", it, err)
	}
	f.svc.Flush()
	if ev := hooks.all()[hooksBefore:]; len(ev) != 0 {
		t.Errorf("webhooks on rejecting a maybe = %v, want none (they never heard of it)", ev)
	}
	all, _ := f.store.Items(ctx)
	var buf bytes.Buffer
	if err := inbox.WriteNegatives(&buf, all); err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(buf.String(), `"item":3`) {
		t.Errorf("negatives = %q, want the rejected maybe #3", buf.String())
	}
}

func second[T any](_ T, err error) error { return err }

// Test: a message to the bot read as a request but scoring below the
// auto-file threshold is kept as a maybe and gets no thanks.
func TestBorderlineMessageToTheBotIsAMaybe(t *testing.T) {
	f := newFixture(t, func(o *inbox.Options) { o.Detect, o.Threshold, o.AutoFile = maybeDetect, 0.5, 0.7 })
	ctx := context.Background()
	ev := message("discord", "gen", "m1", "alice", "could we add a calendar export")
	ev.Reading = bot.ReadingRequest
	var replies []bot.Reply
	for _, r := range f.svc.Routes() {
		if r.Match(ev) {
			var err error
			if replies, err = r.Handler.Handle(ctx, ev); err != nil {
				t.Fatal(err)
			}
		}
	}
	if len(replies) != 0 || len(f.post.all()) != 0 {
		t.Errorf("replies %+v, posts %+v: want no thanks for a maybe", replies, f.post.all())
	}
	if it, err := f.store.Item(ctx, 1); err != nil || it.Status != request.StatusMaybe {
		t.Errorf("item = %+v, %v; want a maybe", it, err)
	}
}

// Test: inbox.auto_file_threshold 0 means the detector's own; a value is
// taken as it is.
func TestFromConfigAutoFileThreshold(t *testing.T) {
	for _, tc := range []struct{ set, want float64 }{{0, detect.AutoFileThreshold}, {0.8, 0.8}} {
		cfg := config.Default()
		cfg.Inbox.AutoFileThreshold = tc.set
		if got := inbox.FromConfig(cfg, nil, inbox.Options{}).AutoFile; got != tc.want {
			t.Errorf("auto_file_threshold %g: AutoFile = %g, want %g", tc.set, got, tc.want)
		}
	}
}
