package web

import (
	"bytes"
	"context"
	"html/template"
	"net/http"
	"strconv"
	"time"

	"github.com/einsatz/einsatz/bot/qa"
	"github.com/einsatz/einsatz/handlers/support"
)

// AddSupport adds the support numbers: the "Knowledge gaps" and "Support"
// dashboard pages, and GET /api/admin/support/gaps?since=… and
// GET /api/admin/support/report?since=… (JSON) for the CLI. Call it
// before Run.
func (s *Server) AddSupport(store qa.Store, settings support.Settings) {
	settings = settings.WithDefaults()
	s.AddAdminRoute("GET /api/admin/support/gaps", sinceJSON(settings, func(ctx context.Context, since time.Time) ([]support.Gap, error) {
		return support.Gaps(ctx, store, since, settings)
	}))
	s.AddAdminRoute("GET /api/admin/support/report", sinceJSON(settings, func(ctx context.Context, since time.Time) ([]support.Row, error) {
		return support.Report(ctx, store, since, settings)
	}))
	g := gapPages{s: s, store: store, settings: settings}
	s.AddPage(Page{Path: GapsPath, Title: "Knowledge gaps", Handler: http.HandlerFunc(g.list)})
	s.AddStaffRoute("POST "+GapsPath+"/answer", http.HandlerFunc(g.answer))
	s.AddPage(Page{Path: "/dashboard/support", Title: "Support", Handler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		v := sinceChoice(r)
		since, err := support.ParseSince(v, settings.Clock.Now())
		if err != nil {
			http.Error(w, err.Error(), http.StatusBadRequest)
			return
		}
		rows, err := support.Report(r.Context(), store, since, settings)
		if err != nil {
			http.Error(w, "support report: "+err.Error(), http.StatusInternalServerError)
			return
		}
		s.supportPage(w, r, "Support", supportReportTmpl, map[string]any{"Rows": rows, "Since": v, "Choices": sinceChoices, "Window": hours(settings.FollowUp)})
	})})
}

// sinceJSON serves list(since) as a JSON array ([] when empty), with
// since from the query (400 when it does not parse).
func sinceJSON[T any](settings support.Settings, list func(ctx context.Context, since time.Time) ([]T, error)) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		since, err := support.ParseSince(r.URL.Query().Get("since"), settings.Clock.Now())
		if err != nil {
			writeJSON(w, http.StatusBadRequest, map[string]string{"error": err.Error()})
			return
		}
		out, err := list(r.Context(), since)
		if err != nil {
			writeJSON(w, http.StatusInternalServerError, map[string]string{"error": err.Error()})
			return
		}
		if out == nil {
			out = []T{}
		}
		writeJSON(w, http.StatusOK, out)
	})
}

var supportFuncs = template.FuncMap{
	"reasons": support.Reasons,
	"pct": func(r support.Row) string {
		if r.Rated == 0 {
			return "–"
		}
		return strconv.FormatFloat(100*r.HelpfulRate, 'f', 0, 64) + "%"
	},
	"fmtTime": func(t time.Time) string { return t.Format("2006-01-02 15:04") },
}

const supportFilterForm = `<form class="filter" method="get">
<label for="since">Since</label>
<select id="since" name="since">{{range .Choices}}<option value="{{.Value}}"{{if eq .Value $.Since}} selected{{end}}>{{.Label}}</option>{{end}}</select>
<button type="submit">Show</button>
</form>`

var supportReportTmpl = template.Must(template.New("support").Funcs(supportFuncs).Parse(supportFilterForm + `
{{if .Rows}}<table class="support">
<tr><th>Week</th><th>Channel</th><th>Questions</th><th>Answered</th><th>“I don't know”</th><th>Escalated</th><th>Rated</th><th>Helpful rate</th><th>Resolved by helpful vote</th><th>No follow-up within {{.Window}}</th><th>Unresolved</th><th>Pending</th><th>Shadow drafts (discarded)</th></tr>
{{range .Rows}}<tr class="row" data-week="{{.Week}}" data-channel="{{.Platform}}/{{.Channel}}"><td>{{.Week}}</td><td>{{.Platform}}/{{.Channel}}</td><td class="questions">{{.Questions}}</td><td class="answered">{{.Answered}}</td><td class="dont-know">{{.DontKnow}}</td><td class="escalated">{{.Escalated}}</td><td class="rated">{{.Rated}}</td><td class="helpful-rate">{{pct .}}</td><td class="resolved-vote">{{.ResolvedByVote}}</td><td class="no-follow-up">{{.NoFollowUp}}</td><td class="unresolved">{{.Unresolved}}</td><td class="pending">{{.Pending}}</td><td>{{.Shadow}} ({{.Discarded}})</td></tr>
{{end}}</table>{{else}}<p>No questions in this period.</p>{{end}}
<p class="note">Resolution is counted honestly and never lumped together: <em>resolved by helpful vote</em> means the asker (or, without their vote, most voters) rated the answer helpful; <em>no follow-up</em> means nobody rated it and the asker asked nothing more in the thread within {{.Window}} — silence, which is not proof of success; <em>unresolved</em> means rated not helpful, or followed by another question; <em>pending</em> means the window is still open.</p>`))

type sinceOption struct{ Value, Label string }

var sinceChoices = []sinceOption{{"7d", "7 days"}, {"30d", "30 days"}, {"12w", "12 weeks"}, {"52w", "a year"}}

func (s *Server) supportPage(w http.ResponseWriter, r *http.Request, title string, tmpl *template.Template, data map[string]any) {
	var buf bytes.Buffer
	if err := tmpl.Execute(&buf, data); err != nil {
		http.Error(w, err.Error(), http.StatusInternalServerError)
		return
	}
	s.RenderPage(w, r, title, template.HTML(buf.String()))
}

func sinceChoice(r *http.Request) string {
	v := r.URL.Query().Get("since")
	if v == "" {
		v = "30d"
	}
	return v
}

// hours formats a window: "24 hours", "90m0s" when not whole hours.
func hours(d time.Duration) string {
	if d%time.Hour == 0 {
		if d == time.Hour {
			return "1 hour"
		}
		return strconv.Itoa(int(d/time.Hour)) + " hours"
	}
	return d.String()
}
