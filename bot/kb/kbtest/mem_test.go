package kbtest_test

import (
	"testing"

	"github.com/einsatz/einsatz/bot/kb"
	"github.com/einsatz/einsatz/bot/kb/kbtest"
)

func TestMem(t *testing.T) {
	kbtest.Run(t, func(*testing.T) kb.Store { return kbtest.NewMem() })
}
