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

	"github.com/einsatz/einsatz/bot/escalation"
	"github.com/einsatz/einsatz/handlers/handoff"
	"github.com/einsatz/einsatz/handlers/knowledge"
)

// Desk is the hand-off's use cases the dashboard desk, the admin API and
// the CLI call; *handoff.Service implements it.
type Desk interface {
	handoff.Lister
	Queue(ctx context.Context, f handoff.Filter) ([]escalation.Escalation, error)
	Ticket(ctx context.Context, id string) (handoff.Ticket, error)
	Act(ctx context.Context, id, action, staff, text string) (escalation.Escalation, error)
	SLAOf(e escalation.Escalation, now time.Time) handoff.SLAState
	Now() time.Time
}

// ReplyReviser edits or deletes a staff reply already posted into the
// member's thread (the desk's "edit_reply" and "delete_reply");
// *handoff.Service implements it.
type ReplyReviser interface {
	Revise(ctx context.Context, id, messageID, staff, text string, remove bool) (escalation.Escalation, error)
}

// Passages finds knowledge-base passages for canned replies; the
// knowledge base implements it.
type Passages interface {
	Search(ctx context.Context, q string, k int) ([]knowledge.Hit, error)
}

// EscalationsPath is the dashboard's desk.
const EscalationsPath = "/dashboard/escalations"

// AddHandoff adds the staff desk: the Escalations page (a queue with
// filters), each escalation's page (transcript, SLA clock, audit, claim,
// reply, note, close, dismiss, hand back; canned replies from kb, which
// may be nil), its forms (staff login, CSRF), and the admin API:
//
//	GET  /api/admin/handoff?open=1&state=&staff=&platform=&channel=
//	GET  /api/admin/handoff/{id}
//	POST /api/admin/handoff/{id}/{action}  {"text": "…", "staff": "…", "message": "…"}
//
// (action edit_reply or delete_reply changes the staff reply whose
// message_id, from the escalation's changes, is "message".) Call it
// before Run.
func (s *Server) AddHandoff(desk Desk, kb Passages) {
	h := deskPages{s: s, desk: desk, kb: kb}
	s.AddPage(Page{Path: EscalationsPath, Title: "Escalations", Handler: http.HandlerFunc(h.list)})
	s.AddStaffRoute("GET "+EscalationsPath+"/{id}", http.HandlerFunc(h.detail))
	s.AddStaffRoute("POST "+EscalationsPath+"/{id}/{action}", http.HandlerFunc(h.form))
	s.AddAdminRoute("GET /api/admin/handoff", http.HandlerFunc(h.apiList))
	s.AddAdminRoute("GET /api/admin/handoff/{id}", http.HandlerFunc(h.apiGet))
	s.AddAdminRoute("POST /api/admin/handoff/{id}/{action}", http.HandlerFunc(h.apiAct))
}

type deskPages struct {
	s    *Server
	desk Desk
	kb   Passages
}

