package web

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/xml"
	"fmt"
	"html"
	"html/template"
	"net/http"
	"regexp"
	"strings"
	"time"

	"github.com/einsatz/einsatz/bot/solved"
)

// AnswersPath is where the public answer pages live.
const AnswersPath = "/answers/"

// PublicAnswers are the answers the public pages show (already redacted,
// consented or rewritten by staff); *solutions.Service implements it.
type PublicAnswers interface {
	Published(ctx context.Context) ([]solved.Answer, error)
	PublishedAnswer(ctx context.Context, id string) (solved.Answer, bool, error)
}

// AddAnswers serves the public answer pages (knowledge.publish), without
// login: /answers/ (the index, with a search over the answers),
// /answers/{slug} (one question and its accepted answer with schema.org
// QAPage data), /sitemap.xml and /llms.txt listing them. base is the
// canonical URLs' base (knowledge.public_url, else web.public_url); ""
// takes the address the request came to. Call it before Run.
func (s *Server) AddAnswers(src PublicAnswers, base string) {
	a := &answerPages{s: s, src: src, base: strings.TrimRight(base, "/")}
	s.answers = a
	s.mux.HandleFunc("GET /answers", func(w http.ResponseWriter, r *http.Request) {
		http.Redirect(w, r, AnswersPath, http.StatusMovedPermanently)
	})
	s.mux.HandleFunc("GET "+AnswersPath+"{$}", a.index)
	s.mux.HandleFunc("GET "+AnswersPath+"{slug}", a.page)
	s.mux.HandleFunc("GET /sitemap.xml", a.sitemap)
	s.mux.HandleFunc("GET /llms.txt", a.llms)
}

type answerPages struct {
	s    *Server
	src  PublicAnswers
	base string
}

// baseURL is the canonical base: the configured one, else the request's.
func (a *answerPages) baseURL(r *http.Request) string {
	if a.base != "" {
		return a.base
	}
	scheme := "http"
	if r.TLS != nil || (a.s.opts.TrustProxy && r.Header.Get("X-Forwarded-Proto") == "https") {
		scheme = "https"
	}
	return scheme + "://" + r.Host
}

func (a *answerPages) list(w http.ResponseWriter, r *http.Request) ([]solved.Answer, bool) {
	list, err := a.src.Published(r.Context())
	if err != nil {
		a.s.log.Error("web: public answers", "err", err)
		http.Error(w, "reading the answers failed", http.StatusInternalServerError)
		return nil, false
	}
	return list, true
}

// writePublic sends a public page: cacheable (no member data, no token)
// but revalidated on every use — an answer taken down is gone at once —
// which its ETag makes one cheap 304 when nothing changed; under the same
// CSP as the dashboard.
func writePublic(w http.ResponseWriter, r *http.Request, status int, contentType string, body []byte) {
	sum := sha256.Sum256(body)
	etag := `"` + hex.EncodeToString(sum[:12]) + `"`
	h := w.Header()
	h.Set("Content-Type", contentType)
	h.Set("X-Content-Type-Options", "nosniff")
	h.Set("X-Frame-Options", "DENY")
	h.Set("Content-Security-Policy", contentSecurityPolicy)
	h.Set("Cache-Control", "public, no-cache")
	h.Set("ETag", etag)
	if status == http.StatusOK && r.Header.Get("If-None-Match") == etag {
		w.WriteHeader(http.StatusNotModified)
		return
	}
	w.WriteHeader(status)
	_, _ = w.Write(body)
}

func (a *answerPages) render(w http.ResponseWriter, r *http.Request, status int, lang string, data map[string]any) {
	data["BotName"] = a.s.opts.BotName
	data["Chrome"] = lang
	var buf bytes.Buffer
	if err := pageTmpl(answersTmpl, lang).Execute(&buf, data); err != nil {
		a.s.log.Error("web: public answers", "err", err)
		http.Error(w, "rendering the page failed", http.StatusInternalServerError)
		return
	}
	writePublic(w, r, status, "text/html; charset=utf-8", buf.Bytes())
}

