package web

import (
	"net/http"
	"time"
)

// BackupStatusTrailer is the trailer of GET /api/admin/backup: "ok" when the
// whole backup was written.
const BackupStatusTrailer = "X-Backup-Status"

type adminRoute struct {
	pattern string
	handler http.Handler
}

// adminRoutes is the JSON admin API; every route needs a bearer token. The
// CLI talks to it while the server runs (Badger allows one process).
func (s *Server) adminRoutes() []adminRoute {
	return []adminRoute{
		{"GET /api/admin/whoami", http.HandlerFunc(s.whoami)},
		{"GET /api/admin/stats", http.HandlerFunc(s.adminStats)},
		{"GET /api/admin/backup", AdminOnly(http.HandlerFunc(s.adminBackup))},
	}
}

// AdminRoutes lists the admin API's patterns (tests check each needs auth).
func (s *Server) AdminRoutes() []string {
	var out []string
	for _, r := range s.adminRoutes() {
		out = append(out, r.pattern)
	}
	return out
}

// AddAdminRoute adds a route to the admin API, behind the bearer check.
// Call it before Run.
func (s *Server) AddAdminRoute(pattern string, h http.Handler) {
	s.mux.Handle(pattern, s.bearerOnly(h))
}

func (s *Server) whoami(w http.ResponseWriter, r *http.Request) {
	staff, _ := StaffFrom(r)
	writeJSON(w, http.StatusOK, map[string]string{"name": staff.Name, "role": staff.Role})
}

func (s *Server) adminStats(w http.ResponseWriter, _ *http.Request) {
	writeJSON(w, http.StatusOK, s.opts.Core.Stats())
}

func (s *Server) adminBackup(w http.ResponseWriter, r *http.Request) {
	staff, _ := StaffFrom(r)
	w.Header().Set("Content-Type", "application/octet-stream")
	w.Header().Set("Content-Disposition", `attachment; filename="einsatz-`+time.Now().UTC().Format("20060102T150405Z")+`.backup"`)
	// The status comes as a trailer: a failure halfway through the stream
	// cannot change the status code any more.
	w.Header().Set("Trailer", BackupStatusTrailer)
	// A backup of a large database streams for longer than one response
	// may take; only admins reach it, so no deadline for it.
	extendWrite(w, 0)
	if err := s.opts.Store.Backup(r.Context(), w); err != nil {
		s.log.Error("web: backup", "err", err)
		w.Header().Set(BackupStatusTrailer, "error: "+err.Error())
		return
	}
	w.Header().Set(BackupStatusTrailer, "ok")
	s.audit(r.Context(), staff.Name, "backup", "")
}
