// Package web is the HTTP adapter: the chat page and its JSON API (a
// platform like Discord or Slack, through the same pipeline), the staff
// dashboard with login, the admin API the CLI talks to, and health and
// metrics endpoints. It is the only place with HTTP handlers and HTML:
// each feature's pages, forms, exports and admin routes live here (inbox.go,
// handoff.go, support.go, sentiment.go, knowledge.go, privacy.go,
// imports.go) and call that feature's use cases in handlers/. Pages are
// server-rendered with html/template; no front-end build step.
package web

import (
	"context"
	"embed"
	"encoding/json"
	"errors"
	"fmt"
	"html/template"
	"io"
	"io/fs"
	"log/slog"
	"net"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"golang.org/x/crypto/bcrypt"
	"golang.org/x/net/netutil"
	"golang.org/x/time/rate"

	"github.com/einsatz/einsatz/bot"
	"github.com/einsatz/einsatz/storage"
)

//go:embed templates/*.html
var templateFS embed.FS

//go:embed static
var staticFS embed.FS

// Store is what the web adapter needs from storage.
type Store interface {
	AddLoginCode(ctx context.Context, hash string, code storage.LoginCode, ttl time.Duration) error
	RedeemLoginCode(ctx context.Context, codeHash, sessionHash string, created time.Time, ttl time.Duration) (storage.Session, error)
	AddSession(ctx context.Context, hash string, sess storage.Session, ttl time.Duration) error
	Session(ctx context.Context, hash string) (storage.Session, error)
	DeleteSession(ctx context.Context, hash string) error
	AddAudit(ctx context.Context, e storage.AuditEntry) error
	Audit(ctx context.Context) ([]storage.AuditEntry, error)
	Backup(ctx context.Context, w io.Writer) error
	Sync(ctx context.Context) error
}

// Core is what the web adapter reads from the bot core.
type Core interface {
	Stats() bot.Stats
	Saturated() bool
}

// Account is a staff login for the dashboard and the admin API.
type Account struct {
	Name         string
	Role         string // "admin" or "staff"
	Token        string // from the environment; also a bearer token for the admin API
	PasswordHash string // bcrypt
}

// Options configure the web adapter.
type Options struct {
	Addr        string // listen address, e.g. 127.0.0.1:8080 (":0" picks a port)
	PublicURL   string // where users reach the server; https makes cookies Secure
	CORSOrigins []string
	APIKey      string
	ChatPerMin  float64 // chat API requests per client IP per minute; 0 = no limit
	ChatBurst   int
	TrustProxy  bool
	ChatTimeout time.Duration // how long POST /api/chat waits for the answer; default 60s
	// LiveIdle is how long a web conversation nobody streams keeps its
	// backlog of events for resuming; default 30m.
	LiveIdle time.Duration
	// StreamHeartbeat is how often an idle event stream gets a comment
	// line; default 25s.
	StreamHeartbeat time.Duration
	// Clock drives the live chat's expiry and event ids; default the
	// system clock.
	Clock bot.Clock

	// Limits of the HTTP server against slow or many clients (web.*):
	// reading one request, body included; writing one response (the chat
	// API's wait comes on top, streams push it forward per write); idle
	// keep-alive connections; header size; connections served at once.
	// Zero takes the default (30s, 30s, 2m, 64 KiB, 1024).
	ReadTimeout    time.Duration
	WriteTimeout   time.Duration
	IdleTimeout    time.Duration
	MaxHeaderBytes int
	MaxConnections int

	Accounts []Account
	// CredentialFile is where the running server writes the local admin
	// credential (URL and bearer token, mode 0600) for CLI commands on this
	// machine; removed at shutdown. Empty: none.
	CredentialFile string

	Store    Store
	Core     Core
	Gatherer prometheus.Gatherer // served at /metrics
	BotName  string
	Logger   *slog.Logger
	// Status lines shown on the dashboard (adapters, knowledge base).
	Status func() []string
	// Problems, when set, adds reasons for /readyz to say not ready (the
	// cluster's: not connected, no partition while events wait).
	Problems func(context.Context) []string
}

// Page is a dashboard page that a feature adds (inbox, sentiment, …).
type Page struct {
	Path    string // under /dashboard/, e.g. "/dashboard/inbox"
	Title   string // navigation label
	Handler http.Handler
}

