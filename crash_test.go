package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/einsatz/einsatz/adapters/web"
	"github.com/einsatz/einsatz/bot"
	"github.com/einsatz/einsatz/storage"
)

// TestMain lets a test start this test binary as `einsatz` in a child
// process (EINSATZ_TEST_MAIN=1, arguments in EINSATZ_TEST_ARGS), so crash
// tests can kill a real server without building it first.
func TestMain(m *testing.M) {
	if os.Getenv("EINSATZ_TEST_MAIN") == "1" {
		cmd := newRootCmd(os.Stdin, os.Stdout, os.Stderr)
		cmd.SetArgs(strings.Fields(os.Getenv("EINSATZ_TEST_ARGS")))
		if err := cmd.Execute(); err != nil {
			fmt.Fprintln(os.Stderr, "einsatz:", err)
			os.Exit(1)
		}
		os.Exit(0)
	}
	os.Exit(m.Run())
}

// server is `einsatz run` in a child process.
type server struct {
	cmd    *exec.Cmd
	client *web.Client
	out    *syncBuffer
}

// syncBuffer collects the child's output while the test reads it.
type syncBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *syncBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *syncBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}

func startServer(t testing.TB, configPath, dataDir string) *server {
	t.Helper()
	cmd := exec.Command(os.Args[0])
	cmd.Env = append(os.Environ(), "EINSATZ_TEST_MAIN=1", "EINSATZ_TEST_ARGS=run --config "+configPath)
	out := &syncBuffer{}
	cmd.Stdout, cmd.Stderr = out, out
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	s := &server{cmd: cmd, out: out}
	t.Cleanup(func() {
		if s.cmd.ProcessState == nil {
			s.cmd.Process.Kill()
			s.cmd.Wait()
		}
	})
	deadline := time.Now().Add(30 * time.Second)
	for {
		c, err := web.Running(context.Background(), dataDir)
		if err == nil && c.URL != "" {
			s.client = c
			return s
		}
		if time.Now().After(deadline) {
			t.Fatalf("server did not come up: %v\n%s", err, out.String())
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// printed reports whether the server has printed want, waiting a while:
// the banner follows the moment the server is up, and its lines reach the
// test through the child's output pipe, a little later under load.
func (s *server) printed(want string) bool {
	deadline := time.Now().Add(10 * time.Second)
	for !strings.Contains(s.out.String(), want) {
		if time.Now().After(deadline) {
			return false
		}
		time.Sleep(20 * time.Millisecond)
	}
	return true
}

func (s *server) stop(t testing.TB) {
	t.Helper()
	s.cmd.Process.Signal(syscall.SIGTERM)
	if err := s.cmd.Wait(); err != nil {
		t.Fatalf("server exit: %v\n%s", err, s.out.String())
	}
}

func chatConfig(t testing.TB, dataDir string) string {
	t.Helper()
	return writeConfig(t, fmt.Sprintf(`storage:
  path: %s
web:
  addr: 127.0.0.1:0
  chat_rate_limit:
    per_minute: 0 # off: the test client is one IP sending fast
core:
  rate_limit:
    per_minute: 0
`, dataDir))
}

func send(c *http.Client, base, conv, msg string) (web.ChatResponse, error) {
	body := fmt.Sprintf(`{"conversation_id":%q,"message_id":%q,"text":"What is Einsatz? (%s)"}`, conv, msg, msg)
	resp, err := c.Post(base+"/api/chat", "application/json", strings.NewReader(body))
	if err != nil {
		return web.ChatResponse{}, err
	}
	defer resp.Body.Close()
	var out web.ChatResponse
	if err := json.NewDecoder(resp.Body).Decode(&out); err != nil {
		return web.ChatResponse{}, err
	}
	if resp.StatusCode != http.StatusOK {
		return out, fmt.Errorf("status %d", resp.StatusCode)
	}
	return out, nil
}

// A server killed with SIGKILL in the middle of a stream of chat messages
// loses nothing it acknowledged and answers nothing twice.
func TestCrashLosesNothingAcknowledged(t *testing.T) {
	dataDir := filepath.Join(t.TempDir(), "data")
	cfg := chatConfig(t, dataDir)
	srv := startServer(t, cfg, dataDir)

	const convs, perConv = 4, 60
	var mu sync.Mutex
	acked := map[string]bool{}   // conv/msg acknowledged with an answer
	answered := map[string]int{} // how often each message was answered
	client := &http.Client{Timeout: 10 * time.Second}
	var wg sync.WaitGroup
	killed := make(chan struct{})
	for c := range convs {
		wg.Add(1)
		go func() {
			defer wg.Done()
			conv := fmt.Sprint("c", c)
			for m := range perConv {
				msg := fmt.Sprint("m", m)
				out, err := send(client, srv.client.URL, conv, msg)
				if err != nil {
					return // the server is gone: the rest is unacknowledged
				}
				mu.Lock()
				if out.Status == bot.OutcomeAnswered {
					acked[conv+"/"+msg] = true
					answered[conv+"/"+msg]++
				}
				n := len(acked)
				mu.Unlock()
				if n == 50 {
					close(killed)
				}
			}
		}()
	}
	select {
	case <-killed:
	case <-time.After(60 * time.Second):
		t.Fatal("50 answers did not come within a minute")
	}
	if err := srv.cmd.Process.Kill(); err != nil { // SIGKILL, mid-stream
		t.Fatal(err)
	}
	srv.cmd.Wait()
	wg.Wait()
	mu.Lock()
	ackedBefore := len(acked)
	mu.Unlock()
	if ackedBefore >= convs*perConv {
		t.Fatalf("the kill came after the whole stream (%d acknowledged)", ackedBefore)
	}

	// Restart and deliver the whole stream again, as clients retry.
	srv = startServer(t, cfg, dataDir)
	for c := range convs {
		conv := fmt.Sprint("c", c)
		for m := range perConv {
			msg := fmt.Sprint("m", m)
			out, err := send(client, srv.client.URL, conv, msg)
			if err != nil {
				t.Fatalf("after restart %s/%s: %v", conv, msg, err)
			}
			switch out.Status {
			case bot.OutcomeAnswered:
				answered[conv+"/"+msg]++
			case bot.OutcomeDuplicate:
			default:
				t.Fatalf("after restart %s/%s: status %q", conv, msg, out.Status)
			}
			if acked[conv+"/"+msg] && out.Status != bot.OutcomeDuplicate {
				t.Errorf("%s/%s was acknowledged before the crash but handled again", conv, msg)
			}
		}
	}
	for k, n := range answered {
		if n > 1 {
			t.Errorf("%s answered %d times", k, n)
		}
	}
	srv.stop(t)

	// The database opens cleanly and holds every acknowledged message once.
	store, err := storage.Open(storage.Options{Path: dataDir, Logger: discard()})
	if err != nil {
		t.Fatalf("database after crash and restart: %v", err)
	}
	defer store.Close()
	for c := range convs {
		conv := fmt.Sprint("c", c)
		hist, err := store.History(context.Background(), bot.ThreadRef{Platform: bot.PlatformWeb, ChannelID: "web", ThreadID: conv}, 1000)
		if err != nil {
			t.Fatal(err)
		}
		seen := map[string]int{}
		for _, turn := range hist {
			if turn.Role == bot.RoleUser {
				seen[turn.Text]++
			}
		}
		for m := range perConv {
			msg := fmt.Sprint("m", m)
			text := fmt.Sprintf("What is Einsatz? (%s)", msg)
			if acked[conv+"/"+msg] && seen[text] != 1 {
				t.Errorf("acknowledged %s/%s is in the history %d times, want 1", conv, msg, seen[text])
			}
			if seen[text] > 1 {
				t.Errorf("%s/%s recorded %d times", conv, msg, seen[text])
			}
		}
	}
	t.Logf("%d messages acknowledged before the SIGKILL; all %d delivered after the restart", ackedBefore, convs*perConv)
}

// einsatz backup while the server runs, then restore into a fresh
// directory, gives the same data.
func TestBackupWhileRunningThenRestore(t *testing.T) {
	dataDir := filepath.Join(t.TempDir(), "data")
	cfg := chatConfig(t, dataDir)
	srv := startServer(t, cfg, dataDir)
	for _, want := range []string{"adapters enabled: web", "Chat:      " + srv.client.URL + "/", "Dashboard: " + srv.client.URL + "/dashboard", "Log in once with: " + srv.client.URL + "/login?code="} {
		if !srv.printed(want) {
			t.Errorf("einsatz run did not print %q:\n%s", want, srv.out.String())
		}
	}
	client := &http.Client{Timeout: 10 * time.Second}
	for m := range 20 {
		if _, err := send(client, srv.client.URL, "c1", fmt.Sprint("m", m)); err != nil {
			t.Fatal(err)
		}
	}
	file := filepath.Join(t.TempDir(), "einsatz.backup")
	out, _, err := einsatz(t, "", "backup", file, "--config", cfg)
	if err != nil || !strings.Contains(out, "through the running server") {
		t.Fatalf("backup: %v\n%s", err, out)
	}
	if _, _, err := einsatz(t, "", "restore", file, "--config", cfg, "--into", filepath.Join(t.TempDir(), "x")); err == nil || !strings.Contains(err.Error(), "stop it first") {
		t.Fatalf("restore while the server runs: %v", err)
	}
	srv.stop(t)

	restored := filepath.Join(t.TempDir(), "restored")
	if _, _, err := einsatz(t, "", "restore", file, "--config", cfg, "--into", restored); err != nil {
		t.Fatal(err)
	}
	if d1, d2 := dumpDir(t, dataDir), dumpDir(t, restored); d1 != d2 || !strings.Contains(d1, "hist/web/web/c1/") {
		t.Fatalf("restored data differs from the original (%d vs %d bytes)", len(d1), len(d2))
	}
}

// dumpDir lists a database's keys and values, leaving out the audit log
// (the backup itself is recorded there after the stream was written).
func dumpDir(t *testing.T, dir string) string {
	t.Helper()
	s, err := storage.Open(storage.Options{Path: dir, Logger: discard()})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	var b strings.Builder
	err = s.Dump(context.Background(), func(k, v []byte) error {
		if !bytes.HasPrefix(k, []byte("audit/")) && !bytes.HasPrefix(k, []byte("auth/")) {
			fmt.Fprintf(&b, "%s=%x\n", k, v)
		}
		return nil
	})
	if err != nil && !errors.Is(err, context.Canceled) {
		t.Fatal(err)
	}
	return b.String()
}

// BenchmarkIdleRSS starts `einsatz run` with the example knowledge base and
// reports its resident memory once idle (budget: 80 MB). Run it with
// -benchtime 1x; the test binary is the server, so build it without -race
// for a figure that matches a release build.
func BenchmarkIdleRSS(b *testing.B) {
	for range b.N {
		dataDir := filepath.Join(b.TempDir(), "data")
		srv := startServer(b, chatConfig(b, dataDir), dataDir)
		client := &http.Client{Timeout: 10 * time.Second}
		if _, err := send(client, srv.client.URL, "c1", "m1"); err != nil {
			b.Fatal(err)
		}
		time.Sleep(3 * time.Second)
		kb, err := procStatus(srv.cmd.Process.Pid, "VmRSS:") // soak_test.go
		if err != nil {
			b.Skip("no /proc on this system")
		}
		b.ReportMetric(kb/1024, "rss_MB")
		srv.stop(b)
	}
}
