package web

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"html/template"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/einsatz/einsatz/bot/lang"
	"github.com/einsatz/einsatz/bot/request"
	"github.com/einsatz/einsatz/handlers/inbox"
)

// Inbox is the research inbox's use cases the dashboard and the admin API
// call; *inbox.Service implements it.
type Inbox interface {
	Overview(ctx context.Context, f inbox.Filter) (inbox.Overview, error)
	List(ctx context.Context, f inbox.Filter) ([]request.Item, error)
	Get(ctx context.Context, id int) (request.Item, error)
	SetStatus(ctx context.Context, id int, status, note, by string) (request.Item, error)
	SetTags(ctx context.Context, id int, tags []string) (request.Item, error)
	Merge(ctx context.Context, from, into int, by string) (request.Item, error)
	MarkNotRequest(ctx context.Context, id int, by string) (request.Item, error)
	RestoreRequest(ctx context.Context, id int, by string) (request.Item, error)
	ConfirmMaybe(ctx context.Context, id int, by string) (request.Item, error)
	Edit(ctx context.Context, id int, e inbox.EditRequest, by string) (request.Item, error)
	Now() time.Time
}

// InboxPath is the dashboard's research inbox.
const InboxPath = "/dashboard/inbox"

// AddInbox adds the research inbox: its dashboard page, the detail page,
// the status, edit, "not a request", confirm (maybe), tags and merge forms and the export
// (staff login, CSRF on POST), and its JSON admin API (bearer token):
//
//	GET  /api/admin/inbox?status=&tag=&platform=&channel=&since=&until=&sort=
//	GET  /api/admin/inbox/{id}
//	POST /api/admin/inbox/{id}/status   {"status": "planned", "note": "…"}
//	POST /api/admin/inbox/{id}/tags     {"tags": ["ui"]}
//	POST /api/admin/inbox/{id}/edit     {"title": "…", "summary": "…"} (either may be left out)
//	POST /api/admin/inbox/{id}/not-request  (quiet: no thread post, no DM)
//	POST /api/admin/inbox/{id}/restore      (undo not-request: back to new, quiet too)
//	POST /api/admin/inbox/{id}/confirm      (a maybe becomes new; nobody is thanked)
//	POST /api/admin/inbox/merge         {"from": 3, "into": 1}
//	GET  /api/admin/inbox/export?format=csv|json (and the list's filters)
//
// Call it before Run.
func (s *Server) AddInbox(in Inbox) {
	h := inboxPages{s: s, in: in}
	s.AddPage(Page{Path: InboxPath, Title: "Research inbox", Handler: http.HandlerFunc(h.list)})
	s.AddStaffRoute("GET "+InboxPath+"/{id}", http.HandlerFunc(h.detail))
	s.AddStaffRoute("POST "+InboxPath+"/{id}/status", http.HandlerFunc(h.statusForm))
	s.AddStaffRoute("POST "+InboxPath+"/{id}/tags", http.HandlerFunc(h.tagsForm))
	s.AddStaffRoute("POST "+InboxPath+"/{id}/edit", http.HandlerFunc(h.editForm))
	s.AddStaffRoute("POST "+InboxPath+"/{id}/not-request", http.HandlerFunc(h.notRequestForm))
	s.AddStaffRoute("POST "+InboxPath+"/{id}/restore", http.HandlerFunc(h.restoreForm))
	s.AddStaffRoute("POST "+InboxPath+"/{id}/confirm", http.HandlerFunc(h.confirmForm))
	s.AddStaffRoute("POST "+InboxPath+"/merge", http.HandlerFunc(h.mergeForm))
	s.AddStaffRoute("GET "+InboxPath+"/export", http.HandlerFunc(h.export))

	s.AddAdminRoute("GET /api/admin/inbox", http.HandlerFunc(h.apiList))
	s.AddAdminRoute("GET /api/admin/inbox/{id}", http.HandlerFunc(h.apiGet))
	s.AddAdminRoute("POST /api/admin/inbox/{id}/status", http.HandlerFunc(h.apiStatus))
	s.AddAdminRoute("POST /api/admin/inbox/{id}/tags", http.HandlerFunc(h.apiTags))
	s.AddAdminRoute("POST /api/admin/inbox/{id}/edit", http.HandlerFunc(h.apiEdit))
	s.AddAdminRoute("POST /api/admin/inbox/{id}/not-request", http.HandlerFunc(h.apiNotRequest))
	s.AddAdminRoute("POST /api/admin/inbox/{id}/restore", http.HandlerFunc(h.apiRestore))
	s.AddAdminRoute("POST /api/admin/inbox/{id}/confirm", http.HandlerFunc(h.apiConfirm))
	s.AddAdminRoute("POST /api/admin/inbox/merge", http.HandlerFunc(h.apiMerge))
	s.AddAdminRoute("GET /api/admin/inbox/export", http.HandlerFunc(h.export))
}