// Server is the web adapter. Create it with New, add pages and mounts, then
// run it through the core (bot.Bot.Run).
type Server struct {
	opts  Options
	log   *slog.Logger
	mux   *http.ServeMux
	tmpl  *template.Template
	pages []Page
	ov    OverviewSources // what the overview reads (SetOverview)
	// publishing: the public answer pages are on (AddPublishing), so the
	// Solved threads page offers "rewritten by staff".
	publishing bool
	answers    *answerPages // the public answer pages (AddAnswers), nil when off
	publicDocs PublicDocs   // the knowledge base's public pages (AddPublicDocs)

	secret   []byte // signs chat page tokens; new at every start
	adminKey string // the local credential for the CLI, new at every start

	ready chan struct{} // closed once listening; addr and login are set before
	addr  string        // the address actually listened on
	login string        // the one-time login URL made at start, if any
	// loginHash is the hash of this start's one-time login code: codes
	// stored by earlier starts are refused.
	loginHash string

	dummyHash   func() []byte               // stand-in bcrypt hash for unknown names
	compareHash func(hash, pw []byte) error // bcrypt; counted in tests

	mu        sync.Mutex
	sink      bot.Sink
	waiters   map[string]*waiter     // by event key, for POST /api/chat
	mailbox   map[string][]ChatReply // replies nobody waited or streamed for, by conversation
	limiters  map[string]*rate.Limiter
	live      map[string]*liveConv // the live chat's streams and backlogs, by conversation
	swept     time.Time            // when idle conversations were last forgotten
	liveBytes int                  // data held in all backlogs
	streams   int                  // open event streams
	closing   chan struct{}        // closed when the server shuts down: streams end
	gate      loginGate
}

// maxMailboxes bounds the conversations whose undelivered replies are kept.
const maxMailboxes = 10000

type waiter struct {
	replies []ChatReply
	outcome string
	done    chan struct{}
}

// New builds the web adapter; it listens only in Run.
func New(opts Options) (*Server, error) {
	if opts.Logger == nil {
		opts.Logger = slog.Default()
	}
	if opts.ChatTimeout <= 0 {
		opts.ChatTimeout = 60 * time.Second
	}
	if opts.BotName == "" {
		opts.BotName = "Einsatz"
	}
	if opts.LiveIdle <= 0 {
		opts.LiveIdle = 30 * time.Minute
	}
	if opts.StreamHeartbeat <= 0 {
		opts.StreamHeartbeat = 25 * time.Second
	}
	if opts.Clock == nil {
		opts.Clock = bot.SystemClock{}
	}
	setDefault(&opts.ReadTimeout, 30*time.Second)
	setDefault(&opts.WriteTimeout, 30*time.Second)
	setDefault(&opts.IdleTimeout, 2*time.Minute)
	setDefault(&opts.MaxHeaderBytes, 64<<10)
	setDefault(&opts.MaxConnections, 1024)
	if opts.Store == nil || opts.Core == nil {
		return nil, errors.New("web: Store and Core are required")
	}
	tmpl, err := parseTemplates()
	if err != nil {
		return nil, err
	}
	s := &Server{
		opts:     opts,
		log:      opts.Logger,
		mux:      http.NewServeMux(),
		tmpl:     tmpl,
		secret:   randomBytes(32),
		adminKey: randomToken(),
		ready:    make(chan struct{}),
		waiters:  map[string]*waiter{},
		mailbox:  map[string][]ChatReply{},
		limiters: map[string]*rate.Limiter{},
		live:     map[string]*liveConv{},
		closing:  make(chan struct{}),
		gate:     loginGate{byIP: map[string]*rate.Limiter{}, byAccount: map[string]*rate.Limiter{}},
		// Made on the first login attempt: bcrypt takes a while.
		dummyHash:   sync.OnceValue(func() []byte { return dummyHashFor(opts.Accounts) }),
		compareHash: bcrypt.CompareHashAndPassword,
	}
	s.routes()
	return s, nil
}

