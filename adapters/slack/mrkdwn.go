package slack

import (
	"regexp"
	"strings"
	"unicode/utf8"
)

// Mrkdwn converts the Markdown handlers write into Slack's mrkdwn:
//
//   - [text](url) and ![alt](url) become <url|text> for http, https and mailto
//     links (others stay as written); <https://…> autolinks stay links
//   - **bold** and __bold__ become *bold*; *italic* and _italic_ become _italic_;
//     ~~strike~~ becomes ~strike~
//   - # headings become bold lines; "-", "*" and "+" list items become "•" bullets
//     (nested ones "◦"); numbered items and "> " quotes stay as they are
//   - inline `code` and fenced ``` blocks keep their content unformatted (the
//     fence's language tag is dropped: Slack has no syntax highlighting)
//   - &, < and > are escaped everywhere (also inside code, where Slack shows
//     them as typed), except in the link syntax this function writes itself.
func Mrkdwn(md string) string {
	md = strings.ReplaceAll(md, "\r\n", "\n")
	lines := strings.Split(md, "\n")
	var b strings.Builder
	inFence := false
	fence := ""
	for i, line := range lines {
		if i > 0 {
			b.WriteByte('\n')
		}
		trimmed := strings.TrimLeft(line, " \t")
		if inFence {
			if strings.HasPrefix(trimmed, fence) && strings.TrimSpace(strings.TrimLeft(trimmed, fence[:1])) == "" {
				b.WriteString("```")
				inFence = false
				continue
			}
			b.WriteString(escape(line))
			continue
		}
		if f := fenceOpen(trimmed); f != "" {
			inFence, fence = true, f
			b.WriteString("```")
			continue
		}
		b.WriteString(convertLine(line))
	}
	if inFence {
		b.WriteString("\n```")
	}
	return b.String()
}

// fenceOpen returns the fence (``` or ~~~, possibly longer) a line opens.
func fenceOpen(trimmed string) string {
	for _, c := range []string{"`", "~"} {
		n := 0
		for n < len(trimmed) && trimmed[n] == c[0] {
			n++
		}
		if n >= 3 {
			if c == "`" && strings.Contains(trimmed[n:], "`") {
				return "" // ```inline``` on one line is inline code
			}
			return trimmed[:n]
		}
	}
	return ""
}

var (
	headingRE  = regexp.MustCompile(`^ {0,3}(#{1,6})\s+(.*?)\s*#*\s*$`)
	bulletRE   = regexp.MustCompile(`^(\s*)[-*+]\s+(.*)$`)
	quoteRE    = regexp.MustCompile(`^(\s*)>\s?(.*)$`)
	hruleRE    = regexp.MustCompile(`^\s*([-*_])(\s*[-*_]){2,}\s*$`)
	urlSchemes = []string{"http://", "https://", "mailto:"}
)

func convertLine(line string) string {
	if m := headingRE.FindStringSubmatch(line); m != nil {
		inner := inline(m[2])
		if inner == "" {
			return ""
		}
		return "*" + strings.Trim(inner, "*") + "*"
	}
	if hruleRE.MatchString(line) {
		return "───"
	}
	if m := bulletRE.FindStringSubmatch(line); m != nil {
		indent := strings.ReplaceAll(m[1], "\t", "    ")
		bullet := "•"
		if len(indent) >= 2 {
			bullet = "◦"
		}
		return indent + bullet + " " + inline(m[2])
	}
	if m := quoteRE.FindStringSubmatch(line); m != nil {
		return m[1] + ">" + " " + inline(m[2])
	}
	return inline(line)
}

// escape applies Slack's three mandatory escapes.
func escape(s string) string {
	if !strings.ContainsAny(s, "&<>") {
		return s
	}
	r := strings.NewReplacer("&", "&amp;", "<", "&lt;", ">", "&gt;")
	return r.Replace(s)
}