// deskTexts are the desk's words in English and German (by the browser's
// Accept-Language, as the chat page).
var deskTexts = map[string]map[string]string{
	"en": {"title": "Escalations", "open": "Open", "claimed": "Claimed", "closed": "Closed", "median": "Median time to first staff response",
		"show": "Show", "state": "Show", "all": "all", "unclaimed": "unclaimed", "mine": "mine", "st_open": "open (not done)", "st_closed": "closed or dismissed",
		"platform": "Platform", "channel": "Channel", "created": "Created", "thread": "Thread", "user": "Member", "reason": "Reason",
		"staff": "Staff", "first": "First response", "summary": "Summary", "sla": "SLA", "none": "None.", "g_open": "Open",
		"g_claimed": "Claimed by staff", "g_closed": "Closed or dismissed", "back": "← all escalations", "status": "Status",
		"transcript": "Transcript", "no_transcript": "No messages stored for this thread.", "sources": "Sources", "audit": "History",
		"time": "Time", "who": "Who", "action": "Action", "note": "Note", "claim": "Claim", "reply": "Reply in the member's thread",
		"send": "Send reply", "add_note": "Add internal note", "close": "Close", "dismiss": "Dismiss", "hand_back": "Hand back to the bot",
		"canned": "Canned reply from the knowledge base", "search": "Search", "use": "Use", "left": "left", "overdue": "overdue",
		"met": "met", "breached": "breached", "as": "as", "owner": "Thread owner", "bot": "the bot", "open_link": "open",
		"reply_hint": "Posted into the thread on its platform, with your name.", "note_hint": "Only staff see notes.",
		"edit": "Edit", "save": "Save", "delete": "Delete", "edited": "edited", "deleted": "deleted"},
	"de": {"title": "Eskalationen", "open": "Offen", "claimed": "Übernommen", "closed": "Erledigt", "median": "Median bis zur ersten Antwort des Teams",
		"show": "Anzeigen", "state": "Zeige", "all": "alle", "unclaimed": "nicht übernommen", "mine": "meine", "st_open": "offen (nicht erledigt)",
		"st_closed": "geschlossen oder verworfen", "platform": "Plattform", "channel": "Kanal", "created": "Erstellt", "thread": "Thread",
		"user": "Mitglied", "reason": "Grund", "staff": "Team", "first": "Erste Antwort", "summary": "Zusammenfassung", "sla": "SLA",
		"none": "Keine.", "g_open": "Offen", "g_claimed": "Vom Team übernommen", "g_closed": "Geschlossen oder verworfen",
		"back": "← alle Eskalationen", "status": "Status", "transcript": "Verlauf", "no_transcript": "Für diesen Thread sind keine Nachrichten gespeichert.",
		"sources": "Quellen", "audit": "Änderungen", "time": "Zeit", "who": "Wer", "action": "Aktion", "note": "Notiz", "claim": "Übernehmen",
		"reply": "Im Thread des Mitglieds antworten", "send": "Antwort senden", "add_note": "Interne Notiz speichern", "close": "Schließen",
		"dismiss": "Verwerfen", "hand_back": "An den Bot zurückgeben", "canned": "Textbaustein aus der Wissensdatenbank", "search": "Suchen",
		"use": "Übernehmen", "left": "übrig", "overdue": "überfällig", "met": "eingehalten", "breached": "verletzt", "as": "als",
		"owner": "Thread gehört", "bot": "dem Bot", "open_link": "öffnen",
		"reply_hint": "Wird im Thread auf seiner Plattform gepostet, mit deinem Namen.", "note_hint": "Notizen sieht nur das Team.",
		"edit": "Bearbeiten", "save": "Speichern", "delete": "Löschen", "edited": "bearbeitet", "deleted": "gelöscht"},
}

func deskFuncs(t map[string]string) template.FuncMap {
	return template.FuncMap{
		"t":    func(k string) string { return t[k] },
		"date": func(x time.Time) string { return x.UTC().Format("2006-01-02 15:04") },
		"resp": func(e escalation.Escalation) string {
			if d := e.ResponseTime(); d > 0 {
				return d.Round(time.Second).String()
			}
			return "–"
		},
		"sla": func(st handoff.SLAState) string {
			switch {
			case !st.On:
				return "–"
			case st.Met:
				return t["met"]
			case st.Breached && st.Left == 0:
				return t["breached"]
			case st.Left < 0:
				return (-st.Left).Round(time.Minute).String() + " " + t["overdue"]
			}
			return st.Left.Round(time.Minute).String() + " " + t["left"]
		},
		"label": func(s string) string { return strings.ReplaceAll(s, "_", " ") },
	}
}

