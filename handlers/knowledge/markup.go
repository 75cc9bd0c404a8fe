package knowledge

import (
	"path"
	"regexp"
	"strings"
)

// Repository docs come as Markdown, MDX, reStructuredText or AsciiDoc.
// They are turned into the Markdown the splitter reads: headings kept (so
// chunks follow sections), code kept as fenced blocks, markup that is not
// text (imports, components, directives, attributes) dropped. This is a
// reasonable reading for search and citations, not a full renderer.

// docMarkup reports whether a repository file is read, by its name.
func docMarkup(name string) bool {
	switch strings.ToLower(path.Ext(name)) {
	case ".md", ".markdown", ".mdx", ".rst", ".adoc", ".asciidoc", ".txt":
		return true
	}
	return false
}

// toMarkdown converts a repository file's text by its extension.
func toMarkdown(name, text string) string {
	text = strings.ReplaceAll(text, "\r\n", "\n")
	switch strings.ToLower(path.Ext(name)) {
	case ".mdx":
		return mdxToMarkdown(text)
	case ".rst":
		return rstToMarkdown(text)
	case ".adoc", ".asciidoc":
		return adocToMarkdown(text)
	}
	return text
}

var (
	mdxImport  = regexp.MustCompile(`^\s*(import\s.+|export\s.+)$`)
	jsxOnly    = regexp.MustCompile(`^\s*</?[A-Z][\w.]*(\s[^>]*)?/?>\s*$`) // a line that is only a component tag
	jsxInline  = regexp.MustCompile(`</?[A-Z][\w.]*(\s[^>]*)?/?>`)         // a component tag in text
	jsxComment = regexp.MustCompile(`\{/\*.*?\*/\}`)                       // {/* … */}
	fenceLine  = regexp.MustCompile("^\\s*(```|~~~)")
)

// mdxToMarkdown drops imports, exports, JSX comments and component tags
// (keeping the text between an opening and a closing tag), outside code
// fences; front matter stays.
func mdxToMarkdown(text string) string {
	lines := strings.Split(text, "\n")
	var out []string
	inFence, inFront := false, len(lines) > 0 && strings.TrimSpace(lines[0]) == "---"
	for i, l := range lines {
		if inFront {
			out = append(out, l)
			if i > 0 && (strings.TrimSpace(l) == "---" || strings.TrimSpace(l) == "...") {
				inFront = false
			}
			continue
		}
		if fenceLine.MatchString(l) {
			inFence = !inFence
			out = append(out, l)
			continue
		}
		if inFence {
			out = append(out, l)
			continue
		}
		if mdxImport.MatchString(l) || jsxOnly.MatchString(l) {
			continue
		}
		l = jsxComment.ReplaceAllString(l, "")
		out = append(out, jsxInline.ReplaceAllString(l, ""))
	}
	return strings.Join(out, "\n")
}

var (
	rstRole      = regexp.MustCompile("(?::[\\w:-]+:)?`([^`<]*?)\\s*(?:<[^>]*>)?`_{0,2}") // :ref:`text <target>`, `text <url>`_
	rstLiteral   = regexp.MustCompile("``([^`]+)``")
	rstDirective = regexp.MustCompile(`^\.\.\s+([\w:-]+)::\s*(.*)$`)
	rstTarget    = regexp.MustCompile(`^\.\.\s+(_[^:]*:|\|[^|]*\|)`)
)

