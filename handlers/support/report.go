package support

import (
	"context"
	"encoding/csv"
	"encoding/json"
	"fmt"
	"io"
	"sort"
	"strconv"
	"strings"
	"text/tabwriter"
	"time"
	"unicode"

	"github.com/einsatz/einsatz/bot"
	"github.com/einsatz/einsatz/bot/lang"
	"github.com/einsatz/einsatz/bot/qa"
	"github.com/einsatz/einsatz/bot/sheet"
	"github.com/einsatz/einsatz/handlers/knowledge"
)

// Settings shape the gaps and the support numbers.
type Settings struct {
	// FollowUp is how long after an answer a further question by the same
	// person in the same thread counts as a follow-up (the answer did not
	// settle it); default 24h.
	FollowUp time.Duration
	// Similarity is the token-set Jaccard similarity from which questions
	// fall into one gap; default DefaultSimilarity.
	Similarity float64
	Clock      bot.Clock // default the system clock
}

// DefaultFollowUp is the default of Settings.FollowUp.
const DefaultFollowUp = 24 * time.Hour

func (s Settings) withDefaults() Settings {
	if s.FollowUp <= 0 {
		s.FollowUp = DefaultFollowUp
	}
	if s.Similarity <= 0 {
		s.Similarity = DefaultSimilarity
	}
	if s.Clock == nil {
		s.Clock = bot.SystemClock{}
	}
	return s
}

// Gap reasons: why a question shows the knowledge base lacks something.
const (
	GapDontKnow   = "dont_know"   // the bot said it does not know
	GapNotHelpful = "not_helpful" // the answer was rated not helpful
	GapDiscarded  = "discarded"   // staff discarded the shadow draft
)

// Gap is a group of similar questions the knowledge base does not answer well.
type Gap struct {
	Example   string         `json:"example"`   // the group's first question
	Count     int            `json:"count"`     // questions in the group
	Questions []string       `json:"questions"` // distinct texts, up to 5
	Reasons   map[string]int `json:"reasons"`   // by Gap* reason
	Channels  []string       `json:"channels"`  // platform/channel
	First     time.Time      `json:"first"`
	Last      time.Time      `json:"last"`
	// Threads are where the group's questions were asked, newest first,
	// up to 5: each is read and answered there.
	Threads []GapThread `json:"threads,omitempty"`
}

// GapThread is one question of a gap in its thread.
type GapThread struct {
	QuestionID string        `json:"question_id"`
	Thread     bot.ThreadRef `json:"thread"`
	Permalink  string        `json:"permalink,omitempty"`
	Text       string        `json:"text"`
	Time       time.Time     `json:"time"`
	Reason     string        `json:"reason"`
	// FollowUp: the asker had asked in the thread before (within the
	// follow-up window), so the question reads best with the thread.
	FollowUp bool `json:"follow_up,omitempty"`
}

// Asked reports whether q was a question: its stored reading says so, or,
// in records from before readings were kept, the question detector does.
// Thanks, feature requests and small talk the bot logged back then are
// not gaps in the knowledge base.
func Asked(q qa.Question) bool {
	if q.Reading != "" {
		return q.Reading == string(bot.ReadingQuestion)
	}
	return knowledge.IsQuestion(q.Text)
}

// gapReason says why q belongs in the gaps, or "".
func gapReason(q qa.Question) string {
	switch {
	case q.Outcome == qa.OutcomeDontKnow:
		return GapDontKnow
	case q.Shadow == qa.ShadowDiscarded:
		return GapDiscarded
	case q.Verdict() == qa.VerdictNotHelpful:
		return GapNotHelpful
	}
	return ""
}