var deskListTmpl = template.Must(template.New("desk-list").Funcs(deskFuncs(deskTexts["en"])).Parse(`
<form class="filter" id="filter" method="get" action="/dashboard/escalations">
<label>{{t "state"}} <select name="state" id="f-state">{{range .States}}<option value="{{.V}}"{{if eq $.F.State .V}} selected{{end}}>{{.L}}</option>{{end}}</select></label>
<label>{{t "platform"}} <select name="platform" id="f-platform"><option value="">{{t "all"}}</option>{{range .Platforms}}<option{{if eq $.F.Platform .}} selected{{end}}>{{.}}</option>{{end}}</select></label>
<label>{{t "channel"}} <input name="channel" id="f-channel" value="{{.F.Channel}}" size="12"></label>
<button type="submit">{{t "show"}}</button>
</form>
<p class="summary">{{t "open"}}: <strong id="count-open">{{len .Open}}</strong> · {{t "claimed"}}: <strong id="count-claimed">{{len .Claimed}}</strong> · {{t "closed"}}: <strong id="count-closed">{{len .Closed}}</strong>{{if .Median}} · {{t "median"}}: <strong id="median">{{.Median}}</strong>{{end}}</p>
{{range .Groups}}<h2>{{.Title}}</h2>
{{if .List}}<table class="escalations" data-group="{{.Key}}">
<tr><th>#</th><th>{{t "created"}}</th><th>{{t "status"}}</th><th>{{t "thread"}}</th><th>{{t "user"}}</th><th>{{t "reason"}}</th><th>{{t "staff"}}</th><th>{{t "first"}}</th><th>{{t "sla"}}</th><th>{{t "summary"}}</th></tr>
{{range .List}}<tr data-id="{{.E.ID}}"><td data-label="#"><a class="desk-link" href="/dashboard/escalations/{{.E.ID}}">{{.E.ID}}</a></td><td data-label="{{t "created"}}">{{date .E.Created}}</td><td class="status" data-label="{{t "status"}}">{{.E.Status}}</td><td class="thread" data-label="{{t "thread"}}">{{if .E.Permalink}}<a href="{{.E.Permalink}}">{{.E.Thread.Key}}</a>{{else}}{{.E.Thread.Key}}{{end}}</td><td data-label="{{t "user"}}">{{.E.User.DisplayName}}</td><td data-label="{{t "reason"}}">{{.E.Reason}}</td><td data-label="{{t "staff"}}">{{.E.ClaimedBy}}</td><td data-label="{{t "first"}}">{{resp .E}}</td><td data-label="{{t "sla"}}"{{if .SLA.Warn}} class="desk-warn"{{end}}>{{sla .SLA}}</td><td class="text" data-label="{{t "summary"}}">{{.E.Summary}}</td></tr>
{{end}}</table>{{else}}<p>{{t "none"}}</p>{{end}}
{{end}}`))

