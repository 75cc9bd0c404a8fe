package web_test

import (
	"bufio"
	"context"
	"encoding/json"
	"net/http"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/einsatz/einsatz/adapters/web"
	"github.com/einsatz/einsatz/bot"
	"github.com/einsatz/einsatz/bot/bottest"
)

// sseEvent is one server-sent event as a client sees it.
type sseEvent struct {
	ID    string
	Name  string
	Data  web.StreamEvent
	Ping  bool // a comment line (heartbeat)
	Error error
}

// stream opens a conversation's event stream and returns its events.
func stream(t *testing.T, url string, header map[string]string) (*http.Response, <-chan sseEvent) {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
	if err != nil {
		t.Fatal(err)
	}
	for k, v := range header {
		req.Header.Set(k, v)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		cancel()
		t.Fatal(err)
	}
	t.Cleanup(func() { cancel(); resp.Body.Close() })
	out := make(chan sseEvent, 64)
	if resp.StatusCode != http.StatusOK {
		close(out)
		return resp, out
	}
	go func() {
		defer close(out)
		sc := bufio.NewScanner(resp.Body)
		var ev sseEvent
		for sc.Scan() {
			line := sc.Text()
			switch {
			case line == "":
				if ev.Name != "" || ev.Ping {
					out <- ev
				}
				ev = sseEvent{}
			case strings.HasPrefix(line, ":"):
				ev.Ping = true
			case strings.HasPrefix(line, "id: "):
				ev.ID = strings.TrimPrefix(line, "id: ")
			case strings.HasPrefix(line, "event: "):
				ev.Name = strings.TrimPrefix(line, "event: ")
			case strings.HasPrefix(line, "data: "):
				ev.Error = json.Unmarshal([]byte(strings.TrimPrefix(line, "data: ")), &ev.Data)
			}
		}
	}()
	return resp, out
}

// next returns the next event that is not a heartbeat or typing, failing
// after a few seconds.
func next(t *testing.T, events <-chan sseEvent) sseEvent {
	t.Helper()
	timeout := time.After(5 * time.Second)
	for {
		select {
		case ev, ok := <-events:
			if !ok {
				t.Fatal("stream ended")
			}
			if ev.Error != nil {
				t.Fatalf("event data: %v", ev.Error)
			}
			if ev.Ping || ev.Name == "typing" {
				continue
			}
			return ev
		case <-timeout:
			t.Fatal("no event within 5s")
		}
	}
}

// quiet fails when a message event arrives within d.
func quiet(t *testing.T, events <-chan sseEvent, d time.Duration) {
	t.Helper()
	timeout := time.After(d)
	for {
		select {
		case ev, ok := <-events:
			if !ok {
				return
			}
			if ev.Name == "message" {
				t.Fatalf("unexpected event %s: %+v", ev.ID, ev.Data)
			}
		case <-timeout:
			return
		}
	}
}

// buttons answers every message with two buttons and a click with what
// was picked.
var buttons = bot.HandlerFunc(func(_ context.Context, ev *bot.Event) ([]bot.Reply, error) {
	if ev.Kind == bot.KindInteraction {
		return []bot.Reply{{Text: "picked " + ev.Action + ":" + ev.Value, Notice: true}}, nil
	}
	return []bot.Reply{{Text: "answer to " + ev.Text, Buttons: []bot.Button{
		{Label: "Helpful", Action: "feedback_up", Value: "q1"},
		{Label: "Not helpful", Action: "feedback_down", Value: "q1"},
	}}}, nil
})

func webThread(conv string) bot.ThreadRef {
	return bot.ThreadRef{Platform: bot.PlatformWeb, ChannelID: "web", ThreadID: conv}
}

