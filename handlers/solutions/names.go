package solutions

import (
	"regexp"
	"slices"
	"strings"
	"unicode/utf8"

	"github.com/einsatz/einsatz/bot"
)

// participants are the display names of the people in ev's thread: a
// candidate names nobody, so "thanks Anna" loses the name.
func participants(ev *bot.Event) []string {
	var names []string
	add := func(n string) {
		if n = strings.TrimSpace(n); n != "" && !slices.Contains(names, n) {
			names = append(names, n)
		}
	}
	add(ev.User.Name)
	if ev.Target != nil {
		add(ev.Target.User.Name)
	}
	for _, t := range ev.History {
		if t.Role != bot.RoleBot {
			add(t.Name)
		}
	}
	return names
}

// withoutNames replaces whole-word mentions of names (any case, with or
// without @) by "…". Short names (under three letters) are left: they
// would take ordinary words with them.
func withoutNames(text string, names []string) string {
	for _, n := range names {
		if utf8.RuneCountInString(n) < 3 {
			continue
		}
		re, err := regexp.Compile(`(?i)(^|[^\p{L}\p{N}_])@?` + regexp.QuoteMeta(n) + `($|[^\p{L}\p{N}_])`)
		if err != nil {
			continue
		}
		// Twice: adjacent matches share their separator.
		for range 2 {
			text = re.ReplaceAllString(text, "${1}…${2}")
		}
	}
	return text
}
