package slack

import (
	"errors"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/einsatz/einsatz/bot"
)

func readTestdata(t *testing.T, name string) []byte {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("testdata", name))
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func testEnv() Env {
	return Env{
		BotUserID: "U0LAN0Z89",
		BotID:     "B0LAN0Z89",
		IsStaff:   func(id string) bool { return id == "U024BE7LH" },
		Commands:  []string{"ask", "feedback", "forward", "help"},
		ThreadOf: func(ch, ts string) string {
			if ch == "C123ABC456" && ts == "1515449900.000500" {
				return "1515449522.000016"
			}
			return ""
		},
	}
}

func TestTranslateEvent(t *testing.T) {
	user := bot.User{Platform: "slack", ID: "U061F7AUR"}
	tests := []struct {
		file string
		want bot.Event
		skip bool
	}{
		{file: "app_mention.json", want: bot.Event{
			Key: "slack:msg:C123ABC456:1515449522.000016", Kind: bot.KindMessage, Platform: "slack",
			ChannelID: "C123ABC456", MessageID: "1515449522.000016", Mentioned: true, User: user,
			Text: "is it everything a river should be?", Time: time.Unix(1515449522, 16000).UTC(),
		}},
		{file: "message_channel.json", want: bot.Event{ // the same post as app_mention.json: the same key
			Key: "slack:msg:C123ABC456:1515449522.000016", Kind: bot.KindMessage, Platform: "slack",
			ChannelID: "C123ABC456", MessageID: "1515449522.000016", Mentioned: true, User: user,
			Text: "is it everything a river should be?", Time: time.Unix(1515449522, 16000).UTC(),
		}},
		{file: "message_thread_reply.json", want: bot.Event{
			Key: "slack:msg:C123ABC456:1515449600.000200", Kind: bot.KindMessage, Platform: "slack",
			ChannelID: "C123ABC456", ThreadID: "1515449522.000016", MessageID: "1515449600.000200", User: user,
			Text: "and how do I reset it & keep my <data>?", Time: time.Unix(1515449600, 200000).UTC(),
		}},
		{file: "message_im.json", want: bot.Event{
			Key: "slack:msg:D024BE91L:1515449700.000300", Kind: bot.KindMessage, Platform: "slack",
			ChannelID: "D024BE91L", ThreadID: DMThread, MessageID: "1515449700.000300", DM: true, User: user,
			Text: "hello, can you help?", Time: time.Unix(1515449700, 300000).UTC(),
		}},
		{file: "message_bot.json", want: bot.Event{
			Key: "slack:msg:C123ABC456:1515449800.000400", Kind: bot.KindMessage, Platform: "slack",
			ChannelID: "C123ABC456", MessageID: "1515449800.000400", Mentioned: true,
			User: bot.User{Platform: "slack", Bot: true}, Text: "Deploy finished", Time: time.Unix(1515449800, 400000).UTC(),
		}},
		{file: "message_own.json", want: bot.Event{
			Key: "slack:msg:C123ABC456:1515449900.000500", Kind: bot.KindMessage, Platform: "slack",
			ChannelID: "C123ABC456", ThreadID: "1515449522.000016", MessageID: "1515449900.000500",
			User: bot.User{Platform: "slack", ID: "U0LAN0Z89", Bot: true}, Text: "Here is what I found",
			Time: time.Unix(1515449900, 500000).UTC(),
		}},
		{file: "reaction_added.json", want: bot.Event{
			Key: "slack:react:C123ABC456:1515449900.000500:U024BE7LH:thumbsup:add", Kind: bot.KindReaction, Platform: "slack",
			ChannelID: "C123ABC456", ThreadID: "1515449522.000016", MessageID: "1515449900.000500",
			User: bot.User{Platform: "slack", ID: "U024BE7LH", Staff: true}, Reaction: "thumbsup",
			Time: time.Unix(1515450200, 800000).UTC(),
			Target: &bot.Message{ID: "1515449900.000500", ChannelID: "C123ABC456", ThreadID: "1515449522.000016",
				User: bot.User{Platform: "slack", ID: "U0LAN0Z89", Bot: true}},
		}},
		{file: "reaction_removed.json", want: bot.Event{
			Key: "slack:react:C123ABC456:1515449522.000016:U024BE7LH:thumbsup:remove", Kind: bot.KindReaction, Platform: "slack",
			ChannelID: "C123ABC456", MessageID: "1515449522.000016", Removed: true,
			User: bot.User{Platform: "slack", ID: "U024BE7LH", Staff: true}, Reaction: "thumbsup",
			Time:   time.Unix(1515450300, 900000).UTC(),
			Target: &bot.Message{ID: "1515449522.000016", ChannelID: "C123ABC456", User: user},
		}},
		{file: "message_changed.json", want: bot.Event{
			Key: "slack:edit:C123ABC456:1515449522.000016:1515450000.000600", Kind: bot.KindEdit, Platform: "slack",
			ChannelID: "C123ABC456", MessageID: "1515449522.000016", User: user,
			Text: "is it everything a river should be? (edited)", Time: time.Unix(1515450000, 600000).UTC(),
		}},
		{file: "message_deleted.json", want: bot.Event{
			Key: "slack:delete:C123ABC456:1515449600.000200:1515450100.000700", Kind: bot.KindDelete, Platform: "slack",
			ChannelID: "C123ABC456", ThreadID: "1515449522.000016", MessageID: "1515449600.000200", User: user,
			Time: time.Unix(1515450100, 700000).UTC(),
		}},
		{file: "channel_join.json", skip: true},
		{file: "url_verification.json", skip: true},
	}
	for _, tt := range tests {
		t.Run(tt.file, func(t *testing.T) {
			got, err := TranslateEvent(readTestdata(t, tt.file), testEnv())
			if tt.skip {
				if !errors.Is(err, ErrSkip) {
					t.Fatalf("err = %v, want ErrSkip", err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			assertEvent(t, got, tt.want)
		})
	}
}

func assertEvent(t *testing.T, got, want bot.Event) {
	t.Helper()
	if (got.Target == nil) != (want.Target == nil) || (got.Target != nil && *got.Target != *want.Target) {
		t.Errorf("Target = %+v, want %+v", got.Target, want.Target)
	}
	got.Target, want.Target = nil, nil
	if !got.Time.Equal(want.Time) {
		t.Errorf("Time = %v, want %v", got.Time, want.Time)
	}
	got.Time, want.Time = time.Time{}, time.Time{}
	if got.Key != want.Key || got.Kind != want.Kind || got.Platform != want.Platform || got.ChannelID != want.ChannelID ||
		got.ThreadID != want.ThreadID || got.MessageID != want.MessageID || got.DM != want.DM || got.Mentioned != want.Mentioned ||
		got.User != want.User || got.Text != want.Text || got.Reaction != want.Reaction || got.Removed != want.Removed ||
		got.Command != want.Command || got.Args != want.Args || got.Action != want.Action || got.Value != want.Value {
		t.Errorf("event\n got %+v\nwant %+v", got, want)
	}
}

func TestTranslateMentionTwiceSameThread(t *testing.T) {
	a, _ := TranslateEvent(readTestdata(t, "app_mention.json"), testEnv())
	m, _ := TranslateEvent(readTestdata(t, "message_channel.json"), testEnv())
	r, _ := TranslateEvent(readTestdata(t, "message_thread_reply.json"), testEnv())
	if a.Key != m.Key {
		t.Errorf("app_mention and message keys differ: %q %q", a.Key, m.Key)
	}
	if a.Thread() != r.Thread() {
		t.Errorf("the reply's thread %v is not the mention's %v", r.Thread(), a.Thread())
	}
}

func TestTranslateCommand(t *testing.T) {
	sock, err := SlashCommandFromJSON(readTestdata(t, "slash_socket.json"))
	if err != nil {
		t.Fatal(err)
	}
	form, err := url.ParseQuery(strings.TrimSpace(string(readTestdata(t, "slash_form.txt"))))
	if err != nil {
		t.Fatal(err)
	}
	mk := func(text string) SlashCommand {
		c := sock
		c.Text = text
		return c
	}
	tests := []struct {
		name            string
		cmd             SlashCommand
		command, args   string
		wantKey, thread string
	}{
		{"socket json", sock, "ask", "how do I reset my password?", "slack:cmd:13345224609.738474920.8088930838d88f008e0", "cmd-13345224609.738474920.8088930838d88f008e0"},
		{"http form", SlashCommandFromForm(form), "feedback", "the bot was great", "slack:cmd:13345224609.738474920.8088930838d88f008e0", "cmd-13345224609.738474920.8088930838d88f008e0"},
		{"empty is help", mk("  "), "help", "", "", ""},
		{"unknown word is a question", mk("how do I log in?"), "ask", "how do I log in?", "", ""},
		{"case-insensitive", mk("ASK why"), "ask", "why", "", ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ev, err := TranslateCommand(tt.cmd, testEnv())
			if err != nil {
				t.Fatal(err)
			}
			if ev.Kind != bot.KindCommand || ev.Command != tt.command || ev.Args != tt.args {
				t.Errorf("got %q %q, want %q %q", ev.Command, ev.Args, tt.command, tt.args)
			}
			if tt.wantKey != "" && ev.Key != tt.wantKey {
				t.Errorf("Key = %q, want %q", ev.Key, tt.wantKey)
			}
			if tt.thread != "" && ev.Thread().ThreadID != tt.thread {
				t.Errorf("thread = %q, want %q", ev.Thread().ThreadID, tt.thread)
			}
			if ev.User.Name == "" {
				t.Error("user name from the payload missing")
			}
		})
	}
	if _, err := TranslateCommand(SlashCommand{Command: "/einsatz"}, testEnv()); !errors.Is(err, ErrSkip) {
		t.Errorf("incomplete command: err = %v, want ErrSkip", err)
	}
}

func TestTranslateInteraction(t *testing.T) {
	t.Run("shortcut", func(t *testing.T) {
		ev, err := TranslateInteraction(readTestdata(t, "shortcut_message.json"), testEnv())
		if err != nil {
			t.Fatal(err)
		}
		assertEvent(t, ev, bot.Event{
			Key: "slack:ia:944799105734.773906753841.38b5894552bdd4a780554ee59d1f3638", Kind: bot.KindCommand, Platform: "slack",
			ChannelID: "C123ABC456", ThreadID: "1515449522.000016", MessageID: "1515449600.000200",
			User: bot.User{Platform: "slack", ID: "U061F7AUR", Name: "river"}, Command: "forward",
			Time: time.Unix(1581106241, 371594000).UTC(),
			Target: &bot.Message{ID: "1515449600.000200", ChannelID: "C123ABC456", ThreadID: "1515449522.000016",
				User: bot.User{Platform: "slack", ID: "U024BE7LH", Staff: true}, Text: "It would be great to export reports as <CSV>",
				Time: time.Unix(1515449600, 200000).UTC()},
		})
	})
	t.Run("button", func(t *testing.T) {
		ev, err := TranslateInteraction(readTestdata(t, "block_actions.json"), testEnv())
		if err != nil {
			t.Fatal(err)
		}
		assertEvent(t, ev, bot.Event{
			Key: "slack:ia:12466734323.1395872398.e7e8a2ef0b8a4d9e1df1c1d0f4d2b1a1", Kind: bot.KindInteraction, Platform: "slack",
			ChannelID: "C123ABC456", ThreadID: "1515449522.000016", MessageID: "1515449900.000500",
			User: bot.User{Platform: "slack", ID: "U061F7AUR", Name: "river"}, Action: "feedback", Value: "down",
			Time: time.Unix(1515450400, 1000000).UTC(),
		})
	})
	t.Run("button on a forgotten ephemeral message", func(t *testing.T) {
		// As Slack sends it: the container says ephemeral, and there is no
		// message; the adapter does not know the thread (after a restart).
		payload := `{"type":"block_actions","trigger_id":"t1","user":{"id":"U061F7AUR","username":"river"},
			"container":{"type":"message","message_ts":"1515449999.000900","channel_id":"C123ABC456","is_ephemeral":true},
			"channel":{"id":"C123ABC456"},
			"actions":[{"type":"button","action_id":"forget_me_confirm","value":"yes","action_ts":"1515450400.001000"}]}`
		ev, err := TranslateInteraction([]byte(payload), testEnv())
		if err != nil {
			t.Fatal(err)
		}
		if ev.ThreadID != EphemeralPrefix+"t1" || ev.Action != "forget_me_confirm" {
			t.Fatalf("event %+v, want a private thread of its own", ev)
		}
	})
	t.Run("modal skipped", func(t *testing.T) {
		if _, err := TranslateInteraction(readTestdata(t, "view_submission.json"), testEnv()); !errors.Is(err, ErrSkip) {
			t.Fatalf("err = %v, want ErrSkip", err)
		}
	})
}

func TestTSTime(t *testing.T) {
	if got := tsTime("1515449522.000016"); !got.Equal(time.Unix(1515449522, 16000)) {
		t.Errorf("tsTime = %v", got)
	}
	if !tsTime("").IsZero() || !tsTime("x.1").IsZero() {
		t.Error("bad ts should give the zero time")
	}
}

// Events carry Slack's permalink, built from the workspace URL as Slack
// builds it; without the URL (auth.test not answered yet) none.
func TestTranslatePermalink(t *testing.T) {
	tests := []struct {
		file, teamURL, want string
	}{
		{"app_mention.json", "https://acme.slack.com/", "https://acme.slack.com/archives/C123ABC456/p1515449522000016"},
		{"message_thread_reply.json", "https://acme.slack.com/",
			"https://acme.slack.com/archives/C123ABC456/p1515449600000200?thread_ts=1515449522.000016&cid=C123ABC456"},
		{"app_mention.json", "", ""},
	}
	for _, tt := range tests {
		env := testEnv()
		env.TeamURL = tt.teamURL
		ev, err := TranslateEvent(readTestdata(t, tt.file), env)
		if err != nil {
			t.Fatal(err)
		}
		if ev.Permalink != tt.want {
			t.Errorf("%s with %q: permalink %q, want %q", tt.file, tt.teamURL, ev.Permalink, tt.want)
		}
	}
}
