package knowledge

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/url"
	"path"
	"path/filepath"
	"strings"
	"time"

	"github.com/go-git/go-git/v5"
	gitconfig "github.com/go-git/go-git/v5/config"
	"github.com/go-git/go-git/v5/plumbing"
	"github.com/go-git/go-git/v5/plumbing/object"
	"github.com/go-git/go-git/v5/storage/memory"

	"github.com/einsatz/einsatz/bot/kb"
)

// maxGitFile is the largest repository file read; larger ones are not
// docs anyone writes by hand.
const maxGitFile = 4 << 20

// GitRepo is a docs folder of a Git repository branch. A remote
// repository is cloned shallowly into memory (no git program needed),
// and only when its branch moved since the last sync; a local path is
// read in place. Files are cited as BaseURL + their path in the
// repository.
type GitRepo struct {
	URL      string
	Branch   string        // "" = main
	Path     string        // docs folder; "" = the whole repository
	BaseURL  string        // "" = derived for github.com and gitlab.com (see FileURL)
	Interval time.Duration // Every; 0 = 1h
}

// ID implements Source.
func (g *GitRepo) ID() string {
	return kb.SourceGit + " " + g.URL + " " + g.branch() + " " + g.docsPath()
}

// Type implements Source.
func (g *GitRepo) Type() string { return kb.SourceGit }

// Location implements Source.
func (g *GitRepo) Location() string {
	loc := g.URL + "@" + g.branch()
	if p := g.docsPath(); p != "" {
		loc += ":" + p
	}
	return loc
}

// Every implements Source.
func (g *GitRepo) Every() time.Duration {
	if g.Interval > 0 {
		return g.Interval
	}
	return time.Hour
}

func (g *GitRepo) branch() string {
	if g.Branch == "" {
		return "main"
	}
	return g.Branch
}

func (g *GitRepo) docsPath() string { return strings.Trim(path.Clean("/"+g.Path), "/") }

// local reports whether the URL is a path on this machine.
func (g *GitRepo) local() bool { return filepath.IsAbs(g.URL) }

// Sync implements Source.
func (g *GitRepo) Sync(ctx context.Context, store kb.Store, st *kb.SourceState, now time.Time, progress func(done, total int)) (Report, error) {
	var rep Report
	st.Requests = 0
	ref := plumbing.NewBranchReferenceName(g.branch())
	var repo *git.Repository
	var head plumbing.Hash
	if g.local() {
		r, err := git.PlainOpen(g.URL)
		if err != nil {
			return rep, fmt.Errorf("open %s: %w", g.URL, err)
		}
		h, err := r.Reference(ref, true)
		if err != nil {
			return rep, fmt.Errorf("branch %s: %w", g.branch(), err)
		}
		repo, head = r, h.Hash()
	} else {
		// Ask for the branch first: an unchanged branch costs one round trip.
		remote := git.NewRemote(memory.NewStorage(), &gitconfig.RemoteConfig{Name: "origin", URLs: []string{g.URL}})
		st.Requests++
		refs, err := remote.ListContext(ctx, &git.ListOptions{})
		if err != nil {
			return rep, fmt.Errorf("list %s: %w", g.URL, err)
		}
		for _, r := range refs {
			if r.Name() == ref {
				head = r.Hash()
			}
		}
		if head.IsZero() {
			return rep, fmt.Errorf("%s has no branch %s", g.URL, g.branch())
		}
	}
	if head.String() == st.Commit && st.Entries != nil {
		rep.Unchanged = len(st.Entries)
		return rep, nil
	}
	if repo == nil {
		st.Requests++
		r, err := git.CloneContext(ctx, memory.NewStorage(), nil, &git.CloneOptions{URL: g.URL, ReferenceName: ref,
			SingleBranch: true, Depth: 1, NoCheckout: true, Tags: git.NoTags})
		if err != nil {
			return rep, fmt.Errorf("clone %s: %w", g.URL, err)
		}
		h, err := r.Reference(ref, true)
		if err != nil {
			return rep, fmt.Errorf("branch %s: %w", g.branch(), err)
		}
		repo, head = r, h.Hash()
	}
	commit, err := repo.CommitObject(head)
	if err != nil {
		return rep, fmt.Errorf("commit %s: %w", head, err)
	}
	tree, err := commit.Tree()
	if err != nil {
		return rep, fmt.Errorf("commit %s: %w", head, err)
	}
	if p := g.docsPath(); p != "" {
		if tree, err = tree.Tree(p); err != nil {
			return rep, fmt.Errorf("%s in %s: %w", p, g.branch(), err)
		}
	}
	var files []*object.File
	err = tree.Files().ForEach(func(f *object.File) error {
		if docMarkup(f.Name) && !hiddenPath(f.Name) && f.Mode.IsFile() {
			files = append(files, f)
		}
		return nil
	})
	if err != nil {
		return rep, fmt.Errorf("read tree: %w", err)
	}
	old := st.Entries
	next := map[string]kb.PageState{}
	var errs []error
	for i, f := range files {
		if err := ctx.Err(); err != nil {
			return rep, err
		}
		rel := path.Join(g.docsPath(), f.Name)
		e, known := old[rel]
		if known && e.Hash == f.Hash.String() {
			next[rel] = e
			rep.Unchanged++
		} else if err := g.syncFile(ctx, store, f, rel, now, &rep); err != nil {
			errs = append(errs, fmt.Errorf("%s: %w", rel, err))
			rep.Failed++
			if known {
				next[rel] = e
			}
		} else {
			next[rel] = kb.PageState{Doc: g.docSource(rel), Hash: f.Hash.String()}
			if known {
				rep.Updated++
			} else {
				rep.Added++
			}
		}
		if progress != nil {
			progress(i+1, len(files))
		}
	}
	for _, rel := range sortedKeys(old) {
		if _, ok := next[rel]; ok || old[rel].Doc == "" {
			continue
		}
		if err := store.DeleteDoc(ctx, old[rel].Doc); err != nil {
			return rep, err
		}
		rep.Removed++
	}
	st.Entries = next
	st.Commit = head.String()
	st.Pages, st.Errors = len(next), rep.Failed
	if rep.Failed > 0 {
		st.Commit = "" // try the failed files again next time
	}
	return rep, errors.Join(errs...)
}

