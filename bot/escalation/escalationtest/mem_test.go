package escalationtest_test

import (
	"testing"

	"github.com/einsatz/einsatz/bot/escalation"
	"github.com/einsatz/einsatz/bot/escalation/escalationtest"
)

func TestMem(t *testing.T) {
	escalationtest.Run(t, func(*testing.T) escalation.Store { return escalationtest.NewMem() })
}
