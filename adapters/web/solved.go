package web

import (
	"bytes"
	"context"
	"errors"
	"html/template"
	"net/http"
	"net/url"

	"github.com/einsatz/einsatz/bot/solved"
)

// SolvedPath is the dashboard's page of solved threads waiting for review.
const SolvedPath = "/dashboard/solved"

// Candidates are the knowledge candidates of solved threads;
// *solutions.Service implements it.
type Candidates interface {
	Pending(ctx context.Context) ([]solved.Candidate, error)
	Edit(ctx context.Context, id, question, answer string) (solved.Candidate, error)
	Approve(ctx context.Context, id string) (solved.Candidate, error)
	Reject(ctx context.Context, id string) error
}

// AddCandidates adds the "Solved threads" page — each candidate's
// question and answer in a form to edit, approve (into the knowledge base)
// or reject — and the admin API the CLI uses: GET /api/admin/kb/candidates,
// POST /api/admin/kb/candidates/{id}/approve and …/reject. Every decision
// goes to the audit log. Call it before Run.
func (s *Server) AddCandidates(c Candidates) {
	fail := func(w http.ResponseWriter, err error) {
		status := http.StatusInternalServerError
		if errors.Is(err, solved.ErrNotExist) {
			status = http.StatusNotFound
		}
		writeJSON(w, status, map[string]string{"error": err.Error()})
	}
	s.AddAdminRoute("GET /api/admin/kb/candidates", http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		list, err := c.Pending(r.Context())
		if err != nil {
			fail(w, err)
			return
		}
		if list == nil {
			list = []solved.Candidate{}
		}
		writeJSON(w, http.StatusOK, list)
	}))
	s.AddAdminRoute("POST /api/admin/kb/candidates/{id}/approve", http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		cand, err := c.Approve(r.Context(), r.PathValue("id"))
		if err != nil {
			fail(w, err)
			return
		}
		s.audit(r.Context(), StaffName(r), "kb candidate approve", cand.ID)
		writeJSON(w, http.StatusOK, cand)
	}))
	s.AddAdminRoute("POST /api/admin/kb/candidates/{id}/reject", http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		id := r.PathValue("id")
		if err := c.Reject(r.Context(), id); err != nil {
			fail(w, err)
			return
		}
		s.audit(r.Context(), StaffName(r), "kb candidate reject", id)
		writeJSON(w, http.StatusOK, map[string]string{"rejected": id})
	}))
	s.AddPage(Page{Path: SolvedPath, Title: "Solved threads", Handler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		list, err := c.Pending(r.Context())
		if err != nil {
			s.log.Error("web: solved threads", "err", err)
			http.Error(w, "reading the candidates failed", http.StatusInternalServerError)
			return
		}
		lang := requestLang(r)
		data := map[string]any{"Candidates": list, "CSRF": s.CSRFToken(w, r), "Done": r.URL.Query().Get("done"), "Failed": r.URL.Query().Get("failed"),
			"Publishing": s.publishing}
		var buf bytes.Buffer
		if err := pageTmpl(solvedTmpl, lang).Execute(&buf, data); err != nil {
			s.log.Error("web: solved threads", "err", err)
			http.Error(w, "rendering the candidates failed", http.StatusInternalServerError)
			return
		}
		s.RenderPage(w, r, tr(lang, "sol_title"), template.HTML(buf.String()))
	})})
	s.AddStaffRoute("POST "+SolvedPath+"/{id}", http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		ctx, id, do := r.Context(), r.PathValue("id"), r.PostFormValue("do")
		var err error
		switch do {
		case "approve", "save":
			_, err = c.Edit(ctx, id, r.PostFormValue("question"), r.PostFormValue("answer"))
			if rw, ok := c.(Publishing); ok && err == nil && r.PostFormValue("rewritten") != "" {
				_, err = rw.SetRewritten(ctx, id, true) // before Approve: no consent question then
			}
			if err == nil && do == "approve" {
				_, err = c.Approve(ctx, id)
			}
		case "reject":
			err = c.Reject(ctx, id)
		default:
			err = errors.New("unknown action")
		}
		if err != nil {
			s.log.Error("web: solved threads", "candidate", id, "action", do, "err", err)
			http.Redirect(w, r, SolvedPath+"?failed="+url.QueryEscape(do), http.StatusSeeOther)
			return
		}
		s.audit(ctx, StaffName(r), "kb candidate "+do, id)
		http.Redirect(w, r, SolvedPath+"?done="+url.QueryEscape(do), http.StatusSeeOther)
	}))
}

