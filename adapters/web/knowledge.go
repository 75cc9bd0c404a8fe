package web

import (
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"strconv"

	"github.com/einsatz/einsatz/bot/kb"
	"github.com/einsatz/einsatz/handlers/knowledge"
)

// Knowledge is the knowledge base's use cases the admin API calls;
// *knowledge.Base implements it.
type Knowledge interface {
	Docs(ctx context.Context) ([]kb.Doc, error)
	Search(ctx context.Context, q string, k int) ([]knowledge.Hit, error)
	Sync(ctx context.Context, progress func(done, total int)) (knowledge.Report, error)
	Add(ctx context.Context, name, title, url, text string) (kb.Doc, error)
	Remove(ctx context.Context, source string) error
}

// AddKnowledge adds the knowledge base's admin API: list, search, sync,
// add and remove documents; changes go to the audit log. Call it before
// Run.
func (s *Server) AddKnowledge(kb Knowledge) {
	fail := func(w http.ResponseWriter, status int, err error) {
		writeJSON(w, status, map[string]string{"error": err.Error()})
	}
	s.AddAdminRoute("GET /api/admin/kb", http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		docs, err := kb.Docs(r.Context())
		if err != nil {
			fail(w, http.StatusInternalServerError, err)
			return
		}
		writeJSON(w, http.StatusOK, docs)
	}))
	s.AddAdminRoute("GET /api/admin/kb/search", http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		k, _ := strconv.Atoi(r.URL.Query().Get("k"))
		if k <= 0 || k > 50 {
			k = 5
		}
		hits, err := kb.Search(r.Context(), r.URL.Query().Get("q"), k)
		if err != nil {
			fail(w, http.StatusInternalServerError, err)
			return
		}
		writeJSON(w, http.StatusOK, hits)
	}))
	s.AddAdminRoute("POST /api/admin/kb/sync", http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		rep, err := kb.Sync(r.Context(), nil)
		s.audit(r.Context(), StaffName(r), "kb sync", rep.String())
		body := map[string]any{"report": rep}
		if err != nil {
			body["error"] = err.Error()
		}
		writeJSON(w, http.StatusOK, body)
	}))
	s.AddAdminRoute("POST /api/admin/kb/add", http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		var req knowledge.AddRequest
		if err := json.NewDecoder(http.MaxBytesReader(w, r.Body, 1<<20)).Decode(&req); err != nil {
			fail(w, http.StatusBadRequest, err)
			return
		}
		doc, err := kb.Add(r.Context(), req.Name, req.Title, req.URL, req.Text)
		if err != nil {
			fail(w, http.StatusBadRequest, err)
			return
		}
		s.audit(r.Context(), StaffName(r), "kb add", doc.Source)
		writeJSON(w, http.StatusOK, doc)
	}))
	s.AddAdminRoute("DELETE /api/admin/kb/doc", http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		source := r.URL.Query().Get("source")
		if err := kb.Remove(r.Context(), source); err != nil {
			status := http.StatusNotFound
			if errors.Is(err, knowledge.ErrFileDoc) {
				status = http.StatusConflict
			}
			fail(w, status, err)
			return
		}
		s.audit(r.Context(), StaffName(r), "kb remove", source)
		writeJSON(w, http.StatusOK, map[string]string{"removed": source})
	}))
}
