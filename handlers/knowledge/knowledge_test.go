package knowledge

import (
	"context"
	"errors"
	"math"
	"os"
	"path"
	"reflect"
	"strings"
	"sync"
	"testing"
	"testing/fstest"

	"github.com/einsatz/einsatz/bot/kb"
)

func readTestdata(t *testing.T, name string) []byte {
	t.Helper()
	data, err := os.ReadFile(path.Join("testdata", name))
	if err != nil {
		t.Fatal(err)
	}
	return data
}

func TestSplit(t *testing.T) {
	const guideURL = "https://example.org/guide"
	guide := func(i int, heading, text string) kb.Chunk {
		return kb.Chunk{
			ID:      "guide.md#" + string(rune('0'+i)),
			Source:  "guide.md",
			Title:   "Guide: installing the widget",
			Heading: heading,
			URL:     guideURL,
			Text:    text,
			Lang:    "en",
		}
	}
	anleitung := func(i int, heading, text string) kb.Chunk {
		return kb.Chunk{
			ID:      "de/anleitung.md#" + string(rune('0'+i)),
			Source:  "de/anleitung.md",
			Title:   "Die Anleitung",
			Heading: heading,
			Text:    text,
			Lang:    "de",
		}
	}
	tests := []struct {
		name   string
		source string
		file   string
		want   []kb.Chunk
	}{
		{
			name:   "front matter, nested headings, code blocks",
			source: "guide.md",
			file:   "split/guide.md",
			want: []kb.Chunk{
				guide(0, "", "This intro comes before any section."),
				guide(1, "Installation", "Install the widget first."),
				guide(2, "Installation > From source", "Build it like this:\n\n```sh\n# this comment is not a heading\n## nor is this\nmake widget\n```"),
				guide(3, "Installation > From a package", "~~~\n# still code\n~~~"),
				guide(4, "Usage", "Use the widget.\n\n#hashtag is text, not a heading."),
				guide(5, "FAQ", "    # indented code, not a heading"),
			},
		},
		{
			name:   "title from heading, setext headings, guessed language",
			source: "de/anleitung.md",
			file:   "split/heading-title.md",
			want: []kb.Chunk{
				anleitung(0, "", "Intro text before the first heading.\n\nDer erste Absatz ist für die Einleitung."),
				anleitung(1, "Einrichtung", "Die Einrichtung ist einfach und schnell erledigt."),
				anleitung(2, "Einrichtung > Mit Docker", "Das ist ein Abschnitt unter der Einrichtung."),
			},
		},
		{
			name:   "plain text paragraphs",
			source: "notes.txt",
			file:   "split/notes.txt",
			want: []kb.Chunk{{
				ID:     "notes.txt#0",
				Source: "notes.txt",
				Title:  "notes",
				Text:   "The first paragraph of the notes.\nIt has two lines.\n\nThe second paragraph.",
				Lang:   "en",
			}},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := Split(tt.source, readTestdata(t, tt.file))
			if err != nil {
				t.Fatal(err)
			}
			if !reflect.DeepEqual(got, tt.want) {
				t.Errorf("Split(%q):\n got %#v\nwant %#v", tt.source, got, tt.want)
			}
		})
	}
}

func TestSplitText(t *testing.T) {
	para := strings.Repeat("word ", 100) // 500 bytes
	data := []byte(para + "\n\n" + para + "\n\n" + para + "\n\n\n" + "short\r\n")
	got, err := Split("long.txt", data)
	if err != nil {
		t.Fatal(err)
	}
	var texts []string
	for _, c := range got {
		texts = append(texts, c.Text)
	}
	p := strings.TrimSpace(para)
	want := []string{p + "\n\n" + p, p + "\n\nshort"}
	if !reflect.DeepEqual(texts, want) {
		t.Errorf("paragraph groups = %q, want %q", texts, want)
	}
}

