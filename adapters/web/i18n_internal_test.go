package web

import (
	"net/http"
	"net/http/httptest"
	"testing"
)

// The page language: the switch's cookie first, then Accept-Language,
// then English; an unknown cookie value is ignored.
func TestRequestLang(t *testing.T) {
	for _, tc := range []struct{ cookie, accept, want string }{
		{"", "", "en"},
		{"", "de-DE,de;q=0.9,en;q=0.8", "de"},
		{"", "fr-FR,en;q=0.5", "en"},
		{"en", "de-DE", "en"},
		{"de", "en-US", "de"},
		{"DE", "", "de"},
		{"fr", "de", "de"},
	} {
		r := httptest.NewRequest(http.MethodGet, "/dashboard", nil)
		if tc.cookie != "" {
			r.AddCookie(&http.Cookie{Name: langCookie, Value: tc.cookie})
		}
		r.Header.Set("Accept-Language", tc.accept)
		if got := requestLang(r); got != tc.want {
			t.Errorf("cookie %q, Accept-Language %q: %q, want %q", tc.cookie, tc.accept, got, tc.want)
		}
	}
}

// tr falls back to English, then to the key; every German text has an
// English one.
func TestTr(t *testing.T) {
	if got := tr("de", "layout.logout"); got != "Abmelden" {
		t.Errorf("de layout.logout = %q", got)
	}
	if got := tr("fr", "layout.logout"); got != "Log out" {
		t.Errorf("fr layout.logout = %q", got)
	}
	if got := tr("de", "no.such.key"); got != "no.such.key" {
		t.Errorf("missing key = %q", got)
	}
	for _, set := range translationSets {
		for k := range set["de"] {
			if _, ok := set["en"][k]; !ok && !isGermanOnly(k) {
				t.Errorf("%s has German text but no English one", k)
			}
		}
	}
}

// isGermanOnly: keys whose English text is derived (status labels from the
// status, navigation labels from the page's Title).
func isGermanOnly(k string) bool {
	return len(k) > 4 && k[:4] == "nav:" || len(k) > 13 && k[:13] == "inbox.status."
}

// The switch sets the cookie and goes back to the page, only on this site.
func TestSetLang(t *testing.T) {
	s := &Server{}
	for _, tc := range []struct {
		path        string
		code        int
		loc, cookie string
	}{
		{"/lang/de?next=/dashboard/inbox%3Fstatus%3Dmaybe", 303, "/dashboard/inbox?status=maybe", "de"},
		{"/lang/en?next=//evil.example/", 303, "/dashboard", "en"},
		{"/lang/fr?next=/dashboard", 404, "", ""},
	} {
		mux := http.NewServeMux()
		mux.HandleFunc("GET /lang/{lang}", s.setLang)
		rec := httptest.NewRecorder()
		mux.ServeHTTP(rec, httptest.NewRequest(http.MethodGet, tc.path, nil))
		var cookie string
		for _, c := range rec.Result().Cookies() {
			if c.Name == langCookie {
				cookie = c.Value
			}
		}
		if rec.Code != tc.code || rec.Header().Get("Location") != tc.loc || cookie != tc.cookie {
			t.Errorf("%s: %d, Location %q, cookie %q; want %d %q %q", tc.path, rec.Code, rec.Header().Get("Location"), cookie, tc.code, tc.loc, tc.cookie)
		}
	}
}
