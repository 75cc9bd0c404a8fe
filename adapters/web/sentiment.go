package web

import (
	"bytes"
	"fmt"
	"html/template"
	"math"
	"net/http"
	"net/url"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/einsatz/einsatz/bot"
	"github.com/einsatz/einsatz/bot/mood"
	"github.com/einsatz/einsatz/handlers/monitor"
)

// AddSentiment adds the sentiment monitor: the dashboard page (a chart per
// channel over time and the most negative recent threads, with a channel
// filter) and GET /api/admin/sentiment/report?channel=&by=&since= (since
// as RFC 3339 or a duration back from now, such as 72h). clock nil: the
// system clock. Call it before Run.
func (s *Server) AddSentiment(store mood.Store, clock bot.Clock) {
	if clock == nil {
		clock = bot.SystemClock{}
	}
	s.AddAdminRoute("GET /api/admin/sentiment/report", http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		q := r.URL.Query()
		now := clock.Now()
		since, err := monitor.ParseSince(q.Get("since"), now)
		if err == nil {
			var series []monitor.Series
			series, err = monitor.Report(r.Context(), store, q.Get("channel"), q.Get("by"), since, now.Add(time.Hour))
			if err == nil {
				writeJSON(w, http.StatusOK, series)
				return
			}
		}
		writeJSON(w, http.StatusBadRequest, map[string]string{"error": err.Error()})
	}))
	p := sentimentPages{s: s, store: store, clock: clock}
	s.AddPage(Page{Path: SentimentPath, Title: "Sentiment", Handler: http.HandlerFunc(p.page)})
	s.AddStaffRoute("GET "+SentimentPath+"/messages", http.HandlerFunc(p.messages))
}

// SentimentPath is the dashboard's sentiment page.
const SentimentPath = "/dashboard/sentiment"

// Week is the granularity of weekly charts: day aggregates summed per
// ISO week (Monday, UTC).
const Week = "week"

type sentimentPages struct {
	s     *Server
	store mood.Store
	clock bot.Clock
}

// sentimentRange reads by (hour, day, week) and days from the query, with
// defaults and bounds that suit each granularity.
func sentimentRange(q url.Values) (by string, days int) {
	by = q.Get("by")
	def, most := 30, 90
	switch by {
	case mood.Hour:
		def, most = 2, 14
	case Week:
		def, most = 182, 365
	default:
		by = mood.Day
	}
	days, err := strconv.Atoi(q.Get("days"))
	if err != nil || days < 1 {
		days = def
	}
	return by, min(days, most)
}

// slotStart is the start of the hour, day or ISO week (UTC) holding t.
func slotStart(by string, t time.Time) time.Time {
	if by != Week {
		return mood.BucketStart(by, t)
	}
	d := mood.BucketStart(mood.Day, t)
	back := (int(d.Weekday()) + 6) % 7 // days since Monday
	return d.AddDate(0, 0, -back)
}

func nextSlot(by string, t time.Time) time.Time {
	switch by {
	case mood.Hour:
		return t.Add(time.Hour)
	case Week:
		return t.AddDate(0, 0, 7)
	}
	return t.AddDate(0, 0, 1)
}

// slots lays a channel's buckets on the time axis from since to now: one
// slot per hour, day or week, empty where nothing was scored.
func slots(by string, buckets []mood.Bucket, since, now time.Time) []mood.Bucket {
	var out []mood.Bucket
	at := map[time.Time]int{}
	for t := slotStart(by, since); !t.After(now); t = nextSlot(by, t) {
		at[t] = len(out)
		out = append(out, mood.Bucket{Start: t})
	}
	for _, b := range buckets {
		i, ok := at[slotStart(by, b.Start)]
		if !ok {
			continue
		}
		o := &out[i]
		o.N += b.N
		o.Pos += b.Pos
		o.Neu += b.Neu
		o.Neg += b.Neg
		o.Sum += b.Sum
	}
	return out
}