type inboxPages struct {
	s  *Server
	in Inbox
}

var inboxFuncs = template.FuncMap{
	"date":    func(t time.Time) string { return t.UTC().Format("2006-01-02 15:04") },
	"join":    strings.Join,
	"plats":   inbox.Platforms,
	"chans":   inbox.Channels,
	"f2":      func(f float64) string { return strconv.FormatFloat(f, 'f', 2, 64) },
	"label":   func(s string) string { return strings.ReplaceAll(s, "_", " ") },
	"excerpt": lang.Excerpt,
}

var inboxListTmpl = template.Must(template.New("inbox-list").Funcs(inboxFuncs).Parse(`
{{if .Flash}}<p class="flash" id="flash">{{.Flash}}</p>{{end}}
<nav class="tabs" aria-label="Inbox views"><a id="tab-requests" href="/dashboard/inbox"{{if not .MaybeView}} aria-current="page"{{end}}>Requests</a>
<a id="tab-maybe" href="/dashboard/inbox?status=maybe&amp;sort=newest"{{if .MaybeView}} aria-current="page"{{end}}>Maybe (<span id="maybe-count">{{.Maybe}}</span>)</a></nav>
{{if .MaybeView}}<p class="hint">Messages the detector was not sure about. Nobody was thanked for them and no other request joins them.
<strong>Confirm</strong> files one as a new request (nobody is told); <strong>Not a request</strong> removes it and keeps its words to evaluate the detector.</p>
{{if .Items}}<table class="inbox maybe" id="maybe-items">
<tr><th>#</th><th>Message</th><th>Decide</th><th>Who</th><th>When</th><th>Where</th></tr>
{{range .Items}}<tr data-id="{{.ID}}"><td><a href="/dashboard/inbox/{{.ID}}">#{{.ID}}</a></td>
<td class="text">{{if .Mentions}}{{excerpt (index .Mentions 0).Text 300}}{{else}}{{.Title}}{{end}}</td>
<td class="decide"><form method="post" action="/dashboard/inbox/{{.ID}}/confirm" class="confirm-form"><input type="hidden" name="csrf" value="{{$.CSRF}}"><input type="hidden" name="back" value="maybe"><button type="submit" class="confirm-submit">Confirm</button></form>
<form method="post" action="/dashboard/inbox/{{.ID}}/not-request" class="reject-form"><input type="hidden" name="csrf" value="{{$.CSRF}}"><input type="hidden" name="back" value="maybe"><button type="submit" class="reject-submit secondary">Not a request</button></form></td>
{{if .Mentions}}{{with index .Mentions 0}}<td>{{if .UserName}}{{.UserName}}{{else}}{{.UserID}}{{end}}</td><td>{{date .Time}}</td><td>{{.Platform}}/{{.Channel}}</td>{{end}}{{else}}<td></td><td>{{date .Created}}</td><td></td>{{end}}</tr>
{{end}}</table>{{else}}<p id="maybe-empty">Nothing to decide.</p>{{end}}
{{else}}<form class="filter" id="filter" method="get" action="/dashboard/inbox">
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
</form>{{end}}`))