func TestChatEventsDeliverLateReplyWithoutRequest(t *testing.T) {
	s := startSite(t, web.Options{}, buttons)
	_, events := stream(t, s.URL()+"/api/chat/conv-late/events", nil)

	resp, out := postChat(t, s.URL(), `{"conversation_id":"conv-late","message_id":"m1","text":"hello there"}`, nil)
	if resp.StatusCode != 200 || len(out.Replies) != 1 || out.Replies[0].EventID == 0 {
		t.Fatalf("chat: %d %+v, want one reply with its event id", resp.StatusCode, out)
	}
	mine := next(t, events)
	if mine.Data.Role != "user" || mine.Data.MessageID != "m1" || mine.Data.Text != "hello there" {
		t.Fatalf("first event = %+v, want the visitor's message", mine.Data)
	}
	answer := next(t, events)
	if answer.Data.Role != "bot" || answer.Data.Text != "answer to hello there" || len(answer.Data.Buttons) != 2 {
		t.Fatalf("second event = %+v, want the answer with its buttons", answer.Data)
	}
	if answer.ID != strconv.FormatInt(out.Replies[0].EventID, 10) {
		t.Fatalf("stream id %s, API event_id %d: the page could not tell they are one reply", answer.ID, out.Replies[0].EventID)
	}

	// A staff reply posted later through the core, with nobody asking.
	if err := s.core.Post(context.Background(), webThread("conv-late"), bot.Reply{Text: "I'm on it.", AuthorName: "Alice"}); err != nil {
		t.Fatal(err)
	}
	staff := next(t, events)
	if staff.Data.Role != "staff" || staff.Data.AuthorName != "Alice" || staff.Data.Text != "I'm on it." {
		t.Fatalf("late event = %+v, want Alice's staff reply", staff.Data)
	}
	a, _ := strconv.ParseInt(answer.ID, 10, 64)
	b, _ := strconv.ParseInt(staff.ID, 10, 64)
	if b <= a {
		t.Fatalf("event ids %d then %d: not increasing", a, b)
	}
	// Delivered live, it is not handed out a second time with the next request.
	_, out = postChat(t, s.URL(), `{"conversation_id":"conv-late","message_id":"m2","text":"thanks"}`, nil)
	for _, r := range out.Replies {
		if r.AuthorName == "Alice" {
			t.Fatalf("the streamed staff reply came again with the next request: %+v", out.Replies)
		}
	}
}

func TestChatEventsResumeWithoutDuplicates(t *testing.T) {
	s := startSite(t, web.Options{}, buttons)
	url := s.URL() + "/api/chat/conv-resume/events"
	_, first := stream(t, url, nil)
	postChat(t, s.URL(), `{"conversation_id":"conv-resume","message_id":"m1","text":"one"}`, nil)
	next(t, first)
	seen := next(t, first) // the answer to "one": the last event this client saw

	// The client is gone; meanwhile a late post arrives (it goes to the
	// backlog and, with no stream open, the mailbox too).
	if err := s.core.Post(context.Background(), webThread("conv-resume"), bot.Reply{Text: "late", AuthorName: "Bo"}); err != nil {
		t.Fatal(err)
	}
	_, again := stream(t, url, map[string]string{"Last-Event-ID": seen.ID})
	late := next(t, again)
	if late.Data.Text != "late" {
		t.Fatalf("after Last-Event-ID %s: %+v, want only the late reply", seen.ID, late.Data)
	}
	quiet(t, again, 200*time.Millisecond)

	// A reloaded page passes the id it remembers as a parameter.
	_, reload := stream(t, url+"?last_event_id="+late.ID, nil)
	quiet(t, reload, 200*time.Millisecond)

	// Without an id the whole backlog comes, each event once, in order.
	_, fresh := stream(t, url, nil)
	var texts []string
	var last int64
	for range 3 {
		ev := next(t, fresh)
		id, _ := strconv.ParseInt(ev.ID, 10, 64)
		if id <= last {
			t.Fatalf("ids not increasing: %d after %d", id, last)
		}
		last = id
		texts = append(texts, ev.Data.Text)
	}
	if strings.Join(texts, "|") != "one|answer to one|late" {
		t.Fatalf("backlog = %q", texts)
	}
	quiet(t, fresh, 200*time.Millisecond)
}

