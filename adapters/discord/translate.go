package discord

import (
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/bwmarrin/discordgo"

	"github.com/einsatz/einsatz/bot"
)

// ForwardCommandName is the message context-menu command that sends a
// message to the research inbox; it arrives as the "forward" command.
const ForwardCommandName = "Send to research inbox"

// ForwardCommand is the core command a ForwardCommandName click becomes.
const ForwardCommand = "forward"

// SolutionCommandName is the message context-menu command with which the
// asker or staff mark the message that solved a thread; it arrives as the
// "solved" command with the message as Target. SolutionCommandNameDE is
// its name in a German Discord client.
const (
	SolutionCommandName   = "Mark solution"
	SolutionCommandNameDE = "Als Lösung markieren"
	SolutionCommand       = "solved"
)

// messageCommands maps the message commands' names to core commands.
var messageCommands = map[string]string{ForwardCommandName: ForwardCommand, SolutionCommandName: SolutionCommand}

// channelInfo is what translation needs to know about the channel a
// payload arrived in. The zero ParentID means a top-level channel.
type channelInfo struct {
	ID         string
	GuildID    string
	Type       discordgo.ChannelType
	ParentID   string
	ParentType discordgo.ChannelType
	parentSeen bool // ParentType is known (it is 0 for a text channel)
	// Name and ParentName are the channel's and its parent's names, where
	// known (the dashboard shows them instead of ids).
	Name, ParentName string
}

func (c channelInfo) isThread() bool { return isThreadType(c.Type) }

func isThreadType(t discordgo.ChannelType) bool {
	return t == discordgo.ChannelTypeGuildPublicThread || t == discordgo.ChannelTypeGuildPrivateThread ||
		t == discordgo.ChannelTypeGuildNewsThread
}

func isForumType(t discordgo.ChannelType) bool {
	return t == discordgo.ChannelTypeGuildForum || t == discordgo.ChannelTypeGuildMedia
}

// identity is who the bot is and who counts as staff.
type identity struct {
	UserID     string
	StaffRoles map[string]bool
	StaffUsers map[string]bool
}

// Keys of events, so a redelivered payload is recognised by the core.
func messageKey(id string) string     { return "discord:msg:" + id }
func interactionKey(id string) string { return iaPrefix + id }

const iaPrefix = "discord:ia:"

func reactionKey(messageID, userID, emoji string, removed bool) string {
	op := "add"
	if removed {
		op = "remove"
	}
	return "discord:react:" + messageID + ":" + userID + ":" + emoji + ":" + op
}

// place sets where an event happened. The rule that keeps a conversation in
// one bot.ThreadRef: a top-level message M in channel C is the thread
// C/M; the thread the bot starts from M gets the id M, so a follow-up in it
// (channel = the thread, whose parent is C) maps back to C/M. A direct
// message channel is one conversation: its ThreadID is the channel itself.
func place(ev *bot.Event, guildID, channelID string, ch channelInfo) {
	switch {
	case guildID == "":
		ev.DM = true
		ev.ChannelID = channelID
		ev.ThreadID = channelID
	case ch.isThread() && ch.ParentID != "":
		ev.ChannelID = ch.ParentID
		ev.ThreadID = channelID
		ev.ChannelName = ch.ParentName
	default:
		ev.ChannelID = channelID
		ev.ChannelName = ch.Name
	}
}

// permalink is the link to a message; guildID "" is a DM.
func permalink(guildID, channelID, messageID string) string {
	if guildID == "" {
		guildID = "@me"
	}
	return "https://discord.com/channels/" + guildID + "/" + channelID + "/" + messageID
}

func (id identity) user(u *discordgo.User, m *discordgo.Member) bot.User {
	if u == nil && m != nil {
		u = m.User
	}
	if u == nil {
		return bot.User{Platform: bot.PlatformDiscord}
	}
	out := bot.User{Platform: bot.PlatformDiscord, ID: u.ID, Name: u.Username, Bot: u.Bot || u.System}
	if u.Avatar != "" {
		out.Avatar = u.AvatarURL("128")
	}
	if u.GlobalName != "" {
		out.Name = u.GlobalName
	}
	if m != nil && m.Nick != "" {
		out.Name = m.Nick
	}
	out.Staff = id.StaffUsers[u.ID]
	if m != nil {
		for _, r := range m.Roles {
			if id.StaffRoles[r] {
				out.Staff = true
			}
		}
	}
	return out
}

