package web_test

import (
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"net/http/cookiejar"
	"net/url"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/prometheus/client_golang/prometheus"
	"golang.org/x/crypto/bcrypt"

	"github.com/einsatz/einsatz/adapters/web"
	"github.com/einsatz/einsatz/bot"
	"github.com/einsatz/einsatz/handlers/answer"
	"github.com/einsatz/einsatz/handlers/knowledge"
	"github.com/einsatz/einsatz/storage"
)

type site struct {
	*web.Server
	store *storage.Store
	core  *bot.Bot
	cred  string
}

// startSite runs a real core over in-memory storage with the web adapter on
// a free loopback port; handler defaults to the knowledge-base answers over
// the example knowledge base.
func startSite(t *testing.T, opts web.Options, handler bot.Handler) *site {
	t.Helper()
	return startSiteWith(t, opts, handler, nil)
}

// startSiteWith is startSite with setup called before the core runs, to
// add routes and pages; answers is the knowledge-base answer handler when
// handler is nil.
func startSiteWith(t *testing.T, opts web.Options, handler bot.Handler, setup func(s *site, answers *answer.Handler)) *site {
	t.Helper()
	store, err := storage.Open(storage.Options{InMemory: true, Logger: discard()})
	if err != nil {
		t.Fatal(err)
	}
	var answers *answer.Handler
	if handler == nil {
		chunks, err := knowledge.LoadFS(os.DirFS("../../knowledge"), ".")
		if err != nil {
			t.Fatal(err)
		}
		ix, err := knowledge.NewIndex(chunks)
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { ix.Close() })
		answers = answer.New(answer.Options{Search: ix, Text: func(_, k string) string { return k }})
		handler = answers
	}
	reg := prometheus.NewRegistry()
	core := bot.New(bot.Options{Store: store, Router: bot.NewRouter(handler), Metrics: web.NewMetrics(reg), Logger: discard()})
	web.WatchCore(reg, core)
	opts.Addr = "127.0.0.1:0"
	opts.Store, opts.Core, opts.Gatherer, opts.Logger = store, core, reg, discard()
	cred := filepath.Join(t.TempDir(), web.CredentialFileName)
	opts.CredentialFile = cred
	srv, err := web.New(opts)
	if err != nil {
		t.Fatal(err)
	}
	s := &site{Server: srv, store: store, core: core, cred: cred}
	if setup != nil {
		setup(s, answers)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- core.Run(ctx, srv) }()
	<-srv.Ready()
	t.Cleanup(func() {
		cancel()
		if err := <-done; err != nil {
			t.Errorf("run: %v", err)
		}
		store.Close()
	})
	return s
}

func discard() *slog.Logger { return slog.New(slog.DiscardHandler) }

