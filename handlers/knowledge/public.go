package knowledge

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"net/url"
	"slices"
	"strings"

	"github.com/einsatz/einsatz/bot/kb"
)

// publicSet is the knowledge base's public pages, built with the index
// (refresh), so one page is a map lookup.
type publicSet struct {
	list   []kb.Page          // by title
	byHash map[string]kb.Page // by the hash at the end of the slug
}

// PublicPages returns the documents staff own (files, website and Git
// sources; not added ones) as public pages, ordered by title.
func (b *Base) PublicPages(context.Context) ([]kb.Page, error) {
	if p := b.public.Load(); p != nil {
		return p.list, nil
	}
	return nil, nil
}

// PublicPage returns the page whose slug ends in the same hash as slug.
func (b *Base) PublicPage(_ context.Context, slug string) (kb.Page, bool, error) {
	p := b.public.Load()
	if p == nil {
		return kb.Page{}, false, nil
	}
	page, ok := p.byHash[slug[strings.LastIndexByte(slug, '-')+1:]]
	return page, ok, nil
}

// setPublic builds the public pages of docs from chunks (in source and
// position order, as the store returns them).
func (b *Base) setPublic(docs []kb.Doc, chunks []kb.Chunk) {
	set := &publicSet{byHash: map[string]kb.Page{}}
	bySource := map[string]int{}
	for _, d := range docs {
		if d.Origin != kb.OriginFile && d.Origin != kb.OriginWebsite && d.Origin != kb.OriginGit {
			continue
		}
		hash := PageHash(d.Source)
		page := kb.Page{Slug: PageSlug(d.Title, hash), Source: d.Source, Origin: d.Origin, Title: d.Title, URL: webURL(d.URL),
			Updated: d.ModTime}
		if page.Updated.IsZero() {
			page.Updated = d.Synced
		}
		bySource[d.Source] = len(set.list)
		set.list = append(set.list, page)
	}
	for _, c := range chunks {
		i, ok := bySource[c.Source]
		if !ok || strings.TrimSpace(c.Text) == "" {
			continue
		}
		p := &set.list[i]
		if len(p.Sections) == 0 {
			p.Lang = c.Lang
		}
		heading := c.Heading
		if j := strings.LastIndex(heading, " > "); j >= 0 {
			heading = heading[j+3:]
		}
		p.Sections = append(p.Sections, kb.Section{Heading: heading, Text: c.Text})
	}
	set.list = slices.DeleteFunc(set.list, func(p kb.Page) bool { return len(p.Sections) == 0 || p.Title == "" })
	slices.SortStableFunc(set.list, func(a, b kb.Page) int { return strings.Compare(strings.ToLower(a.Title), strings.ToLower(b.Title)) })
	for _, p := range set.list {
		set.byHash[p.Slug[strings.LastIndexByte(p.Slug, '-')+1:]] = p
	}
	b.public.Store(set)
}

// PageHash is the short hash of a document's source that ends its slug:
// the slug keeps working when the title changes.
func PageHash(source string) string {
	sum := sha256.Sum256([]byte(source))
	return hex.EncodeToString(sum[:4])
}

// PageSlug is up to eight lower-case ASCII words of title and hash.
func PageSlug(title, hash string) string {
	var words []string
	for _, f := range strings.FieldsFunc(strings.ToLower(pageFold(title)), func(r rune) bool { return !(r >= 'a' && r <= 'z' || r >= '0' && r <= '9') }) {
		if len(words) == 8 {
			break
		}
		words = append(words, f)
	}
	return strings.Join(append(words, hash), "-")
}

var pageFold = strings.NewReplacer("ä", "ae", "ö", "oe", "ü", "ue", "Ä", "ae", "Ö", "oe", "Ü", "ue", "ß", "ss").Replace

// webURL is u when it is an absolute http(s) URL, else "".
func webURL(u string) string {
	p, err := url.Parse(u)
	if err != nil || (p.Scheme != "http" && p.Scheme != "https") || p.Host == "" {
		return ""
	}
	return u
}
