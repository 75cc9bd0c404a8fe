package solvedtest_test

import (
	"testing"

	"github.com/einsatz/einsatz/bot/solved"
	"github.com/einsatz/einsatz/bot/solved/solvedtest"
)

func TestMem(t *testing.T) {
	solvedtest.Run(t, func(*testing.T) solved.Store { return solvedtest.NewMem() })
}

func TestMemNudges(t *testing.T) {
	solvedtest.RunNudges(t, func(*testing.T) solved.NudgeStore { return solvedtest.NewMem() })
}