// index lists every answer, newest first; ?q= keeps those containing every
// word of q (such a result page is not indexed by search engines).
func (a *answerPages) index(w http.ResponseWriter, r *http.Request) {
	list, ok := a.list(w, r)
	if !ok {
		return
	}
	lang := requestLang(r)
	q := strings.TrimSpace(r.URL.Query().Get("q"))
	if len(q) > 200 {
		q = q[:200]
	}
	docs, err := a.docs(r)
	if err != nil {
		a.s.log.Error("web: public documents", "err", err)
		http.Error(w, "reading the documents failed", http.StatusInternalServerError)
		return
	}
	shown := list
	if q != "" {
		shown = nil
		words := strings.Fields(strings.ToLower(q))
		docs = matchDocs(docs, words)
		for _, ans := range list {
			text := strings.ToLower(ans.Question + " " + ans.Answer)
			all := true
			for _, w := range words {
				all = all && strings.Contains(text, w)
			}
			if all {
				shown = append(shown, ans)
			}
		}
	}
	type item struct {
		solved.Answer
		Excerpt string
	}
	items := make([]item, 0, len(shown))
	for _, ans := range shown {
		items = append(items, item{ans, excerpt(ans.Answer, 180)})
	}
	w.Header().Set("Vary", "Accept-Language, Cookie")
	a.render(w, r, http.StatusOK, lang, map[string]any{
		"Index": true, "Lang": lang, "Items": items, "Docs": docs, "Query": q, "Total": len(list),
		"Title":       fmt.Sprintf(tr(lang, "ans_index_title"), a.s.opts.BotName),
		"Description": fmt.Sprintf(tr(lang, "ans_index_desc"), a.s.opts.BotName),
		"Canonical":   a.baseURL(r) + AnswersPath,
		"Here":        r.URL.RequestURI(),
	})
}

// page shows one answer; a slug whose words changed redirects to the
// current one (the id at its end finds the answer).
func (a *answerPages) page(w http.ResponseWriter, r *http.Request) {
	slug := r.PathValue("slug")
	id := slug[strings.LastIndexByte(slug, '-')+1:]
	if ans, ok, err := a.src.PublishedAnswer(r.Context(), id); err != nil {
		a.s.log.Error("web: public answer", "err", err)
		http.Error(w, "reading the answer failed", http.StatusInternalServerError)
		return
	} else if ok {
		if ans.Slug != slug {
			http.Redirect(w, r, AnswersPath+ans.Slug, http.StatusMovedPermanently)
			return
		}
		// The chrome speaks the answer's language when it can: one page per
		// URL, the same for every visitor and crawler.
		chrome := "en"
		if ans.Lang == "de" {
			chrome = "de"
		}
		canonical := a.baseURL(r) + AnswersPath + ans.Slug
		a.render(w, r, http.StatusOK, chrome, map[string]any{
			"Answer": ans, "Lang": cmpOr(ans.Lang, chrome), "Body": answerHTML(ans.Answer),
			"Title":       ans.Question + " · " + fmt.Sprintf(tr(chrome, "ans_index_title"), a.s.opts.BotName),
			"Description": excerpt(ans.Answer, 155),
			"Canonical":   canonical,
			"LD":          qaPage(ans, canonical, a.s.opts.BotName),
		})
		return
	}
	lang := requestLang(r)
	a.render(w, r, http.StatusNotFound, lang, map[string]any{"Missing": true, "Lang": lang,
		"Title": tr(lang, "ans_missing"), "Canonical": a.baseURL(r) + AnswersPath})
}

func cmpOr(a, b string) string {
	if a != "" {
		return a
	}
	return b
}

// qaPage is the page's schema.org QAPage: the question, its accepted
// answer, dates and language. The author is the community, never a
// person: members are not named on public pages.
func qaPage(ans solved.Answer, canonical, botName string) map[string]any {
	community := map[string]any{"@type": "Organization", "name": botName + " community"}
	answer := map[string]any{"@type": "Answer", "text": ans.Answer, "url": canonical + "#answer",
		"dateCreated": ans.Updated.UTC().Format(time.RFC3339), "upvoteCount": 1, "author": community}
	return map[string]any{
		"@context": "https://schema.org", "@type": "QAPage", "inLanguage": cmpOr(ans.Lang, "en"), "url": canonical,
		"mainEntity": map[string]any{
			"@type": "Question", "name": ans.Question, "text": ans.Question, "answerCount": 1,
			"dateCreated": ans.Created.UTC().Format(time.RFC3339), "author": community, "acceptedAnswer": answer,
		},
	}
}

// lastmod is when the answer last changed.
func lastmod(ans solved.Answer) time.Time {
	if ans.Updated.After(ans.Created) {
		return ans.Updated
	}
	return ans.Created
}

