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
	EditTags(ctx context.Context, id int, add, remove []string) (request.Item, error)
	Similar(ctx context.Context, id, n int) ([]inbox.Suggestion, error)
	Merge(ctx context.Context, from, into int, by string) (request.Item, error)
	Unmerge(ctx context.Context, from int, by string) (request.Item, error)
	MarkNotRequest(ctx context.Context, id int, by string) (request.Item, error)
	RestoreRequest(ctx context.Context, id int, by string) (request.Item, error)
	ConfirmMaybe(ctx context.Context, id int, by string) (request.Item, error)
	Edit(ctx context.Context, id int, e inbox.EditRequest, by string) (request.Item, error)
	SetPublic(ctx context.Context, id int, on bool, text *string, by string) (request.Item, error)
	Now() time.Time
}

// InboxPath is the dashboard's research inbox.
const InboxPath = "/dashboard/inbox"

// AddInbox adds the research inbox: its dashboard page, the detail page,
// the status, edit, "not a request", confirm (maybe), tags and merge forms and the export
// (staff login, CSRF on POST), and its JSON admin API (bearer token):
//
//	GET  /api/admin/inbox?q=&status=&tag=&platform=&channel=&since=&until=&sort=
//	GET  /api/admin/inbox/{id}
//	GET  /api/admin/inbox/{id}/similar  (likely duplicates, with their similarity)
//	POST /api/admin/inbox/{id}/status   {"status": "planned", "note": "…"}
//	POST /api/admin/inbox/{id}/tags     {"tags": ["ui"]} (replace) or {"add": ["ui"], "remove": ["old"]}
//	POST /api/admin/inbox/{id}/edit     {"title": "…", "summary": "…"} (either may be left out)
//	POST /api/admin/inbox/{id}/not-request  (quiet: no thread post, no DM)
//	POST /api/admin/inbox/{id}/restore      (undo not-request: back to new, quiet too)
//	POST /api/admin/inbox/{id}/confirm      (a maybe becomes new; nobody is thanked)
//	POST /api/admin/inbox/{id}/public   {"public": true, "description": "…"} (the public roadmap; description may be left out)
//	POST /api/admin/inbox/merge         {"from": 3, "into": 1}
//	POST /api/admin/inbox/{id}/unmerge  (undo the merge of a duplicate; quiet)
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
	s.AddStaffRoute("POST "+InboxPath+"/{id}/unmerge", http.HandlerFunc(h.unmergeForm))
	s.AddStaffRoute("GET "+InboxPath+"/export", http.HandlerFunc(h.export))
	s.AddStaffRoute("POST "+InboxPath+"/{id}/public", http.HandlerFunc(h.publicForm)) // roadmap_staff.go

	s.AddAdminRoute("GET /api/admin/inbox", http.HandlerFunc(h.apiList))
	s.AddAdminRoute("GET /api/admin/inbox/{id}", http.HandlerFunc(h.apiGet))
	s.AddAdminRoute("GET /api/admin/inbox/{id}/similar", http.HandlerFunc(h.apiSimilar))
	s.AddAdminRoute("POST /api/admin/inbox/{id}/status", http.HandlerFunc(h.apiStatus))
	s.AddAdminRoute("POST /api/admin/inbox/{id}/tags", http.HandlerFunc(h.apiTags))
	s.AddAdminRoute("POST /api/admin/inbox/{id}/edit", http.HandlerFunc(h.apiEdit))
	s.AddAdminRoute("POST /api/admin/inbox/{id}/not-request", http.HandlerFunc(h.apiNotRequest))
	s.AddAdminRoute("POST /api/admin/inbox/{id}/restore", http.HandlerFunc(h.apiRestore))
	s.AddAdminRoute("POST /api/admin/inbox/{id}/confirm", http.HandlerFunc(h.apiConfirm))
	s.AddAdminRoute("POST /api/admin/inbox/merge", http.HandlerFunc(h.apiMerge))
	s.AddAdminRoute("POST /api/admin/inbox/{id}/unmerge", http.HandlerFunc(h.apiUnmerge))
	s.AddAdminRoute("GET /api/admin/inbox/export", http.HandlerFunc(h.export))
	s.AddAdminRoute("POST /api/admin/inbox/{id}/public", http.HandlerFunc(h.apiPublic))
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
	"excerpt": lang.Excerpt,
	"dict": func(kv ...any) map[string]any {
		m := map[string]any{}
		for i := 0; i+1 < len(kv); i += 2 {
			m[kv[i].(string)] = kv[i+1]
		}
		return m
	},
	"tagURL": func(tag string) template.URL {
		return template.URL(InboxPath + "?" + url.Values{"tag": {tag}}.Encode())
	},
	// Replaced per request by inboxTmpl with the page's language.
	"t":     func(k string) string { return k },
	"label": func(s string) string { return s },
	"where": func(platform, channel string) string { return platform + "/" + channel },
	"who":   func(m request.Mention) string { return m.UserName },
}

