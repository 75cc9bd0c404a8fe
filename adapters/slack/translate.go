package slack

import (
	"encoding/json"
	"errors"
	"fmt"
	"net/url"
	"regexp"
	"strconv"
	"strings"
	"time"

	"github.com/einsatz/einsatz/bot"
)

// ShortcutResearchInbox is the callback id of the message shortcut "Send to
// research inbox"; it becomes the command "forward" with the message as Target.
const ShortcutResearchInbox = "send_to_research_inbox"

// ShortcutMarkSolution is the callback id of the message shortcut "Mark
// solution": the asker or staff run it on the reply that solved a thread;
// it becomes the command "solved" with the message as Target. (Slash
// commands do not say the thread they were typed in; a shortcut carries
// the message and its thread_ts.)
const ShortcutMarkSolution = "mark_solution"

// shortcutCommands maps message shortcuts' callback ids to core commands.
var shortcutCommands = map[string]string{ShortcutResearchInbox: "forward", ShortcutMarkSolution: "solved"}

// ErrSkip marks a payload that is not for the core (an edit, a join, a
// modal); translate functions wrap it with the reason.
var ErrSkip = errors.New("slack: payload skipped")

// Env is what translation needs beyond the payload. The zero value works:
// no bot identity (only app_mention counts as a mention), nobody is staff.
type Env struct {
	BotUserID string // from auth.test: messages by it are the bot's own
	BotID     string
	// IsStaff reports whether a user is staff (staff.slack.users or the
	// staff user group).
	IsStaff func(userID string) bool
	// Commands are the known subcommands of /einsatz. Text whose first word
	// is not one of them is a question for "ask", when "ask" is known.
	Commands []string
	// ThreadOf returns the core thread of a message the bot posted or of a
	// thread reply seen before ("" when
	// unknown), so reactions and clicks on the bot's answers land in the
	// thread the answer belongs to.
	ThreadOf func(channelID, ts string) string
	// TeamURL is the workspace's address from auth.test
	// ("https://acme.slack.com/"); with it events carry permalinks.
	TeamURL string
}

// permalink is Slack's link to a message, built as Slack builds it
// (…/archives/<channel>/p<ts without the dot>, with thread_ts and cid for a
// reply), so no chat.getPermalink call is needed per message. "" without
// the workspace URL.
func (e Env) permalink(channelID, ts, threadTS string) string {
	if e.TeamURL == "" || channelID == "" || ts == "" {
		return ""
	}
	u := strings.TrimSuffix(e.TeamURL, "/") + "/archives/" + channelID + "/p" + strings.Replace(ts, ".", "", 1)
	if threadTS != "" && threadTS != ts {
		u += "?thread_ts=" + threadTS + "&cid=" + channelID
	}
	return u
}

func (e Env) user(id string) bot.User {
	u := bot.User{Platform: bot.PlatformSlack, ID: id}
	if e.IsStaff != nil && id != "" {
		u.Staff = e.IsStaff(id)
	}
	return u
}

func (e Env) threadOf(channelID, ts string) string {
	if e.ThreadOf == nil {
		return ""
	}
	return e.ThreadOf(channelID, ts)
}

// eventCallback is the Events API envelope (the body over HTTP, the payload
// of an events_api envelope over Socket Mode).
type eventCallback struct {
	Type      string     `json:"type"`
	Challenge string     `json:"challenge"`
	EventID   string     `json:"event_id"`
	Event     innerEvent `json:"event"`
}

type innerEvent struct {
	Type        string `json:"type"`
	Subtype     string `json:"subtype"`
	User        string `json:"user"`
	BotID       string `json:"bot_id"`
	Text        string `json:"text"`
	TS          string `json:"ts"`
	ThreadTS    string `json:"thread_ts"`
	Channel     string `json:"channel"`
	ChannelType string `json:"channel_type"`
	EventTS     string `json:"event_ts"`
	Reaction    string `json:"reaction"`
	DeletedTS   string `json:"deleted_ts"` // message_deleted
	// Message is the message as it is now (message_changed), Previous as
	// it was (message_changed, message_deleted).
	Message  *innerEvent `json:"message"`
	Previous *innerEvent `json:"previous_message"`
	Files    []struct {
		Permalink string `json:"permalink"`
	} `json:"files"`
	ItemUser string `json:"item_user"`
	Item     struct {
		Type    string `json:"type"`
		Channel string `json:"channel"`
		TS      string `json:"ts"`
	} `json:"item"`
}