// Gaps lists the questions since since that the bot did not know, whose
// answer was rated not helpful or whose shadow draft was discarded,
// grouped by similarity (single link: a question joins the group holding
// the question most like it, at or above the threshold), most frequent
// first.
func Gaps(ctx context.Context, store qa.Store, since time.Time, s Settings) ([]Gap, error) {
	s = s.withDefaults()
	qs, err := store.Questions(ctx, since, s.Clock.Now().Add(time.Second))
	if err != nil {
		return nil, err
	}
	type group struct {
		gap   Gap
		terms []map[string]bool
		seen  map[string]bool
		chans map[string]bool
	}
	var groups []*group
	for i, q := range qs {
		reason := gapReason(q)
		if reason == "" || !Asked(q) {
			continue
		}
		terms := Terms(q.Text, q.Lang)
		var best *group
		bestSim := 0.0
		for _, g := range groups {
			for _, t := range g.terms {
				if sim := Similarity(terms, t); sim >= s.Similarity && sim > bestSim {
					best, bestSim = g, sim
				}
			}
		}
		if best == nil {
			best = &group{gap: Gap{Example: q.Text, Reasons: map[string]int{}, First: q.Time}, seen: map[string]bool{}, chans: map[string]bool{}}
			groups = append(groups, best)
		}
		g := &best.gap
		g.Count++
		g.Reasons[reason]++
		g.Last = q.Time
		best.terms = append(best.terms, terms)
		norm := strings.Join(strings.FieldsFunc(strings.ToLower(q.Text), func(r rune) bool { return !unicode.IsLetter(r) && !unicode.IsDigit(r) }), " ")
		if !best.seen[norm] && len(g.Questions) < 5 {
			best.seen[norm] = true
			g.Questions = append(g.Questions, q.Text)
		}
		g.Threads = append([]GapThread{{QuestionID: q.ID, Thread: q.Thread, Permalink: q.Permalink, Text: q.Text, Time: q.Time,
			Reason: reason, FollowUp: followUp(q, qs[:i], s.FollowUp)}}, g.Threads...)
		if len(g.Threads) > 5 {
			g.Threads = g.Threads[:5]
		}
		ch := q.Thread.Platform + "/" + q.Thread.ChannelID
		if !best.chans[ch] {
			best.chans[ch] = true
			g.Channels = append(g.Channels, ch)
		}
	}
	out := make([]Gap, len(groups))
	for i, g := range groups {
		out[i] = g.gap
	}
	sort.SliceStable(out, func(i, j int) bool {
		if out[i].Count != out[j].Count {
			return out[i].Count > out[j].Count
		}
		return out[i].Last.After(out[j].Last)
	})
	return out, nil
}

// followUp reports whether the asker of q asked in its thread within
// window before it (earlier holds the questions before q, oldest first).
func followUp(q qa.Question, earlier []qa.Question, window time.Duration) bool {
	for i := len(earlier) - 1; i >= 0; i-- {
		o := earlier[i]
		if q.Time.Sub(o.Time) > window {
			return false
		}
		if o.Thread == q.Thread && o.UserID == q.UserID {
			return true
		}
	}
	return false
}

// Row is the support numbers of one channel in one ISO week.
type Row struct {
	Week     string `json:"week"` // ISO week, "2026-W48"
	Platform string `json:"platform"`
	Channel  string `json:"channel"`

	Questions int `json:"questions"` // questions the bot was asked
	Answered  int `json:"answered"`  // an answer from the knowledge base reached the asker
	DontKnow  int `json:"dont_know"` // the bot said it does not know
	Escalated int `json:"escalated"` // a person was called (any reason)
	Shadow    int `json:"shadow"`    // held back as shadow drafts (of which Discarded were discarded)
	Discarded int `json:"discarded"`

	Rated       int     `json:"rated"`        // answers with a vote
	Helpful     int     `json:"helpful"`      // … rated helpful
	HelpfulRate float64 `json:"helpful_rate"` // Helpful / Rated; 0 when none was rated

	// Resolution of the answered questions, never lumped together:
	// ResolvedByVote were rated helpful; NoFollowUp were not rated and the
	// asker asked nothing more in the thread within the follow-up window
	// (silence: maybe solved, maybe given up); Unresolved were rated not
	// helpful or followed by another question; Pending are unrated and
	// still inside the window.
	ResolvedByVote int `json:"resolved_by_vote"`
	NoFollowUp     int `json:"no_follow_up"`
	Unresolved     int `json:"unresolved"`
	Pending        int `json:"pending"`
}

