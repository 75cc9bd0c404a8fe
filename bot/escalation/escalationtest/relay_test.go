package escalationtest

import (
	"testing"

	"github.com/einsatz/einsatz/bot/escalation"
)

func TestMemRelay(t *testing.T) {
	RunRelay(t, func(*testing.T) escalation.RelayStore { return NewMemRelay() })
}