// rstToMarkdown converts reStructuredText: section titles (underlined, or
// over- and underlined) become # headings, levels in order of first use;
// literal blocks (after "::" and code directives) become fenced code;
// other directives keep their content; comments and targets go; roles and
// links keep their text.
func rstToMarkdown(text string) string {
	lines := strings.Split(text, "\n")
	var out []string
	levels := map[string]int{}
	level := func(style string) int {
		if l, ok := levels[style]; ok {
			return l
		}
		levels[style] = len(levels) + 1
		return levels[style]
	}
	inlineRST := func(s string) string {
		s = rstLiteral.ReplaceAllString(s, "`$1`")
		return rstRole.ReplaceAllStringFunc(s, func(m string) string {
			if strings.HasPrefix(m, "``") {
				return m
			}
			sub := rstRole.FindStringSubmatch(m)
			return sub[1]
		})
	}
	for i := 0; i < len(lines); i++ {
		l := lines[i]
		t := strings.TrimSpace(l)
		// Over- and underlined title.
		if isAdornment(l) && i+2 < len(lines) && strings.TrimSpace(lines[i+1]) != "" &&
			isAdornment(lines[i+2]) && lines[i+2][0] == l[0] {
			out = append(out, strings.Repeat("#", level("over"+l[:1]))+" "+inlineRST(strings.TrimSpace(lines[i+1])), "")
			i += 2
			continue
		}
		// Underlined title.
		if t != "" && !strings.HasPrefix(l, " ") && i+1 < len(lines) && isAdornment(lines[i+1]) &&
			len(strings.TrimSpace(lines[i+1])) >= len([]rune(t)) && !isAdornment(l) {
			out = append(out, strings.Repeat("#", level(lines[i+1][:1]))+" "+inlineRST(t), "")
			i++
			continue
		}
		if isAdornment(l) && t != "" {
			continue // a transition
		}
		if m := rstDirective.FindStringSubmatch(l); m != nil {
			block, next := indented(lines, i+1)
			switch m[1] {
			case "code-block", "code", "sourcecode":
				out = append(out, "```"+strings.TrimSpace(m[2]), block, "```", "")
			case "image", "figure", "toctree", "include", "raw", "meta", "contents", "index", "highlight":
			default: // note, warning, admonition, …: keep the text
				if strings.TrimSpace(m[2]) != "" {
					out = append(out, inlineRST(m[2]))
				}
				out = append(out, inlineRST(block), "")
			}
			i = next - 1
			continue
		}
		if rstTarget.MatchString(l) || strings.HasPrefix(t, "..") && (t == ".." || strings.HasPrefix(l, ".. ")) {
			_, next := indented(lines, i+1) // a comment or target, with its indented rest
			i = next - 1
			continue
		}
		if strings.HasSuffix(t, "::") && !strings.HasPrefix(t, "..") {
			// A paragraph ending in "::" introduces a literal block.
			if p := strings.TrimSuffix(strings.TrimSuffix(l, "::"), " "); strings.TrimSpace(p) != "" {
				out = append(out, inlineRST(p)+":")
			}
			if block, next := indented(lines, i+1); block != "" {
				out = append(out, "", "```", block, "```", "")
				i = next - 1
			}
			continue
		}
		out = append(out, inlineRST(l))
	}
	return strings.Join(out, "\n")
}

// indented returns the indented block starting at lines[from] (after
// blank lines), dedented, and the index after it.
func indented(lines []string, from int) (string, int) {
	i := from
	for i < len(lines) && strings.TrimSpace(lines[i]) == "" {
		i++
	}
	start := i
	indent := -1
	for i < len(lines) {
		l := lines[i]
		if strings.TrimSpace(l) == "" {
			i++
			continue
		}
		n := len(l) - len(strings.TrimLeft(l, " \t"))
		if n == 0 {
			break
		}
		if indent < 0 || n < indent {
			indent = n
		}
		i++
	}
	end := i
	for end > start && strings.TrimSpace(lines[end-1]) == "" {
		end--
	}
	var b []string
	for _, l := range lines[start:end] {
		if len(l) >= indent && indent > 0 {
			l = l[indent:]
		}
		b = append(b, strings.TrimRight(l, " \t"))
	}
	// Options of a directive (":linenos:") are no content.
	for len(b) > 0 && strings.HasPrefix(b[0], ":") && strings.Count(b[0], ":") >= 2 {
		b = b[1:]
	}
	return strings.Trim(strings.Join(b, "\n"), "\n"), end
}

