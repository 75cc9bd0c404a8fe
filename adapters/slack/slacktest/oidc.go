package slacktest

import (
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/base64"
	"encoding/json"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"sync"
	"time"
)

// "Sign in with Slack" (https://api.slack.com/authentication/sign-in-with-slack),
// OpenID Connect's authorization-code flow: the browser goes to
// /openid/connect/authorize (scope openid) and back to the app's redirect
// URI with a code and the state; the app trades the code at
// openid.connect.token (client_id and client_secret in the form or by
// HTTP Basic, the same redirect_uri) for a user token and an id_token,
// and asks openid.connect.userInfo who it is. Like every Web API method
// they answer 200 with "ok": false and an error on failure. Codes are
// single use and expire after 10 minutes. A code_challenge (PKCE, S256)
// is checked when one was sent. The id_token is signed with HS256 and the
// client secret (Slack signs with RS256; apps here read userInfo).

// OIDCApp is an app's Sign in with Slack client.
type OIDCApp struct {
	ClientID, ClientSecret string
	Redirects              []string // matched exactly
}

type oidcFake struct {
	mu     sync.Mutex
	apps   map[string]OIDCApp
	signed string // user id signed in to the workspace in the browser
	deny   bool
	codes  map[string]oidcCode
	tokens map[string]string // user token → user id
}

type oidcCode struct {
	clientID, redirect, challenge, nonce, user string
	expires                                    time.Time
}

// AddOIDCApp registers a Sign in with Slack client.
func (s *Server) AddOIDCApp(app OIDCApp) {
	s.oidc.mu.Lock()
	defer s.oidc.mu.Unlock()
	if s.oidc.apps == nil {
		s.oidc.apps = map[string]OIDCApp{}
	}
	s.oidc.apps[app.ClientID] = app
}

// SignInAs makes userID (of the fake's workspace, DefaultTeamID) the
// person signed in in the browser who clicks Allow (deny: Cancel).
func (s *Server) SignInAs(userID string, deny bool) {
	s.oidc.mu.Lock()
	defer s.oidc.mu.Unlock()
	s.oidc.signed, s.oidc.deny = userID, deny
}

func oidcRandom() string {
	b := make([]byte, 24)
	_, _ = rand.Read(b)
	return base64.RawURLEncoding.EncodeToString(b)
}

func (s *Server) oidcAuthorize(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	o := &s.oidc
	o.mu.Lock()
	defer o.mu.Unlock()
	app, ok := o.apps[q.Get("client_id")]
	switch {
	case !ok:
		http.Error(w, "invalid_client_id", http.StatusBadRequest)
		return
	case !slices.Contains(app.Redirects, q.Get("redirect_uri")):
		http.Error(w, "bad_redirect_uri", http.StatusBadRequest)
		return
	case q.Get("response_type") != "code" || !slices.Contains(strings.Fields(q.Get("scope")), "openid"):
		http.Error(w, "invalid_scope", http.StatusBadRequest)
		return
	case o.signed == "":
		http.Error(w, "sign in to the workspace first (SignInAs)", http.StatusUnauthorized)
		return
	}
	back, _ := url.Parse(q.Get("redirect_uri"))
	v := back.Query()
	if o.deny {
		v.Set("error", "access_denied")
	} else {
		code := oidcRandom()
		if o.codes == nil {
			o.codes = map[string]oidcCode{}
		}
		o.codes[code] = oidcCode{clientID: app.ClientID, redirect: q.Get("redirect_uri"), challenge: q.Get("code_challenge"),
			nonce: q.Get("nonce"), user: o.signed, expires: time.Now().Add(10 * time.Minute)}
		v.Set("code", code)
	}
	if st := q.Get("state"); st != "" {
		v.Set("state", st)
	}
	back.RawQuery = v.Encode()
	http.Redirect(w, r, back.String(), http.StatusFound)
}