// inline converts the inline Markdown of one line.
func inline(s string) string {
	var b strings.Builder
	for i := 0; i < len(s); {
		c := s[i]
		switch {
		case c == '\\' && i+1 < len(s) && strings.IndexByte("\\`*_{}[]()#+-.!~>|", s[i+1]) >= 0:
			b.WriteString(escape(s[i+1 : i+2]))
			i += 2
			continue
		case c == '`':
			n := run(s, i, '`')
			if end := strings.Index(s[i+n:], strings.Repeat("`", n)); end >= 0 {
				code := s[i+n : i+n+end]
				b.WriteString("`" + escape(strings.TrimSpace(code)) + "`")
				i += n + end + n
				continue
			}
			b.WriteString(s[i : i+n])
			i += n
			continue
		case c == '!' && i+1 < len(s) && s[i+1] == '[':
			if text, url, n, ok := link(s[i+1:]); ok {
				b.WriteString(slackLink(url, text))
				i += 1 + n
				continue
			}
		case c == '[':
			if text, url, n, ok := link(s[i:]); ok {
				b.WriteString(slackLink(url, text))
				i += n
				continue
			}
		case c == '<':
			if end := strings.IndexByte(s[i:], '>'); end > 0 {
				target := s[i+1 : i+end]
				if isURL(target) && !strings.ContainsAny(target, " <|") {
					b.WriteString("<" + target + ">")
					i += end + 1
					continue
				}
			}
		case (c == '*' || c == '_') && run(s, i, c) == 3:
			if c == '_' && i > 0 && isWordByte(s[i-1]) {
				break
			}
			if end := strings.Index(s[i+3:], s[i:i+3]); end > 0 && s[i+3] != ' ' && s[i+3+end-1] != ' ' {
				b.WriteString("*_" + inline(s[i+3:i+3+end]) + "_*")
				i += 3 + end + 3
				continue
			}
		case (c == '*' || c == '_' || c == '~') && i+1 < len(s) && s[i+1] == c:
			marker := s[i : i+2]
			if c == '_' && i > 0 && isWordByte(s[i-1]) {
				break
			}
			if end := closing(s, i+2, marker); end > 0 {
				inner := inline(s[i+2 : end])
				if c == '~' {
					b.WriteString("~" + inner + "~")
				} else {
					b.WriteString("*" + inner + "*")
				}
				i = end + 2
				continue
			}
		case c == '*' || c == '_':
			if i+1 >= len(s) || s[i+1] == ' ' || (c == '_' && i > 0 && isWordByte(s[i-1])) {
				break
			}
			if end := closing(s, i+1, string(c)); end > 0 {
				b.WriteString("_" + inline(s[i+1:end]) + "_")
				i = end + 1
				continue
			}
		}
		switch c {
		case '&':
			b.WriteString("&amp;")
		case '<':
			b.WriteString("&lt;")
		case '>':
			b.WriteString("&gt;")
		default:
			b.WriteByte(c)
		}
		i++
	}
	return b.String()
}

func run(s string, i int, c byte) int {
	n := 0
	for i+n < len(s) && s[i+n] == c {
		n++
	}
	return n
}

func isWordByte(c byte) bool {
	return c == '_' || c >= '0' && c <= '9' || c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= 0x80
}

// closing finds the closing marker of an emphasis that started before from:
// not preceded by a space, not part of a longer run, and (for "_") not
// inside a word. It returns -1 when there is none.
func closing(s string, from int, marker string) int {
	if from >= len(s) || s[from] == ' ' {
		return -1
	}
	for j := from + 1; j+len(marker) <= len(s); j++ {
		if s[j] == '`' { // skip code spans: markers inside them do not count
			n := run(s, j, '`')
			if end := strings.Index(s[j+n:], strings.Repeat("`", n)); end >= 0 {
				j += n + end + n - 1
				continue
			}
		}
		if s[j:j+len(marker)] != marker || s[j-1] == ' ' {
			continue
		}
		if len(marker) == 1 {
			if j+1 < len(s) && s[j+1] == marker[0] { // part of ** or __
				j++
				continue
			}
			if s[j-1] == marker[0] {
				continue
			}
		}
		if marker[0] == '_' && j+len(marker) < len(s) && isWordByte(s[j+len(marker)]) {
			continue
		}
		return j
	}
	return -1
}

