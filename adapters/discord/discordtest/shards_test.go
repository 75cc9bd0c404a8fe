package discordtest

import (
	"sync"
	"testing"
	"time"

	"github.com/bwmarrin/discordgo"
)

// Two discordgo sessions, shards 0 and 1 of 2: GET /gateway/bot reports
// what was set, each IDENTIFY takes a session start, READY lists only the
// shard's guilds, and a guild's messages reach only its shard's session.
func TestShardRouting(t *testing.T) {
	srv := New(t, Options{})
	srv.SetGatewayBot(GatewayBot{Shards: 2, Total: 1000, Remaining: 10, ResetAfter: time.Hour, MaxConcurrency: 2})
	guilds := []string{srv.AddGuildOnShard("a", 0, 2), srv.AddGuildOnShard("b", 1, 2)}
	chans := []string{srv.TextChannel(guilds[0], "help"), srv.TextChannel(guilds[1], "help")}

	rest := restSession(t, srv, "Bot "+srv.Token)
	gb, err := rest.GatewayBot()
	if err != nil {
		t.Fatal(err)
	}
	if gb.Shards != 2 || gb.SessionStartLimit.Remaining != 10 || gb.SessionStartLimit.MaxConcurrency != 2 || gb.SessionStartLimit.ResetAfter != 3600000 {
		t.Errorf("GET /gateway/bot = %+v", gb)
	}

	var mu sync.Mutex
	got := map[int][]string{}   // shard -> channels of the messages it got
	ready := map[int][]string{} // shard -> guilds in READY
	for shard := range 2 {
		s := restSession(t, srv, "Bot "+srv.Token)
		s.ShardID, s.ShardCount = shard, 2
		s.Identify.Intents = discordgo.IntentsGuildMessages | discordgo.IntentsMessageContent
		s.AddHandler(func(_ *discordgo.Session, r *discordgo.Ready) {
			mu.Lock()
			defer mu.Unlock()
			for _, g := range r.Guilds {
				ready[shard] = append(ready[shard], g.ID)
			}
		})
		s.AddHandler(func(_ *discordgo.Session, m *discordgo.MessageCreate) {
			mu.Lock()
			defer mu.Unlock()
			got[shard] = append(got[shard], m.ChannelID)
		})
		if err := s.Open(); err != nil {
			t.Fatalf("shard %d: %v", shard, err)
		}
		t.Cleanup(func() { _ = s.Close() })
	}
	mia := srv.NewUser("mia")
	srv.Post(chans[0], mia, "on shard 0", false)
	srv.Post(chans[1], mia, "on shard 1", false)
	deadline := time.Now().Add(5 * time.Second)
	for {
		mu.Lock()
		n := len(got[0]) + len(got[1])
		mu.Unlock()
		if n >= 2 || time.Now().After(deadline) {
			break
		}
		time.Sleep(5 * time.Millisecond)
	}
	time.Sleep(50 * time.Millisecond) // a message on the wrong shard would show now
	mu.Lock()
	defer mu.Unlock()
	for shard := range 2 {
		if len(got[shard]) != 1 || got[shard][0] != chans[shard] {
			t.Errorf("shard %d got messages in %v, want one in %s", shard, got[shard], chans[shard])
		}
		for _, g := range ready[shard] {
			if ShardOf(g, 2) != shard {
				t.Errorf("READY of shard %d lists guild %s of shard %d", shard, g, ShardOf(g, 2))
			}
		}
	}
	if log := srv.IdentifyLog(); len(log) != 2 || srv.GatewayBotLimits().Remaining != 8 {
		t.Errorf("IDENTIFYs %+v, %d session starts left; want 2 and 8", log, srv.GatewayBotLimits().Remaining)
	}
}