var deskDetailTmpl = template.Must(template.New("desk-detail").Funcs(deskFuncs(deskTexts["en"])).Parse(`
{{if .Flash}}<p class="desk-flash" id="flash">{{.Flash}}</p>{{end}}
<p><a href="/dashboard/escalations">{{t "back"}}</a></p>
{{with .T}}<p class="summary">#{{.ID}} · {{t "status"}}: <strong id="status-now">{{.Status}}</strong>{{if .ClaimedBy}} ({{.ClaimedBy}}){{end}}
 · {{t "thread"}}: {{if .Permalink}}<a href="{{.Permalink}}">{{.Thread.Key}}</a>{{else}}{{.Thread.Key}}{{end}}
 · {{t "user"}}: {{.User.DisplayName}} · {{t "reason"}}: {{.Reason}}{{if .Sentiment}} · {{.Sentiment}}{{end}}
 · {{t "created"}} {{date .Created}} · {{t "first"}}: <span id="first-response">{{resp .Escalation}}</span>
 · {{t "sla"}}: <span id="sla"{{if .SLA.Warn}} class="desk-warn"{{end}}>{{sla .SLA}}</span>
 · {{t "owner"}}: <span id="owner">{{if .Owner.Staff}}{{.Owner.Staff}}{{else}}{{t "bot"}}{{end}}</span></p>
{{if .Summary}}<p class="item-summary">{{.Summary}}</p>{{end}}{{end}}
<div class="desk-actions">
{{range .Buttons}}<form method="post" action="/dashboard/escalations/{{$.T.ID}}/{{.}}"><input type="hidden" name="csrf" value="{{$.CSRF}}"><button type="submit" id="do-{{.}}">{{t .}}</button></form>
{{end}}</div>
{{if .CanReply}}<form method="post" action="/dashboard/escalations/{{.T.ID}}/reply" id="reply-form">
<input type="hidden" name="csrf" value="{{.CSRF}}">
<label>{{t "reply"}} ({{t "as"}} {{.Me}})<br><textarea name="text" id="reply-text" rows="4" required>{{.Canned}}</textarea></label><br>
<button type="submit" id="reply-submit">{{t "send"}}</button> <small>{{t "reply_hint"}}</small>
</form>
<form method="get" action="/dashboard/escalations/{{.T.ID}}" id="canned-form">
<label>{{t "canned"}} <input name="q" id="canned-q" value="{{.Q}}" size="30"></label> <button type="submit" id="canned-search">{{t "search"}}</button>
</form>
{{if .Hits}}<ol class="canned" id="canned">{{range $i, $h := .Hits}}<li><strong>{{$h.Title}}</strong>{{if $h.Heading}} › {{$h.Heading}}{{end}} <a class="use" href="/dashboard/escalations/{{$.T.ID}}?q={{$.Q}}&amp;use={{$i}}">{{t "use"}}</a><blockquote>{{$h.Text}}</blockquote></li>{{end}}</ol>{{end}}
{{end}}
<form method="post" action="/dashboard/escalations/{{.T.ID}}/note" id="note-form">
<input type="hidden" name="csrf" value="{{.CSRF}}">
<label>{{t "note"}}<br><textarea name="text" id="note-text" rows="2" required></textarea></label><br>
<button type="submit" id="note-submit">{{t "add_note"}}</button> <small>{{t "note_hint"}}</small>
</form>
<h2>{{t "transcript"}}</h2>
{{if .T.Transcript}}<ol class="transcript" id="transcript">{{range .T.Transcript}}<li class="{{.Role}}"><div class="who">{{date .Time}} · {{if .Name}}{{.Name}}{{else}}{{.Role}}{{end}}</div><div class="text">{{.Text}}</div>
{{if .Sources}}<div class="sources">{{t "sources"}}: {{range $i, $s := .Sources}}{{if $i}}, {{end}}{{if $s.URL}}<a href="{{$s.URL}}">{{$s.Title}}</a>{{else}}{{$s.Title}}{{if $s.Path}} ({{$s.Path}}){{end}}{{end}}{{end}}</div>{{end}}</li>
{{end}}</ol>{{else}}<p>{{t "no_transcript"}}</p>{{end}}
<h2>{{t "audit"}}</h2>
<table class="changes" id="changes"><tr><th>{{t "time"}}</th><th>{{t "who"}}</th><th>{{t "action"}}</th><th>{{t "status"}}</th><th>{{t "note"}}</th></tr>
{{range .T.Changes}}<tr><td data-label="{{t "time"}}">{{date .Time}}</td><td data-label="{{t "who"}}">{{.Actor}}</td><td data-label="{{t "action"}}">{{label .Action}}</td><td data-label="{{t "status"}}">{{.From}} → {{.To}}</td><td class="text" data-label="{{t "note"}}">{{.Text}}{{if .Deleted}} <em class="reply-deleted">({{t "deleted"}})</em>{{else if .Edited}} <em class="reply-edited">({{t "edited"}})</em>{{end}}
{{if and $.CanRevise .MessageID (not .Deleted)}}<details class="revise"><summary>{{t "edit"}}</summary><form method="post" action="/dashboard/escalations/{{$.T.ID}}/edit_reply" class="edit-reply"><input type="hidden" name="csrf" value="{{$.CSRF}}"><input type="hidden" name="message" value="{{.MessageID}}"><textarea name="text" rows="3" required aria-label="{{t "edit"}}"></textarea><br><button type="submit">{{t "save"}}</button></form></details>
<form method="post" action="/dashboard/escalations/{{$.T.ID}}/delete_reply" class="delete-reply"><input type="hidden" name="csrf" value="{{$.CSRF}}"><input type="hidden" name="message" value="{{.MessageID}}"><button type="submit">{{t "delete"}}</button></form>{{end}}</td></tr>
{{end}}</table>`))

// deskTmpl returns tmpl with the words of the language.
func deskTmpl(tmpl *template.Template, lang string) *template.Template {
	c := template.Must(tmpl.Clone())
	return c.Funcs(deskFuncs(deskTexts[lang]))
}

func (h deskPages) filter(r *http.Request, me string) handoff.Filter {
	q := r.URL.Query()
	f := handoff.Filter{State: q.Get("state"), Staff: me, Platform: q.Get("platform"), Channel: q.Get("channel")}
	if f.State == "" && q.Get("open") != "" {
		f.State = "open"
	}
	return f
}

