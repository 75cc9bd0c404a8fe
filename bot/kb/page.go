package kb

import "time"

// Page is one knowledge document as a public page (knowledge.publish_kb):
// its sections in order. Only documents staff own are pages — files and
// the website and Git sources — never added ones (saved staff replies may
// quote members).
type Page struct {
	Slug    string // words of the title and a short hash of Source, e.g. "install-einsatz-3f2a9c1b"
	Source  string
	Origin  string // OriginFile, OriginWebsite or OriginGit
	Title   string
	URL     string // where the document lives (http or https), "" if nowhere
	Lang    string // the first section's language
	Updated time.Time
	// Sections are the document's chunks: Heading is the last part of the
	// chunk's heading path ("" for the intro), Text Markdown.
	Sections []Section
}

// Section is one part of a Page.
type Section struct {
	Heading string
	Text    string
}