func TestSplitEdgeCases(t *testing.T) {
	tests := []struct {
		name   string
		source string
		data   string
		want   []kb.Chunk
	}{
		{"empty", "a.md", "", []kb.Chunk{}},
		{"front matter only", "a.md", "---\ntitle: T\n---\n", []kb.Chunk{}},
		{
			name:   "BOM and CRLF",
			source: "a.md",
			data:   "\uFEFF---\r\ntitle: T\r\nurl: u\r\n---\r\nHello there.\r\n",
			want:   []kb.Chunk{{ID: "a.md#0", Source: "a.md", Title: "T", URL: "u", Text: "Hello there.", Lang: "en"}},
		},
		{
			name:   "unclosed front matter is text",
			source: "dir/b.markdown",
			data:   "---\nHello world, this is the text.",
			want:   []kb.Chunk{{ID: "dir/b.markdown#0", Source: "dir/b.markdown", Title: "b", Text: "---\nHello world, this is the text.", Lang: "en"}},
		},
		{
			name:   "unclosed code fence runs to the end",
			source: "c.md",
			data:   "## A\n```\n## B\n",
			want:   []kb.Chunk{{ID: "c.md#0", Source: "c.md", Title: "c", Heading: "A", Text: "```\n## B", Lang: "en"}},
		},
		{
			name:   "skipped levels and going back up",
			source: "d.md",
			data:   "## A\na\n#### B\nb\n### C\nc\n## D\nd\n",
			want: []kb.Chunk{
				{ID: "d.md#0", Source: "d.md", Title: "d", Heading: "A", Text: "a", Lang: "en"},
				{ID: "d.md#1", Source: "d.md", Title: "d", Heading: "A > B", Text: "b", Lang: "en"},
				{ID: "d.md#2", Source: "d.md", Title: "d", Heading: "A > C", Text: "c", Lang: "en"},
				{ID: "d.md#3", Source: "d.md", Title: "d", Heading: "D", Text: "d", Lang: "en"},
			},
		},
		{
			name:   "front matter lang wins over the guess",
			source: "e.md",
			data:   "---\nlang: de\n---\nThe text is English.",
			want:   []kb.Chunk{{ID: "e.md#0", Source: "e.md", Title: "e", Text: "The text is English.", Lang: "de"}},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := Split(tt.source, []byte(tt.data))
			if err != nil {
				t.Fatal(err)
			}
			if !reflect.DeepEqual(got, tt.want) {
				t.Errorf("Split(%q):\n got %#v\nwant %#v", tt.data, got, tt.want)
			}
		})
	}
}

func TestSplitErrors(t *testing.T) {
	tests := []struct {
		name    string
		source  string
		data    string
		wantErr string
	}{
		{
			name:    "invalid UTF-8",
			source:  "knowledge/x.md",
			data:    "---\ntitle: Größe\n---\nGr\xfc\xdfe",
			wantErr: "knowledge/x.md: not valid UTF-8 at byte 25: save the file as UTF-8",
		},
		{
			name:    "invalid UTF-8 at the start",
			source:  "y.txt",
			data:    "\xff",
			wantErr: "y.txt: not valid UTF-8 at byte 0: save the file as UTF-8",
		},
		{
			name:    "unsupported lang",
			source:  "z.md",
			data:    "---\nlang: fr\n---\nBonjour",
			wantErr: `z.md: front matter: lang "fr": want "en" or "de"`,
		},
		{
			name:    "broken YAML",
			source:  "w.md",
			data:    "---\ntitle: [unclosed\n---\ntext",
			wantErr: "w.md: front matter: yaml:",
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := Split(tt.source, []byte(tt.data))
			if err == nil || !strings.HasPrefix(err.Error(), tt.wantErr) {
				t.Errorf("Split error = %v, want %q", err, tt.wantErr)
			}
		})
	}
}

