package web

import (
	"bytes"
	"context"
	"fmt"
	"html/template"
	"math"
	"net/http"
	"net/url"
	"sort"
	"strconv"
	"time"

	"github.com/einsatz/einsatz/bot"
	"github.com/einsatz/einsatz/bot/escalation"
	"github.com/einsatz/einsatz/bot/kb"
	"github.com/einsatz/einsatz/bot/mood"
	"github.com/einsatz/einsatz/bot/qa"
	"github.com/einsatz/einsatz/handlers/handoff"
	"github.com/einsatz/einsatz/handlers/inbox"
	"github.com/einsatz/einsatz/handlers/support"
)

// OverviewSources are the stores the overview reads; each may be nil (the
// feature is off, or a test leaves it out). Everything on the overview is
// computed from them, so a restart changes none of its numbers.
type OverviewSources struct {
	Desk      Desk
	Inbox     Inbox
	Questions qa.Store
	Mood      mood.Store
	// Names turns ids into names on the dashboard's pages and keeps each
	// account's last visit.
	Names Names
	// Knowledge takes the answers staff write on the gaps page.
	Knowledge interface {
		Add(ctx context.Context, name, title, url, text string) (kb.Doc, error)
	}
	// FollowUp is the support log's follow-up window (support.follow_up),
	// for the resolution rate; default support.DefaultFollowUp.
	FollowUp time.Duration
	Clock    bot.Clock // default the system clock
}

// SetOverview gives the overview (and the names on every page of this
// file's kind) what it reads. Call it before Run.
func (s *Server) SetOverview(o OverviewSources) {
	if o.FollowUp <= 0 {
		o.FollowUp = support.DefaultFollowUp
	}
	s.ov = o
}

func (s *Server) now() time.Time {
	if s.ov.Clock != nil {
		return s.ov.Clock.Now()
	}
	return s.opts.Clock.Now()
}

// visitGap: opening the overview again within it is the same visit.
const visitGap = 30 * time.Minute

// share is a rate with its parts, so the page can say "12 of 15".
type share struct{ Num, Den int }

func (r share) Pct() float64 {
	if r.Den == 0 {
		return math.NaN()
	}
	return 100 * float64(r.Num) / float64(r.Den)
}

// trend is this week's rate against last week's.
type trend struct{ Now, Before share }

// Delta is the change in percentage points; NaN when either week has none.
func (t trend) Delta() float64 { return t.Now.Pct() - t.Before.Pct() }

type ovEscalation struct {
	E   escalation.Escalation
	SLA handoff.SLAState
}

type ovAlert struct {
	Channel mood.Channel
	At      time.Time
}

// overview is what needs doing, from stored data.
type overview struct {
	Now         time.Time
	Unclaimed   []ovEscalation // open, nobody claimed them, oldest first
	OpenClaimed int            // claimed or answered, still open
	Overdue     int            // unclaimed with the SLA breached
	HasDesk     bool

	Since    time.Time // the viewer's previous visit (zero: first visit, the last 7 days)
	NewItems int       // inbox items created since then
	Items    []ovItem  // the newest of them
	HasInbox bool

	Unanswered []qa.Question // "I don't know" today (UTC), newest first
	HasSupport bool

	Alerts   []ovAlert // negative-spike alerts in the last 24 hours
	HasMood  bool
	Answer   trend // answered / questions, last 7 days vs the 7 before
	Resolved trend // rated helpful / answered and settled
}

type ovItem struct {
	ID      int
	Title   string
	Created time.Time
}

