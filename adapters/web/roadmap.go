package web

import (
	"bytes"
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"html/template"
	"io"
	"net/http"
	"strconv"
	"strings"
	"time"

	"golang.org/x/oauth2"

	"github.com/einsatz/einsatz/bot/request"
	"github.com/einsatz/einsatz/handlers/inbox"
)

// RoadmapPath is the public roadmap (inbox.public_board).
const RoadmapPath = "/roadmap"

// Board is what the public roadmap reads and votes on; *inbox.Service
// implements it.
type Board interface {
	// Board returns the items staff put on the roadmap.
	Board(ctx context.Context) ([]request.Item, error)
	// BoardVote counts a visitor's vote once per platform account.
	BoardVote(ctx context.Context, id int, v request.Vote) (request.Item, bool, error)
}

// OAuthProvider is a platform visitors sign in with to vote. The vote is
// counted as that platform's user id, so it is the same person's vote as
// a +1 they gave in the community (never counted twice).
type OAuthProvider struct {
	// Platform is "discord" or "slack": the platform the user id is of.
	Platform string
	// Config holds the client id and secret, the endpoints and scopes;
	// its RedirectURL is set by AddRoadmap.
	Config oauth2.Config
	// UserInfoURL answers who the access token belongs to (Discord's
	// /api/users/@me, Slack's openid.connect.userInfo).
	UserInfoURL string
	// TeamID (Slack): only members of this workspace may vote ("" = any).
	TeamID string
}

// DiscordProvider is Discord's OAuth2 with the identify scope; base is
// Discord's address ("" = https://discord.com).
func DiscordProvider(clientID, secret, base string) OAuthProvider {
	base = strings.TrimRight(cmpOr(base, "https://discord.com"), "/")
	return OAuthProvider{Platform: "discord", UserInfoURL: base + "/api/users/@me", Config: oauth2.Config{
		ClientID: clientID, ClientSecret: secret, Scopes: []string{"identify"},
		Endpoint: oauth2.Endpoint{AuthURL: base + "/oauth2/authorize", TokenURL: base + "/api/oauth2/token", AuthStyle: oauth2.AuthStyleInHeader},
	}}
}

// SlackProvider is "Sign in with Slack" (OpenID Connect, scope openid);
// base is Slack's address ("" = https://slack.com).
func SlackProvider(clientID, secret, teamID, base string) OAuthProvider {
	base = strings.TrimRight(cmpOr(base, "https://slack.com"), "/")
	return OAuthProvider{Platform: "slack", TeamID: teamID, UserInfoURL: base + "/api/openid.connect.userInfo", Config: oauth2.Config{
		ClientID: clientID, ClientSecret: secret, Scopes: []string{"openid"},
		Endpoint: oauth2.Endpoint{AuthURL: base + "/openid/connect/authorize", TokenURL: base + "/api/openid.connect.token", AuthStyle: oauth2.AuthStyleInParams},
	}}
}

// RoadmapOptions configure the public roadmap.
type RoadmapOptions struct {
	Providers []OAuthProvider
	// BaseURL is where visitors reach the server (web.public_url): the
	// redirect URIs registered with the providers are
	// BaseURL/roadmap/callback/{platform}. "" takes the request's address.
	BaseURL string
	// Client makes the token and user info requests; default one with a
	// 10 s timeout.
	Client *http.Client
}

const (
	voterCookie = "einsatz_voter"
	oauthCookie = "einsatz_oauth"
	voterTTL    = 30 * 24 * time.Hour
	oauthTTL    = 10 * time.Minute
)