// inboxTmpl returns tmpl with the words of lang: t for the page's texts,
// label for a status, where and who for a mention's channel and person by
// the name cache (ids where it knows none).
func inboxTmpl(tmpl *template.Template, lang string, names nameBook) *template.Template {
	c := template.Must(tmpl.Clone())
	return c.Funcs(template.FuncMap{
		"t":     func(k string) string { return tr(lang, "inbox."+k) },
		"label": func(s string) string { return statusLabel(lang, s) },
		"where": names.Where,
		"who": func(m request.Mention) string {
			if m.UserName != "" {
				return m.UserName
			}
			return names.User(m.Platform, m.UserID)
		},
	})
}

// statusLabel is a status for people: "in progress", "in Arbeit".
func statusLabel(lang, status string) string {
	if s, ok := inboxTexts[lang]["inbox.status."+status]; ok {
		return s
	}
	return strings.ReplaceAll(status, "_", " ")
}

var inboxListTmpl = template.Must(template.New("inbox-list").Funcs(inboxFuncs).Parse(`
{{if .Flash}}<p class="flash" id="flash" role="status">{{.Flash}}</p>{{end}}
<nav class="tabs" aria-label="{{t "views"}}"><a id="tab-requests" href="{{.RequestsURL}}"{{if not .MaybeView}} aria-current="page"{{end}}>{{t "requests"}}</a>
<a id="tab-maybe" href="{{.MaybeURL}}"{{if .MaybeView}} aria-current="page"{{end}}>{{t "maybe"}} (<span id="maybe-count">{{.Maybe}}</span>)</a></nav>
{{if .MaybeView}}<p class="hint">{{t "maybe_hint1"}}
<strong>{{t "confirm"}}</strong> {{t "maybe_hint2"}} <strong>{{t "not_request"}}</strong> {{t "maybe_hint3"}}</p>
<form class="filter" id="maybe-search" method="get" action="/dashboard/inbox" role="search"><input type="hidden" name="status" value="maybe"><input type="hidden" name="sort" value="newest">
<label>{{t "search"}} <input type="search" name="q" id="f-q" value="{{.F.Q}}" maxlength="200"></label> <button type="submit">{{t "search_button"}}</button></form>
{{if .F.Q}}<p class="summary" id="search-summary">{{printf (t "found") (len .Items) .F.Q}} · <a id="clear-search" href="/dashboard/inbox?status=maybe&amp;sort=newest">{{t "clear_search"}}</a></p>{{end}}
{{if .Items}}<table class="inbox maybe cards" id="maybe-items">
<thead><tr><th scope="col">#</th><th scope="col">{{t "message"}}</th><th scope="col">{{t "decide"}}</th><th scope="col">{{t "who"}}</th><th scope="col">{{t "when"}}</th><th scope="col">{{t "where"}}</th></tr></thead>
<tbody>{{range .Items}}<tr data-id="{{.ID}}"><td data-label="#"><a href="/dashboard/inbox/{{.ID}}">#{{.ID}}</a></td>
<td class="text" data-label="{{t "message"}}">{{if .Mentions}}{{excerpt (index .Mentions 0).Text 300}}{{else}}{{.Title}}{{end}}</td>
<td class="decide" data-label="{{t "decide"}}"><form method="post" action="/dashboard/inbox/{{.ID}}/confirm" class="confirm-form"><input type="hidden" name="csrf" value="{{$.CSRF}}"><input type="hidden" name="back" value="maybe"><button type="submit" class="confirm-submit">{{t "confirm"}}</button></form>
<form method="post" action="/dashboard/inbox/{{.ID}}/not-request" class="reject-form"><input type="hidden" name="csrf" value="{{$.CSRF}}"><input type="hidden" name="back" value="maybe"><button type="submit" class="reject-submit secondary">{{t "not_request"}}</button></form></td>
{{if .Mentions}}{{with index .Mentions 0}}<td data-label="{{t "who"}}">{{who .}}</td><td data-label="{{t "when"}}">{{date .Time}}</td><td class="where" data-label="{{t "where"}}">{{where .Platform .Channel}}</td>{{end}}{{else}}<td></td><td data-label="{{t "when"}}">{{date .Created}}</td><td></td>{{end}}</tr>
{{end}}</tbody></table>{{else}}<p id="maybe-empty">{{t "nothing_to_decide"}}</p>{{end}}
{{else}}<form class="filter" id="filter" method="get" action="/dashboard/inbox" role="search">
<label>{{t "search"}} <input type="search" name="q" id="f-q" value="{{.F.Q}}" maxlength="200" placeholder="{{t "search_hint"}}"></label>
<label>{{t "status"}} <select name="status" id="f-status"><option value="">{{t "all"}}</option><option value="open"{{if eq .F.Status "open"}} selected{{end}}>{{t "open"}}</option>
{{range .Statuses}}<option value="{{.}}"{{if eq $.F.Status .}} selected{{end}}>{{label .}}</option>{{end}}</select></label>
<label>{{t "tag"}} <input name="tag" id="f-tag" value="{{.F.Tag}}" size="10" list="known-tags"></label><datalist id="known-tags">{{range .Tags}}<option value="{{.}}">{{end}}</datalist>
<label>{{t "platform"}} <select name="platform" id="f-platform"><option value="">{{t "all"}}</option>{{range .Platforms}}<option{{if eq $.F.Platform .}} selected{{end}}>{{.}}</option>{{end}}</select></label>
<label>{{t "channel"}} <input name="channel" id="f-channel" value="{{.F.Channel}}" size="12"></label>
<label>{{t "from"}} <input type="date" name="since" id="f-since" value="{{.Since}}"></label>
<label>{{t "to"}} <input type="date" name="until" id="f-until" value="{{.Until}}"></label>
<label>{{t "sort"}} <select name="sort" id="f-sort">
<option value="votes"{{if eq .F.Sort "votes"}} selected{{end}}>{{t "sort_votes"}}</option>
<option value="newest"{{if eq .F.Sort "newest"}} selected{{end}}>{{t "sort_newest"}}</option>
<option value="recent"{{if eq .F.Sort "recent"}} selected{{end}}>{{t "sort_recent"}}</option>
{{if .F.Q}}<option value="relevance"{{if or (eq .F.Sort "relevance") (eq .F.Sort "")}} selected{{end}}>{{t "sort_relevance"}}</option>{{end}}</select></label>
<button type="submit">{{t "show"}}</button>
</form>
<p class="summary" id="list-summary"><strong id="count">{{len .Items}}</strong> {{t "items"}}{{if .F.Q}} <span id="search-summary">{{printf (t "matching") .F.Q}}</span> (<a id="clear-search" href="{{.ClearURL}}">{{t "clear_search"}}</a>){{end}} · {{t "export"}} <a id="export-csv" href="/dashboard/inbox/export?{{.CSVQuery}}">CSV</a> · <a id="export-json" href="/dashboard/inbox/export?{{.JSONQuery}}">JSON</a></p>
{{if .Items}}<table class="inbox cards" id="items">
<thead><tr><th scope="col">#</th><th scope="col">{{t "title"}}</th><th scope="col">{{t "status"}}</th><th scope="col">{{t "votes"}}</th><th scope="col">{{t "days7"}}</th><th scope="col">{{t "mentions"}}</th><th scope="col">{{t "platforms"}}</th><th scope="col">{{t "tags"}}</th><th scope="col">{{t "created"}}</th></tr></thead>
<tbody>{{range .Items}}<tr data-id="{{.ID}}"><td data-label="#"><a href="/dashboard/inbox/{{.ID}}">#{{.ID}}</a></td><td class="title" data-label="{{t "title"}}"><a href="/dashboard/inbox/{{.ID}}">{{.Title}}</a>{{if .DuplicateOf}} → <a href="/dashboard/inbox/{{.DuplicateOf}}">#{{.DuplicateOf}}</a>{{end}}</td>
<td class="status" data-label="{{t "status"}}">{{label .Status}}</td><td class="votes" data-label="{{t "votes"}}">{{.VoteCount}}</td><td data-label="{{t "days7"}}">{{.VotesSince $.Week}}</td><td data-label="{{t "mentions"}}">{{len .Mentions}}</td><td data-label="{{t "platforms"}}">{{join (plats .) ", "}}</td><td class="tags" data-label="{{t "tags"}}">{{range $i, $tag := .Tags}}{{if $i}}, {{end}}<a href="{{tagURL $tag}}">{{$tag}}</a>{{end}}</td><td data-label="{{t "created"}}">{{date .Created}}</td></tr>
{{end}}</tbody></table>{{else}}<p>{{t "no_match"}}</p>{{end}}
<h2>{{t "merge_title"}}</h2>
<form method="post" action="/dashboard/inbox/merge" id="merge-form">
<input type="hidden" name="csrf" value="{{.CSRF}}">
<label>{{t "merge_from"}} <input name="from" id="merge-from" type="number" min="1" required></label>
<label>{{t "merge_into"}} <input name="into" id="merge-into" type="number" min="1" required></label>
<button type="submit" id="merge-submit">{{t "merge"}}</button>
</form>{{end}}`))