func TestLoadFS(t *testing.T) {
	fsys := fstest.MapFS{
		"kb/b.md":           {Data: []byte("## B\nbee")},
		"kb/a.txt":          {Data: []byte("ay")},
		"kb/sub/c.markdown": {Data: []byte("see")},
		"kb/sub/D.MD":       {Data: []byte("dee")},
		"kb/image.png":      {Data: []byte("\x89PNG\xff")},
		"kb/.hidden.md":     {Data: []byte("\xff")},
		"kb/.git/x.md":      {Data: []byte("\xff")},
		"other/e.md":        {Data: []byte("e")},
	}
	chunks, err := LoadFS(fsys, "kb")
	if err != nil {
		t.Fatal(err)
	}
	var ids []string
	for _, c := range chunks {
		ids = append(ids, c.ID)
	}
	want := []string{"a.txt#0", "b.md#0", "sub/D.MD#0", "sub/c.markdown#0"}
	if !reflect.DeepEqual(ids, want) {
		t.Errorf("LoadFS IDs = %q, want %q", ids, want)
	}

	fsys["kb/sub/bad.md"] = &fstest.MapFile{Data: []byte("ok\n\xc3(")}
	_, err = LoadFS(fsys, "kb")
	if err == nil || !strings.Contains(err.Error(), "kb/sub/bad.md: not valid UTF-8 at byte 3") {
		t.Errorf("LoadFS error = %v, want it to name kb/sub/bad.md and byte 3", err)
	}

	if _, err := LoadFS(fsys, "missing"); err == nil {
		t.Error("LoadFS of a missing root: no error")
	}
}

// loadKB loads the example knowledge base of the repository.
func loadKB(tb testing.TB) []kb.Chunk {
	tb.Helper()
	chunks, err := LoadFS(os.DirFS("../../knowledge"), ".")
	if err != nil {
		tb.Fatal(err)
	}
	return chunks
}

func newTestIndex(tb testing.TB, chunks []kb.Chunk) *Index {
	tb.Helper()
	ix, err := NewIndex(chunks)
	if err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(func() { ix.Close() })
	return ix
}

func TestLoadFSExampleKB(t *testing.T) {
	chunks := loadKB(t)
	perLang := map[string]int{}
	for _, c := range chunks {
		perLang[c.Lang]++
		if c.Title == "" || c.URL == "" || c.Text == "" {
			t.Errorf("%s: empty Title, URL or Text: %+v", c.ID, c)
		}
		if dir, _, _ := strings.Cut(c.Source, "/"); dir != c.Lang {
			t.Errorf("%s: Lang = %q, want the language of its folder", c.ID, c.Lang)
		}
		if !strings.HasSuffix(c.URL, "/knowledge/"+c.Source) {
			t.Errorf("%s: URL %q does not point at its file", c.ID, c.URL)
		}
	}
	if perLang["en"] == 0 || perLang["de"] == 0 || len(perLang) != 2 {
		t.Errorf("chunks per language = %v, want en and de", perLang)
	}
}

func TestSearchRanking(t *testing.T) {
	ix := newTestIndex(t, loadKB(t))
	tests := []struct {
		query       string
		wantSource  string
		wantHeading string // "" = any
	}{
		{"What is Einsatz?", "en/what-is-einsatz.md", ""},
		{"Was ist Einsatz?", "de/was-ist-einsatz.md", ""},
		{"How do I connect Slack?", "en/connecting-discord-and-slack.md", ""},
		{"Wie verbinde ich Slack?", "de/discord-und-slack-verbinden.md", ""},
		{"installing", "en/getting-started.md", "Installation"},
		{"Does it work without an LLM?", "en/llm-setup.md", "Answering without an LLM"},
		{"Can I use Ollama?", "en/llm-setup.md", "Running a local model with Ollama"},
		{"Kann ich meine Daten löschen?", "de/datenschutz.md", "Datenexport und Löschung"},
		{"Welche Kanalrichtlinien gibt es?", "de/konfiguration.md", ""},
		{"Funktionswunsch", "de/", ""}, // any German chunk: found through "Funktionswünsche"
		{"How can staff take over a thread?", "en/staff-takeover.md", "Taking over a thread"},
	}
	for _, tt := range tests {
		t.Run(tt.query, func(t *testing.T) {
			hits, err := ix.Search(context.Background(), tt.query, 5)
			if err != nil {
				t.Fatal(err)
			}
			if len(hits) == 0 {
				t.Fatal("no hits")
			}
			top := hits[0]
			if !strings.HasPrefix(top.Source, tt.wantSource) || (tt.wantHeading != "" && top.Heading != tt.wantHeading) {
				t.Errorf("top hit = %s [%s], want %s [%s]; hits: %s", top.Source, top.Heading, tt.wantSource, tt.wantHeading, describe(hits))
			}
			if top.Coverage < 0.5 {
				t.Errorf("top hit coverage = %.2f, want >= 0.5", top.Coverage)
			}
			for i := 1; i < len(hits); i++ {
				if hits[i].Score > hits[i-1].Score {
					t.Errorf("hits not sorted by score: %s", describe(hits))
				}
			}
		})
	}
}

