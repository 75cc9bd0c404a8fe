package web

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"html/template"
	"net/http"
	"net/url"
	"strings"

	"github.com/einsatz/einsatz/bot/qa"
	"github.com/einsatz/einsatz/handlers/support"
)

// GapsPath is the dashboard's knowledge gaps.
const GapsPath = "/dashboard/gaps"

// gapPages are the knowledge gaps: the questions the bot could not answer,
// grouped, each with its threads, and a form that turns a staff answer
// into a knowledge entry (the knowledge base's Add, as /savereply does).
type gapPages struct {
	s        *Server
	store    qa.Store
	settings support.Settings
}

type gapThread struct {
	support.GapThread
	Label string
	Link  template.URL
}

type gapView struct {
	support.Gap
	ID      string // the form's anchor
	Where   []string
	Threads []gapThread
}

func (g gapPages) list(w http.ResponseWriter, r *http.Request) {
	ctx := r.Context()
	lang := pageLang(r.Header.Get("Accept-Language"))
	v := sinceChoice(r)
	since, err := support.ParseSince(v, g.settings.Clock.Now())
	if err != nil {
		http.Error(w, err.Error(), http.StatusBadRequest)
		return
	}
	gaps, err := support.Gaps(ctx, g.store, since, g.settings)
	if err != nil {
		g.s.log.Error("web: gaps", "err", err)
		http.Error(w, "reading the gaps failed", http.StatusInternalServerError)
		return
	}
	names := g.s.book(ctx, lang)
	views := make([]gapView, len(gaps))
	for i, gp := range gaps {
		gv := gapView{Gap: gp, ID: gapID(gp.Example)}
		for _, ch := range gp.Channels {
			platform, id, _ := strings.Cut(ch, "/")
			gv.Where = append(gv.Where, names.Where(platform, id))
		}
		for _, th := range gp.Threads {
			gv.Threads = append(gv.Threads, gapThread{th, names.ThreadLabel(th.Thread), names.ThreadLink(th.Thread, th.Permalink)})
		}
		views[i] = gv
	}
	type choice struct{ Value, Label string }
	var choices []choice
	for _, c := range sinceChoices {
		choices = append(choices, choice{c.Value, tr(lang, "gap_since_"+c.Value)})
	}
	data := map[string]any{"Gaps": views, "Since": v, "Choices": choices, "CSRF": g.s.csrfToken(w, r), "CanAnswer": g.s.ov.Knowledge != nil,
		"Saved": r.URL.Query().Get("saved"), "Failed": r.URL.Query().Get("failed")}
	var buf bytes.Buffer
	if err := pageTmpl(gapsTmpl, lang).Execute(&buf, data); err != nil {
		g.s.log.Error("web: gaps", "err", err)
		http.Error(w, "rendering the gaps failed", http.StatusInternalServerError)
		return
	}
	g.s.RenderPage(w, r, tr(lang, "gap_title"), template.HTML(buf.String()))
}

// gapID names a gap's form by its example question, stable across loads.
func gapID(example string) string {
	sum := sha256.Sum256([]byte(strings.ToLower(strings.Join(strings.Fields(example), " "))))
	return hex.EncodeToString(sum[:6])
}

// answer saves a staff answer to a gap as a knowledge entry, in the shape
// /savereply gives a saved thread reply: the question as the heading, the
// answer below; searchable at once.
func (g gapPages) answer(w http.ResponseWriter, r *http.Request) {
	kb := g.s.ov.Knowledge
	question := strings.Join(strings.Fields(r.PostFormValue("question")), " ")
	text := strings.TrimSpace(r.PostFormValue("text"))
	back := GapsPath + "?since=" + url.QueryEscape(r.PostFormValue("since"))
	if kb == nil || question == "" || text == "" {
		http.Redirect(w, r, back+"&failed=1", http.StatusSeeOther)
		return
	}
	title := question
	if rs := []rune(title); len(rs) > 80 {
		title = string(rs[:80]) + "…"
	}
	name := "gap-answer-" + gapID(question)
	doc, err := kb.Add(r.Context(), name, title, "", "## "+question+"\n\n"+text+"\n")
	if err != nil {
		g.s.log.Error("web: gaps: save answer", "err", err)
		http.Redirect(w, r, back+"&failed=1", http.StatusSeeOther)
		return
	}
	g.s.audit(r.Context(), StaffName(r), "kb add", doc.Source)
	http.Redirect(w, r, back+"&saved="+url.QueryEscape(title), http.StatusSeeOther)
}