// AddRoadmap serves the public roadmap without staff login:
//
//	GET  /roadmap                      the items by status, with vote counts
//	GET  /roadmap/login/{platform}     to the provider (state and PKCE in a short cookie)
//	GET  /roadmap/callback/{platform}  back from it: state checked, code exchanged, signed in
//	POST /roadmap/{id}/vote            a signed-in visitor's vote (form token)
//	POST /roadmap/logout
//
// Visitors see titles, the public descriptions staff wrote and counts:
// never members' names, ids or messages. Call it before Run.
func (s *Server) AddRoadmap(b Board, o RoadmapOptions) {
	if o.Client == nil {
		o.Client = &http.Client{Timeout: 10 * time.Second}
	}
	rm := &roadmap{s: s, b: b, o: o, byName: map[string]OAuthProvider{}}
	for _, p := range o.Providers {
		rm.byName[p.Platform] = p
	}
	s.mux.HandleFunc("GET "+RoadmapPath, rm.page)
	s.mux.HandleFunc("GET "+RoadmapPath+"/login/{platform}", rm.login)
	s.mux.HandleFunc("GET "+RoadmapPath+"/callback/{platform}", rm.callback)
	s.mux.HandleFunc("POST "+RoadmapPath+"/{id}/vote", rm.vote)
	s.mux.HandleFunc("POST "+RoadmapPath+"/logout", rm.logout)
}

type roadmap struct {
	s      *Server
	b      Board
	o      RoadmapOptions
	byName map[string]OAuthProvider
}

// voter is a signed-in visitor, kept in a signed cookie (no server state).
type voter struct {
	Platform string `json:"p"`
	UserID   string `json:"u"`
	Nonce    string `json:"n"` // binds the vote form's token to this sign-in
	Expires  int64  `json:"e"`
}

// oauthState is one sign-in under way: the state sent to the provider and
// the PKCE verifier, in a short cookie of the browser that started it.
type oauthState struct {
	Platform string `json:"p"`
	State    string `json:"s"`
	Verifier string `json:"v"`
	Expires  int64  `json:"e"`
}

func (rm *roadmap) mac(kind string, payload []byte) []byte {
	m := hmac.New(sha256.New, rm.s.secret)
	m.Write([]byte(kind + "\x00"))
	m.Write(payload)
	return m.Sum(nil)
}

// seal signs v for a cookie of the given kind.
func (rm *roadmap) seal(kind string, v any) string {
	b, _ := json.Marshal(v)
	return base64.RawURLEncoding.EncodeToString(b) + "." + base64.RawURLEncoding.EncodeToString(rm.mac(kind, b))
}

// open checks a cookie's signature and reads it into v.
func (rm *roadmap) open(kind, value string, v any) bool {
	body, sig, ok := strings.Cut(value, ".")
	if !ok {
		return false
	}
	b, err1 := base64.RawURLEncoding.DecodeString(body)
	got, err2 := base64.RawURLEncoding.DecodeString(sig)
	if err1 != nil || err2 != nil || !hmac.Equal(got, rm.mac(kind, b)) {
		return false
	}
	return json.Unmarshal(b, v) == nil
}

func (rm *roadmap) secure(r *http.Request) bool {
	return rm.s.secureCookies() || r.TLS != nil
}

func (rm *roadmap) now() time.Time { return rm.s.opts.Clock.Now() }

// visitor returns the signed-in visitor, if any.
func (rm *roadmap) visitor(r *http.Request) (voter, bool) {
	var v voter
	c, err := r.Cookie(voterCookie)
	if err != nil || !rm.open(voterCookie, c.Value, &v) || rm.now().Unix() >= v.Expires {
		return voter{}, false
	}
	if _, ok := rm.byName[v.Platform]; !ok {
		return voter{}, false
	}
	return v, true
}

// formToken is the vote and logout forms' token for a sign-in.
func (rm *roadmap) formToken(v voter) string {
	return hex.EncodeToString(rm.mac("form", []byte(v.Nonce)))
}

func (rm *roadmap) baseURL(r *http.Request) string {
	if rm.o.BaseURL != "" {
		return strings.TrimRight(rm.o.BaseURL, "/")
	}
	scheme := "http"
	if r.TLS != nil || (rm.s.opts.TrustProxy && r.Header.Get("X-Forwarded-Proto") == "https") {
		scheme = "https"
	}
	return scheme + "://" + r.Host
}