// computeOverview reads the overview at now for a viewer whose previous
// visit was since.
func computeOverview(ctx context.Context, src OverviewSources, now, since time.Time) (overview, error) {
	ov := overview{Now: now, Since: since}
	if src.Desk != nil {
		ov.HasDesk = true
		open, err := src.Desk.Queue(ctx, handoff.Filter{State: "open"})
		if err != nil {
			return ov, fmt.Errorf("overview: escalations: %w", err)
		}
		for _, e := range open {
			if e.Status != escalation.StatusOpen {
				ov.OpenClaimed++
				continue
			}
			sla := src.Desk.SLAOf(e, now)
			if sla.Breached || sla.Left < 0 {
				ov.Overdue++
			}
			ov.Unclaimed = append(ov.Unclaimed, ovEscalation{e, sla})
		}
		sort.SliceStable(ov.Unclaimed, func(i, j int) bool { return ov.Unclaimed[i].E.Created.Before(ov.Unclaimed[j].E.Created) })
	}
	if src.Inbox != nil {
		ov.HasInbox = true
		from := since
		if from.IsZero() {
			from = now.AddDate(0, 0, -7)
		}
		items, err := src.Inbox.List(ctx, inbox.Filter{Since: from, Sort: inbox.SortNewest})
		if err != nil {
			return ov, fmt.Errorf("overview: inbox: %w", err)
		}
		ov.NewItems = len(items)
		for i, it := range items {
			if i == 5 {
				break
			}
			ov.Items = append(ov.Items, ovItem{it.ID, it.Title, it.Created})
		}
	}
	if src.Questions != nil {
		ov.HasSupport = true
		window := src.FollowUp
		if window <= 0 {
			window = support.DefaultFollowUp
		}
		// Two weeks, and the follow-up window before them: a question's
		// follow-ups decide its resolution.
		qs, err := src.Questions.Questions(ctx, now.AddDate(0, 0, -14).Add(-window), now.Add(time.Second))
		if err != nil {
			return ov, fmt.Errorf("overview: questions: %w", err)
		}
		today := time.Date(now.UTC().Year(), now.UTC().Month(), now.UTC().Day(), 0, 0, 0, 0, time.UTC)
		weekAgo, twoWeeksAgo := now.AddDate(0, 0, -7), now.AddDate(0, 0, -14)
		for _, q := range qs {
			if !support.Asked(q) {
				continue
			}
			if q.Outcome == qa.OutcomeDontKnow && !q.Time.Before(today) {
				ov.Unanswered = append([]qa.Question{q}, ov.Unanswered...)
			}
			var answer, resolved *share
			switch {
			case !q.Time.Before(weekAgo):
				answer, resolved = &ov.Answer.Now, &ov.Resolved.Now
			case !q.Time.Before(twoWeeksAgo):
				answer, resolved = &ov.Answer.Before, &ov.Resolved.Before
			default:
				continue
			}
			answer.Den++
			if !q.Answered() {
				continue
			}
			answer.Num++
			switch support.Resolution(q, qs, window, now) {
			case "pending":
			case "vote":
				resolved.Num++
				resolved.Den++
			default:
				resolved.Den++
			}
		}
	}
	if src.Mood != nil {
		ov.HasMood = true
		chans, err := src.Mood.Channels(ctx)
		if err != nil {
			return ov, fmt.Errorf("overview: sentiment channels: %w", err)
		}
		for _, ch := range chans {
			at, err := src.Mood.LastAlert(ctx, ch)
			if err != nil {
				return ov, fmt.Errorf("overview: sentiment alerts: %w", err)
			}
			if !at.IsZero() && now.Sub(at) < 24*time.Hour {
				ov.Alerts = append(ov.Alerts, ovAlert{ch, at})
			}
		}
		sort.Slice(ov.Alerts, func(i, j int) bool { return ov.Alerts[i].At.After(ov.Alerts[j].At) })
	}
	return ov, nil
}

func (s *Server) dashboard(w http.ResponseWriter, r *http.Request) {
	ctx := r.Context()
	lang := pageLang(r.Header.Get("Accept-Language"))
	now := s.now()
	var since time.Time
	if s.ov.Names != nil {
		var err error
		if since, err = s.ov.Names.Visit(ctx, StaffName(r), now, visitGap); err != nil {
			s.log.Error("web: overview visit", "err", err)
		}
	}
	ov, err := computeOverview(ctx, s.ov, now, since)
	if err != nil {
		s.log.Error("web: overview", "err", err)
		http.Error(w, "reading the overview failed", http.StatusInternalServerError)
		return
	}
	st := s.opts.Core.Stats()
	type reason struct {
		Name  string
		Count int64
	}
	var dropped []reason
	for k, v := range st.Dropped {
		dropped = append(dropped, reason{k, v})
	}
	sort.Slice(dropped, func(i, j int) bool { return dropped[i].Name < dropped[j].Name })
	audit, err := s.opts.Store.Audit(ctx)
	if err != nil {
		s.log.Error("web: audit log", "err", err)
	}
	if len(audit) > 10 {
		audit = audit[len(audit)-10:]
	}
	for i, j := 0, len(audit)-1; i < j; i, j = i+1, j-1 {
		audit[i], audit[j] = audit[j], audit[i]
	}
	var status []string
	if s.opts.Status != nil {
		status = s.opts.Status()
	}
	data := map[string]any{"O": ov, "N": s.book(ctx, lang), "Stats": st, "Dropped": dropped, "Audit": audit, "Status": status}
	var buf bytes.Buffer
	if err := pageTmpl(overviewTmpl, lang).Execute(&buf, data); err != nil {
		s.log.Error("web: overview", "err", err)
		http.Error(w, "rendering the overview failed", http.StatusInternalServerError)
		return
	}
	s.RenderPage(w, r, tr(lang, "ov_title"), template.HTML(buf.String()))
}

