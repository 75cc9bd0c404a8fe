package web

import "net/http"

// CSRFToken returns the form token of a dashboard page, for features whose
// page bodies carry forms (<input type="hidden" name="csrf" value="…">).
// It makes the token on first use and remembers it on the request, so the
// layout that RenderPage draws afterwards uses the same token.
func (s *Server) CSRFToken(w http.ResponseWriter, r *http.Request) string {
	if c, err := r.Cookie(csrfCookie); err == nil && len(c.Value) >= 32 {
		return c.Value
	}
	tok := s.csrfToken(w, r)
	r.AddCookie(&http.Cookie{Name: csrfCookie, Value: tok})
	return tok
}

// AddStaffRoute serves a dashboard route that is not a navigation page (a
// detail page, an export, a form's POST target) behind the staff login.
// Requests other than GET and HEAD must carry the form's CSRF token. Call
// it before Run.
func (s *Server) AddStaffRoute(pattern string, h http.Handler) {
	s.mux.Handle(pattern, s.staffOnly(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Method != http.MethodGet && r.Method != http.MethodHead {
			r.Body = http.MaxBytesReader(w, r.Body, 1<<20)
			if !validCSRF(r) {
				http.Error(w, "missing or invalid CSRF token: reload the page and try again", http.StatusForbidden)
				return
			}
		}
		h.ServeHTTP(w, r)
	})))
}

// StaffName is the name of the staff member a dashboard or admin API
// request belongs to ("" when none), for features that record who acted.
func StaffName(r *http.Request) string {
	st, _ := StaffFrom(r)
	return st.Name
}
