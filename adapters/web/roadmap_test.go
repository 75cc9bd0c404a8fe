package web_test

import (
	"context"
	"io"
	"net/http"
	"net/http/cookiejar"
	"net/http/httptest"
	"net/url"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/einsatz/einsatz/adapters/discord/discordtest"
	"github.com/einsatz/einsatz/adapters/slack/slacktest"
	"github.com/einsatz/einsatz/adapters/web"
	"github.com/einsatz/einsatz/bot"
	"github.com/einsatz/einsatz/bot/request"
	"github.com/einsatz/einsatz/handlers/inbox"
	"github.com/einsatz/einsatz/storage"
)

// roadmapSite is a running site with the public roadmap, signing in
// through the fake Discord and the fake Slack on loopback.
type roadmapSite struct {
	srv     *web.Server
	svc     *inbox.Service
	discord *discordtest.Server
	slack   *slacktest.Server
}

const (
	discordVoter = "222000000000000001" // voted in the community for item 1 already
	slackVoter   = "U0VOTER01"
	memberName   = "Alice Member"
	memberText   = "please let me export my stuff, my email is alice@example.com"
)

// startRoadmap seeds three requests: #1 planned and public, with a vote
// from discordVoter given in the community; #2 under review and public;
// #3 in progress but not public. slackTeam restricts Slack sign-in.
func startRoadmap(t *testing.T, slackTeam string) *roadmapSite {
	t.Helper()
	store, err := storage.Open(storage.Options{InMemory: true, Logger: discard()})
	if err != nil {
		t.Fatal(err)
	}
	svc := inbox.New(inbox.Options{Store: storage.NewInbox(store), Logger: discard()})
	ctx := context.Background()
	now := time.Now()
	for i, it := range []struct {
		title, status, voter string
		public               bool
	}{
		{"Export to CSV", request.StatusPlanned, discordVoter, true},
		{"Dark mode", request.StatusUnderReview, "555000000000000005", true}, // someone else asked for #2
		{"Secret internal item", request.StatusInProgress, discordVoter, false},
	} {
		m := request.Mention{Platform: "discord", Channel: "general", Thread: "t", MessageID: "m" + string(rune('1'+i)), UserID: it.voter,
			UserName: memberName, Text: memberText, Time: now, Source: request.SourceDetected}
		item, _, err := storage.NewInbox(store).Create(ctx, request.Item{Title: it.title, Status: it.status, Created: now, Updated: now}, m,
			request.Vote{Platform: "discord", UserID: it.voter, Name: memberName, Time: now})
		if err != nil {
			t.Fatal(err)
		}
		if it.public {
			text := "Public words for " + it.title
			if _, err := svc.SetPublic(ctx, item.ID, true, &text, "lead"); err != nil {
				t.Fatal(err)
			}
		}
	}
	dc := discordtest.New(t, discordtest.Options{})
	sl := slacktest.New(slacktest.Options{})
	t.Cleanup(sl.Close)
	core := bot.New(bot.Options{Store: store, Logger: discard()})
	srv, err := web.New(web.Options{Addr: "127.0.0.1:0", Store: store, Core: core, Logger: discard(),
		Accounts: []web.Account{{Name: "lead", Role: "admin", Token: "lead-token-123456"}}})
	if err != nil {
		t.Fatal(err)
	}
	srv.AddInbox(svc)
	srv.AddRoadmap(svc, web.RoadmapOptions{Providers: []web.OAuthProvider{
		web.DiscordProvider("dc-client", "dc-secret", dc.URL),
		web.SlackProvider("sl-client", "sl-secret", slackTeam, sl.URL()),
	}})
	runCtx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- core.Run(runCtx, srv) }()
	<-srv.Ready()
	t.Cleanup(func() { cancel(); <-done; store.Close() })
	dc.AddOAuthApp(discordtest.OAuthApp{ClientID: "dc-client", ClientSecret: "dc-secret", Redirects: []string{srv.URL() + "/roadmap/callback/discord"}})
	sl.AddOIDCApp(slacktest.OIDCApp{ClientID: "sl-client", ClientSecret: "sl-secret", Redirects: []string{srv.URL() + "/roadmap/callback/slack"}})
	return &roadmapSite{srv: srv, svc: svc, discord: dc, slack: sl}
}

