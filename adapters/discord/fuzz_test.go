package discord

import (
	"encoding/json"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"unicode"
	"unicode/utf8"

	"github.com/bwmarrin/discordgo"

	"github.com/einsatz/einsatz/bot"
)

// FuzzTranslate decodes a gateway payload as the message, reaction or
// interaction kind picks and translates it in the channel where picks:
// translation never panics, keys and places every event on Discord, and
// leaves only valid UTF-8 in it.
func FuzzTranslate(f *testing.F) {
	files, err := filepath.Glob(filepath.Join("testdata", "*.json"))
	if err != nil || len(files) == 0 {
		f.Fatalf("no recorded payloads: %v", err)
	}
	for _, name := range files {
		data, err := os.ReadFile(name)
		if err != nil {
			f.Fatal(err)
		}
		kind := byte(0)
		switch base := filepath.Base(name); {
		case strings.HasPrefix(base, "reaction"):
			kind = 1
		case strings.HasPrefix(base, "interaction"):
			kind = 2
		}
		for where := range byte(4) {
			f.Add(data, kind, where)
		}
	}
	f.Add([]byte(`{"id":"1","channel_id":"2","content":"<@<@900000000000000001>900000000000000001> \xff","author":{"id":"3"},"mentions":[null,{"id":"3"}]}`), byte(0), byte(0))
	f.Add([]byte(`{"type":2,"id":"x","data":{"type":3,"name":"Send to research inbox","target_id":"9"},"user":{"id":"5"}}`), byte(2), byte(3))

	channels := []channelInfo{general, thread, post, dm}
	f.Fuzz(func(t *testing.T, payload []byte, kind, where byte) {
		ch := channels[int(where)%len(channels)]
		var (
			ev bot.Event
			ok bool
		)
		switch kind % 3 {
		case 0:
			var m discordgo.Message
			if json.Unmarshal(payload, &m) != nil {
				return
			}
			ev, ok = translateMessage(&m, ch, tdID)
			if ok {
				if m.Author.ID == tdID.UserID {
					t.Errorf("the bot's own message became an event: %+v", ev)
				}
				if ev.Key != messageKey(m.ID) || ev.Kind != bot.KindMessage || ev.Text != strings.TrimSpace(ev.Text) {
					t.Errorf("message event %+v", ev)
				}
				if ev.DM != (m.GuildID == "") {
					t.Errorf("DM %v for guild %q", ev.DM, m.GuildID)
				}
			}
		case 1:
			var add discordgo.MessageReactionAdd
			if json.Unmarshal(payload, &add) != nil || add.MessageReaction == nil {
				return
			}
			r := add.MessageReaction
			ev, ok = translateReaction(r, add.Member, where%2 == 1, ch, tdID)
			if ok && (ev.Kind != bot.KindReaction || ev.Target == nil || ev.Reaction != emojiName(r.Emoji) || ev.User.ID == tdID.UserID) {
				t.Errorf("reaction event %+v", ev)
			}
		case 2:
			var i discordgo.Interaction
			if json.Unmarshal(payload, &i) != nil {
				return
			}
			ev, ok = translateInteraction(&i, ch, tdID)
			if ok {
				if ev.Kind != bot.KindCommand && ev.Kind != bot.KindInteraction || ev.Key != interactionKey(i.ID) {
					t.Errorf("interaction event %+v", ev)
				}
				if ev.User.ID == "" || ev.User.ID == tdID.UserID {
					t.Errorf("interaction by %q accepted", ev.User.ID)
				}
			}
		}
		if !ok {
			return
		}
		if ev.Platform != bot.PlatformDiscord || ev.User.Platform != bot.PlatformDiscord || !strings.HasPrefix(ev.Key, "discord:") {
			t.Errorf("event not on Discord: %+v", ev)
		}
		if ev.Permalink != "" && !strings.HasPrefix(ev.Permalink, "https://discord.com/channels/") {
			t.Errorf("permalink %q", ev.Permalink)
		}
		checkUTF8(t, reflect.ValueOf(ev), "Event")
	})
}