// The chart's frame: the share panel on top, the volume panel below,
// labels left and under both.
const (
	svgW, svgH       = 760, 250
	plotL, plotR     = 46, 750
	shareT, shareB   = 10, 120
	volT, volB       = 142, 212
	axisY            = 232
	maxTicks         = 8
	shareHeight      = shareB - shareT
	volHeight        = volB - volT
	plotWidth        = plotR - plotL
	columnFill       = 0.8 // share of a slot a column takes
	chartDateEN      = "Jan 2"
	chartDateDE      = "2.1."
	chartHourFormat  = "15:00"
	messagesDayLimit = 500
)

type svgRect struct{ X, Y, W, H float64 }

type chartSlot struct {
	B                mood.Bucket
	Link             string
	Pos, Neu, Neg    svgRect // stacked shares
	X, VolY          float64 // the volume point
	Label            string  // tooltip
	Empty            bool
	PosP, NeuP, NegP string
}

type chartTick struct {
	X, Y1, Y2, LY float64 // the tick mark from Y1 to Y2, its label at LY
	Label         string
}

// sentimentChart is one channel's shares and volume over time.
type sentimentChart struct {
	Channel  mood.Channel
	Name     string
	Slots    []chartSlot
	Lines    []string // volume polylines, broken at empty slots
	Ticks    []chartTick
	MaxN     int
	Total    mood.Bucket
	Empty    int // slots without messages
	W, H     int
	Geometry map[string]float64
}

func pctOf(n, total int) string {
	if total == 0 {
		return "0%"
	}
	return strconv.Itoa(int(math.Round(100*float64(n)/float64(total)))) + "%"
}

func buildChart(ch mood.Channel, name, by, lang string, slotsIn []mood.Bucket) sentimentChart {
	c := sentimentChart{Channel: ch, Name: name, W: svgW, H: svgH, Geometry: map[string]float64{
		"L": plotL, "R": plotR, "ST": shareT, "SB": shareB, "SM": (shareT + shareB) / 2, "VT": volT, "VB": volB, "AY": axisY}}
	n := len(slotsIn)
	if n == 0 {
		return c
	}
	for _, b := range slotsIn {
		c.MaxN = max(c.MaxN, b.N)
		c.Total.N += b.N
		c.Total.Pos += b.Pos
		c.Total.Neu += b.Neu
		c.Total.Neg += b.Neg
		c.Total.Sum += b.Sum
	}
	slotW := float64(plotWidth) / float64(n)
	colW := math.Max(1, slotW*columnFill)
	var line []string
	flush := func() {
		if len(line) > 0 {
			c.Lines = append(c.Lines, strings.Join(line, " "))
			line = nil
		}
	}
	for i, b := range slotsIn {
		x0 := plotL + float64(i)*slotW + (slotW-colW)/2
		cs := chartSlot{B: b, X: plotL + (float64(i)+0.5)*slotW, Empty: b.N == 0}
		when := slotLabel(by, lang, b.Start, true)
		if b.N == 0 {
			c.Empty++
			flush()
			cs.Label = when + ": " + tr(lang, "se_no_messages")
			c.Slots = append(c.Slots, cs)
			continue
		}
		y := float64(shareT)
		for _, part := range []struct {
			n   int
			dst *svgRect
		}{{b.Neg, &cs.Neg}, {b.Neu, &cs.Neu}, {b.Pos, &cs.Pos}} {
			h := float64(shareHeight) * float64(part.n) / float64(b.N)
			*part.dst = svgRect{x0, y, colW, h}
			y += h
		}
		cs.VolY = volB - float64(volHeight)*float64(b.N)/float64(max(c.MaxN, 1))
		line = append(line, fmt.Sprintf("%.1f,%.1f", cs.X, cs.VolY))
		cs.PosP, cs.NeuP, cs.NegP = pctOf(b.Pos, b.N), pctOf(b.Neu, b.N), pctOf(b.Neg, b.N)
		cs.Label = fmt.Sprintf(tr(lang, "se_tip"), when, b.N, cs.PosP, cs.NeuP, cs.NegP)
		cs.Link = SentimentPath + "/messages?" + url.Values{"channel": {ch.String()}, "by": {by},
			"from": {b.Start.UTC().Format(time.RFC3339)}}.Encode()
		c.Slots = append(c.Slots, cs)
	}
	flush()
	// Ticks: at most maxTicks, on steps that read well (every 6 hours,
	// every week, …), each labelled with the slot's start.
	steps := map[string][]int{mood.Hour: {1, 2, 3, 6, 12, 24, 48, 72, 168}, mood.Day: {1, 2, 7, 14, 28, 56}, Week: {1, 2, 4, 8, 13, 26, 52}}[by]
	step := steps[len(steps)-1]
	for _, s := range steps {
		if n/s <= maxTicks {
			step = s
			break
		}
	}
	for i, b := range slotsIn {
		if aligned(by, b.Start, step) {
			c.Ticks = append(c.Ticks, chartTick{X: plotL + (float64(i)+0.5)*slotW, Y1: volB, Y2: volB + 4, LY: axisY, Label: slotLabel(by, lang, b.Start, false)})
		}
	}
	return c
}