// browser is a cookie-keeping HTTP client that follows redirects, as a
// browser would.
func browser(t *testing.T) *http.Client {
	jar, err := cookiejar.New(nil)
	if err != nil {
		t.Fatal(err)
	}
	return &http.Client{Jar: jar, Timeout: 10 * time.Second}
}

func fetchPage(t *testing.T, c *http.Client, u string) (*http.Response, string) {
	t.Helper()
	resp, err := c.Get(u)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp, string(b)
}

var tokenRe = regexp.MustCompile(`name="token" value="([^"]+)"`)

// signIn goes through the provider's flow and returns the roadmap page.
func (rs *roadmapSite) signIn(t *testing.T, c *http.Client, platform string) string {
	t.Helper()
	resp, page := fetchPage(t, c, rs.srv.URL()+"/roadmap/login/"+platform)
	if resp.StatusCode != 200 || resp.Request.URL.Path != "/roadmap" || !strings.Contains(page, `id="rm-signed-in"`) {
		t.Fatalf("sign-in with %s: HTTP %d at %s, signed in: %v", platform, resp.StatusCode, resp.Request.URL, strings.Contains(page, "rm-signed-in"))
	}
	return page
}

// vote posts the vote form and returns where it led and the page.
func (rs *roadmapSite) vote(t *testing.T, c *http.Client, id, token string) (*url.URL, string) {
	t.Helper()
	resp, err := c.PostForm(rs.srv.URL()+"/roadmap/"+id+"/vote", url.Values{"token": {token}})
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.Request.URL, string(b)
}

func (rs *roadmapSite) votes(t *testing.T, id int) []request.Vote {
	t.Helper()
	it, err := rs.svc.Get(context.Background(), id)
	if err != nil {
		t.Fatal(err)
	}
	return it.Votes
}

func voteCount(page, id string) string {
	m := regexp.MustCompile(`id="votes-` + id + `">(\d+)<`).FindStringSubmatch(page)
	if m == nil {
		return ""
	}
	return m[1]
}

// One vote per platform account and item: the Discord member who voted in
// the community already is not counted again on the roadmap, a second
// roadmap vote is refused, and a Slack account counts separately.
func TestRoadmapVoteDedupe(t *testing.T) {
	rs := startRoadmap(t, "")
	anon := browser(t)
	_, page := fetchPage(t, anon, rs.srv.URL()+"/roadmap")
	for _, leak := range []string{memberName, memberText, discordVoter, "alice@example.com", "Secret internal item"} {
		if strings.Contains(page, leak) {
			t.Errorf("the public roadmap shows %q", leak)
		}
	}
	if !strings.Contains(page, "Public words for Export to CSV") || voteCount(page, "1") != "1" || voteCount(page, "3") != "" {
		t.Fatalf("roadmap before voting: #1 votes %q, #3 shown %q", voteCount(page, "1"), voteCount(page, "3"))
	}
	if strings.Contains(page, `action="/roadmap/1/vote"`) {
		t.Error("a visitor who is not signed in gets a vote form")
	}

	dc := browser(t)
	rs.discord.SignInAs(discordtest.User{ID: discordVoter, Name: memberName}, false)
	page = rs.signIn(t, dc, "discord")
	if !strings.Contains(page, `id="mine-1"`) || strings.Contains(page, `id="vote-1"`) {
		t.Error("#1 does not show the community vote as the signed-in member's own")
	}
	token := tokenRe.FindStringSubmatch(page)[1]
	for _, c := range []struct {
		id, want, count string
		votes           int
	}{
		{"1", "already=1", "1", 1}, // voted in the community: not counted twice
		{"2", "voted=2", "2", 2},   // #2 had one community vote, from someone else
		{"2", "already=2", "2", 2}, // and never twice
	} {
		at, page := rs.vote(t, dc, c.id, token)
		if at.RawQuery != c.want || voteCount(page, c.id) != c.count {
			t.Errorf("vote for #%s: at %s with %s votes, want %s and %s", c.id, at, voteCount(page, c.id), c.want, c.count)
		}
	}
	if n := len(rs.votes(t, 1)); n != 1 {
		t.Errorf("#1 has %d stored votes, want 1", n)
	}
	// Not on the roadmap: refused like an unknown item, nothing stored.
	if at, _ := rs.vote(t, dc, "3", token); at.RawQuery != "error=closed" || len(rs.votes(t, 3)) != 1 {
		t.Errorf("vote for the private #3: at %s, %d votes", at, len(rs.votes(t, 3)))
	}
	// Another visitor's token is refused: the form is bound to the sign-in.
	sl := browser(t)
	rs.slack.SignInAs(slackVoter, false)
	page = rs.signIn(t, sl, "slack")
	if at, _ := rs.vote(t, sl, "1", token); at.Path == "/roadmap" {
		t.Errorf("a Slack visitor voted with the Discord visitor's form token: %s", at)
	}
	at, page := rs.vote(t, sl, "1", tokenRe.FindStringSubmatch(page)[1])
	if at.RawQuery != "voted=1" || voteCount(page, "1") != "2" {
		t.Errorf("Slack vote for #1: at %s with %s votes, want 2", at, voteCount(page, "1"))
	}
	vs := rs.votes(t, 1)
	if len(vs) != 2 || vs[1].Platform != "slack" || vs[1].UserID != slackVoter {
		t.Errorf("#1's votes = %+v", vs)
	}
	// Signing out ends the voting session.
	resp, err := sl.PostForm(rs.srv.URL()+"/roadmap/logout", url.Values{"token": {tokenRe.FindStringSubmatch(page)[1]}})
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if _, page := fetchPage(t, sl, rs.srv.URL()+"/roadmap"); strings.Contains(page, "rm-signed-in") {
		t.Error("still signed in after signing out")
	}
}