// boardItem is all the roadmap shows of an item.
type boardItem struct {
	ID          int
	Title, Text string
	Votes       int
	Mine, Open  bool
}

type boardColumn struct {
	Status string
	Items  []boardItem
}

func (rm *roadmap) page(w http.ResponseWriter, r *http.Request) {
	items, err := rm.b.Board(r.Context())
	if err != nil {
		rm.s.log.Error("web: roadmap", "err", err)
		http.Error(w, "reading the roadmap failed", http.StatusInternalServerError)
		return
	}
	lang := requestLang(r)
	v, signedIn := rm.visitor(r)
	cols := make([]boardColumn, 0, len(inbox.BoardStatuses))
	for _, st := range inbox.BoardStatuses {
		col := boardColumn{Status: st}
		for _, it := range items {
			if inbox.BoardStatus(it.Status) != st {
				continue
			}
			bi := boardItem{ID: it.ID, Title: it.Title, Text: it.PublicText, Votes: it.VoteCount, Open: st != request.StatusShipped}
			for _, vt := range it.Votes {
				bi.Mine = bi.Mine || (signedIn && vt.Platform == v.Platform && vt.UserID == v.UserID)
			}
			col.Items = append(col.Items, bi)
		}
		cols = append(cols, col)
	}
	var providers []string
	for _, p := range rm.o.Providers {
		providers = append(providers, p.Platform)
	}
	q := r.URL.Query()
	data := map[string]any{
		"Lang": lang, "Chrome": lang, "BotName": rm.s.opts.BotName, "Columns": cols, "Total": len(items),
		"SignedIn": signedIn, "Platform": v.Platform, "Providers": providers, "Here": r.URL.RequestURI(),
		"Title": fmt.Sprintf(tr(lang, "rm_title"), rm.s.opts.BotName),
	}
	if signedIn {
		data["Token"] = rm.formToken(v)
	}
	switch {
	case q.Get("voted") != "":
		data["Flash"] = fmt.Sprintf(tr(lang, "rm_flash_voted"), atoiOr(q.Get("voted")))
	case q.Get("already") != "":
		data["Flash"] = fmt.Sprintf(tr(lang, "rm_flash_already"), atoiOr(q.Get("already")))
	case q.Get("error") == "login" || q.Get("error") == "closed":
		data["Problem"] = tr(lang, "rm_err_"+q.Get("error"))
	}
	var buf bytes.Buffer
	if err := pageTmpl(roadmapTmpl, lang).Execute(&buf, data); err != nil {
		rm.s.log.Error("web: roadmap", "err", err)
		http.Error(w, "rendering the page failed", http.StatusInternalServerError)
		return
	}
	h := w.Header()
	h.Set("Content-Type", "text/html; charset=utf-8")
	h.Set("X-Content-Type-Options", "nosniff")
	h.Set("X-Frame-Options", "DENY")
	h.Set("Content-Security-Policy", contentSecurityPolicy)
	h.Set("Cache-Control", "no-store") // the page carries the visitor's form token and votes
	h.Set("Referrer-Policy", "same-origin")
	_, _ = w.Write(buf.Bytes())
}

func atoiOr(s string) int {
	n, _ := strconv.Atoi(s)
	return n
}

// login starts a sign-in: a fresh state and PKCE verifier in a short
// cookie, then the provider's consent page.
func (rm *roadmap) login(w http.ResponseWriter, r *http.Request) {
	p, ok := rm.byName[r.PathValue("platform")]
	if !ok {
		http.NotFound(w, r)
		return
	}
	st := oauthState{Platform: p.Platform, State: randomToken(), Verifier: oauth2.GenerateVerifier(), Expires: rm.now().Add(oauthTTL).Unix()}
	http.SetCookie(w, &http.Cookie{Name: oauthCookie, Value: rm.seal(oauthCookie, st), Path: RoadmapPath + "/callback/",
		MaxAge: int(oauthTTL.Seconds()), HttpOnly: true, Secure: rm.secure(r), SameSite: http.SameSiteLaxMode})
	cfg := rm.config(p, r)
	w.Header().Set("Cache-Control", "no-store")
	http.Redirect(w, r, cfg.AuthCodeURL(st.State, oauth2.S256ChallengeOption(st.Verifier)), http.StatusFound)
}