var inboxDetailTmpl = template.Must(template.New("inbox-detail").Funcs(inboxFuncs).Parse(`
{{if .Flash}}<p class="flash" id="flash" role="status">{{.Flash}}</p>{{end}}
<p><a href="/dashboard/inbox">{{t "back"}}</a></p>
<p class="summary">{{t "status"}}: <strong id="status-now">{{label .Item.Status}}</strong>{{if .Item.DuplicateOf}} ({{t "duplicate_of"}} <a href="/dashboard/inbox/{{.Item.DuplicateOf}}">#{{.Item.DuplicateOf}}</a>){{end}}
 · {{t "votes"}}: <strong id="votes">{{.Item.VoteCount}}</strong> ({{.Item.VotesSince .Week}} {{t "in_7_days"}}) · {{t "created"}} {{date .Item.Created}} · {{t "updated"}} {{date .Item.Updated}}</p>
{{if .Item.Summary}}<p class="item-summary">{{.Item.Summary}}</p>{{end}}
{{if and (eq .Item.Status "duplicate") .Item.DuplicateOf}}<form method="post" action="/dashboard/inbox/{{.Item.ID}}/unmerge" id="unmerge-form" class="stack">
<input type="hidden" name="csrf" value="{{.CSRF}}">
<button type="submit" id="unmerge-submit">{{printf (t "unmerge") .Item.DuplicateOf}}</button>
<small>{{t "unmerge_hint"}}</small>
</form>{{end}}
{{if .Next}}<form method="post" action="/dashboard/inbox/{{.Item.ID}}/status" id="status-form" class="stack">
<input type="hidden" name="csrf" value="{{.CSRF}}">
<label>{{t "new_status"}} <select name="status" id="status">{{range .Next}}<option value="{{.}}">{{label .}}</option>{{end}}</select></label>
<label>{{t "public_note"}} <textarea name="note" id="note" rows="2" cols="60"></textarea></label>
<button type="submit" id="status-submit">{{t "change_status"}}</button>
<small>{{t "status_hint"}}</small>
</form>{{end}}
{{if eq .Item.Status "maybe"}}<form method="post" action="/dashboard/inbox/{{.Item.ID}}/confirm" id="confirm-form" class="stack">
<input type="hidden" name="csrf" value="{{.CSRF}}">
<button type="submit" id="confirm-submit">{{t "confirm_file"}}</button>
<small>{{t "confirm_hint"}}</small>
</form>{{end}}
{{if eq .Item.Status "not_request"}}<form method="post" action="/dashboard/inbox/{{.Item.ID}}/restore" id="restore-form" class="stack">
<input type="hidden" name="csrf" value="{{.CSRF}}">
<button type="submit" id="restore-submit">{{t "restore"}}</button>
<small>{{t "restore_hint"}}</small>
</form>{{else if ne .Item.Status "duplicate"}}<form method="post" action="/dashboard/inbox/{{.Item.ID}}/not-request" id="not-request-form" class="stack">
<input type="hidden" name="csrf" value="{{.CSRF}}">
<button type="submit" id="not-request-submit">{{t "not_request"}}</button>
<small>{{t "not_request_hint"}}</small>
</form>{{end}}
<form method="post" action="/dashboard/inbox/{{.Item.ID}}/edit" id="edit-form" class="stack">
<input type="hidden" name="csrf" value="{{.CSRF}}">
<label>{{t "title"}} <input name="title" id="edit-title" value="{{.Item.Title}}" size="60" maxlength="120" required></label>
<label>{{t "summary"}} <textarea name="summary" id="edit-summary" rows="3" cols="60" maxlength="600">{{.Item.Summary}}</textarea></label>
<button type="submit" id="edit-submit">{{t "save_edit"}}</button>
</form>
{{template "public-form" .}}
<h2 id="tags-h">{{t "tags"}}</h2>
<ul class="tag-list" id="tag-list" aria-labelledby="tags-h">{{range .Item.Tags}}<li><a href="{{tagURL .}}">{{.}}</a>
<form method="post" action="/dashboard/inbox/{{$.Item.ID}}/tags" class="tag-remove"><input type="hidden" name="csrf" value="{{$.CSRF}}"><input type="hidden" name="remove" value="{{.}}"><button type="submit" class="secondary" aria-label="{{printf (t "remove_tag") .}}">×</button></form></li>
{{else}}<li id="no-tags">{{t "no_tags"}}</li>{{end}}</ul>
<form method="post" action="/dashboard/inbox/{{.Item.ID}}/tags" id="tags-form" class="filter">
<input type="hidden" name="csrf" value="{{.CSRF}}">
<label>{{t "add_tags"}} <input name="add" id="tag-add" size="24" list="known-tags-item" required></label><datalist id="known-tags-item">{{range .Tags}}<option value="{{.}}">{{end}}</datalist>
<button type="submit" id="tag-add-submit">{{t "add_tag"}}</button>
</form>
{{if .CanMerge}}<h2 id="dup-h">{{t "dup_title"}}</h2>
<p class="hint">{{t "dup_hint"}}</p>
{{if .Suggestions}}<table class="inbox cards" id="suggestions">
<thead><tr><th scope="col">#</th><th scope="col">{{t "title"}}</th><th scope="col">{{t "status"}}</th><th scope="col">{{t "votes"}}</th><th scope="col">{{t "similarity"}}</th><th scope="col">{{t "merge"}}</th></tr></thead>
<tbody>{{range .Suggestions}}{{template "candidate" dict "Row" . "Item" $.Item "CSRF" $.CSRF}}{{end}}</tbody></table>
{{else}}<p id="no-suggestions">{{t "no_duplicates"}}</p>{{end}}
<form method="get" action="/dashboard/inbox/{{.Item.ID}}" id="find-form" class="filter" role="search">
<label>{{t "find_item"}} <input type="search" name="find" id="find" value="{{.Find}}" maxlength="200"></label>
<button type="submit" id="find-submit">{{t "search_button"}}</button>
</form>
{{if .Find}}{{if .Found}}<table class="inbox cards" id="found">
<thead><tr><th scope="col">#</th><th scope="col">{{t "title"}}</th><th scope="col">{{t "status"}}</th><th scope="col">{{t "votes"}}</th><th scope="col">{{t "similarity"}}</th><th scope="col">{{t "merge"}}</th></tr></thead>
<tbody>{{range .Found}}{{template "candidate" dict "Row" . "Item" $.Item "CSRF" $.CSRF}}{{end}}</tbody></table>
{{else}}<p id="found-none">{{t "no_match"}}</p>{{end}}{{end}}{{end}}
<h2>{{t "mentions"}} ({{len .Item.Mentions}})</h2>
<table class="mentions cards" id="mentions">
<thead><tr><th scope="col">{{t "time"}}</th><th scope="col">{{t "where"}}</th><th scope="col">{{t "who"}}</th><th scope="col">{{t "how"}}</th><th scope="col">{{t "sentiment"}}</th><th scope="col">{{t "text"}}</th><th scope="col">{{t "link"}}</th></tr></thead>
<tbody>{{range .Item.Mentions}}<tr><td data-label="{{t "time"}}">{{date .Time}}</td><td class="where" data-label="{{t "where"}}">{{where .Platform .Channel}}</td><td data-label="{{t "who"}}">{{who .}}</td><td data-label="{{t "how"}}">{{.Source}}{{if .By}} {{t "by"}} {{.By}}{{end}}</td>
<td data-label="{{t "sentiment"}}">{{f2 .Sentiment}}</td><td class="text" data-label="{{t "text"}}">{{.Text}}</td><td data-label="{{t "link"}}">{{if .Permalink}}<a href="{{.Permalink}}">{{t "open_link"}}</a>{{end}}</td></tr>
{{end}}</tbody></table>
{{if .Item.Changes}}<h2>{{t "history"}}</h2>
<table class="changes cards" id="changes"><thead><tr><th scope="col">{{t "time"}}</th><th scope="col">{{t "change"}}</th><th scope="col">{{t "by_col"}}</th><th scope="col">{{t "note"}}</th><th scope="col">{{t "told"}}</th></tr></thead>
<tbody>{{range .Item.Changes}}<tr><td data-label="{{t "time"}}">{{date .Time}}</td><td data-label="{{t "change"}}">{{if .Merge}}{{if .Merge.Undone}}{{if eq .Merge.From $.Item.ID}}{{printf (t "unmerged_here") .Merge.Mentions .Merge.Votes}} <a href="/dashboard/inbox/{{.Merge.Into}}">#{{.Merge.Into}}</a>{{else}}{{printf (t "unmerged_away") .Merge.Mentions .Merge.Votes}} <a href="/dashboard/inbox/{{.Merge.From}}">#{{.Merge.From}}</a>{{end}}{{else if eq .Merge.Into $.Item.ID}}{{printf (t "merged_here") .Merge.Mentions .Merge.Votes}} <a href="/dashboard/inbox/{{.Merge.From}}">#{{.Merge.From}}</a>{{else}}{{printf (t "merged_away") .Merge.Mentions .Merge.Votes}} <a href="/dashboard/inbox/{{.Merge.Into}}">#{{.Merge.Into}}</a>{{end}}{{else if .Edit}}{{t "edited"}} {{.Edit.What}}{{else}}{{label .From}} → {{label .To}}{{end}}</td><td data-label="{{t "by_col"}}">{{.By}}</td><td data-label="{{t "note"}}">{{.Note}}</td><td data-label="{{t "told"}}">{{.Posted}}{{if .Skipped}} ({{.Skipped}} {{t "skipped"}}){{end}}</td></tr>
{{end}}</tbody></table>{{end}}
{{if .Item.Votes}}<h2>{{t "votes"}}</h2><p>{{range $i, $v := .Item.Votes}}{{if $i}}, {{end}}{{if $v.Name}}{{$v.Name}}{{else}}{{$v.UserID}}{{end}} ({{$v.Platform}}){{end}}</p>{{end}}
{{define "public-form"}}<h2 id="public-h">{{t "public_h"}} <span class="muted" id="public-state">({{if .Item.Public}}{{t "public_is_on"}}{{else}}{{t "public_is_off"}}{{end}})</span></h2>
<form method="post" action="/dashboard/inbox/{{.Item.ID}}/public" id="public-form" class="stack">
<input type="hidden" name="csrf" value="{{.CSRF}}">
<label class="check"><input type="checkbox" name="public" value="on" id="public-on"{{if .Item.Public}} checked{{end}}> {{t "public_on"}}</label>
<label>{{t "public_text"}} <textarea name="public_text" id="public-text" rows="2" cols="60" maxlength="600">{{.Item.PublicText}}</textarea></label>
<button type="submit" id="public-submit">{{t "public_save"}}</button>
<small>{{t "public_hint"}}</small>
</form>{{end}}
{{define "candidate"}}{{with .Row}}<tr data-id="{{.ID}}"><td data-label="#"><a href="/dashboard/inbox/{{.ID}}">#{{.ID}}</a></td><td class="title" data-label="{{t "title"}}"><a href="/dashboard/inbox/{{.ID}}">{{.Title}}</a></td>
<td data-label="{{t "status"}}">{{label .Status}}</td><td data-label="{{t "votes"}}">{{.Votes}}</td><td class="score" data-label="{{t "similarity"}}">{{if .Scored}}{{f2 .Score}}{{else}}–{{end}}</td>
<td class="merge" data-label="{{t "merge"}}"><div class="merge-buttons">{{if .Into}}<form method="post" action="/dashboard/inbox/merge" class="merge-into-form"><input type="hidden" name="csrf" value="{{$.CSRF}}"><input type="hidden" name="from" value="{{$.Item.ID}}"><input type="hidden" name="into" value="{{.ID}}"><button type="submit" class="merge-into secondary">{{printf (t "merge_this_into") .ID}}</button></form>{{end}}
{{if .Here}}<form method="post" action="/dashboard/inbox/merge" class="merge-here-form"><input type="hidden" name="csrf" value="{{$.CSRF}}"><input type="hidden" name="from" value="{{.ID}}"><input type="hidden" name="into" value="{{$.Item.ID}}"><button type="submit" class="merge-here">{{printf (t "merge_here") .ID}}</button></form>{{end}}</div></td></tr>{{end}}{{end}}`))

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
	// The tabs keep the search; clearing it keeps the rest of the filter.
	tab := func(v url.Values) template.URL {
		if f.Q != "" {
			v.Set("q", f.Q)
		}
		if len(v) == 0 {
			return template.URL(InboxPath)
		}
		return template.URL(InboxPath + "?" + v.Encode())
	}
	clear := f
	clear.Q = ""
	if clear.Sort == inbox.SortRelevance {
		clear.Sort = ""
	}
	clearURL := InboxPath
	if q := clear.Query().Encode(); q != "" {
		clearURL += "?" + q
	}
	data := map[string]any{
		"F": f, "Items": ov.Items, "Statuses": request.Statuses, "Maybe": ov.Maybe, "MaybeView": f.Status == request.StatusMaybe,
		"Tags": ov.Tags, "RequestsURL": tab(url.Values{}), "MaybeURL": tab(url.Values{"status": {request.StatusMaybe}, "sort": {inbox.SortNewest}}),
		"ClearURL": template.URL(clearURL),
		"Flash":    r.URL.Query().Get("flash"), "Platforms": ov.Platforms, "Week": ov.Now.AddDate(0, 0, -7),
		"Since": dateValue(f.Since, 0), "Until": dateValue(f.Until, -1), "CSRF": h.s.CSRFToken(w, r),
		"CSVQuery": template.URL(csvQ.Encode()), "JSONQuery": template.URL(jsonQ.Encode()),
	}
	lang := requestLang(r)
	var buf bytes.Buffer
	if err := inboxTmpl(inboxListTmpl, lang, h.s.book(r.Context(), lang)).Execute(&buf, data); err != nil {
		http.Error(w, err.Error(), http.StatusInternalServerError)
		return
	}
	h.s.RenderPage(w, r, tr(lang, "inbox.page_title"), template.HTML(buf.String()))
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
	case errors.Is(err, inbox.ErrBadStatus), errors.Is(err, inbox.ErrMergeSelf), errors.Is(err, inbox.ErrMergeClosed), errors.Is(err, request.ErrNotMerged):
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
		"Flash": r.URL.Query().Get("flash"), "CanMerge": mergeable(it.Status)}
	if err := h.mergeCandidates(r, it, data); err != nil {
		h.fail(w, err)
		return
	}
	var buf bytes.Buffer
	lang := requestLang(r)
	if err := inboxTmpl(inboxDetailTmpl, lang, h.s.book(r.Context(), lang)).Execute(&buf, data); err != nil {
		h.fail(w, err)
		return
	}
	h.s.RenderPage(w, r, fmt.Sprintf("#%d %s", it.ID, it.Title), template.HTML(buf.String()))
}

