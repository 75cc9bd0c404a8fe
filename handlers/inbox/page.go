package inbox

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"html/template"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"
)

// Web is what the dashboard pages need from the web server: the layout
// (web.Server.RenderPage), the form token (web.Server.CSRFToken) and who
// is logged in (web.StaffName).
type Web struct {
	Render func(w http.ResponseWriter, r *http.Request, title string, body template.HTML)
	CSRF   func(w http.ResponseWriter, r *http.Request) string
	Staff  func(r *http.Request) string
}

// Dashboard paths.
const (
	PagePath = "/dashboard/inbox"
)

var funcs = template.FuncMap{
	"date":  func(t time.Time) string { return t.UTC().Format("2006-01-02 15:04") },
	"join":  strings.Join,
	"plats": Platforms,
	"chans": Channels,
	"f2":    func(f float64) string { return strconv.FormatFloat(f, 'f', 2, 64) },
	"label": func(s string) string { return strings.ReplaceAll(s, "_", " ") },
}

var listTmpl = template.Must(template.New("list").Funcs(funcs).Parse(`
<form class="filter" id="filter" method="get" action="/dashboard/inbox">
<label>Status <select name="status" id="f-status"><option value="">all</option><option value="open"{{if eq .F.Status "open"}} selected{{end}}>open</option>
{{range .Statuses}}<option value="{{.}}"{{if eq $.F.Status .}} selected{{end}}>{{label .}}</option>{{end}}</select></label>
<label>Tag <input name="tag" id="f-tag" value="{{.F.Tag}}" size="10"></label>
<label>Platform <select name="platform" id="f-platform"><option value="">all</option>{{range .Platforms}}<option{{if eq $.F.Platform .}} selected{{end}}>{{.}}</option>{{end}}</select></label>
<label>Channel <input name="channel" id="f-channel" value="{{.F.Channel}}" size="12"></label>
<label>From <input type="date" name="since" id="f-since" value="{{.Since}}"></label>
<label>To <input type="date" name="until" id="f-until" value="{{.Until}}"></label>
<label>Sort <select name="sort" id="f-sort">
<option value="votes"{{if eq .F.Sort "votes"}} selected{{end}}>votes</option>
<option value="newest"{{if eq .F.Sort "newest"}} selected{{end}}>newest</option>
<option value="recent"{{if eq .F.Sort "recent"}} selected{{end}}>votes in the last 7 days</option></select></label>
<button type="submit">Show</button>
</form>
<p class="summary"><strong id="count">{{len .Items}}</strong> items · export <a id="export-csv" href="/dashboard/inbox/export?{{.CSVQuery}}">CSV</a> · <a id="export-json" href="/dashboard/inbox/export?{{.JSONQuery}}">JSON</a></p>
{{if .Items}}<table class="inbox" id="items">
<tr><th>#</th><th>Title</th><th>Status</th><th>Votes</th><th>7 days</th><th>Mentions</th><th>Platforms</th><th>Tags</th><th>Created</th></tr>
{{range .Items}}<tr data-id="{{.ID}}"><td><a href="/dashboard/inbox/{{.ID}}">#{{.ID}}</a></td><td><a href="/dashboard/inbox/{{.ID}}">{{.Title}}</a>{{if .DuplicateOf}} → <a href="/dashboard/inbox/{{.DuplicateOf}}">#{{.DuplicateOf}}</a>{{end}}</td>
<td class="status">{{label .Status}}</td><td class="votes">{{.VoteCount}}</td><td>{{.VotesSince $.Week}}</td><td>{{len .Mentions}}</td><td>{{join (plats .) ", "}}</td><td>{{join .Tags ", "}}</td><td>{{date .Created}}</td></tr>
{{end}}</table>{{else}}<p>No requests match.</p>{{end}}
<h2>Merge duplicates</h2>
<form method="post" action="/dashboard/inbox/merge" id="merge-form">
<input type="hidden" name="csrf" value="{{.CSRF}}">
<label>Merge # <input name="from" id="merge-from" type="number" min="1" required></label>
<label>into # <input name="into" id="merge-into" type="number" min="1" required></label>
<button type="submit" id="merge-submit">Merge</button>
</form>`))