// sitemap lists the index and every answer page (sitemaps.org 0.9).
func (a *answerPages) sitemap(w http.ResponseWriter, r *http.Request) {
	list, ok := a.list(w, r)
	if !ok {
		return
	}
	type url struct {
		Loc     string `xml:"loc"`
		LastMod string `xml:"lastmod,omitempty"`
	}
	set := struct {
		XMLName xml.Name `xml:"urlset"`
		NS      string   `xml:"xmlns,attr"`
		URLs    []url    `xml:"url"`
	}{NS: "http://www.sitemaps.org/schemas/sitemap/0.9"}
	base := a.baseURL(r)
	index := url{Loc: base + AnswersPath}
	if len(list) > 0 {
		index.LastMod = lastmod(list[0]).UTC().Format("2006-01-02")
	}
	set.URLs = append(set.URLs, index)
	for _, ans := range list {
		set.URLs = append(set.URLs, url{Loc: base + AnswersPath + ans.Slug, LastMod: lastmod(ans).UTC().Format("2006-01-02")})
	}
	docs, err := a.docs(r)
	if err != nil {
		a.s.log.Error("web: public documents", "err", err)
		http.Error(w, "reading the documents failed", http.StatusInternalServerError)
		return
	}
	for _, p := range docs {
		if a.docCanonical(r, p) != base+DocsPath+p.Slug {
			continue // a copy of a website's page: the sitemap lists canonical URLs only
		}
		u := url{Loc: base + DocsPath + p.Slug}
		if !p.Updated.IsZero() {
			u.LastMod = p.Updated.UTC().Format("2006-01-02")
		}
		set.URLs = append(set.URLs, u)
	}
	out, err := xml.MarshalIndent(set, "", "  ")
	if err != nil {
		http.Error(w, "sitemap failed", http.StatusInternalServerError)
		return
	}
	writePublic(w, r, http.StatusOK, "application/xml; charset=utf-8", append(append([]byte(xml.Header), out...), '\n'))
}

// llms serves /llms.txt (llmstxt.org): a title, a one-line summary, and a
// list of links to every answer page with its first words.
func (a *answerPages) llms(w http.ResponseWriter, r *http.Request) {
	list, ok := a.list(w, r)
	if !ok {
		return
	}
	base := a.baseURL(r)
	var b strings.Builder
	fmt.Fprintf(&b, "# %s answers\n\n", oneLine(a.s.opts.BotName))
	fmt.Fprintf(&b, "> Questions asked in the %s community and the answers the team approved, one page each.\n\n", oneLine(a.s.opts.BotName))
	fmt.Fprintf(&b, "Each page holds one question and its accepted answer (personal data removed) in the language it was asked in, "+
		"with schema.org QAPage data. The index is %s%s; the sitemap is %s/sitemap.xml.\n\n## Answers\n\n", base, AnswersPath, base)
	for _, ans := range list {
		title := strings.NewReplacer("[", "(", "]", ")").Replace(oneLine(ans.Question))
		fmt.Fprintf(&b, "- [%s](%s%s%s): %s\n", title, base, AnswersPath, ans.Slug, excerpt(ans.Answer, 160))
	}
	docs, err := a.docs(r)
	if err != nil {
		a.s.log.Error("web: public documents", "err", err)
		http.Error(w, "reading the documents failed", http.StatusInternalServerError)
		return
	}
	if len(docs) > 0 {
		b.WriteString("\n## Documentation\n\n")
	}
	for _, p := range docs {
		title := strings.NewReplacer("[", "(", "]", ")").Replace(oneLine(p.Title))
		line := fmt.Sprintf("- [%s](%s%s%s)", title, base, DocsPath, p.Slug)
		if p.URL != "" {
			line += " (original: " + p.URL + ")"
		}
		if len(p.Sections) > 0 {
			line += ": " + excerpt(p.Sections[0].Text, 160)
		}
		b.WriteString(line + "\n")
	}
	writePublic(w, r, http.StatusOK, "text/plain; charset=utf-8", []byte(b.String()))
}

func oneLine(s string) string { return strings.Join(strings.Fields(s), " ") }

// excerpt is the first n characters of text on one line, cut at a word.
func excerpt(text string, n int) string {
	text = oneLine(strings.ReplaceAll(fence.ReplaceAllString(text, " "), "`", ""))
	r := []rune(text)
	if len(r) <= n {
		return text
	}
	cut := string(r[:n])
	if i := strings.LastIndexByte(cut, ' '); i > n/2 {
		cut = cut[:i]
	}
	return strings.TrimRight(cut, " ,.;:") + "…"
}

var (
	inlineCode = regexp.MustCompile("`([^`\n]+)`")
	blankLine  = regexp.MustCompile(`\n\s*\n`)
	fence      = regexp.MustCompile("```[A-Za-z0-9_+-]*")
	linkRe     = regexp.MustCompile(`https?://[^\s<>"'()]+[^\s<>"'().,;:!?]`)
)