// aligned reports whether a slot starts on a tick of step slots: hours on
// multiples of step hours of the day, days and weeks counted from the
// Unix epoch's Monday so ticks do not move as time passes.
func aligned(by string, t time.Time, step int) bool {
	switch by {
	case mood.Hour:
		if step >= 24 {
			return t.Hour() == 0 && (t.Unix()/86400)%int64(step/24) == 0
		}
		return t.Hour()%step == 0
	case Week:
		return ((t.Unix()/86400+3)/7)%int64(step) == 0
	}
	return ((t.Unix()/86400)+3)%int64(step) == 0
}

// slotLabel names a slot: "Dec 7" (days, weeks), "15:00" or, at
// midnight, the date (hours); long adds the hour and the week.
func slotLabel(by, lang string, t time.Time, long bool) string {
	date := chartDateEN
	if lang == "de" {
		date = chartDateDE
	}
	t = t.UTC()
	switch by {
	case mood.Hour:
		if long {
			return t.Format(date + " " + chartHourFormat)
		}
		if t.Hour() == 0 {
			return t.Format(date)
		}
		return t.Format(chartHourFormat)
	case Week:
		_, w := t.ISOWeek()
		if long {
			return fmt.Sprintf(tr(lang, "se_week_of"), w, t.Format(date))
		}
		return t.Format(date)
	}
	return t.Format(date)
}

// comparison is one channel's totals over the shown time.
type comparison struct {
	Channel          mood.Channel
	Name             string
	Total            mood.Bucket
	PosW, NeuW, NegW float64 // widths of the 120-wide share bar
	PosP, NeuP, NegP string
}

