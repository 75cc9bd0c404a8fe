// Package openai is Einsatz's client for any OpenAI-compatible API (OpenAI,
// Azure OpenAI's v1 endpoint, Ollama, vLLM, LocalAI…) over go-openai: chat
// completions for the answer handler (plain and streamed) and embeddings
// for the knowledge base.
//
// go-openai does not retry, so the client does: 429 and 5xx answers and
// transport errors are retried with exponential backoff (cenkalti/backoff),
// waiting what the server asks for in Retry-After (or retry-after-ms), and
// never past the context's deadline. go-openai does not expose the headers
// of error responses, so the client's HTTP transport captures Retry-After
// per request (see retryAfterTransport).
package openai

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"math"
	"net/http"
	"sort"
	"time"

	"github.com/cenkalti/backoff/v5"
	goopenai "github.com/sashabaranov/go-openai"

	"github.com/einsatz/einsatz/bot"
	"github.com/einsatz/einsatz/handlers/answer"
)

// Defaults of Options.
const (
	DefaultBaseURL         = "https://api.openai.com/v1"
	DefaultModel           = "gpt-4o-mini"
	DefaultMaxRetries      = 3
	DefaultInitialInterval = 500 * time.Millisecond
	DefaultMaxInterval     = 5 * time.Second
	DefaultMaxRetryWait    = 30 * time.Second
	DefaultIdleConns       = 64
	// DefaultMaxConcurrent suits a typical hosted provider's rate limit
	// (a few hundred requests a minute at a few seconds per answer).
	DefaultMaxConcurrent = 8
	// DefaultMaxElapsed bounds retrying when the context has no deadline.
	DefaultMaxElapsed = 2 * time.Minute
)

// Options configure a Client. Zero values get the defaults noted.
type Options struct {
	BaseURL string // must include /v1; default DefaultBaseURL
	APIKey  string // sent as Bearer; may be empty (Ollama)
	Model   string // chat model; default DefaultModel
	// EmbeddingModel is the embeddings model; Embed fails without one.
	EmbeddingModel string
	// EmbeddingFormat is "float" (default) or "base64" (smaller responses).
	EmbeddingFormat string
	// Dimensions asks text-embedding-3 and later models for shorter vectors;
	// 0 = the model's own.
	Dimensions int

	Temperature float32 // sampling temperature; 0 is sent as (nearly) 0, not omitted
	MaxTokens   int     // answer length limit; 0 = the server's default

	// MaxRetries is how often a failed call is retried (so MaxRetries+1
	// attempts at most); default DefaultMaxRetries, negative = never.
	MaxRetries int
	// InitialInterval and MaxInterval shape the exponential backoff between
	// retries; defaults DefaultInitialInterval and DefaultMaxInterval.
	InitialInterval time.Duration
	MaxInterval     time.Duration
	// MaxRetryWait caps any one wait, including a server's Retry-After;
	// default DefaultMaxRetryWait. A wait that would end past the context's
	// deadline is not started: the call fails at once.
	MaxRetryWait time.Duration

	// HTTPClient is the client to use; its Transport is wrapped to read
	// Retry-After. Default: one whose transport keeps IdleConns idle
	// connections per host (Go's default of 2 makes a busy bot reconnect
	// for every other request).
	HTTPClient *http.Client
	IdleConns  int // default DefaultIdleConns
	// MaxConcurrent bounds the calls to the server in flight at once (a
	// call holds its slot through its retries); more wait their turn.
	// Default DefaultMaxConcurrent, negative = no limit.
	MaxConcurrent int

	// Logger gets retries (warn: status and attempt, never keys or message
	// text); default slog.Default().
	Logger *slog.Logger
	// OnRetry, when set, is told of every retry before its wait.
	OnRetry func(Retry)
}

// Retry describes one retry, for OnRetry.
type Retry struct {
	Op         string        // "chat", "stream", "embeddings"
	Attempt    int           // the attempt that failed, from 1
	Status     int           // HTTP status, 0 for transport errors
	RetryAfter time.Duration // what the server asked for, 0 if nothing
	Wait       time.Duration // how long the client waits now
	Err        error
}

