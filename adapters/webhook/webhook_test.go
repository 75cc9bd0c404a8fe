package webhook_test

import (
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/einsatz/einsatz/adapters/webhook"
	"github.com/einsatz/einsatz/bot/request"
	"github.com/einsatz/einsatz/handlers/inbox"
)

func TestSignAndVerify(t *testing.T) {
	body := []byte(`{"a":1}`)
	if sig := webhook.Sign("k", body); !strings.HasPrefix(sig, "sha256=") || !webhook.VerifySignature("k", body, sig) || webhook.VerifySignature("k2", body, sig) {
		t.Errorf("Sign/VerifySignature disagree: %s", sig)
	}
}

// One delivery: signed, with the event and delivery headers, retried on
// 5xx with the same delivery id; a 4xx is final, and its error names the
// URL without the query (which may carry a token).
func TestNotify(t *testing.T) {
	var calls atomic.Int32
	var deliveries []string
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		deliveries = append(deliveries, r.Header.Get(webhook.HeaderDelivery))
		if calls.Add(1) == 1 {
			http.Error(w, "busy", http.StatusServiceUnavailable)
			return
		}
		var p inbox.Payload
		if !webhook.VerifySignature("s3cret", body, r.Header.Get(webhook.HeaderSignature)) || json.Unmarshal(body, &p) != nil ||
			r.Header.Get(webhook.HeaderEvent) != p.Event || p.Item.ID != 7 {
			http.Error(w, "bad delivery", http.StatusBadRequest)
		}
	}))
	defer srv.Close()
	ctx := context.Background()
	p := inbox.Payload{Event: inbox.EventNew, Delivery: "d1", Time: time.Now(), Item: request.Item{ID: 7, Title: "dark mode"}}
	if err := webhook.New(webhook.Options{URL: srv.URL, Secret: "s3cret", Backoff: time.Millisecond}).Notify(ctx, p); err != nil {
		t.Fatal(err)
	}
	if calls.Load() != 2 || deliveries[0] != "d1" || deliveries[1] != "d1" {
		t.Fatalf("%d calls, delivery ids %v; want 2 calls of d1", calls.Load(), deliveries)
	}
	err := webhook.New(webhook.Options{URL: srv.URL + "/x?token=secret", Secret: "wrong", Backoff: time.Millisecond}).Notify(ctx, p)
	if err == nil || !strings.Contains(err.Error(), "400") || strings.Contains(err.Error(), "token=secret") {
		t.Fatalf("rejected delivery: %v", err)
	}
	if calls.Load() != 3 {
		t.Errorf("%d calls, want 3 (a 4xx is not retried)", calls.Load())
	}
}
