package inbox_test

import (
	"net/url"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/einsatz/einsatz/bot/request"
	"github.com/einsatz/einsatz/handlers/inbox"
)

// FuzzParseFilter reads filters from any query string: a filter it
// accepts has a known status and sort, whole-day bounds, and survives the
// round trip through Query unchanged; an error says which parameter is
// wrong.
func FuzzParseFilter(f *testing.F) {
	for _, q := range []string{
		"",
		"status=open&tag=Dark+Mode&sort=newest",
		"status=planned&platform=slack&channel=C123&since=2026-01-01&until=2026-01-31",
		"status=maybe&sort=recent&tag=%20EXPORT%20",
		"status=bogus",
		"since=2026-02-30",
		"until=9999-12-31&since=0000-01-01",
		"tag=%C4%B0stanbul&status=&sort=",
		"status=open&status=new",
	} {
		f.Add(q)
	}
	f.Fuzz(func(t *testing.T, raw string) {
		q, err := url.ParseQuery(raw)
		if err != nil {
			return
		}
		flt, err := inbox.ParseFilter(q)
		if err != nil {
			named := false
			for _, p := range []string{"status", "sort", "since", "until"} {
				named = named || strings.HasPrefix(err.Error(), "inbox: "+p) || strings.HasPrefix(err.Error(), "inbox: unknown "+p)
			}
			if !named {
				t.Fatalf("error %q names no parameter", err)
			}
			return
		}
		if flt.Status != "" && flt.Status != "open" && !inbox.ValidStatus(flt.Status) {
			t.Errorf("status %q accepted", flt.Status)
		}
		switch flt.Sort {
		case "", inbox.SortVotes, inbox.SortNewest, inbox.SortRecent:
		default:
			t.Errorf("sort %q accepted", flt.Sort)
		}
		for _, d := range []time.Time{flt.Since, flt.Until} {
			if !d.IsZero() && (d.Location() != time.UTC || d.Hour() != 0 || d.Minute() != 0 || d.Second() != 0 || d.Nanosecond() != 0) {
				t.Errorf("bound %v is not the start of a day in UTC", d)
			}
		}
		if flt.Tag != strings.TrimSpace(flt.Tag) {
			t.Errorf("tag %q not trimmed", flt.Tag)
		}
		again, err := inbox.ParseFilter(flt.Query())
		if err != nil || !reflect.DeepEqual(again, flt) {
			t.Fatalf("round trip of %+v through %q: %+v, %v", flt, flt.Query().Encode(), again, err)
		}
		// An item created on the until day is inside the filter, one
		// created the day after is not.
		if !flt.Until.IsZero() {
			last := flt.Until.Add(-time.Second)
			in := inbox.Filter{Status: request.StatusNew, Until: flt.Until}
			items := []request.Item{{ID: 1, Status: request.StatusNew, Created: last}, {ID: 2, Status: request.StatusNew, Created: flt.Until}}
			if got := in.Apply(items, last); len(got) != 1 || got[0].ID != 1 {
				t.Errorf("until %v keeps %+v", flt.Until, got)
			}
		}
	})
}
