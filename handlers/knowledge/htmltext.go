package knowledge

import (
	"io"
	"net/url"
	"strconv"
	"strings"

	"github.com/PuerkitoBio/goquery"
	"golang.org/x/net/html"
	"golang.org/x/net/html/atom"
)

// htmlPage is what a crawled page yields.
type htmlPage struct {
	Title    string
	Lang     string   // the <html lang> attribute, as written
	Markdown string   // the main content as Markdown
	Links    []string // absolute http(s) links, without fragment, in page order
}

// chrome is what a docs page carries around its content: navigation,
// banners, footers, scripts, forms and the like. It is dropped before the
// content is rendered.
const chrome = `script, style, noscript, template, nav, header, footer, aside, form, iframe, svg, button, select, ` +
	`[role=navigation], [role=banner], [role=contentinfo], [role=complementary], [role=search], [hidden], [aria-hidden=true], ` +
	`.sidebar, .toc, .breadcrumb, .breadcrumbs, .skip-link, .headerlink, .edit-page, .pagination`

// parseHTML extracts the main content of a page as Markdown (headings,
// paragraphs, lists, code blocks, tables and quotes kept; chrome dropped),
// its title and language, and every link on it (navigation included: it
// is how a crawl without a sitemap finds pages). base resolves relative
// links.
func parseHTML(r io.Reader, base *url.URL) (htmlPage, error) {
	doc, err := goquery.NewDocumentFromReader(r)
	if err != nil {
		return htmlPage{}, err
	}
	var p htmlPage
	p.Lang = strings.TrimSpace(doc.Find("html").AttrOr("lang", ""))
	if href, ok := doc.Find("base[href]").First().Attr("href"); ok {
		if u, err := base.Parse(href); err == nil {
			base = u
		}
	}
	seen := map[string]bool{}
	doc.Find("a[href]").Each(func(_ int, a *goquery.Selection) {
		u, err := base.Parse(strings.TrimSpace(a.AttrOr("href", "")))
		if err != nil || (u.Scheme != "http" && u.Scheme != "https") {
			return
		}
		u.Fragment, u.RawFragment = "", ""
		if s := u.String(); !seen[s] {
			seen[s] = true
			p.Links = append(p.Links, s)
		}
	})
	doc.Find(chrome).Remove()
	root := doc.Find("main, [role=main]").First()
	if root.Length() == 0 {
		root = doc.Find("article").First()
	}
	if root.Length() == 0 {
		root = doc.Find("body")
	}
	p.Title = collapse(root.Find("h1").First().Text())
	if p.Title == "" {
		p.Title = collapse(doc.Find("title").First().Text())
	}
	var md mdWriter
	for _, n := range root.Nodes {
		md.blocks(n, 0)
	}
	p.Markdown = md.String()
	return p, nil
}

// mdWriter renders HTML blocks as Markdown: paragraphs separated by blank
// lines, inline content on one line.
type mdWriter struct {
	out  strings.Builder
	para strings.Builder // inline content not yet ended by a block
}

func (w *mdWriter) String() string {
	w.flush()
	return strings.TrimSpace(w.out.String()) + "\n"
}

// flush ends the current paragraph.
func (w *mdWriter) flush() {
	if t := collapse(w.para.String()); t != "" {
		w.block(t)
	}
	w.para.Reset()
}

// block writes one finished block.
func (w *mdWriter) block(s string) {
	if w.out.Len() > 0 {
		w.out.WriteString("\n\n")
	}
	w.out.WriteString(s)
}

// blocks renders n's children; depth is the list nesting.
func (w *mdWriter) blocks(n *html.Node, depth int) {
	for c := n.FirstChild; c != nil; c = c.NextSibling {
		w.node(c, depth)
	}
}

func (w *mdWriter) node(n *html.Node, depth int) {
	switch n.Type {
	case html.TextNode:
		w.para.WriteString(n.Data)
		return
	case html.ElementNode:
	default:
		return
	}
	switch n.DataAtom {
	case atom.H1, atom.H2, atom.H3, atom.H4, atom.H5, atom.H6:
		w.flush()
		if t := collapse(inline(n)); t != "" {
			w.block(strings.Repeat("#", int(n.Data[1]-'0')) + " " + t)
		}
	case atom.Pre:
		w.flush()
		code := strings.Trim(textOf(n), "\n")
		if code != "" {
			w.block("```" + codeLang(n) + "\n" + code + "\n```")
		}
	case atom.Ul, atom.Ol:
		w.flush()
		w.list(n, depth)
	case atom.Table:
		w.flush()
		w.table(n)
	case atom.Blockquote:
		w.flush()
		var inner mdWriter
		inner.blocks(n, depth)
		if t := strings.TrimSpace(inner.String()); t != "" {
			w.block("> " + strings.ReplaceAll(t, "\n", "\n> "))
		}
	case atom.Br:
		w.para.WriteString(" ")
	case atom.Hr:
		w.flush()
	case atom.Img:
		// Pictures carry no searchable text; alt texts are mostly noise.
	case atom.P, atom.Div, atom.Section, atom.Article, atom.Main, atom.Dl, atom.Dt, atom.Dd, atom.Figure, atom.Figcaption,
		atom.Details, atom.Summary, atom.Li, atom.Body, atom.Center, atom.Address:
		w.flush()
		w.blocks(n, depth)
		w.flush()
	default:
		w.para.WriteString(inline(n))
	}
}