// pageTmpl is tmpl with the words of lang and the helpers of this file's
// pages.
func pageTmpl(tmpl *template.Template, lang string) *template.Template {
	return template.Must(tmpl.Clone()).Funcs(pageFuncs(lang))
}

func pageFuncs(lang string) template.FuncMap {
	return template.FuncMap{
		"t": func(k string) string { return tr(lang, k) },
		"tf": func(k string, args ...any) string {
			return fmt.Sprintf(tr(lang, k), args...)
		},
		"when": func(t time.Time) string { return t.UTC().Format("2006-01-02 15:04") },
		"ago": func(now, t time.Time) string {
			d := now.Sub(t)
			switch {
			case d < time.Minute:
				return tr(lang, "ov_just_now")
			case d < time.Hour:
				return fmt.Sprintf(tr(lang, "ov_min_ago"), int(d/time.Minute))
			case d < 48*time.Hour:
				return fmt.Sprintf(tr(lang, "ov_h_ago"), int(d/time.Hour))
			}
			return fmt.Sprintf(tr(lang, "ov_d_ago"), int(d/(24*time.Hour)))
		},
		"pct": func(r share) string {
			if r.Den == 0 {
				return "–"
			}
			return strconv.FormatFloat(r.Pct(), 'f', 0, 64) + " %"
		},
		"delta": func(t trend) string {
			d := t.Delta()
			switch {
			case math.IsNaN(d):
				return tr(lang, "ov_no_trend")
			case math.Round(d) == 0:
				return "± 0 " + tr(lang, "ov_points")
			case d > 0:
				return "▲ +" + strconv.FormatFloat(math.Round(d), 'f', 0, 64) + " " + tr(lang, "ov_points")
			}
			return "▼ " + strconv.FormatFloat(math.Round(d), 'f', 0, 64) + " " + tr(lang, "ov_points")
		},
		"trendClass": func(t trend) string {
			d := t.Delta()
			switch {
			case math.IsNaN(d) || math.Round(d) == 0:
				return "flat"
			case d > 0:
				return "up"
			}
			return "down"
		},
		"sla": func(st handoff.SLAState) string {
			switch {
			case !st.On:
				return tr(lang, "ov_no_sla")
			case st.Breached || st.Left < 0:
				return fmt.Sprintf(tr(lang, "ov_overdue"), shortDur(-st.Left))
			}
			return fmt.Sprintf(tr(lang, "ov_left"), shortDur(st.Left))
		},
		"addf":  func(a, b float64) float64 { return a + b },
		"chanq": func(ch mood.Channel) string { return url.QueryEscape(ch.String()) },
		"excerpt": func(s string) string {
			if r := []rune(s); len(r) > 140 {
				return string(r[:140]) + "…"
			}
			return s
		},
	}
}

// shortDur is a duration in hours and minutes: "1h5m", "50m".
func shortDur(d time.Duration) string {
	d = d.Round(time.Minute)
	if d < time.Hour {
		return strconv.Itoa(int(d/time.Minute)) + "m"
	}
	return fmt.Sprintf("%dh%dm", int(d/time.Hour), int(d%time.Hour/time.Minute))
}

