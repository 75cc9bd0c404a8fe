package main

import (
	"context"
	"fmt"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/einsatz/einsatz/bot"
	"github.com/einsatz/einsatz/bot/mood"
	"github.com/einsatz/einsatz/storage"
)

// The shipped exports import with their original timestamps, channels,
// threads and authors; a second import adds nothing.
func TestImportShippedExports(t *testing.T) {
	dataDir := filepath.Join(t.TempDir(), "data")
	// Retention far longer than the exports' age, so this test does not
	// depend on today's date.
	cfg := writeConfig(t, fmt.Sprintf("storage:\n  path: %s\n  message_ttl: 87600h\n  sentiment_ttl: 87600h\n", dataDir))
	steps := []struct {
		args []string
		want string
	}{
		{[]string{"import", "slack", "testdata/imports/slack-export.zip"}, "9 messages (2026-11-20 11:00 to 2026-11-21 12:00 UTC): 9 imported, 0 already known, 2 skipped"},
		{[]string{"import", "slack", "testdata/imports/slack-export"}, "9 messages (2026-11-20 11:00 to 2026-11-21 12:00 UTC): 0 imported, 9 already known"},
		{[]string{"import", "discord", "testdata/imports/discord-general.json"}, "6 messages (2026-11-22 09:15 to 2026-11-24 11:00 UTC): 6 imported, 0 already known, 2 skipped"},
		{[]string{"import", "discord", "testdata/imports/discord-general.json"}, "0 imported, 6 already known"},
	}
	for _, st := range steps {
		out, _, err := einsatz(t, "", append(st.args, "--config", cfg)...)
		if err != nil {
			t.Fatalf("%v: %v", st.args, err)
		}
		if !strings.Contains(out, st.want) {
			t.Fatalf("%v printed %q, want %q", st.args, out, st.want)
		}
	}
	// The feature requests in the history were detected and filed, once.
	out, _, err := einsatz(t, "", "inbox", "list", "--config", cfg)
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"dark mode to the dashb", "CSV-Export für die Berichte", "Please add support for Matrix rooms"} {
		if strings.Count(out, want) != 1 {
			t.Errorf("inbox list shows %q %d times, want once:\n%s", want, strings.Count(out, want), out)
		}
	}
	if strings.Contains(out, "crashes") || strings.Contains(out, "How do I connect") {
		t.Errorf("a bug report or a question was filed as a feature request:\n%s", out)
	}
	store, err := storage.Open(storage.Options{Path: dataDir, MessageTTL: 87600 * time.Hour, SentimentTTL: 87600 * time.Hour, Logger: discard()})
	if err != nil {
		t.Fatal(err)
	}
	defer store.Close()
	ctx := context.Background()
	// A thread reply joined its parent's thread, with the original time and author.
	hist, err := store.History(ctx, bot.ThreadRef{Platform: "slack", ChannelID: "C0GENERAL", ThreadID: "1795176000.000300"}, 10)
	if err != nil || len(hist) != 2 || hist[1].Name != "Carla Muster" || !hist[1].Time.Equal(time.Date(2026, 11, 20, 12, 1, 0, 400000, time.UTC)) {
		t.Fatalf("slack thread = %+v, %v", hist, err)
	}
	dq, _ := store.History(ctx, bot.ThreadRef{Platform: "discord", ChannelID: "1300000000000000010", ThreadID: "1300000000000000101"}, 10)
	if len(dq) != 2 || dq[0].Name != "Dora" || dq[1].Name != "emil" {
		t.Fatalf("discord thread = %+v", dq)
	}
	// Every imported message was scored, once.
	n := 0
	for _, ch := range []mood.Channel{{Platform: "slack", ID: "C0GENERAL"}, {Platform: "slack", ID: "C0HELP"}, {Platform: "discord", ID: "1300000000000000010"}} {
		days, err := storage.NewSentiment(store).Buckets(ctx, mood.Day, ch, time.Date(2026, 11, 1, 0, 0, 0, 0, time.UTC), time.Date(2026, 12, 1, 0, 0, 0, 0, time.UTC))
		if err != nil {
			t.Fatal(err)
		}
		for _, d := range days {
			n += d.N
		}
	}
	if n != 15 {
		t.Fatalf("%d messages scored, want 15 (9 from Slack, 6 from Discord)", n)
	}
}