// list renders a ul or ol; nested lists are indented.
func (w *mdWriter) list(n *html.Node, depth int) {
	var b strings.Builder
	i := 0
	for li := n.FirstChild; li != nil; li = li.NextSibling {
		if li.Type != html.ElementNode || li.DataAtom != atom.Li {
			continue
		}
		i++
		marker := "- "
		if n.DataAtom == atom.Ol {
			marker = strconv.Itoa(i) + ". "
		}
		var text strings.Builder
		var nested []*html.Node
		for c := li.FirstChild; c != nil; c = c.NextSibling {
			if c.Type == html.ElementNode && (c.DataAtom == atom.Ul || c.DataAtom == atom.Ol) {
				nested = append(nested, c)
				continue
			}
			if c.Type == html.ElementNode && c.DataAtom == atom.Pre {
				text.WriteString(" `" + collapse(textOf(c)) + "`")
				continue
			}
			text.WriteString(inline(c) + " ")
		}
		if b.Len() > 0 {
			b.WriteString("\n")
		}
		b.WriteString(strings.Repeat("  ", depth) + marker + collapse(text.String()))
		for _, sub := range nested {
			var inner mdWriter
			inner.list(sub, depth+1)
			if t := strings.TrimRight(inner.out.String(), "\n"); t != "" {
				b.WriteString("\n" + t)
			}
		}
	}
	if b.Len() > 0 {
		w.block(b.String())
	}
}

// table renders a table as a Markdown table, its first row the header.
func (w *mdWriter) table(n *html.Node) {
	var rows [][]string
	var walk func(*html.Node)
	walk = func(n *html.Node) {
		for c := n.FirstChild; c != nil; c = c.NextSibling {
			if c.Type != html.ElementNode {
				continue
			}
			if c.DataAtom == atom.Tr {
				var row []string
				for cell := c.FirstChild; cell != nil; cell = cell.NextSibling {
					if cell.Type == html.ElementNode && (cell.DataAtom == atom.Td || cell.DataAtom == atom.Th) {
						row = append(row, strings.ReplaceAll(collapse(inline(cell)), "|", `\|`))
					}
				}
				if len(row) > 0 {
					rows = append(rows, row)
				}
				continue
			}
			if c.DataAtom != atom.Table { // a nested table is rendered as its own
				walk(c)
			}
		}
	}
	walk(n)
	if len(rows) == 0 {
		return
	}
	var b strings.Builder
	for i, row := range rows {
		if i > 0 {
			b.WriteString("\n")
		}
		b.WriteString("| " + strings.Join(row, " | ") + " |")
		if i == 0 {
			b.WriteString("\n|" + strings.Repeat(" --- |", len(row)))
		}
	}
	w.block(b.String())
}

// inline renders n as inline text: code in backticks, everything else as
// its text.
func inline(n *html.Node) string {
	switch n.Type {
	case html.TextNode:
		return n.Data
	case html.ElementNode:
	default:
		return ""
	}
	switch n.DataAtom {
	case atom.Code, atom.Kbd, atom.Samp:
		if t := collapse(textOf(n)); t != "" {
			return "`" + t + "`"
		}
		return ""
	case atom.Br:
		return " "
	case atom.Img:
		return ""
	}
	var b strings.Builder
	for c := n.FirstChild; c != nil; c = c.NextSibling {
		b.WriteString(inline(c))
	}
	if n.DataAtom == atom.P || n.DataAtom == atom.Div || n.DataAtom == atom.Li {
		b.WriteString(" ")
	}
	return b.String()
}

// textOf is n's text as written (whitespace kept, for code).
func textOf(n *html.Node) string {
	if n.Type == html.TextNode {
		return n.Data
	}
	var b strings.Builder
	for c := n.FirstChild; c != nil; c = c.NextSibling {
		b.WriteString(textOf(c))
	}
	return b.String()
}

// codeLang finds a code block's language in a language-x / lang-x class
// of the pre or its code element.
func codeLang(pre *html.Node) string {
	nodes := []*html.Node{pre}
	if c := pre.FirstChild; c != nil && c.DataAtom == atom.Code {
		nodes = append(nodes, c)
	}
	for _, n := range nodes {
		for _, a := range n.Attr {
			if a.Key != "class" {
				continue
			}
			for _, cls := range strings.Fields(a.Val) {
				for _, p := range []string{"language-", "lang-", "highlight-"} {
					if l, ok := strings.CutPrefix(cls, p); ok && l != "" {
						return l
					}
				}
			}
		}
	}
	return ""
}

// collapse joins s's words with single spaces.
func collapse(s string) string { return strings.Join(strings.Fields(s), " ") }