// parseTemplates parses the page templates with the functions they use.
func parseTemplates() (*template.Template, error) {
	tmpl, err := template.New("").Funcs(template.FuncMap{
		"since":    func(t time.Time) string { return time.Since(t).Round(time.Second).String() },
		"tr":       tr,
		"navTitle": navTitle,
	}).ParseFS(templateFS, "templates/*.html")
	if err != nil {
		return nil, fmt.Errorf("web: templates: %w", err)
	}
	return tmpl, nil
}

func (s *Server) routes() {
	static, _ := fs.Sub(staticFS, "static")
	s.mux.Handle("GET /static/", http.StripPrefix("/static/", http.FileServerFS(static)))
	s.mux.HandleFunc("GET /{$}", s.chatPage)
	s.mux.HandleFunc("POST /api/chat", s.chatAPI)
	s.mux.HandleFunc("OPTIONS /api/chat", s.chatAPI)
	s.mux.HandleFunc("GET /api/chat/{conversation_id}/events", s.chatEvents)
	s.mux.HandleFunc("OPTIONS /api/chat/{conversation_id}/events", s.chatEvents)
	s.mux.HandleFunc("GET /widget.js", s.widgetJS)

	s.mux.HandleFunc("GET /lang/{lang}", s.setLang)
	s.mux.HandleFunc("GET /login", s.loginPage)
	s.mux.HandleFunc("POST /login", s.loginForm)
	s.mux.Handle("POST /logout", s.staffOnly(http.HandlerFunc(s.logout)))
	s.mux.Handle("GET /dashboard", s.staffOnly(http.HandlerFunc(s.dashboard)))

	s.mux.HandleFunc("GET /healthz", s.healthz)
	s.mux.HandleFunc("GET /readyz", s.readyz)
	if s.opts.Gatherer != nil {
		s.mux.Handle("GET /metrics", metricsHandler(s.opts.Gatherer))
	}
	for _, r := range s.adminRoutes() {
		s.mux.Handle(r.pattern, s.bearerOnly(r.handler))
	}
}

// AddPage adds a dashboard page behind the staff login, with a link in the
// navigation. Call it before Run.
func (s *Server) AddPage(p Page) {
	s.pages = append(s.pages, p)
	s.mux.Handle("GET "+p.Path, s.staffOnly(p.Handler))
}

// Mount serves another handler on the web server (Slack's HTTP mode), with
// its own authentication. Call it before Run.
func (s *Server) Mount(pattern string, h http.Handler) { s.mux.Handle(pattern, h) }

// Handler returns the server's routes, for tests with httptest.
func (s *Server) Handler() http.Handler { return s.mux }

// Platform names the adapter.
func (s *Server) Platform() string { return bot.PlatformWeb }

// Ready is closed once the server listens.
func (s *Server) Ready() <-chan struct{} { return s.ready }

// Addr returns the address the server listens on, once it does.
func (s *Server) Addr() string {
	<-s.ready
	return s.addr
}

// URL is the base URL on this machine (loopback), for the printed links and
// the local credential.
func (s *Server) URL() string {
	<-s.ready
	return loopbackURL(s.addr)
}

func loopbackURL(addr string) string {
	host, port, _ := net.SplitHostPort(addr)
	if ip := net.ParseIP(host); host == "" || (ip != nil && ip.IsUnspecified()) {
		host = "127.0.0.1"
	}
	return "http://" + net.JoinHostPort(host, port)
}

// LoginURL returns the one-time login URL made at start ("" when staff
// accounts are configured).
func (s *Server) LoginURL() string {
	<-s.ready
	return s.login
}