// ISOWeek formats t's ISO week as "2026-W48".
func ISOWeek(t time.Time) string {
	y, w := t.ISOWeek()
	return fmt.Sprintf("%04d-W%02d", y, w)
}

// Resolution of one answered question at now: "vote", "no_follow_up",
// "unresolved" or "pending". all are the questions around it (a follow-up
// is a later question of the same person in the same thread within window).
func Resolution(q qa.Question, all []qa.Question, window time.Duration, now time.Time) string {
	switch q.Verdict() {
	case qa.VerdictHelpful:
		return "vote"
	case qa.VerdictNotHelpful:
		return "unresolved"
	}
	for _, o := range all {
		if o.ID != q.ID && o.Thread == q.Thread && o.UserID == q.UserID && o.Time.After(q.Time) && !o.Time.After(q.Time.Add(window)) {
			return "unresolved"
		}
	}
	if now.Before(q.Time.Add(window)) {
		return "pending"
	}
	return "no_follow_up"
}

// Report counts the support numbers per channel and ISO week for the
// questions asked since since, oldest week first.
func Report(ctx context.Context, store qa.Store, since time.Time, s Settings) ([]Row, error) {
	s = s.withDefaults()
	now := s.Clock.Now()
	qs, err := store.Questions(ctx, since, now.Add(time.Second))
	if err != nil {
		return nil, err
	}
	byAsker := map[string][]qa.Question{} // thread and asker → their questions
	asker := func(q qa.Question) string { return q.Thread.Key() + "\x00" + q.UserID }
	for _, q := range qs {
		byAsker[asker(q)] = append(byAsker[asker(q)], q)
	}
	rows := map[string]*Row{}
	var keys []string
	for _, q := range qs {
		week := ISOWeek(q.Time.UTC())
		k := week + "\x00" + q.Thread.Platform + "\x00" + q.Thread.ChannelID
		r, ok := rows[k]
		if !ok {
			r = &Row{Week: week, Platform: q.Thread.Platform, Channel: q.Thread.ChannelID}
			rows[k] = r
			keys = append(keys, k)
		}
		r.Questions++
		if q.Outcome == qa.OutcomeDontKnow {
			r.DontKnow++
		}
		if q.Escalated() {
			r.Escalated++
		}
		if q.Shadow != "" {
			r.Shadow++
			if q.Shadow == qa.ShadowDiscarded {
				r.Discarded++
			}
		}
		switch q.Verdict() {
		case qa.VerdictHelpful:
			r.Rated++
			r.Helpful++
		case qa.VerdictNotHelpful:
			r.Rated++
		}
		if !q.Answered() {
			continue
		}
		r.Answered++
		switch Resolution(q, byAsker[asker(q)], s.FollowUp, now) {
		case "vote":
			r.ResolvedByVote++
		case "no_follow_up":
			r.NoFollowUp++
		case "unresolved":
			r.Unresolved++
		default:
			r.Pending++
		}
	}
	sort.Strings(keys)
	out := make([]Row, 0, len(keys))
	for _, k := range keys {
		r := rows[k]
		if r.Rated > 0 {
			r.HelpfulRate = float64(r.Helpful) / float64(r.Rated)
		}
		out = append(out, *r)
	}
	return out, nil
}

// Formats of WriteReport.
const (
	FormatTable = "table"
	FormatCSV   = "csv"
	FormatJSON  = "json"
)

var reportHeader = []string{"WEEK", "CHANNEL", "QUESTIONS", "ANSWERED", "DONT_KNOW", "ESCALATED", "RATED", "HELPFUL_RATE",
	"RESOLVED_BY_VOTE", "NO_FOLLOW_UP", "UNRESOLVED", "PENDING", "SHADOW", "DISCARDED"}

