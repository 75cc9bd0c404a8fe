package web

import (
	"context"
	"html/template"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/einsatz/einsatz/bot/bottest"
	"github.com/einsatz/einsatz/bot/mood"
	"github.com/einsatz/einsatz/bot/mood/moodtest"
)

var sentNow = time.Date(2026, 11, 26, 15, 30, 0, 0, time.UTC)

func sentimentFixture(t *testing.T) *moodtest.Mem {
	t.Helper()
	st := moodtest.NewMem()
	ctx := context.Background()
	log := func(ch, label string, at time.Time, excerpt string) {
		if err := st.Log(ctx, mood.Row{Platform: "discord", Channel: ch, Thread: "t1", User: "u1", MessageID: at.String(), Time: at, Label: label,
			Excerpt: excerpt, Permalink: "https://discord.com/channels/g/" + ch + "/1"}, "u1"); err != nil {
			t.Fatal(err)
		}
	}
	// general: today 2 positive, 1 negative; 3 days ago 1 neutral; nothing between.
	log("general", mood.Positive, sentNow.Add(-time.Hour), "")
	log("general", mood.Positive, sentNow.Add(-90*time.Minute), "")
	log("general", mood.Negative, sentNow.Add(-2*time.Hour), "this release broke everything")
	log("general", mood.Neutral, sentNow.AddDate(0, 0, -3), "")
	log("random", mood.Negative, sentNow.Add(-3*time.Hour), "awful")
	return st
}

// The day chart has a slot per day, empty days as gaps, and the shares
// and volume of the days with messages.
func TestSentimentSlots(t *testing.T) {
	st := sentimentFixture(t)
	ctx := context.Background()
	ch := mood.Channel{Platform: "discord", ID: "general"}
	since := sentNow.AddDate(0, 0, -7)
	days, _ := st.Buckets(ctx, mood.Day, ch, mood.BucketStart(mood.Day, since), sentNow.Add(time.Hour))
	sl := slots(mood.Day, days, since, sentNow)
	if len(sl) != 8 {
		t.Fatalf("%d day slots over 7 days back, want 8", len(sl))
	}
	var filled []int
	for i, b := range sl {
		if b.N > 0 {
			filled = append(filled, i)
		}
	}
	if len(filled) != 2 || filled[0] != 4 || filled[1] != 7 || sl[7].Pos != 2 || sl[7].Neg != 1 {
		t.Fatalf("filled slots %v, today %+v", filled, sl[7])
	}
	c := buildChart(ch, "#general", mood.Day, "en", sl)
	if c.Empty != 6 || len(c.Lines) != 2 || c.Total.N != 4 {
		t.Fatalf("chart: %d empty, %d line pieces, %d messages; want 6, 2 (broken at the gap), 4", c.Empty, len(c.Lines), c.Total.N)
	}
	today := c.Slots[7]
	if today.NegP != "33%" || today.PosP != "67%" || !strings.Contains(today.Link, "from=2026-11-26T00%3A00%3A00Z") {
		t.Fatalf("today: %+v", today)
	}
	// Weeks: Monday-based, the two days fall into one week.
	wk := slots(Week, days, since, sentNow)
	if len(wk) != 2 || wk[0].Start.Weekday() != time.Monday || wk[1].N != 4 {
		t.Fatalf("week slots %+v", wk)
	}
	// Hours over two days: 49 slots, ticks every 6 hours with the date at midnight.
	hours, _ := st.Buckets(ctx, mood.Hour, ch, mood.BucketStart(mood.Hour, sentNow.AddDate(0, 0, -2)), sentNow.Add(time.Hour))
	hc := buildChart(ch, "#general", mood.Hour, "en", slots(mood.Hour, hours, sentNow.AddDate(0, 0, -2), sentNow))
	var labels []string
	for _, tk := range hc.Ticks {
		labels = append(labels, tk.Label)
	}
	if got := strings.Join(labels, " "); got != "18:00 Nov 25 06:00 12:00 18:00 Nov 26 06:00 12:00" {
		t.Fatalf("hour ticks = %q", got)
	}
}

func sentimentServer(t *testing.T, st mood.Store) *Server {
	t.Helper()
	s := &Server{log: slog.New(slog.NewTextHandler(os.Stderr, nil)), opts: Options{BotName: "Einsatz"}}
	s.tmpl = mustTemplates(t)
	return s
}

func mustTemplates(t *testing.T) *template.Template {
	t.Helper()
	tmpl, err := parseTemplates()
	if err != nil {
		t.Fatal(err)
	}
	return tmpl
}

// The page renders the charts, the comparison and, in German, its words;
// a column's link lists the slot's kept messages with the quoted excerpt.
func TestSentimentPageAndMessages(t *testing.T) {
	st := sentimentFixture(t)
	s := sentimentServer(t, st)
	p := sentimentPages{s: s, store: st, clock: bottest.NewClock(sentNow)}
	get := func(h http.HandlerFunc, target, lang string) string {
		rec := httptest.NewRecorder()
		req := httptest.NewRequest("GET", target, nil)
		req.Header.Set("Accept-Language", lang)
		h(rec, req)
		body, _ := io.ReadAll(rec.Result().Body)
		if rec.Code != 200 {
			t.Fatalf("GET %s: %d %s", target, rec.Code, body)
		}
		return string(body)
	}
	page := get(p.page, "/dashboard/sentiment?by=week", "de-DE,de;q=0.9")
	for _, want := range []string{"Kanäle im Vergleich", `data-channel="discord/general"`, `class="point"`, "Woche"} {
		if !strings.Contains(page, want) {
			t.Fatalf("page lacks %q:\n%s", want, page)
		}
	}
	msgs := get(p.messages, "/dashboard/sentiment/messages?channel=discord%2Fgeneral&by=day&from=2026-11-26T00:00:00Z", "en")
	if !strings.Contains(msgs, "this release broke everything") || !strings.Contains(msgs, "3 messages were counted here; 3 are still kept") {
		t.Fatalf("messages page:\n%s", msgs)
	}
}