// Client talks to an OpenAI-compatible API. It is safe for concurrent use.
type Client struct {
	api   *goopenai.Client
	opts  Options
	log   *slog.Logger
	slots chan struct{} // nil: no limit
}

var _ answer.LLM = (*Client)(nil)

// New returns a client. It does not contact the server.
func New(opts Options) *Client {
	if opts.BaseURL == "" {
		opts.BaseURL = DefaultBaseURL
	}
	if opts.Model == "" {
		opts.Model = DefaultModel
	}
	if opts.MaxRetries == 0 {
		opts.MaxRetries = DefaultMaxRetries
	}
	if opts.MaxRetries < 0 {
		opts.MaxRetries = 0
	}
	if opts.InitialInterval <= 0 {
		opts.InitialInterval = DefaultInitialInterval
	}
	if opts.MaxInterval <= 0 {
		opts.MaxInterval = DefaultMaxInterval
	}
	if opts.MaxRetryWait <= 0 {
		opts.MaxRetryWait = DefaultMaxRetryWait
	}
	if opts.IdleConns <= 0 {
		opts.IdleConns = DefaultIdleConns
	}
	if opts.Logger == nil {
		opts.Logger = slog.Default()
	}
	if opts.MaxConcurrent == 0 {
		opts.MaxConcurrent = DefaultMaxConcurrent
	}
	var slots chan struct{}
	if opts.MaxConcurrent > 0 {
		slots = make(chan struct{}, opts.MaxConcurrent)
	}
	var hc http.Client
	if opts.HTTPClient != nil {
		hc = *opts.HTTPClient
	}
	base := hc.Transport
	if base == nil {
		t := http.DefaultTransport.(*http.Transport).Clone()
		t.MaxIdleConns = max(t.MaxIdleConns, opts.IdleConns)
		t.MaxIdleConnsPerHost = opts.IdleConns
		base = t
	}
	hc.Transport = &retryAfterTransport{base: base}

	cfg := goopenai.DefaultConfig(opts.APIKey)
	cfg.BaseURL = opts.BaseURL
	cfg.HTTPClient = &hc
	return &Client{api: goopenai.NewClientWithConfig(cfg), opts: opts, log: opts.Logger, slots: slots}
}

// Model is the chat model the client asks for.
func (c *Client) Model() string { return c.opts.Model }

func (c *Client) chatRequest(msgs []answer.Message) goopenai.ChatCompletionRequest {
	temp := c.opts.Temperature
	if temp == 0 {
		// go-openai omits a zero temperature and the server would use its
		// default (1 at OpenAI); the smallest float32 is sent as 0-ish.
		temp = math.SmallestNonzeroFloat32
	}
	req := goopenai.ChatCompletionRequest{
		Model:       c.opts.Model,
		Temperature: temp,
		MaxTokens:   c.opts.MaxTokens,
		Messages:    make([]goopenai.ChatCompletionMessage, len(msgs)),
	}
	for i, m := range msgs {
		req.Messages[i] = goopenai.ChatCompletionMessage{Role: m.Role, Content: m.Content}
	}
	return req
}

// ErrEmpty is returned when the server answers without any choice.
var ErrEmpty = errors.New("openai: empty response")

// Complete asks the chat model for the next assistant message.
func (c *Client) Complete(ctx context.Context, msgs []answer.Message) (string, error) {
	release, err := c.acquire(ctx, "chat")
	if err != nil {
		return "", err
	}
	defer release()
	req := c.chatRequest(msgs)
	return retry(ctx, c, "chat", func(ctx context.Context) (string, error) {
		resp, err := c.api.CreateChatCompletion(ctx, req)
		if err != nil {
			return "", err
		}
		if len(resp.Choices) == 0 {
			return "", backoff.Permanent(ErrEmpty)
		}
		return resp.Choices[0].Message.Content, nil
	})
}

