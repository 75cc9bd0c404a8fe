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
		s.supportReport(w, r, rows, v, settings.FollowUp)
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

var supportReportTmpl = template.Must(template.New("support").Funcs(supportFuncs).Funcs(template.FuncMap{"t": func(k string) string { return k }}).Parse(`<form class="filter" method="get">
<label for="since">{{t "since"}}</label>
<select id="since" name="since">{{range .Choices}}<option value="{{.Value}}"{{if eq .Value $.Since}} selected{{end}}>{{.Label}}</option>{{end}}</select>
<button type="submit">{{t "show"}}</button>
</form>
{{if .Rows}}<table class="support cards">
<thead><tr><th scope="col">{{t "week"}}</th><th scope="col">{{t "channel"}}</th><th scope="col">{{t "questions"}}</th><th scope="col">{{t "answered"}}</th><th scope="col">{{t "dont_know"}}</th><th scope="col">{{t "escalated"}}</th><th scope="col">{{t "rated"}}</th><th scope="col">{{t "helpful_rate"}}</th><th scope="col">{{t "resolved_vote"}}</th><th scope="col">{{t "no_follow_up"}} {{.Window}}</th><th scope="col">{{t "unresolved"}}</th><th scope="col">{{t "pending"}}</th><th scope="col">{{t "shadow"}}</th></tr></thead>
<tbody>{{range .Rows}}<tr class="row" data-week="{{.Week}}" data-channel="{{.Platform}}/{{.Channel}}"><td data-label="{{t "week"}}">{{.Week}}</td><td class="channel" data-label="{{t "channel"}}">{{.Platform}}/{{.Channel}}</td><td class="questions" data-label="{{t "questions"}}">{{.Questions}}</td><td class="answered" data-label="{{t "answered"}}">{{.Answered}}</td><td class="dont-know" data-label="{{t "dont_know"}}">{{.DontKnow}}</td><td class="escalated" data-label="{{t "escalated"}}">{{.Escalated}}</td><td class="rated" data-label="{{t "rated"}}">{{.Rated}}</td><td class="helpful-rate" data-label="{{t "helpful_rate"}}">{{pct .}}</td><td class="resolved-vote" data-label="{{t "resolved_vote"}}">{{.ResolvedByVote}}</td><td class="no-follow-up" data-label="{{t "no_follow_up"}} {{$.Window}}">{{.NoFollowUp}}</td><td class="unresolved" data-label="{{t "unresolved"}}">{{.Unresolved}}</td><td class="pending" data-label="{{t "pending"}}">{{.Pending}}</td><td data-label="{{t "shadow"}}">{{.Shadow}} ({{.Discarded}})</td></tr>
{{end}}</tbody></table>{{else}}<p>{{t "none"}}</p>{{end}}
<p class="note">{{t "note1"}} <em>{{t "resolved_vote_em"}}</em> {{t "note2"}} <em>{{t "no_follow_up_em"}}</em> {{t "note3"}} {{.Window}}{{t "note4"}} <em>{{t "unresolved_em"}}</em> {{t "note5"}} <em>{{t "pending_em"}}</em> {{t "note6"}}</p>`))

// supportReport renders the Support page in the request's language.
func (s *Server) supportReport(w http.ResponseWriter, r *http.Request, rows []support.Row, since string, followUp time.Duration) {
	lang := requestLang(r)
	choices := make([]sinceOption, len(sinceChoices))
	for i, c := range sinceChoices {
		choices[i] = sinceOption{c.Value, tr(lang, "support.since."+c.Value)}
	}
	tmpl := template.Must(supportReportTmpl.Clone()).Funcs(template.FuncMap{"t": func(k string) string { return tr(lang, "support."+k) }})
	s.supportPage(w, r, tr(lang, "support.page_title"), tmpl, map[string]any{"Rows": rows, "Since": since, "Choices": choices, "Window": windowText(lang, followUp)})
}

// windowText is hours in lang: "24 hours", "24 Stunden".
func windowText(lang string, d time.Duration) string {
	if lang == "de" && d%time.Hour == 0 {
		if d == time.Hour {
			return "1 Stunde"
		}
		return strconv.Itoa(int(d/time.Hour)) + " Stunden"
	}
	return hours(d)
}

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