// TranslateEvent turns an Events API payload into an event: app_mention and
// message (both keyed slack:msg:<channel>:<ts>, so a mention delivered twice
// is handled once), reaction_added and reaction_removed, and a message's
// edit (message_changed: KindEdit) and deletion (message_deleted:
// KindDelete). Messages by bots, including the bot itself, come back with
// User.Bot set. Joins and other subtypes return ErrSkip.
func TranslateEvent(payload []byte, env Env) (bot.Event, error) {
	var cb eventCallback
	if err := json.Unmarshal(payload, &cb); err != nil {
		return bot.Event{}, fmt.Errorf("slack: decode event: %w", err)
	}
	if cb.Type != "event_callback" {
		return bot.Event{}, fmt.Errorf("%w: envelope type %q", ErrSkip, cb.Type)
	}
	in := cb.Event
	switch in.Type {
	case "message", "app_mention":
		return translateMessage(in, env)
	case "reaction_added", "reaction_removed":
		return translateReaction(in, env)
	}
	return bot.Event{}, fmt.Errorf("%w: event type %q", ErrSkip, in.Type)
}

func translateMessage(in innerEvent, env Env) (bot.Event, error) {
	switch in.Subtype {
	case "", "thread_broadcast", "file_share", "bot_message":
	case "message_changed", "message_deleted":
		return translateChange(in, env)
	default:
		return bot.Event{}, fmt.Errorf("%w: message subtype %q", ErrSkip, in.Subtype)
	}
	if in.Channel == "" || in.TS == "" {
		return bot.Event{}, fmt.Errorf("%w: message without channel or ts", ErrSkip)
	}
	ev := bot.Event{
		Key:       "slack:msg:" + in.Channel + ":" + in.TS,
		Kind:      bot.KindMessage,
		Platform:  bot.PlatformSlack,
		ChannelID: in.Channel,
		MessageID: in.TS,
		DM:        in.ChannelType == "im" || (in.ChannelType == "" && strings.HasPrefix(in.Channel, "D")),
		User:      env.user(in.User),
		Time:      tsTime(in.TS),
	}
	if in.ThreadTS != "" && in.ThreadTS != in.TS {
		ev.ThreadID = in.ThreadTS
	} else if ev.DM {
		ev.ThreadID = DMThread // a direct message conversation is one thread
	}
	ev.Permalink = env.permalink(in.Channel, in.TS, in.ThreadTS)
	ev.User.Bot = in.BotID != "" || in.Subtype == "bot_message" || (env.BotUserID != "" && in.User == env.BotUserID)
	ev.Mentioned = in.Type == "app_mention" || mentions(in.Text, env.BotUserID)
	ev.Text = cleanText(in.Text, env.BotUserID)
	for _, f := range in.Files {
		if f.Permalink != "" {
			ev.Attachments = append(ev.Attachments, f.Permalink)
		}
	}
	return ev, nil
}

// translateChange turns message_changed and message_deleted into KindEdit
// and KindDelete events of the message's thread. The key names the change
// (the event's ts), so a redelivery is one edit.
func translateChange(in innerEvent, env Env) (bot.Event, error) {
	msg := in.Message
	kind, id := bot.KindEdit, ""
	if in.Subtype == "message_deleted" {
		msg, kind, id = in.Previous, bot.KindDelete, in.DeletedTS
	}
	if msg == nil || in.Channel == "" {
		return bot.Event{}, fmt.Errorf("%w: %s without the message", ErrSkip, in.Subtype)
	}
	if id == "" {
		id = msg.TS
	}
	if kind == bot.KindEdit && in.Previous != nil && in.Previous.Text == msg.Text {
		// Slack sends message_changed for unfurls and thread counts too.
		return bot.Event{}, fmt.Errorf("%w: %s without a new text", ErrSkip, in.Subtype)
	}
	if id == "" {
		return bot.Event{}, fmt.Errorf("%w: %s without ts", ErrSkip, in.Subtype)
	}
	if msg.User == "" {
		// An integration's message (bot_message, no user): nothing of ours
		// follows its edits.
		return bot.Event{}, fmt.Errorf("%w: %s of a message without an author", ErrSkip, in.Subtype)
	}
	ev := bot.Event{
		Key:       "slack:" + string(kind) + ":" + in.Channel + ":" + id + ":" + in.TS,
		Kind:      kind,
		Platform:  bot.PlatformSlack,
		ChannelID: in.Channel,
		MessageID: id,
		DM:        in.ChannelType == "im" || (in.ChannelType == "" && strings.HasPrefix(in.Channel, "D")),
		User:      env.user(msg.User),
		Time:      tsTime(in.TS),
	}
	if msg.ThreadTS != "" && msg.ThreadTS != id {
		ev.ThreadID = msg.ThreadTS
	} else if ev.DM {
		ev.ThreadID = DMThread
	}
	ev.User.Bot = msg.BotID != "" || msg.Subtype == "bot_message" || (env.BotUserID != "" && msg.User == env.BotUserID)
	if kind == bot.KindEdit {
		ev.Text = cleanText(msg.Text, env.BotUserID)
	}
	return ev, nil
}

