package webtest

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	goruntime "runtime"
	"strings"
	"sync"
	"testing"

	"github.com/chromedp/cdproto/cdp"
	"github.com/chromedp/cdproto/network"
	"github.com/chromedp/chromedp"
)

// axeSource is axe-core's axe.min.js, vendored under testdata (MPL-2.0, see
// its README): read from the source tree, so it is never part of a build.
var axeSource = sync.OnceValues(func() (string, error) {
	_, file, _, ok := goruntime.Caller(0)
	if !ok {
		return "", fmt.Errorf("webtest: where is axe.go?")
	}
	b, err := os.ReadFile(filepath.Join(filepath.Dir(file), "testdata", "axe-core", "axe.min.js"))
	return string(b), err
})

// AxeViolation is one rule axe-core found broken on the page.
type AxeViolation struct {
	ID     string   `json:"id"`
	Impact string   `json:"impact"` // minor, moderate, serious, critical
	Help   string   `json:"help"`
	Nodes  []string `json:"nodes"` // CSS selectors of the first few elements
	Count  int      `json:"count"` // all elements
}

// AxeReport is the result of one axe-core run.
type AxeReport struct {
	Passes     int            `json:"passes"`
	Violations []AxeViolation `json:"violations"`
}

// Serious lists the violations of impact serious or critical.
func (r AxeReport) Serious() []AxeViolation {
	var out []AxeViolation
	for _, v := range r.Violations {
		if v.Impact == "serious" || v.Impact == "critical" {
			out = append(out, v)
		}
	}
	return out
}

// Summary is one line: rules passed, violations by impact and their ids.
func (r AxeReport) Summary() string {
	by := map[string][]string{}
	for _, v := range r.Violations {
		by[v.Impact] = append(by[v.Impact], fmt.Sprintf("%s(%d)", v.ID, v.Count))
	}
	var b strings.Builder
	fmt.Fprintf(&b, "%d rules passed", r.Passes)
	for _, imp := range []string{"critical", "serious", "moderate", "minor"} {
		fmt.Fprintf(&b, ", %s %d", imp, len(by[imp]))
		if len(by[imp]) > 0 {
			fmt.Fprintf(&b, " %v", by[imp])
		}
	}
	return b.String()
}

// Axe runs axe-core's WCAG 2.0/2.1 level A and AA rules on the current
// page. The script goes in through the DevTools protocol, which the page's
// Content-Security-Policy does not restrict.
func Axe(t testing.TB, ctx context.Context) AxeReport {
	t.Helper()
	src, err := axeSource()
	if err != nil {
		t.Fatalf("webtest: axe-core: %v", err)
	}
	Run(t, ctx, chromedp.Evaluate[bool](src+";\ntypeof axe === 'object'"))
	return Run(t, ctx, chromedp.Evaluate[AxeReport](`axe.run(document, {
		runOnly: {type: "tag", values: ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa"]},
		resultTypes: ["violations"],
	}).then(r => ({
		passes: r.passes.length,
		violations: r.violations.map(v => ({id: v.id, impact: v.impact || "", help: v.help, count: v.nodes.length,
			nodes: v.nodes.slice(0, 5).map(n => n.target.join(" "))})),
	}))`, chromedp.EvalAwaitPromise))
}

// Overflow lists the visible elements that reach beyond the viewport's
// width (a page that scrolls sideways), as "tag#id.class (left–right)".
// Empty when the page fits.
func Overflow(t testing.TB, ctx context.Context) []string {
	t.Helper()
	return Run(t, ctx, chromedp.Evaluate[[]string](`(() => {
		const w = document.documentElement.clientWidth, out = [];
		if (document.documentElement.scrollWidth > w) out.push("page scrolls: " + document.documentElement.scrollWidth + " > " + w);
		for (const e of document.querySelectorAll("body *")) {
			const r = e.getBoundingClientRect(), s = getComputedStyle(e);
			if (r.width === 0 || r.height === 0 || s.visibility === "hidden" || s.position === "absolute" && r.bottom < 0) continue;
			// A text field scrolling its own text is no page overflow.
			const field = /^(INPUT|TEXTAREA|SELECT)$/.test(e.tagName);
			if (r.right > w + 0.5 || r.left < -0.5 || !field && e.scrollWidth > e.clientWidth + 1 && s.overflowX !== "visible" && s.overflowX !== "hidden" && e.clientWidth > 0) {
				out.push(e.tagName.toLowerCase() + (e.id ? "#" + e.id : "") + (e.className && typeof e.className === "string" ? "." + e.className.trim().split(/\s+/).join(".") : "") +
					" (" + Math.round(r.left) + "–" + Math.round(r.right) + ", scroll " + e.scrollWidth + "/" + e.clientWidth + ")");
			}
		}
		return out;
	})()`))
}

// AcceptLanguage makes the browser send this Accept-Language header with
// every request of the tab from now on.
func AcceptLanguage(value string) chromedp.Action[chromedp.Void] {
	return chromedp.Func(func(ctx context.Context, t *chromedp.Target) error {
		_, err := cdp.Call(ctx, t, network.SetExtraHTTPHeaders, network.SetExtraHTTPHeadersParams{Headers: network.Headers{"Accept-Language": value}})
		return err
	})
}