// translateMessage turns MESSAGE_CREATE into an event. It reports false
// for what the core should never see: the bot's own messages and system
// messages (thread created, pins, joins).
func translateMessage(m *discordgo.Message, ch channelInfo, id identity) (bot.Event, bool) {
	if m == nil || m.Author == nil || m.Author.ID == id.UserID {
		return bot.Event{}, false
	}
	if m.Type != discordgo.MessageTypeDefault && m.Type != discordgo.MessageTypeReply {
		return bot.Event{}, false
	}
	ev := bot.Event{
		Key:       messageKey(m.ID),
		Kind:      bot.KindMessage,
		Platform:  bot.PlatformDiscord,
		MessageID: m.ID,
		User:      id.user(m.Author, m.Member),
		Time:      m.Timestamp.UTC(),
		Permalink: permalink(m.GuildID, m.ChannelID, m.ID),
	}
	if m.WebhookID != "" {
		ev.User.Bot = true // webhooks and other apps' interaction responses
	}
	place(&ev, m.GuildID, m.ChannelID, ch)
	ev.Mentioned = mentions(m, id.UserID)
	ev.Text = cleanContent(m, id.UserID)
	for _, at := range m.Attachments {
		if at != nil && at.URL != "" {
			ev.Attachments = append(ev.Attachments, at.URL)
		}
	}
	// A forum post's first message has the post's (thread's) id.
	ev.NewTopic = ch.isThread() && isForumType(ch.ParentType) && m.ID == m.ChannelID
	return ev, true
}

// translateEdit turns a MESSAGE_UPDATE that changed a message's text into a
// KindEdit event (updates without edited_timestamp are embeds resolving,
// pins: not edits). The key names the edit, so a redelivery is one edit.
func translateEdit(m *discordgo.Message, ch channelInfo, id identity) (bot.Event, bool) {
	if m == nil || m.EditedTimestamp == nil {
		return bot.Event{}, false
	}
	ev, ok := translateMessage(m, ch, id)
	if !ok {
		return bot.Event{}, false
	}
	ev.Kind = bot.KindEdit
	ev.Key = "discord:edit:" + m.ID + ":" + m.EditedTimestamp.UTC().Format(time.RFC3339Nano)
	ev.Mentioned, ev.NewTopic = false, false
	return ev, true
}

// translateDelete turns MESSAGE_DELETE into a KindDelete event. Discord
// does not say who deleted it: the event has no user.
func translateDelete(m *discordgo.Message, ch channelInfo) (bot.Event, bool) {
	if m == nil || m.ID == "" || m.ChannelID == "" {
		return bot.Event{}, false
	}
	ev := bot.Event{Key: "discord:delete:" + m.ID, Kind: bot.KindDelete, Platform: bot.PlatformDiscord,
		MessageID: m.ID, User: bot.User{Platform: bot.PlatformDiscord}, Time: time.Now().UTC()}
	place(&ev, m.GuildID, m.ChannelID, ch)
	return ev, true
}

// mentions reports whether the message addresses the bot: an @mention or
// a reply to one of its messages.
func mentions(m *discordgo.Message, self string) bool {
	for _, u := range m.Mentions {
		if u != nil && u.ID == self {
			return true
		}
	}
	if r := m.ReferencedMessage; r != nil && r.Author != nil && r.Author.ID == self {
		return true
	}
	return false
}

// cleanContent removes the bot's own mention and turns other user mentions
// into readable @names, so handlers and the LLM see what a person reads.
func cleanContent(m *discordgo.Message, self string) string {
	text := m.Content
	if self != "" {
		text = strings.ReplaceAll(text, "<@"+self+">", "")
		text = strings.ReplaceAll(text, "<@!"+self+">", "")
	}
	for _, u := range m.Mentions {
		if u == nil || u.ID == self {
			continue
		}
		name := u.GlobalName
		if name == "" {
			name = u.Username
		}
		text = strings.ReplaceAll(text, "<@"+u.ID+">", "@"+name)
		text = strings.ReplaceAll(text, "<@!"+u.ID+">", "@"+name)
	}
	return strings.TrimSpace(text)
}

// emojiName is how a reaction's emoji is named in events and keys:
// the character itself, or name:id for a custom emoji.
func emojiName(e discordgo.Emoji) string {
	if e.ID != "" {
		return e.Name + ":" + e.ID
	}
	return e.Name
}

// translateReaction turns MESSAGE_REACTION_ADD/REMOVE into an event. The
// event belongs to the thread of the message reacted to.
func translateReaction(r *discordgo.MessageReaction, member *discordgo.Member, removed bool, ch channelInfo, id identity) (bot.Event, bool) {
	if r == nil || r.UserID == "" || r.UserID == id.UserID {
		return bot.Event{}, false
	}
	emoji := emojiName(r.Emoji)
	ev := bot.Event{
		Key:       reactionKey(r.MessageID, r.UserID, emoji, removed),
		Kind:      bot.KindReaction,
		Platform:  bot.PlatformDiscord,
		MessageID: r.MessageID,
		Reaction:  emoji,
		Removed:   removed,
		Permalink: permalink(r.GuildID, r.ChannelID, r.MessageID),
	}
	if member != nil && member.User != nil {
		ev.User = id.user(member.User, member)
	} else {
		// MESSAGE_REACTION_REMOVE carries no member: only the id is known.
		ev.User = bot.User{Platform: bot.PlatformDiscord, ID: r.UserID, Staff: id.StaffUsers[r.UserID]}
	}
	place(&ev, r.GuildID, r.ChannelID, ch)
	ev.Target = &bot.Message{ID: r.MessageID, ChannelID: ev.ChannelID, ThreadID: ev.ThreadID, Permalink: ev.Permalink}
	return ev, true
}

