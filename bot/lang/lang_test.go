package lang

import "testing"

func TestDetect(t *testing.T) {
	tests := []struct {
		text, want string
	}{
		{"What is Einsatz?", English},
		{"Was ist Einsatz?", German},
		{"Wie kann ich den Bot mit Slack verbinden?", German},
		{"How do I connect the bot to Slack?", English},
		{"Größe", German},
		{"", English},
		{"👍", English},
		{"Könnt ihr bitte einen Dark Mode bauen", German},
	}
	for _, tt := range tests {
		t.Run(tt.text, func(t *testing.T) {
			if got := Detect(tt.text); got != tt.want {
				t.Errorf("Detect(%q) = %q, want %q", tt.text, got, tt.want)
			}
		})
	}
}