// Usage counts tokens of a call, as the server reports them.
type Usage struct {
	PromptTokens     int
	CompletionTokens int
}

// Stream asks for the next assistant message as a stream, calling onDelta
// (when not nil) with each piece as it arrives, and returns the whole text
// with the usage the server reports at the end. Opening the stream is
// retried like Complete; a stream broken midway is not (onDelta has seen
// part of it), and its error is returned with the text so far.
func (c *Client) Stream(ctx context.Context, msgs []answer.Message, onDelta func(string)) (string, Usage, error) {
	release, err := c.acquire(ctx, "stream")
	if err != nil {
		return "", Usage{}, err
	}
	defer release()
	req := c.chatRequest(msgs)
	req.Stream = true
	req.StreamOptions = &goopenai.StreamOptions{IncludeUsage: true}
	stream, err := retry(ctx, c, "stream", func(ctx context.Context) (*goopenai.ChatCompletionStream, error) {
		return c.api.CreateChatCompletionStream(ctx, req)
	})
	if err != nil {
		return "", Usage{}, err
	}
	defer stream.Close()
	var text []byte
	var usage Usage
	for {
		chunk, err := stream.Recv()
		if errors.Is(err, io.EOF) {
			return string(text), usage, nil
		}
		if err != nil {
			return string(text), usage, fmt.Errorf("openai: stream: %w", err)
		}
		if chunk.Usage != nil {
			usage = Usage{PromptTokens: chunk.Usage.PromptTokens, CompletionTokens: chunk.Usage.CompletionTokens}
		}
		for _, ch := range chunk.Choices {
			if ch.Index != 0 || ch.Delta.Content == "" {
				continue
			}
			text = append(text, ch.Delta.Content...)
			if onDelta != nil {
				onDelta(ch.Delta.Content)
			}
		}
	}
}

// ErrNoEmbeddingModel is returned by Embed when no embedding model is set.
var ErrNoEmbeddingModel = errors.New("openai: no embedding model configured")

// Embed returns one vector per text, in order.
func (c *Client) Embed(ctx context.Context, texts []string) ([][]float32, error) {
	if c.opts.EmbeddingModel == "" {
		return nil, ErrNoEmbeddingModel
	}
	if len(texts) == 0 {
		return nil, nil
	}
	release, err := c.acquire(ctx, "embeddings")
	if err != nil {
		return nil, err
	}
	defer release()
	req := goopenai.EmbeddingRequestStrings{
		Input:          texts,
		Model:          goopenai.EmbeddingModel(c.opts.EmbeddingModel),
		EncodingFormat: goopenai.EmbeddingEncodingFormat(c.opts.EmbeddingFormat),
		Dimensions:     c.opts.Dimensions,
	}
	return retry(ctx, c, "embeddings", func(ctx context.Context) ([][]float32, error) {
		resp, err := c.api.CreateEmbeddings(ctx, req)
		if err != nil {
			return nil, err
		}
		if len(resp.Data) != len(texts) {
			return nil, backoff.Permanent(fmt.Errorf("openai: %d embeddings for %d texts", len(resp.Data), len(texts)))
		}
		data := resp.Data
		sort.SliceStable(data, func(i, j int) bool { return data[i].Index < data[j].Index })
		out := make([][]float32, len(data))
		for i, d := range data {
			out[i] = d.Embedding
		}
		return out, nil
	})
}

// acquire waits for one of the MaxConcurrent slots and returns its release.
// The wait and the call behind it do not hold one of the bot core's
// workers (bot.Waiting): other threads go on meanwhile.
func (c *Client) acquire(ctx context.Context, op string) (release func(), err error) {
	resume := bot.Waiting(ctx)
	if c.slots == nil {
		return resume, nil
	}
	select {
	case c.slots <- struct{}{}:
	case <-ctx.Done():
		resume()
		return nil, fmt.Errorf("openai: %s: waiting for a free slot (llm.max_concurrent): %w", op, ctx.Err())
	}
	return func() {
		<-c.slots
		resume()
	}, nil
}

