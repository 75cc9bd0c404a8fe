package discordtest

import (
	"errors"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/bwmarrin/discordgo"
)

// to sends discordgo's discord.com requests to the fake.
type to struct{ base *url.URL }

func (t to) RoundTrip(r *http.Request) (*http.Response, error) {
	r = r.Clone(r.Context())
	r.URL.Scheme, r.URL.Host, r.Host = t.base.Scheme, t.base.Host, t.base.Host
	return http.DefaultTransport.RoundTrip(r)
}

func restSession(t *testing.T, srv *Server, token string) *discordgo.Session {
	t.Helper()
	s, err := discordgo.New(token)
	if err != nil {
		t.Fatal(err)
	}
	u, _ := url.Parse(srv.URL)
	s.Client = &http.Client{Transport: to{u}, Timeout: 5 * time.Second}
	return s
}

func code(err error) int {
	var re *discordgo.RESTError
	if errors.As(err, &re) {
		if re.Message != nil && re.Message.Code != 0 {
			return re.Message.Code
		}
		return re.Response.StatusCode
	}
	return -1
}

// The rules the fake enforces, checked with the unmodified discordgo.
func TestRules(t *testing.T) {
	srv := New(t, Options{InteractionDeadline: 50 * time.Millisecond})
	if _, err := restSession(t, srv, srv.Token).User("@me"); code(err) != 401 {
		t.Errorf("token without the Bot prefix: %v, want 401", err)
	}
	s := restSession(t, srv, "Bot "+srv.Token)
	if u, err := s.User("@me"); err != nil || u.ID != srv.BotID {
		t.Fatalf("User(@me) = %v, %v", u, err)
	}
	ch := srv.TextChannel(srv.Guild, "general")
	if _, err := s.ChannelMessageSend(ch, strings.Repeat("x", 2001)); code(err) != 50035 {
		t.Errorf("2,001 characters: %v, want 50035", err)
	}
	if _, err := s.ChannelMessageSend(ch, strings.Repeat("ä", 2000)); err != nil {
		t.Errorf("2,000 characters: %v", err)
	}
	m := srv.Post(ch, srv.NewUser("Alice"), "question", true)
	th, err := s.MessageThreadStart(ch, m.ID, "question", 60)
	if err != nil || th.ID != m.ID || th.ParentID != ch {
		t.Fatalf("thread start = %+v, %v; want the message's id", th, err)
	}
	if _, err := s.MessageThreadStart(ch, m.ID, "again", 60); code(err) != 160004 {
		t.Errorf("second thread from a message: %v, want 160004", err)
	}
	srv.SetDenied(ch, true)
	if _, err := s.ChannelMessageSend(ch, "hi"); code(err) != 50013 {
		t.Errorf("denied channel: %v, want 50013", err)
	}
	if _, err := s.ChannelMessageSend("42", "hi"); code(err) != 10003 {
		t.Errorf("unknown channel: %v, want 10003", err)
	}

	late := srv.SlashCommand(th.ID, srv.NewUser("Bob"), "ask", "x")
	time.Sleep(60 * time.Millisecond)
	ia := &discordgo.Interaction{ID: late, AppID: srv.AppID, Token: srv.InteractionToken(late)}
	defer5 := &discordgo.InteractionResponse{Type: discordgo.InteractionResponseDeferredChannelMessageWithSource}
	if err := s.InteractionRespond(ia, defer5); code(err) != 10062 {
		t.Errorf("late interaction response: %v, want 10062", err)
	}
	srv.SetInteractionDeadline(time.Second)
	ok := srv.SlashCommand(th.ID, srv.NewUser("Bob"), "ask", "x")
	ia = &discordgo.Interaction{ID: ok, AppID: srv.AppID, Token: srv.InteractionToken(ok)}
	if _, err := s.InteractionResponseEdit(ia, &discordgo.WebhookEdit{}); code(err) != 10015 {
		t.Errorf("edit before the response: %v, want 10015", err)
	}
	if err := s.InteractionRespond(ia, defer5); err != nil {
		t.Fatal(err)
	}
	if err := s.InteractionRespond(ia, defer5); code(err) != 40060 {
		t.Errorf("second response: %v, want 40060", err)
	}
	text := "done"
	if _, err := s.InteractionResponseEdit(ia, &discordgo.WebhookEdit{Content: &text}); err != nil {
		t.Errorf("edit after the deferral: %v", err)
	}
	rs := srv.InteractionResponses(ok)
	if len(rs) != 3 || rs[0].Type != 5 || rs[1].Status != 400 || rs[2].Kind != "edit" || rs[2].Content != "done" {
		t.Errorf("responses = %+v", rs)
	}
	// After 15 minutes (ExpireInteraction) the token opens no webhook
	// endpoint: 401 with 50027, as Discord answers.
	srv.ExpireInteraction(ok)
	if _, err := s.InteractionResponseEdit(ia, &discordgo.WebhookEdit{Content: &text}); code(err) != 50027 {
		t.Errorf("edit with an expired token: %v, want 50027", err)
	}
	if _, err := s.FollowupMessageCreate(ia, true, &discordgo.WebhookParams{Content: "late"}); code(err) != 50027 {
		t.Errorf("follow-up with an expired token: %v, want 50027", err)
	}
	if err := s.InteractionResponseDelete(ia); code(err) != 50027 {
		t.Errorf("delete with an expired token: %v, want 50027", err)
	}
}