// answerHTML renders an answer's text: fenced code blocks as pre, blank
// lines between paragraphs, line breaks kept, `code` and http(s) links.
// Everything else is escaped.
func answerHTML(text string) template.HTML {
	var b strings.Builder
	parts := strings.Split(strings.ReplaceAll(text, "\r\n", "\n"), "```")
	for i, part := range parts {
		if i%2 == 1 { // inside a fence; its first line may name the language
			if nl := strings.IndexByte(part, '\n'); nl >= 0 && !strings.ContainsAny(part[:nl], " \t") {
				part = part[nl+1:]
			}
			b.WriteString("<pre><code>" + html.EscapeString(strings.Trim(part, "\n")) + "</code></pre>\n")
			continue
		}
		for _, para := range blankLine.Split(part, -1) {
			if para = strings.TrimSpace(para); para == "" {
				continue
			}
			b.WriteString("<p>" + strings.ReplaceAll(inline(para), "\n", "<br>\n") + "</p>\n")
		}
	}
	return template.HTML(b.String()) // #nosec G203 -- built from escaped text only
}

// inline escapes a paragraph and marks up its `code` and links (found in
// the raw text, so an escaped quote never becomes part of a link).
func inline(s string) string {
	var b strings.Builder
	last := 0
	text := func(t string) { b.WriteString(inlineCode.ReplaceAllString(html.EscapeString(t), "<code>$1</code>")) }
	for _, loc := range linkRe.FindAllStringIndex(s, -1) {
		text(s[last:loc[0]])
		u := html.EscapeString(s[loc[0]:loc[1]])
		b.WriteString(`<a href="` + u + `" rel="nofollow noopener">` + u + `</a>`)
		last = loc[1]
	}
	text(s[last:])
	return b.String()
}

var answersTmpl = template.Must(template.New("answers").Funcs(pageFuncs("en")).Funcs(template.FuncMap{
	"iso": func(t time.Time) string { return t.UTC().Format(time.RFC3339) },
	"day": func(t time.Time) string { return t.UTC().Format("2006-01-02") },
}).Parse(`<!doctype html>
<html lang="{{.Lang}}">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>{{.Title}}</title>
{{with .Description}}<meta name="description" content="{{.}}">
{{end}}{{if or .Query .Missing}}<meta name="robots" content="noindex">
{{end}}<link rel="canonical" href="{{.Canonical}}">
<link rel="stylesheet" href="/static/style.css">
{{with .LD}}<script type="application/ld+json">{{.}}</script>
{{end}}</head>
<body class="answers">
<a class="skip" href="#main" lang="{{.Chrome}}">{{t "layout.skip"}}</a>
<header class="top" lang="{{.Chrome}}">
<a class="brand" href="/answers/">{{tf "ans_brand" .BotName}}</a>
{{if .Index}}<nav class="lang" aria-label="{{t "layout.language"}}">
<a href="/lang/en?next={{.Here}}" lang="en" hreflang="en" id="lang-en"{{if eq .Chrome "en"}} aria-current="true"{{end}}>English</a>
<a href="/lang/de?next={{.Here}}" lang="de" hreflang="de" id="lang-de"{{if eq .Chrome "de"}} aria-current="true"{{end}}>Deutsch</a>
</nav>{{end}}
</header>
<main id="main" tabindex="-1">
{{if .Index}}<h1 lang="{{.Chrome}}">{{tf "ans_index_h1" .BotName}}</h1>
<p class="intro" lang="{{.Chrome}}">{{t "ans_intro"}}</p>
<form class="ans-search" role="search" method="get" action="/answers/" lang="{{.Chrome}}">
<label for="ans-q">{{t "ans_search"}}</label>
<div class="row"><input id="ans-q" name="q" type="search" value="{{.Query}}"><button type="submit">{{t "ans_search_go"}}</button></div>
</form>
{{if .Query}}<p id="ans-count" role="status" lang="{{.Chrome}}">{{tf "ans_found" (len .Items) .Query}}</p>{{end}}
<ol class="ans-list" id="ans-list">
{{range .Items}}<li lang="{{.Lang}}"><article>
<h2><a href="/answers/{{.Slug}}">{{.Question}}</a></h2>
<p>{{.Excerpt}}</p>
<p class="muted small"><time datetime="{{iso .Created}}">{{day .Created}}</time></p>
</article></li>
{{end}}</ol>
{{if not .Items}}<p id="ans-none" lang="{{.Chrome}}">{{if .Query}}{{t "ans_none_found"}}{{else}}{{t "ans_none"}}{{end}}</p>{{end}}
{{with .Docs}}<h2 id="docs-h" lang="{{$.Chrome}}">{{t "ans_docs_h"}}</h2>
<ul class="ans-docs" id="doc-list" aria-labelledby="docs-h">
{{range .}}<li lang="{{.Lang}}"><a href="/answers/docs/{{.Slug}}">{{.Title}}</a></li>
{{end}}</ul>{{end}}
{{else if .Missing}}<h1>{{t "ans_missing"}}</h1>
<p><a href="/answers/">{{t "ans_back"}}</a></p>
{{else if .Doc}}{{with .Doc}}<article class="qa kb-doc">
<p class="crumbs" lang="{{$.Chrome}}"><a href="/answers/">{{tf "ans_brand" $.BotName}}</a></p>
<h1 id="doc-title">{{.Title}}</h1>
<p class="muted small" lang="{{$.Chrome}}">{{if .URL}}{{t "ans_doc_from"}} <a id="doc-source" href="{{.URL}}" rel="noopener">{{t "ans_doc_original"}}</a>{{if not .Updated.IsZero}} · {{end}}{{end}}{{if not .Updated.IsZero}}{{t "ans_doc_updated"}} <time datetime="{{iso .Updated}}">{{day .Updated}}</time>{{end}}</p>
{{range $.Sections}}<section class="doc-section">{{with .Heading}}<h2>{{.}}</h2>
{{end}}{{.Body}}</section>
{{end}}<p class="muted small" lang="{{$.Chrome}}">{{t "ans_doc_note"}}</p>
</article>{{end}}
{{else}}{{with .Answer}}<article class="qa">
<p class="crumbs" lang="{{$.Chrome}}"><a href="/answers/">{{tf "ans_brand" $.BotName}}</a></p>
<h1 id="question">{{.Question}}</h1>
<p class="muted small" lang="{{$.Chrome}}">{{t "ans_asked"}} <time datetime="{{iso .Created}}">{{day .Created}}</time></p>
<section id="answer" class="answer" aria-labelledby="answer-h">
<h2 id="answer-h" lang="{{$.Chrome}}">{{t "ans_accepted"}}</h2>
{{$.Body}}
</section>
<p class="muted small" lang="{{$.Chrome}}">{{t "ans_note"}}</p>
</article>{{end}}{{end}}
</main>
<footer class="ans-foot" lang="{{.Chrome}}"><p class="muted small">{{tf "ans_foot" .BotName}}</p></footer>
</body>
</html>
`))

