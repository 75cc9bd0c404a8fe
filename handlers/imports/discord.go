package imports

import (
	"errors"
	"fmt"
	"io"
	"os"
	"strings"
	"time"

	"github.com/einsatz/einsatz/bot"
)

// dceGuild and dceChannel are the header of DiscordChatExporter's JSON
// format (one channel per file); its messages are read one at a time.
type dceGuild struct {
	ID   string `json:"id"`
	Name string `json:"name"`
}

type dceChannel struct {
	ID         string `json:"id"`
	Type       string `json:"type"`
	CategoryID string `json:"categoryId"`
	Category   string `json:"category"`
	Name       string `json:"name"`
}

type dceMessage struct {
	ID        string `json:"id"`
	Type      string `json:"type"`
	Timestamp string `json:"timestamp"`
	Content   string `json:"content"`
	Author    struct {
		ID       string `json:"id"`
		Name     string `json:"name"`
		Nickname string `json:"nickname"`
		IsBot    bool   `json:"isBot"`
	} `json:"author"`
	Reference *struct {
		MessageID string `json:"messageId"`
		ChannelID string `json:"channelId"`
	} `json:"reference"`
}

// ReadDiscord reads one channel exported by DiscordChatExporter as JSON.
// Replies join the thread of the message they answer; a thread's export
// belongs to its parent channel. The file is streamed a message at a time
// (see maxFile and maxValue).
func ReadDiscord(file string) (*Export, error) {
	info, err := os.Stat(file)
	if err != nil {
		return nil, fmt.Errorf("discord export: %w", err)
	}
	if info.Size() > maxFile {
		return nil, fmt.Errorf("discord export %s: %d MB, more than the %d MB one file may have", file, info.Size()>>20, maxFile>>20)
	}
	f, err := openJSON(file, func() (io.ReadCloser, error) { return os.Open(file) }, &budget{})
	if err != nil {
		return nil, fmt.Errorf("discord export: %w", err)
	}
	defer f.Close()
	notDCE := fmt.Errorf("discord export %s: not a DiscordChatExporter JSON export (it needs \"guild\", \"channel\" and \"messages\"; export with --format Json)", file)
	d := dceReader{file: file, ex: &Export{Summary: Summary{Source: "discord export " + file, Files: 1, Channels: 1}},
		users: map[string]bool{}, thread: map[string]string{}}
	var early []dceMessage // messages before the channel, in a file whose keys are reordered
	sawMessages := false
	err = f.object(func(key string) error {
		switch key {
		case "guild":
			return f.decode(&d.guild)
		case "channel":
			return f.decode(&d.channel)
		case "messages":
			sawMessages = true
			return f.array(func() error {
				var m dceMessage
				if err := f.decode(&m); err != nil {
					return err
				}
				if d.guild == nil || d.channel == nil {
					early = append(early, m)
					return nil
				}
				return d.add(m)
			})
		}
		return f.skip()
	})
	if errors.Is(err, errNotJSONShape) {
		return nil, notDCE
	}
	if err != nil {
		return nil, fmt.Errorf("discord export: %w", err)
	}
	if d.guild == nil || d.channel == nil || !sawMessages || d.channel.ID == "" {
		return nil, notDCE
	}
	for _, m := range early {
		if err := d.add(m); err != nil {
			return nil, err
		}
	}
	d.ex.Summary.Users = len(d.users)
	d.ex.Events = d.events.all()
	return d.ex, nil
}

// dceReader turns the messages of one export into events.
type dceReader struct {
	file    string
	guild   *dceGuild
	channel *dceChannel
	ex      *Export
	events  events
	n       int               // messages seen
	users   map[string]bool   // authors
	thread  map[string]string // message id → thread id
}

func (d *dceReader) add(m dceMessage) error {
	d.n++
	pos := func() string { return fmt.Sprintf("discord export %s: message %d (id %s)", d.file, d.n, m.ID) }
	channelID, threadOf := d.channel.ID, ""
	if strings.Contains(d.channel.Type, "Thread") {
		if d.channel.CategoryID == "" {
			return fmt.Errorf("discord export %s: thread %s has no parent channel (categoryId)", d.file, d.channel.ID)
		}
		channelID, threadOf = d.channel.CategoryID, d.channel.ID
	}
	if m.ID == "" {
		return fmt.Errorf("%s: no id", pos())
	}
	at, err := time.Parse(time.RFC3339, m.Timestamp)
	if err != nil {
		return fmt.Errorf("%s: timestamp %q: %w", pos(), m.Timestamp, err)
	}
	if m.Type != "Default" && m.Type != "Reply" {
		d.ex.Summary.Skipped++ // joins, pins, thread starts, calls
		return nil
	}
	if m.Author.IsBot {
		d.ex.Summary.Skipped++
		return nil
	}
	tid := threadOf
	if tid == "" {
		tid = m.ID // a message at the top level is its own thread
		if ref := m.Reference; ref != nil && ref.MessageID != "" {
			if ref.ChannelID != "" && ref.ChannelID != d.channel.ID {
				return fmt.Errorf("%s: replies to a message in channel %s, which is not in this export (export that channel too, or remove the reply)", pos(), ref.ChannelID)
			}
			if t, ok := d.thread[ref.MessageID]; ok {
				tid = t
			}
		}
	}
	d.thread[m.ID] = tid
	name := m.Author.Nickname
	if name == "" {
		name = m.Author.Name
	}
	d.users[m.Author.ID] = true
	ev := bot.Event{
		Key:       "discord:msg:" + m.ID, // the live adapter's key
		Kind:      bot.KindMessage,
		Platform:  bot.PlatformDiscord,
		ChannelID: channelID,
		ThreadID:  tid,
		MessageID: m.ID,
		User:      bot.User{Platform: bot.PlatformDiscord, ID: m.Author.ID, Name: name},
		Text:      m.Content,
		Time:      at.UTC(),
		Permalink: fmt.Sprintf("https://discord.com/channels/%s/%s/%s", d.guild.ID, d.channel.ID, m.ID),
	}
	if tid == ev.MessageID {
		ev.ThreadID = ""
	}
	d.ex.Summary.Messages++
	d.ex.Summary.saw(ev.Time)
	d.events.add(ev)
	return nil
}