func (p sentimentPages) page(w http.ResponseWriter, r *http.Request) {
	ctx := r.Context()
	lang := pageLang(r.Header.Get("Accept-Language"))
	q := r.URL.Query()
	by, days := sentimentRange(q)
	selected := q.Get("channel")
	now := p.clock.Now()
	read := by
	if by == Week {
		read = mood.Day
	}
	ov, err := monitor.Dashboard(ctx, p.store, now, selected, read, days)
	if err != nil {
		p.s.log.Error("web: sentiment", "err", err)
		http.Error(w, "reading the sentiment failed", http.StatusInternalServerError)
		return
	}
	names := p.s.book(ctx, lang)
	since := now.AddDate(0, 0, -days)
	var charts []sentimentChart
	var compare []comparison
	for _, series := range ov.Series {
		name := names.Where(series.Channel.Platform, series.Channel.ID)
		c := buildChart(series.Channel, name, by, lang, slots(by, series.Buckets, since, now))
		charts = append(charts, c)
		t := c.Total
		cmp := comparison{Channel: series.Channel, Name: name, Total: t, PosP: pctOf(t.Pos, t.N), NeuP: pctOf(t.Neu, t.N), NegP: pctOf(t.Neg, t.N)}
		if t.N > 0 {
			cmp.PosW, cmp.NeuW, cmp.NegW = 120*float64(t.Pos)/float64(t.N), 120*float64(t.Neu)/float64(t.N), 120*float64(t.Neg)/float64(t.N)
		}
		compare = append(compare, cmp)
	}
	sort.SliceStable(compare, func(i, j int) bool { return compare[i].Total.N > compare[j].Total.N })
	type option struct{ Value, Label string }
	var channels []option
	for _, ch := range ov.Channels {
		channels = append(channels, option{ch.String(), names.Where(ch.Platform, ch.ID)})
	}
	type worst struct {
		monitor.ThreadSummary
		Name string
		Link template.URL
	}
	var worstList []worst
	for _, t := range ov.Worst {
		ref := bot.ThreadRef{Platform: t.Channel.Platform, ChannelID: t.Channel.ID, ThreadID: t.Thread}
		worstList = append(worstList, worst{t, names.ThreadLabel(ref), names.ThreadLink(ref, t.Permalink)})
	}
	data := map[string]any{"Channels": channels, "Selected": selected, "By": by, "Days": days, "Charts": charts,
		"Compare": compare, "Worst": worstList}
	var buf bytes.Buffer
	if err := pageTmpl(sentimentTmpl, lang).Execute(&buf, data); err != nil {
		p.s.log.Error("web: sentiment", "err", err)
		http.Error(w, "rendering the sentiment failed", http.StatusInternalServerError)
		return
	}
	p.s.RenderPage(w, r, tr(lang, "se_title"), template.HTML(buf.String()))
}

// messages lists the scored messages of one chart slot, as far as
// retention (storage.sentiment_ttl) still keeps them; only negative
// messages were stored with an excerpt.
func (p sentimentPages) messages(w http.ResponseWriter, r *http.Request) {
	ctx := r.Context()
	lang := pageLang(r.Header.Get("Accept-Language"))
	q := r.URL.Query()
	by, _ := sentimentRange(q)
	from, err := time.Parse(time.RFC3339, q.Get("from"))
	platform, id, ok := strings.Cut(q.Get("channel"), "/")
	if err != nil || !ok {
		http.Error(w, "channel (platform/id) and from (RFC 3339) are required", http.StatusBadRequest)
		return
	}
	ch := mood.Channel{Platform: platform, ID: id}
	from = slotStart(by, from)
	until := nextSlot(by, from)
	rows, err := p.store.Rows(ctx, ch, from, until)
	if err != nil {
		p.s.log.Error("web: sentiment messages", "err", err)
		http.Error(w, "reading the messages failed", http.StatusInternalServerError)
		return
	}
	read := by
	if by == Week {
		read = mood.Day
	}
	buckets, err := p.store.Buckets(ctx, read, ch, from, until)
	if err != nil {
		p.s.log.Error("web: sentiment messages", "err", err)
		http.Error(w, "reading the messages failed", http.StatusInternalServerError)
		return
	}
	counted := 0
	for _, b := range buckets {
		counted += b.N
	}
	names := p.s.book(ctx, lang)
	type message struct {
		mood.Row
		Author string
		Thread string
		Link   template.URL
	}
	var list []message
	for i := len(rows) - 1; i >= 0 && len(list) < messagesDayLimit; i-- {
		row := rows[i]
		ref := bot.ThreadRef{Platform: platform, ChannelID: id, ThreadID: row.Thread}
		list = append(list, message{row, names.User(platform, row.User), names.ThreadLabel(ref), names.ThreadLink(ref, row.Permalink)})
	}
	data := map[string]any{"Name": names.Where(platform, id), "When": slotLabel(by, lang, from, true), "Rows": list,
		"Counted": counted, "Kept": len(rows), "Back": SentimentPath + "?" + url.Values{"channel": {ch.String()}, "by": {by}}.Encode()}
	var buf bytes.Buffer
	if err := pageTmpl(sentimentMessagesTmpl, lang).Execute(&buf, data); err != nil {
		p.s.log.Error("web: sentiment messages", "err", err)
		http.Error(w, "rendering the messages failed", http.StatusInternalServerError)
		return
	}
	p.s.RenderPage(w, r, tr(lang, "se_messages_title"), template.HTML(buf.String()))
}