func init() { dicts = append(dicts, answersDict) }

var answersDict = dict{
	"en": {"ans_brand": "%s answers", "ans_index_title": "Answers from the %s community", "ans_index_h1": "Answers from the %s community",
		"ans_index_desc": "Questions asked in the %s community and the answers the team approved.",
		"ans_intro":      "Questions people asked in our community, with the answer that solved them. Names and personal data are left out.",
		"ans_search":     "Search the answers", "ans_search_go": "Search", "ans_found": "%d answers for “%s”",
		"ans_none": "No answers are published yet.", "ans_none_found": "No answer contains all of these words.",
		"ans_missing": "This answer is not (or no longer) published", "ans_back": "All answers",
		"ans_asked": "Asked on", "ans_accepted": "Accepted answer",
		"ans_note": "From a solved community thread, approved by the team. Personal data was removed.",
		"ans_foot": "%s · answers from our community"},
	"de": {"ans_brand": "%s-Antworten", "ans_index_title": "Antworten aus der %s-Community", "ans_index_h1": "Antworten aus der %s-Community",
		"ans_index_desc": "Fragen aus der %s-Community und die Antworten, die das Team freigegeben hat.",
		"ans_intro":      "Fragen aus unserer Community mit der Antwort, die sie gelöst hat. Namen und persönliche Daten sind entfernt.",
		"ans_search":     "Antworten durchsuchen", "ans_search_go": "Suchen", "ans_found": "%d Antworten zu „%s“",
		"ans_none": "Noch keine Antworten veröffentlicht.", "ans_none_found": "Keine Antwort enthält alle diese Wörter.",
		"ans_missing": "Diese Antwort ist nicht (mehr) veröffentlicht", "ans_back": "Alle Antworten",
		"ans_asked": "Gefragt am", "ans_accepted": "Akzeptierte Antwort",
		"ans_note": "Aus einem gelösten Community-Thread, vom Team freigegeben. Persönliche Daten wurden entfernt.",
		"ans_foot": "%s · Antworten aus unserer Community"},
}
