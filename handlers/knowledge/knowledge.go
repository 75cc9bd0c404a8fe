// Package knowledge is the knowledge base: Markdown/text files split into
// chunks by headings, and lexical search over them.
//
// Files are loaded with [LoadFS] (or parsed one at a time with [Split]) and
// indexed with [NewIndex]. Search runs over English and German analyses of
// every chunk, so inflected forms match ("installing" finds "installation",
// "Rechnungen" finds "Rechnung") whatever the language of the question, and
// every [Hit] carries a Coverage value that tells the caller how much of the
// question the chunk actually covers — the basis for answering "I don't know"
// instead of guessing.
package knowledge

import (
	"bytes"
	"errors"
	"fmt"
	"io/fs"
	"path"
	"strconv"
	"strings"
	"unicode/utf8"

	"go.yaml.in/yaml/v3"

	"github.com/einsatz/einsatz/bot/kb"
	"github.com/einsatz/einsatz/bot/lang"
)

// maxTextChunk is the size (in bytes) up to which paragraphs of a plain text
// file are grouped into one chunk. A single longer paragraph is a chunk of
// its own.
const maxTextChunk = 1200

// Split parses one file: Markdown (.md, .markdown) with optional YAML front
// matter, or plain text (.txt, also with optional front matter), which becomes
// one chunk per group of paragraphs. source names the file in errors and
// becomes Chunk.Source; its extension selects the format (anything that is not
// .txt is treated as Markdown).
//
// A Markdown file becomes one chunk per section: the text before the first
// section heading (the intro, Heading "") and the text under every ATX (#) or
// setext heading. Lines inside fenced code blocks are never headings. A level-1
// heading that opens the document is its title line and not part of the
// heading path. Sections without text are skipped, so chunk indexes count
// only non-empty sections.
//
// Invalid UTF-8 is an error naming the file and the byte offset.
func Split(source string, data []byte) ([]kb.Chunk, error) {
	return split(source, source, data)
}

// split is Split with a separate display name for errors.
func split(source, display string, data []byte) ([]kb.Chunk, error) {
	if off, ok := invalidUTF8(data); ok {
		return nil, fmt.Errorf("%s: not valid UTF-8 at byte %d: save the file as UTF-8", display, off)
	}
	text := strings.TrimPrefix(string(data), "\uFEFF")
	text = strings.ReplaceAll(text, "\r\n", "\n")
	text = strings.ReplaceAll(text, "\r", "\n")

	fm, body, err := frontMatter(text)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", display, err)
	}
	docLang := ""
	if fm.Lang != "" {
		docLang, err = normalizeLang(fm.Lang)
		if err != nil {
			return nil, fmt.Errorf("%s: front matter: %w", display, err)
		}
	}
	if docLang == "" {
		docLang = lang.Detect(body)
	}

	var secs []section
	title := strings.TrimSpace(fm.Title)
	if strings.EqualFold(path.Ext(source), ".txt") {
		secs = splitText(body)
	} else {
		var h1 string
		secs, h1 = splitMarkdown(body)
		if title == "" {
			title = h1
		}
	}
	if title == "" {
		base := path.Base(source)
		title = strings.TrimSuffix(base, path.Ext(base))
		if title == "" { // ".md": the name is all extension
			title = base
		}
	}

	chunks := make([]kb.Chunk, 0, len(secs))
	for _, s := range secs {
		chunks = append(chunks, kb.Chunk{
			ID:      source + "#" + strconv.Itoa(len(chunks)),
			Source:  source,
			Title:   title,
			Heading: s.heading,
			URL:     strings.TrimSpace(fm.URL),
			Text:    s.text,
			Lang:    docLang,
		})
	}
	return chunks, nil
}

// LoadFS walks fsys under root for *.md, *.markdown and *.txt files (in
// lexical order, so the result is deterministic) and splits each. Chunk
// sources are relative to root. Hidden files and directories (".git",
// ".draft.md") are skipped, and so are symlinks and other files that are
// not regular (see Sync). The first error stops it.
func LoadFS(fsys fs.FS, root string) ([]kb.Chunk, error) {
	if root == "" {
		root = "."
	}
	var chunks []kb.Chunk
	err := fs.WalkDir(fsys, root, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		name := d.Name()
		if p != root && strings.HasPrefix(name, ".") {
			if d.IsDir() {
				return fs.SkipDir
			}
			return nil
		}
		if d.IsDir() || !isKnowledgeFile(name) {
			return nil
		}
		rel := p
		if root != "." {
			rel = strings.TrimPrefix(p, root+"/")
		}
		if !d.Type().IsRegular() {
			return nil
		}
		data, err := readFile(fsys, p)
		if errors.Is(err, errNotRegular) {
			return nil
		}
		if err != nil {
			return err
		}
		cs, err := split(rel, p, data)
		if err != nil {
			return err
		}
		chunks = append(chunks, cs...)
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("knowledge: %w", err)
	}
	return chunks, nil
}