// mergeable says whether an item in status may be merged, either way.
func mergeable(status string) bool {
	return status != request.StatusDuplicate && status != request.StatusMaybe
}

// mergeRow is an item offered for a merge with the one on the page.
type mergeRow struct {
	ID            int
	Title, Status string
	Votes         int
	Score         float64
	Scored        bool
	Into, Here    bool // the page's item may merge into it; it may merge into the page's item
}

// mergeCandidates fills in the detail page's likely duplicates, the
// result of its "find an item" search (?find=) and the known tags.
func (h inboxPages) mergeCandidates(r *http.Request, it request.Item, data map[string]any) error {
	ov, err := h.in.Overview(r.Context(), inbox.Filter{})
	if err != nil {
		return err
	}
	data["Tags"] = ov.Tags
	if !mergeable(it.Status) {
		return nil
	}
	sugg, err := h.in.Similar(r.Context(), it.ID, 0)
	if err != nil {
		return err
	}
	var rows []mergeRow
	for _, sg := range sugg {
		rows = append(rows, mergeRow{ID: sg.ID, Title: sg.Title, Status: sg.Status, Votes: sg.Votes, Score: sg.Score, Scored: true,
			Into: true, Here: true})
	}
	data["Suggestions"] = rows
	find := strings.Join(strings.Fields(r.URL.Query().Get("find")), " ")
	if find == "" {
		return nil
	}
	data["Find"] = find
	found, err := h.in.List(r.Context(), inbox.Filter{Q: find})
	if err != nil {
		return err
	}
	var out []mergeRow
	for _, o := range found {
		if o.ID == it.ID || len(out) == 20 {
			continue
		}
		ok := mergeable(o.Status)
		out = append(out, mergeRow{ID: o.ID, Title: o.Title, Status: o.Status, Votes: o.VoteCount, Into: ok, Here: ok})
	}
	data["Found"] = out
	return nil
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
	lang := requestLang(r)
	flash := fmt.Sprintf(tr(lang, "inbox.flash_status"), statusLabel(lang, it.Status), posted)
	http.Redirect(w, r, fmt.Sprintf("%s/%d?flash=%s", InboxPath, id, url.QueryEscape(flash)), http.StatusSeeOther)
}

