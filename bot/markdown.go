package bot

import (
	"net/url"
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

// WebURL tells whether u is a link a platform may show: absolute http or
// https with a host. A knowledge file's front matter (url:) or a base URL
// could carry javascript:, data: or a Slack link's own syntax otherwise.
func WebURL(u string) bool {
	p, err := url.Parse(u)
	return err == nil && (p.Scheme == "http" || p.Scheme == "https") && p.Host != "" &&
		!strings.ContainsAny(u, " <>|\"\n\r\t")
}

// safeSources drops source links that are not WebURL (the title and path
// stay); the reply's Sources are copied, not changed in place.
func (r Reply) safeSources() Reply {
	for i, s := range r.Sources {
		if s.URL != "" && !WebURL(s.URL) {
			src := make([]Source, len(r.Sources))
			copy(src, r.Sources)
			for j := i; j < len(src); j++ {
				if src[j].URL != "" && !WebURL(src[j].URL) {
					src[j].URL = ""
				}
			}
			r.Sources = src
			break
		}
	}
	return r
}
