package web

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/einsatz/einsatz/storage"
)

const (
	sessionCookie = "einsatz_session"
	csrfCookie    = "einsatz_csrf"
	sessionTTL    = 12 * time.Hour
)

type ctxKey struct{}

// Staff is who is logged in (dashboard) or authenticated (admin API).
type Staff struct {
	Name string
	Role string
}

func sessionFrom(ctx context.Context) (Staff, bool) {
	s, ok := ctx.Value(ctxKey{}).(Staff)
	return s, ok
}

// StaffFrom returns the staff member a dashboard page or admin API request
// belongs to, so features can record who did what.
func StaffFrom(r *http.Request) (Staff, bool) { return sessionFrom(r.Context()) }

func randomBytes(n int) []byte {
	b := make([]byte, n)
	if _, err := rand.Read(b); err != nil {
		panic("web: no randomness: " + err.Error()) // crypto/rand does not fail on Linux
	}
	return b
}

func randomToken() string { return base64.RawURLEncoding.EncodeToString(randomBytes(32)) }

// hashToken is how secrets are stored: never the secret itself.
func hashToken(tok string) string {
	sum := sha256.Sum256([]byte(tok))
	return hex.EncodeToString(sum[:])
}

func equal(a, b string) bool { return subtle.ConstantTimeCompare([]byte(a), []byte(b)) == 1 }

func (s *Server) secureCookies() bool { return strings.HasPrefix(s.opts.PublicURL, "https://") }

// staffOnly lets logged-in staff through and sends everyone else to the
// login page.
func (s *Server) staffOnly(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		// Every dashboard response (pages, CSV and JSON exports) holds staff
		// or member data: not for any cache.
		w.Header().Set("Cache-Control", "no-store")
		c, err := r.Cookie(sessionCookie)
		if err == nil {
			sess, err := s.opts.Store.Session(r.Context(), hashToken(c.Value))
			if err == nil && !s.accountExists(sess.Name) {
				err = storage.ErrNotFound // the account was removed or renamed
			}
			if err == nil {
				ctx := context.WithValue(r.Context(), ctxKey{}, Staff{Name: sess.Name, Role: sess.Role})
				next.ServeHTTP(w, r.WithContext(ctx))
				return
			}
			if !errors.Is(err, storage.ErrNotFound) {
				s.log.Error("web: reading session", "err", err)
			}
		}
		http.Redirect(w, r, "/login?next="+url.QueryEscape(r.URL.Path), http.StatusSeeOther)
	})
}

// bearerOnly guards the JSON admin API: a staff account's token or the
// local credential of this server, as "Authorization: Bearer TOKEN".
func (s *Server) bearerOnly(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Cache-Control", "no-store")
		tok, ok := strings.CutPrefix(r.Header.Get("Authorization"), "Bearer ")
		if ok && tok != "" {
			if staff, found := s.tokenStaff(tok); found {
				next.ServeHTTP(w, r.WithContext(context.WithValue(r.Context(), ctxKey{}, staff)))
				return
			}
		}
		w.Header().Set("WWW-Authenticate", `Bearer realm="einsatz"`)
		jsonError(w, http.StatusUnauthorized, "admin API: send Authorization: Bearer <token> (a staff token, or the local credential in the data directory)")
	})
}

// accountExists tells whether a session's name still has an account. With
// no accounts configured, the one-time login's "admin" is the account.
func (s *Server) accountExists(name string) bool {
	if len(s.opts.Accounts) == 0 {
		return name == "admin"
	}
	for _, a := range s.opts.Accounts {
		if a.Name == name {
			return true
		}
	}
	return false
}

// AdminOnly lets only staff with the admin role through (after
// bearerOnly or staffOnly put them on the request): backups, imports,
// export and erasure of members' data.
func AdminOnly(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if staff, ok := StaffFrom(r); !ok || staff.Role != "admin" {
			jsonError(w, http.StatusForbidden, "this needs a staff account with the admin role")
			return
		}
		next.ServeHTTP(w, r)
	})
}

func (s *Server) tokenStaff(tok string) (Staff, bool) {
	if equal(tok, s.adminKey) {
		return Staff{Name: "local-cli", Role: "admin"}, true
	}
	for _, a := range s.opts.Accounts {
		if a.Token != "" && equal(tok, a.Token) {
			return Staff{Name: a.Name, Role: a.Role}, true
		}
	}
	return Staff{}, false
}

// csrfToken returns the form token, setting its cookie when missing
// (double-submit: a form post must carry the same value as the cookie,
// which another site can neither read nor set).
func (s *Server) csrfToken(w http.ResponseWriter, r *http.Request) string {
	if c, err := r.Cookie(csrfCookie); err == nil && len(c.Value) >= 32 {
		return c.Value
	}
	tok := randomToken()
	http.SetCookie(w, &http.Cookie{Name: csrfCookie, Value: tok, Path: "/", HttpOnly: true, Secure: s.secureCookies(), SameSite: http.SameSiteStrictMode})
	return tok
}

func validCSRF(r *http.Request) bool {
	c, err := r.Cookie(csrfCookie)
	if err != nil || len(c.Value) < 32 {
		return false
	}
	return equal(c.Value, r.PostFormValue("csrf"))
}

func (s *Server) startSession(ctx context.Context, w http.ResponseWriter, staff Staff) error {
	tok := randomToken()
	if err := s.opts.Store.AddSession(ctx, hashToken(tok), storage.Session{Name: staff.Name, Role: staff.Role, Created: time.Now()}, sessionTTL); err != nil {
		return err
	}
	s.setSessionCookie(w, tok)
	return nil
}