func (rm *roadmap) config(p OAuthProvider, r *http.Request) oauth2.Config {
	cfg := p.Config
	cfg.RedirectURL = rm.baseURL(r) + RoadmapPath + "/callback/" + p.Platform
	return cfg
}

// errBadState is a callback whose state is not the one this browser sent.
var errBadState = errors.New("roadmap: sign-in state does not match")

// callback finishes a sign-in: the state must be the one in this
// browser's cookie (else another site started it), then the code is
// exchanged with the PKCE verifier and the user id read.
func (rm *roadmap) callback(w http.ResponseWriter, r *http.Request) {
	p, ok := rm.byName[r.PathValue("platform")]
	if !ok {
		http.NotFound(w, r)
		return
	}
	clear := &http.Cookie{Name: oauthCookie, Value: "", Path: RoadmapPath + "/callback/", MaxAge: -1, HttpOnly: true, Secure: rm.secure(r), SameSite: http.SameSiteLaxMode}
	var st oauthState
	c, err := r.Cookie(oauthCookie)
	q := r.URL.Query()
	if err != nil || !rm.open(oauthCookie, c.Value, &st) || st.Platform != p.Platform || rm.now().Unix() >= st.Expires ||
		q.Get("state") == "" || !hmac.Equal([]byte(q.Get("state")), []byte(st.State)) {
		rm.s.log.Warn("web: roadmap sign-in refused", "platform", p.Platform, "err", errBadState)
		http.SetCookie(w, clear)
		http.Error(w, "This sign-in was not started here or took too long. Go back to the roadmap and sign in again.", http.StatusForbidden)
		return
	}
	http.SetCookie(w, clear)
	if q.Get("error") != "" || q.Get("code") == "" { // the visitor said no
		http.Redirect(w, r, RoadmapPath+"?error=login", http.StatusSeeOther)
		return
	}
	userID, err := rm.identify(r.Context(), p, rm.config(p, r), q.Get("code"), st.Verifier)
	if err != nil {
		rm.s.log.Warn("web: roadmap sign-in failed", "platform", p.Platform, "err", err)
		http.Redirect(w, r, RoadmapPath+"?error=login", http.StatusSeeOther)
		return
	}
	v := voter{Platform: p.Platform, UserID: userID, Nonce: randomToken(), Expires: rm.now().Add(voterTTL).Unix()}
	http.SetCookie(w, &http.Cookie{Name: voterCookie, Value: rm.seal(voterCookie, v), Path: RoadmapPath,
		MaxAge: int(voterTTL.Seconds()), HttpOnly: true, Secure: rm.secure(r), SameSite: http.SameSiteLaxMode})
	http.Redirect(w, r, RoadmapPath, http.StatusSeeOther)
}