func (r Row) cells() []string {
	rate := "-"
	if r.Rated > 0 {
		rate = strconv.FormatFloat(100*r.HelpfulRate, 'f', 0, 64) + "%"
	}
	i := strconv.Itoa
	return []string{r.Week, r.Platform + "/" + r.Channel, i(r.Questions), i(r.Answered), i(r.DontKnow), i(r.Escalated),
		i(r.Rated), rate, i(r.ResolvedByVote), i(r.NoFollowUp), i(r.Unresolved), i(r.Pending), i(r.Shadow), i(r.Discarded)}
}

// WriteReport prints rows as a table, CSV or JSON.
func WriteReport(w io.Writer, rows []Row, format string) error {
	switch format {
	case FormatJSON:
		if rows == nil {
			rows = []Row{}
		}
		enc := json.NewEncoder(w)
		enc.SetIndent("", "  ")
		return enc.Encode(rows)
	case FormatCSV:
		cw := csv.NewWriter(w)
		head := make([]string, len(reportHeader))
		for i, h := range reportHeader {
			head[i] = strings.ToLower(h)
		}
		if err := cw.Write(head); err != nil {
			return err
		}
		for _, r := range rows {
			c := r.cells()
			c[1] = sheet.Text(c[1]) // the channel; the rest are numbers and the week
			if r.Rated > 0 {
				c[7] = strconv.FormatFloat(r.HelpfulRate, 'f', 3, 64)
			} else {
				c[7] = ""
			}
			if err := cw.Write(c); err != nil {
				return err
			}
		}
		cw.Flush()
		return cw.Error()
	case FormatTable, "":
		tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
		fmt.Fprintln(tw, strings.Join(reportHeader, "\t"))
		for _, r := range rows {
			fmt.Fprintln(tw, strings.Join(r.cells(), "\t"))
		}
		if err := tw.Flush(); err != nil {
			return err
		}
		_, err := fmt.Fprintln(w, "\nRESOLVED_BY_VOTE: rated helpful. NO_FOLLOW_UP: unrated and no further question in the thread within the follow-up window\n"+
			"(silence, not proof of success). UNRESOLVED: rated not helpful or followed by another question. PENDING: window still open.")
		return err
	}
	return fmt.Errorf("support: unknown format %q (table, csv or json)", format)
}

// WriteGaps prints gaps as a table.
func WriteGaps(w io.Writer, gaps []Gap) error {
	tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "COUNT\tLAST\tREASONS\tCHANNELS\tEXAMPLE")
	for _, g := range gaps {
		fmt.Fprintf(tw, "%d\t%s\t%s\t%s\t%s\n", g.Count, g.Last.Format("2006-01-02 15:04"), reasons(g.Reasons), strings.Join(g.Channels, ","), lang.Excerpt(g.Example, 200))
		for _, q := range g.Questions[min(1, len(g.Questions)):] {
			fmt.Fprintf(tw, "\t\t\t\t  also: %s\n", lang.Excerpt(q, 200))
		}
	}
	return tw.Flush()
}

func reasons(m map[string]int) string {
	var parts []string
	for _, k := range []string{GapDontKnow, GapNotHelpful, GapDiscarded} {
		if m[k] > 0 {
			parts = append(parts, fmt.Sprintf("%s %d", k, m[k]))
		}
	}
	return strings.Join(parts, ", ")
}

// ParseSince reads a --since value: a duration ("72h"), days ("30d"),
// weeks ("8w") or a date ("2026-11-01", RFC 3339 also).
func ParseSince(s string, now time.Time) (time.Time, error) {
	return bot.ParseSince(s, now, 30*24*time.Hour)
}

// WithDefaults is s with every unset field at its default (what Gaps and
// Report use), for callers that show the settings, such as the window.
func (s Settings) WithDefaults() Settings { return s.withDefaults() }

// Reasons formats a gap's reasons as "dont_know 2, not_helpful 1".
func Reasons(m map[string]int) string { return reasons(m) }
