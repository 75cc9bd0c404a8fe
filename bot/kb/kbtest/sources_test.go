package kbtest

import (
	"testing"

	"github.com/einsatz/einsatz/bot/kb"
)

func TestMemSourcesConformance(t *testing.T) {
	RunSources(t, func(t *testing.T) kb.SourceStore { return NewMemSources() })
}