func postChat(t *testing.T, base string, body string, header map[string]string) (*http.Response, web.ChatResponse) {
	t.Helper()
	req, err := http.NewRequest(http.MethodPost, base+"/api/chat", strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Content-Type", "application/json")
	for k, v := range header {
		req.Header.Set(k, v)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var out web.ChatResponse
	data, _ := io.ReadAll(resp.Body)
	_ = json.Unmarshal(data, &out)
	return resp, out
}

func TestChatAPIAnswersOnceAndRefusesBadInput(t *testing.T) {
	s := startSite(t, web.Options{}, nil)
	resp, out := postChat(t, s.URL(), `{"conversation_id":"c1","message_id":"m1","text":"What is Einsatz?"}`, nil)
	if resp.StatusCode != 200 || out.Status != bot.OutcomeAnswered || len(out.Replies) != 1 {
		t.Fatalf("answer: %d %+v", resp.StatusCode, out)
	}
	if r := out.Replies[0]; !strings.Contains(r.Text, "community engagement bot") || len(r.Sources) != 1 || r.Sources[0].Path != "en/what-is-einsatz.md" {
		t.Fatalf("reply = %+v", r)
	}
	resp, out = postChat(t, s.URL(), `{"conversation_id":"c1","message_id":"m1","text":"What is Einsatz?"}`, nil)
	if resp.StatusCode != 200 || out.Status != bot.OutcomeDuplicate || len(out.Replies) != 0 {
		t.Fatalf("retry of m1: %d %+v, want duplicate with no replies", resp.StatusCode, out)
	}
	for _, body := range []string{
		`not json`,
		`{"conversation_id":"","text":"hi"}`,
		`{"conversation_id":"a b","text":"hi"}`,
		`{"conversation_id":"c","text":"   "}`,
		`{"conversation_id":"c","text":"` + strings.Repeat("x", 4001) + `"}`,
	} {
		if resp, _ := postChat(t, s.URL(), body, nil); resp.StatusCode != http.StatusBadRequest {
			t.Errorf("body %.40q: status %d, want 400", body, resp.StatusCode)
		}
	}
}

func TestChatAPIRateLimitPerIP(t *testing.T) {
	s := startSite(t, web.Options{ChatPerMin: 6, ChatBurst: 2}, nil)
	var codes []int
	for range 3 {
		resp, _ := postChat(t, s.URL(), `{"conversation_id":"c1","text":"hi"}`, nil)
		codes = append(codes, resp.StatusCode)
		if resp.StatusCode == http.StatusTooManyRequests && resp.Header.Get("Retry-After") != "10" {
			t.Errorf("Retry-After = %q, want 10", resp.Header.Get("Retry-After"))
		}
	}
	if codes[0] != 200 || codes[1] != 200 || codes[2] != http.StatusTooManyRequests {
		t.Fatalf("status codes %v, want 200 200 429", codes)
	}
}

func TestChatAPICORS(t *testing.T) {
	s := startSite(t, web.Options{CORSOrigins: []string{"https://allowed.example"}}, nil)
	tests := []struct {
		name, method, origin string
		wantStatus           int
		wantACAO             string
	}{
		{"no origin (curl, server to server)", http.MethodPost, "", 200, ""},
		{"same origin (the chat page)", http.MethodPost, s.URL(), 200, ""},
		{"allowed origin", http.MethodPost, "https://allowed.example", 200, "https://allowed.example"},
		{"allowed preflight", http.MethodOptions, "https://allowed.example", 204, "https://allowed.example"},
		{"other origin", http.MethodPost, "https://evil.example", 403, ""},
		{"other preflight", http.MethodOptions, "https://evil.example", 403, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			req, _ := http.NewRequest(tt.method, s.URL()+"/api/chat", strings.NewReader(`{"conversation_id":"c","text":"hi"}`))
			if tt.origin != "" {
				req.Header.Set("Origin", tt.origin)
			}
			resp, err := http.DefaultClient.Do(req)
			if err != nil {
				t.Fatal(err)
			}
			resp.Body.Close()
			if resp.StatusCode != tt.wantStatus || resp.Header.Get("Access-Control-Allow-Origin") != tt.wantACAO {
				t.Fatalf("status %d ACAO %q, want %d %q", resp.StatusCode, resp.Header.Get("Access-Control-Allow-Origin"), tt.wantStatus, tt.wantACAO)
			}
		})
	}
}

func TestChatAPIKey(t *testing.T) {
	s := startSite(t, web.Options{APIKey: "sekret"}, nil)
	page, err := http.Get(s.URL() + "/")
	if err != nil {
		t.Fatal(err)
	}
	html, _ := io.ReadAll(page.Body)
	page.Body.Close()
	m := regexp.MustCompile(`data-token="([^"]+)"`).FindSubmatch(html)
	if m == nil {
		t.Fatalf("chat page carries no page token:\n%s", html)
	}
	tests := []struct {
		name   string
		header map[string]string
		want   int
	}{
		{"no key", nil, 401},
		{"wrong key", map[string]string{"X-API-Key": "nope"}, 401},
		{"key header", map[string]string{"X-API-Key": "sekret"}, 200},
		{"bearer", map[string]string{"Authorization": "Bearer sekret"}, 200},
		{"page token", map[string]string{"X-Chat-Token": string(m[1])}, 200},
		{"forged page token", map[string]string{"X-Chat-Token": "99999999999.abc"}, 401},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if resp, _ := postChat(t, s.URL(), `{"conversation_id":"c","text":"hi"}`, tt.header); resp.StatusCode != tt.want {
				t.Fatalf("status %d, want %d", resp.StatusCode, tt.want)
			}
		})
	}
}

