package support

import (
	"bytes"
	"context"
	"encoding/json"
	"html/template"
	"net/http"
	"strconv"
	"time"
)

func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(v)
}

// sinceParam reads ?since= (see ParseSince); default 30 days.
func sinceParam(r *http.Request, now time.Time) (time.Time, error) {
	return ParseSince(r.URL.Query().Get("since"), now)
}

// AdminRoutes: GET /api/admin/support/gaps?since=… and
// GET /api/admin/support/report?since=… (JSON), for the CLI.
func AdminRoutes(store Store, s Settings) map[string]http.Handler {
	s = s.withDefaults()
	return map[string]http.Handler{
		"GET /api/admin/support/gaps": sinceJSON(s, func(ctx context.Context, since time.Time) ([]Gap, error) {
			return Gaps(ctx, store, since, s)
		}),
		"GET /api/admin/support/report": sinceJSON(s, func(ctx context.Context, since time.Time) ([]Row, error) {
			return Report(ctx, store, since, s)
		}),
	}
}

// sinceJSON serves list(since) as a JSON array ([] when empty), with
// since from the query (400 when it does not parse).
func sinceJSON[T any](s Settings, list func(ctx context.Context, since time.Time) ([]T, error)) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		since, err := sinceParam(r, s.Clock.Now())
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

// Render puts a page body inside the dashboard layout (web.Server.RenderPage).
type Render func(w http.ResponseWriter, r *http.Request, title string, body template.HTML)

var funcs = template.FuncMap{
	"reasons": reasons,
	"pct": func(r Row) string {
		if r.Rated == 0 {
			return "–"
		}
		return strconv.FormatFloat(100*r.HelpfulRate, 'f', 0, 64) + "%"
	},
	"fmtTime": func(t time.Time) string { return t.Format("2006-01-02 15:04") },
}

const filterForm = `<form class="filter" method="get">
<label for="since">Since</label>
<select id="since" name="since">{{range .Choices}}<option value="{{.Value}}"{{if eq .Value $.Since}} selected{{end}}>{{.Label}}</option>{{end}}</select>
<button type="submit">Show</button>
</form>`

var gapsTmpl = template.Must(template.New("gaps").Funcs(funcs).Parse(filterForm + `
<p class="summary">Questions the bot did not know, whose answer was rated not helpful, or whose shadow draft was discarded, grouped by similarity, most frequent first: <strong id="gap-count">{{len .Gaps}}</strong> groups.</p>
{{if .Gaps}}<table class="gaps">
<tr><th>Count</th><th>Example</th><th>Similar questions</th><th>Why</th><th>Channels</th><th>Last asked</th></tr>
{{range .Gaps}}<tr class="gap" data-count="{{.Count}}"><td>{{.Count}}</td><td class="example">{{.Example}}</td><td>{{range $i, $q := .Questions}}{{if $i}}<div>{{$q}}</div>{{end}}{{end}}</td><td>{{reasons .Reasons}}</td><td>{{range .Channels}}{{.}} {{end}}</td><td>{{fmtTime .Last}}</td></tr>
{{end}}</table>{{else}}<p>No gaps in this period.</p>{{end}}
<p>Staff can close a gap by answering in the thread and saving the reply with <code>/savereply</code> or a 📌 reaction.</p>`))

var supportTmpl = template.Must(template.New("support").Funcs(funcs).Parse(filterForm + `
{{if .Rows}}<table class="support">
<tr><th>Week</th><th>Channel</th><th>Questions</th><th>Answered</th><th>“I don't know”</th><th>Escalated</th><th>Rated</th><th>Helpful rate</th><th>Resolved by helpful vote</th><th>No follow-up within {{.Window}}</th><th>Unresolved</th><th>Pending</th><th>Shadow drafts (discarded)</th></tr>
{{range .Rows}}<tr class="row" data-week="{{.Week}}" data-channel="{{.Platform}}/{{.Channel}}"><td>{{.Week}}</td><td>{{.Platform}}/{{.Channel}}</td><td class="questions">{{.Questions}}</td><td class="answered">{{.Answered}}</td><td class="dont-know">{{.DontKnow}}</td><td class="escalated">{{.Escalated}}</td><td class="rated">{{.Rated}}</td><td class="helpful-rate">{{pct .}}</td><td class="resolved-vote">{{.ResolvedByVote}}</td><td class="no-follow-up">{{.NoFollowUp}}</td><td class="unresolved">{{.Unresolved}}</td><td class="pending">{{.Pending}}</td><td>{{.Shadow}} ({{.Discarded}})</td></tr>
{{end}}</table>{{else}}<p>No questions in this period.</p>{{end}}
<p class="note">Resolution is counted honestly and never lumped together: <em>resolved by helpful vote</em> means the asker (or, without their vote, most voters) rated the answer helpful; <em>no follow-up</em> means nobody rated it and the asker asked nothing more in the thread within {{.Window}} — silence, which is not proof of success; <em>unresolved</em> means rated not helpful, or followed by another question; <em>pending</em> means the window is still open.</p>`))

type choice struct{ Value, Label string }

var choices = []choice{{"7d", "7 days"}, {"30d", "30 days"}, {"12w", "12 weeks"}, {"52w", "a year"}}

func page(render Render, title string, tmpl *template.Template, w http.ResponseWriter, r *http.Request, data map[string]any) {
	var buf bytes.Buffer
	if err := tmpl.Execute(&buf, data); err != nil {
		http.Error(w, err.Error(), http.StatusInternalServerError)
		return
	}
	render(w, r, title, template.HTML(buf.String()))
}

func sinceChoice(r *http.Request) string {
	v := r.URL.Query().Get("since")
	if v == "" {
		v = "30d"
	}
	return v
}

// GapsPage is the dashboard's "Knowledge gaps" page.
func GapsPage(store Store, s Settings, render Render) http.Handler {
	s = s.withDefaults()
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		v := sinceChoice(r)
		since, err := ParseSince(v, s.Clock.Now())
		if err != nil {
			http.Error(w, err.Error(), http.StatusBadRequest)
			return
		}
		gaps, err := Gaps(r.Context(), store, since, s)
		if err != nil {
			http.Error(w, "gaps: "+err.Error(), http.StatusInternalServerError)
			return
		}
		page(render, "Knowledge gaps", gapsTmpl, w, r, map[string]any{"Gaps": gaps, "Since": v, "Choices": choices})
	})
}

// SupportPage is the dashboard's "Support" page: the numbers per channel and week.
func SupportPage(store Store, s Settings, render Render) http.Handler {
	s = s.withDefaults()
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		v := sinceChoice(r)
		since, err := ParseSince(v, s.Clock.Now())
		if err != nil {
			http.Error(w, err.Error(), http.StatusBadRequest)
			return
		}
		rows, err := Report(r.Context(), store, since, s)
		if err != nil {
			http.Error(w, "support report: "+err.Error(), http.StatusInternalServerError)
			return
		}
		page(render, "Support", supportTmpl, w, r, map[string]any{"Rows": rows, "Since": v, "Choices": choices, "Window": hours(s.FollowUp)})
	})
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
