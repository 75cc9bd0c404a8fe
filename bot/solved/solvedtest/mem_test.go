package solvedtest_test

import (
	"testing"

	"github.com/einsatz/einsatz/bot/solved"
	"github.com/einsatz/einsatz/bot/solved/solvedtest"
)

func TestMem(t *testing.T) {
	solvedtest.Run(t, func(*testing.T) solved.Store { return solvedtest.NewMem() })
}