func TestAdminRoutesNeedCredentials(t *testing.T) {
	s := startSite(t, web.Options{Accounts: []web.Account{{Name: "anna", Role: "staff", Token: "anna-token"}}}, nil)
	routes := s.AdminRoutes()
	if len(routes) < 3 {
		t.Fatalf("admin routes = %v", routes)
	}
	for _, pattern := range routes {
		method, path, _ := strings.Cut(pattern, " ")
		for _, auth := range []string{"", "Bearer wrong", "Basic YW5uYTphbm5hLXRva2Vu"} {
			req, _ := http.NewRequest(method, s.URL()+path, nil)
			if auth != "" {
				req.Header.Set("Authorization", auth)
			}
			resp, err := http.DefaultClient.Do(req)
			if err != nil {
				t.Fatal(err)
			}
			resp.Body.Close()
			if resp.StatusCode != http.StatusUnauthorized {
				t.Errorf("%s with %q: status %d, want 401", pattern, auth, resp.StatusCode)
			}
		}
	}
	// Backups need the admin role: anna is staff.
	req, _ := http.NewRequest(http.MethodGet, s.URL()+"/api/admin/backup", nil)
	req.Header.Set("Authorization", "Bearer anna-token")
	if resp, err := http.DefaultClient.Do(req); err != nil || resp.StatusCode != http.StatusForbidden {
		t.Fatalf("backup with a staff (not admin) token: %v %v, want 403", resp.StatusCode, err)
	}
	// The staff token and the local credential both get in.
	client := &web.Client{URL: s.URL(), Token: "anna-token", HTTP: http.DefaultClient}
	var who map[string]string
	if err := client.GetJSON(context.Background(), "/api/admin/whoami", &who); err != nil || who["name"] != "anna" {
		t.Fatalf("whoami with staff token = %v, %v", who, err)
	}
	local, err := web.Running(context.Background(), filepath.Dir(s.cred))
	if err != nil {
		t.Fatal(err)
	}
	if err := local.GetJSON(context.Background(), "/api/admin/whoami", &who); err != nil || who["name"] != "local-cli" {
		t.Fatalf("whoami with local credential = %v, %v", who, err)
	}
	if fi, err := os.Stat(s.cred); err != nil || fi.Mode().Perm() != 0o600 {
		t.Fatalf("credential file mode = %v, %v; want 0600", fi.Mode(), err)
	}
}

func TestMetricsCountChatMessage(t *testing.T) {
	s := startSite(t, web.Options{}, nil)
	postChat(t, s.URL(), `{"conversation_id":"c1","text":"What is Einsatz?"}`, nil)
	resp, err := http.Get(s.URL() + "/metrics")
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	for _, want := range []string{
		`einsatz_events_received_total{platform="web"} 1`,
		`einsatz_replies_sent_total{platform="web"} 1`,
		`einsatz_handler_duration_seconds_count{handler="fallback"} 1`,
		`einsatz_queue_depth 0`,
	} {
		if !strings.Contains(string(body), want) {
			t.Errorf("metrics lack %q", want)
		}
	}
}

func TestHealthAndReadiness(t *testing.T) {
	s := startSite(t, web.Options{}, nil)
	for _, path := range []string{"/healthz", "/readyz"} {
		resp, err := http.Get(s.URL() + path)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != 200 {
			t.Errorf("%s: %d", path, resp.StatusCode)
		}
	}
	s.store.Close() // storage no longer writable
	resp, err := http.Get(s.URL() + "/readyz")
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != http.StatusServiceUnavailable || !strings.Contains(string(body), "storage not writable") {
		t.Fatalf("readyz with closed storage: %d %s", resp.StatusCode, body)
	}
}

