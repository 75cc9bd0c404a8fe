package web

import (
	"bytes"
	"context"
	"html/template"
	"net/http"
	"time"

	"github.com/einsatz/einsatz/handlers/knowledge"
)

// KnowledgeSources are the knowledge base's remote sources (websites, Git
// repositories); *knowledge.Remote implements it.
type KnowledgeSources interface {
	Statuses(ctx context.Context) ([]knowledge.SourceStatus, error)
	SyncSources(ctx context.Context, progress func(source string, done, total int)) ([]knowledge.SourceReport, error)
}

// AddKnowledgeSources adds GET /api/admin/kb/sources (each source's last
// sync, pages, errors), POST /api/admin/kb/sources/sync (sync now; in the
// audit log) and the dashboard's Knowledge page with the same table, in
// English or German by the browser's language. Call it before Run.
func (s *Server) AddKnowledgeSources(src KnowledgeSources) {
	s.AddAdminRoute("GET /api/admin/kb/sources", http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		st, err := src.Statuses(r.Context())
		if err != nil {
			writeJSON(w, http.StatusInternalServerError, map[string]string{"error": err.Error()})
			return
		}
		if st == nil {
			st = []knowledge.SourceStatus{}
		}
		writeJSON(w, http.StatusOK, st)
	}))
	s.AddAdminRoute("POST /api/admin/kb/sources/sync", http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		reps, err := src.SyncSources(r.Context(), nil)
		s.audit(r.Context(), StaffName(r), "kb sources sync", errText(err))
		body := map[string]any{"reports": reps}
		if err != nil {
			body["error"] = err.Error()
		}
		writeJSON(w, http.StatusOK, body)
	}))
	s.AddPage(Page{Path: "/dashboard/knowledge", Title: "Knowledge", Handler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		st, err := src.Statuses(r.Context())
		if err != nil {
			http.Error(w, "knowledge sources: "+err.Error(), http.StatusInternalServerError)
			return
		}
		lang := pageLang(r.Header.Get("Accept-Language"))
		var buf bytes.Buffer
		if err := sourcesTmpl.Execute(&buf, map[string]any{"Sources": st, "T": sourcesTexts[lang], "Lang": lang}); err != nil {
			http.Error(w, err.Error(), http.StatusInternalServerError)
			return
		}
		s.RenderPage(w, r, sourcesTexts[lang]["title"], template.HTML(buf.String()))
	})})
}

func errText(err error) string {
	if err == nil {
		return "ok"
	}
	return err.Error()
}

var sourcesTexts = map[string]map[string]string{
	"en": {"title": "Knowledge", "intro": "Websites and Git repositories the knowledge base comes from, besides knowledge.paths. They sync on their schedule; einsatz kb sync syncs them now.",
		"type": "Type", "url": "URL", "last": "Last sync", "next": "Next", "pages": "Pages", "errors": "Errors", "error": "Last error", "never": "never", "none": "No sources configured (knowledge.sources)."},
	"de": {"title": "Wissen", "intro": "Websites und Git-Repositories, aus denen die Wissensdatenbank neben knowledge.paths stammt. Sie werden nach Plan abgeglichen; einsatz kb sync gleicht sie sofort ab.",
		"type": "Art", "url": "URL", "last": "Letzter Abgleich", "next": "Nächster", "pages": "Seiten", "errors": "Fehler", "error": "Letzter Fehler", "never": "nie", "none": "Keine Quellen eingerichtet (knowledge.sources)."},
}

var sourcesTmpl = template.Must(template.New("sources").Funcs(template.FuncMap{
	"when": func(t time.Time) string { return t.Format("2006-01-02 15:04") },
}).Parse(`<p>{{.T.intro}}</p>
{{if .Sources}}<table class="sources cards" lang="{{.Lang}}">
<thead><tr><th scope="col">{{.T.type}}</th><th scope="col">{{.T.url}}</th><th scope="col">{{.T.last}}</th><th scope="col">{{.T.next}}</th><th scope="col">{{.T.pages}}</th><th scope="col">{{.T.errors}}</th><th scope="col">{{.T.error}}</th></tr></thead>
<tbody>{{range .Sources}}<tr class="source" data-type="{{.Type}}"><td data-label="{{$.T.type}}">{{.Type}}</td><td class="url text" data-label="{{$.T.url}}">{{.URL}}</td><td class="last" data-label="{{$.T.last}}">{{if .LastSync.IsZero}}{{$.T.never}}{{else}}{{when .LastSync}}{{end}}</td><td data-label="{{$.T.next}}">{{when .Next}}</td><td class="pages" data-label="{{$.T.pages}}">{{.Pages}}</td><td class="errors" data-label="{{$.T.errors}}">{{.Errors}}</td><td class="text" data-label="{{$.T.error}}">{{.LastError}}</td></tr>
{{end}}</tbody></table>{{else}}<p>{{.T.none}}</p>{{end}}`))
