package answer

import (
	"context"
	"os"
	"strings"
	"testing"
)

func TestZZDebug(t *testing.T) {
	qs := os.Getenv("ZZQ")
	if qs == "" {
		t.Skip()
	}
	kbdir := os.Getenv("ZZKB")
	if kbdir == "" {
		kbdir = "../../knowledge"
	}
	ix := loadIndex(t, kbdir)
	for _, q := range strings.Split(qs, "|") {
		core := Core(q)
		hits, _ := ix.Search(context.Background(), core, searchHits)
		t.Logf("Q %q core %q", q, core)
		for i, h := range hits {
			f := features(core, hits, i)
			t.Logf("  %-40s %-30q score %.2f conf %.2f f=%.2v", h.Source, h.Heading, h.Score, confidence(f), f)
		}
	}
}

