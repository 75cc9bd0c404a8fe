package web

import (
	"strings"
	"testing"
)

func TestAnswerHTML(t *testing.T) {
	for _, tc := range []struct{ name, in, want string }{
		{"paragraphs and breaks", "one\ntwo\n\nthree", "<p>one<br>\ntwo</p>\n<p>three</p>\n"},
		{"escaped", `<script>alert(1)</script> & "x"`, "<p>&lt;script&gt;alert(1)&lt;/script&gt; &amp; &#34;x&#34;</p>\n"},
		{"code block with language", "run:\n```sh\na < b\n```", "<p>run:</p>\n<pre><code>a &lt; b</code></pre>\n"},
		{"inline code", "set `web.addr`", "<p>set <code>web.addr</code></p>\n"},
		{"link, not its full stop", "see https://docs.example.org/a?b=1.", `<p>see <a href="https://docs.example.org/a?b=1" rel="nofollow noopener">https://docs.example.org/a?b=1</a>.</p>` + "\n"},
		{"no javascript links", "javascript:alert(1)", "<p>javascript:alert(1)</p>\n"},
		{"quote in a link ends it", `https://x.example/"onmouseover="alert(1)`, `<p><a href="https://x.example/" rel="nofollow noopener">https://x.example/</a>&#34;onmouseover=&#34;alert(1)</p>` + "\n"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if got := string(answerHTML(tc.in)); got != tc.want {
				t.Errorf("answerHTML(%q) =\n%q\nwant\n%q", tc.in, got, tc.want)
			}
		})
	}
}

func TestExcerpt(t *testing.T) {
	if got := excerpt("Run:\n```sh\neinsatz sync\n```\nthen `restart`.", 100); got != "Run: einsatz sync then restart." {
		t.Errorf("excerpt = %q", got)
	}
	long := strings.Repeat("word ", 50)
	if got := excerpt(long, 30); got != "word word word word word word…" {
		t.Errorf("excerpt = %q", got)
	}
}