func translateReaction(in innerEvent, env Env) (bot.Event, error) {
	if in.Item.Type != "message" || in.Item.Channel == "" || in.Item.TS == "" {
		return bot.Event{}, fmt.Errorf("%w: reaction on a %q", ErrSkip, in.Item.Type)
	}
	if in.User == "" || in.Reaction == "" {
		return bot.Event{}, fmt.Errorf("%w: reaction without user or emoji", ErrSkip)
	}
	op := "add"
	if in.Type == "reaction_removed" {
		op = "remove"
	}
	ch, ts := in.Item.Channel, in.Item.TS
	ev := bot.Event{
		Key:       "slack:react:" + ch + ":" + ts + ":" + in.User + ":" + in.Reaction + ":" + op,
		Kind:      bot.KindReaction,
		Platform:  bot.PlatformSlack,
		ChannelID: ch,
		MessageID: ts,
		ThreadID:  env.threadOf(ch, ts),
		DM:        strings.HasPrefix(ch, "D"),
		User:      env.user(in.User),
		Time:      tsTime(in.EventTS),
		Reaction:  in.Reaction,
		Removed:   op == "remove",
	}
	ev.User.Bot = env.BotUserID != "" && in.User == env.BotUserID
	target := &bot.Message{ID: ts, ChannelID: ch, ThreadID: ev.ThreadID, User: env.user(in.ItemUser)}
	target.User.Bot = env.BotUserID != "" && in.ItemUser == env.BotUserID
	ev.Target = target
	return ev, nil
}

// SlashCommand is a slash command invocation: a form over HTTP, JSON over
// Socket Mode.
type SlashCommand struct {
	Command     string `json:"command"`
	Text        string `json:"text"`
	ChannelID   string `json:"channel_id"`
	ChannelName string `json:"channel_name"`
	UserID      string `json:"user_id"`
	UserName    string `json:"user_name"`
	TriggerID   string `json:"trigger_id"`
	ResponseURL string `json:"response_url"`
	TeamID      string `json:"team_id"`
}

// SlashCommandFromForm reads a slash command from its HTTP form.
func SlashCommandFromForm(form url.Values) SlashCommand {
	return SlashCommand{
		Command: form.Get("command"), Text: form.Get("text"),
		ChannelID: form.Get("channel_id"), ChannelName: form.Get("channel_name"),
		UserID: form.Get("user_id"), UserName: form.Get("user_name"),
		TriggerID: form.Get("trigger_id"), ResponseURL: form.Get("response_url"),
		TeamID: form.Get("team_id"),
	}
}

// SlashCommandFromJSON reads a slash command from a Socket Mode payload
// (where is_enterprise_install is the string "false"; it is not needed).
func SlashCommandFromJSON(payload []byte) (SlashCommand, error) {
	var c SlashCommand
	if err := json.Unmarshal(payload, &c); err != nil {
		return c, fmt.Errorf("slack: decode slash command: %w", err)
	}
	return c, nil
}

// DMThread is the thread of a direct-message conversation's top-level
// messages: the whole conversation is one thread (with its history), and
// the bot answers there at the top level, not in a Slack thread.
const DMThread = "dm"