var overviewTmpl = template.Must(template.New("overview").Funcs(pageFuncs("en")).Parse(`
<div class="tiles overview">
{{with .O}}{{if .HasDesk}}<section class="card" id="ov-escalations">
<h2><a href="/dashboard/escalations?state=unclaimed">{{t "ov_esc"}}</a></h2>
<p class="big"><strong id="ov-unclaimed">{{len .Unclaimed}}</strong> {{t "ov_unclaimed"}}{{if .Overdue}} · <span class="warn"><span id="ov-overdue">{{.Overdue}}</span> {{t "ov_overdue_n"}}</span>{{end}}</p>
<p class="muted"><span id="ov-claimed">{{.OpenClaimed}}</span> {{t "ov_claimed_open"}}</p>
{{if .Unclaimed}}<ul class="items">{{range .Unclaimed}}<li><a href="/dashboard/escalations/{{.E.ID}}">{{$.N.Where .E.Thread.Platform .E.Thread.ChannelID}}: {{if .E.User.Name}}{{.E.User.Name}}{{else}}{{$.N.User .E.User.Platform .E.User.ID}}{{end}}</a>
<span class="sla{{if or .SLA.Breached .SLA.Warn (lt .SLA.Left 0)}} warn{{end}}">{{sla .SLA}}</span>{{if .E.Summary}}<br><span class="muted">{{excerpt .E.Summary}}</span>{{end}}</li>
{{end}}</ul>{{else}}<p>{{t "ov_nothing"}}</p>{{end}}
</section>{{end}}
{{if .HasInbox}}<section class="card" id="ov-inbox">
<h2><a href="/dashboard/inbox?sort=newest">{{t "ov_inbox"}}</a></h2>
<p class="big"><strong id="ov-new-items">{{.NewItems}}</strong> {{if .Since.IsZero}}{{t "ov_new_week"}}{{else}}{{tf "ov_new_since" (when .Since)}}{{end}}</p>
{{if .Items}}<ul class="items">{{range .Items}}<li><a href="/dashboard/inbox/{{.ID}}">#{{.ID}} {{.Title}}</a> <span class="muted">{{ago $.O.Now .Created}}</span></li>
{{end}}</ul>{{end}}
</section>{{end}}
{{if .HasSupport}}<section class="card" id="ov-unanswered">
<h2><a href="/dashboard/gaps?since=7d">{{t "ov_unanswered"}}</a></h2>
<p class="big"><strong id="ov-unanswered-n">{{len .Unanswered}}</strong> {{t "ov_unanswered_today"}}</p>
{{if .Unanswered}}<ul class="items">{{range $i, $q := .Unanswered}}{{if lt $i 5}}<li>{{with $.N.ThreadLink $q.Thread $q.Permalink}}<a href="{{.}}">{{excerpt $q.Text}}</a>{{else}}{{excerpt $q.Text}}{{end}} <span class="muted">{{$.N.Where $q.Thread.Platform $q.Thread.ChannelID}}</span></li>{{end}}
{{end}}</ul>{{end}}
</section>
<section class="card" id="ov-rates">
<h2><a href="/dashboard/support?since=30d">{{t "ov_week"}}</a></h2>
<dl class="rates">
<dt>{{t "ov_answer_rate"}}</dt><dd><strong id="ov-answer-rate">{{pct .Answer.Now}}</strong> <span class="muted">({{tf "ov_of" .Answer.Now.Num .Answer.Now.Den}})</span> <span class="trend {{trendClass .Answer}}" id="ov-answer-trend">{{delta .Answer}}</span></dd>
<dt>{{t "ov_resolved_rate"}}</dt><dd><strong id="ov-resolved-rate">{{pct .Resolved.Now}}</strong> <span class="muted">({{tf "ov_of" .Resolved.Now.Num .Resolved.Now.Den}})</span> <span class="trend {{trendClass .Resolved}}" id="ov-resolved-trend">{{delta .Resolved}}</span></dd>
</dl>
<p class="muted small">{{t "ov_rates_note"}}</p>
</section>{{end}}
{{if .HasMood}}<section class="card" id="ov-alerts">
<h2><a href="/dashboard/sentiment">{{t "ov_alerts"}}</a></h2>
<p class="big"><strong id="ov-alerts-n">{{len .Alerts}}</strong> {{t "ov_alerts_24h"}}</p>
{{if .Alerts}}<ul class="items">{{range .Alerts}}<li><a href="/dashboard/sentiment?channel={{chanq .Channel}}&amp;by=hour&amp;days=2">{{$.N.Where .Channel.Platform .Channel.ID}}</a> <span class="muted">{{ago $.O.Now .At}}</span></li>
{{end}}</ul>{{end}}
</section>{{end}}{{end}}
</div>
<details class="system">
<summary>{{t "ov_system"}}</summary>
<ul class="status">{{range .Status}}<li>{{.}}</li>{{end}}</ul>
<h2>{{t "ov_since_start"}}</h2>
<table class="stats">
<tr><th>{{t "ov_received"}}</th><td id="stat-received">{{.Stats.Received}}</td></tr>
<tr><th>{{t "ov_handled"}}</th><td id="stat-handled">{{.Stats.Handled}}</td></tr>
<tr><th>{{t "ov_replies"}}</th><td id="stat-replies">{{.Stats.Replies}}</td></tr>
<tr><th>{{t "ov_queued"}}</th><td>{{.Stats.Queued}}</td></tr>
<tr><th>{{t "ov_spilled"}}</th><td>{{.Stats.Spilled}}</td></tr>
<tr><th>{{t "ov_silenced"}}</th><td>{{.Stats.Silenced}}</td></tr>
<tr><th>{{t "ov_errors"}}</th><td>{{.Stats.Errors}}</td></tr>
{{range .Dropped}}<tr><th>{{t "ov_dropped"}}: {{.Name}}</th><td>{{.Count}}</td></tr>{{end}}
</table>
<h2>{{t "ov_audit"}}</h2>
{{if .Audit}}<ul class="audit">{{range .Audit}}<li><span class="muted">{{when .Time}}</span> {{.Actor}}: {{.Action}} {{.Target}}</li>{{end}}</ul>{{else}}<p>{{t "ov_none"}}</p>{{end}}
</details>`))

