package discord

import (
	"strings"
	"unicode"
	"unicode/utf16"
	"unicode/utf8"

	"github.com/bwmarrin/discordgo"

	"github.com/einsatz/einsatz/bot"
)

// MaxMessage is Discord's limit on a message's content.
const MaxMessage = 2000

// size counts like the strictest reading of "2,000 characters": UTF-16
// code units, so an emoji counts twice and a chunk never ends up too long.
func size(s string) int {
	n := 0
	for _, r := range s {
		if l := utf16.RuneLen(r); l > 0 {
			n += l
		} else {
			n++
		}
	}
	return n
}

const fence = "```"

// fenceToggles reports whether a line opens or closes a code block: it has
// an odd number of ``` in it.
func fenceToggles(line string) bool { return strings.Count(line, fence)%2 == 1 }

// reopenFence is the fence that reopens a block in the next chunk, with the
// opener's language when it has one ("```go").
func reopenFence(opener string) string {
	i := strings.LastIndex(opener, fence)
	if i < 0 {
		return fence
	}
	lang := strings.TrimSpace(opener[i+len(fence):])
	if lang == "" || len(lang) > 20 || strings.ContainsAny(lang, " `") {
		return fence
	}
	return fence + lang
}

// split cuts text into chunks of at most limit, preferring paragraph
// breaks, then line breaks, and never cutting inside a code block; a block
// longer than a chunk is closed at the end of one chunk and reopened (with
// its language) at the start of the next.
func split(text string, limit int) []string {
	text = strings.Trim(text, "\n")
	if strings.TrimSpace(text) == "" {
		return nil
	}
	if size(text) <= limit {
		return []string{text}
	}
	const closing = "\n" + fence
	var lines []string
	for _, l := range strings.Split(text, "\n") {
		lines = append(lines, hardWrap(l, limit-3*len(closing)-24)...)
	}
	// block[i] is the index of the opener line of the code block line i
	// belongs to (opener and closer included), or -1 for prose.
	block := make([]int, len(lines))
	open := -1
	for i, l := range lines {
		block[i] = open
		if fenceToggles(l) {
			if open < 0 {
				open = i
				block[i] = i
			} else {
				open = -1
			}
		}
	}
	// inside reports whether a cut before line b falls within a block.
	inside := func(b int) bool {
		return b > 0 && b < len(lines) && block[b] >= 0 && block[b] == block[b-1]
	}

	var chunks []string
	start, prefix := 0, ""
	for start < len(lines) {
		// The furthest cut that fits, with room to close a fence.
		maxEnd, total := start+1, size(prefix)
		for e := start + 1; e <= len(lines); e++ {
			if e > start+1 || prefix != "" {
				total++ // the newline before lines[e-1]
			}
			total += size(lines[e-1])
			need := total
			if inside(e) {
				need += len(closing)
			}
			if total > limit {
				break
			}
			if need <= limit {
				maxEnd = e
			}
		}
		end := maxEnd
		if end < len(lines) {
			end = bestCut(lines, block, start, end, limit, inside)
		}
		body := strings.Join(lines[start:end], "\n")
		if prefix != "" {
			body = prefix + "\n" + body
		}
		next := ""
		if inside(end) {
			body += closing
			next = reopenFence(lines[block[end]])
		}
		if strings.TrimSpace(body) != "" {
			chunks = append(chunks, strings.Trim(body, "\n"))
		}
		start, prefix = end, next
		for prefix == "" && start < len(lines) && strings.TrimSpace(lines[start]) == "" {
			start++ // no chunk starts with blank lines
		}
	}
	return chunks
}

// bestCut picks where to end a chunk that could reach end: the last
// paragraph break outside code in the second half of the chunk; else end
// when it is outside code; else, inside a block that starts in this chunk
// and fits a chunk of its own, right before the block; else end (the
// block is closed and reopened).
func bestCut(lines []string, block []int, start, end, limit int, inside func(int) bool) int {
	for b := end; b > start+(end-start)/2; b-- {
		if !inside(b) && block[b-1] < 0 && strings.TrimSpace(lines[b-1]) == "" {
			return b
		}
	}
	if !inside(end) {
		return end
	}
	o := block[end]
	if o > start {
		n := 0
		for c := o; c < len(lines) && block[c] == o; c++ {
			n += size(lines[c]) + 1
		}
		if n <= limit || o == end-1 {
			return o
		}
	}
	return end
}

// hardWrap cuts a line longer than max at spaces (or anywhere, for a run
// without spaces), the only case where a chunk ends mid-line.
func hardWrap(line string, max int) []string {
	if size(line) <= max {
		return []string{line}
	}
	var out []string
	for size(line) > max {
		cut, n := 0, 0
		lastSpace := -1
		for i, r := range line {
			w := utf16.RuneLen(r)
			if n+w > max {
				break
			}
			n += w
			_, width := utf8.DecodeRuneInString(line[i:]) // 1 for an invalid byte, not RuneLen(U+FFFD)
			cut = i + width
			if unicode.IsSpace(r) {
				lastSpace = i
			}
		}
		if lastSpace > max/2 {
			out = append(out, line[:lastSpace])
			_, n := utf8.DecodeRuneInString(line[lastSpace:]) // U+3000, U+00A0: more than one byte
			line = line[lastSpace+n:]
			continue
		}
		out = append(out, line[:cut])
		line = line[cut:]
	}
	return append(out, line)
}

// render turns a reply into message contents and the buttons of its last
// message.
func render(r bot.Reply) ([]string, []discordgo.MessageComponent) {
	text := strings.TrimSpace(r.Text)
	if len(r.Sources) > 0 {
		var b strings.Builder
		b.WriteString(text)
		if text != "" {
			b.WriteString("\n\n")
		}
		b.WriteString("**Sources**")
		for _, s := range r.Sources {
			title := strings.NewReplacer("[", "(", "]", ")", "\n", " ").Replace(s.Title)
			if title == "" {
				title = s.URL
			}
			switch {
			case s.URL != "":
				// <…> keeps Discord from unfurling every link into an embed.
				b.WriteString("\n- [" + title + "](<" + s.URL + ">)")
			case s.Path != "":
				b.WriteString("\n- " + title + " (`" + strings.ReplaceAll(s.Path, "`", "") + "`)")
			default:
				b.WriteString("\n- " + title)
			}
		}
		text = b.String()
	}
	return split(text, MaxMessage), buttons(r.Buttons)
}

// buttons lays buttons out in rows of five (Discord's limit), at most five
// rows; the custom id is "action:value".
func buttons(bs []bot.Button) []discordgo.MessageComponent {
	var rows []discordgo.MessageComponent
	var row []discordgo.MessageComponent
	for i, b := range bs {
		if i >= 25 {
			break
		}
		id := b.Action
		if b.Value != "" {
			id += ":" + b.Value
		}
		row = append(row, discordgo.Button{
			Label:    truncate(b.Label, 80),
			Style:    discordgo.SecondaryButton,
			CustomID: truncate(id, 100),
		})
		if len(row) == 5 {
			rows = append(rows, discordgo.ActionsRow{Components: row})
			row = nil
		}
	}
	if len(row) > 0 {
		rows = append(rows, discordgo.ActionsRow{Components: row})
	}
	return rows
}

// truncate shortens s to at most n characters.
func truncate(s string, n int) string {
	if utf8.RuneCountInString(s) <= n {
		return s
	}
	r := []rune(s)
	return string(r[:n-1]) + "…"
}
