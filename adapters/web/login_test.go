package web_test

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"golang.org/x/crypto/bcrypt"

	"github.com/einsatz/einsatz/adapters/web"
	"github.com/einsatz/einsatz/storage"
)

// Failed logins are throttled per client IP and per account, and audited;
// a name without an account is audited without what was typed.
func TestLoginThrottledPerIPAndAccount(t *testing.T) {
	hash, err := bcrypt.GenerateFromPassword([]byte("correct horse"), bcrypt.MinCost)
	if err != nil {
		t.Fatal(err)
	}
	s := startSite(t, web.Options{TrustProxy: true, Accounts: []web.Account{
		{Name: "anna", Role: "admin", PasswordHash: string(hash)},
		{Name: "ben", Role: "staff", Token: "ben-token-0123456789"},
	}}, nil)
	c := noRedirect(newJar(t))
	csrf := csrfFrom(t, c, s.URL()+"/login")
	login := func(ip, name, secret string) int {
		t.Helper()
		form := url.Values{"csrf": {csrf}, "name": {name}, "secret": {secret}}
		req, err := http.NewRequest(http.MethodPost, s.URL()+"/login", strings.NewReader(form.Encode()))
		if err != nil {
			t.Fatal(err)
		}
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		req.Header.Set("X-Forwarded-For", ip)
		resp, err := c.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		return resp.StatusCode
	}
	// Per account: wrong guesses for anna from many addresses.
	for i := range 5 {
		if got := login("192.0.2."+string(rune('1'+i)), "anna", "guess"); got != http.StatusUnauthorized {
			t.Fatalf("wrong password %d: %d, want 401", i, got)
		}
	}
	if got := login("198.51.100.7", "anna", "correct horse"); got != http.StatusTooManyRequests {
		t.Fatalf("anna after 5 failures, from a fresh address: %d, want 429", got)
	}
	if got := login("198.51.100.7", "ben", "ben-token-0123456789"); got != http.StatusSeeOther {
		t.Fatalf("another account from that address: %d, want 303", got)
	}
	// Per IP: one address guessing names.
	for _, name := range []string{"root", "admin", "alice", "bob", "carol"} {
		if got := login("203.0.113.5", name, "guess"); got != http.StatusUnauthorized {
			t.Fatalf("unknown name %s: %d, want 401", name, got)
		}
	}
	if got := login("203.0.113.5", "ben", "ben-token-0123456789"); got != http.StatusTooManyRequests {
		t.Fatalf("right token from a throttled address: %d, want 429", got)
	}

	audit, err := s.store.Audit(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	var annaFails, unknownFails int
	for _, e := range audit {
		if e.Action != "login failed" {
			continue
		}
		switch e.Actor {
		case "anna":
			annaFails++
		case "(no such account)":
			unknownFails++
		default:
			t.Errorf("failed login audited as %q: a typed name without an account is not kept", e.Actor)
		}
		if !strings.HasPrefix(e.Target, "from ") {
			t.Errorf("failed login without the address: %+v", e)
		}
	}
	if annaFails != 5 || unknownFails != 5 {
		t.Fatalf("audited failures: anna %d, unknown %d; want 5 and 5 (%+v)", annaFails, unknownFails, audit)
	}
}

// A one-time login link stored by an earlier start no longer logs in; this
// start's link does, once.
func TestOneTimeLoginLinkOfEarlierStartRefused(t *testing.T) {
	s := startSite(t, web.Options{}, nil)
	old := "code-printed-by-the-previous-start"
	if err := s.store.AddLoginCode(context.Background(), hashOf(old), storage.LoginCode{Name: "admin", Role: "admin"}, 24*time.Hour); err != nil {
		t.Fatal(err)
	}
	c := noRedirect(newJar(t))
	resp, err := c.Get(s.URL() + "/login?code=" + url.QueryEscape(old))
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusForbidden {
		t.Fatalf("earlier start's link: %d, want 403", resp.StatusCode)
	}
	resp, err = c.Get(s.LoginURL())
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusSeeOther {
		t.Fatalf("this start's link: %d, want 303", resp.StatusCode)
	}
}

// hashOf is how the server stores login codes (SHA-256, hex).
func hashOf(code string) string {
	sum := sha256.Sum256([]byte(code))
	return hex.EncodeToString(sum[:])
}
