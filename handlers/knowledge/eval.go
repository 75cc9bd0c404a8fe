package knowledge

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"strings"
)

// RetrievalCase is one line of a retrieval evaluation set: a question and
// the document that answers it.
type RetrievalCase struct {
	Query string `json:"query"`
	// Expected is the file name ("llm-setup.md") or source path
	// ("en/llm-setup.md") of the right document. A hit matches when its
	// Source equals Expected or ends with "/"+Expected.
	Expected string `json:"expected"`
}

// RetrievalScores are the figures of a retrieval evaluation. A case's rank
// is the position (1-based) of the first hit from the expected document.
type RetrievalScores struct {
	N        int     // number of cases
	MRR10    float64 // mean reciprocal rank, counting ranks up to 10 (0 beyond)
	Recall1  float64 // share of cases with the expected document first
	Recall5  float64 // … within the first 5 hits
	Recall10 float64 // … within the first 10 hits
	// Misses are the cases whose document was not within the first 10.
	Misses []RetrievalCase
}

// maxRetrievalLine bounds a line of an evaluation file.
const maxRetrievalLine = 1 << 20

// ReadRetrievalCases reads JSON lines {"query": ..., "expected": ...}.
// Blank lines are skipped. Errors name the line: unknown fields, a missing
// query or expected value, or malformed JSON.
func ReadRetrievalCases(r io.Reader) ([]RetrievalCase, error) {
	var cases []RetrievalCase
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 0, 64*1024), maxRetrievalLine)
	for n := 1; sc.Scan(); n++ {
		line := bytes.TrimSpace(sc.Bytes())
		if len(line) == 0 {
			continue
		}
		var c RetrievalCase
		dec := json.NewDecoder(bytes.NewReader(line))
		dec.DisallowUnknownFields()
		if err := dec.Decode(&c); err != nil {
			return nil, fmt.Errorf("line %d: %w", n, err)
		}
		if dec.More() {
			return nil, fmt.Errorf("line %d: more than one JSON value", n)
		}
		c.Query = strings.TrimSpace(c.Query)
		c.Expected = strings.Trim(strings.TrimSpace(c.Expected), "/")
		if c.Query == "" {
			return nil, fmt.Errorf("line %d: missing \"query\"", n)
		}
		if c.Expected == "" {
			return nil, fmt.Errorf("line %d: missing \"expected\"", n)
		}
		cases = append(cases, c)
	}
	if err := sc.Err(); err != nil {
		if errors.Is(err, bufio.ErrTooLong) {
			return nil, fmt.Errorf("line %d: longer than %d bytes", len(cases)+1, maxRetrievalLine)
		}
		return nil, err
	}
	return cases, nil
}

// matches reports whether a hit from source is the expected document.
func (c RetrievalCase) matches(source string) bool {
	return source == c.Expected || strings.HasSuffix(source, "/"+c.Expected)
}

// EvalRetrieval runs every case through search (asking for 10 hits) and
// scores the ranks of the expected documents. Hits of one document count
// once, at the rank of its first chunk, so that a document with many
// matching chunks does not push others out. An error of search stops it.
func EvalRetrieval(ctx context.Context, search func(ctx context.Context, q string, k int) ([]Hit, error), cases []RetrievalCase) (RetrievalScores, error) {
	const k = 10
	s := RetrievalScores{N: len(cases)}
	if len(cases) == 0 {
		return s, nil
	}
	var rr, r1, r5, r10 float64
	for _, c := range cases {
		// Ask for more chunks than k: ranks are counted per document.
		hits, err := search(ctx, c.Query, 4*k)
		if err != nil {
			return RetrievalScores{}, fmt.Errorf("query %q: %w", c.Query, err)
		}
		rank := documentRank(hits, c, k)
		switch {
		case rank == 0:
			s.Misses = append(s.Misses, c)
			continue
		case rank == 1:
			r1++
			fallthrough
		case rank <= 5:
			r5++
		}
		r10++
		rr += 1 / float64(rank)
	}
	n := float64(len(cases))
	s.MRR10, s.Recall1, s.Recall5, s.Recall10 = rr/n, r1/n, r5/n, r10/n
	return s, nil
}

// documentRank is the 1-based rank of the expected document among the
// distinct documents of hits, or 0 if it is not among the first k.
func documentRank(hits []Hit, c RetrievalCase, k int) int {
	seen := make(map[string]bool, k)
	for _, h := range hits {
		if seen[h.Source] {
			continue
		}
		seen[h.Source] = true
		if len(seen) > k {
			return 0
		}
		if c.matches(h.Source) {
			return len(seen)
		}
	}
	return 0
}
