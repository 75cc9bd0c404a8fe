package storage

import (
	"testing"

	"github.com/einsatz/einsatz/bot/request"
	"github.com/einsatz/einsatz/bot/request/requesttest"
)

// The feature stores pass the same conformance suites as the in-memory
// fakes handler tests use.

func TestInboxConformance(t *testing.T) {
	requesttest.Run(t, func(t *testing.T) request.Store { return NewInbox(openTest(t, Options{InMemory: true})) })
}
