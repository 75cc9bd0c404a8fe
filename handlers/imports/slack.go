package imports

import (
	"archive/zip"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/einsatz/einsatz/bot"
)

type slackChannel struct {
	ID   string `json:"id"`
	Name string `json:"name"`
}

type slackUser struct {
	ID      string `json:"id"`
	Name    string `json:"name"`
	Real    string `json:"real_name"`
	IsBot   bool   `json:"is_bot"`
	Profile struct {
		DisplayName string `json:"display_name"`
	} `json:"profile"`
}

type slackMessage struct {
	Type     string `json:"type"`
	Subtype  string `json:"subtype"`
	User     string `json:"user"`
	BotID    string `json:"bot_id"`
	Text     string `json:"text"`
	TS       string `json:"ts"`
	ThreadTS string `json:"thread_ts"`
}

// ReadSlack reads a Slack workspace export: a folder or a zip with
// channels.json (and groups.json for private channels), users.json, and a
// folder per channel holding a JSON file per day.
func ReadSlack(exportPath string) (*Export, error) {
	fsys, closer, err := openSlack(exportPath)
	if err != nil {
		return nil, err
	}
	defer closer()
	root, err := slackRoot(fsys)
	if err != nil {
		return nil, fmt.Errorf("slack export %s: %w", exportPath, err)
	}
	ex := &Export{Summary: Summary{Source: "slack export " + exportPath}}
	channels := map[string]slackChannel{} // by folder name
	for _, list := range []string{"channels.json", "groups.json"} {
		var cs []slackChannel
		data, err := fs.ReadFile(fsys, path.Join(root, list))
		if errors.Is(err, fs.ErrNotExist) {
			continue
		}
		if err != nil {
			return nil, fmt.Errorf("slack export %s: %s: %w", exportPath, list, err)
		}
		if err := decodeJSON(list, data, &cs); err != nil {
			return nil, fmt.Errorf("slack export %s: %w", exportPath, err)
		}
		for _, c := range cs {
			channels[c.Name] = c
		}
	}
	if len(channels) == 0 {
		return nil, fmt.Errorf("slack export %s: no channels.json: is this a Slack workspace export? (Slack: Settings → Import/Export Data → Export)", exportPath)
	}
	users := map[string]slackUser{}
	if data, err := fs.ReadFile(fsys, path.Join(root, "users.json")); err == nil {
		var us []slackUser
		if err := decodeJSON("users.json", data, &us); err != nil {
			return nil, fmt.Errorf("slack export %s: %w", exportPath, err)
		}
		for _, u := range us {
			users[u.ID] = u
		}
	}
	ex.Summary.Users = len(users)
	entries, err := fs.ReadDir(fsys, root)
	if err != nil {
		return nil, fmt.Errorf("slack export %s: %w", exportPath, err)
	}
	for _, e := range entries {
		if !e.IsDir() {
			continue
		}
		ch, ok := channels[e.Name()]
		if !ok {
			return nil, fmt.Errorf("slack export %s: folder %q is not a channel listed in channels.json or groups.json: the export is incomplete or mixed with another", exportPath, e.Name())
		}
		ex.Summary.Channels++
		days, err := fs.ReadDir(fsys, path.Join(root, e.Name()))
		if err != nil {
			return nil, fmt.Errorf("slack export %s: %w", exportPath, err)
		}
		for _, d := range days {
			if d.IsDir() || !strings.HasSuffix(d.Name(), ".json") {
				continue
			}
			name := path.Join(e.Name(), d.Name())
			data, err := fs.ReadFile(fsys, path.Join(root, name))
			if err != nil {
				return nil, fmt.Errorf("slack export %s: %s: %w", exportPath, name, err)
			}
			var msgs []slackMessage
			if err := decodeJSON(name, data, &msgs); err != nil {
				return nil, fmt.Errorf("slack export %s: %w", exportPath, err)
			}
			ex.Summary.Files++
			for i, m := range msgs {
				ev, keep, err := slackEvent(ch, users, m)
				if err != nil {
					return nil, fmt.Errorf("slack export %s: %s: message %d: %w", exportPath, name, i+1, err)
				}
				if !keep {
					ex.Summary.Skipped++
					continue
				}
				ex.Summary.Messages++
				ex.Summary.saw(ev.Time)
				ex.Events = append(ex.Events, ev)
			}
		}
	}
	sort.SliceStable(ex.Events, func(i, j int) bool { return ex.Events[i].Time.Before(ex.Events[j].Time) })
	return ex, nil
}

func slackEvent(ch slackChannel, users map[string]slackUser, m slackMessage) (bot.Event, bool, error) {
	if m.Type != "message" || (m.Subtype != "" && m.Subtype != "thread_broadcast") {
		return bot.Event{}, false, nil // joins, topic changes, bot_message, …
	}
	at, err := slackTime(m.TS)
	if err != nil {
		return bot.Event{}, false, err
	}
	u := users[m.User]
	if m.BotID != "" || u.IsBot || m.User == "" {
		return bot.Event{}, false, nil
	}
	name := u.Profile.DisplayName
	if name == "" {
		name = u.Real
	}
	if name == "" {
		name = u.Name
	}
	thread := ""
	if m.ThreadTS != "" && m.ThreadTS != m.TS {
		thread = m.ThreadTS
	}
	return bot.Event{
		Key:       "slack:msg:" + ch.ID + ":" + m.TS, // the live adapter's key: history seen live is not added twice
		Kind:      bot.KindMessage,
		Platform:  bot.PlatformSlack,
		ChannelID: ch.ID,
		ThreadID:  thread,
		MessageID: m.TS,
		User:      bot.User{Platform: bot.PlatformSlack, ID: m.User, Name: name},
		Text:      m.Text,
		Time:      at,
	}, true, nil
}

func slackTime(ts string) (time.Time, error) {
	sec, frac, _ := strings.Cut(ts, ".")
	s, err := strconv.ParseInt(sec, 10, 64)
	if err != nil || ts == "" {
		return time.Time{}, fmt.Errorf("ts %q is not a Slack timestamp", ts)
	}
	var ns int64
	if frac != "" {
		frac = (frac + "000000000")[:9]
		if ns, err = strconv.ParseInt(frac, 10, 64); err != nil {
			return time.Time{}, fmt.Errorf("ts %q is not a Slack timestamp", ts)
		}
	}
	return time.Unix(s, ns).UTC(), nil
}

// openSlack opens a folder or a zip as a file system.
func openSlack(p string) (fs.FS, func(), error) {
	info, err := os.Stat(p)
	if err != nil {
		return nil, nil, fmt.Errorf("slack export: %w", err)
	}
	if info.IsDir() {
		return os.DirFS(p), func() {}, nil
	}
	z, err := zip.OpenReader(p)
	if err != nil {
		return nil, nil, fmt.Errorf("slack export %s: not a readable zip archive (truncated or damaged? download it again): %w", p, err)
	}
	return z, func() { z.Close() }, nil
}

// slackRoot finds the folder holding channels.json: the top, or the one
// folder a zip was made from.
func slackRoot(fsys fs.FS) (string, error) {
	if _, err := fs.Stat(fsys, "channels.json"); err == nil {
		return ".", nil
	}
	entries, err := fs.ReadDir(fsys, ".")
	if err != nil {
		return "", err
	}
	for _, e := range entries {
		if e.IsDir() {
			if _, err := fs.Stat(fsys, path.Join(e.Name(), "channels.json")); err == nil {
				return e.Name(), nil
			}
		}
	}
	return ".", nil
}
