package discord

import (
	"bytes"
	"log/slog"
	"strings"
	"testing"

	"github.com/bwmarrin/discordgo"

	"github.com/einsatz/einsatz/bot"
)

// Guild messages that keep arriving blank mean MESSAGE_CONTENT is off: the
// adapter says so once.
func TestBlankMessagesExplainTheMissingIntent(t *testing.T) {
	var logs bytes.Buffer
	a, err := New(Options{Token: "x", Logger: slog.New(slog.NewTextHandler(&logs, nil))})
	if err != nil {
		t.Fatal(err)
	}
	blank := &discordgo.Message{GuildID: "g", ChannelID: "c"}
	ev := bot.Event{ChannelID: "c"}
	a.checkContent(blank, ev)
	a.checkContent(&discordgo.Message{GuildID: "g", Content: "hi"}, ev) // resets the count
	a.checkContent(blank, ev)
	a.checkContent(blank, ev)
	if logs.Len() != 0 {
		t.Fatalf("warned too early: %s", logs.String())
	}
	a.checkContent(blank, ev)
	a.checkContent(blank, ev)
	if n := strings.Count(logs.String(), "Message Content Intent"); n != 1 {
		t.Errorf("explained %d times, want once:\n%s", n, logs.String())
	}
	mentioned := ev
	mentioned.Mentioned = true
	logs.Reset()
	b, _ := New(Options{Token: "x", Logger: slog.New(slog.NewTextHandler(&logs, nil))})
	for range 5 {
		b.checkContent(blank, mentioned)
	}
	if logs.Len() != 0 {
		t.Errorf("blank mentions are not a sign of the missing intent: %s", logs.String())
	}
}

// A staff reply is marked in the member's language, in the webhook's
// username and in the text the bot posts when it cannot use a webhook.
func TestStaffMarkLanguage(t *testing.T) {
	for _, tc := range []struct {
		mark, name, text string
	}{
		{"", "anna (staff)", "**anna** (staff): Hallo"},
		{"staff", "anna (staff)", "**anna** (staff): Hallo"},
		{"Team", "anna (Team)", "**anna** (Team): Hallo"},
	} {
		r := bot.Reply{Text: "Hallo", AuthorName: "anna", AuthorMark: tc.mark}
		if got := staffName(r.AuthorName, r.StaffMark()); got != tc.name {
			t.Errorf("mark %q: webhook username %q, want %q", tc.mark, got, tc.name)
		}
		if got := staffText(r); got != tc.text {
			t.Errorf("mark %q: text %q, want %q", tc.mark, got, tc.text)
		}
	}
	// The username stays within Discord's 80 characters with the mark.
	long := strings.Repeat("x", 100)
	if got := staffName(long, "Team"); len([]rune(got)) != 80 || !strings.HasSuffix(got, " (Team)") {
		t.Errorf("a long name: %q (%d runes)", got, len([]rune(got)))
	}
}