var inboxDetailTmpl = template.Must(template.New("inbox-detail").Funcs(inboxFuncs).Parse(`
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
{{if eq .Item.Status "maybe"}}<form method="post" action="/dashboard/inbox/{{.Item.ID}}/confirm" id="confirm-form">
<input type="hidden" name="csrf" value="{{.CSRF}}">
<button type="submit" id="confirm-submit">Confirm: file as a request</button>
<small>The detector was not sure about this message. Confirming makes it new; nobody is thanked or told.</small>
</form>{{end}}
{{if eq .Item.Status "not_request"}}<form method="post" action="/dashboard/inbox/{{.Item.ID}}/restore" id="restore-form">
<input type="hidden" name="csrf" value="{{.CSRF}}">
<button type="submit" id="restore-submit">Undo "not a request"</button>
<small>The item is new again. Nobody is told.</small>
</form>{{else if ne .Item.Status "duplicate"}}<form method="post" action="/dashboard/inbox/{{.Item.ID}}/not-request" id="not-request-form">
<input type="hidden" name="csrf" value="{{.CSRF}}">
<button type="submit" id="not-request-submit">Not a request</button>
<small>Removes a false detection quietly: no post in any thread, no direct message. Its messages are kept to evaluate the detector.</small>
</form>{{end}}
<form method="post" action="/dashboard/inbox/{{.Item.ID}}/edit" id="edit-form">
<input type="hidden" name="csrf" value="{{.CSRF}}">
<label>Title <input name="title" id="edit-title" value="{{.Item.Title}}" size="60" maxlength="120" required></label>
<label>Summary <textarea name="summary" id="edit-summary" rows="3" cols="60" maxlength="600">{{.Item.Summary}}</textarea></label>
<button type="submit" id="edit-submit">Save title and summary</button>
</form>
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
{{range .Item.Changes}}<tr><td>{{date .Time}}</td><td>{{if .Edit}}edited {{.Edit.What}}{{else}}{{label .From}} → {{label .To}}{{end}}</td><td>{{.By}}</td><td>{{.Note}}</td><td>{{.Posted}}{{if .Skipped}} ({{.Skipped}} skipped){{end}}</td></tr>
{{end}}</table>{{end}}
{{if .Item.Votes}}<h2>Votes</h2><p>{{range $i, $v := .Item.Votes}}{{if $i}}, {{end}}{{if $v.Name}}{{$v.Name}}{{else}}{{$v.UserID}}{{end}} ({{$v.Platform}}){{end}}</p>{{end}}`))

func (h inboxPages) list(w http.ResponseWriter, r *http.Request) {
	f, err := inbox.ParseFilter(r.URL.Query())
	if err != nil {
		http.Error(w, err.Error(), http.StatusBadRequest)
		return
	}
	ov, err := h.in.Overview(r.Context(), f)
	if err != nil {
		h.s.log.Error("inbox: list page", "err", err)
		http.Error(w, "reading the inbox failed", http.StatusInternalServerError)
		return
	}
	csvQ, jsonQ := f.Query(), f.Query()
	csvQ.Set("format", "csv")
	jsonQ.Set("format", "json")
	data := map[string]any{
		"F": f, "Items": ov.Items, "Statuses": request.Statuses, "Maybe": ov.Maybe, "MaybeView": f.Status == request.StatusMaybe,
		"Flash": r.URL.Query().Get("flash"), "Platforms": ov.Platforms, "Week": ov.Now.AddDate(0, 0, -7),
		"Since": dateValue(f.Since, 0), "Until": dateValue(f.Until, -1), "CSRF": h.s.CSRFToken(w, r),
		"CSVQuery": template.URL(csvQ.Encode()), "JSONQuery": template.URL(jsonQ.Encode()),
	}
	var buf bytes.Buffer
	if err := inboxListTmpl.Execute(&buf, data); err != nil {
		http.Error(w, err.Error(), http.StatusInternalServerError)
		return
	}
	h.s.RenderPage(w, r, "Research inbox", template.HTML(buf.String()))
}

func dateValue(t time.Time, addDays int) string {
	if t.IsZero() {
		return ""
	}
	return t.AddDate(0, 0, addDays).Format("2006-01-02")
}

func inboxID(r *http.Request) (int, error) {
	id, err := strconv.Atoi(strings.TrimPrefix(r.PathValue("id"), "#"))
	if err != nil || id <= 0 {
		return 0, fmt.Errorf("%w: %q is not an item number", request.ErrNotFound, r.PathValue("id"))
	}
	return id, nil
}

func inboxStatus(err error) int {
	switch {
	case errors.Is(err, request.ErrNotFound):
		return http.StatusNotFound
	case errors.Is(err, inbox.ErrBadStatus), errors.Is(err, inbox.ErrMergeSelf), errors.Is(err, inbox.ErrMergeClosed):
		return http.StatusConflict
	case errors.Is(err, inbox.ErrBadEdit):
		return http.StatusBadRequest
	}
	return http.StatusInternalServerError
}

