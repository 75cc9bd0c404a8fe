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

// PublishingPath is the dashboard's page of approved answers and whether
// each is on the public answer pages.
const PublishingPath = "/dashboard/answers"

// Publishing decides which approved answers are public; *solutions.Service
// implements it.
type Publishing interface {
	Approved(ctx context.Context) ([]solved.Candidate, error)
	SetRewritten(ctx context.Context, id string, rewritten bool) (solved.Candidate, error)
	Unpublish(ctx context.Context, id string) (solved.Candidate, error)
	AskConsent(ctx context.Context, id string) (solved.Candidate, error)
}

// AddPublishing adds the "Public answers" page: every approved answer with
// the asker's consent, a link to its public page when it has one, and its
// actions — ask the asker (when nobody has yet), publish as rewritten by staff (no consent needed: tick it only
// when the answer is in the team's own words; not offered once the asker
// declined or withdrew) and unpublish. Each goes to
// the audit log. Call it before Run.
func (s *Server) AddPublishing(p Publishing) {
	s.publishing = true
	s.AddPage(Page{Path: PublishingPath, Title: "Public answers", Handler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		list, err := p.Approved(r.Context())
		if err != nil {
			s.log.Error("web: public answers page", "err", err)
			http.Error(w, "reading the answers failed", http.StatusInternalServerError)
			return
		}
		type row struct {
			solved.Candidate
			Slug string
		}
		slugs := publicSlugs(r.Context(), p)
		rows := make([]row, 0, len(list))
		for _, c := range list {
			rows = append(rows, row{c, slugs[c.ID]})
		}
		lang := requestLang(r)
		data := map[string]any{"Rows": rows, "CSRF": s.CSRFToken(w, r), "Done": r.URL.Query().Get("done"), "Failed": r.URL.Query().Get("failed") != ""}
		var buf bytes.Buffer
		if err := pageTmpl(publishingTmpl, lang).Execute(&buf, data); err != nil {
			s.log.Error("web: public answers page", "err", err)
			http.Error(w, "rendering the page failed", http.StatusInternalServerError)
			return
		}
		s.RenderPage(w, r, tr(lang, "pub_title"), template.HTML(buf.String()))
	})})
	s.AddStaffRoute("POST "+PublishingPath+"/{id}", http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		ctx, id, do := r.Context(), r.PathValue("id"), r.PostFormValue("do")
		var err error
		switch do {
		case "rewritten":
			_, err = p.SetRewritten(ctx, id, true)
		case "unpublish":
			_, err = p.Unpublish(ctx, id)
		case "ask":
			_, err = p.AskConsent(ctx, id)
		default:
			err = errors.New("unknown action")
		}
		if err != nil {
			s.log.Error("web: public answers", "candidate", id, "action", do, "err", err)
			http.Redirect(w, r, PublishingPath+"?failed=1", http.StatusSeeOther)
			return
		}
		s.audit(ctx, StaffName(r), "public answer "+do, id)
		http.Redirect(w, r, PublishingPath+"?done="+url.QueryEscape(do), http.StatusSeeOther)
	}))
}

// publicSlugs are the public pages' slugs by candidate id.
func publicSlugs(ctx context.Context, p Publishing) map[string]string {
	out := map[string]string{}
	if pa, ok := p.(PublicAnswers); ok {
		list, _ := pa.Published(ctx) // without them the page just has no links
		for _, a := range list {
			out[a.ID] = a.Slug
		}
	}
	return out
}

