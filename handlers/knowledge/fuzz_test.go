package knowledge

import (
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"unicode/utf8"
)

// FuzzSplit checks Split on any file: invalid UTF-8 is an error naming the
// file and the first bad byte; otherwise every chunk is numbered in order,
// non-empty, trimmed, in English or German, and made of lines of the file
// (a .txt file keeps every word, in order).
func FuzzSplit(f *testing.F) {
	for _, dir := range []string{"testdata/split", "../../knowledge/en", "../../knowledge/de"} {
		files, _ := filepath.Glob(filepath.Join(dir, "*"))
		for _, name := range files {
			data, err := os.ReadFile(name)
			if err != nil || len(data) > 16<<10 {
				continue
			}
			f.Add(filepath.Base(name), data)
		}
	}
	f.Add("notes.txt", []byte("---\ntitle: Notes\nlang: de-AT\n---\nErster Absatz.\n\n\nZweiter\nAbsatz.\r\n"))
	f.Add("a.md", []byte("\uFEFFTitle\n=====\n\nIntro\n\nSub\n---\n```\n# not a heading\n```\n#hashtag\n## H ##\n"))
	f.Add("bad.md", []byte("ok \xe2\x82 broken"))
	f.Fuzz(func(t *testing.T, source string, data []byte) {
		if source == "" || !utf8.ValidString(source) {
			source = "doc.md"
		}
		chunks, err := Split(source, data)
		if off, bad := invalidUTF8(data); bad {
			want := source + ": not valid UTF-8 at byte " + strconv.Itoa(off)
			if err == nil || !strings.HasPrefix(err.Error(), want) {
				t.Fatalf("invalid UTF-8 at %d: error %v, want %q", off, err, want)
			}
			if r, size := utf8.DecodeRune(data[off:]); !utf8.Valid(data[:off]) || r != utf8.RuneError || size != 1 {
				t.Fatalf("byte %d is not where the file stops being UTF-8", off)
			}
			return
		}
		if err != nil {
			if !strings.HasPrefix(err.Error(), source+": ") {
				t.Fatalf("error %q does not name the file", err)
			}
			return
		}
		text := strings.ReplaceAll(strings.ReplaceAll(strings.TrimPrefix(string(data), "\uFEFF"), "\r\n", "\n"), "\r", "\n")
		_, body, err := frontMatter(text)
		if err != nil {
			t.Fatalf("Split accepted front matter that frontMatter refuses: %v", err)
		}
		lines := map[string]bool{}
		for _, l := range strings.Split(body, "\n") {
			lines[strings.TrimRight(l, " \t")] = true
		}
		for i, c := range chunks {
			if c.ID != source+"#"+strconv.Itoa(i) || c.Source != source {
				t.Errorf("chunk %d is %q from %q", i, c.ID, c.Source)
			}
			if c.Lang != "en" && c.Lang != "de" {
				t.Errorf("chunk %d: lang %q", i, c.Lang)
			}
			if c.Title == "" {
				t.Errorf("chunk %d has no title", i)
			}
			if strings.TrimSpace(c.Text) == "" || c.Text != strings.TrimRight(c.Text, " \t\n") || strings.HasPrefix(c.Text, "\n") {
				t.Errorf("chunk %d text not trimmed: %q", i, c.Text)
			}
			for _, l := range strings.Split(c.Text, "\n") {
				if l = strings.TrimRight(l, " \t"); l != "" && !lines[l] {
					t.Fatalf("chunk %d has the line %q, which is not in the file", i, l)
				}
			}
		}
		if strings.EqualFold(filepath.Ext(source), ".txt") {
			var all []string
			for _, c := range chunks {
				all = append(all, c.Text)
			}
			if got, want := strings.Fields(strings.Join(all, " ")), strings.Fields(body); strings.Join(got, " ") != strings.Join(want, " ") {
				t.Fatalf("words changed:\n got %q\nwant %q", got, want)
			}
		}
	})
}

// FuzzFrontMatter checks that front matter is only taken from a text that
// opens with a "---" line, and that the body is always what follows it.
func FuzzFrontMatter(f *testing.F) {
	f.Add("---\ntitle: Install\nurl: https://example.org/install\nlang: en\n---\n# Install\n")
	f.Add("---  \ntitle: [unclosed\n...\nbody")
	f.Add("---\nno end\n")
	f.Add("--- \n---\n")
	f.Add("text\n---\ntitle: x\n---\n")
	f.Add("---\na: &a [*a]\n---\n")
	f.Fuzz(func(t *testing.T, text string) {
		fm, body, err := frontMatter(text)
		if err != nil {
			if !strings.HasPrefix(err.Error(), "front matter: ") {
				t.Errorf("error %q does not say it is the front matter", err)
			}
			return
		}
		if !strings.HasSuffix(text, body) {
			t.Fatalf("body %q is not the end of %q", body, text)
		}
		first, _, _ := strings.Cut(text, "\n")
		if strings.TrimRight(first, " \t") != "---" || !strings.Contains(text, "\n") {
			if body != text || fm != (frontMatterFields{}) {
				t.Fatalf("front matter %+v, body %q taken from text without it", fm, body)
			}
			return
		}
		if body == text && fm != (frontMatterFields{}) {
			t.Fatalf("fields %+v without a closed front matter", fm)
		}
		if body != text {
			// What was cut off ends with the closing line.
			head := strings.TrimSuffix(text[:len(text)-len(body)], "\n")
			last := head[strings.LastIndexByte(head, '\n')+1:]
			if l := strings.TrimRight(last, " \t"); l != "---" && l != "..." {
				t.Fatalf("front matter %q does not end with a closing line", head)
			}
		}
	})
}
