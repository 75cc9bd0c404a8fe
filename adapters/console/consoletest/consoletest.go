// Package consoletest runs a bot over the console adapter on in-memory
// pipes: the in-process end-to-end harness. A test writes lines as a user
// would type them and waits for the bot's output.
package consoletest

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/einsatz/einsatz/adapters/console"
	"github.com/einsatz/einsatz/bot"
)

// RunFunc runs a bot with the given adapter until ctx ends, as bot.Bot.Run
// or the application's own wiring does.
type RunFunc func(ctx context.Context, a bot.Adapter) error

// Harness is a running bot with a console attached.
type Harness struct {
	t       testing.TB
	in      *io.PipeWriter
	out     *buffer
	cancel  context.CancelFunc
	done    chan error
	stopped bool
	// Timeout bounds every wait; default 10 s.
	Timeout time.Duration
}

// Start runs the bot in the background and stops it when the test ends.
func Start(t testing.TB, run RunFunc) *Harness {
	t.Helper()
	pr, pw := io.Pipe()
	out := newBuffer()
	ctx, cancel := context.WithCancel(context.Background())
	h := &Harness{t: t, in: pw, out: out, cancel: cancel, done: make(chan error, 1), Timeout: 10 * time.Second}
	a := console.New(pr, out, console.Options{})
	go func() { h.done <- run(ctx, a) }()
	t.Cleanup(func() { h.Stop() })
	return h
}

// Say types lines into the console, one after another.
func (h *Harness) Say(lines ...string) {
	h.t.Helper()
	for _, l := range lines {
		if _, err := io.WriteString(h.in, l+"\n"); err != nil {
			h.t.Fatalf("consoletest: writing %q: %v", l, err)
		}
	}
}

// Output returns everything the bot printed so far.
func (h *Harness) Output() string { return h.out.String() }

// WaitFor waits until the output contains substr n times (n ≥ 1) and
// returns the output.
func (h *Harness) WaitFor(substr string, n int) string {
	h.t.Helper()
	return h.Wait(fmt.Sprintf("%d× %q", n, substr), func(out string) bool {
		return strings.Count(out, substr) >= n
	})
}

// Wait waits until cond holds for the output and returns the output; it
// fails the test after the timeout.
func (h *Harness) Wait(what string, cond func(out string) bool) string {
	h.t.Helper()
	deadline := time.Now().Add(h.Timeout)
	for {
		out, changed := h.out.snapshot()
		if cond(out) {
			return out
		}
		left := time.Until(deadline)
		if left <= 0 {
			h.t.Fatalf("consoletest: timed out waiting for %s; output:\n%s", what, out)
		}
		select {
		case <-changed:
		case <-time.After(left):
		}
	}
}

// Stop ends the input and the bot and waits for it; it returns the run's
// error. Calling it twice is harmless.
func (h *Harness) Stop() error {
	if h.stopped {
		return nil
	}
	h.stopped = true
	h.in.Close()
	h.cancel()
	select {
	case err := <-h.done:
		if errors.Is(err, context.Canceled) {
			return nil
		}
		return err
	case <-time.After(h.Timeout):
		h.t.Errorf("consoletest: bot did not stop within %v", h.Timeout)
		return nil
	}
}

// buffer is a concurrency-safe output that wakes waiters on every write.
type buffer struct {
	mu      sync.Mutex
	buf     bytes.Buffer
	changed chan struct{}
}

func newBuffer() *buffer { return &buffer{changed: make(chan struct{})} }

func (b *buffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	n, err := b.buf.Write(p)
	close(b.changed)
	b.changed = make(chan struct{})
	return n, err
}

func (b *buffer) String() string {
	s, _ := b.snapshot()
	return s
}

func (b *buffer) snapshot() (string, <-chan struct{}) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String(), b.changed
}
