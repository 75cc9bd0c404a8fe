// Package openaitest is a fake OpenAI-compatible API on loopback for tests
// and manual runs: POST /v1/chat/completions (plain, and streamed as
// server-sent events when "stream" is set) and POST /v1/embeddings (float or
// base64 vectors, derived deterministically from the text, honouring
// "dimensions"). The unmodified go-openai library talks to it.
//
// Replies are scripted: a queue of replies (Enqueue) is used first, then the
// reply function (Options.Reply, default GroundedEcho). A Reply can fail the
// request (any status, with Retry-After), delay it (timeouts) or both;
// FailNext queues N failures before the script resumes. Every request is
// recorded with its parsed messages (Requests) for assertions.
package openaitest

import (
	"encoding/base64"
	"encoding/binary"
	"encoding/json"
	"fmt"
	"hash/fnv"
	"io"
	"math"
	"net"
	"net/http"
	"regexp"
	"strings"
	"sync"
	"time"
	"unicode"
)

// Paths the fake serves, below the base URL's host.
const (
	PathChat       = "/v1/chat/completions"
	PathEmbeddings = "/v1/embeddings"
)

// DefaultDimensions is the length of embedding vectors when a request does
// not ask for "dimensions".
const DefaultDimensions = 64

// Options configure a fake server. Zero values get the defaults noted.
type Options struct {
	Addr string // listen address; default "127.0.0.1:0"
	// APIKey, when set, must arrive as "Authorization: Bearer <APIKey>";
	// other requests get 401 like OpenAI's.
	APIKey string
	// Reply answers chat requests when the queue is empty; default
	// GroundedEcho.
	Reply func(Request) Reply
	// Logf logs each request (method, path, status); default silent.
	Logf func(format string, args ...any)
}

// Message is one chat message of a request.
type Message struct {
	Role    string `json:"role"`
	Content string `json:"content"`
}

// Request is what the fake received, parsed.
type Request struct {
	Path          string
	Time          time.Time
	Authorization string // the Authorization header as sent
	// Chat completions.
	Model        string
	Messages     []Message
	Stream       bool
	IncludeUsage bool // stream_options.include_usage
	Temperature  *float64
	MaxTokens    int // max_tokens or max_completion_tokens
	// Embeddings.
	Input          []string
	EncodingFormat string
	Dimensions     int
	// Body is the raw request body.
	Body []byte
}

// System returns the content of the request's system messages.
func (r Request) System() string { return r.join("system") }

// User returns the content of the request's user messages.
func (r Request) User() string { return r.join("user") }

// All returns the content of every message.
func (r Request) All() string { return r.join("") }

func (r Request) join(role string) string {
	var parts []string
	for _, m := range r.Messages {
		if role == "" || m.Role == role {
			parts = append(parts, m.Content)
		}
	}
	return strings.Join(parts, "\n")
}

// Reply is how the fake answers one request.
type Reply struct {
	// Content is the assistant's message (chat only).
	Content string
	// Status, when not 0 or 200, fails the request with this HTTP status
	// and an OpenAI-style error body.
	Status int
	// Message is the error message of a failure; default derived from Status.
	Message string
	// RetryAfter is sent as the Retry-After header, e.g. "1" (seconds).
	RetryAfter string
	// Delay holds the response back (the client's deadline may end first).
	Delay time.Duration
	// ChunkDelay is the pause between streamed chunks.
	ChunkDelay time.Duration
	// FinishReason defaults to "stop".
	FinishReason string
}

// Failure replies for the common cases.
var (
	RateLimited = Reply{Status: http.StatusTooManyRequests, RetryAfter: "1", Message: "Rate limit reached"}
	ServerError = Reply{Status: http.StatusInternalServerError, Message: "The server had an error"}
	Unavailable = Reply{Status: http.StatusServiceUnavailable, Message: "The engine is currently overloaded"}
)

// Server is a running fake. Its methods are safe for concurrent use.
type Server struct {
	// URL is the base URL to give a client, with /v1: http://127.0.0.1:port/v1
	URL string

	opts Options
	srv  *http.Server
	ln   net.Listener

	mu       sync.Mutex
	queue    []Reply
	reply    func(Request) Reply
	requests []Request
	inFlight int // requests being answered now
	peak     int // the most in flight at once
}