var solvedTmpl = template.Must(template.New("solved").Funcs(pageFuncs("en")).Parse(`
{{if .Done}}<p class="flash" id="sol-done" role="status">{{t (print "sol_done_" .Done)}}</p>{{end}}
{{if .Failed}}<p class="error" id="sol-failed" role="alert">{{t "sol_failed"}}</p>{{end}}
<p>{{t "sol_intro"}}</p>
{{range .Candidates}}<section class="candidate" id="cand-{{.ID}}" data-id="{{.ID}}" aria-labelledby="cand-{{.ID}}-h">
<h2 id="cand-{{.ID}}-h">{{.Question}}</h2>
<p class="muted small">{{t (print "sol_by_" .By)}} · {{when .Created}}{{if .Permalink}} · <a href="{{.Permalink}}">{{t "sol_thread"}}</a>{{end}}</p>
<form method="post" action="/dashboard/solved/{{.ID}}">
<input type="hidden" name="csrf" value="{{$.CSRF}}">
<label for="q-{{.ID}}">{{t "sol_q"}}</label><input id="q-{{.ID}}" name="question" value="{{.Question}}" required>
<label for="a-{{.ID}}">{{t "sol_a"}}</label><textarea id="a-{{.ID}}" name="answer" rows="5" required>{{.Answer}}</textarea>
{{if $.Publishing}}<label class="check"><input type="checkbox" name="rewritten" value="1" id="rw-{{.ID}}"{{if .Rewritten}} checked{{end}}> {{t "sol_rewritten"}}</label>{{end}}
<div class="actions"><button type="submit" name="do" value="approve" class="approve">{{t "sol_approve"}}</button>
<button type="submit" name="do" value="save" class="save">{{t "sol_save"}}</button>
<button type="submit" name="do" value="reject" class="reject" formnovalidate>{{t "sol_reject"}}</button></div>
</form></section>
{{else}}<p id="sol-none">{{t "sol_none"}}</p>{{end}}`))

var solvedDict = dict{
	"en": {"sol_title": "Solved threads", "sol_intro": "Threads the asker or the team marked solved (✅ on the solving message, or /solved). Approve one and it goes into the knowledge base, citing the thread: the bot answers the next person from it. Personal data was redacted; check the text before approving.",
		"sol_by_asker": "marked by the asker", "sol_by_staff": "marked by the team", "sol_thread": "thread", "sol_q": "Question", "sol_a": "Answer",
		"sol_approve": "Approve", "sol_save": "Save edits", "sol_reject": "Reject", "sol_none": "No solved threads are waiting for review.",
		"sol_done_approve": "Approved: it is in the knowledge base.", "sol_done_save": "Saved.", "sol_done_reject": "Rejected and removed.",
		"sol_failed":    "That did not work: the candidate may be gone, or the knowledge base is off.",
		"sol_rewritten": "Rewritten by staff in our own words: publish on the public answers page without asking the asker"},
	"de": {"sol_title": "Gelöste Threads", "sol_intro": "Threads, die die fragende Person oder das Team als gelöst markiert hat (✅ an der lösenden Nachricht oder /solved). Freigegeben kommen sie mit Verweis auf den Thread in die Wissensdatenbank: Der Bot beantwortet die nächste Frage daraus. Persönliche Daten wurden entfernt; prüfe den Text vor der Freigabe.",
		"sol_by_asker": "von der fragenden Person markiert", "sol_by_staff": "vom Team markiert", "sol_thread": "Thread", "sol_q": "Frage", "sol_a": "Antwort",
		"sol_approve": "Freigeben", "sol_save": "Änderungen speichern", "sol_reject": "Ablehnen", "sol_none": "Keine gelösten Threads warten auf Prüfung.",
		"sol_done_approve": "Freigegeben: Er steht in der Wissensdatenbank.", "sol_done_save": "Gespeichert.", "sol_done_reject": "Abgelehnt und entfernt.",
		"sol_failed":    "Das hat nicht geklappt: Der Kandidat ist vielleicht weg, oder die Wissensdatenbank ist aus.",
		"sol_rewritten": "Vom Team in eigenen Worten umgeschrieben: ohne Rückfrage auf der öffentlichen Antwortseite veröffentlichen"},
}

func init() { dicts = append(dicts, solvedDict) }
