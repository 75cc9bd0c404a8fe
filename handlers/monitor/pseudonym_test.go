package monitor_test

import (
	"strings"
	"testing"

	"github.com/einsatz/einsatz/handlers/monitor"
)

// A pseudonym is stable for one person and salt, differs across people,
// platforms and salts, and does not contain the id.
func TestPseudonymizer(t *testing.T) {
	p := monitor.Pseudonymizer([]byte("salt"))
	ann := p("slack", "U123")
	if ann != p("slack", "U123") || !strings.HasPrefix(ann, "p-") || strings.Contains(ann, "U123") {
		t.Fatalf("pseudonym %q", ann)
	}
	for _, other := range []string{p("slack", "U124"), p("discord", "U123"), monitor.Pseudonymizer([]byte("pepper"))("slack", "U123")} {
		if other == ann {
			t.Fatalf("two people or salts share the pseudonym %q", ann)
		}
	}
}