// translateInteraction turns INTERACTION_CREATE into a command or a button
// click. It reports false for interactions the bot does not handle.
func translateInteraction(i *discordgo.Interaction, ch channelInfo, id identity) (bot.Event, bool) {
	if i == nil || i.Data == nil {
		return bot.Event{}, false
	}
	ev := bot.Event{
		Key:       interactionKey(i.ID),
		Platform:  bot.PlatformDiscord,
		MessageID: i.ID,
		User:      id.user(i.User, i.Member),
		Time:      snowflakeTime(i.ID),
	}
	if ev.User.ID == "" || ev.User.ID == id.UserID {
		return bot.Event{}, false
	}
	place(&ev, i.GuildID, i.ChannelID, ch)
	switch i.Type {
	case discordgo.InteractionApplicationCommand:
		d, ok := i.Data.(discordgo.ApplicationCommandInteractionData)
		if !ok {
			return bot.Event{}, false
		}
		ev.Kind = bot.KindCommand
		switch d.CommandType {
		case discordgo.ChatApplicationCommand, 0:
			ev.Command = d.Name
			ev.Args = optionText(d.Options)
		case discordgo.MessageApplicationCommand:
			cmd, ok := messageCommands[d.Name]
			if !ok {
				return bot.Event{}, false
			}
			ev.Command = cmd
			var target *discordgo.Message
			if d.Resolved != nil {
				target = d.Resolved.Messages[d.TargetID]
			}
			if target == nil {
				target = &discordgo.Message{ID: d.TargetID, ChannelID: i.ChannelID}
			}
			ev.Target = resolvedMessage(target, i.GuildID, ch, id)
		default:
			return bot.Event{}, false
		}
	case discordgo.InteractionMessageComponent:
		d, ok := i.Data.(discordgo.MessageComponentInteractionData)
		if !ok || d.CustomID == "" {
			return bot.Event{}, false
		}
		ev.Kind = bot.KindInteraction
		ev.Action, ev.Value, _ = strings.Cut(d.CustomID, ":")
		if m := i.Message; m != nil {
			ev.Target = resolvedMessage(m, i.GuildID, ch, id)
			if ev.ThreadID == "" {
				// A button on a message at the top of a channel (a reply
				// to the user's message when no thread could be started)
				// belongs to that user's message's thread.
				ev.MessageID = m.ID
				if ref := m.MessageReference; ref != nil && ref.MessageID != "" {
					ev.MessageID = ref.MessageID
				}
			}
		}
	default:
		return bot.Event{}, false
	}
	return ev, true
}

// resolvedMessage describes a message an interaction points at.
func resolvedMessage(m *discordgo.Message, guildID string, ch channelInfo, id identity) *bot.Message {
	var where bot.Event
	place(&where, guildID, m.ChannelID, ch)
	out := &bot.Message{
		ID:        m.ID,
		ChannelID: where.ChannelID,
		ThreadID:  where.ThreadID,
		Text:      m.Content,
		Time:      m.Timestamp.UTC(),
		Permalink: permalink(guildID, m.ChannelID, m.ID),
	}
	if m.Author != nil {
		out.User = id.user(m.Author, m.Member)
	}
	return out
}

// optionText joins a slash command's option values (and subcommand names)
// into the command's argument line.
func optionText(opts []*discordgo.ApplicationCommandInteractionDataOption) string {
	var parts []string
	for _, o := range opts {
		if o == nil {
			continue
		}
		switch o.Type {
		case discordgo.ApplicationCommandOptionSubCommand, discordgo.ApplicationCommandOptionSubCommandGroup:
			parts = append(parts, o.Name)
			if rest := optionText(o.Options); rest != "" {
				parts = append(parts, rest)
			}
		default:
			if o.Value != nil {
				parts = append(parts, fmt.Sprint(o.Value))
			}
		}
	}
	return strings.TrimSpace(strings.Join(parts, " "))
}

// snowflakeTime is the creation time in a Discord id.
func snowflakeTime(id string) time.Time {
	n, err := strconv.ParseInt(id, 10, 64)
	if err != nil || n <= 0 {
		return time.Time{}
	}
	return time.UnixMilli(n>>22 + 1420070400000).UTC()
}