func (h deskPages) list(w http.ResponseWriter, r *http.Request) {
	lang := requestLang(r)
	t := deskTexts[lang]
	f := h.filter(r, StaffName(r))
	if !r.URL.Query().Has("state") {
		f.State = "all"
	}
	list, err := h.desk.Queue(r.Context(), f)
	if err != nil {
		h.s.log.Error("handoff: desk", "err", err)
		http.Error(w, "reading the escalations failed", http.StatusInternalServerError)
		return
	}
	b, err := handoff.Overview(r.Context(), fixedList(list))
	if err != nil {
		http.Error(w, err.Error(), http.StatusInternalServerError)
		return
	}
	now := h.desk.Now()
	type row struct {
		E   escalation.Escalation
		SLA handoff.SLAState
	}
	rows := func(l []escalation.Escalation) []row {
		out := make([]row, len(l))
		for i, e := range l {
			out[i] = row{e, h.desk.SLAOf(e, now)}
		}
		return out
	}
	type group struct {
		Key, Title string
		List       []row
	}
	all, _ := h.desk.Queue(r.Context(), handoff.Filter{})
	var platforms []string
	seen := map[string]bool{}
	for _, e := range all {
		if !seen[e.Thread.Platform] {
			seen[e.Thread.Platform] = true
			platforms = append(platforms, e.Thread.Platform)
		}
	}
	type opt struct{ V, L string }
	data := map[string]any{
		"F": f, "Open": b.Open, "Claimed": b.Claimed, "Closed": b.Closed, "Median": b.Median, "Platforms": platforms,
		"States": []opt{{"all", t["all"]}, {"open", t["st_open"]}, {"unclaimed", t["unclaimed"]}, {"mine", t["mine"]}, {"closed", t["st_closed"]}},
		"Groups": []group{{"open", t["g_open"], rows(b.Open)}, {"claimed", t["g_claimed"], rows(b.Claimed)}, {"closed", t["g_closed"], rows(b.Closed)}},
	}
	var buf bytes.Buffer
	if err := deskTmpl(deskListTmpl, lang).Execute(&buf, data); err != nil {
		http.Error(w, err.Error(), http.StatusInternalServerError)
		return
	}
	h.s.RenderPage(w, r, t["title"], template.HTML(buf.String()))
}

// fixedList lists what the queue returned, for handoff.Overview.
type fixedList []escalation.Escalation

func (l fixedList) Escalations(context.Context) ([]escalation.Escalation, error) { return l, nil }

func (h deskPages) detail(w http.ResponseWriter, r *http.Request) {
	lang := requestLang(r)
	tk, err := h.desk.Ticket(r.Context(), r.PathValue("id"))
	if errors.Is(err, escalation.ErrNotFound) {
		http.NotFound(w, r)
		return
	}
	if err != nil {
		h.s.log.Error("handoff: desk ticket", "err", err)
		http.Error(w, "reading the escalation failed", http.StatusInternalServerError)
		return
	}
	me := StaffName(r)
	var buttons []string
	for _, a := range []string{escalation.ActionClaim, escalation.ActionClose, escalation.ActionDismiss, escalation.ActionHandBack} {
		trial := tk.Escalation
		trial.Changes = nil
		if trial.Apply(a, me, h.desk.Now(), "") == nil {
			buttons = append(buttons, a)
		}
	}
	_, replyErr := escalation.Next(tk.Status, escalation.ActionReply)
	_, canRevise := h.desk.(ReplyReviser)
	data := map[string]any{"T": tk, "CSRF": h.s.CSRFToken(w, r), "Buttons": buttons, "CanReply": replyErr == nil, "Me": me, "CanRevise": canRevise,
		"Flash": r.URL.Query().Get("flash")}
	if q := strings.TrimSpace(r.URL.Query().Get("q")); q != "" && h.kb != nil {
		hits, err := h.kb.Search(r.Context(), q, 5)
		if err != nil {
			h.s.log.Error("handoff: canned replies", "err", err)
		}
		data["Q"], data["Hits"] = q, hits
		if i, err := strconv.Atoi(r.URL.Query().Get("use")); err == nil && i >= 0 && i < len(hits) {
			data["Canned"] = cannedText(hits[i])
		}
	}
	var buf bytes.Buffer
	if err := deskTmpl(deskDetailTmpl, lang).Execute(&buf, data); err != nil {
		http.Error(w, err.Error(), http.StatusInternalServerError)
		return
	}
	h.s.RenderPage(w, r, deskTexts[lang]["title"]+" #"+tk.ID, template.HTML(buf.String()))
}

// cannedText is a passage as a reply: its text and where it is from.
func cannedText(h knowledge.Hit) string {
	text := strings.TrimSpace(h.Text)
	if h.URL != "" {
		text += "\n\n" + h.URL
	}
	return text
}