// Run listens and serves until ctx ends, then shuts the server down.
func (s *Server) Run(ctx context.Context, sink bot.Sink) error {
	s.mu.Lock()
	s.sink = sink
	s.mu.Unlock()
	ln, err := net.Listen("tcp", s.opts.Addr)
	if err != nil {
		return fmt.Errorf("web: listen on %s (web.addr): %w", s.opts.Addr, err)
	}
	s.addr = ln.Addr().String()
	if len(s.opts.Accounts) == 0 {
		// No staff account configured: a one-time login link, so the
		// dashboard works on a fresh machine without a default password.
		code := randomToken()
		if err := s.opts.Store.AddLoginCode(ctx, hashToken(code), storage.LoginCode{Name: "admin", Role: "admin"}, 24*time.Hour); err != nil {
			ln.Close()
			return fmt.Errorf("web: first-run login: %w", err)
		}
		s.loginHash = hashToken(code)
		s.login = loopbackURL(s.addr) + "/login?code=" + url.QueryEscape(code)
	}
	close(s.ready)
	if s.opts.CredentialFile != "" {
		if err := s.writeCredential(); err != nil {
			ln.Close()
			return err
		}
		defer os.Remove(s.opts.CredentialFile)
	}
	// A slow client must not hold a connection for long (slowloris):
	// ReadTimeout covers the whole request, body included, and the
	// connection limit keeps many of them from using up the process's file
	// descriptors. WriteTimeout is per response: the chat API extends it
	// by its wait for the answer, the backup clears it, and a long-lived
	// stream (Server-Sent Events such as GET /api/chat/{id}/events) must
	// push it forward with http.ResponseController.SetWriteDeadline before
	// each write (see extendWrite) instead of raising the server-wide
	// value for every request.
	srv := &http.Server{
		Handler:           s.mux,
		ReadHeaderTimeout: min(10*time.Second, s.opts.ReadTimeout),
		ReadTimeout:       s.opts.ReadTimeout,
		WriteTimeout:      s.opts.WriteTimeout,
		IdleTimeout:       s.opts.IdleTimeout,
		MaxHeaderBytes:    s.opts.MaxHeaderBytes,
		ErrorLog:          slog.NewLogLogger(s.log.Handler(), slog.LevelWarn),
	}
	// Event streams never end on their own: end them when shutdown starts,
	// so it need not wait for them.
	srv.RegisterOnShutdown(func() { close(s.closing) })
	errc := make(chan error, 1)
	go func() { errc <- srv.Serve(netutil.LimitListener(ln, s.opts.MaxConnections)) }()
	s.log.Info("web server listening", "url", s.URL())
	select {
	case err := <-errc:
		return fmt.Errorf("web: serve: %w", err)
	case <-ctx.Done():
	}
	shutdownCtx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if err := srv.Shutdown(shutdownCtx); err != nil {
		// Chat requests still waiting for an answer are cut off; that is
		// the shutdown doing its job, not a failure.
		s.log.Warn("web: requests still open at shutdown were closed", "err", err)
		srv.Close()
	}
	return ctx.Err()
}

// extendWrite gives the response d more to be written from now, beyond the
// server's write timeout: for a handler that waits before it answers or
// streams. d <= 0 clears the deadline. Errors only mean the connection
// does not support deadlines (tests with a recorder), so they are ignored.
func extendWrite(w http.ResponseWriter, d time.Duration) {
	var deadline time.Time
	if d > 0 {
		deadline = time.Now().Add(d)
	}
	_ = http.NewResponseController(w).SetWriteDeadline(deadline)
}

func setDefault[T int | time.Duration](p *T, def T) {
	if *p <= 0 {
		*p = def
	}
}

// Credential is what the running server writes for local CLI commands.
type Credential struct {
	URL   string `json:"url"`
	Token string `json:"token"`
	PID   int    `json:"pid"`
}

func (s *Server) writeCredential() error {
	data, err := json.Marshal(Credential{URL: s.URL(), Token: s.adminKey, PID: os.Getpid()})
	if err != nil {
		return err
	}
	// A fresh temporary file next to the credential, then a rename: a
	// symlink planted at a fixed name (admin.json.tmp) cannot redirect the
	// token into another file, and a reader never sees half of it.
	dir, base := filepath.Split(s.opts.CredentialFile)
	f, err := os.CreateTemp(dir, base+".*.tmp") // mode 0600, O_EXCL
	if err != nil {
		return fmt.Errorf("web: write local admin credential: %w", err)
	}
	_, err = f.Write(data)
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err == nil {
		err = os.Rename(f.Name(), s.opts.CredentialFile)
	}
	if err != nil {
		os.Remove(f.Name())
		return fmt.Errorf("web: write local admin credential: %w", err)
	}
	return nil
}

// Send delivers a reply to the web chat: to the conversation's event
// stream, and to the request waiting for it or, when no stream is open, to
// the conversation's mailbox, returned with its next request.
func (s *Server) Send(ctx context.Context, to bot.ThreadRef, r bot.Reply) error {
	_, err := s.Publish(ctx, to, r)
	return err
}