var overviewDict = dict{
	"en": {"ov_title": "Overview", "ov_esc": "Escalations waiting", "ov_unclaimed": "open, nobody claimed them", "ov_overdue_n": "overdue",
		"ov_claimed_open": "claimed and still open", "ov_nothing": "Nothing waiting.", "ov_inbox": "Research inbox",
		"ov_new_week": "new requests in the last 7 days", "ov_new_since": "new requests since your last visit (%s UTC)",
		"ov_unanswered": "Unanswered questions", "ov_unanswered_today": "“I don't know” answers today (UTC)",
		"ov_week": "Last 7 days", "ov_answer_rate": "Answer rate", "ov_resolved_rate": "Rated helpful", "ov_of": "%d of %d",
		"ov_rates_note": "Answer rate: questions answered from the knowledge base. Rated helpful: of the answers whose outcome is known (a vote, a follow-up question, or the follow-up window passed in silence), those rated helpful. Trend: percentage points against the 7 days before.",
		"ov_points":     "points", "ov_no_trend": "no trend yet", "ov_alerts": "Sentiment alerts", "ov_alerts_24h": "negative spikes in the last 24 hours",
		"ov_system": "System status and staff actions", "ov_since_start": "Events since this start", "ov_received": "Received",
		"ov_handled": "Handled", "ov_replies": "Replies", "ov_queued": "Waiting in queue", "ov_spilled": "Kept in storage (queue full)",
		"ov_silenced": "Silent (staff own the thread)", "ov_errors": "Errors", "ov_dropped": "Not handled", "ov_audit": "Staff actions",
		"ov_none": "None yet.", "ov_just_now": "just now", "ov_min_ago": "%d min ago", "ov_h_ago": "%d h ago", "ov_d_ago": "%d days ago",
		"ov_no_sla": "no SLA", "ov_overdue": "overdue by %s", "ov_left": "%s left"},
	"de": {"ov_title": "Übersicht", "ov_esc": "Wartende Eskalationen", "ov_unclaimed": "offen, niemand hat sie übernommen", "ov_overdue_n": "überfällig",
		"ov_claimed_open": "übernommen und noch offen", "ov_nothing": "Nichts wartet.", "ov_inbox": "Research-Inbox",
		"ov_new_week": "neue Wünsche in den letzten 7 Tagen", "ov_new_since": "neue Wünsche seit deinem letzten Besuch (%s UTC)",
		"ov_unanswered": "Unbeantwortete Fragen", "ov_unanswered_today": "„Weiß ich nicht“-Antworten heute (UTC)",
		"ov_week": "Letzte 7 Tage", "ov_answer_rate": "Antwortquote", "ov_resolved_rate": "Als hilfreich bewertet", "ov_of": "%d von %d",
		"ov_rates_note": "Antwortquote: Fragen, die aus der Wissensdatenbank beantwortet wurden. Als hilfreich bewertet: von den Antworten mit bekanntem Ausgang (eine Bewertung, eine Nachfrage oder ein stilles Ende der Nachfragefrist) die als hilfreich bewerteten. Trend: Prozentpunkte gegenüber den 7 Tagen davor.",
		"ov_points":     "Punkte", "ov_no_trend": "noch kein Trend", "ov_alerts": "Stimmungs-Warnungen", "ov_alerts_24h": "negative Ausschläge in den letzten 24 Stunden",
		"ov_system": "Systemstatus und Aktionen des Teams", "ov_since_start": "Ereignisse seit diesem Start", "ov_received": "Empfangen",
		"ov_handled": "Bearbeitet", "ov_replies": "Antworten", "ov_queued": "In der Warteschlange", "ov_spilled": "Gespeichert (Warteschlange voll)",
		"ov_silenced": "Still (Team hat den Thread)", "ov_errors": "Fehler", "ov_dropped": "Nicht bearbeitet", "ov_audit": "Aktionen des Teams",
		"ov_none": "Noch keine.", "ov_just_now": "gerade eben", "ov_min_ago": "vor %d Min.", "ov_h_ago": "vor %d Std.", "ov_d_ago": "vor %d Tagen",
		"ov_no_sla": "keine SLA", "ov_overdue": "seit %s überfällig", "ov_left": "noch %s"},
}

func init() { dicts = append(dicts, overviewDict) }