var detailTmpl = template.Must(template.New("detail").Funcs(funcs).Parse(`
{{if .Flash}}<p class="flash" id="flash">{{.Flash}}</p>{{end}}
<p><a href="/dashboard/inbox">← all requests</a></p>
<p class="summary">Status: <strong id="status-now">{{label .Item.Status}}</strong>{{if .Item.DuplicateOf}} (duplicate of <a href="/dashboard/inbox/{{.Item.DuplicateOf}}">#{{.Item.DuplicateOf}}</a>){{end}}
 · Votes: <strong id="votes">{{.Item.VoteCount}}</strong> ({{.Item.VotesSince .Week}} in the last 7 days) · Created {{date .Item.Created}} · Updated {{date .Item.Updated}}</p>
{{if .Item.Summary}}<p class="item-summary">{{.Item.Summary}}</p>{{end}}
{{if .Next}}<form method="post" action="/dashboard/inbox/{{.Item.ID}}/status" id="status-form">
<input type="hidden" name="csrf" value="{{.CSRF}}">
<label>New status <select name="status" id="status">{{range .Next}}<option value="{{.}}">{{label .}}</option>{{end}}</select></label>
<label>Public note (optional) <textarea name="note" id="note" rows="2" cols="60"></textarea></label>
<button type="submit" id="status-submit">Change status</button>
<small>Each thread the request came from gets one post with the status and the note.</small>
</form>{{end}}
<form method="post" action="/dashboard/inbox/{{.Item.ID}}/tags" id="tags-form">
<input type="hidden" name="csrf" value="{{.CSRF}}">
<label>Tags <input name="tags" id="tags" value="{{join .Item.Tags ", "}}" size="40"></label>
<button type="submit">Save tags</button>
</form>
<h2>Mentions ({{len .Item.Mentions}})</h2>
<table class="mentions" id="mentions">
<tr><th>Time</th><th>Where</th><th>Who</th><th>How</th><th>Sentiment</th><th>Text</th><th>Link</th></tr>
{{range .Item.Mentions}}<tr><td>{{date .Time}}</td><td>{{.Platform}}/{{.Channel}}</td><td>{{if .UserName}}{{.UserName}}{{else}}{{.UserID}}{{end}}</td><td>{{.Source}}{{if .By}} by {{.By}}{{end}}</td>
<td>{{f2 .Sentiment}}</td><td class="text">{{.Text}}</td><td>{{if .Permalink}}<a href="{{.Permalink}}">open</a>{{end}}</td></tr>
{{end}}</table>
{{if .Item.Changes}}<h2>History</h2>
<table class="changes" id="changes"><tr><th>Time</th><th>Change</th><th>By</th><th>Note</th><th>Threads told</th></tr>
{{range .Item.Changes}}<tr><td>{{date .Time}}</td><td>{{label .From}} → {{label .To}}</td><td>{{.By}}</td><td>{{.Note}}</td><td>{{.Posted}}{{if .Skipped}} ({{.Skipped}} skipped){{end}}</td></tr>
{{end}}</table>{{end}}
{{if .Item.Votes}}<h2>Votes</h2><p>{{range $i, $v := .Item.Votes}}{{if $i}}, {{end}}{{if $v.Name}}{{$v.Name}}{{else}}{{$v.UserID}}{{end}} ({{$v.Platform}}){{end}}</p>{{end}}`))

// Page is the dashboard's list of requests (add it with web.Server.AddPage
// at PagePath).
func (s *Service) Page(ui Web) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		f, err := ParseFilter(r.URL.Query())
		if err != nil {
			http.Error(w, err.Error(), http.StatusBadRequest)
			return
		}
		all, err := s.o.Store.Items(r.Context())
		if err != nil {
			s.o.Logger.Error("inbox: list page", "err", err)
			http.Error(w, "reading the inbox failed", http.StatusInternalServerError)
			return
		}
		now := s.o.Clock.Now()
		var platforms []string
		for _, it := range all {
			for _, p := range Platforms(it) {
				if !contains(platforms, p) {
					platforms = append(platforms, p)
				}
			}
		}
		csvQ, jsonQ := f.Query(), f.Query()
		csvQ.Set("format", "csv")
		jsonQ.Set("format", "json")
		data := map[string]any{
			"F": f, "Items": f.Apply(all, now), "Statuses": Statuses, "Platforms": platforms, "Week": now.AddDate(0, 0, -7),
			"Since": dateValue(f.Since, 0), "Until": dateValue(f.Until, -1), "CSRF": ui.CSRF(w, r),
			"CSVQuery": template.URL(csvQ.Encode()), "JSONQuery": template.URL(jsonQ.Encode()),
		}
		var buf bytes.Buffer
		if err := listTmpl.Execute(&buf, data); err != nil {
			http.Error(w, err.Error(), http.StatusInternalServerError)
			return
		}
		ui.Render(w, r, "Research inbox", template.HTML(buf.String()))
	})
}

func dateValue(t time.Time, addDays int) string {
	if t.IsZero() {
		return ""
	}
	return t.AddDate(0, 0, addDays).Format("2006-01-02")
}

func pathID(r *http.Request) (int, error) {
	id, err := strconv.Atoi(strings.TrimPrefix(r.PathValue("id"), "#"))
	if err != nil || id <= 0 {
		return 0, fmt.Errorf("%w: %q is not an item number", ErrNotFound, r.PathValue("id"))
	}
	return id, nil
}