func (g *GitRepo) syncFile(ctx context.Context, store kb.Store, f *object.File, rel string, now time.Time, rep *Report) error {
	if f.Size > maxGitFile {
		return fmt.Errorf("larger than %d bytes", maxGitFile)
	}
	r, err := f.Reader()
	if err != nil {
		return err
	}
	data, err := io.ReadAll(r)
	r.Close()
	if err != nil {
		return err
	}
	if off, bad := invalidUTF8(data); bad {
		return fmt.Errorf("not valid UTF-8 at byte %d", off)
	}
	rep.Read = append(rep.Read, rel)
	n, err := putMarkdown(ctx, store, kb.OriginGit, g.docSource(rel), "", g.FileURL(rel), "", f.Hash.String(), toMarkdown(rel, string(data)), now)
	rep.Chunks += n
	return err
}

// docSource is a file's document source: "git/" + the repository's
// host and path + the file's path.
func (g *GitRepo) docSource(rel string) string {
	return "git/" + repoKey(g.URL) + "/" + rel
}

// FileURL is where a repository file is cited: BaseURL + its path, or its
// page on github.com or gitlab.com; "" when neither is known.
func (g *GitRepo) FileURL(rel string) string {
	if g.BaseURL != "" {
		return strings.TrimSuffix(g.BaseURL, "/") + "/" + rel
	}
	host, repo := hostRepo(g.URL)
	switch host {
	case "github.com":
		return "https://github.com/" + repo + "/blob/" + g.branch() + "/" + rel
	case "gitlab.com":
		return "https://gitlab.com/" + repo + "/-/blob/" + g.branch() + "/" + rel
	}
	return ""
}

// hostRepo splits a repository URL (https://host/o/r.git, ssh://git@host/o/r,
// git@host:o/r.git) into host and "o/r".
func hostRepo(raw string) (string, string) {
	if !strings.Contains(raw, "://") {
		if at, rest, ok := strings.Cut(raw, "@"); ok && !strings.Contains(at, "/") {
			if host, p, ok := strings.Cut(rest, ":"); ok {
				return strings.ToLower(host), strings.TrimSuffix(strings.Trim(p, "/"), ".git")
			}
		}
		return "", ""
	}
	u, err := url.Parse(raw)
	if err != nil {
		return "", ""
	}
	return strings.ToLower(u.Hostname()), strings.TrimSuffix(strings.Trim(u.Path, "/"), ".git")
}

// repoKey names a repository in document sources.
func repoKey(raw string) string {
	if filepath.IsAbs(raw) {
		return strings.TrimSuffix(filepath.Base(raw), ".git")
	}
	host, repo := hostRepo(raw)
	if host == "" {
		return strings.TrimSuffix(path.Base(raw), ".git")
	}
	return host + "/" + repo
}

func hiddenPath(p string) bool {
	for _, part := range strings.Split(p, "/") {
		if strings.HasPrefix(part, ".") {
			return true
		}
	}
	return false
}
