package imports

import (
	"fmt"
	"os"
	"strings"
	"time"

	"github.com/einsatz/einsatz/bot"
)

// dceExport is DiscordChatExporter's JSON format (one channel per file).
type dceExport struct {
	Guild *struct {
		ID   string `json:"id"`
		Name string `json:"name"`
	} `json:"guild"`
	Channel *struct {
		ID         string `json:"id"`
		Type       string `json:"type"`
		CategoryID string `json:"categoryId"`
		Category   string `json:"category"`
		Name       string `json:"name"`
	} `json:"channel"`
	Messages *[]dceMessage `json:"messages"`
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
// belongs to its parent channel.
func ReadDiscord(file string) (*Export, error) {
	data, err := os.ReadFile(file)
	if err != nil {
		return nil, fmt.Errorf("discord export: %w", err)
	}
	var raw dceExport
	if err := decodeJSON(file, data, &raw); err != nil {
		return nil, fmt.Errorf("discord export: %w", err)
	}
	if raw.Guild == nil || raw.Channel == nil || raw.Messages == nil || raw.Channel.ID == "" {
		return nil, fmt.Errorf("discord export %s: not a DiscordChatExporter JSON export (it needs \"guild\", \"channel\" and \"messages\"; export with --format Json)", file)
	}
	channelID, threadOf := raw.Channel.ID, ""
	if strings.Contains(raw.Channel.Type, "Thread") {
		if raw.Channel.CategoryID == "" {
			return nil, fmt.Errorf("discord export %s: thread %s has no parent channel (categoryId)", file, raw.Channel.ID)
		}
		channelID, threadOf = raw.Channel.CategoryID, raw.Channel.ID
	}
	ex := &Export{Summary: Summary{Source: "discord export " + file, Files: 1, Channels: 1}}
	users := map[string]bool{}
	thread := map[string]string{} // message id → thread id
	for i, m := range *raw.Messages {
		pos := fmt.Sprintf("discord export %s: message %d (id %s)", file, i+1, m.ID)
		if m.ID == "" {
			return nil, fmt.Errorf("%s: no id", pos)
		}
		at, err := time.Parse(time.RFC3339, m.Timestamp)
		if err != nil {
			return nil, fmt.Errorf("%s: timestamp %q: %w", pos, m.Timestamp, err)
		}
		if m.Type != "Default" && m.Type != "Reply" {
			ex.Summary.Skipped++ // joins, pins, thread starts, calls
			continue
		}
		if m.Author.IsBot {
			ex.Summary.Skipped++
			continue
		}
		tid := threadOf
		if tid == "" {
			tid = m.ID // a message at the top level is its own thread
			if ref := m.Reference; ref != nil && ref.MessageID != "" {
				if ref.ChannelID != "" && ref.ChannelID != raw.Channel.ID {
					return nil, fmt.Errorf("%s: replies to a message in channel %s, which is not in this export (export that channel too, or remove the reply)", pos, ref.ChannelID)
				}
				if t, ok := thread[ref.MessageID]; ok {
					tid = t
				}
			}
		}
		thread[m.ID] = tid
		name := m.Author.Nickname
		if name == "" {
			name = m.Author.Name
		}
		users[m.Author.ID] = true
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
			Permalink: fmt.Sprintf("https://discord.com/channels/%s/%s/%s", raw.Guild.ID, raw.Channel.ID, m.ID),
		}
		if tid == ev.MessageID {
			ev.ThreadID = ""
		}
		ex.Summary.Messages++
		ex.Summary.saw(ev.Time)
		ex.Events = append(ex.Events, ev)
	}
	ex.Summary.Users = len(users)
	return ex, nil
}
