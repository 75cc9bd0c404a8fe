package cli

import (
	"bytes"
	"testing"
)

func TestTerminalSafe(t *testing.T) {
	tests := []struct {
		name string
		in   []string // written in these pieces
		want string
	}{
		{"plain text, newline and tab kept", []string{"Grüße\tfrom #5\n"}, "Grüße\tfrom #5\n"},
		{"window title", []string{"a\x1b]0;pwned\x07b"}, `a\x1b]0;pwned\x07b`},
		{"clear screen", []string{"\x1b[2J\x1b[H"}, `\x1b[2J\x1b[H`},
		{"carriage return hides the line start", []string{"ok\rfake"}, `ok\x0dfake`},
		{"backspace and DEL", []string{"x\b\x7f"}, `x\x08\x7f`},
		{"C1 CSI as UTF-8", []string{"a\u009b31mb"}, `a\u009b31mb`},
		{"raw 8-bit CSI byte", []string{"a\x9b31m"}, `a\x9b31m`},
		{"bidi override", []string{"invoice\u202egnp.exe"}, `invoice\u202egnp.exe`},
		{"UTF-8 split across writes", []string{"Gr\xc3", "\xbc\xc3\x9fe"}, "Grüße"},
		{"C1 split across writes", []string{"a\xc2", "\x9bb"}, `a\u009bb`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var buf bytes.Buffer
			w := TerminalSafe(&buf)
			for _, p := range tt.in {
				if n, err := w.Write([]byte(p)); err != nil || n != len(p) {
					t.Fatalf("Write(%q) = %d, %v", p, n, err)
				}
			}
			if got := buf.String(); got != tt.want {
				t.Fatalf("got %q, want %q", got, tt.want)
			}
		})
	}
}
