package lang

import (
	"strings"
	"testing"
	"unicode/utf8"
)

func TestExcerpt(t *testing.T) {
	tests := []struct {
		name string
		s    string
		n    int
		want string
	}{
		{"short", "hello", 10, "hello"},
		{"white space collapsed", "  a\n\tb   c ", 10, "a b c"},
		{"exactly n runes", "äöü", 3, "äöü"},
		{"cut keeps n-1 runes and the ellipsis", "abcdef", 4, "abc…"},
		{"no space before the ellipsis", "ab cd", 4, "ab…"},
		{"runes, not bytes", "ääääää", 3, "ää…"},
		{"empty", "", 5, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := Excerpt(tt.s, tt.n)
			if got != tt.want {
				t.Errorf("Excerpt(%q, %d) = %q, want %q", tt.s, tt.n, got, tt.want)
			}
			if utf8.RuneCountInString(got) > tt.n {
				t.Errorf("Excerpt(%q, %d) has %d runes", tt.s, tt.n, utf8.RuneCountInString(got))
			}
		})
	}
	if got := Excerpt(strings.Repeat("x ", 500), 200); utf8.RuneCountInString(got) != 200 {
		t.Errorf("long text: %d runes, want 200", utf8.RuneCountInString(got))
	}
}

func TestIsFiller(t *testing.T) {
	for _, w := range []string{"can", "please", "gibt", "eigentlich", "jemand"} {
		if !IsFiller(w) {
			t.Errorf("IsFiller(%q) = false", w)
		}
	}
	for _, w := range []string{"install", "rechnung", "password", "Can"} {
		if IsFiller(w) {
			t.Errorf("IsFiller(%q) = true", w)
		}
	}
}