// The callback only signs in the browser that started the sign-in, with
// the state it was given, once; PKCE is sent; the cookies are HttpOnly
// and SameSite=Lax.
func TestRoadmapOAuthState(t *testing.T) {
	rs := startRoadmap(t, "T0OTHER")
	rs.discord.SignInAs(discordtest.User{ID: "333000000000000003", Name: "Mallory"}, false)
	noFollow := func(c *http.Client) *http.Client {
		cc := *c
		cc.CheckRedirect = func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }
		return &cc
	}
	victim := browser(t)
	resp, _ := fetchPage(t, noFollow(victim), rs.srv.URL()+"/roadmap/login/discord")
	auth, err := url.Parse(resp.Header.Get("Location"))
	if err != nil || resp.StatusCode != http.StatusFound {
		t.Fatalf("login: HTTP %d to %q", resp.StatusCode, resp.Header.Get("Location"))
	}
	q := auth.Query()
	if q.Get("state") == "" || q.Get("code_challenge") == "" || q.Get("code_challenge_method") != "S256" || q.Get("scope") != "identify" {
		t.Errorf("authorize URL lacks state, PKCE or scope: %s", auth)
	}
	var stateCookie *http.Cookie
	for _, c := range resp.Cookies() {
		if c.Name == "einsatz_oauth" {
			stateCookie = c
		}
	}
	if stateCookie == nil || !stateCookie.HttpOnly || stateCookie.SameSite != http.SameSiteLaxMode || stateCookie.Secure {
		t.Errorf("state cookie = %+v, want HttpOnly, SameSite=Lax, not Secure on http", stateCookie)
	}
	resp, _ = fetchPage(t, noFollow(victim), auth.String()) // the provider sends the browser back
	callback := resp.Header.Get("Location")
	if !strings.HasPrefix(callback, rs.srv.URL()+"/roadmap/callback/discord?") {
		t.Fatalf("provider redirect = %q", callback)
	}

	// Another browser (an attacker's page) cannot use the callback: no
	// state cookie there.
	other := browser(t)
	if resp, _ := fetchPage(t, other, callback); resp.StatusCode != http.StatusForbidden {
		t.Errorf("callback in another browser: HTTP %d, want 403", resp.StatusCode)
	}
	// A changed state is refused, and uses up the sign-in.
	tampered, _ := url.Parse(callback)
	tq := tampered.Query()
	tq.Set("state", "forged-"+tq.Get("state"))
	tampered.RawQuery = tq.Encode()
	if resp, _ := fetchPage(t, noFollow(victim), tampered.String()); resp.StatusCode != http.StatusForbidden {
		t.Errorf("callback with a forged state: HTTP %d, want 403", resp.StatusCode)
	}
	if resp, _ := fetchPage(t, victim, callback); resp.StatusCode != http.StatusForbidden {
		t.Errorf("callback after the state cookie was spent: HTTP %d, want 403", resp.StatusCode)
	}
	if g := rs.discord.OAuthGrants(); g != 0 {
		t.Errorf("%d codes exchanged for refused callbacks", g)
	}

	// A clean sign-in: the voter cookie is HttpOnly and SameSite=Lax.
	fresh := browser(t)
	resp, _ = fetchPage(t, noFollow(fresh), rs.srv.URL()+"/roadmap/login/discord")
	resp, _ = fetchPage(t, noFollow(fresh), resp.Header.Get("Location"))
	resp, _ = fetchPage(t, noFollow(fresh), resp.Header.Get("Location"))
	var voterCookie *http.Cookie
	for _, c := range resp.Cookies() {
		if c.Name == "einsatz_voter" {
			voterCookie = c
		}
	}
	if resp.StatusCode != http.StatusSeeOther || voterCookie == nil || !voterCookie.HttpOnly || voterCookie.SameSite != http.SameSiteLaxMode {
		t.Errorf("sign-in: HTTP %d, voter cookie %+v", resp.StatusCode, voterCookie)
	}
	if g := rs.discord.OAuthGrants(); g != 1 {
		t.Errorf("codes exchanged = %d, want 1", g)
	}
	// Cancel on the consent page: back to the roadmap, not signed in.
	rs.discord.SignInAs(discordtest.User{ID: "444"}, true)
	if resp, page := fetchPage(t, browser(t), rs.srv.URL()+"/roadmap/login/discord"); resp.Request.URL.RawQuery != "error=login" || strings.Contains(page, "rm-signed-in") {
		t.Errorf("denied consent: at %s", resp.Request.URL)
	}
	// A Slack member of another workspace than slack.team_id is refused.
	rs.slack.SignInAs(slackVoter, false)
	if resp, page := fetchPage(t, browser(t), rs.srv.URL()+"/roadmap/login/slack"); resp.Request.URL.RawQuery != "error=login" || strings.Contains(page, "rm-signed-in") {
		t.Errorf("Slack sign-in from another workspace: at %s", resp.Request.URL)
	}
	// Voting without a sign-in is not possible.
	resp, err = browser(t).PostForm(rs.srv.URL()+"/roadmap/1/vote", url.Values{"token": {"x"}})
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if n := len(rs.votes(t, 1)); n != 1 || resp.Request.URL.Path != "/roadmap" {
		t.Errorf("vote without sign-in: %d votes, at %s", n, resp.Request.URL)
	}
}

