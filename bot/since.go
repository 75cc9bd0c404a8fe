package bot

import (
	"fmt"
	"strconv"
	"strings"
	"time"
)

// ParseSince reads a report's start ("--since", "?since="): empty means
// fallback before now; a duration back from now ("72h"), days ("30d") or
// weeks ("8w"); or a date ("2026-11-01", UTC) or an RFC 3339 time.
func ParseSince(s string, now time.Time, fallback time.Duration) (time.Time, error) {
	s = strings.TrimSpace(s)
	if s == "" {
		return now.Add(-fallback), nil
	}
	if n, err := strconv.Atoi(s[:len(s)-1]); err == nil && n >= 0 {
		switch s[len(s)-1] {
		case 'd':
			return now.AddDate(0, 0, -n), nil
		case 'w':
			return now.AddDate(0, 0, -7*n), nil
		}
	}
	if d, err := time.ParseDuration(s); err == nil && d >= 0 {
		return now.Add(-d), nil
	}
	if t, err := time.Parse(time.RFC3339, s); err == nil {
		return t, nil
	}
	if t, err := time.ParseInLocation("2006-01-02", s, time.UTC); err == nil {
		return t, nil
	}
	return time.Time{}, fmt.Errorf("since %q: want a duration (72h), days (30d), weeks (8w), a date (2026-11-01) or an RFC 3339 time", s)
}