// New starts a fake on loopback. Close it when done.
func New(opts Options) (*Server, error) {
	if opts.Addr == "" {
		opts.Addr = "127.0.0.1:0"
	}
	if opts.Reply == nil {
		opts.Reply = GroundedEcho
	}
	ln, err := net.Listen("tcp", opts.Addr)
	if err != nil {
		return nil, fmt.Errorf("openaitest: listen: %w", err)
	}
	s := &Server{URL: "http://" + ln.Addr().String() + "/v1", opts: opts, ln: ln, reply: opts.Reply}
	mux := http.NewServeMux()
	mux.HandleFunc("POST "+PathChat, s.chat)
	mux.HandleFunc("POST "+PathEmbeddings, s.embeddings)
	mux.HandleFunc("/", func(w http.ResponseWriter, r *http.Request) {
		writeError(w, http.StatusNotFound, "Unknown request URL: "+r.Method+" "+r.URL.Path, "invalid_request_error", "unknown_url")
	})
	s.srv = &http.Server{Handler: mux, ReadHeaderTimeout: 5 * time.Second}
	go s.srv.Serve(ln) //nolint:errcheck // ends with Close
	return s, nil
}

// TB is the part of testing.TB that Start needs.
type TB interface {
	Helper()
	Fatalf(format string, args ...any)
	Cleanup(func())
}

// Start starts a fake for a test and closes it when the test ends.
func Start(t TB, opts Options) *Server {
	t.Helper()
	s, err := New(opts)
	if err != nil {
		t.Fatalf("%v", err)
	}
	t.Cleanup(s.Close)
	return s
}

// Close stops the server, cutting off requests still delayed.
func (s *Server) Close() { _ = s.srv.Close() }

// Enqueue adds replies that the next requests (chat or embeddings) get, in
// order, before the reply function is asked again.
func (s *Server) Enqueue(replies ...Reply) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.queue = append(s.queue, replies...)
}

// FailNext makes the next n requests fail with r (RateLimited, ServerError…).
func (s *Server) FailNext(n int, r Reply) {
	for range n {
		s.Enqueue(r)
	}
}

// SetReply replaces the reply function (nil restores GroundedEcho).
func (s *Server) SetReply(f func(Request) Reply) {
	if f == nil {
		f = GroundedEcho
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	s.reply = f
}

// Requests returns every request received so far, oldest first.
func (s *Server) Requests() []Request {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]Request(nil), s.requests...)
}

// Calls counts the requests received on path (PathChat, PathEmbeddings), or
// all when path is "".
func (s *Server) Calls(path string) int {
	s.mu.Lock()
	defer s.mu.Unlock()
	n := 0
	for _, r := range s.requests {
		if path == "" || r.Path == path {
			n++
		}
	}
	return n
}

// InFlight counts the requests being answered now (chat and embeddings),
// as a provider counts concurrent requests.
func (s *Server) InFlight() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.inFlight
}

// PeakInFlight is the most requests that were in flight at once.
func (s *Server) PeakInFlight() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.peak
}

// enter counts a request in flight until the returned function is called.
func (s *Server) enter() (leave func()) {
	s.mu.Lock()
	s.inFlight++
	s.peak = max(s.peak, s.inFlight)
	s.mu.Unlock()
	return func() {
		s.mu.Lock()
		s.inFlight--
		s.mu.Unlock()
	}
}

func (s *Server) record(req Request) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.requests = append(s.requests, req)
}

// next records req and picks its reply.
func (s *Server) next(req Request) (Reply, bool) {
	s.mu.Lock()
	s.requests = append(s.requests, req)
	if len(s.queue) > 0 {
		r := s.queue[0]
		s.queue = s.queue[1:]
		s.mu.Unlock()
		return r, true
	}
	f := s.reply
	s.mu.Unlock()
	return f(req), false
}

func (s *Server) logf(format string, args ...any) {
	if s.opts.Logf != nil {
		s.opts.Logf(format, args...)
	}
}