// EphemeralPrefix starts the thread id of a click on an ephemeral message
// the adapter no longer knows; replies in it are ephemeral to the clicker.
const EphemeralPrefix = "eph-"

// SyntheticPrefix starts the thread id of events that have no Slack message
// of their own (slash commands): the first reply is posted at the top level
// of the channel and later replies of that thread go into its thread.
const SyntheticPrefix = "cmd-"

// TranslateCommand turns "/einsatz ask how do I…" into the command "ask"
// with Args "how do I…". An empty text is "help"; text whose first word is
// no known command is a question for "ask" (when Env.Commands has "ask").
// Another slash command (a custom one registered by hand) becomes a command
// of its own name with the whole text as Args.
func TranslateCommand(c SlashCommand, env Env) (bot.Event, error) {
	if c.ChannelID == "" || c.UserID == "" || c.TriggerID == "" {
		return bot.Event{}, fmt.Errorf("%w: slash command without channel, user or trigger", ErrSkip)
	}
	name, args := "", strings.TrimSpace(c.Text)
	if c.Command != "" && c.Command != "/einsatz" {
		name = strings.TrimPrefix(c.Command, "/")
	} else {
		first, rest, _ := strings.Cut(args, " ")
		first = strings.ToLower(first)
		switch {
		case first == "":
			name = "help"
		case len(env.Commands) == 0 || contains(env.Commands, first):
			name, args = first, strings.TrimSpace(rest)
		case contains(env.Commands, "ask"):
			name = "ask"
		default:
			name, args = first, strings.TrimSpace(rest)
		}
	}
	ev := bot.Event{
		Key:       "slack:cmd:" + c.TriggerID,
		Kind:      bot.KindCommand,
		Platform:  bot.PlatformSlack,
		ChannelID: c.ChannelID,
		MessageID: SyntheticPrefix + c.TriggerID,
		DM:        strings.HasPrefix(c.ChannelID, "D"),
		User:      env.user(c.UserID),
		Command:   name,
		Args:      unescape(args),
	}
	ev.User.Name = c.UserName
	return ev, nil
}

type interaction struct {
	Type       string `json:"type"`
	CallbackID string `json:"callback_id"`
	TriggerID  string `json:"trigger_id"`
	ActionTS   string `json:"action_ts"`
	User       struct {
		ID       string `json:"id"`
		Username string `json:"username"`
		Name     string `json:"name"`
	} `json:"user"`
	Channel struct {
		ID   string `json:"id"`
		Name string `json:"name"`
	} `json:"channel"`
	Container struct {
		MessageTS   string `json:"message_ts"`
		ChannelID   string `json:"channel_id"`
		IsEphemeral bool   `json:"is_ephemeral"`
	} `json:"container"`
	Message struct {
		User     string `json:"user"`
		BotID    string `json:"bot_id"`
		Text     string `json:"text"`
		TS       string `json:"ts"`
		ThreadTS string `json:"thread_ts"`
	} `json:"message"`
	Actions []struct {
		ActionID string `json:"action_id"`
		Value    string `json:"value"`
		ActionTS string `json:"action_ts"`
	} `json:"actions"`
}