var sentimentTmpl = template.Must(template.New("sentiment").Funcs(pageFuncs("en")).Funcs(template.FuncMap{
	"f1": func(f float64) string { return strconv.FormatFloat(f, 'f', 1, 64) },
	"f2": func(f float64) string { return strconv.FormatFloat(f, 'f', 2, 64) },
}).Parse(`<div class="sentiment">
<form class="filter" method="get" action="/dashboard/sentiment">
<label>{{t "se_channel"}} <select name="channel" id="channel">
<option value="">{{t "se_all"}}</option>
{{range .Channels}}<option value="{{.Value}}"{{if eq $.Selected .Value}} selected{{end}}>{{.Label}}</option>{{end}}
</select></label>
<label>{{t "se_by"}} <select name="by" id="by">
<option value="hour"{{if eq .By "hour"}} selected{{end}}>{{t "se_hours"}}</option>
<option value="day"{{if eq .By "day"}} selected{{end}}>{{t "se_days"}}</option>
<option value="week"{{if eq .By "week"}} selected{{end}}>{{t "se_weeks"}}</option>
</select></label>
<label>{{t "se_range"}} <input name="days" id="days" type="number" min="1" max="365" value="{{.Days}}"></label>
<button type="submit">{{t "se_show"}}</button>
</form>
<p class="legend"><span class="key pos"></span> {{t "se_pos"}} <span class="key neu"></span> {{t "se_neu"}} <span class="key neg"></span> {{t "se_neg"}} <span class="key vol"></span> {{t "se_volume"}} · <span class="muted">{{t "se_click"}}</span></p>
{{if not .Charts}}<p>{{t "se_none"}}</p>{{end}}
{{if gt (len .Compare) 1}}<h2>{{t "se_compare"}}</h2>
<table class="compare">
<tr><th>{{t "se_channel"}}</th><th>{{t "se_messages"}}</th><th>{{t "se_pos"}}</th><th>{{t "se_neu"}}</th><th>{{t "se_neg"}}</th><th>{{t "se_mix"}}</th></tr>
{{range .Compare}}<tr data-channel="{{.Channel}}"><td><a href="/dashboard/sentiment?channel={{chanq .Channel}}&amp;by={{$.By}}&amp;days={{$.Days}}">{{.Name}}</a></td><td class="n">{{.Total.N}}</td><td>{{.PosP}}</td><td>{{.NeuP}}</td><td class="neg-share">{{.NegP}}</td>
<td><svg class="mix" viewBox="0 0 120 12" width="120" height="12" role="img" aria-label="{{.PosP}} {{t "se_pos"}}, {{.NeuP}} {{t "se_neu"}}, {{.NegP}} {{t "se_neg"}}"><rect class="pos" x="0" y="0" width="{{f1 .PosW}}" height="12"/><rect class="neu" x="{{f1 .PosW}}" y="0" width="{{f1 .NeuW}}" height="12"/><rect class="neg" x="{{f1 (addf .PosW .NeuW)}}" y="0" width="{{f1 .NegW}}" height="12"/></svg></td></tr>
{{end}}</table>{{end}}
{{range .Charts}}<section class="chart" data-channel="{{.Channel}}">
<h2>{{.Name}} <small class="muted">{{tf "se_summary" .Total.N .Empty}}</small></h2>
<svg viewBox="0 0 {{.W}} {{.H}}" width="{{.W}}" height="{{.H}}" role="img" aria-label="{{tf "se_aria" .Name}}">
<g class="axis">
<line x1="{{.Geometry.L}}" y1="{{.Geometry.SB}}" x2="{{.Geometry.R}}" y2="{{.Geometry.SB}}"/>
<line x1="{{.Geometry.L}}" y1="{{.Geometry.VB}}" x2="{{.Geometry.R}}" y2="{{.Geometry.VB}}"/>
<line class="grid" x1="{{.Geometry.L}}" y1="{{.Geometry.SM}}" x2="{{.Geometry.R}}" y2="{{.Geometry.SM}}"/>
<text x="{{.Geometry.L}}" y="{{.Geometry.ST}}" dx="-4" dy="8" text-anchor="end">100%</text>
<text x="{{.Geometry.L}}" y="{{.Geometry.SM}}" dx="-4" dy="4" text-anchor="end">50%</text>
<text x="{{.Geometry.L}}" y="{{.Geometry.SB}}" dx="-4" text-anchor="end">0%</text>
<text x="{{.Geometry.L}}" y="{{.Geometry.VT}}" dx="-4" dy="8" text-anchor="end">{{.MaxN}}</text>
<text x="{{.Geometry.L}}" y="{{.Geometry.VB}}" dx="-4" text-anchor="end">0</text>
{{range .Ticks}}<line class="tick" x1="{{f1 .X}}" y1="{{.Y1}}" x2="{{f1 .X}}" y2="{{.Y2}}"/><text x="{{f1 .X}}" y="{{.LY}}" text-anchor="middle">{{.Label}}</text>
{{end}}</g>
{{range .Lines}}<polyline class="volume" points="{{.}}"/>
{{end}}{{range .Slots}}{{if .Empty}}<g class="gap"><title>{{.Label}}</title></g>{{else}}<a class="slot" href="{{.Link}}" data-n="{{.B.N}}" data-start="{{.B.Start.Format "2006-01-02T15:04Z07:00"}}" data-negative="{{.B.Neg}}"><title>{{.Label}}</title>
<rect class="neg" x="{{f1 .Neg.X}}" y="{{f1 .Neg.Y}}" width="{{f1 .Neg.W}}" height="{{f1 .Neg.H}}"/><rect class="neu" x="{{f1 .Neu.X}}" y="{{f1 .Neu.Y}}" width="{{f1 .Neu.W}}" height="{{f1 .Neu.H}}"/><rect class="pos" x="{{f1 .Pos.X}}" y="{{f1 .Pos.Y}}" width="{{f1 .Pos.W}}" height="{{f1 .Pos.H}}"/>
<circle class="point" cx="{{f1 .X}}" cy="{{f1 .VolY}}" r="3.5"/></a>{{end}}
{{end}}</svg>
</section>{{end}}
<h2>{{t "se_worst"}}</h2>
{{if .Worst}}<table class="worst">
<tr><th>{{t "se_thread"}}</th><th>{{t "se_worst_score"}}</th><th>{{t "se_neg"}}</th><th>{{t "se_message"}}</th></tr>
{{range .Worst}}<tr><td>{{if .Link}}<a href="{{.Link}}">{{.Name}}</a>{{else}}{{.Name}}{{end}}</td><td>{{f2 .MinScore}}</td><td>{{tf "ov_of" .Negative .Messages}}</td><td>{{.Excerpt}}</td></tr>
{{end}}</table>{{else}}<p>{{t "ov_none"}}</p>{{end}}
</div>`))