// checkUTF8 walks a value and reports every string that is not valid UTF-8.
func checkUTF8(t *testing.T, v reflect.Value, path string) {
	t.Helper()
	switch v.Kind() {
	case reflect.String:
		if !utf8.ValidString(v.String()) {
			t.Errorf("%s is not valid UTF-8: %q", path, v.String())
		}
	case reflect.Pointer, reflect.Interface:
		if !v.IsNil() {
			checkUTF8(t, v.Elem(), path)
		}
	case reflect.Struct:
		for i := range v.NumField() {
			if v.Type().Field(i).IsExported() {
				checkUTF8(t, v.Field(i), path+"."+v.Type().Field(i).Name)
			}
		}
	case reflect.Slice, reflect.Array:
		for i := range v.Len() {
			checkUTF8(t, v.Index(i), path)
		}
	}
}

// FuzzSplit checks the splitting of replies into Discord messages: no
// chunk over the limit (in UTF-16 units) or blank, no character cut in
// two, the content kept (split only cuts at line breaks and spaces, and
// closes and reopens code blocks), and code fences balanced in every chunk
// when they are in the text.
func FuzzSplit(f *testing.F) {
	var long strings.Builder
	long.WriteString("Intro.\n```python\n")
	for range 300 {
		long.WriteString("print('hello, world')  # a comment\n")
	}
	long.WriteString("```\nOutro.")
	f.Add(long.String(), 2000)
	f.Add(strings.Repeat("word ", 1000), 2000)
	f.Add(strings.Repeat("😀é", 1500), 2000)
	f.Add(strings.Repeat("日本語の文\u3000", 300)+strings.Repeat("non\u00a0breaking ", 200), 2000)
	f.Add("para\n\n```go\nfunc main() {}\n```\n\nmore ``` inline ``` text\n\n"+strings.Repeat("x", 300), 120)
	f.Add("**Sources**\n- [Install (guide)](<https://example.org/i>)\n- FAQ (`docs/faq.md`)", 60)
	f.Fuzz(func(t *testing.T, text string, limit int) {
		// Discord's limit is 2000; smaller ones exercise the same code on
		// short input. Below ~60 the fence and wrap margins do not fit.
		limit = 60 + abs(limit)%2000
		chunks := split(text, limit)
		for i, c := range chunks {
			if size(c) > limit {
				t.Fatalf("chunk %d has %d units, limit %d: %q", i, size(c), limit, c)
			}
			if strings.TrimSpace(c) == "" {
				t.Errorf("chunk %d is blank", i)
			}
			if utf8.ValidString(text) && !utf8.ValidString(c) {
				t.Errorf("chunk %d cuts a character: %q", i, c)
			}
		}
		joined := strings.Join(chunks, "\n")
		if !strings.Contains(text, "`") {
			if got, want := squeeze(joined), squeeze(text); got != want {
				t.Fatalf("content changed:\n got %q\nwant %q", got, want)
			}
			return
		}
		wrap := limit - 3*len("\n```") - 24
		toggles := 0
		for _, l := range strings.Split(text, "\n") {
			if size(l) > wrap {
				return // hard-wrapped lines may start with a fence of their own
			}
			if fenceToggles(l) {
				toggles++
			}
		}
		if got, want := squeeze(dropFenceLines(joined)), squeeze(dropFenceLines(text)); got != want {
			t.Fatalf("content changed:\n got %q\nwant %q", got, want)
		}
		if toggles%2 == 0 {
			for i, c := range chunks {
				if strings.Count(c, fence)%2 != 0 && !strings.Contains(c, "````") {
					t.Errorf("chunk %d has an unclosed code block: %q", i, c)
				}
			}
		}
	})
}

// squeeze drops white space and backticks.
func squeeze(s string) string {
	return strings.Map(func(r rune) rune {
		if r == '`' || unicode.IsSpace(r) {
			return -1
		}
		return r
	}, s)
}

// dropFenceLines drops the lines that open or close a code block, which
// split may add (with the block's language) where it cuts a block.
func dropFenceLines(s string) string {
	var keep []string
	for _, l := range strings.Split(s, "\n") {
		if !strings.HasPrefix(strings.TrimSpace(l), fence) {
			keep = append(keep, l)
		}
	}
	return strings.Join(keep, "\n")
}

func abs(n int) int {
	if n < 0 {
		if n == -n { // math.MinInt
			return 0
		}
		return -n
	}
	return n
}
