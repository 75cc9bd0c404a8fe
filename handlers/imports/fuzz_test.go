package imports_test

import (
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"

	"github.com/einsatz/einsatz/handlers/imports"
)

// locRE finds the "file:line:col:" an error points at.
var locRE = regexp.MustCompile(`\.json:(\d+):(\d+): `)

// checkRead asserts what reading any export must give: an error that names
// the file (and, when it names a position, one inside the file), or an
// export whose summary counts its events, oldest first, all within the
// summary's span.
func checkRead(t *testing.T, ex *imports.Export, err error, file string, data []byte, platform string) {
	t.Helper()
	if err != nil {
		if !strings.Contains(err.Error(), filepath.Base(file)) {
			t.Fatalf("error %q does not name the file %s", err, filepath.Base(file))
		}
		if m := locRE.FindStringSubmatch(err.Error()); m != nil {
			line, _ := strconv.Atoi(m[1])
			col, _ := strconv.Atoi(m[2])
			if line < 1 || col < 1 || line > strings.Count(string(data), "\n")+1 {
				t.Fatalf("error %q points outside the file (%d lines)", err, strings.Count(string(data), "\n")+1)
			}
		}
		return
	}
	s := ex.Summary
	if s.Messages != len(ex.Events) {
		t.Fatalf("summary counts %d messages, export has %d events", s.Messages, len(ex.Events))
	}
	for i, ev := range ex.Events {
		if ev.Platform != platform || !strings.HasPrefix(ev.Key, platform+":msg:") || ev.ChannelID == "" || ev.MessageID == "" {
			t.Errorf("event %d: %+v", i, ev)
		}
		if ev.Time.Before(s.First) || ev.Time.After(s.Last) {
			t.Errorf("event %d at %v, outside %v–%v", i, ev.Time, s.First, s.Last)
		}
		if platform == "slack" && i > 0 && ev.Time.Before(ex.Events[i-1].Time) {
			t.Errorf("event %d is older than the one before", i)
		}
	}
}

func FuzzReadDiscord(f *testing.F) {
	data, err := os.ReadFile("../../testdata/imports/discord-general.json")
	if err != nil {
		f.Fatal(err)
	}
	f.Add(data)
	f.Add([]byte(`{"messages":[{"id":"1","type":"Default","timestamp":"2026-11-20T10:00:00+00:00","content":"early","author":{"id":"7"}}],"guild":{"id":"g"},"channel":{"id":"c","type":"GuildPublicThread","categoryId":"p"}}`))
	f.Add([]byte("{\"guild\":{},\"channel\":{\"id\":\"c\"},\n\"messages\":[{\"id\":\"1\",\n\"timestamp\":5}]}"))
	f.Add([]byte("[1,2"))
	f.Fuzz(func(t *testing.T, data []byte) {
		file := filepath.Join(t.TempDir(), "channel.json")
		if err := os.WriteFile(file, data, 0o600); err != nil {
			t.Fatal(err)
		}
		ex, err := imports.ReadDiscord(file)
		checkRead(t, ex, err, file, data, "discord")
	})
}

func FuzzReadSlack(f *testing.F) {
	dir := "../../testdata/imports/slack-export"
	read := func(name string) []byte {
		b, err := os.ReadFile(filepath.Join(dir, name))
		if err != nil {
			f.Fatal(err)
		}
		return b
	}
	f.Add(read("channels.json"), read("users.json"), read("general/2026-11-20.json"))
	f.Add(read("channels.json"), read("users.json"), read("general/2026-11-21.json"))
	f.Add([]byte(`[{"id":"C1","name":"general"}]`), []byte(`[]`), []byte("[{\"type\":\"message\",\"user\":\"U1\",\n\"ts\":\"1.x\"}]"))
	f.Add([]byte(`[{"id":"C1","name":"general"}]`), []byte(`{}`), []byte(`[]`))
	f.Fuzz(func(t *testing.T, channels, users, day []byte) {
		root := t.TempDir()
		if err := os.MkdirAll(filepath.Join(root, "general"), 0o700); err != nil {
			t.Fatal(err)
		}
		for name, data := range map[string][]byte{"channels.json": channels, "users.json": users, "general/2026-11-20.json": day} {
			if err := os.WriteFile(filepath.Join(root, name), data, 0o600); err != nil {
				t.Fatal(err)
			}
		}
		ex, err := imports.ReadSlack(root)
		if err != nil {
			// Which file is at fault decides the file the error must name.
			for _, c := range []struct {
				name string
				data []byte
			}{{"channels.json", channels}, {"users.json", users}, {"2026-11-20.json", day}} {
				if strings.Contains(err.Error(), c.name+":") {
					checkRead(t, nil, err, c.name, c.data, "slack")
					return
				}
			}
			if !strings.Contains(err.Error(), root) {
				t.Fatalf("error %q names neither a file nor the export", err)
			}
			return
		}
		checkRead(t, ex, nil, "", nil, "slack")
	})
}