func isKnowledgeFile(name string) bool {
	switch strings.ToLower(path.Ext(name)) {
	case ".md", ".markdown", ".txt":
		return true
	}
	return false
}

// invalidUTF8 returns the byte offset of the first invalid UTF-8 sequence.
func invalidUTF8(data []byte) (int, bool) {
	if utf8.Valid(data) {
		return 0, false
	}
	for off := 0; off < len(data); {
		r, size := utf8.DecodeRune(data[off:])
		if r == utf8.RuneError && size == 1 {
			return off, true
		}
		off += size
	}
	return 0, false
}

type frontMatterFields struct {
	Title string `yaml:"title"`
	URL   string `yaml:"url"`
	Lang  string `yaml:"lang"`
}

// frontMatter separates YAML front matter ("---" on the first line, closed by
// "---" or "...") from the body. Without a closing line the whole text is body.
func frontMatter(text string) (frontMatterFields, string, error) {
	var fm frontMatterFields
	first, rest, ok := strings.Cut(text, "\n")
	if !ok || strings.TrimRight(first, " \t") != "---" {
		return fm, text, nil
	}
	off := 0
	for off <= len(rest) {
		line, _, _ := strings.Cut(rest[off:], "\n")
		if l := strings.TrimRight(line, " \t"); l == "---" || l == "..." {
			if err := yaml.Unmarshal([]byte(rest[:off]), &fm); err != nil {
				return fm, "", fmt.Errorf("front matter: %w", err)
			}
			body := ""
			if end := off + len(line) + 1; end < len(rest) {
				body = rest[end:]
			}
			return fm, body, nil
		}
		off += len(line) + 1
	}
	return frontMatterFields{}, text, nil
}

func normalizeLang(s string) (string, error) {
	l := strings.ToLower(strings.TrimSpace(s))
	if i := strings.IndexAny(l, "-_"); i >= 0 {
		l = l[:i]
	}
	switch l {
	case "en", "de":
		return l, nil
	}
	return "", fmt.Errorf("lang %q: want \"en\" or \"de\"", s)
}

type section struct {
	heading string
	text    string
}

// splitMarkdown splits a Markdown body into sections. It returns the sections
// with text and the first level-1 heading (for the title).
func splitMarkdown(body string) ([]section, string) {
	lines := strings.Split(body, "\n")
	type level struct {
		n    int
		text string
	}
	var (
		secs      []section
		stack     []level
		cur       []string
		h1        string
		fence     string // the open code fence, "" outside code
		headings  int
		skipBlank bool // skip blank lines after the title line
	)
	flush := func() {
		if t := trimBlankLines(cur); t != "" {
			names := make([]string, len(stack))
			for i, l := range stack {
				names[i] = l.text
			}
			secs = append(secs, section{heading: strings.Join(names, " > "), text: t})
		}
		cur = cur[:0]
	}
	heading := func(n int, text string) {
		if n == 1 && h1 == "" {
			h1 = text
		}
		headings++
		if headings == 1 && n == 1 {
			// The title line: the text around it is the intro.
			for len(cur) > 0 && isBlank(cur[len(cur)-1]) {
				cur = cur[:len(cur)-1]
			}
			if len(cur) > 0 {
				cur = append(cur, "")
			}
			skipBlank = true
			return
		}
		flush()
		for len(stack) > 0 && stack[len(stack)-1].n >= n {
			stack = stack[:len(stack)-1]
		}
		stack = append(stack, level{n, text})
	}
	for i := 0; i < len(lines); i++ {
		line := lines[i]
		if fence != "" {
			if isFenceClose(line, fence) {
				fence = ""
			}
			cur = append(cur, line)
			continue
		}
		if skipBlank {
			if isBlank(line) {
				continue
			}
			skipBlank = false
		}
		if f := fenceOpen(line); f != "" {
			fence = f
			cur = append(cur, line)
			continue
		}
		if n, text, ok := atxHeading(line); ok {
			heading(n, text)
			continue
		}
		if i+1 < len(lines) && (i == 0 || isBlank(lines[i-1])) && setextCandidate(line) {
			if n := setextUnderline(lines[i+1]); n > 0 {
				heading(n, strings.TrimSpace(line))
				i++
				continue
			}
		}
		cur = append(cur, line)
	}
	flush()
	return secs, h1
}

// splitText splits plain text into groups of paragraphs of up to maxTextChunk
// bytes.
func splitText(body string) []section {
	var (
		secs  []section
		group strings.Builder
	)
	flush := func() {
		if group.Len() > 0 {
			secs = append(secs, section{text: group.String()})
			group.Reset()
		}
	}
	for _, p := range paragraphs(body) {
		if group.Len() > 0 && group.Len()+2+len(p) > maxTextChunk {
			flush()
		}
		if group.Len() > 0 {
			group.WriteString("\n\n")
		}
		group.WriteString(p)
	}
	flush()
	return secs
}

