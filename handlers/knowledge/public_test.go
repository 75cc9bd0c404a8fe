package knowledge

import (
	"context"
	"log/slog"
	"strings"
	"testing"
	"testing/fstest"
	"time"

	"github.com/einsatz/einsatz/bot/kb"
	"github.com/einsatz/einsatz/bot/kb/kbtest"
)

// The public pages are the file, website and Git documents with their
// sections in order, never an added one; one is found by the hash at the
// end of its slug (also under an old title's words) and a removed document
// is gone after the next sync.
func TestPublicPages(t *testing.T) {
	ctx := context.Background()
	store := kbtest.NewMem()
	fsys := fstest.MapFS{"install.md": {Data: []byte("# Install Einsatz\n\nDownload the binary.\n\n## From source\n\nRun `go build`.\n"), ModTime: time.Date(2026, 11, 2, 0, 0, 0, 0, time.UTC)}}
	b := NewBase(store, []Folder{{FS: fsys, Root: ".", BaseURL: "https://github.com/you/project/blob/main/docs/"}}, slog.New(slog.DiscardHandler))
	now := time.Date(2026, 12, 1, 0, 0, 0, 0, time.UTC)
	if _, err := putMarkdown(ctx, store, kb.OriginWebsite, "docs.example.org/sync", "Sync tokens", "https://docs.example.org/sync", "de", "h1",
		"# Sync-Token\n\nEin Token läuft nach 90 Tagen ab.\n", now); err != nil {
		t.Fatal(err)
	}
	if _, err := b.Sync(ctx, nil); err != nil {
		t.Fatal(err)
	}
	if _, err := b.Add(ctx, "reply", "A saved reply", "", "Hi Alice, your order 4711 shipped."); err != nil {
		t.Fatal(err)
	}
	pages, err := b.PublicPages(ctx)
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, p := range pages {
		got = append(got, p.Origin+":"+p.Title+":"+p.URL+":"+p.Lang)
	}
	want := []string{"file:Install Einsatz:https://github.com/you/project/blob/main/docs/install.md:en", "website:Sync-Token:https://docs.example.org/sync:de"}
	if strings.Join(got, "|") != strings.Join(want, "|") {
		t.Fatalf("pages = %q, want %q", got, want)
	}
	inst := pages[0]
	if len(inst.Sections) != 2 || inst.Sections[1].Heading != "From source" || !strings.Contains(inst.Sections[1].Text, "go build") ||
		!strings.Contains(inst.Sections[0].Text, "Download the binary") {
		t.Errorf("sections = %+v", inst.Sections)
	}
	if !strings.HasPrefix(inst.Slug, "install-einsatz-") || !inst.Updated.Equal(time.Date(2026, 11, 2, 0, 0, 0, 0, time.UTC)) {
		t.Errorf("slug %q, updated %v", inst.Slug, inst.Updated)
	}
	if p, ok, _ := b.PublicPage(ctx, "old-title-words-"+PageHash(inst.Source)); !ok || p.Slug != inst.Slug {
		t.Errorf("lookup by an old slug: %v %q", ok, p.Slug)
	}
	if _, ok, _ := b.PublicPage(ctx, "a-saved-reply-"+PageHash("added/reply.md")); ok {
		t.Error("an added document is public")
	}
	delete(fsys, "install.md")
	if _, err := b.Sync(ctx, nil); err != nil {
		t.Fatal(err)
	}
	if _, ok, _ := b.PublicPage(ctx, inst.Slug); ok {
		t.Error("a removed file is still public")
	}
}