// noRedirect is a client that shows redirects instead of following them.
func noRedirect(jar http.CookieJar) *http.Client {
	return &http.Client{Jar: jar, CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
}

func TestPasswordLoginAndCSRF(t *testing.T) {
	hash, err := bcrypt.GenerateFromPassword([]byte("correct horse"), bcrypt.MinCost)
	if err != nil {
		t.Fatal(err)
	}
	s := startSite(t, web.Options{Accounts: []web.Account{{Name: "anna", Role: "admin", PasswordHash: string(hash)}}}, nil)
	if s.LoginURL() != "" {
		t.Fatalf("one-time login link made although accounts are configured")
	}
	jar := newJar(t)
	c := noRedirect(jar)
	resp, err := c.Get(s.URL() + "/dashboard")
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusSeeOther || !strings.HasPrefix(resp.Header.Get("Location"), "/login") {
		t.Fatalf("dashboard without session: %d %s", resp.StatusCode, resp.Header.Get("Location"))
	}
	csrf := csrfFrom(t, c, s.URL()+"/login")
	post := func(path string, form url.Values) *http.Response {
		resp, err := c.PostForm(s.URL()+path, form)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		return resp
	}
	if r := post("/login", url.Values{"name": {"anna"}, "secret": {"correct horse"}}); r.StatusCode != http.StatusForbidden {
		t.Fatalf("login without CSRF token: %d, want 403", r.StatusCode)
	}
	if r := post("/login", url.Values{"csrf": {csrf}, "name": {"anna"}, "secret": {"wrong"}}); r.StatusCode != http.StatusUnauthorized {
		t.Fatalf("wrong password: %d, want 401", r.StatusCode)
	}
	if r := post("/login", url.Values{"csrf": {csrf}, "name": {"anna"}, "secret": {"correct horse"}}); r.StatusCode != http.StatusSeeOther {
		t.Fatalf("login: %d, want 303", r.StatusCode)
	}
	if r, _ := c.Get(s.URL() + "/dashboard"); r.StatusCode != 200 {
		t.Fatalf("dashboard after login: %d", r.StatusCode)
	}
	if r := post("/logout", url.Values{}); r.StatusCode != http.StatusForbidden {
		t.Fatalf("logout without CSRF token: %d, want 403", r.StatusCode)
	}
	if r := post("/logout", url.Values{"csrf": {csrf}}); r.StatusCode != http.StatusSeeOther {
		t.Fatalf("logout: %d", r.StatusCode)
	}
	audit, err := s.store.Audit(context.Background())
	if err != nil || len(audit) != 3 || audit[0].Actor != "anna" || audit[0].Action != "login failed" ||
		audit[1].Actor != "anna" || audit[1].Action != "login" || audit[2].Action != "logout" {
		t.Fatalf("audit = %+v, %v; want anna's failed login, login and logout", audit, err)
	}
}

func csrfFrom(t *testing.T, c *http.Client, pageURL string) string {
	t.Helper()
	resp, err := c.Get(pageURL)
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	m := regexp.MustCompile(`name="csrf" value="([^"]+)"`).FindSubmatch(body)
	if m == nil {
		t.Fatalf("no CSRF field on %s", pageURL)
	}
	return string(m[1])
}

func newJar(t *testing.T) http.CookieJar {
	t.Helper()
	jar, err := cookiejar.New(nil)
	if err != nil {
		t.Fatal(err)
	}
	return jar
}

// The session cookie (and any other the login sets) is HttpOnly and
// SameSite, and Secure exactly when web.public_url is https.
func TestCookieFlagsFollowPublicURL(t *testing.T) {
	tests := []struct {
		publicURL  string
		wantSecure bool
	}{
		{"https://bot.example.org", true},
		{"http://bot.example.org", false},
		{"", false},
	}
	for _, tt := range tests {
		t.Run(tt.publicURL, func(t *testing.T) {
			s := startSite(t, web.Options{PublicURL: tt.publicURL}, nil)
			resp, err := noRedirect(nil).Get(s.LoginURL()) // the one-time login link
			if err != nil {
				t.Fatal(err)
			}
			resp.Body.Close()
			names := map[string]bool{}
			for _, c := range resp.Cookies() {
				names[c.Name] = true
				if c.Secure != tt.wantSecure || !c.HttpOnly {
					t.Errorf("cookie %s: Secure %v HttpOnly %v, want Secure %v and HttpOnly", c.Name, c.Secure, c.HttpOnly, tt.wantSecure)
				}
				if c.SameSite != http.SameSiteStrictMode && c.SameSite != http.SameSiteLaxMode {
					t.Errorf("cookie %s: SameSite %v, want Strict or Lax", c.Name, c.SameSite)
				}
			}
			if !names["einsatz_session"] {
				t.Fatalf("the login link set no session cookie (status %d, cookies %v)", resp.StatusCode, names)
			}
		})
	}
}
