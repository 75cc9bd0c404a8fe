package web

import (
	"errors"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestSafeNext(t *testing.T) {
	tests := map[string]string{
		"/dashboard/inbox?status=new": "/dashboard/inbox?status=new",
		"//evil.example":              "/dashboard",
		"/\t/evil.example":            "/dashboard",
		"/\n/evil.example":            "/dashboard",
		"/\\evil.example":             "/dashboard",
		"https://evil.example/":       "/dashboard",
		"dashboard":                   "/dashboard",
		"":                            "/dashboard",
	}
	for in, want := range tests {
		if got := safeNext(in); got != want {
			t.Errorf("safeNext(%q) = %q, want %q", in, got, want)
		}
	}
}

func TestClientIPBehindProxyTakesTheProxysEntry(t *testing.T) {
	s := &Server{opts: Options{TrustProxy: true}}
	r := httptest.NewRequest("POST", "/api/chat", nil)
	r.RemoteAddr = "10.0.0.2:1234"
	r.Header.Set("X-Forwarded-For", "1.2.3.4, 203.0.113.9") // the client wrote the first
	if got := s.clientIP(r); got != "203.0.113.9" {
		t.Fatalf("clientIP = %q, want the entry our proxy appended", got)
	}
	s.opts.TrustProxy = false
	if got := s.clientIP(r); got != "10.0.0.2" {
		t.Fatalf("clientIP without trust = %q", got)
	}
}

// Every login attempt costs one bcrypt comparison, whether the name has a
// password, a token or no account at all: the answer's timing does not
// tell which names exist.
func TestCheckSecretComparesOneHashForEveryName(t *testing.T) {
	s := &Server{opts: Options{Accounts: []Account{
		{Name: "anna", PasswordHash: "$2a$04$Qaor/cN/4AxwDmNN2vYvT..7fkEg9tCYw6KdsKoFntt0ei8BL11aW"},
		{Name: "ben", Token: "ben-token-0123456789"},
	}}}
	dummy := []byte("dummy")
	s.dummyHash = func() []byte { return dummy }
	var compared [][]byte
	s.compareHash = func(hash, _ []byte) error { compared = append(compared, hash); return errors.New("mismatch") }
	tests := []struct {
		name     string
		acc      *Account
		wantHash string
	}{
		{"no such account", nil, "dummy"},
		{"token account", &s.opts.Accounts[1], "dummy"},
		{"password account", &s.opts.Accounts[0], s.opts.Accounts[0].PasswordHash},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			compared = nil
			s.checkSecret(tt.acc, "guess")
			if len(compared) != 1 || string(compared[0]) != tt.wantHash {
				t.Fatalf("compared %q, want exactly one comparison against %q", compared, tt.wantHash)
			}
		})
	}
	if !s.checkSecret(&s.opts.Accounts[1], "ben-token-0123456789") {
		t.Fatal("the right token was refused")
	}
}

// A symlink planted where the credential's temporary file used to be
// written (admin.json.tmp) does not carry the token into its target.
func TestWriteCredentialIgnoresPlantedSymlink(t *testing.T) {
	dir := t.TempDir()
	victim := filepath.Join(t.TempDir(), "victim")
	if err := os.WriteFile(victim, []byte("untouched"), 0o644); err != nil {
		t.Fatal(err)
	}
	cred := filepath.Join(dir, "admin.json")
	if err := os.Symlink(victim, cred+".tmp"); err != nil {
		t.Fatal(err)
	}
	s := &Server{opts: Options{CredentialFile: cred}, adminKey: "local-key", ready: make(chan struct{}), addr: "127.0.0.1:8080"}
	close(s.ready)
	if err := s.writeCredential(); err != nil {
		t.Fatal(err)
	}
	if data, _ := os.ReadFile(victim); string(data) != "untouched" {
		t.Fatalf("the symlink's target was written: %q", data)
	}
	st, err := os.Lstat(cred)
	if err != nil || !st.Mode().IsRegular() || st.Mode().Perm() != 0o600 {
		t.Fatalf("credential file: %v, %v; want a regular file with mode 0600", st.Mode(), err)
	}
	if data, _ := os.ReadFile(cred); !strings.Contains(string(data), "local-key") {
		t.Fatalf("credential = %q", data)
	}
}

// Behind a proxy that terminates TLS the chat page's https origin is this
// site: by web.public_url, or by the proxy's forwarding headers when
// web.trust_proxy says there is one.
func TestSameOriginBehindTLSProxy(t *testing.T) {
	tests := []struct {
		name   string
		opts   Options
		header map[string]string
		want   bool
	}{
		{"plain request, same host", Options{}, nil, false}, // origin is https, request http
		{"public_url", Options{PublicURL: "https://bot.example.org"}, nil, true},
		{"public_url of another site", Options{PublicURL: "https://other.example.org"}, nil, false},
		{"forwarded proto, trusted", Options{TrustProxy: true}, map[string]string{"X-Forwarded-Proto": "https"}, true},
		{"forwarded proto, not trusted", Options{}, map[string]string{"X-Forwarded-Proto": "https"}, false},
		{"forwarded host, trusted", Options{TrustProxy: true}, map[string]string{"X-Forwarded-Proto": "https", "X-Forwarded-Host": "bot.example.org"}, true},
		{"client-sent proto before the proxy's", Options{TrustProxy: true}, map[string]string{"X-Forwarded-Proto": "https, http"}, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := &Server{opts: tt.opts}
			r := httptest.NewRequest("POST", "http://bot.example.org/api/chat", nil)
			if tt.name == "forwarded host, trusted" {
				r.Host = "127.0.0.1:8080" // the proxy talks to the loopback address
			}
			for k, v := range tt.header {
				r.Header.Set(k, v)
			}
			if got := s.sameOrigin("https://bot.example.org", r); got != tt.want {
				t.Fatalf("sameOrigin = %v, want %v", got, tt.want)
			}
		})
	}
}
