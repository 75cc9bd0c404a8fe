package imports_test

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/einsatz/einsatz/bot"
	"github.com/einsatz/einsatz/handlers/imports"
)

// seen is a Replayer that remembers keys, as the core's durable claim does.
type seen map[string]bool

func (s seen) Replay(_ context.Context, ev bot.Event) (bool, error) {
	if s[ev.Key] {
		return false, nil
	}
	s[ev.Key] = true
	return true, nil
}

func TestReadSlackFolderAndZip(t *testing.T) {
	for _, p := range []string{"../../testdata/imports/slack-export", "../../testdata/imports/slack-export.zip"} {
		t.Run(filepath.Base(p), func(t *testing.T) {
			ex, err := imports.ReadSlack(p)
			if err != nil {
				t.Fatal(err)
			}
			s := ex.Summary
			if s.Files != 3 || s.Channels != 2 || s.Users != 4 || s.Messages != 9 || s.Skipped != 2 {
				t.Fatalf("summary = %+v", s)
			}
			first := ex.Events[0]
			if first.Key != "slack:msg:C0GENERAL:1795172400.000200" || first.User.Name != "alice" || first.ChannelID != "C0GENERAL" ||
				!first.Time.Equal(time.Date(2026, 11, 20, 11, 0, 0, 200000, time.UTC)) {
				t.Fatalf("first event = %+v", first)
			}
			// The thread reply belongs to the request's thread.
			var reply bot.Event
			for _, ev := range ex.Events {
				if strings.HasPrefix(ev.Text, "+1") {
					reply = ev
				}
			}
			if reply.ThreadID != "1795176000.000300" || reply.Thread().Key() != "slack/C0GENERAL/1795176000.000300" {
				t.Fatalf("thread reply = %+v", reply)
			}
			for i := 1; i < len(ex.Events); i++ {
				if ex.Events[i].Time.Before(ex.Events[i-1].Time) {
					t.Fatal("events not oldest first")
				}
			}
			r := seen{}
			sum, err := imports.Run(context.Background(), r, ex, nil)
			if err != nil || sum.Imported != 9 || sum.Duplicates != 0 {
				t.Fatalf("first run = %+v, %v", sum, err)
			}
			sum, err = imports.Run(context.Background(), r, ex, nil)
			if err != nil || sum.Imported != 0 || sum.Duplicates != 9 {
				t.Fatalf("second run = %+v, %v: want nothing added twice", sum, err)
			}
		})
	}
}

func TestReadDiscord(t *testing.T) {
	ex, err := imports.ReadDiscord("../../testdata/imports/discord-general.json")
	if err != nil {
		t.Fatal(err)
	}
	if s := ex.Summary; s.Messages != 6 || s.Skipped != 2 || s.Users != 3 {
		t.Fatalf("summary = %+v", s)
	}
	byID := map[string]bot.Event{}
	for _, ev := range ex.Events {
		byID[ev.MessageID] = ev
	}
	q, a := byID["1300000000000000101"], byID["1300000000000000102"]
	if q.Thread() != a.Thread() || a.ThreadID != "1300000000000000101" {
		t.Fatalf("the reply is not in the question's thread: %+v / %+v", q.Thread(), a.Thread())
	}
	if q.Key != "discord:msg:1300000000000000101" || q.User.Name != "Dora" || !q.Time.Equal(time.Date(2026, 11, 22, 9, 15, 0, 0, time.UTC)) ||
		q.Permalink != "https://discord.com/channels/1300000000000000001/1300000000000000010/1300000000000000101" {
		t.Fatalf("question = %+v", q)
	}
}

func TestBadExports(t *testing.T) {
	dir := t.TempDir()
	write := func(name, body string) string {
		p := filepath.Join(dir, name)
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, []byte(body), 0o644); err != nil {
			t.Fatal(err)
		}
		return p
	}
	zipData, err := os.ReadFile("../../testdata/imports/slack-export.zip")
	if err != nil {
		t.Fatal(err)
	}
	truncated := write("truncated.zip", string(zipData[:len(zipData)/2]))
	other := write("other.json", `{"version": 2, "items": [{"id": 1}]}`)
	broken := write("broken.json", "{\n  \"guild\": {\"id\": \"1\"},\n  \"channel\": {\"id\": \"2\"\n  \"messages\": []\n}")
	crossRef := write("cross.json", `{"guild":{"id":"1"},"channel":{"id":"2","type":"GuildTextChat"},"messages":[
{"id":"10","type":"Reply","timestamp":"2026-11-01T10:00:00+00:00","content":"see there","author":{"id":"7","name":"x"},"reference":{"messageId":"9","channelId":"999"}}]}`)
	write("mixed/channels.json", `[{"id":"C1","name":"general"}]`)
	write("mixed/general/2026-11-01.json", `[]`)
	write("mixed/random/2026-11-01.json", `[]`)
	write("badday/channels.json", `[{"id":"C1","name":"general"}]`)
	write("badday/general/2026-11-01.json", "[\n {\"type\": \"message\", \"user\": \"U1\", \"text\": \"hi\", \"ts\": \"yesterday\"}\n]")
	// A day file that is a symlink to a file outside the export (a planted
	// /proc/self/environ, say) is not read: the folder is opened as an
	// os.Root, and no path leads out of it.
	secret := write("outside/secret.json", `[{"type":"message","user":"U1","text":"SECRET_TOKEN=abc","ts":"1795172400.000200"}]`)
	write("escape/channels.json", `[{"id":"C1","name":"general"}]`)
	if err := os.MkdirAll(filepath.Join(dir, "escape", "general"), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.Symlink(secret, filepath.Join(dir, "escape", "general", "2026-11-01.json")); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name string
		read func() (*imports.Export, error)
		want []string
	}{
		{"truncated zip", func() (*imports.Export, error) { return imports.ReadSlack(truncated) }, []string{"truncated.zip", "not a readable zip", "download it again"}},
		{"json of another tool", func() (*imports.Export, error) { return imports.ReadDiscord(other) }, []string{"other.json", "not a DiscordChatExporter JSON export"}},
		{"broken json", func() (*imports.Export, error) { return imports.ReadDiscord(broken) }, []string{"broken.json:4:", "not valid JSON"}},
		{"reply to an unknown channel", func() (*imports.Export, error) { return imports.ReadDiscord(crossRef) }, []string{"cross.json", "message 1 (id 10)", "channel 999", "not in this export"}},
		{"channel folder not in channels.json", func() (*imports.Export, error) { return imports.ReadSlack(filepath.Join(dir, "mixed")) }, []string{`folder "random"`, "channels.json"}},
		{"bad timestamp", func() (*imports.Export, error) { return imports.ReadSlack(filepath.Join(dir, "badday")) }, []string{"general/2026-11-01.json: message 1", `ts "yesterday"`}},
		{"symlink out of the export", func() (*imports.Export, error) { return imports.ReadSlack(filepath.Join(dir, "escape")) }, []string{"general/2026-11-01.json", "escapes from parent"}},
		{"not an export", func() (*imports.Export, error) { return imports.ReadSlack(t.TempDir()) }, []string{"no channels.json"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ex, err := tt.read()
			if err == nil {
				t.Fatalf("read %d events, want an error", len(ex.Events))
			}
			for _, w := range tt.want {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("error %q lacks %q", err, w)
				}
			}
		})
	}
}