var gapsTmpl = template.Must(template.New("gaps").Funcs(pageFuncs("en")).Funcs(template.FuncMap{"reasons": support.Reasons}).Parse(`
{{if .Saved}}<p class="flash" id="gap-saved" role="status">{{tf "gap_saved" .Saved}}</p>{{end}}
{{if .Failed}}<p class="error" role="alert">{{t "gap_failed"}}</p>{{end}}
<form class="filter" method="get">
<label for="since">{{t "gap_since"}}</label>
<select id="since" name="since">{{range .Choices}}<option value="{{.Value}}"{{if eq .Value $.Since}} selected{{end}}>{{.Label}}</option>{{end}}</select>
<button type="submit">{{t "se_show"}}</button>
</form>
<p class="summary">{{t "gap_intro"}} <strong id="gap-count">{{len .Gaps}}</strong> {{t "gap_groups"}}</p>
{{if .Gaps}}<table class="gaps">
<tr><th>{{t "gap_count"}}</th><th>{{t "gap_question"}}</th><th>{{t "gap_threads"}}</th></tr>
{{range .Gaps}}<tr class="gap" data-count="{{.Count}}" id="gap-{{.ID}}"><td class="count">{{.Count}}</td>
<td><div class="example">{{.Example}}</div>
{{range $i, $q := .Questions}}{{if $i}}<div class="similar muted">“{{$q}}”</div>{{end}}{{end}}
<div class="muted small">{{reasons .Reasons}} · {{range $i, $w := .Where}}{{if $i}}, {{end}}{{$w}}{{end}} · {{t "gap_last"}} {{when .Last}}</div>
{{if $.CanAnswer}}<details class="answer"><summary>{{t "gap_write"}}</summary>
<form method="post" action="/dashboard/gaps/answer">
<input type="hidden" name="csrf" value="{{$.CSRF}}"><input type="hidden" name="since" value="{{$.Since}}">
<label>{{t "gap_q"}} <input name="question" value="{{.Example}}" required></label>
<label>{{t "gap_a"}} <textarea name="text" rows="5" required></textarea></label>
<button type="submit">{{t "gap_save"}}</button> <span class="muted small">{{t "gap_save_hint"}}</span>
</form></details>{{end}}</td>
<td class="threads"><ul>{{range .Threads}}<li>{{if .Link}}<a href="{{.Link}}">{{.Label}}</a>{{else}}{{.Label}}{{end}}{{if .FollowUp}} <span class="tag">{{t "gap_followup"}}</span>{{end}}<br><span class="muted small">{{when .Time}}</span></li>{{end}}</ul></td></tr>
{{end}}</table>{{else}}<p>{{t "gap_none"}}</p>{{end}}
<p class="muted">{{t "gap_how"}}</p>`))

var gapsDict = dict{
	"en": {"gap_title": "Knowledge gaps", "gap_since": "Since", "gap_since_7d": "7 days", "gap_since_30d": "30 days", "gap_since_12w": "12 weeks",
		"gap_since_52w": "a year", "gap_intro": "Questions the bot could not answer — it did not know, the answer was rated not helpful, or staff discarded its draft — grouped by similarity, most frequent first. Thanks, feature requests and small talk are not listed:",
		"gap_groups": "groups.", "gap_count": "Asked", "gap_question": "Question", "gap_threads": "Where it was asked", "gap_last": "last",
		"gap_write": "Write an answer", "gap_q": "Question", "gap_a": "Answer", "gap_save": "Save to the knowledge base",
		"gap_save_hint": "The bot answers from it right away.", "gap_followup": "follow-up", "gap_none": "No gaps in this period.",
		"gap_saved": "Saved to the knowledge base: “%s”.", "gap_failed": "The answer was not saved: question and answer are needed, and the knowledge base must be on.",
		"gap_how": "You can also answer in the thread and save the reply with /savereply or a 📌 reaction."},
	"de": {"gap_title": "Wissenslücken", "gap_since": "Seit", "gap_since_7d": "7 Tagen", "gap_since_30d": "30 Tagen", "gap_since_12w": "12 Wochen",
		"gap_since_52w": "einem Jahr", "gap_intro": "Fragen, die der Bot nicht beantworten konnte – er wusste es nicht, die Antwort wurde als nicht hilfreich bewertet oder das Team hat seinen Entwurf verworfen –, nach Ähnlichkeit gruppiert, häufigste zuerst. Danksagungen, Feature-Wünsche und Smalltalk stehen nicht hier:",
		"gap_groups": "Gruppen.", "gap_count": "Gefragt", "gap_question": "Frage", "gap_threads": "Wo gefragt", "gap_last": "zuletzt",
		"gap_write": "Antwort schreiben", "gap_q": "Frage", "gap_a": "Antwort", "gap_save": "In der Wissensdatenbank speichern",
		"gap_save_hint": "Der Bot antwortet sofort daraus.", "gap_followup": "Nachfrage", "gap_none": "Keine Lücken in diesem Zeitraum.",
		"gap_saved": "In der Wissensdatenbank gespeichert: „%s“.", "gap_failed": "Die Antwort wurde nicht gespeichert: Frage und Antwort sind nötig, und die Wissensdatenbank muss an sein.",
		"gap_how": "Du kannst auch im Thread antworten und die Antwort mit /savereply oder einer 📌-Reaktion speichern."},
}

func init() { dicts = append(dicts, gapsDict) }
