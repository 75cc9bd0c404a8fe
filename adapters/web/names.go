package web

import (
	"context"
	"html/template"
	"net/url"
	"strings"
	"time"

	"github.com/einsatz/einsatz/bot"
	"github.com/einsatz/einsatz/handlers/handoff"
)

// Names is the cache of display names the dashboard shows instead of ids,
// and each staff account's last visit of the overview; storage.Names
// implements it.
type Names interface {
	Put(ctx context.Context, kind, platform, id, name string, at time.Time) error
	Book(ctx context.Context, kind string) (map[string]string, error)
	Visit(ctx context.Context, account string, now time.Time, gap time.Duration) (time.Time, error)
}

// Kinds of names (as storage.NameUser, storage.NameChannel).
const (
	nameUser    = "user"
	nameChannel = "channel"
)

// RecordNames is an observer that keeps the names events carry (the
// author's display name, the author of a message a command points at, the
// channel's name where the adapter knows it) in the cache. It never
// fails an event: a failed write is only logged.
func RecordNames(n Names, log interface {
	Warn(msg string, args ...any)
}) bot.Observer {
	return bot.ObserverFunc(func(ctx context.Context, ev *bot.Event) error {
		put := func(kind, platform, id, name string) {
			if err := n.Put(ctx, kind, platform, id, name, ev.Time); err != nil {
				log.Warn("names: remember a display name", "err", err)
			}
		}
		if !ev.User.Bot {
			put(nameUser, ev.Platform, ev.User.ID, ev.User.Name)
		}
		if ev.Target != nil && !ev.Target.User.Bot {
			put(nameUser, ev.Platform, ev.Target.User.ID, ev.Target.User.Name)
		}
		if ev.ChannelName != "" {
			put(nameChannel, ev.Platform, ev.ChannelID, ev.ChannelName)
		}
		return nil
	})
}

// nameBook turns ids into names on one page.
type nameBook struct {
	users, channels map[string]string
	// desk maps a thread key to its escalation's ID, for links to the
	// desk's transcript.
	desk map[string]string
	lang string
}

// book reads the name cache for a page; without one, ids stay ids.
func (s *Server) book(ctx context.Context, lang string) nameBook {
	b := nameBook{lang: lang}
	if s.ov.Names != nil {
		var err error
		if b.users, err = s.ov.Names.Book(ctx, nameUser); err != nil {
			s.log.Error("web: names of users", "err", err)
		}
		if b.channels, err = s.ov.Names.Book(ctx, nameChannel); err != nil {
			s.log.Error("web: names of channels", "err", err)
		}
	}
	if s.ov.Desk != nil {
		if all, err := s.ov.Desk.Queue(ctx, handoff.Filter{}); err == nil {
			b.desk = make(map[string]string, len(all))
			for _, e := range all {
				b.desk[e.Thread.Key()] = e.ID
			}
		}
	}
	return b
}

// Channel is a channel's name: the cached one ("#general"), the web chat
// by its name, else the id.
func (b nameBook) Channel(platform, id string) string {
	if n := b.channels[platform+"/"+id]; n != "" {
		if platform == bot.PlatformSlack || platform == bot.PlatformDiscord {
			return "#" + strings.TrimPrefix(n, "#")
		}
		return n
	}
	if platform == bot.PlatformWeb {
		return tr(b.lang, "nm_webchat")
	}
	return id
}

// Where is a channel with its platform, "#general (Discord)".
func (b nameBook) Where(platform, id string) string {
	return b.Channel(platform, id) + " (" + platformName(platform) + ")"
}

// User is a member's name, or the id (a pseudonym stays a pseudonym: the
// cache is keyed by real ids).
func (b nameBook) User(platform, id string) string {
	if n := b.users[platform+"/"+id]; n != "" {
		return n
	}
	return id
}

// ThreadLink is where a thread is read: its permalink on the platform,
// else the desk's transcript when it was escalated, else "".
func (b nameBook) ThreadLink(t bot.ThreadRef, permalink string) template.URL {
	if strings.HasPrefix(permalink, "https://") || strings.HasPrefix(permalink, "http://") {
		return template.URL(permalink)
	}
	if id := b.desk[t.Key()]; id != "" {
		return template.URL(EscalationsPath + "/" + url.PathEscape(id))
	}
	return ""
}

// ThreadLabel names a thread for a link: its channel and a short form of
// its id.
func (b nameBook) ThreadLabel(t bot.ThreadRef) string {
	id := t.ThreadID
	if r := []rune(id); len(r) > 8 {
		id = "…" + string(r[len(r)-6:])
	}
	return b.Channel(t.Platform, t.ChannelID) + " · " + id
}

func platformName(p string) string {
	switch p {
	case bot.PlatformDiscord:
		return "Discord"
	case bot.PlatformSlack:
		return "Slack"
	case bot.PlatformWeb:
		return "Web"
	}
	return p
}

var namesDict = dict{
	"en": {"nm_webchat": "Web chat"},
	"de": {"nm_webchat": "Web-Chat"},
}

func init() { dicts = append(dicts, namesDict) }
