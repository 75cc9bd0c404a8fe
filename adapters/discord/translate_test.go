package discord

import (
	"encoding/json"
	"os"
	"path/filepath"
	"reflect"
	"testing"
	"time"

	"github.com/bwmarrin/discordgo"

	"github.com/einsatz/einsatz/bot"
)

// Ids in the recorded payloads in testdata/.
const (
	tdBot     = "900000000000000001"
	tdGuild   = "800000000000000001"
	tdGeneral = "700000000000000001"
	tdForum   = "700000000000000002"
	tdDM      = "710000000000000001"
	tdThread  = "1308761234567890945" // started by the bot from message 1308761234567890945
	tdPost    = "1308770000000000001" // a forum post and its first message
	tdStaff   = "600000000000000001"
)

var (
	tdID = identity{UserID: tdBot, StaffRoles: map[string]bool{tdStaff: true}, StaffUsers: map[string]bool{}}

	general = channelInfo{ID: tdGeneral, GuildID: tdGuild, Type: discordgo.ChannelTypeGuildText}
	thread  = channelInfo{ID: tdThread, GuildID: tdGuild, Type: discordgo.ChannelTypeGuildPublicThread, ParentID: tdGeneral, ParentType: discordgo.ChannelTypeGuildText}
	post    = channelInfo{ID: tdPost, GuildID: tdGuild, Type: discordgo.ChannelTypeGuildPublicThread, ParentID: tdForum, ParentType: discordgo.ChannelTypeGuildForum}
	dm      = channelInfo{ID: tdDM, Type: discordgo.ChannelTypeDM}

	alice = bot.User{Platform: "discord", ID: "500000000000000001", Name: "Alice"}
)

func load(t *testing.T, name string, v any) {
	t.Helper()
	data, err := os.ReadFile(filepath.Join("testdata", name))
	if err != nil {
		t.Fatal(err)
	}
	if err := json.Unmarshal(data, v); err != nil {
		t.Fatalf("%s: %v", name, err)
	}
}

func ts(s string) time.Time {
	t, err := time.Parse(time.RFC3339Nano, s)
	if err != nil {
		panic(err)
	}
	return t
}

func TestTranslateMessage(t *testing.T) {
	tests := []struct {
		file string
		ch   channelInfo
		want *bot.Event // nil: not for the core
	}{
		{"message_mention.json", general, &bot.Event{
			Key: "discord:msg:1308761234567890945", Kind: bot.KindMessage, Platform: "discord",
			ChannelID: tdGeneral, MessageID: "1308761234567890945", Mentioned: true, User: alice,
			Text: "how do I install it? @Bob asked too", Time: ts("2026-11-20T10:15:30.123Z"),
			Permalink: "https://discord.com/channels/" + tdGuild + "/" + tdGeneral + "/1308761234567890945",
		}},
		{"message_thread_followup.json", thread, &bot.Event{
			Key: "discord:msg:1308761234567890999", Kind: bot.KindMessage, Platform: "discord",
			ChannelID: tdGeneral, ThreadID: tdThread, MessageID: "1308761234567890999",
			User: bot.User{Platform: "discord", ID: "500000000000000003", Name: "Staff Sam", Staff: true},
			Text: "Did that help?", Time: ts("2026-11-20T10:17:00Z"),
			Permalink: "https://discord.com/channels/" + tdGuild + "/" + tdThread + "/1308761234567890999",
		}},
		{"message_forum_first.json", post, &bot.Event{
			Key: "discord:msg:" + tdPost, Kind: bot.KindMessage, Platform: "discord",
			ChannelID: tdForum, ThreadID: tdPost, MessageID: tdPost, NewTopic: true,
			User: bot.User{Platform: "discord", ID: "500000000000000004", Name: "carol"},
			Text: "Login fails since the update", Time: ts("2026-11-20T11:00:00Z"),
			Permalink: "https://discord.com/channels/" + tdGuild + "/" + tdPost + "/" + tdPost,
		}},
		{"message_reply_to_bot.json", general, &bot.Event{
			Key: "discord:msg:1308761234567891001", Kind: bot.KindMessage, Platform: "discord",
			ChannelID: tdGeneral, MessageID: "1308761234567891001", Mentioned: true, User: alice,
			Text: "thanks, but what about Windows?", Time: ts("2026-11-20T10:20:00Z"),
			Permalink: "https://discord.com/channels/" + tdGuild + "/" + tdGeneral + "/1308761234567891001",
		}},
		{"message_dm.json", dm, &bot.Event{
			Key: "discord:msg:1308780000000000001", Kind: bot.KindMessage, Platform: "discord",
			ChannelID: tdDM, ThreadID: tdDM, MessageID: "1308780000000000001", DM: true, User: alice,
			Text: "private question", Time: ts("2026-11-20T12:00:00Z"),
			Permalink: "https://discord.com/channels/@me/" + tdDM + "/1308780000000000001",
		}},
		{"message_other_bot.json", general, &bot.Event{
			Key: "discord:msg:1308761234567890960", Kind: bot.KindMessage, Platform: "discord",
			ChannelID: tdGeneral, MessageID: "1308761234567890960", Mentioned: true,
			User: bot.User{Platform: "discord", ID: "500000000000000099", Name: "otherbot", Bot: true},
			Text: "ping from another bot", Time: ts("2026-11-20T10:16:30Z"),
			Permalink: "https://discord.com/channels/" + tdGuild + "/" + tdGeneral + "/1308761234567890960",
		}},
		{"message_own.json", thread, nil},
		{"message_thread_created.json", general, nil},
	}
	for _, tt := range tests {
		t.Run(tt.file, func(t *testing.T) {
			var m discordgo.Message
			load(t, tt.file, &m)
			got, ok := translateMessage(&m, tt.ch, tdID)
			if tt.want == nil {
				if ok {
					t.Fatalf("got %+v, want it dropped", got)
				}
				return
			}
			if !ok {
				t.Fatal("dropped")
			}
			if !reflect.DeepEqual(got, *tt.want) {
				t.Errorf("got  %+v\nwant %+v", got, *tt.want)
			}
		})
	}
}

