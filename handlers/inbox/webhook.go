package inbox

import (
	"bytes"
	"context"
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"strings"
	"sync"
	"time"

	"github.com/cenkalti/backoff/v5"
)

// Webhook is an outgoing webhook for issue trackers: a JSON POST signed
// with HMAC-SHA256 over the body with Secret.
type Webhook struct {
	URL    string
	Secret string
}

// HTTPDoer sends a request; *http.Client implements it.
type HTTPDoer interface {
	Do(*http.Request) (*http.Response, error)
}

func defaultHTTP() HTTPDoer { return &http.Client{Timeout: 10 * time.Second} }

// Webhook events.
const (
	EventNew    = "item.created"
	EventVote   = "item.voted"
	EventStatus = "item.status_changed"
)

// Webhook headers.
const (
	HeaderSignature = "X-Einsatz-Signature" // "sha256=" + hex HMAC-SHA256 of the body
	HeaderEvent     = "X-Einsatz-Event"
	HeaderDelivery  = "X-Einsatz-Delivery" // the same on every retry of one delivery
)

// Payload is the JSON body of a webhook delivery. Mentions carry the
// request's text; people are named by platform user id and display name.
type Payload struct {
	Event    string    `json:"event"`
	Delivery string    `json:"delivery"`
	Time     time.Time `json:"time"`
	Item     Item      `json:"item"`
	Mention  *Mention  `json:"mention,omitempty"`
	Vote     *Vote     `json:"vote,omitempty"`
	Change   *Change   `json:"change,omitempty"`
}

// Sign is the signature header value for a body.
func Sign(secret string, body []byte) string {
	mac := hmac.New(sha256.New, []byte(secret))
	mac.Write(body)
	return "sha256=" + hex.EncodeToString(mac.Sum(nil))
}

// hookQueue runs deliveries in the background, so a slow tracker never
// holds up a thread; Close waits for those in flight.
type hookQueue struct {
	mu     sync.Mutex
	wg     sync.WaitGroup
	ctx    context.Context
	cancel context.CancelFunc
	closed bool
	sem    chan struct{}
}

func (q *hookQueue) init() {
	q.ctx, q.cancel = context.WithCancel(context.Background())
	q.sem = make(chan struct{}, 4)
}

func (q *hookQueue) wait() { q.wg.Wait() }

func (q *hookQueue) close() {
	q.mu.Lock()
	q.closed = true
	q.mu.Unlock()
	done := make(chan struct{})
	go func() { q.wg.Wait(); close(done) }()
	select {
	case <-done:
	case <-time.After(15 * time.Second):
		q.cancel()
		<-done
	}
	q.cancel()
}

func (q *hookQueue) goDeliver(f func(ctx context.Context)) bool {
	q.mu.Lock()
	defer q.mu.Unlock()
	if q.closed {
		return false
	}
	q.wg.Add(1)
	go func() {
		defer q.wg.Done()
		select {
		case q.sem <- struct{}{}:
		case <-q.ctx.Done():
			return
		}
		defer func() { <-q.sem }()
		f(q.ctx)
	}()
	return true
}

// hook sends an event to every webhook, in the background.
func (s *Service) hook(event string, it Item, m *Mention, v *Vote, ch *Change) {
	if len(s.o.Webhooks) == 0 {
		return
	}
	p := Payload{Event: event, Delivery: newDeliveryID(), Time: s.o.Clock.Now(), Item: it, Mention: m, Vote: v, Change: ch}
	body, err := json.Marshal(p)
	if err != nil {
		s.o.Logger.Error("inbox: webhook payload", "err", err)
		return
	}
	for _, h := range s.o.Webhooks {
		h := h
		if !s.hooks.goDeliver(func(ctx context.Context) {
			if err := s.deliver(ctx, h, event, p.Delivery, body); err != nil {
				s.o.Logger.Error("inbox: webhook delivery failed", "url", redactURL(h.URL), "event", event, "item", it.ID, "err", err)
			}
		}) {
			s.o.Logger.Warn("inbox: webhook not sent: shutting down", "event", event, "item", it.ID)
		}
	}
}

// deliver posts one body, retrying with exponential backoff on network
// errors, 429 and 5xx; other 4xx answers are final.
func (s *Service) deliver(ctx context.Context, h Webhook, event, id string, body []byte) error {
	b := backoff.NewExponentialBackOff()
	b.InitialInterval = s.o.WebhookBackoff
	b.MaxInterval = 64 * s.o.WebhookBackoff
	_, err := backoff.Retry(ctx, func() (struct{}, error) {
		req, err := http.NewRequestWithContext(ctx, http.MethodPost, h.URL, bytes.NewReader(body))
		if err != nil {
			return struct{}{}, backoff.Permanent(err)
		}
		req.Header.Set("Content-Type", "application/json")
		req.Header.Set("User-Agent", "einsatz-inbox")
		req.Header.Set(HeaderEvent, event)
		req.Header.Set(HeaderDelivery, id)
		if h.Secret != "" {
			req.Header.Set(HeaderSignature, Sign(h.Secret, body))
		}
		resp, err := s.o.HTTPDoer.Do(req)
		if err != nil {
			return struct{}{}, err
		}
		_, _ = io.Copy(io.Discard, io.LimitReader(resp.Body, 64<<10))
		resp.Body.Close()
		switch {
		case resp.StatusCode < 300:
			return struct{}{}, nil
		case resp.StatusCode == http.StatusTooManyRequests || resp.StatusCode >= 500:
			return struct{}{}, fmt.Errorf("webhook answered %s", resp.Status)
		default:
			return struct{}{}, backoff.Permanent(fmt.Errorf("webhook answered %s", resp.Status))
		}
	}, backoff.WithBackOff(b), backoff.WithMaxTries(s.o.WebhookTries), backoff.WithMaxElapsedTime(0))
	return err
}

func newDeliveryID() string {
	b := make([]byte, 12)
	_, _ = rand.Read(b)
	return hex.EncodeToString(b)
}

// redactURL keeps the host and path of a webhook URL for logs (query
// strings often carry tokens).
func redactURL(u string) string {
	if i := strings.IndexAny(u, "?#"); i >= 0 {
		return u[:i]
	}
	return u
}