// paragraphs returns the blank-line separated paragraphs of text.
func paragraphs(text string) []string {
	var (
		out []string
		cur []string
	)
	for _, line := range strings.Split(text, "\n") {
		if isBlank(line) {
			if t := trimBlankLines(cur); t != "" {
				out = append(out, t)
			}
			cur = cur[:0]
			continue
		}
		cur = append(cur, line)
	}
	if t := trimBlankLines(cur); t != "" {
		out = append(out, t)
	}
	return out
}

// trimBlankLines joins lines without leading and trailing blank lines and
// trailing white space.
func trimBlankLines(lines []string) string {
	for len(lines) > 0 && isBlank(lines[0]) {
		lines = lines[1:]
	}
	for len(lines) > 0 && isBlank(lines[len(lines)-1]) {
		lines = lines[:len(lines)-1]
	}
	return strings.TrimRight(strings.Join(lines, "\n"), " \t\n")
}

func isBlank(line string) bool { return strings.TrimSpace(line) == "" }

// indent returns the number of leading spaces (a tab counts as 4) and the
// rest of the line.
func indent(line string) (int, string) {
	n := 0
	for i := 0; i < len(line); i++ {
		switch line[i] {
		case ' ':
			n++
		case '\t':
			n += 4
		default:
			return n, line[i:]
		}
	}
	return n, ""
}

// atxHeading parses "## Heading ##" (at most 3 spaces of indentation).
func atxHeading(line string) (int, string, bool) {
	ind, rest := indent(line)
	if ind > 3 || !strings.HasPrefix(rest, "#") {
		return 0, "", false
	}
	n := len(rest) - len(strings.TrimLeft(rest, "#"))
	if n > 6 {
		return 0, "", false
	}
	rest = rest[n:]
	if rest != "" && rest[0] != ' ' && rest[0] != '\t' {
		return 0, "", false // "#hashtag", not a heading
	}
	rest = strings.TrimSpace(rest)
	// A closing sequence of #s must be preceded by a space.
	if t := strings.TrimRight(rest, "#"); t != rest && (t == "" || strings.HasSuffix(t, " ") || strings.HasSuffix(t, "\t")) {
		rest = strings.TrimSpace(t)
	}
	return n, rest, true
}

// fenceOpen returns the fence ("```", "~~~~", ...) a line opens, or "".
func fenceOpen(line string) string {
	ind, rest := indent(line)
	if ind > 3 || len(rest) < 3 || (rest[0] != '`' && rest[0] != '~') {
		return ""
	}
	c := rest[0]
	n := 0
	for n < len(rest) && rest[n] == c {
		n++
	}
	if n < 3 || (c == '`' && strings.Contains(rest[n:], "`")) {
		return ""
	}
	return rest[:n]
}

func isFenceClose(line, fence string) bool {
	ind, rest := indent(line)
	if ind > 3 {
		return false
	}
	rest = strings.TrimRight(rest, " \t")
	return len(rest) >= len(fence) && strings.Trim(rest, fence[:1]) == ""
}

// setextCandidate reports whether a line can be the text of a setext heading:
// a plain paragraph line, not a list item, quote, table row or other block.
func setextCandidate(line string) bool {
	ind, rest := indent(line)
	if ind > 3 || rest == "" {
		return false
	}
	switch rest[0] {
	case '-', '*', '+', '>', '|', '<', '=', '#':
		return false
	}
	if i := strings.IndexAny(rest, ".)"); i > 0 && i <= 9 && strings.Trim(rest[:i], "0123456789") == "" {
		return false // ordered list item
	}
	return true
}

// setextUnderline returns 1 for "===", 2 for "---", else 0.
func setextUnderline(line string) int {
	ind, rest := indent(line)
	rest = strings.TrimRight(rest, " \t")
	if ind > 3 || rest == "" {
		return 0
	}
	switch {
	case strings.Trim(rest, "=") == "":
		return 1
	case strings.Trim(rest, "-") == "":
		return 2
	}
	return 0
}

// indexText is the text of a chunk that is indexed: Markdown link targets are
// dropped so that URLs do not match words of a question.
func indexText(s string) string {
	if !strings.Contains(s, "](") {
		return s
	}
	var b bytes.Buffer
	for {
		i := strings.Index(s, "](")
		if i < 0 {
			break
		}
		j := strings.IndexByte(s[i+2:], ')')
		if j < 0 || strings.ContainsAny(s[i+2:i+2+j], " \n") {
			b.WriteString(s[:i+2])
			s = s[i+2:]
			continue
		}
		b.WriteString(s[:i+1])
		s = s[i+2+j+1:]
	}
	b.WriteString(s)
	return b.String()
}