func httptestRecorder(srv *web.Server, path string) *httptest.ResponseRecorder {
	rec := httptest.NewRecorder()
	srv.Handler().ServeHTTP(rec, httptest.NewRequest(http.MethodGet, path, nil))
	return rec
}

// The voter and state cookies are Secure when the site is served over
// https (web.public_url).
func TestRoadmapSecureCookies(t *testing.T) {
	store, err := storage.Open(storage.Options{InMemory: true, Logger: discard()})
	if err != nil {
		t.Fatal(err)
	}
	defer store.Close()
	svc := inbox.New(inbox.Options{Store: storage.NewInbox(store), Logger: discard()})
	srv, err := web.New(web.Options{Addr: "127.0.0.1:0", PublicURL: "https://roadmap.example", Store: store, Core: bot.New(bot.Options{Store: store, Logger: discard()}), Logger: discard()})
	if err != nil {
		t.Fatal(err)
	}
	srv.AddRoadmap(svc, web.RoadmapOptions{BaseURL: "https://roadmap.example", Providers: []web.OAuthProvider{web.DiscordProvider("id", "secret", "")}})
	rec := httptestRecorder(srv, "/roadmap/login/discord")
	loc, _ := url.Parse(rec.Header().Get("Location"))
	if loc.Host != "discord.com" || loc.Query().Get("redirect_uri") != "https://roadmap.example/roadmap/callback/discord" {
		t.Errorf("authorize URL = %s", loc)
	}
	if c := rec.Result().Cookies(); len(c) != 1 || !c[0].Secure || !c[0].HttpOnly {
		t.Errorf("state cookie on https: %+v", c)
	}
}