func TestChatEventsAuthorization(t *testing.T) {
	s := startSite(t, web.Options{APIKey: "sekret", CORSOrigins: []string{"https://allowed.example"}}, buttons)
	page, err := http.Get(s.URL() + "/")
	if err != nil {
		t.Fatal(err)
	}
	var html strings.Builder
	sc := bufio.NewScanner(page.Body)
	for sc.Scan() {
		html.WriteString(sc.Text())
	}
	page.Body.Close()
	_, tok, _ := strings.Cut(html.String(), `data-token="`)
	tok, _, _ = strings.Cut(tok, `"`)
	if tok == "" {
		t.Fatal("no page token on the chat page")
	}
	base := s.URL() + "/api/chat/conv-auth/events"
	tests := []struct {
		name   string
		url    string
		header map[string]string
		want   int
	}{
		{"nothing", base, nil, 401},
		{"wrong key", base, map[string]string{"X-API-Key": "nope"}, 401},
		{"forged token", base + "?token=99999999999.abc", nil, 401},
		{"key header", base, map[string]string{"X-API-Key": "sekret"}, 200},
		{"page token header", base, map[string]string{"X-Chat-Token": tok}, 200},
		{"page token parameter (EventSource)", base + "?token=" + tok, nil, 200},
		{"allowed origin", base + "?token=" + tok, map[string]string{"Origin": "https://allowed.example"}, 200},
		{"other origin", base + "?token=" + tok, map[string]string{"Origin": "https://evil.example"}, 403},
		{"bad conversation id", s.URL() + "/api/chat/a%20b/events?token=" + tok, nil, 400},
		{"bad Last-Event-ID", base + "?token=" + tok, map[string]string{"Last-Event-ID": "x"}, 400},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			resp, _ := stream(t, tt.url, tt.header)
			if resp.StatusCode != tt.want {
				t.Fatalf("status %d, want %d", resp.StatusCode, tt.want)
			}
			if tt.want == 200 && resp.Header.Get("Content-Type") != "text/event-stream" {
				t.Fatalf("Content-Type %q", resp.Header.Get("Content-Type"))
			}
		})
	}
}

func TestChatButtonClickIsAnInteraction(t *testing.T) {
	s := startSite(t, web.Options{}, buttons)
	_, events := stream(t, s.URL()+"/api/chat/conv-click/events", nil)
	// Nothing offered yet: a made-up click is refused.
	if resp, _ := postChat(t, s.URL(), `{"conversation_id":"conv-click","action":"feedback_up","value":"q1"}`, nil); resp.StatusCode != http.StatusConflict {
		t.Fatalf("click before any button: %d, want 409", resp.StatusCode)
	}
	postChat(t, s.URL(), `{"conversation_id":"conv-click","message_id":"m1","text":"hi bot"}`, nil)
	next(t, events)
	next(t, events)
	resp, out := postChat(t, s.URL(), `{"conversation_id":"conv-click","action":"feedback_up","value":"q1"}`, nil)
	if resp.StatusCode != 200 || len(out.Replies) != 1 || out.Replies[0].Text != "picked feedback_up:q1" {
		t.Fatalf("click: %d %+v", resp.StatusCode, out)
	}
	if ev := next(t, events); ev.Data.Text != "picked feedback_up:q1" || !ev.Data.Notice {
		t.Fatalf("click's answer on the stream: %+v", ev.Data)
	}
	for _, body := range []string{
		`{"conversation_id":"conv-click","action":"feedback_up","value":"q2"}`,   // another question
		`{"conversation_id":"conv-click","action":"handoff_take","value":"q1"}`,  // a staff button
		`{"conversation_id":"other","action":"feedback_up","value":"q1"}`,        // another conversation
		`{"conversation_id":"conv-click","action":"x","value":"q1","text":"hi"}`, // both
	} {
		if resp, _ := postChat(t, s.URL(), body, nil); resp.StatusCode != http.StatusConflict && resp.StatusCode != http.StatusBadRequest {
			t.Errorf("%s: %d, want refused", body, resp.StatusCode)
		}
	}
}

