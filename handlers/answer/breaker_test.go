package answer

import (
	"errors"
	"fmt"
	"testing"
	"time"

	"github.com/einsatz/einsatz/bot/bottest"
)

// The breaker's rules, step by step on the fake clock.
func TestBreaker(t *testing.T) {
	fail := errors.New("500")
	gone := fmt.Errorf("%w: %w", errCallerGone, errors.New("context canceled"))
	type step struct {
		advance time.Duration
		result  error // outcome of the call, if allowed
		allowed bool
		state   string // after the step
	}
	tests := []struct {
		name  string
		steps []step
	}{
		{"opens after three failures in a row", []step{
			{result: fail, allowed: true, state: stateClosed},
			{result: fail, allowed: true, state: stateClosed},
			{result: fail, allowed: true, state: stateOpen},
			{allowed: false, state: stateOpen},
		}},
		{"a success resets the count", []step{
			{result: fail, allowed: true, state: stateClosed},
			{result: fail, allowed: true, state: stateClosed},
			{result: nil, allowed: true, state: stateClosed},
			{result: fail, allowed: true, state: stateClosed},
			{result: fail, allowed: true, state: stateClosed},
		}},
		{"a good probe after the cooldown closes", []step{
			{result: fail, allowed: true}, {result: fail, allowed: true}, {result: fail, allowed: true, state: stateOpen},
			{advance: time.Minute - time.Second, allowed: false, state: stateOpen},
			{advance: time.Second, result: nil, allowed: true, state: stateClosed},
		}},
		{"a failed probe opens again for a whole cooldown", []step{
			{result: fail, allowed: true}, {result: fail, allowed: true}, {result: fail, allowed: true, state: stateOpen},
			{advance: time.Minute, result: fail, allowed: true, state: stateOpen},
			{advance: time.Minute - time.Second, allowed: false, state: stateOpen},
		}},
		{"the caller going away is not a failure", []step{
			{result: gone, allowed: true, state: stateClosed},
			{result: gone, allowed: true, state: stateClosed},
			{result: gone, allowed: true, state: stateClosed},
			{result: gone, allowed: true, state: stateClosed},
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			clock := bottest.NewClock(time.Date(2026, 11, 26, 9, 0, 0, 0, time.UTC))
			b := newBreaker(clock, 3, time.Minute, nil)
			for i, s := range tt.steps {
				clock.Advance(s.advance)
				gen, err := b.allow()
				if allowed := err == nil; allowed != s.allowed {
					t.Fatalf("step %d: allowed %v, want %v", i, allowed, s.allowed)
				}
				if err == nil {
					b.done(gen, s.result)
				}
				if s.state != "" && b.State() != s.state {
					t.Fatalf("step %d: state %s, want %s", i, b.State(), s.state)
				}
			}
		})
	}
}

// While half-open exactly one probe goes out; a result from before the
// circuit opened does not close it.
func TestBreakerOneProbeAndStaleResults(t *testing.T) {
	clock := bottest.NewClock(time.Date(2026, 11, 26, 9, 0, 0, 0, time.UTC))
	var changes []string
	b := newBreaker(clock, 1, time.Minute, func(from, to string) { changes = append(changes, from+">"+to) })

	early, _ := b.allow() // a slow call started while closed
	failing, _ := b.allow()
	b.done(failing, errors.New("500"))
	b.done(early, nil) // its success arrives after the circuit opened
	if b.State() != stateOpen {
		t.Fatalf("state %s: a stale success closed the circuit", b.State())
	}

	clock.Advance(time.Minute)
	probe, err := b.allow()
	if err != nil {
		t.Fatalf("probe refused: %v", err)
	}
	if _, err := b.allow(); !errors.Is(err, errCircuitOpen) {
		t.Fatalf("a second call while the probe runs: %v, want errCircuitOpen", err)
	}
	b.done(probe, nil)
	if b.State() != stateClosed {
		t.Fatalf("state %s after a good probe", b.State())
	}
	want := "closed>open open>half-open half-open>closed"
	if got := fmt.Sprint(changes); got != "["+want+"]" {
		t.Fatalf("changes %s, want [%s]", got, want)
	}
}
