package bot

import (
	"slices"
	"strings"
)

// emojiNames are Slack's names for the emoji the handlers use as reactions,
// the one Slack answers to first, then aliases it may report; Discord and
// the web send the emoji itself.
var emojiNames = map[string][]string{
	"💡": {"bulb"}, "👍": {"+1", "thumbsup"}, "👎": {"-1", "thumbsdown"}, "⭐": {"star"}, "📥": {"inbox_tray"},
	"🚀": {"rocket"}, "✋": {"raised_hand", "hand"}, "📌": {"pushpin"}, "👀": {"eyes"}, "✅": {"white_check_mark"},
	"❌": {"x"}, "🙏": {"pray"}, "🎉": {"tada"}, "⏳": {"hourglass_flowing_sand"}, "📝": {"memo", "pencil"},
}

// SameEmoji reports whether two reactions are the same emoji, each given as
// the emoji itself or as its Slack name (":bulb:", "bulb"; a skin tone,
// "raised_hand::skin-tone-2", is ignored). Configured reactions are
// compared with incoming ones through it, so one setting works on every
// platform.
func SameEmoji(a, b string) bool {
	a, b = plainEmoji(a), plainEmoji(b)
	if a == "" || b == "" {
		return false
	}
	return a == b || slices.Contains(emojiNames[a], b) || slices.Contains(emojiNames[b], a) ||
		(emojiOf(a) != "" && emojiOf(a) == emojiOf(b))
}

// emojiOf is the emoji a Slack name stands for ("" when unknown).
func emojiOf(name string) string {
	for e, names := range emojiNames {
		if slices.Contains(names, name) {
			return e
		}
	}
	return ""
}

// EmojiName is Slack's name for an emoji the handlers use; anything else
// comes back without its colons.
func EmojiName(emoji string) string {
	e := plainEmoji(emoji)
	if names, ok := emojiNames[e]; ok {
		return names[0]
	}
	return e
}

func plainEmoji(s string) string {
	s = strings.Trim(strings.TrimSpace(s), ":")
	if i := strings.Index(s, "::"); i >= 0 {
		s = s[:i]
	}
	return s
}
