package inbox

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"sync"
	"time"

	"github.com/einsatz/einsatz/bot/request"
)

// Notifier hears of an inbox event: an outgoing webhook (adapters/webhook
// sends it as a signed HTTP POST, retrying as it sees fit). Notify runs in
// the background, never on a thread's path; its error is logged.
type Notifier interface {
	Notify(ctx context.Context, p Payload) error
}

// Events a Notifier hears of.
const (
	EventNew    = "item.created"
	EventVote   = "item.voted"
	EventStatus = "item.status_changed"
	// EventNotRequest and EventRestored are the quiet removal of a false
	// positive and its undoing: distinct from EventStatus, so a receiver
	// that posts status changes publicly does not announce them.
	EventNotRequest = "item.not_request"
	EventRestored   = "item.restored"
)

// Payload is what a Notifier gets (the JSON body of a webhook delivery).
// Mentions carry the request's text; people are named by platform user id
// and display name.
type Payload struct {
	Event    string           `json:"event"`
	Delivery string           `json:"delivery"`
	Time     time.Time        `json:"time"`
	Item     request.Item     `json:"item"`
	Mention  *request.Mention `json:"mention,omitempty"`
	Vote     *request.Vote    `json:"vote,omitempty"`
	Change   *request.Change  `json:"change,omitempty"`
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

// hook sends an event to every notifier, in the background. The delivery
// id is made here, so that it stays the same on every retry.
func (s *Service) hook(event string, it request.Item, m *request.Mention, v *request.Vote, ch *request.Change) {
	if len(s.o.Notifiers) == 0 {
		return
	}
	p := Payload{Event: event, Delivery: newDeliveryID(), Time: s.o.Clock.Now(), Item: it, Mention: m, Vote: v, Change: ch}
	for _, n := range s.o.Notifiers {
		if !s.hooks.goDeliver(func(ctx context.Context) {
			if err := n.Notify(ctx, p); err != nil {
				s.o.Logger.Error("inbox: webhook delivery failed", "event", event, "item", it.ID, "err", err)
			}
		}) {
			s.o.Logger.Warn("inbox: webhook not sent: shutting down", "event", event, "item", it.ID)
		}
	}
}

func newDeliveryID() string {
	b := make([]byte, 12)
	_, _ = rand.Read(b)
	return hex.EncodeToString(b)
}
