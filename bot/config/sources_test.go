package config

import (
	"testing"
	"time"
)

func TestKnowledgeSources(t *testing.T) {
	cfg, err := Parse([]byte(`knowledge:
  sources:
    - type: website
      url: https://docs.example.org/guide/
      exclude: [/guide/old/]
    - type: git
      url: https://github.com/you/project.git
      path: docs
`), "einsatz.yaml", nil)
	if err != nil {
		t.Fatal(err)
	}
	web, git := cfg.Knowledge.Sources[0], cfg.Knowledge.Sources[1]
	if web.Every != 6*time.Hour || web.Delay != 250*time.Millisecond || web.MaxPages != 2000 || web.MaxBytes != 2<<20 {
		t.Errorf("website defaults: %+v", web)
	}
	if git.Every != time.Hour || git.Branch != "main" || git.Delay != 0 || git.MaxPages != 0 {
		t.Errorf("git defaults: %+v", git)
	}
}

func TestKnowledgeSourceProblems(t *testing.T) {
	got := parseErr(t, `knowledge:
  sources:
    - type: website
      url: docs.example.org
      include: [docs/]
      branch: main
      every: 10s
    - type: ftp
      url: ftp://x
    - type: git
      url: https://github.com/you/p.git
      path: ../etc
      sitemap: https://x/sitemap.xml
      base_url: github.com/you/p
    - type: git
      url: https://github.com/you/p.git
      path: ../etc
`, nil)
	checkProblems(t, got, []wantProblem{
		{"knowledge.sources[0].url", 4, "absolute http(s) URL"},
		{"knowledge.sources[0].include[0]", 5, "starting with /"},
		{"knowledge.sources[0].branch", 6, "only for type git"},
		{"knowledge.sources[0].every", 7, "at least 1m"},
		{"knowledge.sources[1].type", 8, "one of website, git"},
		{"knowledge.sources[2].path", 12, "folder inside the repository"},
		{"knowledge.sources[2].sitemap", 13, "only for type website"},
		{"knowledge.sources[2].base_url", 14, "absolute http(s) URL"},
		{"knowledge.sources[3]", 15, "same source as knowledge.sources[2]"},
		{"knowledge.sources[3].path", 17, "folder inside the repository"},
	})
}