func describe(hits []Hit) string {
	var b strings.Builder
	for _, h := range hits {
		b.WriteString("\n  " + h.ID + " [" + h.Heading + "]")
	}
	return b.String()
}

func TestSearchGermanInflection(t *testing.T) {
	chunks, err := LoadFS(os.DirFS("testdata/search"), ".")
	if err != nil {
		t.Fatal(err)
	}
	ix := newTestIndex(t, chunks)
	tests := []struct {
		query string
		want  string // ID of the top hit
	}{
		{"Rechnungen", "billing.md#0"},
		{"Wann kommen die Rechnungen?", "billing.md#0"},
		{"Welche Zahlungsarten gibt es?", "billing.md#1"},
		{"Funktionswunsch", "wishes.md#0"},
		{"funktionswunsche", "wishes.md#0"},
		{"Where are the charts?", "widgets.md#2"},
		{"installing", "widgets.md#1"},
	}
	for _, tt := range tests {
		t.Run(tt.query, func(t *testing.T) {
			hits, err := ix.Search(context.Background(), tt.query, 3)
			if err != nil {
				t.Fatal(err)
			}
			if len(hits) == 0 || hits[0].ID != tt.want {
				t.Errorf("Search(%q) = %s, want %s first", tt.query, describe(hits), tt.want)
			}
		})
	}
}

func TestSearchNoAnswer(t *testing.T) {
	ix := newTestIndex(t, loadKB(t))
	tests := []string{
		"", "   ", "???",
		"what is it?", "How do I do this?", "Was ist das?", "Wie geht das bitte?",
		"quantum banana weather",
		"Quantenbananenwetter",
	}
	for _, q := range tests {
		t.Run(q, func(t *testing.T) {
			hits, err := ix.Search(context.Background(), q, 10)
			if err != nil {
				t.Fatal(err)
			}
			for _, h := range hits {
				if h.Coverage >= 0.3 {
					t.Errorf("hit %s with coverage %.2f, want none >= 0.3", h.ID, h.Coverage)
				}
			}
		})
	}
}

func TestSearchCoverage(t *testing.T) {
	ix := newTestIndex(t, []kb.Chunk{
		{ID: "i#0", Source: "i", Title: "Widgets", Heading: "Setup", Text: "Installation uses the embedded Badger database.", Lang: "en"},
		{ID: "i#1", Source: "i", Title: "Widgets", Heading: "Charts", Text: "Charts are updated every hour.", Lang: "en"},
		{ID: "r#0", Source: "r", Title: "Rechnung", Text: "Die Rechnung kommt per E-Mail.", Lang: "de"},
	})
	tests := []struct {
		query string
		want  map[string]float64 // chunk ID → coverage; chunks not listed must not be hits
	}{
		// install, badger, database match i#0 (English stems); quickly does not.
		{"How do I install the Badger database quickly?", map[string]float64{"i#0": 0.75}},
		{"widget charts", map[string]float64{"i#1": 1, "i#0": 0.5}},
		// rechnung (from Rechnungen) and per match, post does not.
		{"Rechnungen per Post?", map[string]float64{"r#0": 2.0 / 3}},
		{"hourly", nil},
	}
	for _, tt := range tests {
		t.Run(tt.query, func(t *testing.T) {
			hits, err := ix.Search(context.Background(), tt.query, 10)
			if err != nil {
				t.Fatal(err)
			}
			got := map[string]float64{}
			for _, h := range hits {
				got[h.ID] = h.Coverage
			}
			if len(got) != len(tt.want) {
				t.Errorf("hits %v, want %v", got, tt.want)
			}
			for id, w := range tt.want {
				if g, ok := got[id]; !ok || math.Abs(g-w) > 1e-9 {
					t.Errorf("coverage of %s = %v (hit: %v), want %v", id, g, ok, w)
				}
			}
		})
	}
}

