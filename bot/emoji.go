package bot

import "strings"

// emojiNames are Slack's names for the emoji the handlers use as reactions;
// Discord and the web send the emoji itself.
var emojiNames = map[string]string{
	"💡": "bulb", "👍": "+1", "👎": "-1", "⭐": "star", "📥": "inbox_tray", "🚀": "rocket",
	"✋": "raised_hand", "📌": "pushpin", "👀": "eyes", "✅": "white_check_mark", "❌": "x",
	"🙏": "pray", "🎉": "tada", "⏳": "hourglass_flowing_sand",
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
	return a == b || emojiNames[a] == b || emojiNames[b] == a
}

// EmojiName is Slack's name for an emoji the handlers use; anything else
// comes back without its colons.
func EmojiName(emoji string) string {
	e := plainEmoji(emoji)
	if n, ok := emojiNames[e]; ok {
		return n
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
