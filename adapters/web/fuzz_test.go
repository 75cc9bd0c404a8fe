package web

import (
	"net/url"
	"strconv"
	"strings"
	"testing"
	"time"
)

// FuzzSafeNext checks the redirect after login: the target is the input
// only when it is a path on this site, as a browser resolves it, and the
// dashboard otherwise.
func FuzzSafeNext(f *testing.F) {
	for _, s := range []string{
		"/dashboard/inbox?status=new", "/dashboard/support#open", "//evil.example", "/\t/evil.example",
		"/\\evil.example", "https://evil.example/", "dashboard", "", "/%2F%2Fevil.example", "/.//evil.example",
		"/a?next=//evil.example", "/\u3000/x", "javascript:alert(1)", "/..//evil.example", "/\x7f/x",
	} {
		f.Add(s)
	}
	base, err := url.Parse("https://einsatz.example/login?next=x")
	if err != nil {
		f.Fatal(err)
	}
	f.Fuzz(func(t *testing.T, next string) {
		got := safeNext(next)
		if got == "/dashboard" {
			return
		}
		if got != next {
			t.Fatalf("safeNext(%q) = %q: neither the input nor the dashboard", next, got)
		}
		// What a browser does to the URL before resolving it: drop tabs and
		// newlines, read "\" as "/" (in http and https URLs), trim C0
		// controls and spaces at the ends.
		clean := strings.NewReplacer("\t", "", "\n", "", "\r", "", "\\", "/").Replace(got)
		clean = strings.TrimFunc(clean, func(r rune) bool { return r <= 0x20 })
		if !strings.HasPrefix(clean, "/") || strings.HasPrefix(clean, "//") {
			t.Fatalf("safeNext(%q) lets a browser leave the path: %q", next, clean)
		}
		u, err := url.Parse(clean)
		if err != nil {
			t.Fatalf("safeNext(%q) returned an unparsable URL: %v", next, err)
		}
		if r := base.ResolveReference(u); r.Scheme != "https" || r.Host != "einsatz.example" || r.User != nil {
			t.Fatalf("safeNext(%q) leads to %s", next, r)
		}
	})
}

// FuzzPageToken checks chat page tokens: a token made by pageToken is
// valid until it expires, any other string is valid only if it is exactly
// what pageToken makes for its expiry, a changed token is refused, and a
// token of another server (another secret) is refused.
func FuzzPageToken(f *testing.F) {
	s := &Server{secret: []byte("0123456789abcdef0123456789abcdef")}
	other := &Server{secret: []byte("fedcba9876543210fedcba9876543210")}
	future := time.Now().Add(12 * time.Hour).Unix()
	valid := s.pageToken(time.Unix(future, 0))
	f.Add(future, valid, uint(0), byte('x'))
	f.Add(future, "+"+valid, uint(3), byte('0'))
	f.Add(int64(1), "1.", uint(1), byte('.'))
	f.Add(time.Now().Add(-time.Minute).Unix(), "9999999999.deadbeef", uint(12), byte('a'))
	f.Add(int64(-1)<<62, "", uint(0), byte(0))
	f.Fuzz(func(t *testing.T, expiry int64, tok string, at uint, b byte) {
		if s.validPageToken(tok) {
			exp, _, _ := strings.Cut(tok, ".")
			unix, _ := strconv.ParseInt(exp, 10, 64)
			if tok != s.pageToken(time.Unix(unix, 0)) {
				t.Fatalf("token %q is valid but was not made by pageToken", tok)
			}
		}
		made := s.pageToken(time.Unix(expiry, 0))
		// A second of margin: the clock moves between the calls.
		if now := time.Now().Unix(); expiry > now+1 && !s.validPageToken(made) || expiry < now-1 && s.validPageToken(made) {
			t.Fatalf("token %q for expiry %d (now %d): validity wrong", made, expiry, now)
		}
		if other.validPageToken(made) {
			t.Fatalf("token %q of another server accepted", made)
		}
		changed := []byte(made)
		changed[at%uint(len(changed))] = b
		if string(changed) != made && s.validPageToken(string(changed)) {
			t.Fatalf("changed token %q accepted (made %q)", changed, made)
		}
	})
}
