package main

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/einsatz/einsatz/bot"
	"github.com/einsatz/einsatz/bot/escalation"
	"github.com/einsatz/einsatz/storage"
)

// A member's display name and words reach the staff terminal as visible
// escapes, not as escape sequences the terminal would obey.
func TestHandoffListEscapesControlCharacters(t *testing.T) {
	dir := t.TempDir()
	store, err := storage.Open(storage.Options{Path: dir, Logger: discard()})
	if err != nil {
		t.Fatal(err)
	}
	_, err = storage.NewHandoff(store).OpenEscalation(context.Background(), escalation.Escalation{
		Thread:  bot.ThreadRef{Platform: "web", ChannelID: "web", ThreadID: "t1"},
		User:    bot.User{Platform: "web", ID: "u1", Name: "eve\x1b]0;owned\x07\x1b[2J"},
		Reason:  "help\rOK: nothing to see\u009b31m",
		Created: time.Now(), Status: escalation.StatusOpen,
	})
	if err != nil {
		t.Fatal(err)
	}
	if err := store.Close(); err != nil {
		t.Fatal(err)
	}
	cfg := writeConfig(t, fmt.Sprintf("storage:\n  path: %s\n", dir))
	out, _, err := einsatz(t, "", "--config", cfg, "handoff", "list")
	if err != nil {
		t.Fatal(err)
	}
	if strings.ContainsAny(out, "\x1b\x07\r\u009b") {
		t.Fatalf("control characters reached the terminal: %q", out)
	}
	if !strings.Contains(out, `eve\x1b]0;owned\x07`) {
		t.Fatalf("the name is not shown escaped: %q", out)
	}
}
