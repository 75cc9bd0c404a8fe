package handoff

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"html/template"
	"io"
	"net/http"
	"sort"
	"text/tabwriter"
	"time"
)

// List returns the escalations, newest first; only open ones when open.
func List(ctx context.Context, store Store, open bool) ([]Escalation, error) {
	all, err := store.Escalations(ctx)
	if err != nil {
		return nil, err
	}
	if !open {
		return all, nil
	}
	var out []Escalation
	for _, e := range all {
		if e.Open() {
			out = append(out, e)
		}
	}
	return out, nil
}

// WriteList prints escalations as a table.
func WriteList(w io.Writer, list []Escalation) error {
	tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "CREATED\tSTATUS\tTHREAD\tUSER\tREASON\tSTAFF\tFIRST RESPONSE")
	for _, e := range list {
		resp := "-"
		if d := e.ResponseTime(); d > 0 {
			resp = d.Round(time.Second).String()
		}
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%s\t%s\n", e.Created.Format("2006-01-02 15:04"), e.Status, e.Thread.Key(),
			e.User.Name, e.Reason, e.ClaimedBy, resp)
	}
	return tw.Flush()
}

// AdminRoutes: GET /api/admin/handoff?open=1 lists escalations.
func AdminRoutes(store Store) map[string]http.Handler {
	return map[string]http.Handler{
		"GET /api/admin/handoff": http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			list, err := List(r.Context(), store, r.URL.Query().Get("open") != "")
			w.Header().Set("Content-Type", "application/json")
			if err != nil {
				w.WriteHeader(http.StatusInternalServerError)
				_ = json.NewEncoder(w).Encode(map[string]string{"error": err.Error()})
				return
			}
			_ = json.NewEncoder(w).Encode(list)
		}),
	}
}

// Render puts a page body inside the dashboard layout.
type Render func(w http.ResponseWriter, r *http.Request, title string, body template.HTML)

var pageTmpl = template.Must(template.New("handoff").Funcs(template.FuncMap{
	"resp": func(e Escalation) string {
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

// Page is the dashboard's escalations page.
func Page(store Store, render Render) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		all, err := store.Escalations(r.Context())
		if err != nil {
			http.Error(w, "escalations: "+err.Error(), http.StatusInternalServerError)
			return
		}
		type group struct {
			Key, Title string
			List       []Escalation
		}
		var open, claimed, closed []Escalation
		var times []time.Duration
		for _, e := range all {
			switch e.Status {
			case StatusOpen:
				open = append(open, e)
			case StatusClaimed:
				claimed = append(claimed, e)
			default:
				closed = append(closed, e)
			}
			if d := e.ResponseTime(); d > 0 {
				times = append(times, d)
			}
		}
		median := ""
		if len(times) > 0 {
			sort.Slice(times, func(i, j int) bool { return times[i] < times[j] })
			median = times[len(times)/2].Round(time.Second).String()
		}
		var buf bytes.Buffer
		err = pageTmpl.Execute(&buf, map[string]any{
			"Open": open, "Claimed": claimed, "Closed": closed, "Median": median,
			"Groups": []group{{"open", "Open", open}, {"claimed", "Claimed by staff", claimed}, {"closed", "Resolved or dismissed", closed}},
		})
		if err != nil {
			http.Error(w, err.Error(), http.StatusInternalServerError)
			return
		}
		render(w, r, "Escalations", template.HTML(buf.String()))
	})
}
