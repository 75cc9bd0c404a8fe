package web

import (
	"bytes"
	"html/template"
	"net/http"
	"time"

	"github.com/einsatz/einsatz/bot/escalation"
	"github.com/einsatz/einsatz/handlers/handoff"
)

// AddHandoff adds the escalations: the dashboard page and
// GET /api/admin/handoff?open=1 (JSON). Call it before Run.
func (s *Server) AddHandoff(store handoff.Lister) {
	s.AddAdminRoute("GET /api/admin/handoff", http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		list, err := handoff.List(r.Context(), store, r.URL.Query().Get("open") != "")
		if err != nil {
			writeJSON(w, http.StatusInternalServerError, map[string]string{"error": err.Error()})
			return
		}
		writeJSON(w, http.StatusOK, list)
	}))
	s.AddPage(Page{Path: "/dashboard/escalations", Title: "Escalations", Handler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		b, err := handoff.Overview(r.Context(), store)
		if err != nil {
			http.Error(w, "escalations: "+err.Error(), http.StatusInternalServerError)
			return
		}
		type group struct {
			Key, Title string
			List       []escalation.Escalation
		}
		var buf bytes.Buffer
		err = handoffTmpl.Execute(&buf, map[string]any{
			"Open": b.Open, "Claimed": b.Claimed, "Closed": b.Closed, "Median": b.Median,
			"Groups": []group{{"open", "Open", b.Open}, {"claimed", "Claimed by staff", b.Claimed}, {"closed", "Resolved or dismissed", b.Closed}},
		})
		if err != nil {
			http.Error(w, err.Error(), http.StatusInternalServerError)
			return
		}
		s.RenderPage(w, r, "Escalations", template.HTML(buf.String()))
	})})
}

var handoffTmpl = template.Must(template.New("handoff").Funcs(template.FuncMap{
	"resp": func(e escalation.Escalation) string {
		if d := e.ResponseTime(); d > 0 {
			return d.Round(time.Second).String()
		}
		return "–"
	},
}).Parse(`
<p class="summary">Open: <strong id="count-open">{{len .Open}}</strong> · Claimed: <strong id="count-claimed">{{len .Claimed}}</strong> · Closed: <strong id="count-closed">{{len .Closed}}</strong>{{if .Median}} · Median time to first staff response: <strong id="median">{{.Median}}</strong>{{end}}</p>
{{range .Groups}}<h2>{{.Title}}</h2>
{{if .List}}<table class="escalations" data-group="{{.Key}}">
<tr><th>Created</th><th>Thread</th><th>User</th><th>Reason</th><th>Staff</th><th>First response</th><th>Summary</th></tr>
{{range .List}}<tr><td>{{.Created.Format "2006-01-02 15:04"}}</td><td>{{if .Permalink}}<a href="{{.Permalink}}">{{.Thread.Key}}</a>{{else}}{{.Thread.Key}}{{end}}</td><td>{{.User.Name}}</td><td>{{.Reason}}</td><td>{{.ClaimedBy}}</td><td>{{resp .}}</td><td>{{.Summary}}</td></tr>
{{end}}</table>{{else}}<p>None.</p>{{end}}
{{end}}`))
