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

func TestGuessSure(t *testing.T) {
	tests := []struct {
		text     string
		want     string
		wantSure bool
	}{
		{"What is Einsatz?", English, true},
		{"Was ist Einsatz?", German, true},
		{"Wie verbinde ich Slack?", German, true},
		{"Größe", German, true},
		{"Slack", English, false},
		{"", English, false},
	}
	for _, tt := range tests {
		if got, sure := Guess(tt.text); got != tt.want || sure != tt.wantSure {
			t.Errorf("Guess(%q) = %q, %v; want %q, %v", tt.text, got, sure, tt.want, tt.wantSure)
		}
	}
}
