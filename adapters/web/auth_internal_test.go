package web

import (
	"net/http/httptest"
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