// inboxPublicError is what a page or the API may show of an error.
func inboxPublicError(err error) string {
	if inboxStatus(err) == http.StatusInternalServerError {
		return "internal error (see the server log)"
	}
	return err.Error()
}

// fail answers a dashboard request that failed.
func (h inboxPages) fail(w http.ResponseWriter, err error) {
	if inboxStatus(err) == http.StatusInternalServerError {
		h.s.log.Error("inbox: dashboard", "err", err)
	}
	http.Error(w, inboxPublicError(err), inboxStatus(err))
}

func (h inboxPages) detail(w http.ResponseWriter, r *http.Request) {
	id, err := inboxID(r)
	if err != nil {
		h.fail(w, err)
		return
	}
	it, err := h.in.Get(r.Context(), id)
	if err != nil {
		h.fail(w, err)
		return
	}
	data := map[string]any{"Item": it, "Next": inbox.NextStatuses(it.Status), "CSRF": h.s.CSRFToken(w, r), "Week": h.in.Now().AddDate(0, 0, -7),
		"Flash": r.URL.Query().Get("flash")}
	var buf bytes.Buffer
	if err := inboxDetailTmpl.Execute(&buf, data); err != nil {
		h.fail(w, err)
		return
	}
	h.s.RenderPage(w, r, fmt.Sprintf("#%d %s", it.ID, it.Title), template.HTML(buf.String()))
}

func (h inboxPages) statusForm(w http.ResponseWriter, r *http.Request) {
	id, err := inboxID(r)
	if err != nil {
		h.fail(w, err)
		return
	}
	it, err := h.in.SetStatus(r.Context(), id, r.PostFormValue("status"), r.PostFormValue("note"), StaffName(r))
	if err != nil {
		h.fail(w, err)
		return
	}
	posted := 0
	if n := len(it.Changes); n > 0 {
		posted = it.Changes[n-1].Posted
	}
	flash := fmt.Sprintf("Status changed to %s; %d threads told.", strings.ReplaceAll(it.Status, "_", " "), posted)
	http.Redirect(w, r, fmt.Sprintf("%s/%d?flash=%s", InboxPath, id, url.QueryEscape(flash)), http.StatusSeeOther)
}

func (h inboxPages) tagsForm(w http.ResponseWriter, r *http.Request) {
	id, err := inboxID(r)
	if err != nil {
		h.fail(w, err)
		return
	}
	if _, err := h.in.SetTags(r.Context(), id, []string{r.PostFormValue("tags")}); err != nil {
		h.fail(w, err)
		return
	}
	http.Redirect(w, r, fmt.Sprintf("%s/%d?flash=%s", InboxPath, id, url.QueryEscape("Tags saved.")), http.StatusSeeOther)
}

func (h inboxPages) editForm(w http.ResponseWriter, r *http.Request) {
	id, err := inboxID(r)
	if err != nil {
		h.fail(w, err)
		return
	}
	title, summary := r.PostFormValue("title"), r.PostFormValue("summary")
	if _, err := h.in.Edit(r.Context(), id, inbox.EditRequest{Title: &title, Summary: &summary}, StaffName(r)); err != nil {
		h.fail(w, err)
		return
	}
	http.Redirect(w, r, fmt.Sprintf("%s/%d?flash=%s", InboxPath, id, url.QueryEscape("Title and summary saved.")), http.StatusSeeOther)
}

func (h inboxPages) notRequestForm(w http.ResponseWriter, r *http.Request) {
	id, err := inboxID(r)
	if err != nil {
		h.fail(w, err)
		return
	}
	if _, err := h.in.MarkNotRequest(r.Context(), id, StaffName(r)); err != nil {
		h.fail(w, err)
		return
	}
	flash := "Marked as not a request; removed from the inbox without telling anyone."
	if r.PostFormValue("back") == "maybe" {
		http.Redirect(w, r, maybeTab(fmt.Sprintf("#%d: not a request.", id)), http.StatusSeeOther)
		return
	}
	http.Redirect(w, r, fmt.Sprintf("%s/%d?flash=%s", InboxPath, id, url.QueryEscape(flash)), http.StatusSeeOther)
}

