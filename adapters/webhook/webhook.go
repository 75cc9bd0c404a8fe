// Package webhook sends the research inbox's events to issue trackers: a
// JSON POST per event, signed with HMAC-SHA256 over the body, retried with
// backoff. It implements inbox.Notifier; receivers check the signature
// with VerifySignature.
package webhook

import (
	"bytes"
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"strings"
	"time"

	"github.com/cenkalti/backoff/v5"

	"github.com/einsatz/einsatz/handlers/inbox"
)

// Headers of a delivery.
const (
	HeaderSignature = "X-Einsatz-Signature" // "sha256=" + hex HMAC-SHA256 of the body
	HeaderEvent     = "X-Einsatz-Event"
	HeaderDelivery  = "X-Einsatz-Delivery" // the same on every retry of one delivery
)

// Doer sends a request; *http.Client implements it.
type Doer interface {
	Do(*http.Request) (*http.Response, error)
}

// Options configure one webhook.
type Options struct {
	URL    string
	Secret string // signs the body; empty: unsigned
	// Tries is how many times a delivery is tried; default 5.
	Tries uint
	// Backoff is the first retry delay (doubling); default 1s.
	Backoff time.Duration
	Doer    Doer // default a client with a 10 s timeout
}

// Hook is one outgoing webhook.
type Hook struct{ o Options }

var _ inbox.Notifier = (*Hook)(nil)

// New returns the webhook for o.URL.
func New(o Options) *Hook {
	if o.Tries == 0 {
		o.Tries = 5
	}
	if o.Backoff <= 0 {
		o.Backoff = time.Second
	}
	if o.Doer == nil {
		o.Doer = &http.Client{Timeout: 10 * time.Second}
	}
	return &Hook{o: o}
}

// Sign is the signature header value for a body.
func Sign(secret string, body []byte) string {
	mac := hmac.New(sha256.New, []byte(secret))
	mac.Write(body)
	return "sha256=" + hex.EncodeToString(mac.Sum(nil))
}

// VerifySignature checks a signature header against the body, in
// constant time; receivers use it.
func VerifySignature(secret string, body []byte, header string) bool {
	return hmac.Equal([]byte(Sign(secret, body)), []byte(strings.TrimSpace(header)))
}

// Notify posts the payload, retrying with exponential backoff on network
// errors, 429 and 5xx; other 4xx answers are final. The error names the
// URL without its query (query strings often carry tokens).
func (h *Hook) Notify(ctx context.Context, p inbox.Payload) error {
	body, err := json.Marshal(p)
	if err != nil {
		return fmt.Errorf("webhook: payload: %w", err)
	}
	if err := h.deliver(ctx, p.Event, p.Delivery, body); err != nil {
		return fmt.Errorf("webhook %s: %w", redactURL(h.o.URL), err)
	}
	return nil
}

func (h *Hook) deliver(ctx context.Context, event, id string, body []byte) error {
	b := backoff.NewExponentialBackOff()
	b.InitialInterval = h.o.Backoff
	b.MaxInterval = 64 * h.o.Backoff
	_, err := backoff.Retry(ctx, func() (struct{}, error) {
		req, err := http.NewRequestWithContext(ctx, http.MethodPost, h.o.URL, bytes.NewReader(body))
		if err != nil {
			return struct{}{}, backoff.Permanent(err)
		}
		req.Header.Set("Content-Type", "application/json")
		req.Header.Set("User-Agent", "einsatz-inbox")
		req.Header.Set(HeaderEvent, event)
		req.Header.Set(HeaderDelivery, id)
		if h.o.Secret != "" {
			req.Header.Set(HeaderSignature, Sign(h.o.Secret, body))
		}
		resp, err := h.o.Doer.Do(req)
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
	}, backoff.WithBackOff(b), backoff.WithMaxTries(h.o.Tries), backoff.WithMaxElapsedTime(0))
	return err
}

// redactURL keeps the host and path of a webhook URL for logs.
func redactURL(u string) string {
	if i := strings.IndexAny(u, "?#"); i >= 0 {
		return u[:i]
	}
	return u
}
