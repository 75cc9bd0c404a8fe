package openai

import (
	"context"
	"errors"
	"io"
	"log/slog"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/einsatz/einsatz/adapters/openai/openaitest"
	"github.com/einsatz/einsatz/handlers/answer"
)

const testKey = "sk-test-0123456789abcdef"

var quiet = slog.New(slog.NewTextHandler(io.Discard, nil))

// newClient returns a client for the fake with short waits.
func newClient(t *testing.T, fake *openaitest.Server, opts Options) *Client {
	t.Helper()
	opts.BaseURL = fake.URL
	if opts.APIKey == "" {
		opts.APIKey = testKey
	}
	if opts.MaxRetryWait == 0 {
		opts.MaxRetryWait = 20 * time.Millisecond
	}
	if opts.InitialInterval == 0 {
		opts.InitialInterval = 5 * time.Millisecond
	}
	if opts.Logger == nil {
		opts.Logger = quiet
	}
	return New(opts)
}

var msgs = []answer.Message{
	{Role: answer.RoleSystem, Content: "You are a test."},
	{Role: answer.RoleUser, Content: "Hello?"},
}

func TestComplete(t *testing.T) {
	fake := openaitest.Start(t, openaitest.Options{APIKey: testKey})
	fake.Enqueue(openaitest.Reply{Content: "Hi there."})
	c := newClient(t, fake, Options{Model: "test-model", Temperature: 0.2, MaxTokens: 99})
	got, err := c.Complete(context.Background(), msgs)
	if err != nil {
		t.Fatal(err)
	}
	if got != "Hi there." {
		t.Fatalf("Complete = %q", got)
	}
	reqs := fake.Requests()
	if len(reqs) != 1 {
		t.Fatalf("%d requests, want 1", len(reqs))
	}
	r := reqs[0]
	if r.Model != "test-model" || r.MaxTokens != 99 || r.Temperature == nil || *r.Temperature < 0.19 || *r.Temperature > 0.21 {
		t.Errorf("request model %q max_tokens %d temperature %v", r.Model, r.MaxTokens, r.Temperature)
	}
	if len(r.Messages) != 2 || r.Messages[0] != (openaitest.Message{Role: "system", Content: "You are a test."}) || r.Messages[1].Role != "user" {
		t.Errorf("messages = %+v", r.Messages)
	}
	if r.Authorization != "Bearer "+testKey {
		t.Errorf("authorization = %q", r.Authorization)
	}
}

func TestZeroTemperatureIsSent(t *testing.T) {
	fake := openaitest.Start(t, openaitest.Options{})
	c := newClient(t, fake, Options{Temperature: 0})
	if _, err := c.Complete(context.Background(), msgs); err != nil {
		t.Fatal(err)
	}
	if temp := fake.Requests()[0].Temperature; temp == nil || *temp > 0.001 {
		t.Fatalf("temperature = %v, want about 0 (not omitted)", temp)
	}
}

func TestErrors(t *testing.T) {
	tests := []struct {
		name       string
		script     []openaitest.Reply
		maxRetries int
		wantText   string
		wantErr    int // HTTP status of the final error; 0 = success
		wantCalls  int
	}{
		{"429 with Retry-After is retried", []openaitest.Reply{openaitest.RateLimited, {Content: "ok"}}, 3, "ok", 0, 2},
		{"500 twice then success", []openaitest.Reply{openaitest.ServerError, openaitest.ServerError, {Content: "ok"}}, 3, "ok", 0, 3},
		{"503 beyond the retries fails", []openaitest.Reply{openaitest.Unavailable, openaitest.Unavailable, openaitest.Unavailable}, 2, "", 503, 3},
		{"400 is not retried", []openaitest.Reply{{Status: 400, Message: "bad"}, {Content: "never"}}, 3, "", 400, 1},
		{"no retries configured", []openaitest.Reply{openaitest.ServerError, {Content: "never"}}, -1, "", 500, 1},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			fake := openaitest.Start(t, openaitest.Options{})
			fake.Enqueue(tt.script...)
			c := newClient(t, fake, Options{MaxRetries: tt.maxRetries})
			got, err := c.Complete(context.Background(), msgs)
			if tt.wantErr == 0 {
				if err != nil || got != tt.wantText {
					t.Fatalf("Complete = %q, %v; want %q", got, err, tt.wantText)
				}
			} else if StatusCode(err) != tt.wantErr {
				t.Fatalf("Complete error = %v (status %d), want status %d", err, StatusCode(err), tt.wantErr)
			}
			if n := fake.Calls(openaitest.PathChat); n != tt.wantCalls {
				t.Fatalf("%d calls, want %d", n, tt.wantCalls)
			}
		})
	}
}

