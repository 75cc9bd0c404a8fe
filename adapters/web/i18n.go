package web

import (
	"net/http"
	"strings"
	"sync"
)

// translations are a page's words: language → key → text. Each page file
// keeps its own (layoutTexts, inboxTexts, …) and lists them in
// translationSets, so tr finds every key in one place.
type translations map[string]map[string]string

// dict is the same for the pages that add their words in an init
// (dicts = append(dicts, overviewDict)).
type dict = translations

// dicts are the words pages add in their init functions.
var dicts []dict

// allTranslations is translationSets and dicts, joined once after every
// init has run.
var allTranslations = sync.OnceValue(func() []translations {
	return append(append([]translations{}, translationSets...), dicts...)
})

// tr is the text for key in lang ("en" or "de"), the English one when lang
// has none, and the key itself when nobody wrote it (visible, not blank).
func tr(lang, key string) string {
	for _, set := range allTranslations() {
		if s, ok := set[lang][key]; ok {
			return s
		}
	}
	for _, set := range allTranslations() {
		if s, ok := set["en"][key]; ok {
			return s
		}
	}
	return key
}

// langCookie holds the language chosen with the dashboard's switch.
const langCookie = "einsatz_lang"

// requestLang decides a page's language, for every page: the language the
// visitor chose with the switch (cookie), else the browser's
// Accept-Language, else English.
func requestLang(r *http.Request) string {
	if c, err := r.Cookie(langCookie); err == nil {
		switch strings.ToLower(c.Value) {
		case "de", "en":
			return strings.ToLower(c.Value)
		}
	}
	return pageLang(r.Header.Get("Accept-Language"))
}

// setLang is the language switch: GET /lang/{lang}?next=/path keeps the
// choice in a cookie for a year and goes back to the page. A plain link
// (no script, no form): choosing a language changes nothing but the
// wording, so it needs no CSRF token.
func (s *Server) setLang(w http.ResponseWriter, r *http.Request) {
	lang := r.PathValue("lang")
	if lang != "en" && lang != "de" {
		http.NotFound(w, r)
		return
	}
	http.SetCookie(w, &http.Cookie{Name: langCookie, Value: lang, Path: "/", MaxAge: 365 * 24 * 3600,
		HttpOnly: true, Secure: s.secureCookies(), SameSite: http.SameSiteLaxMode})
	http.Redirect(w, r, safeNext(r.URL.Query().Get("next")), http.StatusSeeOther)
}