// StatusCode is the HTTP status of an API error, or 0 when err carries none
// (a transport error, a timeout).
func StatusCode(err error) int {
	var apiErr *goopenai.APIError
	if errors.As(err, &apiErr) {
		return apiErr.HTTPStatusCode
	}
	var reqErr *goopenai.RequestError
	if errors.As(err, &reqErr) {
		return reqErr.HTTPStatusCode
	}
	return 0
}

// retryable reports whether a failed call may succeed when repeated: rate
// limits, server errors, and transport errors (connection refused or reset).
func retryable(err error, status int) bool {
	switch {
	case status == http.StatusTooManyRequests || status >= 500:
		return true
	case status != 0:
		return false // 400, 401, 404…: the same request fails again
	case errors.Is(err, ErrEmpty):
		return false
	default:
		return true
	}
}

// retry runs op until it succeeds, fails for good, runs out of attempts, or
// the next wait would pass ctx's deadline. Errors are wrapped with the
// operation; they never contain the API key or the messages sent.
func retry[T any](ctx context.Context, c *Client, op string, call func(context.Context) (T, error)) (T, error) {
	b := &retryAfterBackOff{exp: &backoff.ExponentialBackOff{
		InitialInterval:     c.opts.InitialInterval,
		RandomizationFactor: backoff.DefaultRandomizationFactor,
		Multiplier:          2,
		MaxInterval:         c.opts.MaxInterval,
	}, cap: c.opts.MaxRetryWait}
	maxElapsed := DefaultMaxElapsed
	if dl, ok := ctx.Deadline(); ok {
		maxElapsed = max(time.Until(dl), time.Nanosecond)
	}
	attempt := 0
	var last error
	res, err := backoff.Retry(ctx, func() (T, error) {
		attempt++
		slot := &retryAfterSlot{}
		res, err := call(context.WithValue(ctx, retryAfterKey{}, slot))
		if err == nil {
			return res, nil
		}
		last = err
		var perm *backoff.PermanentError
		if errors.As(err, &perm) {
			return res, err
		}
		if ctx.Err() != nil {
			return res, backoff.Permanent(err)
		}
		status := StatusCode(err)
		if !retryable(err, status) {
			return res, backoff.Permanent(err)
		}
		ra := slot.get()
		b.next = ra
		b.info = Retry{Op: op, Attempt: attempt, Status: status, RetryAfter: ra, Err: err}
		return res, err
	},
		backoff.WithBackOff(b),
		backoff.WithMaxTries(uint(c.opts.MaxRetries)+1),
		backoff.WithMaxElapsedTime(maxElapsed),
		backoff.WithNotify(func(err error, wait time.Duration) {
			info := b.info
			info.Wait = wait
			c.log.Warn("openai: retrying", "op", op, "attempt", info.Attempt, "status", info.Status,
				"retry_after", info.RetryAfter, "wait", wait)
			if c.opts.OnRetry != nil {
				c.opts.OnRetry(info)
			}
		}))
	if err != nil {
		if last == nil || errors.Is(err, context.Canceled) || errors.Is(err, context.DeadlineExceeded) {
			last = err // the wait was cut short by ctx
		}
		return res, fmt.Errorf("openai: %s (%d attempts): %w", op, attempt, last)
	}
	return res, nil
}

// retryAfterBackOff is exponential backoff that waits what the server asked
// for instead, when it asked, and never longer than cap.
type retryAfterBackOff struct {
	exp  *backoff.ExponentialBackOff
	cap  time.Duration
	next time.Duration // the last failure's Retry-After, 0 if none
	info Retry         // the last failure, for Notify
}

func (b *retryAfterBackOff) Reset() { b.exp.Reset(); b.next = 0 }

func (b *retryAfterBackOff) NextBackOff() time.Duration {
	d := b.exp.NextBackOff()
	if b.next > 0 {
		d, b.next = b.next, 0
	}
	return min(d, b.cap)
}
