package knowledge_test

import (
	"context"
	"errors"
	"log/slog"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/einsatz/einsatz/bot/kb"
	"github.com/einsatz/einsatz/bot/kb/kbtest"
	"github.com/einsatz/einsatz/handlers/knowledge"
)

// memStore is a test's knowledge store: in memory, no database.
func memStore(*testing.T) *kbtest.Mem { return kbtest.NewMem() }

func write(t *testing.T, dir, name, body string, mod time.Time) {
	t.Helper()
	p := filepath.Join(dir, name)
	if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(p, []byte(body), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.Chtimes(p, mod, mod); err != nil {
		t.Fatal(err)
	}
}

func sources(t *testing.T, s kb.Store) map[string]int {
	t.Helper()
	chunks, err := s.Chunks(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	out := map[string]int{}
	for _, c := range chunks {
		out[c.Source]++
	}
	return out
}

func TestSyncIsIncremental(t *testing.T) {
	dir := t.TempDir()
	t0 := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	write(t, dir, "billing.md", "---\ntitle: Billing\n---\nIntro.\n\n## Invoices\n\nWe send invoices monthly.\n\n## Refunds\n\nRefunds take a week.\n", t0)
	write(t, dir, "notes.txt", "First paragraph.\n\nSecond paragraph.\n", t0)
	write(t, dir, "de/rechnung.md", "# Rechnung\n\nDie Rechnung kommt monatlich.\n", t0)
	write(t, dir, ".hidden.md", "# Hidden\n\nnot indexed\n", t0)
	folders, err := knowledge.Folders([]string{dir}, nil)
	if err != nil {
		t.Fatal(err)
	}
	s := memStore(t)
	ctx := context.Background()

	rep, err := knowledge.Sync(ctx, s, folders, t0, nil)
	if err != nil {
		t.Fatal(err)
	}
	if rep.Added != 3 || rep.Removed != 0 || len(rep.Read) != 3 {
		t.Fatalf("first sync: %v, read %v", rep, rep.Read)
	}
	want := map[string]int{"billing.md": 3, "notes.txt": 1, "de/rechnung.md": 1}
	if got := sources(t, s); !mapsEqual(got, want) {
		t.Fatalf("chunks per source = %v, want %v", got, want)
	}

	steps := []struct {
		name     string
		change   func()
		wantRead []string
		check    func(knowledge.Report) bool
		want     map[string]int
	}{
		{"nothing changed: nothing read", func() {}, nil,
			func(r knowledge.Report) bool { return r.Unchanged == 3 }, want},
		{"one file edited: only it is read", func() {
			write(t, dir, "notes.txt", "First paragraph.\n\nSecond paragraph, longer now.\n", t0.Add(time.Hour))
		}, []string{"notes.txt"}, func(r knowledge.Report) bool { return r.Updated == 1 && r.Unchanged == 2 }, want},
		{"touched without change: read, chunks kept", func() {
			write(t, dir, "billing.md", "---\ntitle: Billing\n---\nIntro.\n\n## Invoices\n\nWe send invoices monthly.\n\n## Refunds\n\nRefunds take a week.\n", t0.Add(2*time.Hour))
		}, []string{"billing.md"}, func(r knowledge.Report) bool { return r.Unchanged == 3 && r.Chunks == 0 }, want},
		{"renamed", func() {
			if err := os.Rename(filepath.Join(dir, "de/rechnung.md"), filepath.Join(dir, "de/rechnungen.md")); err != nil {
				t.Fatal(err)
			}
		}, []string{"de/rechnungen.md"}, func(r knowledge.Report) bool { return r.Added == 1 && r.Removed == 1 },
			map[string]int{"billing.md": 3, "notes.txt": 1, "de/rechnungen.md": 1}},
		{"deleted", func() {
			if err := os.Remove(filepath.Join(dir, "notes.txt")); err != nil {
				t.Fatal(err)
			}
		}, nil, func(r knowledge.Report) bool { return r.Removed == 1 },
			map[string]int{"billing.md": 3, "de/rechnungen.md": 1}},
	}
	for _, st := range steps {
		t.Run(st.name, func(t *testing.T) {
			st.change()
			rep, err := knowledge.Sync(ctx, s, folders, t0, nil)
			if err != nil {
				t.Fatal(err)
			}
			if !slices.Equal(rep.Read, st.wantRead) || !st.check(rep) {
				t.Fatalf("report %v, read %v; want read %v", rep, rep.Read, st.wantRead)
			}
			if got := sources(t, s); !mapsEqual(got, st.want) {
				t.Fatalf("chunks per source = %v, want %v", got, st.want)
			}
		})
	}
}

func TestSyncKeepsLastGoodVersionOfABadFile(t *testing.T) {
	dir := t.TempDir()
	t0 := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	write(t, dir, "good.md", "# Good\n\nFine text.\n", t0)
	write(t, dir, "cafe.md", "# Cafe\n\nCoffee.\n", t0)
	folders, _ := knowledge.Folders([]string{dir}, nil)
	s := memStore(t)
	ctx := context.Background()
	if _, err := knowledge.Sync(ctx, s, folders, t0, nil); err != nil {
		t.Fatal(err)
	}
	write(t, dir, "cafe.md", "# Caf\xe9\n\nLatin-1 bytes.\n", t0.Add(time.Hour))
	write(t, dir, "new.md", "# New\n\nAlso synced.\n", t0)
	rep, err := knowledge.Sync(ctx, s, folders, t0, nil)
	if err == nil || !strings.Contains(err.Error(), filepath.Join(dir, "cafe.md")) || !strings.Contains(err.Error(), "not valid UTF-8") {
		t.Fatalf("error = %v, want one naming cafe.md", err)
	}
	if rep.Failed != 1 || rep.Added != 1 {
		t.Fatalf("report %v", rep)
	}
	chunks, _ := s.Chunks(ctx)
	var texts []string
	for _, c := range chunks {
		texts = append(texts, c.Text)
	}
	if !slices.Contains(texts, "Coffee.") || !slices.Contains(texts, "Also synced.") {
		t.Fatalf("chunks = %q: want the old cafe.md and the new file", texts)
	}
}

func TestIndexRebuiltFromStorage(t *testing.T) {
	dir := t.TempDir()
	write(t, dir, "rechnung.md", "# Rechnung\n\nDie Rechnung kommt am Monatsanfang per E-Mail.\n", time.Now())
	folders, _ := knowledge.Folders([]string{dir}, nil)
	s := memStore(t)
	ctx := context.Background()
	b := knowledge.NewBase(s, folders, nil)
	if _, err := b.Sync(ctx, nil); err != nil {
		t.Fatal(err)
	}
	b.Close() // the index is gone; storage keeps the chunks

	again := knowledge.NewBase(s, nil, nil) // no folders: only what storage has
	if _, err := again.Search(ctx, "Rechnungen", 3); !errors.Is(err, knowledge.ErrNotReady) {
		t.Fatalf("search before rebuild: %v", err)
	}
	if err := again.Rebuild(ctx); err != nil {
		t.Fatal(err)
	}
	defer again.Close()
	hits, err := again.Search(ctx, "Wann kommen die Rechnungen?", 3)
	if err != nil || len(hits) == 0 || hits[0].Source != "rechnung.md" {
		t.Fatalf("hits = %+v, %v", hits, err)
	}
}

func TestAddAndRemove(t *testing.T) {
	s := memStore(t)
	ctx := context.Background()
	dir := t.TempDir()
	write(t, dir, "file.md", "# File\n\nFrom a file.\n", time.Now())
	folders, _ := knowledge.Folders([]string{dir}, nil)
	b := knowledge.NewBase(s, folders, nil)
	defer b.Close()
	if _, err := b.Sync(ctx, nil); err != nil {
		t.Fatal(err)
	}
	doc, err := b.Add(ctx, "Reset password", "Resetting your password", "https://help.example/reset", "Open settings, choose Security, then Reset password.")
	if err != nil || doc.Source != "added/reset-password.md" {
		t.Fatalf("Add = %+v, %v", doc, err)
	}
	hits, _ := b.Search(ctx, "how do I reset my password", 3)
	if len(hits) == 0 || hits[0].Source != "added/reset-password.md" || hits[0].URL != "https://help.example/reset" {
		t.Fatalf("hits after add = %+v", hits)
	}
	// A sync leaves added documents alone.
	if _, err := b.Sync(ctx, nil); err != nil {
		t.Fatal(err)
	}
	if err := b.Remove(ctx, "file.md"); !errors.Is(err, knowledge.ErrFileDoc) {
		t.Fatalf("removing a file document: %v", err)
	}
	if err := b.Remove(ctx, "added/reset-password.md"); err != nil {
		t.Fatal(err)
	}
	if hits, _ := b.Search(ctx, "reset password security settings", 3); len(hits) != 0 && hits[0].Source == "added/reset-password.md" {
		t.Fatalf("removed document still found: %+v", hits)
	}
}

func TestWatchSyncsChangedFiles(t *testing.T) {
	dir := t.TempDir()
	write(t, dir, "a.md", "# Alpha\n\nThe first document.\n", time.Now())
	folders, _ := knowledge.Folders([]string{dir}, nil)
	s := memStore(t)
	b := knowledge.NewBase(s, folders, slog.New(slog.DiscardHandler))
	defer b.Close()
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	if _, err := b.Sync(ctx, nil); err != nil {
		t.Fatal(err)
	}
	done := make(chan error, 1)
	go func() { done <- b.Watch(ctx, 20*time.Millisecond) }()
	time.Sleep(50 * time.Millisecond) // let the watcher register
	write(t, dir, "sub/zebra.md", "# Zebras\n\nZebras have stripes.\n", time.Now())
	write(t, dir, "zebra2.md", "# Okapi\n\nOkapis look like zebras.\n", time.Now())
	deadline := time.Now().Add(5 * time.Second)
	for {
		hits, _ := b.Search(ctx, "okapi stripes", 3)
		if len(hits) > 0 && hits[0].Source == "zebra2.md" {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("the watcher did not sync the new file; hits %+v", hits)
		}
		time.Sleep(10 * time.Millisecond)
	}
	cancel()
	if err := <-done; err != nil {
		t.Fatal(err)
	}
}

func mapsEqual(a, b map[string]int) bool {
	if len(a) != len(b) {
		return false
	}
	for k, v := range a {
		if b[k] != v {
			return false
		}
	}
	return true
}

func TestBaseURLCitesFilesWithoutFrontMatterURL(t *testing.T) {
	dir := t.TempDir()
	t0 := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	write(t, dir, "guide/setup.md", "# Setup\n\nRun the installer.\n", t0)
	write(t, dir, "own.md", "---\nurl: https://elsewhere.example/own\n---\n# Own\n\nText.\n", t0)
	s := memStore(t)
	urls := func() map[string]string {
		chunks, _ := s.Chunks(context.Background())
		out := map[string]string{}
		for _, c := range chunks {
			out[c.Source] = c.URL
		}
		return out
	}
	for _, base := range []string{"https://docs.example/v1/", "https://docs.example/v2"} {
		folders, err := knowledge.Folders([]string{dir}, map[string]string{dir: base})
		if err != nil {
			t.Fatal(err)
		}
		if _, err := knowledge.Sync(context.Background(), s, folders, t0, nil); err != nil {
			t.Fatal(err)
		}
		got := urls()
		if want := strings.TrimSuffix(base, "/") + "/guide/setup.md"; got["guide/setup.md"] != want || got["own.md"] != "https://elsewhere.example/own" {
			t.Fatalf("urls with base %s = %v", base, got)
		}
	}
}

// A knowledge folder is often a docs repository, and git keeps symlinks:
// `ln -s /proc/self/environ kb/environ.txt` must not put the bot's secrets
// into answers. Symlinks are skipped with a warning, whether they point
// out of the folder or inside it; a single configured file that is a
// symlink out of its folder is not read either.
func TestSyncSkipsSymlinks(t *testing.T) {
	dir := t.TempDir()
	outside := t.TempDir()
	t0 := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	write(t, dir, "ok.md", "# Ok\n\nA real document.\n", t0)
	write(t, outside, "secret.txt", "OPENAI_API_KEY=sk-fake-secret-4711\n", t0)
	for link, target := range map[string]string{
		"environ.txt":   filepath.Join(outside, "secret.txt"),
		"sub/secret.md": filepath.Join(outside, "secret.txt"),
		"alias.md":      "ok.md",
		"dangling.md":   filepath.Join(outside, "gone.md"),
		"relative.md":   "../" + filepath.Base(outside) + "/secret.txt",
	} {
		p := filepath.Join(dir, link)
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.Symlink(target, p); err != nil {
			t.Fatal(err)
		}
	}
	folders, err := knowledge.Folders([]string{dir}, nil)
	if err != nil {
		t.Fatal(err)
	}
	var logs strings.Builder
	s := memStore(t)
	b := knowledge.NewBase(s, folders, slog.New(slog.NewTextHandler(&logs, nil)))
	defer b.Close()
	ctx := context.Background()
	if _, err := b.Sync(ctx, nil); err != nil {
		t.Fatal(err)
	}
	if got, want := sources(t, s), map[string]int{"ok.md": 1}; !mapsEqual(got, want) {
		t.Errorf("chunks per source = %v, want %v", got, want)
	}
	chunks, _ := s.Chunks(ctx)
	for _, c := range chunks {
		if strings.Contains(c.Text, "sk-fake-secret") {
			t.Errorf("secret indexed from %s", c.Source)
		}
	}
	for _, name := range []string{"environ.txt", "sub/secret.md", "alias.md", "dangling.md", "relative.md"} {
		if !strings.Contains(logs.String(), "level=WARN") || !strings.Contains(logs.String(), name) {
			t.Errorf("no warning naming %s in the log:\n%s", name, logs.String())
		}
	}

	// A file indexed before it was replaced by a symlink is removed.
	write(t, dir, "later.md", "# Later\n\nIndexed once.\n", t0)
	if _, err := b.Sync(ctx, nil); err != nil {
		t.Fatal(err)
	}
	if err := os.Remove(filepath.Join(dir, "later.md")); err != nil {
		t.Fatal(err)
	}
	if err := os.Symlink(filepath.Join(outside, "secret.txt"), filepath.Join(dir, "later.md")); err != nil {
		t.Fatal(err)
	}
	if _, err := b.Sync(ctx, nil); err != nil {
		t.Fatal(err)
	}
	if got, want := sources(t, s), map[string]int{"ok.md": 1}; !mapsEqual(got, want) {
		t.Errorf("after the swap: chunks per source = %v, want %v", got, want)
	}

	// The eval command reads folders through LoadFS: the same rule.
	loaded, err := knowledge.LoadFS(knowledge.DirFS(dir), ".")
	if err != nil {
		t.Fatal(err)
	}
	for _, c := range loaded {
		if c.Source != "ok.md" {
			t.Errorf("LoadFS read %s", c.Source)
		}
	}
}
