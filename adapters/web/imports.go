package web

import (
	"encoding/json"
	"net/http"

	"github.com/einsatz/einsatz/handlers/imports"
)

// AddImports adds POST /api/admin/import (admins only): the running server
// reads a Slack or Discord export from its own disk, replays it through r
// and answers with the summary. Call it before Run.
func (s *Server) AddImports(r imports.Replayer) {
	s.AddAdminRoute("POST /api/admin/import", AdminOnly(http.HandlerFunc(func(w http.ResponseWriter, req *http.Request) {
		var body imports.Request
		if err := json.NewDecoder(http.MaxBytesReader(w, req.Body, 64<<10)).Decode(&body); err != nil {
			writeJSON(w, http.StatusBadRequest, map[string]string{"error": err.Error()})
			return
		}
		ex, err := imports.Read(body.Kind, body.Path)
		if err != nil {
			writeJSON(w, http.StatusBadRequest, map[string]string{"error": err.Error()})
			return
		}
		sum, err := imports.Run(req.Context(), r, ex, nil)
		s.audit(req.Context(), StaffName(req), "import", sum.String())
		if err != nil {
			writeJSON(w, http.StatusInternalServerError, map[string]any{"error": err.Error(), "summary": sum})
			return
		}
		writeJSON(w, http.StatusOK, sum)
	})))
}