// The follow-up in the thread the bot started from a message belongs to
// the same bot.ThreadRef as the message itself.
func TestThreadOfFollowUpIsThreadOfQuestion(t *testing.T) {
	var q, f discordgo.Message
	load(t, "message_mention.json", &q)
	load(t, "message_thread_followup.json", &f)
	qe, _ := translateMessage(&q, general, tdID)
	fe, _ := translateMessage(&f, thread, tdID)
	if qe.Thread() != fe.Thread() {
		t.Errorf("question in %+v, follow-up in %+v", qe.Thread(), fe.Thread())
	}
}

func TestTranslateReaction(t *testing.T) {
	var add discordgo.MessageReactionAdd
	load(t, "reaction_add.json", &add)
	got, ok := translateReaction(add.MessageReaction, add.Member, false, thread, tdID)
	link := "https://discord.com/channels/" + tdGuild + "/" + tdThread + "/1308761234567890950"
	want := bot.Event{
		Key: "discord:react:1308761234567890950:500000000000000001:👍:add", Kind: bot.KindReaction, Platform: "discord",
		ChannelID: tdGeneral, ThreadID: tdThread, MessageID: "1308761234567890950", User: alice, Reaction: "👍",
		Permalink: link, Target: &bot.Message{ID: "1308761234567890950", ChannelID: tdGeneral, ThreadID: tdThread, Permalink: link},
	}
	if !ok || !reflect.DeepEqual(got, want) {
		t.Errorf("add:\ngot  %+v %+v\nwant %+v %+v", got, got.Target, want, want.Target)
	}

	var rm discordgo.MessageReactionRemove
	load(t, "reaction_remove.json", &rm)
	got, ok = translateReaction(rm.MessageReaction, nil, true, general, tdID)
	if !ok || got.Key != "discord:react:1308761234567890945:500000000000000001:einsatz_love:400000000000000001:remove" ||
		!got.Removed || got.User.ID != alice.ID || got.Thread() != (bot.ThreadRef{Platform: "discord", ChannelID: tdGeneral, ThreadID: "1308761234567890945"}) {
		t.Errorf("remove: %+v", got)
	}

	own := *add.MessageReaction
	own.UserID = tdBot
	if _, ok := translateReaction(&own, nil, false, thread, tdID); ok {
		t.Error("the bot's own reaction was not dropped")
	}
}

