package web

import (
	"net/http"
	"sort"
)

func (s *Server) dashboard(w http.ResponseWriter, r *http.Request) {
	staff, _ := sessionFrom(r.Context())
	st := s.opts.Core.Stats()
	type reason struct {
		Name  string
		Count int64
	}
	var dropped []reason
	for k, v := range st.Dropped {
		dropped = append(dropped, reason{k, v})
	}
	sort.Slice(dropped, func(i, j int) bool { return dropped[i].Name < dropped[j].Name })
	audit, err := s.opts.Store.Audit(r.Context())
	if err != nil {
		s.log.Error("web: audit log", "err", err)
	}
	if len(audit) > 20 {
		audit = audit[len(audit)-20:]
	}
	for i, j := 0, len(audit)-1; i < j; i, j = i+1, j-1 {
		audit[i], audit[j] = audit[j], audit[i]
	}
	var status []string
	if s.opts.Status != nil {
		status = s.opts.Status()
	}
	s.render(w, r, http.StatusOK, "dashboard.html", map[string]any{
		"Title":   "Overview",
		"Session": staff,
		"CSRF":    s.csrfToken(w, r),
		"Stats":   st,
		"Dropped": dropped,
		"Audit":   audit,
		"Status":  status,
	})
}
