package solutions

import "time"

// QuietHours are the daily hours in which no nudge is sent
// (solved.quiet_hours): From to To since midnight in Loc, wrapping past
// midnight when From is after To. The zero value is never quiet.
type QuietHours struct {
	Loc      *time.Location
	From, To time.Duration
}

// Quiet reports whether t falls in the quiet hours.
func (q QuietHours) Quiet(t time.Time) bool {
	if q.Loc == nil || q.From == q.To {
		return false
	}
	l := t.In(q.Loc)
	m := time.Duration(l.Hour())*time.Hour + time.Duration(l.Minute())*time.Minute + time.Duration(l.Second())*time.Second
	if q.From < q.To {
		return m >= q.From && m < q.To
	}
	return m >= q.From || m < q.To
}
