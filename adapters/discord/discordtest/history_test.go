package discordtest

import (
	"testing"

	"github.com/bwmarrin/discordgo"
)

// GET /channels/{id}/messages as discordgo's ChannelMessages calls it:
// newest first; after= gives the oldest ones after the id; limit bounds;
// REST objects carry no guild_id; an unknown channel is 10003.
func TestChannelMessagesList(t *testing.T) {
	srv := New(t, Options{})
	ch := srv.TextChannel(srv.Guild, "general")
	u := srv.NewUser("alice")
	var ids []string
	for _, text := range []string{"one", "two", "three", "four"} {
		ids = append(ids, srv.Post(ch, u, text, false).ID)
	}
	s := restSession(t, srv, "Bot "+srv.Token)

	all, err := s.ChannelMessages(ch, 100, "", "", "")
	if err != nil {
		t.Fatal(err)
	}
	if len(all) != 4 || all[0].Content != "four" || all[3].Content != "one" {
		t.Fatalf("list = %d messages, first %q: want 4, newest first", len(all), all[0].Content)
	}
	if all[0].GuildID != "" || all[0].Member != nil {
		t.Fatalf("REST message has guild_id %q / member: Discord sends neither", all[0].GuildID)
	}
	after, err := s.ChannelMessages(ch, 2, "", ids[0], "")
	if err != nil {
		t.Fatal(err)
	}
	if len(after) != 2 || after[0].Content != "three" || after[1].Content != "two" {
		t.Fatalf("after the first, limit 2 = %v, want three, two", contents(after))
	}
	if _, err := s.ChannelMessages("404", 10, "", "", ""); code(err) != 10003 {
		t.Fatalf("unknown channel: %v", err)
	}
}

func contents(msgs []*discordgo.Message) []string {
	var out []string
	for _, m := range msgs {
		out = append(out, m.Content)
	}
	return out
}
