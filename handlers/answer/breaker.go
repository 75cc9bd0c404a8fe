package answer

import (
	"errors"
	"sync"
	"time"

	"github.com/einsatz/einsatz/bot"
)

// errCircuitOpen is returned by breaker.allow while the LLM's circuit is
// open, or while a half-open probe is already under way.
var errCircuitOpen = errors.New("answer: LLM circuit open")

// Circuit states, as BreakerState reports them.
const (
	stateClosed   = "closed"
	stateOpen     = "open"
	stateHalfOpen = "half-open"
)

// breaker is the circuit in front of the LLM: after `failures` failed
// answers in a row it opens, and answers are extractive at once; after
// `cooldown` on the clock one probe may try the model again, and its
// outcome closes or reopens the circuit. It runs on bot.Clock so tests
// drive the cooldown without sleeping (a library breaker would read
// time.Now itself).
type breaker struct {
	clock    bot.Clock
	failures int
	cooldown time.Duration
	onChange func(from, to string)

	mu       sync.Mutex
	state    string
	fails    int       // failures in a row while closed
	openedAt time.Time // when the circuit last opened
	probing  bool      // a half-open probe is under way
	gen      uint64    // bumped on every change, so late results of an earlier state are ignored
}

func newBreaker(clock bot.Clock, failures int, cooldown time.Duration, onChange func(from, to string)) *breaker {
	return &breaker{clock: clock, failures: failures, cooldown: cooldown, onChange: onChange, state: stateClosed}
}

// allow says whether a call may go to the LLM. It returns the generation
// to hand back to done, or errCircuitOpen.
func (b *breaker) allow() (uint64, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	b.tick()
	switch b.state {
	case stateOpen:
		return 0, errCircuitOpen
	case stateHalfOpen:
		if b.probing {
			return 0, errCircuitOpen
		}
		b.probing = true
	}
	return b.gen, nil
}

// done records the outcome of a call allow let through. errCallerGone
// (the event's own context ended) says nothing about the LLM's health.
func (b *breaker) done(gen uint64, err error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	if gen != b.gen {
		return
	}
	if errors.Is(err, errCallerGone) {
		b.probing = false
		return
	}
	switch {
	case err == nil && b.state == stateHalfOpen:
		b.set(stateClosed)
	case err == nil:
		b.fails = 0
	case b.state == stateHalfOpen:
		b.set(stateOpen)
	default:
		b.fails++
		if b.fails >= b.failures {
			b.set(stateOpen)
		}
	}
}

// State is the circuit's state now.
func (b *breaker) State() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	b.tick()
	return b.state
}

// tick turns an open circuit half-open once its cooldown has passed.
func (b *breaker) tick() {
	if b.state == stateOpen && !b.clock.Now().Before(b.openedAt.Add(b.cooldown)) {
		b.set(stateHalfOpen)
	}
}

func (b *breaker) set(to string) {
	from := b.state
	b.state, b.fails, b.probing = to, 0, false
	b.gen++
	if to == stateOpen {
		b.openedAt = b.clock.Now()
	}
	if b.onChange != nil {
		b.onChange(from, to)
	}
}
