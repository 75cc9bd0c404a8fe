package openai

import (
	"net/http"
	"strconv"
	"strings"
	"sync"
	"time"
)

// go-openai turns an error response into *APIError or *RequestError and
// drops its headers, so Retry-After would be lost. The client's transport
// therefore copies it into a slot that retry puts into each attempt's
// request context: one slot per attempt, so concurrent calls never see each
// other's headers.

type retryAfterKey struct{}

type retryAfterSlot struct {
	mu sync.Mutex
	d  time.Duration
}

func (s *retryAfterSlot) set(d time.Duration) {
	s.mu.Lock()
	s.d = d
	s.mu.Unlock()
}

func (s *retryAfterSlot) get() time.Duration {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.d
}

type retryAfterTransport struct {
	base http.RoundTripper
}

func (t *retryAfterTransport) RoundTrip(req *http.Request) (*http.Response, error) {
	resp, err := t.base.RoundTrip(req)
	if resp != nil && resp.StatusCode >= 400 {
		if slot, ok := req.Context().Value(retryAfterKey{}).(*retryAfterSlot); ok {
			slot.set(parseRetryAfter(resp.Header, time.Now()))
		}
	}
	return resp, err
}

// parseRetryAfter reads retry-after-ms (OpenAI's, in milliseconds) or
// Retry-After in seconds or as an HTTP date; 0 when absent or unreadable.
func parseRetryAfter(h http.Header, now time.Time) time.Duration {
	if v := strings.TrimSpace(h.Get("Retry-After-Ms")); v != "" {
		if ms, err := strconv.ParseFloat(v, 64); err == nil && ms > 0 {
			return time.Duration(ms * float64(time.Millisecond))
		}
	}
	v := strings.TrimSpace(h.Get("Retry-After"))
	if v == "" {
		return 0
	}
	if s, err := strconv.ParseFloat(v, 64); err == nil {
		if s <= 0 {
			return 0
		}
		return time.Duration(s * float64(time.Second))
	}
	if at, err := http.ParseTime(v); err == nil && at.After(now) {
		return at.Sub(now)
	}
	return 0
}
