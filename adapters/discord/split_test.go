package discord

import (
	"fmt"
	"strings"
	"testing"

	"github.com/bwmarrin/discordgo"

	"github.com/einsatz/einsatz/bot"
)

func TestSplitShortTextIsOneChunk(t *testing.T) {
	if got := split("hello\n\nworld", 2000); len(got) != 1 || got[0] != "hello\n\nworld" {
		t.Errorf("got %q", got)
	}
	if got := split("  \n", 2000); got != nil {
		t.Errorf("blank text: %q", got)
	}
}

func TestSplitPrefersParagraphs(t *testing.T) {
	para := strings.Repeat("word ", 15) // 75 characters
	text := strings.Join([]string{para, para, para, para}, "\n\n")
	got := split(text, 170)
	if len(got) != 2 || got[0] != para+"\n\n"+para || got[1] != para+"\n\n"+para {
		t.Errorf("got %q", got)
	}
}

func TestSplitNeverCutsACodeBlockThatFits(t *testing.T) {
	block := "```go\nfunc main() {\n\tprintln(\"hi\")\n}\n```"
	text := strings.Repeat("x", 30) + "\n" + block + "\nafter"
	got := split(text, 70)
	want := []string{strings.Repeat("x", 30), block + "\nafter"}
	if fmt.Sprint(got) != fmt.Sprint(want) {
		t.Errorf("got  %q\nwant %q", got, want)
	}
}

func TestSplitReopensALongCodeBlock(t *testing.T) {
	var b strings.Builder
	b.WriteString("Intro line.\n```python\n")
	for i := range 40 {
		fmt.Fprintf(&b, "print(%02d)\n", i)
	}
	b.WriteString("```\nOutro.")
	got := split(b.String(), 120)
	var code []string
	for i, c := range got {
		if size(c) > 120 {
			t.Errorf("chunk %d has %d characters", i, size(c))
		}
		if strings.Count(c, "```")%2 != 0 {
			t.Errorf("chunk %d is unbalanced: %q", i, c)
		}
		if i > 0 && i < len(got)-1 && !strings.HasPrefix(c, "```python\n") {
			t.Errorf("chunk %d does not reopen the block: %q", i, c)
		}
		for _, l := range strings.Split(c, "\n") {
			if strings.HasPrefix(l, "print(") {
				code = append(code, l)
			}
		}
	}
	if len(code) != 40 || code[0] != "print(00)" || code[39] != "print(39)" {
		t.Errorf("code lines: %q", code)
	}
	if !strings.HasSuffix(got[len(got)-1], "Outro.") || !strings.HasPrefix(got[0], "Intro line.") {
		t.Errorf("chunks: %q", got)
	}
}

func TestSplitHardWrapsAVeryLongLine(t *testing.T) {
	text := strings.Repeat("abcdefghij ", 500) // 5,500 characters, one line
	got := split(text, 2000)
	if len(got) < 3 {
		t.Fatalf("%d chunks", len(got))
	}
	total := 0
	for _, c := range got {
		if size(c) > 2000 {
			t.Errorf("chunk of %d", size(c))
		}
		total += len(strings.Fields(c))
	}
	if total != 500 {
		t.Errorf("%d words survived, want 500", total)
	}
}

func TestSizeCountsUTF16(t *testing.T) {
	if n := size("a😀é"); n != 4 {
		t.Errorf("size = %d, want 4", n)
	}
	got := split(strings.Repeat("😀", 1500), 2000) // 3,000 UTF-16 units
	if len(got) != 2 || size(got[0]) > 2000 {
		t.Errorf("emoji split into %d chunks (first %d)", len(got), size(got[0]))
	}
}

func TestRenderSourcesAndButtons(t *testing.T) {
	var bs []bot.Button
	for i := range 7 {
		bs = append(bs, bot.Button{Label: fmt.Sprint("b", i), Action: "act", Value: fmt.Sprint(i)})
	}
	chunks, comps := render(bot.Reply{
		Text:    "Answer.",
		Sources: []bot.Source{{Title: "Install [guide]", URL: "https://example.org/i"}, {Title: "FAQ", Path: "docs/faq.md"}},
		Buttons: bs,
	})
	want := "Answer.\n\n**Sources**\n- [Install (guide)](<https://example.org/i>)\n- FAQ (`docs/faq.md`)"
	if len(chunks) != 1 || chunks[0] != want {
		t.Errorf("chunks = %q", chunks)
	}
	if len(comps) != 2 {
		t.Fatalf("%d rows, want 2", len(comps))
	}
	row := comps[0].(discordgo.ActionsRow)
	if len(row.Components) != 5 || row.Components[4].(discordgo.Button).CustomID != "act:4" {
		t.Errorf("first row = %+v", row)
	}
	if n := len(comps[1].(discordgo.ActionsRow).Components); n != 2 {
		t.Errorf("second row has %d buttons", n)
	}
}

func TestForwardIsOnlyAMessageCommand(t *testing.T) {
	cmds := applicationCommands([]bot.CommandSpec{{Name: "ask", ArgName: "question"}, {Name: ForwardCommand}, {Name: "forget-me"}})
	var got []string
	for _, c := range cmds {
		got = append(got, fmt.Sprintf("%d:%s", c.Type, c.Name))
	}
	if want := "1:ask 1:forget-me 3:" + ForwardCommandName; strings.Join(got, " ") != want {
		t.Fatalf("commands = %q, want %q", strings.Join(got, " "), want)
	}
}