func (s *Server) setSessionCookie(w http.ResponseWriter, tok string) {
	http.SetCookie(w, &http.Cookie{Name: sessionCookie, Value: tok, Path: "/", HttpOnly: true, Secure: s.secureCookies(),
		SameSite: http.SameSiteLaxMode, MaxAge: int(sessionTTL.Seconds())})
}

func (s *Server) audit(ctx context.Context, actor, action, target string) {
	if err := s.opts.Store.AddAudit(ctx, storage.AuditEntry{Time: time.Now(), Actor: actor, Action: action, Target: target}); err != nil {
		s.log.Error("web: audit", "action", action, "err", err)
	}
}

// loginPage shows the login form, or redeems a one-time login link.
func (s *Server) loginPage(w http.ResponseWriter, r *http.Request) {
	code := r.URL.Query().Get("code")
	if code == "" {
		s.render(w, r, http.StatusOK, "login.html", map[string]any{"CSRF": s.csrfToken(w, r), "Next": safeNext(r.URL.Query().Get("next"))})
		return
	}
	tok := randomToken()
	var sess storage.Session
	err := storage.ErrNotFound
	// Only this start's link: one printed by an earlier start may sit in
	// an old terminal's scrollback or log for its whole 24 hours.
	if s.loginHash != "" && equal(hashToken(code), s.loginHash) {
		sess, err = s.opts.Store.RedeemLoginCode(r.Context(), hashToken(code), hashToken(tok), time.Now(), sessionTTL)
	}
	if errors.Is(err, storage.ErrNotFound) {
		s.render(w, r, http.StatusForbidden, "login.html", map[string]any{"CSRF": s.csrfToken(w, r),
			"Error": tr(requestLang(r), "login.used")})
		return
	}
	if err != nil {
		s.log.Error("web: redeem login link", "err", err)
		http.Error(w, "login failed", http.StatusInternalServerError)
		return
	}
	s.setSessionCookie(w, tok)
	s.audit(r.Context(), sess.Name, "login", "one-time link")
	http.Redirect(w, r, "/dashboard", http.StatusSeeOther)
}

func (s *Server) loginForm(w http.ResponseWriter, r *http.Request) {
	r.Body = http.MaxBytesReader(w, r.Body, 16<<10)
	if !validCSRF(r) {
		http.Error(w, "missing or invalid CSRF token: reload the page and try again", http.StatusForbidden)
		return
	}
	name, secret := r.PostFormValue("name"), r.PostFormValue("secret")
	var acc *Account
	for i := range s.opts.Accounts {
		if s.opts.Accounts[i].Name == name {
			acc = &s.opts.Accounts[i]
			break
		}
	}
	accountKey := ""
	if acc != nil {
		accountKey = acc.Name
	}
	ip := s.clientIP(r)
	if s.loginThrottled(ip, accountKey) {
		s.log.Warn("web: login throttled after failed attempts", "ip", ip, "account", accountKey)
		w.Header().Set("Retry-After", strconv.Itoa(int(loginFailRefill.Seconds())))
		s.render(w, r, http.StatusTooManyRequests, "login.html", map[string]any{"CSRF": s.csrfToken(w, r), "Next": safeNext(r.PostFormValue("next")),
			"Error": tr(requestLang(r), "login.throttled")})
		return
	}
	if !s.checkSecret(acc, secret) {
		s.loginFailed(ip, accountKey)
		actor := accountKey
		if actor == "" {
			actor = "(no such account)" // what was typed may be a password: not kept
		}
		s.audit(r.Context(), actor, "login failed", "from "+ip)
		s.render(w, r, http.StatusUnauthorized, "login.html", map[string]any{"CSRF": s.csrfToken(w, r), "Error": tr(requestLang(r), "login.wrong")})
		return
	}
	if err := s.startSession(r.Context(), w, Staff{Name: acc.Name, Role: acc.Role}); err != nil {
		s.log.Error("web: start session", "err", err)
		http.Error(w, "login failed", http.StatusInternalServerError)
		return
	}
	s.audit(r.Context(), acc.Name, "login", "password or token")
	http.Redirect(w, r, safeNext(r.PostFormValue("next")), http.StatusSeeOther)
}

func (s *Server) logout(w http.ResponseWriter, r *http.Request) {
	if !validCSRF(r) {
		http.Error(w, "missing or invalid CSRF token: reload the page and try again", http.StatusForbidden)
		return
	}
	if c, err := r.Cookie(sessionCookie); err == nil {
		if err := s.opts.Store.DeleteSession(r.Context(), hashToken(c.Value)); err != nil {
			s.log.Error("web: end session", "err", err)
		}
	}
	staff, _ := sessionFrom(r.Context())
	s.audit(r.Context(), staff.Name, "logout", "")
	http.SetCookie(w, &http.Cookie{Name: sessionCookie, Value: "", Path: "/", MaxAge: -1, HttpOnly: true, Secure: s.secureCookies()})
	http.Redirect(w, r, "/login", http.StatusSeeOther)
}

// safeNext keeps redirects after login on this site.
// Browsers drop tabs and newlines from URLs, so "/\t/evil.example" would
// become "//evil.example": any control character is refused too.
func safeNext(next string) string {
	u, err := url.Parse(next)
	ok := err == nil && u.Scheme == "" && u.Host == "" && strings.HasPrefix(next, "/") &&
		!strings.HasPrefix(next, "//") && !strings.Contains(next, "\\") &&
		!strings.ContainsFunc(next, func(r rune) bool { return r < 0x20 || r == 0x7f })
	if ok {
		return next
	}
	return "/dashboard"
}