func TestChatEventsTypingAndHeartbeat(t *testing.T) {
	release := make(chan struct{})
	slow := bot.HandlerFunc(func(ctx context.Context, ev *bot.Event) ([]bot.Reply, error) {
		<-release
		return []bot.Reply{{Text: "done"}}, nil
	})
	s := startSite(t, web.Options{StreamHeartbeat: 50 * time.Millisecond, ChatTimeout: 50 * time.Millisecond}, slow)
	_, events := stream(t, s.URL()+"/api/chat/conv-typing/events", nil)
	postChat(t, s.URL(), `{"conversation_id":"conv-typing","message_id":"m1","text":"take your time"}`, nil)
	var got []string
	timeout := time.After(5 * time.Second)
	sawPing := false
	for len(got) < 4 {
		select {
		case ev := <-events:
			switch {
			case ev.Ping:
				sawPing = true
				if len(got) == 2 { // typing shown, still working: now let it answer
					close(release)
					got = append(got, "ping")
				}
			case ev.Name == "typing":
				got = append(got, "typing="+strconv.FormatBool(*ev.Data.Typing))
			default:
				got = append(got, ev.Data.Text)
			}
		case <-timeout:
			t.Fatalf("events so far %q", got)
		}
	}
	if !sawPing || strings.Join(got, "|") != "take your time|typing=true|ping|done" {
		t.Fatalf("events %q", got)
	}
	ev := <-events
	for ev.Ping {
		ev = <-events
	}
	if ev.Name != "typing" || ev.Data.Typing == nil || *ev.Data.Typing {
		t.Fatalf("after the answer: %+v, want typing stopped", ev)
	}
}

func TestChatEventsIdleConversationExpires(t *testing.T) {
	clock := bottest.NewClock(time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC))
	s := startSite(t, web.Options{Clock: clock, LiveIdle: 10 * time.Minute}, buttons)
	postChat(t, s.URL(), `{"conversation_id":"conv-old","message_id":"m1","text":"hi"}`, nil)
	// Kept while recent: a click on its button is taken.
	if resp, _ := postChat(t, s.URL(), `{"conversation_id":"conv-old","action":"feedback_up","value":"q1"}`, nil); resp.StatusCode != 200 {
		t.Fatalf("click while fresh: %d", resp.StatusCode)
	}
	clock.Advance(11 * time.Minute)
	// Any new conversation sweeps the idle ones.
	postChat(t, s.URL(), `{"conversation_id":"conv-new","message_id":"m1","text":"hi"}`, nil)
	if resp, _ := postChat(t, s.URL(), `{"conversation_id":"conv-old","action":"feedback_up","value":"q1"}`, nil); resp.StatusCode != http.StatusConflict {
		t.Fatalf("click after the conversation expired: %d, want 409", resp.StatusCode)
	}
	_, events := stream(t, s.URL()+"/api/chat/conv-old/events", nil)
	quiet(t, events, 200*time.Millisecond)
}

func TestChatPageAndWidgetTexts(t *testing.T) {
	s := startSite(t, web.Options{APIKey: "sekret", BotName: "Helfer"}, buttons)
	get := func(path, lang string) (*http.Response, string) {
		req, _ := http.NewRequest(http.MethodGet, s.URL()+path, nil)
		req.Header.Set("Accept-Language", lang)
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		var b strings.Builder
		sc := bufio.NewScanner(resp.Body)
		sc.Buffer(nil, 1<<20)
		for sc.Scan() {
			b.WriteString(sc.Text() + "\n")
		}
		return resp, b.String()
	}
	tests := []struct {
		path, lang string
		want       []string
	}{
		{"/", "de-DE,de;q=0.9", []string{`data-staff="Team"`, "Helfer schreibt …", "/static/chatcore.js"}},
		{"/", "en-GB", []string{`data-staff="Staff"`, "Helfer is typing…"}},
		{"/widget.js", "de", []string{`"staff":"Team"`, `"typing":"Helfer schreibt …"`, `"token":"`, "function einsatzChat(", "attachShadow"}},
		{"/widget.js", "en", []string{`"staff":"Staff"`, `"bot":"Helfer"`}},
	}
	for _, tt := range tests {
		t.Run(tt.path+" "+tt.lang, func(t *testing.T) {
			resp, body := get(tt.path, tt.lang)
			if resp.StatusCode != 200 {
				t.Fatalf("status %d", resp.StatusCode)
			}
			for _, w := range tt.want {
				if !strings.Contains(body, w) {
					t.Errorf("missing %q", w)
				}
			}
			if tt.path == "/widget.js" && !strings.HasPrefix(resp.Header.Get("Content-Type"), "text/javascript") {
				t.Errorf("Content-Type %q", resp.Header.Get("Content-Type"))
			}
		})
	}
}
