package bot

import (
	"strings"
)

// EscapeMarkdown makes text from members (display names, their words, a
// summary of them) show as typed inside a Reply's Markdown, which the
// adapters render (Discord) or convert (Slack mrkdwn): "[Admin
// Notice](https://evil.example)" must not become a link whose text hides
// its target, nor "<@123>", "<!channel>" or "@everyone" a mention.
//
// Markdown punctuation gets a backslash (both Discord and the Slack
// adapter's converter drop it and show the character); "<" and the "@" of
// a mass mention get a zero-width space after them, which breaks the
// platforms' mention syntax without changing what staff read. A bare URL
// stays a URL: the platform shows it with its real target.
func EscapeMarkdown(s string) string {
	if !strings.ContainsAny(s, markdownSpecials+"<@") {
		return s
	}
	var b strings.Builder
	b.Grow(len(s) + 8)
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch {
		case strings.IndexByte(markdownSpecials, c) >= 0:
			b.WriteByte('\\')
			b.WriteByte(c)
		case c == '<':
			b.WriteString("<\u200b")
		case c == '@' && massMention(s[i+1:]):
			b.WriteString("@\u200b")
		default:
			b.WriteByte(c)
		}
	}
	return b.String()
}

// markdownSpecials are the characters that start Markdown syntax and that
// both Discord and the Slack adapter unescape after a backslash.
const markdownSpecials = "\\`*_[]()#~>|!"

func massMention(rest string) bool {
	for _, m := range []string{"everyone", "here", "channel", "all"} {
		if len(rest) >= len(m) && strings.EqualFold(rest[:len(m)], m) {
			return true
		}
	}
	return false
}