var publishingTmpl = template.Must(template.New("publishing").Funcs(pageFuncs("en")).Parse(`
{{if .Done}}<p class="flash" id="pub-done" role="status">{{t (print "pub_done_" .Done)}}</p>{{end}}
{{if .Failed}}<p class="error" id="pub-failed" role="alert">{{t "pub_failed"}}</p>{{end}}
<p>{{t "pub_intro"}}</p>
{{if .Rows}}<ul class="publishing">
{{range .Rows}}<li id="pub-{{.ID}}" data-public="{{.Public}}"><p class="q" lang="{{.Lang}}">{{.Question}}</p>
<p class="muted small">{{if .Rewritten}}{{t "pub_rewritten"}}{{else if .Consent}}{{t (print "pub_consent_" .Consent)}}{{else}}{{t "pub_not_asked"}}{{end}}{{if .Slug}} · <a href="/answers/{{.Slug}}">{{t "pub_view"}}</a>{{end}}</p>
<form method="post" action="/dashboard/answers/{{.ID}}" class="actions"><input type="hidden" name="csrf" value="{{$.CSRF}}">
{{if and (not .Rewritten) (ne .Consent "declined")}}<button type="submit" name="do" value="rewritten" class="secondary">{{t "pub_do_rewritten"}}</button>{{end}}
{{if and (not .Rewritten) (not .Consent)}}<button type="submit" name="do" value="ask" class="ask">{{t "pub_do_ask"}}</button>{{end}}
{{if .Public}}<button type="submit" name="do" value="unpublish" class="unpublish">{{t "pub_do_unpublish"}}</button>{{end}}
</form></li>
{{end}}</ul>
{{else}}<p id="pub-none">{{t "pub_none"}}</p>{{end}}`))

var publishingDict = dict{
	"en": {"nav:" + PublishingPath: "Public answers", "pub_title": "Public answers", "pub_intro": "Approved answers from solved threads, and whether each is on the public answer pages (/answers/). One from a community thread goes public when the person who asked agreed (the bot asked in the thread on approval). Publish one as rewritten by staff only when its text is in the team's own words: then no consent is needed.",
		"pub_state": "Public page", "pub_actions": "Actions", "pub_rewritten": "Public: rewritten by staff", "pub_not_asked": "Private: not asked",
		"pub_consent_asked": "Private: waiting for the asker", "pub_consent_given": "Public: the asker agreed", "pub_consent_declined": "Private: the asker declined or withdrew",
		"pub_view": "View the page", "pub_do_rewritten": "Publish as rewritten by staff", "pub_do_unpublish": "Unpublish", "pub_do_ask": "Ask the asker in the thread", "pub_done_ask": "Asked in the thread.",
		"pub_none": "No answers are approved yet.", "pub_done_rewritten": "Published as rewritten by staff.", "pub_done_unpublish": "Unpublished.",
		"pub_failed": "That did not work: the answer may be gone."},
	"de": {"nav:" + PublishingPath: "Öffentliche Antworten", "pub_title": "Öffentliche Antworten", "pub_intro": "Freigegebene Antworten aus gelösten Threads und ob sie auf den öffentlichen Antwortseiten (/answers/) stehen. Eine Antwort aus einem Community-Thread wird öffentlich, wenn die fragende Person zugestimmt hat (der Bot hat bei der Freigabe im Thread gefragt). Veröffentliche eine Antwort nur dann als vom Team umgeschrieben, wenn der Text in den eigenen Worten des Teams steht: Dann ist keine Zustimmung nötig.",
		"pub_state": "Öffentliche Seite", "pub_actions": "Aktionen", "pub_rewritten": "Öffentlich: vom Team umgeschrieben", "pub_not_asked": "Privat: nicht gefragt",
		"pub_consent_asked": "Privat: wartet auf die fragende Person", "pub_consent_given": "Öffentlich: die fragende Person hat zugestimmt", "pub_consent_declined": "Privat: abgelehnt oder zurückgezogen",
		"pub_view": "Seite ansehen", "pub_do_rewritten": "Als vom Team umgeschrieben veröffentlichen", "pub_do_unpublish": "Zurückziehen", "pub_do_ask": "Im Thread um Zustimmung bitten", "pub_done_ask": "Im Thread gefragt.",
		"pub_none": "Noch keine Antworten freigegeben.", "pub_done_rewritten": "Als vom Team umgeschrieben veröffentlicht.", "pub_done_unpublish": "Zurückgezogen.",
		"pub_failed": "Das hat nicht geklappt: Die Antwort ist vielleicht weg."},
}

func init() { dicts = append(dicts, publishingDict) }