// confirmForm files a maybe as a request; from the Maybe tab it returns
// there, so staff can go down the list.
func (h inboxPages) confirmForm(w http.ResponseWriter, r *http.Request) {
	id, err := inboxID(r)
	if err != nil {
		h.fail(w, err)
		return
	}
	if _, err := h.in.ConfirmMaybe(r.Context(), id, StaffName(r)); err != nil {
		h.fail(w, err)
		return
	}
	if r.PostFormValue("back") == "maybe" {
		http.Redirect(w, r, maybeTab(fmt.Sprintf("#%d confirmed: filed as a new request.", id)), http.StatusSeeOther)
		return
	}
	http.Redirect(w, r, fmt.Sprintf("%s/%d?flash=%s", InboxPath, id, url.QueryEscape("Confirmed: filed as a new request. Nobody was told.")), http.StatusSeeOther)
}

// maybeTab is the Maybe tab's address with a flash message.
func maybeTab(flash string) string {
	return InboxPath + "?" + url.Values{"status": {request.StatusMaybe}, "sort": {inbox.SortNewest}, "flash": {flash}}.Encode()
}

func (h inboxPages) restoreForm(w http.ResponseWriter, r *http.Request) {
	id, err := inboxID(r)
	if err != nil {
		h.fail(w, err)
		return
	}
	if _, err := h.in.RestoreRequest(r.Context(), id, StaffName(r)); err != nil {
		h.fail(w, err)
		return
	}
	http.Redirect(w, r, fmt.Sprintf("%s/%d?flash=%s", InboxPath, id, url.QueryEscape("Back in the inbox as new.")), http.StatusSeeOther)
}

func (h inboxPages) mergeForm(w http.ResponseWriter, r *http.Request) {
	from, err1 := strconv.Atoi(strings.TrimPrefix(strings.TrimSpace(r.PostFormValue("from")), "#"))
	into, err2 := strconv.Atoi(strings.TrimPrefix(strings.TrimSpace(r.PostFormValue("into")), "#"))
	if err1 != nil || err2 != nil {
		http.Error(w, "merge: give two item numbers", http.StatusBadRequest)
		return
	}
	if _, err := h.in.Merge(r.Context(), from, into, StaffName(r)); err != nil {
		h.fail(w, err)
		return
	}
	flash := fmt.Sprintf("Merged #%d into #%d.", from, into)
	http.Redirect(w, r, fmt.Sprintf("%s/%d?flash=%s", InboxPath, into, url.QueryEscape(flash)), http.StatusSeeOther)
}

// export serves ?format=csv|json with the list's filters.
func (h inboxPages) export(w http.ResponseWriter, r *http.Request) {
	f, err := inbox.ParseFilter(r.URL.Query())
	if err != nil {
		http.Error(w, err.Error(), http.StatusBadRequest)
		return
	}
	items, err := h.in.List(r.Context(), f)
	if err != nil {
		h.s.log.Error("inbox: export", "err", err)
		http.Error(w, "reading the inbox failed", http.StatusInternalServerError)
		return
	}
	stamp := h.in.Now().UTC().Format("20060102")
	switch format := r.URL.Query().Get("format"); format {
	case "", "csv":
		w.Header().Set("Content-Type", "text/csv; charset=utf-8")
		w.Header().Set("Content-Disposition", `attachment; filename="inbox-`+stamp+`.csv"`)
		err = inbox.WriteCSV(w, items, h.in.Now())
	case "json":
		w.Header().Set("Content-Type", "application/json")
		w.Header().Set("Content-Disposition", `attachment; filename="inbox-`+stamp+`.json"`)
		err = inbox.WriteJSON(w, items)
	default:
		http.Error(w, "format must be csv or json", http.StatusBadRequest)
		return
	}
	if err != nil {
		h.s.log.Error("inbox: export", "err", err)
	}
}

// apiFail answers an admin API request that failed.
func (h inboxPages) apiFail(w http.ResponseWriter, err error) {
	if inboxStatus(err) == http.StatusInternalServerError {
		h.s.log.Error("inbox: admin API", "err", err)
	}
	writeJSON(w, inboxStatus(err), map[string]string{"error": inboxPublicError(err)})
}