// Publish is Send that returns the reply's message id: its event id on the
// conversation's stream, which Edit and Delete take (liveedit.go); "" when
// the conversation has no stream state.
func (s *Server) Publish(_ context.Context, to bot.ThreadRef, r bot.Reply) (string, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	cr := s.recordReplyLocked(to.ThreadID, r)
	id := ""
	if cr.EventID != 0 {
		id = strconv.FormatInt(cr.EventID, 10)
	}
	if w, ok := s.waiters[r.ReplyTo]; ok && r.ReplyTo != "" {
		w.replies = append(w.replies, cr)
		return id, nil
	}
	if s.watchedLocked(to.ThreadID) {
		return id, nil // the open stream has it (and resumes with it after a reconnect)
	}
	box := append(s.mailbox[to.ThreadID], cr)
	if len(box) > 20 {
		box = box[len(box)-20:]
	}
	if _, known := s.mailbox[to.ThreadID]; !known && len(s.mailbox) >= maxMailboxes {
		for conv := range s.mailbox { // drop one abandoned conversation's replies
			delete(s.mailbox, conv)
			break
		}
	}
	s.mailbox[to.ThreadID] = box
	return id, nil
}

// Completed wakes the chat request waiting for the event and stops the
// typing indicator.
func (s *Server) Completed(ev *bot.Event) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if w, ok := s.waiters[ev.Key]; ok {
		w.outcome = ev.Outcome
		close(w.done)
		delete(s.waiters, ev.Key)
	}
	if ev.Platform == bot.PlatformWeb {
		s.setTypingLocked(ev.Thread().ThreadID, false)
	}
}

// render executes a page template inside the layout.
func (s *Server) render(w http.ResponseWriter, r *http.Request, status int, name string, data map[string]any) {
	if data == nil {
		data = map[string]any{}
	}
	data["BotName"] = s.opts.BotName
	data["Pages"] = s.pages
	data["Path"] = r.URL.Path
	if _, ok := data["Lang"]; !ok {
		data["Lang"] = requestLang(r)
	}
	data["Here"] = r.URL.RequestURI() // where the language switch comes back to
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	w.Header().Set("X-Content-Type-Options", "nosniff")
	w.Header().Set("X-Frame-Options", "DENY")
	w.Header().Set("Content-Security-Policy", contentSecurityPolicy)
	// Pages carry CSRF and page tokens and members' data: never kept in a
	// shared or browser cache (the back button after logout shows nothing).
	w.Header().Set("Cache-Control", "no-store")
	w.WriteHeader(status)
	if err := s.tmpl.ExecuteTemplate(w, name, data); err != nil {
		s.log.Error("web: render", "template", name, "err", err)
	}
}

// contentSecurityPolicy keeps pages to their own scripts, styles and API
// (the pages have no inline script or style: chat.js and style.css are
// static files), so markup that slipped through escaping could not run or
// send data elsewhere.
const contentSecurityPolicy = "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; " +
	"connect-src 'self'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'"

// RenderPage renders a dashboard page's body (trusted HTML built with
// html/template) inside the dashboard layout.
func (s *Server) RenderPage(w http.ResponseWriter, r *http.Request, title string, body template.HTML) {
	sess, _ := sessionFrom(r.Context())
	s.render(w, r, http.StatusOK, "page.html", map[string]any{"Title": title, "Body": body, "Session": sess, "CSRF": s.csrfToken(w, r)})
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(v)
}

func jsonError(w http.ResponseWriter, status int, msg string) {
	writeJSON(w, status, map[string]string{"error": msg})
}

// clientIP is the request's address, or the first X-Forwarded-For entry
// behind a trusted proxy.
func (s *Server) clientIP(r *http.Request) string {
	if s.opts.TrustProxy {
		// Proxies append: the last entry is the one our proxy wrote; the
		// ones before it are whatever the client sent.
		if fwd := r.Header.Get("X-Forwarded-For"); fwd != "" {
			parts := strings.Split(fwd, ",")
			return strings.TrimSpace(parts[len(parts)-1])
		}
	}
	host, _, err := net.SplitHostPort(r.RemoteAddr)
	if err != nil {
		return r.RemoteAddr
	}
	return host
}
