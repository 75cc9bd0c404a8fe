package web

import (
	"bytes"
	"fmt"
	"html/template"
	"net/http"
	"strconv"
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
	s.AddPage(Page{Path: "/dashboard/sentiment", Title: "Sentiment", Handler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		q := r.URL.Query()
		by := q.Get("by")
		if by != mood.Hour {
			by = mood.Day
		}
		days, err := strconv.Atoi(q.Get("days"))
		if err != nil || days < 1 || days > 90 {
			days = 14
		}
		selected := q.Get("channel")
		ov, err := monitor.Dashboard(r.Context(), store, clock.Now(), selected, by, days)
		if err != nil {
			http.Error(w, "sentiment: "+err.Error(), http.StatusInternalServerError)
			return
		}
		var charts []chart
		for _, series := range ov.Series {
			charts = append(charts, chartOf(series))
		}
		var buf bytes.Buffer
		err = sentimentTmpl.Execute(&buf, map[string]any{
			"Channels": ov.Channels, "Selected": selected, "By": by, "Days": days, "Charts": charts, "Worst": ov.Worst,
		})
		if err != nil {
			http.Error(w, "sentiment: "+err.Error(), http.StatusInternalServerError)
			return
		}
		s.RenderPage(w, r, "Sentiment", template.HTML(buf.String()))
	})})
}

// chartPoint is one point of a chart.
type chartPoint struct {
	X, Y  float64
	Start time.Time
	B     mood.Bucket
}

// chart is one channel's negative share over time, as an SVG polyline.
type chart struct {
	Channel mood.Channel
	// Axis: the y labels (100% top, 0% bottom) and the first and last
	// bucket under the x axis.
	Top, Base, Left, Right float64
	From, To               string
	Points                 []chartPoint
	Line                   string // SVG points attribute
	Width                  int
	Height                 int
	Total                  mood.Bucket
}

// The plot area sits inside margins that hold the axis labels.
const chartW, chartH, pad, left, bottom = 640, 180, 8, 44, 20

func chartOf(s monitor.Series) chart {
	c := chart{Channel: s.Channel, Width: chartW, Height: chartH}
	n := len(s.Buckets)
	var line bytes.Buffer
	for i, b := range s.Buckets {
		x := float64(left)
		if n > 1 {
			x = left + float64(i)*float64(chartW-left-pad)/float64(n-1)
		}
		y := pad + (1-b.NegShare())*float64(chartH-bottom-pad)
		c.Points = append(c.Points, chartPoint{X: x, Y: y, Start: b.Start, B: b})
		fmt.Fprintf(&line, "%.1f,%.1f ", x, y)
		c.Total.N += b.N
		c.Total.Neg += b.Neg
		c.Total.Pos += b.Pos
		c.Total.Neu += b.Neu
		c.Total.Sum += b.Sum
	}
	c.Line = line.String()
	c.Top, c.Base, c.Left, c.Right = pad, float64(chartH-bottom), left, chartW-pad
	if n > 0 {
		layout := "Jan 2"
		if n > 1 && s.Buckets[n-1].Start.Sub(s.Buckets[0].Start) < 48*time.Hour {
			layout = "Jan 2 15:04"
		}
		c.From, c.To = s.Buckets[0].Start.Format(layout), s.Buckets[n-1].Start.Format(layout)
	}
	return c
}

var sentimentTmpl = template.Must(template.New("sentiment").Funcs(template.FuncMap{
	"pct": func(f float64) string { return strconv.FormatFloat(100*f, 'f', 0, 64) + "%" },
	"f2":  func(f float64) string { return strconv.FormatFloat(f, 'f', 2, 64) },
}).Parse(`
<form class="filter" method="get" action="/dashboard/sentiment">
<label>Channel <select name="channel" id="channel">
<option value="">All channels</option>
{{range .Channels}}<option value="{{.}}"{{if eq $.Selected .String}} selected{{end}}>{{.}}</option>{{end}}
</select></label>
<label>By <select name="by" id="by">
<option value="day"{{if eq .By "day"}} selected{{end}}>day</option>
<option value="hour"{{if eq .By "hour"}} selected{{end}}>hour</option>
</select></label>
<label>Days <input name="days" id="days" type="number" min="1" max="90" value="{{.Days}}"></label>
<button type="submit">Show</button>
</form>
{{if not .Charts}}<p>No messages scored in this period.</p>{{end}}
{{range .Charts}}<section class="chart" data-channel="{{.Channel}}">
<h2>{{.Channel}} <small>{{.Total.N}} messages, {{pct .Total.NegShare}} negative, mean {{f2 .Total.Mean}}</small></h2>
<svg viewBox="0 0 {{.Width}} {{.Height}}" width="{{.Width}}" height="{{.Height}}" role="img" aria-label="Negative share over time in {{.Channel}}">
<rect x="0" y="0" width="{{.Width}}" height="{{.Height}}" fill="#fff" stroke="#dfe3ec"/>
<g class="axis" font-size="11" fill="#5b6475">
<line x1="{{.Left}}" y1="{{.Base}}" x2="{{.Right}}" y2="{{.Base}}" stroke="#dfe3ec"/>
<line x1="{{.Left}}" y1="{{.Top}}" x2="{{.Right}}" y2="{{.Top}}" stroke="#eef0f5" stroke-dasharray="3 3"/>
<text x="4" y="{{.Top}}" dominant-baseline="hanging">100%</text>
<text x="4" y="{{.Base}}">0%</text>
<text x="{{.Left}}" y="{{.Height}}" dy="-4">{{.From}}</text>
<text x="{{.Right}}" y="{{.Height}}" dy="-4" text-anchor="end">{{.To}}</text>
<text x="{{.Right}}" y="{{.Top}}" dy="12" text-anchor="end">negative share</text>
</g>
<polyline fill="none" stroke="#b3261e" stroke-width="2" points="{{.Line}}"/>
{{range .Points}}<circle class="point" cx="{{printf "%.1f" .X}}" cy="{{printf "%.1f" .Y}}" r="3" fill="#b3261e" data-start="{{.Start.Format "2006-01-02T15:04Z07:00"}}" data-n="{{.B.N}}" data-negative="{{.B.Neg}}"><title>{{.Start.Format "2006-01-02 15:04"}}: {{.B.Neg}} of {{.B.N}} negative</title></circle>
{{end}}</svg>
</section>{{end}}
<h2>Most negative threads (last {{.Days}} days)</h2>
{{if .Worst}}<table class="worst">
<tr><th>Channel</th><th>Thread</th><th>Worst</th><th>Negative</th><th>Message</th></tr>
{{range .Worst}}<tr><td>{{.Channel}}</td><td>{{if .Permalink}}<a href="{{.Permalink}}">{{.Thread}}</a>{{else}}{{.Thread}}{{end}}</td><td>{{f2 .MinScore}}</td><td>{{.Negative}} of {{.Messages}}</td><td>{{.Excerpt}}</td></tr>
{{end}}</table>{{else}}<p>None.</p>{{end}}
`))