// decodeStrict reads a JSON body of at most 64 KiB with no unknown fields;
// false (after answering 400) when it does not decode.
func decodeStrict(w http.ResponseWriter, r *http.Request, v any) bool {
	dec := json.NewDecoder(http.MaxBytesReader(w, r.Body, 64<<10))
	dec.DisallowUnknownFields()
	if err := dec.Decode(v); err != nil {
		writeJSON(w, http.StatusBadRequest, map[string]string{"error": "body: " + err.Error()})
		return false
	}
	return true
}

func (h inboxPages) apiList(w http.ResponseWriter, r *http.Request) {
	f, err := inbox.ParseFilter(r.URL.Query())
	if err != nil {
		writeJSON(w, http.StatusBadRequest, map[string]string{"error": err.Error()})
		return
	}
	items, err := h.in.List(r.Context(), f)
	if err != nil {
		h.apiFail(w, err)
		return
	}
	if items == nil {
		items = []request.Item{}
	}
	writeJSON(w, http.StatusOK, items)
}

func (h inboxPages) apiGet(w http.ResponseWriter, r *http.Request) {
	id, err := inboxID(r)
	if err == nil {
		var it request.Item
		if it, err = h.in.Get(r.Context(), id); err == nil {
			writeJSON(w, http.StatusOK, it)
			return
		}
	}
	h.apiFail(w, err)
}

func (h inboxPages) apiStatus(w http.ResponseWriter, r *http.Request) {
	id, err := inboxID(r)
	if err != nil {
		h.apiFail(w, err)
		return
	}
	var req inbox.StatusRequest
	if !decodeStrict(w, r, &req) {
		return
	}
	it, err := h.in.SetStatus(r.Context(), id, req.Status, req.Note, StaffName(r))
	if err != nil {
		h.apiFail(w, err)
		return
	}
	writeJSON(w, http.StatusOK, it)
}

func (h inboxPages) apiTags(w http.ResponseWriter, r *http.Request) {
	id, err := inboxID(r)
	if err != nil {
		h.apiFail(w, err)
		return
	}
	var req inbox.TagsRequest
	if !decodeStrict(w, r, &req) {
		return
	}
	it, err := h.in.SetTags(r.Context(), id, req.Tags)
	if err != nil {
		h.apiFail(w, err)
		return
	}
	writeJSON(w, http.StatusOK, it)
}

func (h inboxPages) apiMerge(w http.ResponseWriter, r *http.Request) {
	var req inbox.MergeRequest
	if !decodeStrict(w, r, &req) {
		return
	}
	it, err := h.in.Merge(r.Context(), req.From, req.Into, StaffName(r))
	if err != nil {
		h.apiFail(w, err)
		return
	}
	writeJSON(w, http.StatusOK, it)
}

func (h inboxPages) apiEdit(w http.ResponseWriter, r *http.Request) {
	id, err := inboxID(r)
	if err != nil {
		h.apiFail(w, err)
		return
	}
	var req inbox.EditRequest
	if !decodeStrict(w, r, &req) {
		return
	}
	it, err := h.in.Edit(r.Context(), id, req, StaffName(r))
	if err != nil {
		h.apiFail(w, err)
		return
	}
	writeJSON(w, http.StatusOK, it)
}

func (h inboxPages) apiNotRequest(w http.ResponseWriter, r *http.Request) {
	h.apiQuiet(w, r, h.in.MarkNotRequest)
}

func (h inboxPages) apiConfirm(w http.ResponseWriter, r *http.Request) {
	h.apiQuiet(w, r, h.in.ConfirmMaybe)
}

func (h inboxPages) apiRestore(w http.ResponseWriter, r *http.Request) {
	h.apiQuiet(w, r, h.in.RestoreRequest)
}

// apiQuiet runs a body-less change of one item (not-request, restore).
func (h inboxPages) apiQuiet(w http.ResponseWriter, r *http.Request, fn func(ctx context.Context, id int, by string) (request.Item, error)) {
	id, err := inboxID(r)
	if err != nil {
		h.apiFail(w, err)
		return
	}
	it, err := fn(r.Context(), id, StaffName(r))
	if err != nil {
		h.apiFail(w, err)
		return
	}
	writeJSON(w, http.StatusOK, it)
}
