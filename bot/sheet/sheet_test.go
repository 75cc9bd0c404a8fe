package sheet_test

import (
	"testing"

	"github.com/einsatz/einsatz/bot/sheet"
)

func TestText(t *testing.T) {
	for _, tc := range []struct{ in, want string }{
		{"", ""},
		{"plain", "plain"},
		{"a=b", "a=b"},
		{`=cmd|' /C calc'!A0`, `'=cmd|' /C calc'!A0`},
		{`=HYPERLINK("https://evil.example","x")`, `'=HYPERLINK("https://evil.example","x")`},
		{"+49 170 1234", "'+49 170 1234"},
		{"-2+3", "'-2+3"},
		{"@SUM(A1)", "'@SUM(A1)"},
		{"\t=1", "'\t=1"},
		{"\r=1", "'\r=1"},
		{"'already", "'already"},
		{" =1", " =1"},
	} {
		if got := sheet.Text(tc.in); got != tc.want {
			t.Errorf("Text(%q) = %q, want %q", tc.in, got, tc.want)
		}
	}
}