func (s *Server) oidcToken(w http.ResponseWriter, r *http.Request) {
	if err := r.ParseForm(); err != nil {
		writeJSON(w, http.StatusOK, fail("invalid_form_data"))
		return
	}
	id, secret, basic := r.BasicAuth()
	if !basic {
		id, secret = r.Form.Get("client_id"), r.Form.Get("client_secret")
	}
	o := &s.oidc
	o.mu.Lock()
	defer o.mu.Unlock()
	app, ok := o.apps[id]
	switch {
	case id == "":
		writeJSON(w, http.StatusOK, fail("invalid_client_id"))
		return
	case !ok:
		writeJSON(w, http.StatusOK, fail("invalid_client_id"))
		return
	case subtle.ConstantTimeCompare([]byte(secret), []byte(app.ClientSecret)) != 1:
		writeJSON(w, http.StatusOK, fail("bad_client_secret"))
		return
	}
	code, ok := o.codes[r.Form.Get("code")]
	delete(o.codes, r.Form.Get("code"))
	switch {
	case !ok || time.Now().After(code.expires) || code.clientID != id:
		writeJSON(w, http.StatusOK, fail("invalid_code"))
		return
	case code.redirect != r.Form.Get("redirect_uri"):
		writeJSON(w, http.StatusOK, fail("bad_redirect_uri"))
		return
	case code.challenge != "" && !pkceMatches(code.challenge, r.Form.Get("code_verifier")):
		writeJSON(w, http.StatusOK, fail("invalid_code_verifier"))
		return
	}
	tok := "xoxp-" + oidcRandom()
	if o.tokens == nil {
		o.tokens = map[string]string{}
	}
	o.tokens[tok] = code.user
	now := time.Now()
	claims := obj{"iss": "https://slack.com", "sub": code.user, "aud": id, "exp": now.Add(time.Hour).Unix(), "iat": now.Unix(),
		"auth_time": now.Unix(), "https://slack.com/user_id": code.user, "https://slack.com/team_id": DefaultTeamID}
	if code.nonce != "" {
		claims["nonce"] = code.nonce
	}
	writeJSON(w, http.StatusOK, obj{"ok": true, "access_token": tok, "token_type": "Bearer", "id_token": idToken(claims, app.ClientSecret)})
}

func idToken(claims obj, key string) string {
	enc := func(v any) string { b, _ := json.Marshal(v); return base64.RawURLEncoding.EncodeToString(b) }
	head := enc(obj{"alg": "HS256", "typ": "JWT"}) + "." + enc(claims)
	m := hmac.New(sha256.New, []byte(key))
	m.Write([]byte(head))
	return head + "." + base64.RawURLEncoding.EncodeToString(m.Sum(nil))
}

func pkceMatches(challenge, verifier string) bool {
	sum := sha256.Sum256([]byte(verifier))
	return verifier != "" && subtle.ConstantTimeCompare([]byte(base64.RawURLEncoding.EncodeToString(sum[:])), []byte(challenge)) == 1
}

func (s *Server) oidcUserInfo(w http.ResponseWriter, r *http.Request) {
	tok, ok := strings.CutPrefix(r.Header.Get("Authorization"), "Bearer ")
	if !ok {
		_ = r.ParseForm()
		tok = r.Form.Get("token")
	}
	if tok == "" {
		writeJSON(w, http.StatusOK, fail("not_authed"))
		return
	}
	s.oidc.mu.Lock()
	user, known := s.oidc.tokens[tok]
	s.oidc.mu.Unlock()
	if !known {
		writeJSON(w, http.StatusOK, fail("invalid_auth"))
		return
	}
	name := user
	s.mu.Lock()
	if u, ok := s.users[user]; ok {
		name = u.Name
	}
	s.mu.Unlock()
	writeJSON(w, http.StatusOK, obj{"ok": true, "sub": user, "https://slack.com/user_id": user, "https://slack.com/team_id": DefaultTeamID,
		"name": name, "https://slack.com/team_name": "Fake"})
}
