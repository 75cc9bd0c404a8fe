package bot

import "testing"

func TestSameEmoji(t *testing.T) {
	tests := []struct {
		a, b string
		want bool
	}{
		{"✋", "✋", true},
		{"✋", "raised_hand", true},
		{"raised_hand::skin-tone-3", "✋", true},
		{":bulb:", "💡", true},
		{"💡", "bulb", true},
		{"pushpin", "📌", true},
		{"+1", "👍", true},
		{"hand", "✋", true}, // Slack may report the alias
		{"hand", "raised_hand", true},
		{"thumbsup", "+1", true},
		{"✋", "💡", false},
		{"raised_hand", "bulb", false},
		{"party_parrot", "party_parrot", true}, // a custom emoji by name
		{"", "", false},
		{"✋", "", false},
	}
	for _, tt := range tests {
		if got := SameEmoji(tt.a, tt.b); got != tt.want {
			t.Errorf("SameEmoji(%q, %q) = %v, want %v", tt.a, tt.b, got, tt.want)
		}
	}
	for in, want := range map[string]string{"✋": "raised_hand", ":eyes:": "eyes", "👀": "eyes", "party_parrot": "party_parrot"} {
		if got := EmojiName(in); got != want {
			t.Errorf("EmojiName(%q) = %q, want %q", in, got, want)
		}
	}
}