func TestTranslateInteraction(t *testing.T) {
	sam := bot.User{Platform: "discord", ID: "500000000000000003", Name: "Sam", Staff: true}
	tests := []struct {
		file string
		ch   channelInfo
		want *bot.Event
	}{
		{"interaction_slash.json", general, &bot.Event{
			Key: "discord:ia:1308790000000000001", Kind: bot.KindCommand, Platform: "discord",
			ChannelID: tdGeneral, MessageID: "1308790000000000001", User: sam,
			Command: "ask", Args: "Wie installiere ich das?", Time: snowflakeTime("1308790000000000001"),
		}},
		{"interaction_message_command.json", thread, &bot.Event{
			Key: "discord:ia:1308790000000000002", Kind: bot.KindCommand, Platform: "discord",
			ChannelID: tdGeneral, ThreadID: tdThread, MessageID: "1308790000000000002", User: sam,
			Command: "forward", Time: snowflakeTime("1308790000000000002"),
			Target: &bot.Message{
				ID: "1308761234567890999", ChannelID: tdGeneral, ThreadID: tdThread, User: alice,
				Text: "It would be great to export as CSV", Time: ts("2026-11-20T10:17:00Z"),
				Permalink: "https://discord.com/channels/" + tdGuild + "/" + tdThread + "/1308761234567890999",
			},
		}},
		{"interaction_button.json", thread, &bot.Event{
			Key: "discord:ia:1308790000000000003", Kind: bot.KindInteraction, Platform: "discord",
			ChannelID: tdGeneral, ThreadID: tdThread, MessageID: "1308790000000000003", User: alice,
			Action: "vote", Value: "up", Time: snowflakeTime("1308790000000000003"),
			Target: &bot.Message{
				ID: "1308761234567890950", ChannelID: tdGeneral, ThreadID: tdThread,
				User: bot.User{Platform: "discord", ID: tdBot, Name: "Einsatz", Bot: true},
				Text: "echo: an answer", Time: ts("2026-11-20T10:16:00Z"),
				Permalink: "https://discord.com/channels/" + tdGuild + "/" + tdThread + "/1308761234567890950",
			},
		}},
		{"interaction_dm_slash.json", dm, &bot.Event{
			Key: "discord:ia:1308790000000000004", Kind: bot.KindCommand, Platform: "discord",
			ChannelID: tdDM, ThreadID: tdDM, MessageID: "1308790000000000004", DM: true, User: alice,
			Command: "feedback", Args: "Great bot", Time: snowflakeTime("1308790000000000004"),
		}},
		{"interaction_user_command.json", general, nil},
	}
	for _, tt := range tests {
		t.Run(tt.file, func(t *testing.T) {
			var i discordgo.Interaction
			load(t, tt.file, &i)
			got, ok := translateInteraction(&i, tt.ch, tdID)
			if tt.want == nil {
				if ok {
					t.Fatalf("got %+v, want it ignored", got)
				}
				return
			}
			if !ok {
				t.Fatal("ignored")
			}
			if !reflect.DeepEqual(got, *tt.want) {
				t.Errorf("got  %+v\n     %+v\nwant %+v\n     %+v", got, got.Target, *tt.want, tt.want.Target)
			}
		})
	}
	if got := snowflakeTime("1308790000000000001"); got.Year() != 2024 {
		t.Errorf("snowflake time = %v", got)
	}
}

// The channel's name (a thread's: its parent's) goes with the event, for
// the dashboard to show instead of the id.
func TestPlaceCarriesChannelName(t *testing.T) {
	for _, tt := range []struct {
		name   string
		ch     channelInfo
		wantID string
		want   string
	}{
		{"channel", channelInfo{ID: "C", GuildID: "G", Name: "help"}, "C", "help"},
		{"thread", channelInfo{ID: "T", GuildID: "G", Type: discordgo.ChannelTypeGuildPublicThread, ParentID: "C", Name: "my question", ParentName: "help"}, "C", "help"},
		{"unknown name", channelInfo{ID: "C", GuildID: "G"}, "C", ""},
	} {
		var ev bot.Event
		place(&ev, "G", tt.ch.ID, tt.ch)
		if ev.ChannelID != tt.wantID || ev.ChannelName != tt.want {
			t.Errorf("%s: channel %q named %q, want %q named %q", tt.name, ev.ChannelID, ev.ChannelName, tt.wantID, tt.want)
		}
	}
}