func (h deskPages) form(w http.ResponseWriter, r *http.Request) {
	id, action := r.PathValue("id"), r.PathValue("action")
	e, err := h.act(r.Context(), id, action, StaffName(r), r.PostFormValue("text"), r.PostFormValue("message"))
	var flash string
	switch {
	case errors.Is(err, escalation.ErrNotFound):
		http.NotFound(w, r)
		return
	case errors.Is(err, escalation.ErrIllegal) || errors.Is(err, handoff.ErrEmpty) || errors.Is(err, handoff.ErrNoAction) ||
		errors.Is(err, handoff.ErrNoReply):
		flash = err.Error()
	case err != nil:
		h.s.log.Error("handoff: desk action", "action", action, "err", err)
		http.Error(w, "the action failed", http.StatusInternalServerError)
		return
	default:
		flash = fmt.Sprintf("%s: %s", strings.ReplaceAll(action, "_", " "), e.Status)
		h.s.audit(r.Context(), StaffName(r), "handoff "+action, e.ID)
	}
	http.Redirect(w, r, EscalationsPath+"/"+url.PathEscape(id)+"?flash="+url.QueryEscape(flash), http.StatusSeeOther)
}

func (h deskPages) apiList(w http.ResponseWriter, r *http.Request) {
	f := h.filter(r, r.URL.Query().Get("staff"))
	if f.Staff == "" {
		f.Staff = StaffName(r)
	}
	list, err := h.desk.Queue(r.Context(), f)
	if err != nil {
		writeJSON(w, http.StatusInternalServerError, map[string]string{"error": err.Error()})
		return
	}
	if list == nil {
		list = []escalation.Escalation{}
	}
	writeJSON(w, http.StatusOK, list)
}

func (h deskPages) apiGet(w http.ResponseWriter, r *http.Request) {
	tk, err := h.desk.Ticket(r.Context(), r.PathValue("id"))
	if errors.Is(err, escalation.ErrNotFound) {
		jsonError(w, http.StatusNotFound, err.Error())
		return
	}
	if err != nil {
		jsonError(w, http.StatusInternalServerError, err.Error())
		return
	}
	writeJSON(w, http.StatusOK, tk)
}

// DeskAction is the body of POST /api/admin/handoff/{id}/{action}.
type DeskAction struct {
	Text  string `json:"text,omitempty"`
	Staff string `json:"staff,omitempty"` // who acts; default: the token's account
	// Message is the staff reply edit_reply and delete_reply change: its
	// message_id in the escalation's changes.
	Message string `json:"message,omitempty"`
}

// act runs a desk action: a step of the state machine, or a change of a
// staff reply (edit_reply, delete_reply) when the desk can make one.
func (h deskPages) act(ctx context.Context, id, action, staff, text, message string) (escalation.Escalation, error) {
	if action != "edit_reply" && action != "delete_reply" {
		return h.desk.Act(ctx, id, action, staff, text)
	}
	rv, ok := h.desk.(ReplyReviser)
	if !ok {
		return escalation.Escalation{}, fmt.Errorf("%w: %q", handoff.ErrNoAction, action)
	}
	return rv.Revise(ctx, id, message, staff, text, action == "delete_reply")
}

func (h deskPages) apiAct(w http.ResponseWriter, r *http.Request) {
	var body DeskAction
	if r.ContentLength != 0 {
		if err := json.NewDecoder(http.MaxBytesReader(w, r.Body, 1<<20)).Decode(&body); err != nil {
			jsonError(w, http.StatusBadRequest, "body: "+err.Error())
			return
		}
	}
	staff := body.Staff
	if staff == "" {
		staff = StaffName(r)
	}
	e, err := h.act(r.Context(), r.PathValue("id"), r.PathValue("action"), staff, body.Text, body.Message)
	switch {
	case errors.Is(err, escalation.ErrNotFound):
		jsonError(w, http.StatusNotFound, err.Error())
	case errors.Is(err, escalation.ErrIllegal):
		jsonError(w, http.StatusConflict, err.Error())
	case errors.Is(err, handoff.ErrEmpty):
		jsonError(w, http.StatusBadRequest, err.Error())
	case errors.Is(err, handoff.ErrNoAction) || errors.Is(err, handoff.ErrNoReply):
		jsonError(w, http.StatusBadRequest, err.Error())
	case err != nil:
		jsonError(w, http.StatusInternalServerError, err.Error())
	default:
		h.s.audit(r.Context(), staff, "handoff "+r.PathValue("action"), e.ID)
		writeJSON(w, http.StatusOK, e)
	}
}