func TestWrongKeyIsNotRetried(t *testing.T) {
	fake := openaitest.Start(t, openaitest.Options{APIKey: "sk-the-right-one"})
	c := newClient(t, fake, Options{APIKey: "sk-the-wrong-one"})
	_, err := c.Complete(context.Background(), msgs)
	if StatusCode(err) != http.StatusUnauthorized {
		t.Fatalf("err = %v, want 401", err)
	}
	if strings.Contains(err.Error(), "sk-the-wrong-one") {
		t.Fatalf("error shows the API key: %v", err)
	}
	if n := fake.Calls(""); n != 1 {
		t.Fatalf("%d calls, want 1", n)
	}
}

// The client reads Retry-After although go-openai drops error headers, and
// waits what it says (capped by MaxRetryWait, short in tests).
func TestRetryAfterIsHonoured(t *testing.T) {
	fake := openaitest.Start(t, openaitest.Options{})
	fake.Enqueue(openaitest.RateLimited, openaitest.Reply{Status: 503, RetryAfter: "0.01"}, openaitest.Reply{Content: "ok"})
	var mu sync.Mutex
	var retries []Retry
	c := newClient(t, fake, Options{MaxRetryWait: 50 * time.Millisecond, OnRetry: func(r Retry) {
		mu.Lock()
		retries = append(retries, r)
		mu.Unlock()
	}})
	got, err := c.Complete(context.Background(), msgs)
	if err != nil || got != "ok" {
		t.Fatalf("Complete = %q, %v", got, err)
	}
	mu.Lock()
	defer mu.Unlock()
	if len(retries) != 2 {
		t.Fatalf("retries = %+v, want 2", retries)
	}
	if r := retries[0]; r.Status != 429 || r.RetryAfter != time.Second || r.Wait != 50*time.Millisecond || r.Attempt != 1 {
		t.Errorf("first retry = %+v, want 429, Retry-After 1s, wait capped to 50ms", r)
	}
	if r := retries[1]; r.Status != 503 || r.RetryAfter != 10*time.Millisecond || r.Wait != 10*time.Millisecond {
		t.Errorf("second retry = %+v, want 503 waiting the 10ms asked for", r)
	}
}

// A wait that would end after the deadline is not started.
func TestRetryStopsAtDeadline(t *testing.T) {
	fake := openaitest.Start(t, openaitest.Options{})
	fake.SetReply(func(openaitest.Request) openaitest.Reply {
		return openaitest.Reply{Status: 429, RetryAfter: "5"}
	})
	c := newClient(t, fake, Options{MaxRetryWait: time.Minute})
	ctx, cancel := context.WithTimeout(context.Background(), 300*time.Millisecond)
	defer cancel()
	start := time.Now()
	_, err := c.Complete(ctx, msgs)
	if StatusCode(err) != 429 {
		t.Fatalf("err = %v, want the 429", err)
	}
	if took := time.Since(start); took > 250*time.Millisecond {
		t.Fatalf("took %v: waited although Retry-After passes the deadline", took)
	}
	if n := fake.Calls(""); n != 1 {
		t.Fatalf("%d calls, want 1", n)
	}
}

func TestTimeout(t *testing.T) {
	fake := openaitest.Start(t, openaitest.Options{})
	fake.SetReply(func(openaitest.Request) openaitest.Reply {
		return openaitest.Reply{Content: "late", Delay: 5 * time.Second}
	})
	c := newClient(t, fake, Options{})
	ctx, cancel := context.WithTimeout(context.Background(), 150*time.Millisecond)
	defer cancel()
	start := time.Now()
	_, err := c.Complete(ctx, msgs)
	if !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("err = %v, want deadline exceeded", err)
	}
	if took := time.Since(start); took > time.Second {
		t.Fatalf("took %v, want about the deadline", took)
	}
}

func TestConnectionRefusedIsRetriedThenFails(t *testing.T) {
	fake := openaitest.Start(t, openaitest.Options{})
	url := fake.URL
	fake.Close()
	var n int
	c := New(Options{BaseURL: url, MaxRetries: 2, InitialInterval: time.Millisecond, Logger: quiet,
		OnRetry: func(Retry) { n++ }})
	if _, err := c.Complete(context.Background(), msgs); err == nil {
		t.Fatal("want an error")
	}
	if n != 2 {
		t.Fatalf("%d retries, want 2", n)
	}
}