func httpStatus(err error) int {
	switch {
	case errors.Is(err, ErrNotFound):
		return http.StatusNotFound
	case errors.Is(err, ErrBadStatus), errors.Is(err, ErrMergeSelf), errors.Is(err, ErrMergeClosed):
		return http.StatusConflict
	}
	return http.StatusInternalServerError
}

// publicError is what a page or the API may show of an error.
func publicError(err error) string {
	if httpStatus(err) == http.StatusInternalServerError {
		return "internal error (see the server log)"
	}
	return err.Error()
}

// DashboardRoutes are the dashboard's other routes: the detail page, the
// status, tags and merge forms (POST, with the CSRF token) and the export.
// Add each with web.Server.AddStaffRoute.
func (s *Service) DashboardRoutes(ui Web) map[string]http.Handler {
	fail := func(w http.ResponseWriter, err error) {
		if httpStatus(err) == http.StatusInternalServerError {
			s.o.Logger.Error("inbox: dashboard", "err", err)
		}
		http.Error(w, publicError(err), httpStatus(err))
	}
	return map[string]http.Handler{
		"GET " + PagePath + "/{id}": http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			id, err := pathID(r)
			if err != nil {
				fail(w, err)
				return
			}
			it, err := s.o.Store.Item(r.Context(), id)
			if err != nil {
				fail(w, err)
				return
			}
			var next []string
			for _, st := range Statuses {
				if CanMove(it.Status, st) {
					next = append(next, st)
				}
			}
			data := map[string]any{"Item": it, "Next": next, "CSRF": ui.CSRF(w, r), "Week": s.o.Clock.Now().AddDate(0, 0, -7),
				"Flash": r.URL.Query().Get("flash")}
			var buf bytes.Buffer
			if err := detailTmpl.Execute(&buf, data); err != nil {
				fail(w, err)
				return
			}
			ui.Render(w, r, fmt.Sprintf("#%d %s", it.ID, it.Title), template.HTML(buf.String()))
		}),
		"POST " + PagePath + "/{id}/status": http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			id, err := pathID(r)
			if err != nil {
				fail(w, err)
				return
			}
			it, err := s.SetStatus(r.Context(), id, r.PostFormValue("status"), r.PostFormValue("note"), ui.Staff(r))
			if err != nil {
				fail(w, err)
				return
			}
			posted := 0
			if n := len(it.Changes); n > 0 {
				posted = it.Changes[n-1].Posted
			}
			flash := fmt.Sprintf("Status changed to %s; %d threads told.", strings.ReplaceAll(it.Status, "_", " "), posted)
			http.Redirect(w, r, fmt.Sprintf("%s/%d?flash=%s", PagePath, id, url.QueryEscape(flash)), http.StatusSeeOther)
		}),
		"POST " + PagePath + "/{id}/tags": http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			id, err := pathID(r)
			if err != nil {
				fail(w, err)
				return
			}
			if _, err := s.SetTags(r.Context(), id, []string{r.PostFormValue("tags")}); err != nil {
				fail(w, err)
				return
			}
			http.Redirect(w, r, fmt.Sprintf("%s/%d?flash=%s", PagePath, id, url.QueryEscape("Tags saved.")), http.StatusSeeOther)
		}),
		"POST " + PagePath + "/merge": http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			from, err1 := strconv.Atoi(strings.TrimPrefix(strings.TrimSpace(r.PostFormValue("from")), "#"))
			into, err2 := strconv.Atoi(strings.TrimPrefix(strings.TrimSpace(r.PostFormValue("into")), "#"))
			if err1 != nil || err2 != nil {
				http.Error(w, "merge: give two item numbers", http.StatusBadRequest)
				return
			}
			if _, err := s.Merge(r.Context(), from, into, ui.Staff(r)); err != nil {
				fail(w, err)
				return
			}
			flash := fmt.Sprintf("Merged #%d into #%d.", from, into)
			http.Redirect(w, r, fmt.Sprintf("%s/%d?flash=%s", PagePath, into, url.QueryEscape(flash)), http.StatusSeeOther)
		}),
		"GET " + PagePath + "/export": s.exportHandler(),
	}
}