// authorized checks the Bearer key when one is configured.
func (s *Server) authorized(w http.ResponseWriter, r *http.Request) bool {
	if s.opts.APIKey == "" || r.Header.Get("Authorization") == "Bearer "+s.opts.APIKey {
		return true
	}
	writeError(w, http.StatusUnauthorized, "Incorrect API key provided.", "invalid_request_error", "invalid_api_key")
	s.logf("%s %s → 401 (wrong or missing key)", r.Method, r.URL.Path)
	return false
}

// chatRequest is the subset of the chat completion request the fake reads.
type chatRequest struct {
	Model    string `json:"model"`
	Messages []struct {
		Role    string          `json:"role"`
		Content json.RawMessage `json:"content"`
	} `json:"messages"`
	Stream        bool `json:"stream"`
	StreamOptions *struct {
		IncludeUsage bool `json:"include_usage"`
	} `json:"stream_options"`
	Temperature         *float64 `json:"temperature"`
	MaxTokens           int      `json:"max_tokens"`
	MaxCompletionTokens int      `json:"max_completion_tokens"`
}

// content reads a message's content: a string or a list of text parts.
func content(raw json.RawMessage) string {
	var s string
	if json.Unmarshal(raw, &s) == nil {
		return s
	}
	var parts []struct {
		Type string `json:"type"`
		Text string `json:"text"`
	}
	if json.Unmarshal(raw, &parts) == nil {
		var b strings.Builder
		for _, p := range parts {
			b.WriteString(p.Text)
		}
		return b.String()
	}
	return ""
}

func (s *Server) chat(w http.ResponseWriter, r *http.Request) {
	defer s.enter()()
	body, err := io.ReadAll(r.Body)
	if err != nil {
		return
	}
	var cr chatRequest
	if err := json.Unmarshal(body, &cr); err != nil {
		writeError(w, http.StatusBadRequest, "We could not parse the JSON body of your request.", "invalid_request_error", "")
		return
	}
	req := Request{
		Path: PathChat, Time: time.Now(), Authorization: r.Header.Get("Authorization"),
		Model: cr.Model, Stream: cr.Stream, Temperature: cr.Temperature,
		MaxTokens: max(cr.MaxTokens, cr.MaxCompletionTokens), Body: body,
	}
	if cr.StreamOptions != nil {
		req.IncludeUsage = cr.StreamOptions.IncludeUsage
	}
	for _, m := range cr.Messages {
		req.Messages = append(req.Messages, Message{Role: m.Role, Content: content(m.Content)})
	}
	if !s.authorized(w, r) {
		s.record(req)
		return
	}
	if cr.Model == "" || len(cr.Messages) == 0 {
		writeError(w, http.StatusBadRequest, "model and messages are required", "invalid_request_error", "")
		return
	}
	rep, _ := s.next(req)
	if !wait(r, rep.Delay) {
		return
	}
	if failed(w, rep) {
		s.logf("POST %s → %d", PathChat, rep.Status)
		return
	}
	s.logf("POST %s → 200 (stream %v)", PathChat, cr.Stream)
	finish := rep.FinishReason
	if finish == "" {
		finish = "stop"
	}
	usage := map[string]int{"prompt_tokens": tokens(req.All()), "completion_tokens": tokens(rep.Content)}
	usage["total_tokens"] = usage["prompt_tokens"] + usage["completion_tokens"]
	id := fmt.Sprintf("chatcmpl-fake%d", req.Time.UnixNano())
	if !cr.Stream {
		writeJSON(w, http.StatusOK, map[string]any{
			"id": id, "object": "chat.completion", "created": req.Time.Unix(), "model": cr.Model,
			"choices": []any{map[string]any{
				"index":         0,
				"message":       map[string]any{"role": "assistant", "content": rep.Content},
				"finish_reason": finish,
			}},
			"usage": usage,
		})
		return
	}
	s.stream(w, r, req, rep, id, finish, usage)
}