var (
	adocHeading = regexp.MustCompile(`^(={1,6})\s+(.+)$`)
	adocAttr    = regexp.MustCompile(`^(:[\w-]+:.*|\[[^\]]*\])\s*$`) // :toc: left, [source,go], [NOTE]
	adocLink    = regexp.MustCompile(`(?:link:|https?://)\S*?\[([^\]]*)\]`)
	adocXref    = regexp.MustCompile(`<<[^,>]*,\s*([^>]*)>>|xref:\S*?\[([^\]]*)\]`)
	adocOList   = regexp.MustCompile(`^(\.+)\s+(.+)$`)
	adocUList   = regexp.MustCompile(`^(\*+|-)\s+(.+)$`)
)

// adocToMarkdown converts AsciiDoc: = headings become # headings, listing
// and literal blocks fenced code, attribute lines and comments go,
// block delimiters of examples and sidebars go (their text stays), links
// keep their text.
func adocToMarkdown(text string) string {
	lines := strings.Split(text, "\n")
	var out []string
	inCode, inComment, codeLang := "", false, ""
	for _, l := range lines {
		t := strings.TrimRight(l, " \t")
		if inComment {
			if t == "////" {
				inComment = false
			}
			continue
		}
		if inCode != "" {
			if t == inCode {
				out = append(out, "```")
				inCode = ""
				continue
			}
			out = append(out, l)
			continue
		}
		switch {
		case t == "////":
			inComment = true
		case t == "----" || t == "....":
			inCode = t
			out = append(out, "```"+codeLang)
			codeLang = ""
		case t == "====" || t == "****" || t == "____" || t == "--" || t == "|===":
			// Block delimiters: the text inside stays.
		case strings.HasPrefix(t, "//"):
		case adocAttr.MatchString(t):
			// [source,go] names the language of the listing that follows.
			if rest, ok := strings.CutPrefix(t, "[source,"); ok {
				codeLang, _, _ = strings.Cut(strings.TrimSuffix(rest, "]"), ",")
			}
		case adocHeading.MatchString(t):
			m := adocHeading.FindStringSubmatch(t)
			out = append(out, strings.Repeat("#", len(m[1]))+" "+adocInline(m[2]))
		case adocUList.MatchString(t):
			m := adocUList.FindStringSubmatch(t)
			out = append(out, strings.Repeat("  ", max(0, len(m[1])-1))+"- "+adocInline(m[2]))
		case adocOList.MatchString(t) && !strings.HasPrefix(t, ".."):
			m := adocOList.FindStringSubmatch(t)
			out = append(out, strings.Repeat("  ", len(m[1])-1)+"1. "+adocInline(m[2]))
		case strings.HasPrefix(t, ".") && len(t) > 1 && t[1] != ' ' && t[1] != '.':
			out = append(out, "**"+adocInline(t[1:])+"**") // a block title
		case strings.HasPrefix(t, "|"):
			out = append(out, adocInline(t)+" |")
		default:
			out = append(out, adocInline(t))
		}
	}
	if inCode != "" {
		out = append(out, "```")
	}
	return strings.Join(out, "\n")
}

func adocInline(s string) string {
	s = adocXref.ReplaceAllStringFunc(s, func(m string) string {
		sub := adocXref.FindStringSubmatch(m)
		return sub[1] + sub[2]
	})
	return adocLink.ReplaceAllString(s, "$1")
}

// isAdornment reports whether l is a reStructuredText section adornment:
// one punctuation character repeated, at least three times.
func isAdornment(l string) bool {
	l = strings.TrimRight(l, " \t")
	if len(l) < 3 || !strings.ContainsRune("=-~^\"'`#*+:.<>_", rune(l[0])) {
		return false
	}
	return strings.Count(l, l[:1]) == len(l)
}
