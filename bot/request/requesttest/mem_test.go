package requesttest_test

import (
	"testing"

	"github.com/einsatz/einsatz/bot/request"
	"github.com/einsatz/einsatz/bot/request/requesttest"
)

func TestMem(t *testing.T) {
	requesttest.Run(t, func(*testing.T) request.Store { return requesttest.NewMem() })
}
