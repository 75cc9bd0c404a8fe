package imports

import (
	"archive/zip"
	"errors"
	"fmt"
	"io"
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
// folder per channel holding a JSON file per day. Files are streamed a
// value at a time and the zip's sizes are bounded (see maxFile, maxTotal
// and maxValue), so a zip bomb stops with an error naming its file.
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
	b := &budget{}
	// each streams the list in one file of the export, an element at a time.
	each := func(name string, fn func(f *jsonFile) error) error {
		p := path.Join(root, name)
		info, err := fs.Stat(fsys, p)
		if err != nil {
			return fmt.Errorf("%s: %w", name, err)
		}
		if info.Size() > maxFile {
			return fmt.Errorf("%s: %w: %d MB, more than the %d MB one file may have", name, errLimit, info.Size()>>20, maxFile>>20)
		}
		f, err := openJSON(name, func() (io.ReadCloser, error) { return fsys.Open(p) }, b)
		if err != nil {
			return err
		}
		defer f.Close()
		return f.array(func() error { return fn(f) })
	}
	ex := &Export{Summary: Summary{Source: "slack export " + exportPath}}
	var evs events
	channels := map[string]slackChannel{} // by folder name
	for _, list := range []string{"channels.json", "groups.json"} {
		err := each(list, func(f *jsonFile) error {
			var c slackChannel
			if err := f.decode(&c); err != nil {
				return err
			}
			channels[c.Name] = c
			return nil
		})
		if errors.Is(err, fs.ErrNotExist) {
			continue
		}
		if err != nil {
			return nil, fmt.Errorf("slack export %s: %w", exportPath, err)
		}
	}
	if len(channels) == 0 {
		return nil, fmt.Errorf("slack export %s: no channels.json: is this a Slack workspace export? (Slack: Settings → Import/Export Data → Export)", exportPath)
	}
	users := map[string]slackUser{}
	err = each("users.json", func(f *jsonFile) error {
		var u slackUser
		if err := f.decode(&u); err != nil {
			return err
		}
		users[u.ID] = u
		return nil
	})
	if err != nil && !errors.Is(err, fs.ErrNotExist) {
		return nil, fmt.Errorf("slack export %s: %w", exportPath, err)
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
			i := 0
			err := each(name, func(f *jsonFile) error {
				var m slackMessage
				if err := f.decode(&m); err != nil {
					return err
				}
				i++
				ev, keep, err := slackEvent(ch, users, m)
				if err != nil {
					return fmt.Errorf("%s: message %d: %w", name, i, err)
				}
				if !keep {
					ex.Summary.Skipped++
					return nil
				}
				ex.Summary.Messages++
				ex.Summary.saw(ev.Time)
				evs.add(ev)
				return nil
			})
			if err != nil {
				return nil, fmt.Errorf("slack export %s: %w", exportPath, err)
			}
			ex.Summary.Files++
		}
	}
	ex.Events = evs.all()
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

// openSlack opens a folder (confined to it) or a zip as a file system.
func openSlack(p string) (fs.FS, func(), error) {
	info, err := os.Stat(p)
	if err != nil {
		return nil, nil, fmt.Errorf("slack export: %w", err)
	}
	if info.IsDir() {
		// An os.Root, unlike os.DirFS, lets no path or symlink lead out of
		// the folder: a day file linked to /proc/self/environ is an error.
		root, err := os.OpenRoot(p)
		if err != nil {
			return nil, nil, fmt.Errorf("slack export: %w", err)
		}
		return root.FS(), func() { root.Close() }, nil
	}
	z, err := zip.OpenReader(p)
	if err != nil {
		return nil, nil, fmt.Errorf("slack export %s: not a readable zip archive (truncated or damaged? download it again): %w", p, err)
	}
	// What the zip says it holds, checked before anything is inflated; the
	// readers count what it really holds (a header can lie).
	var total uint64
	for _, f := range z.File {
		total += f.UncompressedSize64
		if f.UncompressedSize64 > maxFile {
			z.Close()
			return nil, nil, fmt.Errorf("slack export %s: %s: %w: %d MB uncompressed, more than the %d MB one file may have", p, f.Name, errLimit, f.UncompressedSize64>>20, maxFile>>20)
		}
	}
	if total > maxTotal {
		z.Close()
		return nil, nil, fmt.Errorf("slack export %s: %w: %d MB uncompressed, more than the %d MB an export may have", p, errLimit, total>>20, maxTotal>>20)
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