// TranslateInteraction turns an interactivity payload into an event: the
// message shortcut "Send to research inbox" becomes the command "forward"
// with the message as Target (other message shortcuts a command named
// after their callback id); a Block Kit button click becomes an
// interaction with the button's action id and value. Modals and global
// shortcuts return ErrSkip.
func TranslateInteraction(payload []byte, env Env) (bot.Event, error) {
	var ia interaction
	if err := json.Unmarshal(payload, &ia); err != nil {
		return bot.Event{}, fmt.Errorf("slack: decode interaction: %w", err)
	}
	id := ia.TriggerID
	if id == "" {
		id = ia.ActionTS
	}
	ch := ia.Channel.ID
	if ch == "" {
		ch = ia.Container.ChannelID
	}
	if ch == "" || ia.User.ID == "" {
		return bot.Event{}, fmt.Errorf("%w: %s interaction without channel or user", ErrSkip, ia.Type)
	}
	ev := bot.Event{
		Platform:  bot.PlatformSlack,
		ChannelID: ch,
		DM:        strings.HasPrefix(ch, "D"),
		User:      env.user(ia.User.ID),
	}
	ev.User.Name = ia.User.Username
	if ev.User.Name == "" {
		ev.User.Name = ia.User.Name
	}
	msgTS := ia.Message.TS
	if msgTS == "" {
		msgTS = ia.Container.MessageTS
	}
	thread := env.threadOf(ch, msgTS)
	if thread == "" && ia.Message.ThreadTS != msgTS {
		thread = ia.Message.ThreadTS
	}
	if thread == "" && ia.Container.IsEphemeral {
		// A click on an ephemeral message whose thread is forgotten (a
		// restart): a private thread of its own, so the answer stays private.
		thread = EphemeralPrefix + id
	}
	ev.MessageID, ev.ThreadID = msgTS, thread

	switch ia.Type {
	case "message_action":
		if id == "" || msgTS == "" || ia.CallbackID == "" {
			return bot.Event{}, fmt.Errorf("%w: shortcut without trigger, message or callback id", ErrSkip)
		}
		ev.Key = "slack:ia:" + id
		ev.Kind = bot.KindCommand
		ev.Command = ia.CallbackID
		if cmd, ok := shortcutCommands[ia.CallbackID]; ok {
			ev.Command = cmd
		}
		author := env.user(ia.Message.User)
		author.Bot = ia.Message.BotID != "" || (env.BotUserID != "" && ia.Message.User == env.BotUserID)
		ev.Target = &bot.Message{
			ID: msgTS, ChannelID: ch, ThreadID: ia.Message.ThreadTS, User: author,
			Text: cleanText(ia.Message.Text, env.BotUserID), Time: tsTime(msgTS),
		}
		ev.Time = tsTime(ia.ActionTS)
		return ev, nil
	case "block_actions":
		if len(ia.Actions) == 0 || id == "" || msgTS == "" {
			return bot.Event{}, fmt.Errorf("%w: block action without action, trigger or message", ErrSkip)
		}
		a := ia.Actions[0]
		ev.Key = "slack:ia:" + id
		ev.Kind = bot.KindInteraction
		ev.Action = actionName(a.ActionID)
		ev.Value = a.Value
		ev.Time = tsTime(a.ActionTS)
		return ev, nil
	}
	return bot.Event{}, fmt.Errorf("%w: interaction type %q", ErrSkip, ia.Type)
}

// actionName undoes the "#n" suffix Send adds when two buttons of one
// message share an action (Slack wants action ids unique per block).
func actionName(id string) string {
	if i := strings.LastIndexByte(id, '#'); i > 0 {
		if _, err := strconv.Atoi(id[i+1:]); err == nil {
			return id[:i]
		}
	}
	return id
}

func contains(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}

var mentionRE = regexp.MustCompile(`<@([UW][A-Z0-9]+)(\|[^>]*)?>`)

func mentions(text, botUserID string) bool {
	if botUserID == "" {
		return false
	}
	return strings.Contains(text, "<@"+botUserID+">") || strings.Contains(text, "<@"+botUserID+"|")
}

// cleanText removes mentions of the bot and Slack's escapes, so handlers
// see what the user typed.
func cleanText(text, botUserID string) string {
	if botUserID != "" {
		text = mentionRE.ReplaceAllStringFunc(text, func(m string) string {
			if sub := mentionRE.FindStringSubmatch(m); sub[1] == botUserID {
				return ""
			}
			return m
		})
	}
	return strings.TrimSpace(strings.ReplaceAll(unescape(text), "  ", " "))
}

func unescape(s string) string {
	if !strings.Contains(s, "&") {
		return s
	}
	return strings.NewReplacer("&lt;", "<", "&gt;", ">", "&amp;", "&").Replace(s)
}

var tsRE = regexp.MustCompile(`^\d+\.\d+$`)

// isTS reports whether s is a Slack message timestamp (and so a real
// thread to answer in).
func isTS(s string) bool { return tsRE.MatchString(s) }

func tsTime(ts string) time.Time {
	if ts == "" {
		return time.Time{}
	}
	sec, frac, _ := strings.Cut(ts, ".")
	s, err := strconv.ParseInt(sec, 10, 64)
	if err != nil {
		return time.Time{}
	}
	var us int64
	if frac != "" {
		frac = (frac + "000000")[:6]
		us, _ = strconv.ParseInt(frac, 10, 64)
	}
	return time.Unix(s, us*1000).UTC()
}