var sentimentMessagesTmpl = template.Must(template.New("sentiment-messages").Funcs(pageFuncs("en")).Parse(`<div class="sentiment">
<p><a href="{{.Back}}">{{t "se_back"}}</a></p>
<h2>{{.Name}} · {{.When}}</h2>
<p class="summary">{{tf "se_kept" .Counted .Kept}}</p>
{{if .Rows}}<ul class="messages" id="messages">{{range .Rows}}<li class="{{.Label}}"><span class="label">{{t (printf "se_%s" .Label)}}</span> <span class="muted">{{when .Time}} · {{.Author}} · {{if .Link}}<a href="{{.Link}}">{{.Thread}}</a>{{else}}{{.Thread}}{{end}}</span>
{{if .Excerpt}}<blockquote>{{.Excerpt}}</blockquote>{{end}}</li>
{{end}}</ul>{{else}}<p>{{t "se_gone"}}</p>{{end}}
</div>`))

var sentimentDict = dict{
	"en": {"se_title": "Sentiment", "se_channel": "Channel", "se_all": "All channels", "se_by": "Per", "se_hours": "hour", "se_days": "day",
		"se_weeks": "week", "se_range": "Days back", "se_show": "Show", "se_pos": "positive", "se_neu": "neutral", "se_neg": "negative",
		"se_positive": "positive", "se_neutral": "neutral", "se_negative": "negative",
		"se_volume": "messages", "se_click": "click a column for its messages", "se_none": "No messages scored in this period.",
		"se_compare": "Channels compared", "se_messages": "Messages", "se_mix": "Mix", "se_summary": "%d messages; %d empty periods shown as gaps",
		"se_aria": "Sentiment shares and message volume over time in %s", "se_no_messages": "no messages", "se_tip": "%s: %d messages, %s positive, %s neutral, %s negative",
		"se_week_of": "week %d (from %s)", "se_worst": "Most negative threads", "se_thread": "Thread", "se_worst_score": "Lowest score",
		"se_message": "Message", "se_back": "← back to the charts", "se_messages_title": "Scored messages",
		"se_kept": "%d messages were counted here; %d are still kept (older ones expire after storage.sentiment_ttl). Only negative messages are quoted.",
		"se_gone": "No message of this period is kept any more."},
	"de": {"se_title": "Stimmung", "se_channel": "Kanal", "se_all": "Alle Kanäle", "se_by": "Pro", "se_hours": "Stunde", "se_days": "Tag",
		"se_weeks": "Woche", "se_range": "Tage zurück", "se_show": "Anzeigen", "se_pos": "positiv", "se_neu": "neutral", "se_neg": "negativ",
		"se_positive": "positiv", "se_neutral": "neutral", "se_negative": "negativ",
		"se_volume": "Nachrichten", "se_click": "Klick auf eine Säule zeigt ihre Nachrichten", "se_none": "In diesem Zeitraum wurden keine Nachrichten bewertet.",
		"se_compare": "Kanäle im Vergleich", "se_messages": "Nachrichten", "se_mix": "Verteilung", "se_summary": "%d Nachrichten; %d leere Zeiträume als Lücken",
		"se_aria": "Stimmungsanteile und Nachrichtenmenge über die Zeit in %s", "se_no_messages": "keine Nachrichten", "se_tip": "%s: %d Nachrichten, %s positiv, %s neutral, %s negativ",
		"se_week_of": "Woche %d (ab %s)", "se_worst": "Die negativsten Threads", "se_thread": "Thread", "se_worst_score": "Niedrigster Wert",
		"se_message": "Nachricht", "se_back": "← zurück zu den Diagrammen", "se_messages_title": "Bewertete Nachrichten",
		"se_kept": "%d Nachrichten wurden hier gezählt; %d sind noch gespeichert (ältere verfallen nach storage.sentiment_ttl). Zitiert werden nur negative Nachrichten.",
		"se_gone": "Aus diesem Zeitraum ist keine Nachricht mehr gespeichert."},
}

func init() { dicts = append(dicts, sentimentDict) }