// identify exchanges the code and asks the provider whose token it is.
func (rm *roadmap) identify(ctx context.Context, p OAuthProvider, cfg oauth2.Config, code, verifier string) (string, error) {
	ctx = context.WithValue(ctx, oauth2.HTTPClient, rm.o.Client)
	tok, err := cfg.Exchange(ctx, code, oauth2.VerifierOption(verifier))
	if err != nil {
		return "", fmt.Errorf("token exchange: %w", err)
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, p.UserInfoURL, nil)
	if err != nil {
		return "", err
	}
	tok.SetAuthHeader(req)
	resp, err := rm.o.Client.Do(req)
	if err != nil {
		return "", fmt.Errorf("user info: %w", err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(io.LimitReader(resp.Body, 1<<20))
	if err != nil {
		return "", fmt.Errorf("user info: %w", err)
	}
	if resp.StatusCode != http.StatusOK {
		return "", fmt.Errorf("user info: HTTP %d", resp.StatusCode)
	}
	var info struct {
		ID     string `json:"id"` // Discord
		OK     *bool  `json:"ok"` // Slack
		Error  string `json:"error"`
		Sub    string `json:"sub"`
		UserID string `json:"https://slack.com/user_id"`
		TeamID string `json:"https://slack.com/team_id"`
	}
	if err := json.Unmarshal(body, &info); err != nil {
		return "", fmt.Errorf("user info: %w", err)
	}
	switch p.Platform {
	case "slack":
		if info.OK == nil || !*info.OK {
			return "", fmt.Errorf("user info: slack error %q", info.Error)
		}
		if p.TeamID != "" && info.TeamID != p.TeamID {
			return "", fmt.Errorf("user info: workspace %s is not %s", info.TeamID, p.TeamID)
		}
		if id := cmpOr(info.UserID, info.Sub); id != "" {
			return id, nil
		}
	default:
		if info.ID != "" {
			return info.ID, nil
		}
	}
	return "", errors.New("user info: no user id")
}

// vote counts the signed-in visitor's vote (once per account and item).
func (rm *roadmap) vote(w http.ResponseWriter, r *http.Request) {
	v, ok := rm.visitor(r)
	if !ok {
		http.Redirect(w, r, RoadmapPath+"#sign-in", http.StatusSeeOther)
		return
	}
	if !hmac.Equal([]byte(r.PostFormValue("token")), []byte(rm.formToken(v))) {
		http.Error(w, "The form is out of date. Reload the roadmap and try again.", http.StatusForbidden)
		return
	}
	id, err := strconv.Atoi(r.PathValue("id"))
	if err != nil || id <= 0 {
		http.NotFound(w, r)
		return
	}
	_, voted, err := rm.b.BoardVote(r.Context(), id, request.Vote{Platform: v.Platform, UserID: v.UserID, Time: rm.now()})
	switch {
	case errors.Is(err, request.ErrNotFound):
		http.Redirect(w, r, RoadmapPath+"?error=closed", http.StatusSeeOther)
	case err != nil:
		rm.s.log.Error("web: roadmap vote", "err", err)
		http.Error(w, "counting the vote failed", http.StatusInternalServerError)
	case voted:
		http.Redirect(w, r, fmt.Sprintf("%s?voted=%d#item-%d", RoadmapPath, id, id), http.StatusSeeOther)
	default:
		http.Redirect(w, r, fmt.Sprintf("%s?already=%d#item-%d", RoadmapPath, id, id), http.StatusSeeOther)
	}
}

func (rm *roadmap) logout(w http.ResponseWriter, r *http.Request) {
	if v, ok := rm.visitor(r); ok && !hmac.Equal([]byte(r.PostFormValue("token")), []byte(rm.formToken(v))) {
		http.Error(w, "The form is out of date. Reload the roadmap and try again.", http.StatusForbidden)
		return
	}
	http.SetCookie(w, &http.Cookie{Name: voterCookie, Value: "", Path: RoadmapPath, MaxAge: -1, HttpOnly: true, Secure: rm.secure(r), SameSite: http.SameSiteLaxMode})
	http.Redirect(w, r, RoadmapPath, http.StatusSeeOther)
}

var roadmapTmpl = template.Must(template.New("roadmap").Funcs(pageFuncs("en")).Funcs(template.FuncMap{"platformName": platformName}).Parse(`<!doctype html>
<html lang="{{.Lang}}">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>{{.Title}}</title>
<meta name="description" content="{{tf "rm_desc" .BotName}}">
<link rel="stylesheet" href="/static/style.css">
</head>
<body class="answers roadmap">
<a class="skip" href="#main">{{t "layout.skip"}}</a>
<header class="top">
<a class="brand" href="/roadmap">{{tf "rm_brand" .BotName}}</a>
<nav class="lang" aria-label="{{t "layout.language"}}">
<a href="/lang/en?next={{.Here}}" lang="en" hreflang="en" id="lang-en"{{if eq .Chrome "en"}} aria-current="true"{{end}}>English</a>
<a href="/lang/de?next={{.Here}}" lang="de" hreflang="de" id="lang-de"{{if eq .Chrome "de"}} aria-current="true"{{end}}>Deutsch</a>
</nav>
</header>
<main id="main" tabindex="-1">
<h1>{{t "rm_h1"}}</h1>
<p class="intro">{{t "rm_intro"}}</p>
{{with .Flash}}<p class="flash" id="rm-flash" role="status">{{.}}</p>{{end}}
{{with .Problem}}<p class="flash problem" id="rm-problem" role="alert">{{.}}</p>{{end}}
<section id="sign-in" class="rm-account" aria-label="{{t "rm_account"}}">
{{if .SignedIn}}<p id="rm-signed-in">{{tf "rm_signed_in" (platformName .Platform)}}</p>
<form method="post" action="/roadmap/logout"><input type="hidden" name="token" value="{{.Token}}"><button type="submit" class="secondary" id="rm-logout">{{t "rm_logout"}}</button></form>
{{else if .Providers}}<p>{{t "rm_sign_in_hint"}}</p>
<p class="rm-providers">{{range .Providers}}<a class="button" id="rm-login-{{.}}" href="/roadmap/login/{{.}}">{{tf "rm_sign_in" (platformName .)}}</a> {{end}}</p>
{{else}}<p>{{t "rm_no_voting"}}</p>{{end}}
</section>
{{if not .Total}}<p id="rm-empty">{{t "rm_empty"}}</p>{{end}}
<div class="rm-board">
{{range .Columns}}<section class="rm-col" id="col-{{.Status}}" aria-labelledby="h-{{.Status}}">
<h2 id="h-{{.Status}}">{{t (print "rm_col_" .Status)}} <span class="muted">({{len .Items}})</span></h2>
{{if .Items}}<ol class="ans-list rm-list">
{{range .Items}}<li id="item-{{.ID}}" data-id="{{.ID}}"><article>
<h3>{{.Title}}</h3>
{{with .Text}}<p>{{.}}</p>{{end}}
<p class="rm-votes"><span class="rm-count" id="votes-{{.ID}}">{{.Votes}}</span> {{if eq .Votes 1}}{{t "rm_vote_one"}}{{else}}{{t "rm_votes"}}{{end}}
{{if and .Open $.SignedIn}}{{if .Mine}}<span class="rm-mine" id="mine-{{.ID}}">· {{t "rm_you_voted"}}</span>{{else}}<form method="post" action="/roadmap/{{.ID}}/vote" class="rm-vote"><input type="hidden" name="token" value="{{$.Token}}"><button type="submit" id="vote-{{.ID}}" aria-label="{{tf "rm_vote_for" .Title}}">{{t "rm_vote"}}</button></form>{{end}}{{end}}</p>
</article></li>
{{end}}</ol>{{else}}<p class="muted">{{t "rm_col_empty"}}</p>{{end}}
</section>
{{end}}</div>
</main>
<footer class="ans-foot"><p class="muted small">{{t "rm_foot"}}</p></footer>
</body>
</html>
`))

func init() { dicts = append(dicts, roadmapDict) }

var roadmapDict = dict{
	"en": {"rm_brand": "%s roadmap", "rm_title": "Roadmap · %s", "rm_h1": "What we are working on",
		"rm_desc":    "The %s roadmap: requests from the community the team is reviewing, has planned, is building or has shipped.",
		"rm_intro":   "Requests from our community that the team is looking at, has planned, is building or has shipped. Vote for what matters to you.",
		"rm_account": "Your account", "rm_signed_in": "Signed in with %s. Your vote counts once per item, also if you voted in the community already.",
		"rm_logout": "Sign out", "rm_sign_in_hint": "Sign in to vote. We only learn your account id, to count one vote per person.",
		"rm_sign_in": "Sign in with %s", "rm_no_voting": "Voting is not open.", "rm_empty": "Nothing is on the roadmap yet.",
		"rm_col_under_review": "Under review", "rm_col_planned": "Planned", "rm_col_in_progress": "In progress", "rm_col_shipped": "Done",
		"rm_col_empty": "Nothing here right now.", "rm_votes": "votes", "rm_vote_one": "vote", "rm_vote": "Vote", "rm_vote_for": "Vote for %s",
		"rm_you_voted": "you voted", "rm_flash_voted": "Thank you, your vote for #%d is counted.",
		"rm_flash_already": "You voted for #%d already; each person counts once.",
		"rm_err_login":     "Signing in did not work. Please try again.", "rm_err_closed": "That item is not open for votes.",
		"rm_foot": "Titles and descriptions are written by the team; names and messages from the community are never shown.",
		// The dashboard item page's roadmap form.
		"inbox.public_h": "Public roadmap", "inbox.public_on": "Show on the public roadmap", "inbox.public_text": "Public description (everyone can read it)",
		"inbox.public_save": "Save roadmap settings", "inbox.public_hint": "Visitors see the title, this description and the vote count — no names, messages or ids.",
		"inbox.public_is_on": "on the roadmap", "inbox.public_is_off": "not on the roadmap", "inbox.flash_public": "Roadmap settings saved."},
	"de": {"rm_brand": "%s-Roadmap", "rm_title": "Roadmap · %s", "rm_h1": "Woran wir arbeiten",
		"rm_desc":    "Die %s-Roadmap: Wünsche aus der Community, die das Team prüft, geplant hat, umsetzt oder fertig hat.",
		"rm_intro":   "Wünsche aus unserer Community, die das Team prüft, geplant hat, umsetzt oder fertig hat. Stimme für das, was dir wichtig ist.",
		"rm_account": "Dein Konto", "rm_signed_in": "Angemeldet mit %s. Deine Stimme zählt einmal pro Eintrag, auch wenn du in der Community schon abgestimmt hast.",
		"rm_logout": "Abmelden", "rm_sign_in_hint": "Melde dich zum Abstimmen an. Wir erfahren nur deine Konto-ID, um eine Stimme pro Person zu zählen.",
		"rm_sign_in": "Mit %s anmelden", "rm_no_voting": "Die Abstimmung ist nicht geöffnet.", "rm_empty": "Noch steht nichts auf der Roadmap.",
		"rm_col_under_review": "In Prüfung", "rm_col_planned": "Geplant", "rm_col_in_progress": "In Arbeit", "rm_col_shipped": "Fertig",
		"rm_col_empty": "Gerade nichts.", "rm_votes": "Stimmen", "rm_vote_one": "Stimme", "rm_vote": "Abstimmen", "rm_vote_for": "Für %s abstimmen",
		"rm_you_voted": "du hast abgestimmt", "rm_flash_voted": "Danke, deine Stimme für #%d zählt.",
		"rm_flash_already": "Du hast für #%d schon abgestimmt; jede Person zählt einmal.",
		"rm_err_login":     "Die Anmeldung hat nicht geklappt. Bitte versuche es noch einmal.", "rm_err_closed": "Für diesen Eintrag kann man nicht abstimmen.",
		"rm_foot":        "Titel und Beschreibungen schreibt das Team; Namen und Nachrichten aus der Community werden nie gezeigt.",
		"inbox.public_h": "Öffentliche Roadmap", "inbox.public_on": "Auf der öffentlichen Roadmap zeigen", "inbox.public_text": "Öffentliche Beschreibung (für alle lesbar)",
		"inbox.public_save": "Roadmap-Einstellungen speichern", "inbox.public_hint": "Besucher sehen den Titel, diese Beschreibung und die Stimmenzahl — keine Namen, Nachrichten oder IDs.",
		"inbox.public_is_on": "auf der Roadmap", "inbox.public_is_off": "nicht auf der Roadmap", "inbox.flash_public": "Roadmap-Einstellungen gespeichert."},
}