// stream sends the reply as server-sent events the way OpenAI does: a role
// chunk, content chunks, a chunk with the finish reason, the usage chunk
// (when asked for) and "data: [DONE]".
func (s *Server) stream(w http.ResponseWriter, r *http.Request, req Request, rep Reply, id, finish string, usage map[string]int) {
	w.Header().Set("Content-Type", "text/event-stream")
	w.Header().Set("Cache-Control", "no-cache")
	w.WriteHeader(http.StatusOK)
	flusher, _ := w.(http.Flusher)
	send := func(delta map[string]any, finishReason any, extra map[string]any) bool {
		chunk := map[string]any{"id": id, "object": "chat.completion.chunk", "created": req.Time.Unix(), "model": req.Model}
		if delta != nil {
			chunk["choices"] = []any{map[string]any{"index": 0, "delta": delta, "finish_reason": finishReason}}
		} else {
			chunk["choices"] = []any{}
		}
		for k, v := range extra {
			chunk[k] = v
		}
		data, _ := json.Marshal(chunk)
		if _, err := fmt.Fprintf(w, "data: %s\n\n", data); err != nil {
			return false
		}
		if flusher != nil {
			flusher.Flush()
		}
		return true
	}
	if !send(map[string]any{"role": "assistant", "content": ""}, nil, nil) {
		return
	}
	for _, piece := range pieces(rep.Content) {
		if !wait(r, rep.ChunkDelay) || !send(map[string]any{"content": piece}, nil, nil) {
			return
		}
	}
	if !send(map[string]any{}, finish, nil) {
		return
	}
	if req.IncludeUsage && !send(nil, nil, map[string]any{"usage": usage}) {
		return
	}
	fmt.Fprint(w, "data: [DONE]\n\n")
	if flusher != nil {
		flusher.Flush()
	}
}

// pieces splits text into word-sized stream chunks that join back to it.
func pieces(text string) []string {
	var out []string
	start := 0
	for i, r := range text {
		if r == ' ' && i > start {
			out = append(out, text[start:i])
			start = i
		}
	}
	if start < len(text) {
		out = append(out, text[start:])
	}
	return out
}

type embeddingRequest struct {
	Model          string          `json:"model"`
	Input          json.RawMessage `json:"input"`
	EncodingFormat string          `json:"encoding_format"`
	Dimensions     int             `json:"dimensions"`
}

func (s *Server) embeddings(w http.ResponseWriter, r *http.Request) {
	defer s.enter()()
	body, err := io.ReadAll(r.Body)
	if err != nil {
		return
	}
	var er embeddingRequest
	if err := json.Unmarshal(body, &er); err != nil {
		writeError(w, http.StatusBadRequest, "We could not parse the JSON body of your request.", "invalid_request_error", "")
		return
	}
	var inputs []string
	var one string
	if json.Unmarshal(er.Input, &one) == nil {
		inputs = []string{one}
	} else if err := json.Unmarshal(er.Input, &inputs); err != nil {
		writeError(w, http.StatusBadRequest, "input must be a string or a list of strings", "invalid_request_error", "")
		return
	}
	req := Request{Path: PathEmbeddings, Time: time.Now(), Authorization: r.Header.Get("Authorization"),
		Model: er.Model, Input: inputs, EncodingFormat: er.EncodingFormat, Dimensions: er.Dimensions, Body: body}
	if !s.authorized(w, r) {
		s.record(req)
		return
	}
	if er.Model == "" || len(inputs) == 0 {
		writeError(w, http.StatusBadRequest, "model and input are required", "invalid_request_error", "")
		return
	}
	if er.EncodingFormat != "" && er.EncodingFormat != "float" && er.EncodingFormat != "base64" {
		writeError(w, http.StatusBadRequest, "encoding_format must be float or base64", "invalid_request_error", "")
		return
	}
	rep, _ := s.next(req)
	if !wait(r, rep.Delay) {
		return
	}
	if failed(w, rep) {
		s.logf("POST %s → %d", PathEmbeddings, rep.Status)
		return
	}
	s.logf("POST %s → 200 (%d inputs, %s)", PathEmbeddings, len(inputs), er.EncodingFormat)
	dims := er.Dimensions
	if dims <= 0 {
		dims = DefaultDimensions
	}
	data := make([]any, len(inputs))
	total := 0
	for i, text := range inputs {
		vec := Vector(text, dims)
		total += tokens(text)
		var emb any = vec
		if er.EncodingFormat == "base64" {
			emb = EncodeBase64(vec)
		}
		data[i] = map[string]any{"object": "embedding", "index": i, "embedding": emb}
	}
	writeJSON(w, http.StatusOK, map[string]any{
		"object": "list", "data": data, "model": er.Model,
		"usage": map[string]int{"prompt_tokens": total, "total_tokens": total},
	})
}