// exportHandler serves ?format=csv|json with the list's filters.
func (s *Service) exportHandler() http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		f, err := ParseFilter(r.URL.Query())
		if err != nil {
			http.Error(w, err.Error(), http.StatusBadRequest)
			return
		}
		items, err := s.List(r.Context(), f)
		if err != nil {
			s.o.Logger.Error("inbox: export", "err", err)
			http.Error(w, "reading the inbox failed", http.StatusInternalServerError)
			return
		}
		stamp := s.o.Clock.Now().UTC().Format("20060102")
		switch format := r.URL.Query().Get("format"); format {
		case "", "csv":
			w.Header().Set("Content-Type", "text/csv; charset=utf-8")
			w.Header().Set("Content-Disposition", `attachment; filename="inbox-`+stamp+`.csv"`)
			err = WriteCSV(w, items, s.o.Clock.Now())
		case "json":
			w.Header().Set("Content-Type", "application/json")
			w.Header().Set("Content-Disposition", `attachment; filename="inbox-`+stamp+`.json"`)
			err = WriteJSON(w, items)
		default:
			http.Error(w, "format must be csv or json", http.StatusBadRequest)
			return
		}
		if err != nil {
			s.o.Logger.Error("inbox: export", "err", err)
		}
	})
}

// StatusRequest is the body of POST /api/admin/inbox/{id}/status.
type StatusRequest struct {
	Status string `json:"status"`
	Note   string `json:"note,omitempty"`
}

// MergeRequest is the body of POST /api/admin/inbox/merge.
type MergeRequest struct {
	From int `json:"from"`
	Into int `json:"into"`
}

// TagsRequest is the body of POST /api/admin/inbox/{id}/tags.
type TagsRequest struct {
	Tags []string `json:"tags"`
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(v)
}

// AdminRoutes is the inbox's JSON admin API (add each with
// web.Server.AddAdminRoute); staff names who acted (web.StaffName).
//
//	GET  /api/admin/inbox?status=&tag=&platform=&channel=&since=&until=&sort=
//	GET  /api/admin/inbox/{id}
//	POST /api/admin/inbox/{id}/status   {"status": "planned", "note": "…"}
//	POST /api/admin/inbox/{id}/tags     {"tags": ["ui"]}
//	POST /api/admin/inbox/merge         {"from": 3, "into": 1}
//	GET  /api/admin/inbox/export?format=csv|json (and the list's filters)
func (s *Service) AdminRoutes(staff func(r *http.Request) string) map[string]http.Handler {
	fail := func(w http.ResponseWriter, err error) {
		if httpStatus(err) == http.StatusInternalServerError {
			s.o.Logger.Error("inbox: admin API", "err", err)
		}
		writeJSON(w, httpStatus(err), map[string]string{"error": publicError(err)})
	}
	decode := func(w http.ResponseWriter, r *http.Request, v any) bool {
		dec := json.NewDecoder(http.MaxBytesReader(w, r.Body, 64<<10))
		dec.DisallowUnknownFields()
		if err := dec.Decode(v); err != nil {
			writeJSON(w, http.StatusBadRequest, map[string]string{"error": "body: " + err.Error()})
			return false
		}
		return true
	}
	return map[string]http.Handler{
		"GET /api/admin/inbox": http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			f, err := ParseFilter(r.URL.Query())
			if err != nil {
				writeJSON(w, http.StatusBadRequest, map[string]string{"error": err.Error()})
				return
			}
			items, err := s.List(r.Context(), f)
			if err != nil {
				fail(w, err)
				return
			}
			if items == nil {
				items = []Item{}
			}
			writeJSON(w, http.StatusOK, items)
		}),
		"GET /api/admin/inbox/{id}": http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			id, err := pathID(r)
			if err == nil {
				var it Item
				if it, err = s.Get(r.Context(), id); err == nil {
					writeJSON(w, http.StatusOK, it)
					return
				}
			}
			fail(w, err)
		}),
		"POST /api/admin/inbox/{id}/status": http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			id, err := pathID(r)
			if err != nil {
				fail(w, err)
				return
			}
			var req StatusRequest
			if !decode(w, r, &req) {
				return
			}
			it, err := s.SetStatus(r.Context(), id, req.Status, req.Note, staff(r))
			if err != nil {
				fail(w, err)
				return
			}
			writeJSON(w, http.StatusOK, it)
		}),
		"POST /api/admin/inbox/{id}/tags": http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			id, err := pathID(r)
			if err != nil {
				fail(w, err)
				return
			}
			var req TagsRequest
			if !decode(w, r, &req) {
				return
			}
			it, err := s.SetTags(r.Context(), id, req.Tags)
			if err != nil {
				fail(w, err)
				return
			}
			writeJSON(w, http.StatusOK, it)
		}),
		"POST /api/admin/inbox/merge": http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			var req MergeRequest
			if !decode(w, r, &req) {
				return
			}
			it, err := s.Merge(r.Context(), req.From, req.Into, staff(r))
			if err != nil {
				fail(w, err)
				return
			}
			writeJSON(w, http.StatusOK, it)
		}),
		"GET /api/admin/inbox/export": s.exportHandler(),
	}
}
