package qatest_test

import (
	"testing"

	"github.com/einsatz/einsatz/bot/qa"
	"github.com/einsatz/einsatz/bot/qa/qatest"
)

func TestMem(t *testing.T) {
	qatest.Run(t, func(*testing.T) qa.Store { return qatest.NewMem() })
}