func TestStream(t *testing.T) {
	fake := openaitest.Start(t, openaitest.Options{APIKey: testKey})
	want := "Einsatz answers questions from your docs [1]."
	fake.Enqueue(openaitest.RateLimited, openaitest.Reply{Content: want, ChunkDelay: time.Millisecond})
	c := newClient(t, fake, Options{})
	var deltas []string
	got, usage, err := c.Stream(context.Background(), msgs, func(d string) { deltas = append(deltas, d) })
	if err != nil {
		t.Fatal(err)
	}
	if got != want || strings.Join(deltas, "") != want || len(deltas) < 3 {
		t.Fatalf("Stream = %q in %d deltas %q, want %q in pieces", got, len(deltas), deltas, want)
	}
	if usage.CompletionTokens == 0 || usage.PromptTokens == 0 {
		t.Errorf("usage = %+v, want the fake's counts", usage)
	}
	reqs := fake.Requests()
	if len(reqs) != 2 || !reqs[1].Stream || !reqs[1].IncludeUsage {
		t.Fatalf("requests = %+v, want the 429 then a stream with include_usage", reqs)
	}
}

func TestEmbed(t *testing.T) {
	texts := []string{"How do I install Einsatz?", "Wie installiere ich Einsatz?", "How do I install Einsatz?"}
	tests := []struct {
		name   string
		format string
		dims   int
	}{
		{"float", "", 0},
		{"float explicit with dimensions", "float", 32},
		{"base64", "base64", 0},
		{"base64 with dimensions", "base64", 256},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			fake := openaitest.Start(t, openaitest.Options{APIKey: testKey})
			c := newClient(t, fake, Options{EmbeddingModel: "text-embedding-3-small", EmbeddingFormat: tt.format, Dimensions: tt.dims})
			vecs, err := c.Embed(context.Background(), texts)
			if err != nil {
				t.Fatal(err)
			}
			dims := tt.dims
			if dims == 0 {
				dims = openaitest.DefaultDimensions
			}
			if len(vecs) != len(texts) {
				t.Fatalf("%d vectors for %d texts", len(vecs), len(texts))
			}
			for i, v := range vecs {
				want := openaitest.Vector(texts[i], dims)
				if len(v) != dims {
					t.Fatalf("vector %d has %d dimensions, want %d", i, len(v), dims)
				}
				for j := range v {
					if v[j] != want[j] {
						t.Fatalf("vector %d differs at %d: %v vs %v", i, j, v[j], want[j])
					}
				}
			}
			r := fake.Requests()[0]
			if r.EncodingFormat != tt.format || r.Dimensions != tt.dims || r.Model != "text-embedding-3-small" || len(r.Input) != 3 {
				t.Errorf("request = format %q dims %d model %q inputs %d", r.EncodingFormat, r.Dimensions, r.Model, len(r.Input))
			}
		})
	}
}

func TestEmbedNeedsModel(t *testing.T) {
	c := New(Options{BaseURL: "http://127.0.0.1:1/v1", Logger: quiet})
	if _, err := c.Embed(context.Background(), []string{"x"}); !errors.Is(err, ErrNoEmbeddingModel) {
		t.Fatalf("err = %v, want ErrNoEmbeddingModel", err)
	}
}

func TestParseRetryAfter(t *testing.T) {
	now := time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)
	tests := []struct {
		name   string
		header map[string]string
		want   time.Duration
	}{
		{"none", nil, 0},
		{"seconds", map[string]string{"Retry-After": "2"}, 2 * time.Second},
		{"fraction", map[string]string{"Retry-After": "0.5"}, 500 * time.Millisecond},
		{"milliseconds header wins", map[string]string{"Retry-After": "2", "Retry-After-Ms": "150"}, 150 * time.Millisecond},
		{"http date", map[string]string{"Retry-After": now.Add(3 * time.Second).Format(http.TimeFormat)}, 3 * time.Second},
		{"date in the past", map[string]string{"Retry-After": now.Add(-time.Minute).Format(http.TimeFormat)}, 0},
		{"garbage", map[string]string{"Retry-After": "soon"}, 0},
		{"negative", map[string]string{"Retry-After": "-1"}, 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			h := http.Header{}
			for k, v := range tt.header {
				h.Set(k, v)
			}
			if got := parseRetryAfter(h, now); got != tt.want {
				t.Fatalf("parseRetryAfter = %v, want %v", got, tt.want)
			}
		})
	}
}

// Concurrent calls each honour their own Retry-After.
func TestConcurrentCalls(t *testing.T) {
	fake := openaitest.Start(t, openaitest.Options{})
	var mu sync.Mutex
	n := 0
	fake.SetReply(func(openaitest.Request) openaitest.Reply {
		mu.Lock()
		defer mu.Unlock()
		n++
		if n%3 == 0 {
			return openaitest.RateLimited
		}
		return openaitest.Reply{Content: "ok"}
	})
	c := newClient(t, fake, Options{MaxRetries: 5})
	var wg sync.WaitGroup
	errs := make(chan error, 20)
	for range 20 {
		wg.Go(func() {
			if got, err := c.Complete(context.Background(), msgs); err != nil || got != "ok" {
				errs <- errors.Join(err, errors.New("got "+got))
			}
		})
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Error(err)
	}
}