func (h inboxPages) tagsForm(w http.ResponseWriter, r *http.Request) {
	id, err := inboxID(r)
	if err != nil {
		h.fail(w, err)
		return
	}
	var err2 error
	if add, remove := r.PostFormValue("add"), r.PostFormValue("remove"); add != "" || remove != "" {
		_, err2 = h.in.EditTags(r.Context(), id, []string{add}, []string{remove})
	} else {
		_, err2 = h.in.SetTags(r.Context(), id, []string{r.PostFormValue("tags")})
	}
	if err := err2; err != nil {
		h.fail(w, err)
		return
	}
	http.Redirect(w, r, fmt.Sprintf("%s/%d?flash=%s", InboxPath, id, url.QueryEscape(tr(requestLang(r), "inbox.flash_tags"))), http.StatusSeeOther)
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
	http.Redirect(w, r, fmt.Sprintf("%s/%d?flash=%s", InboxPath, id, url.QueryEscape(tr(requestLang(r), "inbox.flash_edit"))), http.StatusSeeOther)
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
	lang := requestLang(r)
	flash := tr(lang, "inbox.flash_not_request")
	if r.PostFormValue("back") == "maybe" {
		http.Redirect(w, r, maybeTab(fmt.Sprintf(tr(lang, "inbox.flash_not_request_n"), id)), http.StatusSeeOther)
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
	lang := requestLang(r)
	if r.PostFormValue("back") == "maybe" {
		http.Redirect(w, r, maybeTab(fmt.Sprintf(tr(lang, "inbox.flash_confirmed_n"), id)), http.StatusSeeOther)
		return
	}
	http.Redirect(w, r, fmt.Sprintf("%s/%d?flash=%s", InboxPath, id, url.QueryEscape(tr(lang, "inbox.flash_confirmed"))), http.StatusSeeOther)
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
	http.Redirect(w, r, fmt.Sprintf("%s/%d?flash=%s", InboxPath, id, url.QueryEscape(tr(requestLang(r), "inbox.flash_restored"))), http.StatusSeeOther)
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
	flash := fmt.Sprintf(tr(requestLang(r), "inbox.flash_merged"), from, into)
	http.Redirect(w, r, fmt.Sprintf("%s/%d?flash=%s", InboxPath, into, url.QueryEscape(flash)), http.StatusSeeOther)
}

// unmergeForm undoes the merge of a duplicate and shows it again.
func (h inboxPages) unmergeForm(w http.ResponseWriter, r *http.Request) {
	id, err := inboxID(r)
	if err != nil {
		h.fail(w, err)
		return
	}
	if _, err := h.in.Unmerge(r.Context(), id, StaffName(r)); err != nil {
		h.fail(w, err)
		return
	}
	flash := fmt.Sprintf(tr(requestLang(r), "inbox.flash_unmerged"), id)
	http.Redirect(w, r, fmt.Sprintf("%s/%d?flash=%s", InboxPath, id, url.QueryEscape(flash)), http.StatusSeeOther)
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
	var it request.Item
	if req.Tags != nil || (req.Add == nil && req.Remove == nil) {
		it, err = h.in.SetTags(r.Context(), id, req.Tags)
	} else {
		it, err = h.in.EditTags(r.Context(), id, req.Add, req.Remove)
	}
	if err != nil {
		h.apiFail(w, err)
		return
	}
	writeJSON(w, http.StatusOK, it)
}

func (h inboxPages) apiSimilar(w http.ResponseWriter, r *http.Request) {
	id, err := inboxID(r)
	if err != nil {
		h.apiFail(w, err)
		return
	}
	n, _ := strconv.Atoi(r.URL.Query().Get("n"))
	sugg, err := h.in.Similar(r.Context(), id, min(n, 50))
	if err != nil {
		h.apiFail(w, err)
		return
	}
	if sugg == nil {
		sugg = []inbox.Suggestion{}
	}
	writeJSON(w, http.StatusOK, sugg)
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

func (h inboxPages) apiUnmerge(w http.ResponseWriter, r *http.Request) {
	h.apiQuiet(w, r, h.in.Unmerge)
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