// Vector is the fake's embedding of text: a normalized bag of hashed
// lower-case words, so equal texts get equal vectors and texts sharing
// words get similar ones.
func Vector(text string, dims int) []float32 {
	vec := make([]float64, dims)
	words := strings.FieldsFunc(strings.ToLower(text), func(r rune) bool { return !unicode.IsLetter(r) && !unicode.IsDigit(r) })
	for _, w := range words {
		h := fnv.New64a()
		h.Write([]byte(w))
		sum := h.Sum64()
		sign := 1.0
		if sum&(1<<63) != 0 {
			sign = -1
		}
		vec[sum%uint64(dims)] += sign
	}
	var norm float64
	for _, v := range vec {
		norm += v * v
	}
	out := make([]float32, dims)
	if norm == 0 {
		out[0] = 1
		return out
	}
	norm = math.Sqrt(norm)
	for i, v := range vec {
		out[i] = float32(v / norm)
	}
	return out
}

// EncodeBase64 encodes a vector the way OpenAI does for
// encoding_format=base64: little-endian float32s, standard base64.
func EncodeBase64(vec []float32) string {
	buf := make([]byte, 4*len(vec))
	for i, v := range vec {
		binary.LittleEndian.PutUint32(buf[4*i:], math.Float32bits(v))
	}
	return base64.StdEncoding.EncodeToString(buf)
}

// wait sleeps d unless the client goes away first; it reports whether to go on.
func wait(r *http.Request, d time.Duration) bool {
	if d <= 0 {
		return true
	}
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return true
	case <-r.Context().Done():
		return false
	}
}

// failed writes rep's failure, if it is one.
func failed(w http.ResponseWriter, rep Reply) bool {
	if rep.Status == 0 || rep.Status == http.StatusOK {
		return false
	}
	if rep.RetryAfter != "" {
		w.Header().Set("Retry-After", rep.RetryAfter)
	}
	msg := rep.Message
	if msg == "" {
		msg = http.StatusText(rep.Status)
	}
	typ, code := "server_error", ""
	switch {
	case rep.Status == http.StatusTooManyRequests:
		typ, code = "rate_limit_error", "rate_limit_exceeded"
	case rep.Status < 500:
		typ = "invalid_request_error"
	}
	writeError(w, rep.Status, msg, typ, code)
	return true
}

func writeError(w http.ResponseWriter, status int, msg, typ, code string) {
	e := map[string]any{"message": msg, "type": typ, "param": nil, "code": nil}
	if code != "" {
		e["code"] = code
	}
	writeJSON(w, status, map[string]any{"error": e})
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(v)
}

// tokens approximates a token count as runes/4, like the bot does.
func tokens(s string) int { return (len([]rune(s)) + 3) / 4 }

// Sentinel is what GroundedEcho answers when the prompt holds no sources;
// it matches the answer handler's "not covered" sentinel.
const Sentinel = "NOT_COVERED"

var sourceLine = regexp.MustCompile(`(?m)^\[(\d+)\][^\n]*\n((?:[^\n]+\n?)+)`)

// GroundedEcho is the default script: it answers from the first numbered
// source ("[1] Title …" followed by its text) in the last user message,
// quoting its first sentence and citing it as [1]; without sources it
// answers Sentinel, the way a well-behaved model declines.
func GroundedEcho(req Request) Reply {
	if req.Path == PathEmbeddings {
		return Reply{}
	}
	var last string
	for _, m := range req.Messages {
		if m.Role == "user" {
			last = m.Content
		}
	}
	m := sourceLine.FindStringSubmatch(last)
	if m == nil {
		return Reply{Content: Sentinel}
	}
	text := strings.TrimSpace(m[2])
	if i := strings.IndexAny(text, ".!?"); i > 0 {
		text = text[:i+1]
	}
	if strings.HasPrefix(text, "<") { // a closing delimiter right after the heading
		return Reply{Content: Sentinel}
	}
	return Reply{Content: fmt.Sprintf("According to the documentation [%s]: %s", m[1], text)}
}
