package discord_test

import (
	"context"
	"log/slog"
	"strings"
	"testing"

	"github.com/einsatz/einsatz/adapters/discord"
)

// A run answers a mention (a long answer, split into several messages) and
// is killed before it records that; the next run resumes the event and
// sends its replies again, named the same (ReplyTo, Part). Discord's
// enforced nonce answers each with the message already there: no message
// is posted twice. Another reply of the same event (the next Part) is
// posted.
func TestResentReplyAfterCrashIsNotPostedTwice(t *testing.T) {
	t.Parallel()
	e := start(t, envOptions{})
	alice := e.srv.NewUser("Alice")
	m := e.srv.Post(e.general, alice, "show me the long config", true)
	e.eventually("the long answer", func() bool { return len(e.botMessages(m.ID)) >= 3 })
	e.settle()
	before := e.botMessages(m.ID)

	e.mu.Lock()
	ev := e.handled[0]
	e.mu.Unlock()
	replies, err := e.echo(context.Background(), &ev)
	if err != nil {
		t.Fatal(err)
	}

	// The restarted process: a new adapter that never saw the thread.
	again, err := discord.New(discord.Options{Token: e.srv.Token, APIURL: e.srv.URL, GuildIDs: []string{e.srv.Guild},
		Logger: slog.New(slog.DiscardHandler)})
	if err != nil {
		t.Fatal(err)
	}
	r := replies[0]
	r.ReplyTo, r.Part = ev.Key, 0
	if err := again.Send(context.Background(), ev.Thread(), r); err != nil {
		t.Fatal(err)
	}
	after := e.botMessages(m.ID)
	if len(after) != len(before) {
		t.Fatalf("%d bot messages in the thread after the resend, want the %d of the first run", len(after), len(before))
	}
	if n := e.srv.NonceReplays(); n != len(before) {
		t.Errorf("NonceReplays = %d, want %d (every part answered with the message there)", n, len(before))
	}

	r.Part = 1 // a second reply of the same event is a reply of its own
	r.Text = "and one more thing"
	if err := again.Send(context.Background(), ev.Thread(), r); err != nil {
		t.Fatal(err)
	}
	if got := e.botMessages(m.ID); len(got) != len(before)+1 || !strings.HasPrefix(got[len(got)-1].Content, "and one more thing") {
		t.Fatalf("after another part: %d messages, want %d ending with it", len(got), len(before)+1)
	}
}
