package answer

import "testing"

// TestCoreSignOff: a sign-off and the name after it are not part of the
// question (a name would count as a term no page has).
func TestCoreSignOff(t *testing.T) {
	for _, tt := range []struct{ in, want string }{
		{"Wie richte ich Slack ein? LG Max", "Wie richte ich Slack ein?"},
		{"wie richte ich slack ein lg max", "wie richte ich slack ein"},
		{"How do I connect Slack? Thanks, Jana", "How do I connect Slack?"},
		{"How do I connect Slack thanks, Jana", "How do I connect Slack"},
		{"Wo trage ich den Token ein?\n\nViele Grüße\nAnna Schmidt", "Wo trage ich den Token ein?"},
		{"Where is the config file? Cheers!", "Where is the config file?"},
		{"Wo finde ich die Logs? VG", "Wo finde ich die Logs?"},
		// Not sign-offs: the words are part of the question.
		{"is there a thank you page", "is there a thank you page"},
		{"which model is the best", "which model is the best"},
		{"does it say thanks when someone posts a request", "does it say thanks when someone posts a request"},
	} {
		if got := Core(tt.in); got != tt.want {
			t.Errorf("Core(%q) = %q, want %q", tt.in, got, tt.want)
		}
	}
}
