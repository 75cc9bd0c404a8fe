package bot

import (
	"context"
	"sync"
)

// Waiting tells the core that the event being handled under ctx now waits
// on something outside the process (the language model, a platform's API)
// and returns the function to call when the wait is over. While it waits,
// the event gives its worker back, so the core's Concurrency bounds the
// threads doing CPU work, not the threads waiting: a 3 s model call no
// longer keeps another thread's extractive answer waiting. The event's own
// thread still waits (one event per thread at a time), so per-thread order
// stays. The returned function blocks until a worker is free again.
//
// Outside an event's handling (a web request, a background job) Waiting
// does nothing. Calls may nest and may come from the observers' goroutine
// at the same time: the worker is given back with the first wait and taken
// again when the last one ends.
func Waiting(ctx context.Context) (done func()) {
	w, ok := ctx.Value(workerKey{}).(*worker)
	if !ok {
		return func() {}
	}
	w.pause()
	var once sync.Once
	return func() { once.Do(w.resume) }
}

type workerKey struct{}

// worker is the slot of the core's semaphore one event holds while it is
// handled.
type worker struct {
	sem chan struct{}

	mu      sync.Mutex
	waiting int  // Waiting calls not yet done
	held    bool // the slot is taken
	ended   bool // the event is done: later calls change nothing
}

func (w *worker) pause() {
	w.mu.Lock()
	defer w.mu.Unlock()
	if w.ended {
		return
	}
	w.waiting++
	if w.waiting == 1 && w.held {
		<-w.sem
		w.held = false
	}
}

func (w *worker) resume() {
	w.mu.Lock()
	defer w.mu.Unlock()
	if w.ended || w.waiting == 0 {
		return
	}
	w.waiting--
	if w.waiting == 0 && !w.held {
		w.sem <- struct{}{} // blocks until a worker is free; pause on another goroutine waits for it
		w.held = true
	}
}

// end gives the slot back, if held, for good.
func (w *worker) end() {
	w.mu.Lock()
	defer w.mu.Unlock()
	w.ended = true
	if w.held {
		<-w.sem
		w.held = false
	}
}