// link parses [text](url) at the start of s and returns its length.
func link(s string) (text, url string, n int, ok bool) {
	depth := 0
	closeText := -1
	for i := 0; i < len(s); i++ {
		switch s[i] {
		case '[':
			depth++
		case ']':
			depth--
		}
		if depth == 0 {
			closeText = i
			break
		}
	}
	if closeText < 0 || closeText+1 >= len(s) || s[closeText+1] != '(' {
		return "", "", 0, false
	}
	depth = 0
	for j := closeText + 1; j < len(s); j++ {
		switch s[j] {
		case '(':
			depth++
		case ')':
			depth--
			if depth == 0 {
				target := strings.TrimSpace(s[closeText+2 : j])
				if sp := strings.IndexAny(target, " \t"); sp >= 0 { // [t](url "title")
					target = target[:sp]
				}
				target = strings.Trim(target, "<>")
				// Only web and mail links: any other target would become a
				// Slack control sequence (<!channel|x>, <@U123|x>).
				if !isURL(target) || strings.ContainsAny(target, " |") {
					return "", "", 0, false
				}
				return s[1:closeText], target, j + 1, true
			}
		}
	}
	return "", "", 0, false
}

func isURL(s string) bool {
	for _, p := range urlSchemes {
		if strings.HasPrefix(strings.ToLower(s), p) {
			return true
		}
	}
	return false
}

// slackLink writes <url|text>. The text loses its own Markdown (Slack does
// not format inside link labels) and is escaped; "|" and ">" in the URL
// are percent-encoded so they cannot end the link early.
func slackLink(url, text string) string {
	url = strings.NewReplacer("|", "%7C", ">", "%3E", "<", "%3C", " ", "%20").Replace(url)
	url = strings.ReplaceAll(url, "&", "&amp;")
	text = strings.NewReplacer("**", "", "__", "", "`", "", "*", "", "|", "¦").Replace(text)
	text = escape(strings.TrimSpace(text))
	if text == "" || text == escape(url) {
		return "<" + url + ">"
	}
	return "<" + url + "|" + text + ">"
}

// Split cuts mrkdwn into parts of at most limit bytes (so at most limit
// characters, as Slack counts), preferring paragraph breaks, then line
// breaks, then spaces. A code fence cut in two is closed at the end of one
// part and opened again at the start of the next.
func Split(s string, limit int) []string {
	const reopen = "```\n"
	const closeFence = "\n```"
	var parts []string
	for len(s) > 0 {
		if len(s) <= limit {
			if strings.TrimSpace(s) != "" { // a blank section is an invalid block
				parts = append(parts, s)
			}
			break
		}
		budget := limit - len(closeFence) // room to close a fence if we cut inside one
		cut := bestCut(s, budget)
		part := strings.TrimRight(s[:cut], "\n ")
		rest := strings.TrimLeft(s[cut:], "\n")
		if strings.Count(part, "```")%2 == 1 {
			part += closeFence
			rest = reopen + rest
		}
		if strings.TrimSpace(part) != "" {
			parts = append(parts, part)
		}
		s = rest
	}
	return parts
}

func bestCut(s string, limit int) int {
	if limit <= 0 {
		limit = 1
	}
	window := s[:limit]
	for _, sep := range []string{"\n\n", "\n", " "} {
		if i := strings.LastIndex(window, sep); i > limit/3 {
			return i + len(sep)
		}
	}
	// No good break: cut at a rune boundary, never inside an escape like &amp;.
	cut := limit
	for cut > 0 && !utf8.RuneStart(s[cut]) {
		cut--
	}
	if amp := strings.LastIndexByte(s[:cut], '&'); amp >= 0 && cut-amp < 5 && !strings.Contains(s[amp:cut], ";") {
		cut = amp
	}
	if cut == 0 {
		cut = limit
	}
	return cut
}
