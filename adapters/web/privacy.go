package web

import (
	"net/http"

	"github.com/einsatz/einsatz/handlers/privacy"
)

// AddPrivacy adds the export and erasure of a member's data, for admins
// only: GET /api/admin/privacy/export?platform=&user= and
// POST /api/admin/privacy/erase?platform=&user=. exclusive, when set, runs
// each request alone in the core (bot.Bot.Exclusive), like /forget-me: no
// event still being handled may store the person's words after the
// erasure. Call it before Run.
func (s *Server) AddPrivacy(store privacy.Store, exclusive func(func())) {
	if exclusive == nil {
		exclusive = func(f func()) { f() }
	}
	params := func(w http.ResponseWriter, r *http.Request) (string, string, bool) {
		platform, user := r.URL.Query().Get("platform"), r.URL.Query().Get("user")
		if platform == "" || user == "" {
			writeJSON(w, http.StatusBadRequest, map[string]string{"error": "platform and user are required"})
			return "", "", false
		}
		return platform, user, true
	}
	alone := func(h http.HandlerFunc) http.Handler {
		return AdminOnly(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			exclusive(func() { h(w, r) })
		}))
	}
	s.AddAdminRoute("GET /api/admin/privacy/export", alone(func(w http.ResponseWriter, r *http.Request) {
		platform, user, ok := params(w, r)
		if !ok {
			return
		}
		data, err := store.ExportUser(r.Context(), platform, user)
		if err != nil {
			writeJSON(w, http.StatusInternalServerError, map[string]string{"error": err.Error()})
			return
		}
		writeJSON(w, http.StatusOK, data)
	}))
	s.AddAdminRoute("POST /api/admin/privacy/erase", alone(func(w http.ResponseWriter, r *http.Request) {
		platform, user, ok := params(w, r)
		if !ok {
			return
		}
		res, err := store.EraseUser(r.Context(), platform, user, StaffName(r))
		if err != nil {
			writeJSON(w, http.StatusInternalServerError, map[string]string{"error": err.Error()})
			return
		}
		writeJSON(w, http.StatusOK, res)
	}))
}
