package bot_test

import (
	"strings"
	"testing"

	"github.com/einsatz/einsatz/adapters/slack"
	"github.com/einsatz/einsatz/bot"
)

func TestEscapeMarkdown(t *testing.T) {
	tests := []struct {
		in, want string
	}{
		{"Anna Müller", "Anna Müller"},
		{"[Admin Notice](https://evil.example)", `\[Admin Notice\]\(https://evil.example\)`},
		{"![x](https://evil.example/p.png)", `\!\[x\]\(https://evil.example/p.png\)`},
		{"<https://x|y>", "<\u200bhttps://x\\|y\\>"},
		{"<!channel> and <@U123>", "<\u200b\\!channel\\> and <\u200b@U123\\>"},
		{"hi @everyone @Here mail@example.org", "hi @\u200beveryone @\u200bHere mail@example.org"},
		{"**bold** _it_ `code` ~~s~~ # h > q", `\*\*bold\*\* \_it\_ \` + "`" + `code\` + "`" + ` \~\~s\~\~ \# h \> q`},
	}
	for _, tt := range tests {
		if got := bot.EscapeMarkdown(tt.in); got != tt.want {
			t.Errorf("EscapeMarkdown(%q) = %q, want %q", tt.in, got, tt.want)
		}
	}
}

// Through the Slack adapter's converter an escaped name is text: no link,
// no mention, and the characters staff see are the ones typed.
func TestEscapeMarkdownSurvivesSlackMrkdwn(t *testing.T) {
	for _, in := range []string{"[Admin Notice](https://evil.example)", "<https://evil.example|Admin>", "<!channel>", "**x** _y_"} {
		got := slack.Mrkdwn(bot.EscapeMarkdown(in))
		if strings.Contains(got, "<http") || strings.Contains(got, "<!") || strings.Contains(got, "|Admin") && strings.Contains(got, "<") {
			t.Errorf("Mrkdwn(EscapeMarkdown(%q)) = %q: still a link or mention", in, got)
		}
		visible := strings.NewReplacer("\u200b", "", "&lt;", "<", "&gt;", ">", "&amp;", "&").Replace(got)
		if visible != in {
			t.Errorf("Mrkdwn(EscapeMarkdown(%q)) shows %q, want the text as typed", in, visible)
		}
	}
}
