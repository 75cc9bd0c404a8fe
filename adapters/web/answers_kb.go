package web

import (
	"context"
	"fmt"
	"html/template"
	"net/http"
	"strings"
	"time"

	"github.com/einsatz/einsatz/bot/kb"
)

// DocsPath is where the knowledge base's public pages live.
const DocsPath = AnswersPath + "docs/"

// PublicDocs are the knowledge documents staff own (files, website and Git
// sources) as public pages; *knowledge.Base implements it from memory.
type PublicDocs interface {
	PublicPages(ctx context.Context) ([]kb.Page, error)
	PublicPage(ctx context.Context, slug string) (kb.Page, bool, error)
}

// AddPublicDocs serves the knowledge base beside the answers
// (knowledge.publish_kb): /answers/docs/{slug} is one document with
// schema.org TechArticle data, and the answers' index, sitemap and
// llms.txt list the documents too. A page from a website source names
// that page as its canonical URL (it is a copy) and is left out of the
// sitemap, which lists canonical URLs only. Call it before Run, with
// AddAnswers.
func (s *Server) AddPublicDocs(src PublicDocs) {
	s.publicDocs = src
	s.mux.HandleFunc("GET "+DocsPath+"{slug}", func(w http.ResponseWriter, r *http.Request) {
		a := s.answers
		if a == nil {
			http.NotFound(w, r)
			return
		}
		a.doc(w, r)
	})
}

// docs lists the public documents; nil without AddPublicDocs.
func (a *answerPages) docs(r *http.Request) ([]kb.Page, error) {
	if a.s.publicDocs == nil {
		return nil, nil
	}
	return a.s.publicDocs.PublicPages(r.Context())
}

// docCanonical is a document page's canonical URL: the original page of a
// website source, else its own.
func (a *answerPages) docCanonical(r *http.Request, p kb.Page) string {
	if p.Origin == kb.OriginWebsite && p.URL != "" {
		return p.URL
	}
	return a.baseURL(r) + DocsPath + p.Slug
}

type docSection struct {
	Heading string
	Body    template.HTML
}

// doc shows one knowledge document; a slug whose title words changed
// redirects to the current one.
func (a *answerPages) doc(w http.ResponseWriter, r *http.Request) {
	slug := r.PathValue("slug")
	if a.s.publicDocs != nil {
		p, ok, err := a.s.publicDocs.PublicPage(r.Context(), slug)
		if err != nil {
			a.s.log.Error("web: public document", "err", err)
			http.Error(w, "reading the document failed", http.StatusInternalServerError)
			return
		}
		if ok {
			if p.Slug != slug {
				http.Redirect(w, r, DocsPath+p.Slug, http.StatusMovedPermanently)
				return
			}
			chrome := "en"
			if p.Lang == "de" {
				chrome = "de"
			}
			sections := make([]docSection, 0, len(p.Sections))
			var text strings.Builder
			for _, s := range p.Sections {
				sections = append(sections, docSection{Heading: s.Heading, Body: answerHTML(s.Text)})
				text.WriteString(s.Text + "\n\n")
			}
			canonical := a.docCanonical(r, p)
			a.render(w, r, http.StatusOK, chrome, map[string]any{
				"Doc": p, "Sections": sections, "Lang": cmpOr(p.Lang, chrome),
				"Title":       p.Title + " · " + fmt.Sprintf(tr(chrome, "ans_index_title"), a.s.opts.BotName),
				"Description": excerpt(text.String(), 155),
				"Canonical":   canonical,
				"LD":          techArticle(p, canonical, a.s.opts.BotName),
			})
			return
		}
	}
	lang := requestLang(r)
	a.render(w, r, http.StatusNotFound, lang, map[string]any{"Missing": true, "Lang": lang,
		"Title": tr(lang, "ans_missing"), "Canonical": a.baseURL(r) + AnswersPath})
}

// techArticle is a document page's schema.org TechArticle: its title,
// sections, language, last change and the original it is based on.
func techArticle(p kb.Page, canonical, botName string) map[string]any {
	team := map[string]any{"@type": "Organization", "name": botName}
	var sections []string
	for _, s := range p.Sections {
		if s.Heading != "" {
			sections = append(sections, s.Heading)
		}
	}
	ld := map[string]any{
		"@context": "https://schema.org", "@type": "TechArticle", "headline": p.Title, "name": p.Title,
		"inLanguage": cmpOr(p.Lang, "en"), "url": canonical, "mainEntityOfPage": canonical,
		"author": team, "publisher": team,
	}
	if !p.Updated.IsZero() {
		ld["dateModified"] = p.Updated.UTC().Format(time.RFC3339)
	}
	if len(sections) > 0 {
		ld["articleSection"] = sections
	}
	if p.URL != "" {
		ld["isBasedOn"] = p.URL
	}
	return ld
}

// matchDocs keeps the documents containing every word (lower case).
func matchDocs(docs []kb.Page, words []string) []kb.Page {
	var out []kb.Page
	for _, p := range docs {
		var b strings.Builder
		b.WriteString(strings.ToLower(p.Title))
		for _, s := range p.Sections {
			b.WriteString(" " + strings.ToLower(s.Heading+" "+s.Text))
		}
		text, all := b.String(), true
		for _, w := range words {
			all = all && strings.Contains(text, w)
		}
		if all {
			out = append(out, p)
		}
	}
	return out
}

func init() { dicts = append(dicts, answersKBDict) }

var answersKBDict = dict{
	"en": {"ans_docs_h": "From the documentation", "ans_doc_from": "From the documentation:", "ans_doc_updated": "Updated",
		"ans_doc_original": "original page", "ans_doc_note": "Part of the knowledge base the team maintains; the bot answers from it too."},
	"de": {"ans_docs_h": "Aus der Dokumentation", "ans_doc_from": "Aus der Dokumentation:", "ans_doc_updated": "Aktualisiert",
		"ans_doc_original": "Originalseite", "ans_doc_note": "Teil der Wissensbasis, die das Team pflegt; der Bot antwortet auch daraus."},
}