func TestSearchLimits(t *testing.T) {
	ix := newTestIndex(t, loadKB(t))
	ctx := context.Background()
	if hits, err := ix.Search(ctx, "Einsatz", 0); err != nil || hits != nil {
		t.Errorf("Search with k=0 = %v, %v; want nil, nil", hits, err)
	}
	if hits, err := ix.Search(ctx, "Einsatz", 3); err != nil || len(hits) != 3 {
		t.Errorf("Search with k=3: %d hits, %v; want 3", len(hits), err)
	}
	long := strings.Repeat("Einsatz Slack Discord Wissensdatenbank ", 1000) + strings.Repeat("x", 10000)
	if _, err := ix.Search(ctx, long, 3); err != nil {
		t.Errorf("Search with a long query: %v", err)
	}
	canceled, cancel := context.WithCancel(ctx)
	cancel()
	if _, err := ix.Search(canceled, "Einsatz", 3); !errors.Is(err, context.Canceled) {
		t.Errorf("Search with a canceled context: %v, want context.Canceled", err)
	}
}

func TestIndex(t *testing.T) {
	if _, err := NewIndex([]kb.Chunk{{ID: "a#0"}, {ID: "a#0"}}); err == nil {
		t.Error("NewIndex with duplicate IDs: no error")
	}
	if _, err := NewIndex([]kb.Chunk{{Source: "a"}}); err == nil {
		t.Error("NewIndex with an empty ID: no error")
	}

	ix, err := NewIndex(nil)
	if err != nil {
		t.Fatal(err)
	}
	if ix.Len() != 0 {
		t.Errorf("empty index Len = %d", ix.Len())
	}
	if hits, err := ix.Search(context.Background(), "Einsatz", 3); err != nil || len(hits) != 0 {
		t.Errorf("Search of an empty index = %v, %v", hits, err)
	}
	if err := ix.Close(); err != nil {
		t.Fatal(err)
	}
	if err := ix.Close(); err != nil {
		t.Errorf("second Close: %v", err)
	}
	if _, err := ix.Search(context.Background(), "Einsatz", 3); err == nil {
		t.Error("Search after Close: no error")
	}

	chunks := loadKB(t)
	if ix := newTestIndex(t, chunks); ix.Len() != len(chunks) {
		t.Errorf("Len = %d, want %d", ix.Len(), len(chunks))
	}
}

func TestSearchConcurrent(t *testing.T) {
	ix := newTestIndex(t, loadKB(t))
	queries := []string{"What is Einsatz?", "Was ist Einsatz?", "How do I connect Slack?", "Funktionswunsch"}
	want := make([]string, len(queries))
	for i, q := range queries {
		hits, err := ix.Search(context.Background(), q, 1)
		if err != nil || len(hits) != 1 {
			t.Fatalf("Search(%q) = %v, %v", q, hits, err)
		}
		want[i] = hits[0].ID
	}
	var wg sync.WaitGroup
	for g := range 4 {
		wg.Go(func() {
			for i := range 20 {
				j := (g + i) % len(queries)
				hits, err := ix.Search(context.Background(), queries[j], 1)
				if err != nil || len(hits) != 1 || hits[0].ID != want[j] {
					t.Errorf("concurrent Search(%q) = %v, %v; want %s", queries[j], hits, err, want[j])
					return
				}
			}
		})
	}
	wg.Wait()
}

func BenchmarkSearch(b *testing.B) {
	ix := newTestIndex(b, loadKB(b))
	queries := []string{
		"What is Einsatz?",
		"Wie verbinde ich Slack?",
		"Does it work without an LLM?",
		"quantum banana weather",
	}
	ctx := context.Background()
	b.ReportAllocs()
	i := 0
	for b.Loop() {
		if _, err := ix.Search(ctx, queries[i%len(queries)], 5); err != nil {
			b.Fatal(err)
		}
		i++
	}
}
