package discordtest

import (
	"crypto/rand"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/base64"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"sync"
	"time"
)

// The OAuth2 authorization-code flow as a website uses it to learn who a
// visitor is (https://discord.com/developers/docs/topics/oauth2): the
// browser goes to /oauth2/authorize and, once the person clicks Authorize,
// back to the registered redirect URI with a code and the state; the site
// trades the code at /api/oauth2/token (client id and secret by HTTP Basic
// or in the form, the same redirect_uri, the PKCE code_verifier when a
// code_challenge was sent) for a Bearer token, and reads /api/users/@me
// with it. Codes are single use and expire after 10 minutes, as Discord's.

// OAuthApp is an application's OAuth2 client as set in the developer
// portal.
type OAuthApp struct {
	ClientID, ClientSecret string
	Redirects              []string // the registered redirect URIs, matched exactly
}

type oauthFake struct {
	mu     sync.Mutex
	apps   map[string]OAuthApp
	signed *User // the account logged in to discord.com in the browser
	deny   bool  // the person clicks Cancel
	codes  map[string]oauthCode
	tokens map[string]oauthToken
	grants int
}

type oauthCode struct {
	clientID, redirect, challenge, scope string
	user                                 User
	expires                              time.Time
}

type oauthToken struct {
	user    User
	scope   string
	expires time.Time
}

// AddOAuthApp registers an OAuth2 client.
func (s *Server) AddOAuthApp(app OAuthApp) {
	s.oauth.mu.Lock()
	defer s.oauth.mu.Unlock()
	if s.oauth.apps == nil {
		s.oauth.apps = map[string]OAuthApp{}
	}
	s.oauth.apps[app.ClientID] = app
}

// SignInAs makes u the account logged in to Discord in the browser who
// clicks Authorize on the consent page (deny: Cancel).
func (s *Server) SignInAs(u User, deny bool) {
	s.oauth.mu.Lock()
	defer s.oauth.mu.Unlock()
	s.oauth.signed, s.oauth.deny = &u, deny
}

// OAuthGrants counts the codes traded for tokens.
func (s *Server) OAuthGrants() int {
	s.oauth.mu.Lock()
	defer s.oauth.mu.Unlock()
	return s.oauth.grants
}

func oauthRandom() string {
	b := make([]byte, 24)
	_, _ = rand.Read(b)
	return base64.RawURLEncoding.EncodeToString(b)
}

func (s *Server) oauthAuthorize(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	o := &s.oauth
	o.mu.Lock()
	defer o.mu.Unlock()
	app, ok := o.apps[q.Get("client_id")]
	switch {
	case !ok:
		http.Error(w, "Unknown Application", http.StatusBadRequest)
		return
	case !slices.Contains(app.Redirects, q.Get("redirect_uri")):
		http.Error(w, "Invalid OAuth2 redirect_uri", http.StatusBadRequest)
		return
	case q.Get("response_type") != "code":
		http.Error(w, "Invalid response_type", http.StatusBadRequest)
		return
	case q.Get("scope") == "" || !slices.Contains(strings.Fields(q.Get("scope")), "identify"):
		http.Error(w, "Invalid scope (this fake grants identify)", http.StatusBadRequest)
		return
	case q.Get("code_challenge") != "" && q.Get("code_challenge_method") != "S256":
		http.Error(w, "Invalid code_challenge_method", http.StatusBadRequest)
		return
	case o.signed == nil:
		http.Error(w, "Log in to Discord first (SignInAs)", http.StatusUnauthorized)
		return
	}
	back, _ := url.Parse(q.Get("redirect_uri"))
	v := back.Query()
	if o.deny {
		v.Set("error", "access_denied")
		v.Set("error_description", "The resource owner or authorization server denied the request")
	} else {
		code := oauthRandom()
		if o.codes == nil {
			o.codes = map[string]oauthCode{}
		}
		o.codes[code] = oauthCode{clientID: app.ClientID, redirect: q.Get("redirect_uri"), challenge: q.Get("code_challenge"),
			scope: q.Get("scope"), user: *o.signed, expires: time.Now().Add(10 * time.Minute)}
		v.Set("code", code)
	}
	if st := q.Get("state"); st != "" {
		v.Set("state", st)
	}
	back.RawQuery = v.Encode()
	http.Redirect(w, r, back.String(), http.StatusFound)
}

func oauthError(w http.ResponseWriter, status int, code, desc string) {
	writeJSON(w, status, map[string]any{"error": code, "error_description": desc})
}

func (s *Server) oauthToken(w http.ResponseWriter, r *http.Request) {
	if err := r.ParseForm(); err != nil {
		oauthError(w, 400, "invalid_request", err.Error())
		return
	}
	id, secret, basic := r.BasicAuth()
	if !basic {
		id, secret = r.PostForm.Get("client_id"), r.PostForm.Get("client_secret")
	} else {
		id, _ = url.QueryUnescape(id)
		secret, _ = url.QueryUnescape(secret)
	}
	o := &s.oauth
	o.mu.Lock()
	defer o.mu.Unlock()
	app, ok := o.apps[id]
	if !ok || subtle.ConstantTimeCompare([]byte(secret), []byte(app.ClientSecret)) != 1 {
		oauthError(w, 401, "invalid_client", "")
		return
	}
	if g := r.PostForm.Get("grant_type"); g != "authorization_code" {
		oauthError(w, 400, "unsupported_grant_type", "")
		return
	}
	code, ok := o.codes[r.PostForm.Get("code")]
	delete(o.codes, r.PostForm.Get("code")) // single use, even when the exchange fails
	switch {
	case !ok || time.Now().After(code.expires) || code.clientID != id:
		oauthError(w, 400, "invalid_grant", `Invalid "code" in request.`)
		return
	case code.redirect != r.PostForm.Get("redirect_uri"):
		oauthError(w, 400, "invalid_grant", `Invalid "redirect_uri" in request.`)
		return
	case code.challenge != "" && !pkceMatches(code.challenge, r.PostForm.Get("code_verifier")):
		oauthError(w, 400, "invalid_grant", `Invalid "code_verifier" in request.`)
		return
	}
	tok := oauthRandom()
	if o.tokens == nil {
		o.tokens = map[string]oauthToken{}
	}
	o.tokens[tok] = oauthToken{user: code.user, scope: code.scope, expires: time.Now().Add(7 * 24 * time.Hour)}
	o.grants++
	writeJSON(w, 200, map[string]any{"access_token": tok, "token_type": "Bearer", "expires_in": 604800,
		"refresh_token": oauthRandom(), "scope": code.scope})
}

// pkceMatches checks an S256 code_verifier (RFC 7636) against the challenge.
func pkceMatches(challenge, verifier string) bool {
	sum := sha256.Sum256([]byte(verifier))
	return verifier != "" && subtle.ConstantTimeCompare([]byte(base64.RawURLEncoding.EncodeToString(sum[:])), []byte(challenge)) == 1
}

func (s *Server) oauthMe(w http.ResponseWriter, r *http.Request) {
	tok, ok := strings.CutPrefix(r.Header.Get("Authorization"), "Bearer ")
	o := &s.oauth
	o.mu.Lock()
	t, known := o.tokens[tok]
	o.mu.Unlock()
	if !ok || !known || time.Now().After(t.expires) {
		apiError(w, 401, 0, "401: Unauthorized")
		return
	}
	writeJSON(w, 200, userPayload(t.user))
}
