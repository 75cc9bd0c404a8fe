package cli

import (
	"fmt"
	"io"
	"unicode/utf8"
)

// TerminalSafe wraps what the CLI prints to a terminal: members' words
// (inbox items, hand-off reasons, display names, answers in `chat`) reach
// staff there, and an escape sequence in them could rewrite the screen,
// retitle the window or hide a line. Control characters other than newline
// and tab, C1 controls, stray bytes that are not UTF-8 and bidirectional
// overrides are shown as visible escapes (\x1b, \u009b, \u202e) instead.
// Output to files (--out) is not wrapped: it keeps the data as stored.
func TerminalSafe(w io.Writer) io.Writer {
	if _, ok := w.(*termWriter); ok {
		return w
	}
	return &termWriter{w: w}
}

type termWriter struct {
	w       io.Writer
	pending []byte // the start of a UTF-8 sequence split across writes
}

// Unwrap returns the terminal itself, for the progress bar (which draws
// with carriage returns and holds no member data).
func (t *termWriter) Unwrap() io.Writer { return t.w }

func (t *termWriter) Write(p []byte) (int, error) {
	buf := append(t.pending, p...)
	cut := len(buf)
	for i := len(buf) - 1; i >= 0 && i >= len(buf)-utf8.UTFMax; i-- {
		if utf8.RuneStart(buf[i]) {
			if !utf8.FullRune(buf[i:]) {
				cut = i
			}
			break
		}
	}
	t.pending = append([]byte(nil), buf[cut:]...)
	if _, err := t.w.Write(escapeControls(buf[:cut])); err != nil {
		return 0, err
	}
	return len(p), nil
}

func escapeControls(b []byte) []byte {
	clean := true
	for _, c := range b {
		if (c < 0x20 && c != '\n' && c != '\t') || c == 0x7f || c >= 0x80 {
			clean = false
			break
		}
	}
	if clean {
		return b
	}
	out := make([]byte, 0, len(b)+16)
	for len(b) > 0 {
		r, size := utf8.DecodeRune(b)
		switch {
		case r == utf8.RuneError && size == 1:
			out = fmt.Appendf(out, `\x%02x`, b[0])
		case r == '\n' || r == '\t':
			out = append(out, b[0])
		case r < 0x20 || r == 0x7f:
			out = fmt.Appendf(out, `\x%02x`, r)
		case (r >= 0x80 && r <= 0x9f) || (r >= 0x202a && r <= 0x202e) || (r >= 0x2066 && r <= 0x2069):
			out = fmt.Appendf(out, `\u%04x`, r)
		default:
			out = append(out, b[:size]...)
		}
		b = b[size:]
	}
	return out
}
