// Package sheet makes text safe to put in a CSV cell that people open in a
// spreadsheet. The CSV exports (inbox, sentiment and support reports) carry
// text anyone in a chat can write, and spreadsheets run a cell starting
// with = + - @ (or a tab or carriage return before one) as a formula:
// =cmd|' /C calc'!A0, =HYPERLINK(...). OWASP's rule for "CSV injection" is
// to make such a cell text with a leading single quote, which is what Text
// does.
package sheet

// Text returns s as a text cell: with a leading single quote when a
// spreadsheet would otherwise read it as a formula. Use it for text only;
// numbers the program formats itself (a negative score) must stay numbers.
func Text(s string) string {
	if s == "" {
		return s
	}
	switch s[0] {
	case '=', '+', '-', '@', '\t', '\r':
		return "'" + s
	}
	return s
}
