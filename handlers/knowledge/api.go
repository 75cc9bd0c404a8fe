package knowledge

import (
	"encoding/json"
	"errors"
	"net/http"
	"strconv"
)

// AddRequest is the body of POST /api/admin/kb/add.
type AddRequest struct {
	Name  string `json:"name"`
	Title string `json:"title,omitempty"`
	URL   string `json:"url,omitempty"`
	Text  string `json:"text"`
}

// AdminRoutes are the knowledge base's admin API routes (the web adapter
// puts them behind its bearer check). audit records who did what.
func (b *Base) AdminRoutes(audit func(r *http.Request, action, target string)) map[string]http.Handler {
	reply := func(w http.ResponseWriter, status int, v any) {
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(status)
		_ = json.NewEncoder(w).Encode(v)
	}
	fail := func(w http.ResponseWriter, status int, err error) {
		reply(w, status, map[string]string{"error": err.Error()})
	}
	return map[string]http.Handler{
		"GET /api/admin/kb": http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			docs, err := b.Docs(r.Context())
			if err != nil {
				fail(w, http.StatusInternalServerError, err)
				return
			}
			reply(w, http.StatusOK, docs)
		}),
		"GET /api/admin/kb/search": http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			k, _ := strconv.Atoi(r.URL.Query().Get("k"))
			if k <= 0 || k > 50 {
				k = 5
			}
			hits, err := b.Search(r.Context(), r.URL.Query().Get("q"), k)
			if err != nil {
				fail(w, http.StatusInternalServerError, err)
				return
			}
			reply(w, http.StatusOK, hits)
		}),
		"POST /api/admin/kb/sync": http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			rep, err := b.Sync(r.Context(), nil)
			audit(r, "kb sync", rep.String())
			body := map[string]any{"report": rep}
			if err != nil {
				body["error"] = err.Error()
			}
			reply(w, http.StatusOK, body)
		}),
		"POST /api/admin/kb/add": http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			var req AddRequest
			if err := json.NewDecoder(http.MaxBytesReader(w, r.Body, 1<<20)).Decode(&req); err != nil {
				fail(w, http.StatusBadRequest, err)
				return
			}
			doc, err := b.Add(r.Context(), req.Name, req.Title, req.URL, req.Text)
			if err != nil {
				fail(w, http.StatusBadRequest, err)
				return
			}
			audit(r, "kb add", doc.Source)
			reply(w, http.StatusOK, doc)
		}),
		"DELETE /api/admin/kb/doc": http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			source := r.URL.Query().Get("source")
			if err := b.Remove(r.Context(), source); err != nil {
				status := http.StatusNotFound
				if errors.Is(err, ErrFileDoc) {
					status = http.StatusConflict
				}
				fail(w, status, err)
				return
			}
			audit(r, "kb remove", source)
			reply(w, http.StatusOK, map[string]string{"removed": source})
		}),
	}
}
