package openaitest

import (
	"encoding/json"
	"io"
	"net/http"
	"strings"
	"testing"
)

func post(t *testing.T, url, key, body string) (*http.Response, string) {
	t.Helper()
	req, _ := http.NewRequest(http.MethodPost, url, strings.NewReader(body))
	if key != "" {
		req.Header.Set("Authorization", "Bearer "+key)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	data, _ := io.ReadAll(resp.Body)
	return resp, string(data)
}

// The stream is OpenAI's wire format: data: lines, the usage chunk last
// when asked for, then data: [DONE].
func TestStreamWireFormat(t *testing.T) {
	s := Start(t, Options{})
	s.Enqueue(Reply{Content: "one two three"})
	resp, body := post(t, s.URL+"/chat/completions", "", `{"model":"m","stream":true,"stream_options":{"include_usage":true},"messages":[{"role":"user","content":"hi"}]}`)
	if resp.Header.Get("Content-Type") != "text/event-stream" {
		t.Fatalf("content type %q", resp.Header.Get("Content-Type"))
	}
	var events []string
	for _, line := range strings.Split(body, "\n") {
		if line == "" {
			continue
		}
		if !strings.HasPrefix(line, "data: ") {
			t.Fatalf("line without data: prefix: %q", line)
		}
		events = append(events, strings.TrimPrefix(line, "data: "))
	}
	if events[len(events)-1] != "[DONE]" {
		t.Fatalf("last event %q, want [DONE]", events[len(events)-1])
	}
	var last struct {
		Choices []any          `json:"choices"`
		Usage   map[string]int `json:"usage"`
	}
	if err := json.Unmarshal([]byte(events[len(events)-2]), &last); err != nil || len(last.Choices) != 0 || last.Usage["total_tokens"] == 0 {
		t.Fatalf("usage chunk = %s (%v)", events[len(events)-2], err)
	}
	var text strings.Builder
	for _, e := range events[:len(events)-2] {
		var c struct {
			Choices []struct {
				Delta struct{ Content string } `json:"delta"`
			} `json:"choices"`
		}
		if err := json.Unmarshal([]byte(e), &c); err != nil {
			t.Fatal(err)
		}
		text.WriteString(c.Choices[0].Delta.Content)
	}
	if text.String() != "one two three" {
		t.Fatalf("streamed %q", text.String())
	}
	// Without include_usage there is no usage chunk.
	_, body = post(t, s.URL+"/chat/completions", "", `{"model":"m","stream":true,"messages":[{"role":"user","content":"hi"}]}`)
	if strings.Contains(body, `"usage"`) {
		t.Fatalf("usage sent without include_usage:\n%s", body)
	}
}

func TestKeyAndRecord(t *testing.T) {
	s := Start(t, Options{APIKey: "k1"})
	resp, _ := post(t, s.URL+"/chat/completions", "wrong", `{"model":"m","messages":[{"role":"user","content":"hi"}]}`)
	if resp.StatusCode != http.StatusUnauthorized {
		t.Fatalf("wrong key: %d", resp.StatusCode)
	}
	s.FailNext(1, RateLimited)
	resp, _ = post(t, s.URL+"/chat/completions", "k1", `{"model":"m","messages":[{"role":"system","content":"rules"},{"role":"user","content":[{"type":"text","text":"parts"}]}]}`)
	if resp.StatusCode != 429 || resp.Header.Get("Retry-After") != "1" {
		t.Fatalf("FailNext: %d Retry-After %q", resp.StatusCode, resp.Header.Get("Retry-After"))
	}
	resp, body := post(t, s.URL+"/chat/completions", "k1", `{"model":"m","messages":[{"role":"user","content":"no sources"}]}`)
	if resp.StatusCode != 200 || !strings.Contains(body, Sentinel) {
		t.Fatalf("default script without sources: %d %s", resp.StatusCode, body)
	}
	reqs := s.Requests()
	if len(reqs) != 3 || reqs[1].System() != "rules" || reqs[1].User() != "parts" || reqs[0].Authorization != "Bearer wrong" {
		t.Fatalf("requests = %+v", reqs)
	}
}

func TestVector(t *testing.T) {
	a, b := Vector("install einsatz docker", 32), Vector("install einsatz docker", 32)
	for i := range a {
		if a[i] != b[i] {
			t.Fatal("not deterministic")
		}
	}
	if len(Vector("x", 7)) != 7 {
		t.Fatal("dimensions not honoured")
	}
}
