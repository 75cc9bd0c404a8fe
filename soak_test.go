package main

import (
	"bufio"
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"io/fs"
	"math/rand/v2"
	"net/http"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/einsatz/einsatz/adapters/web"
	"github.com/einsatz/einsatz/bot"
)

// BenchmarkSoak drives `einsatz run` (this test binary as the server, web
// chat, example knowledge base, sentiment and inbox, no LLM) with realistic
// chat messages as fast as it takes them, and samples its resident memory
// and Go heap as it goes. The count comes from EINSATZ_SOAK_MESSAGES
// (default 20,000, so `-bench Soak -benchtime 1x` stays short; the real soak
// is 1,000,000), the number of concurrent clients from EINSATZ_SOAK_CLIENTS
// (default 16), and EINSATZ_SOAK_FOR (a duration) ends the stream early on
// a slow machine, the figures then counting the messages sent. It reports messages/s, RSS at 10%, 50%
// and 100% of the messages, the slope of RSS over the second half (MB per
// 100k messages), peak RSS, the Go heap at the end, the database's size on
// disk and the messages lost (never answered nor handled silently). After
// the stream it takes a backup through the running server and reports the
// idle RSS once it has settled. EINSATZ_SOAK_CSV names a file for the
// samples. Build without -race for figures that match a release build.
func BenchmarkSoak(b *testing.B) {
	total := envInt(b, "EINSATZ_SOAK_MESSAGES", 20000)
	clients := envInt(b, "EINSATZ_SOAK_CLIENTS", 16)
	var limit time.Duration // EINSATZ_SOAK_FOR: stop sending after this long, whatever the count
	if v := os.Getenv("EINSATZ_SOAK_FOR"); v != "" {
		d, err := time.ParseDuration(v)
		if err != nil {
			b.Fatalf("EINSATZ_SOAK_FOR=%q: %v", v, err)
		}
		limit = d
	}
	gen := newSoakGen(b)
	for range b.N {
		dataDir := filepath.Join(b.TempDir(), "data")
		cfg := chatConfig(b, dataDir)
		srv := startServer(b, cfg, dataDir)
		pid := srv.cmd.Process.Pid
		if _, err := procStatus(pid, "VmRSS:"); err != nil {
			b.Skip("no /proc on this system")
		}
		base := srv.client.URL
		http.DefaultTransport.(*http.Transport).MaxIdleConnsPerHost = clients

		var csv *os.File // the samples as they come, to watch a long soak
		if path := os.Getenv("EINSATZ_SOAK_CSV"); path != "" {
			f, err := os.Create(path)
			if err != nil {
				b.Fatal(err)
			}
			csv = f
			fmt.Fprintln(csv, "messages,rss_mb,rss_anon_mb,heap_inuse_mb,heap_goal_mb,elapsed_s")
		}
		start := time.Now()
		var st soakStats
		samples := []soakSample{}
		var smu sync.Mutex
		every := max(int64(total/100), 1)
		stop := make(chan struct{})
		samplerDone := make(chan struct{})
		go func() { // sample at every 1% of the messages handled
			defer close(samplerDone)
			mark := every
			tick := time.NewTicker(50 * time.Millisecond)
			defer tick.Stop()
			for {
				select {
				case <-stop:
					return
				case <-tick.C:
				}
				if d := st.done.Load(); d >= mark {
					s := sampleServer(pid, base, d)
					smu.Lock()
					samples = append(samples, s)
					smu.Unlock()
					if csv != nil {
						fmt.Fprintf(csv, "%d,%.1f,%.1f,%.1f,%.1f,%.1f\n", s.done, s.rssMB, s.anonMB, s.heapMB, s.goalMB, s.at.Sub(start).Seconds())
					}
					mark = (d/every + 1) * every
				}
			}
		}()

		var deadline time.Time
		if limit > 0 {
			deadline = start.Add(limit)
		}
		drive(base, total, clients, gen, &st, deadline)
		elapsed := time.Since(start)
		if sent := int(st.done.Load()); sent < total {
			b.Logf("EINSATZ_SOAK_FOR=%s ended the soak after %d of %d messages", limit, sent, total)
			total = sent
		}
		close(stop)
		<-samplerDone
		end := sampleServer(pid, base, st.done.Load())
		samples = append(samples, end)
		disk := diskUsage(dataDir)

		// A backup through the running server, then idle.
		backup := filepath.Join(b.TempDir(), "soak.backup")
		if os.Getenv("EINSATZ_SOAK_BACKUP") != "off" {
			if err := runCLI("backup", backup, "--config", cfg); err != nil {
				b.Fatalf("backup: %v", err)
			}
		}
		idle := settledRSS(pid, 20*time.Second)
		peak, _ := procStatus(pid, "VmHWM:")
		srv.stop(b)

		at := func(frac float64) float64 {
			want := int64(frac * float64(total))
			for _, s := range samples {
				if s.done >= want {
					return s.rssMB
				}
			}
			return end.rssMB
		}
		var half []soakSample
		for _, s := range samples {
			if s.done >= int64(total/2) {
				half = append(half, s)
			}
		}
		lost := st.lost()
		b.ReportMetric(float64(st.done.Load())/elapsed.Seconds(), "msgs/s")
		b.ReportMetric(at(0.1), "rss10%_MB")
		b.ReportMetric(at(0.5), "rss50%_MB")
		b.ReportMetric(end.rssMB, "rss100%_MB")
		b.ReportMetric(rssSlope(half)*100000, "MB/100k_2nd_half")
		b.ReportMetric(peak/1024, "peak_rss_MB")
		b.ReportMetric(end.anonMB, "anon100%_MB")
		b.ReportMetric(end.heapMB, "heap_end_MB")
		b.ReportMetric(disk/(1<<20), "disk_MB")
		b.ReportMetric(idle, "idle_after_backup_MB")
		b.ReportMetric(float64(lost), "lost")
		b.Logf("%d messages by %d clients in %s: answered %d, silent %d, duplicate %d, queued (retried) %d, pending %d, failed %d, errors %d",
			st.done.Load(), clients, elapsed.Round(time.Second), st.answered.Load(), st.silent.Load(), st.duplicate.Load(),
			st.queued.Load(), st.pending.Load(), st.failed.Load(), st.errors.Load())
		if csv != nil {
			fmt.Fprintf(csv, "%d,%.1f,%.1f,%.1f,%.1f,%.1f\n", end.done, end.rssMB, end.anonMB, end.heapMB, end.goalMB, end.at.Sub(start).Seconds())
			fmt.Fprintf(csv, "# after the backup, idle: %.1f MB RSS\n", idle)
			csv.Close()
		}
		if lost > 0 {
			b.Errorf("%d messages lost", lost)
		}
	}
}

// drive sends total chat messages from clients concurrent visitors, each
// writing 1 to 20 messages in its conversation before the next visitor
// comes, and waiting for each answer as the chat page does.
func drive(base string, total, clients int, gen *soakGen, st *soakStats, deadline time.Time) {
	var next atomic.Int64 // the next message's number, over all clients
	var wg sync.WaitGroup
	for w := range clients {
		wg.Add(1)
		go func() {
			defer wg.Done()
			r := rand.New(rand.NewPCG(uint64(w), 17))
			hc := &http.Client{Timeout: 90 * time.Second}
			conv, user, left := "", "", 0
			for {
				n := next.Add(1)
				if n > int64(total) || !deadline.IsZero() && time.Now().After(deadline) {
					return
				}
				if left == 0 { // a new visitor: 1 to 20 messages
					conv, user, left = fmt.Sprintf("soak-%d-%d", w, n), gen.user(r), 1+r.IntN(20)
				}
				left--
				st.send(hc, base, conv, "m"+strconv.FormatInt(n, 10), user, gen.text(r))
			}
		}()
	}
	wg.Wait()
}

// soakStats counts what the clients saw.
type soakStats struct {
	done, answered, silent, duplicate         atomic.Int64
	queued, pending, failed, errors, attempts atomic.Int64
}

// lost is every message that was neither answered nor handled silently.
func (s *soakStats) lost() int64 { return s.pending.Load() + s.failed.Load() + s.errors.Load() }

// send posts one chat message, retrying while the bot says it is busy
// (queued: the message was not accepted) or the connection fails.
func (s *soakStats) send(hc *http.Client, base, conv, id, user, text string) {
	body, _ := json.Marshal(web.ChatRequest{ConversationID: conv, MessageID: id, User: user, Text: text})
	defer s.done.Add(1)
	for try := 0; ; try++ {
		s.attempts.Add(1)
		resp, err := hc.Post(base+"/api/chat", "application/json", bytes.NewReader(body))
		if err != nil {
			if try < 5 {
				time.Sleep(100 * time.Millisecond)
				continue
			}
			s.errors.Add(1)
			return
		}
		var out web.ChatResponse
		err = json.NewDecoder(resp.Body).Decode(&out)
		io.Copy(io.Discard, resp.Body)
		resp.Body.Close()
		switch {
		case err != nil:
			s.errors.Add(1)
		case out.Status == "queued" || resp.StatusCode == http.StatusTooManyRequests:
			s.queued.Add(1)
			time.Sleep(20 * time.Millisecond)
			continue
		case out.Status == bot.OutcomeAnswered:
			s.answered.Add(1)
		case out.Status == bot.OutcomeSilent:
			s.silent.Add(1)
		case out.Status == bot.OutcomeDuplicate:
			s.duplicate.Add(1)
		case out.Status == "pending":
			s.pending.Add(1)
		default:
			s.failed.Add(1)
		}
		return
	}
}

type soakSample struct {
	done          int64
	rssMB, heapMB float64
	anonMB        float64 // the process's own memory; the rest of RSS is mapped files (Badger's tables), which the kernel can drop
	goalMB        float64 // the collector's heap goal: about twice the live heap
	at            time.Time
}

func sampleServer(pid int, base string, done int64) soakSample {
	rss, _ := procStatus(pid, "VmRSS:")
	anon, _ := procStatus(pid, "RssAnon:")
	heap, goal := metrics(base, "go_memstats_heap_inuse_bytes", "go_memstats_next_gc_bytes")
	return soakSample{done: done, rssMB: rss / 1024, anonMB: anon / 1024, heapMB: heap / (1 << 20), goalMB: goal / (1 << 20), at: time.Now()}
}

// procStatus reads a figure in kB from /proc/PID/status.
func procStatus(pid int, field string) (float64, error) {
	status, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", pid))
	if err != nil {
		return 0, err
	}
	for _, line := range strings.Split(string(status), "\n") {
		if v, ok := strings.CutPrefix(line, field); ok {
			var kb float64
			fmt.Sscanf(strings.TrimSpace(v), "%f", &kb)
			return kb, nil
		}
	}
	return 0, fmt.Errorf("%s not in /proc/%d/status", field, pid)
}

// metrics reads two unlabelled gauges from the server's /metrics.
func metrics(base, name1, name2 string) (v1, v2 float64) {
	resp, err := http.Get(base + "/metrics")
	if err != nil {
		return 0, 0
	}
	defer resp.Body.Close()
	sc := bufio.NewScanner(resp.Body)
	sc.Buffer(make([]byte, 64<<10), 1<<20)
	for sc.Scan() {
		if v, ok := strings.CutPrefix(sc.Text(), name1+" "); ok {
			v1, _ = strconv.ParseFloat(v, 64)
		}
		if v, ok := strings.CutPrefix(sc.Text(), name2+" "); ok {
			v2, _ = strconv.ParseFloat(v, 64)
		}
	}
	return v1, v2
}

// settledRSS waits until the server's RSS has not fallen for 3 s (or at
// most max) and returns it in MB.
func settledRSS(pid int, maxWait time.Duration) float64 {
	deadline := time.Now().Add(maxWait)
	low, lowAt := 1e18, time.Now()
	for time.Now().Before(deadline) {
		kb, err := procStatus(pid, "VmRSS:")
		if err != nil {
			return 0
		}
		if kb < low-256 {
			low, lowAt = kb, time.Now()
		} else if time.Since(lowAt) >= 3*time.Second {
			break
		}
		time.Sleep(250 * time.Millisecond)
	}
	kb, _ := procStatus(pid, "VmRSS:")
	return kb / 1024
}

// rssSlope is the least-squares slope of RSS (MB) over messages.
func rssSlope(s []soakSample) float64 {
	if len(s) < 2 {
		return 0
	}
	var sx, sy, sxx, sxy float64
	for _, p := range s {
		x := float64(p.done)
		sx, sy, sxx, sxy = sx+x, sy+p.rssMB, sxx+x*x, sxy+x*p.rssMB
	}
	n := float64(len(s))
	d := n*sxx - sx*sx
	if d == 0 {
		return 0
	}
	return (n*sxy - sx*sy) / d
}

// diskUsage is the space a directory's files take on disk (allocated
// blocks: Badger's value log is preallocated sparsely).
func diskUsage(dir string) float64 {
	var total float64
	filepath.WalkDir(dir, func(_ string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return nil
		}
		if info, err := d.Info(); err == nil {
			if st, ok := info.Sys().(*syscall.Stat_t); ok {
				total += float64(st.Blocks) * 512
			}
		}
		return nil
	})
	return total
}

// runCLI runs an einsatz command in this process.
func runCLI(args ...string) error {
	var out bytes.Buffer
	cmd := newRootCmd(strings.NewReader(""), &out, &out)
	cmd.SetArgs(args)
	if err := cmd.Execute(); err != nil {
		return fmt.Errorf("%w\n%s", err, out.String())
	}
	return nil
}

func envInt(b *testing.B, name string, def int) int {
	v := os.Getenv(name)
	if v == "" {
		return def
	}
	n, err := strconv.Atoi(strings.ReplaceAll(v, "_", ""))
	if err != nil || n <= 0 {
		b.Fatalf("%s=%q: want a positive number", name, v)
	}
	return n
}

// soakGen makes realistic chat traffic: the project's frozen English and
// German messages, questions and feature requests, chatter, and feature
// requests and questions about many different topics, so the inbox and
// the question log see new words all the time rather than one message
// over and over.
type soakGen struct {
	corpus []string
}

func newSoakGen(b *testing.B) *soakGen {
	g := &soakGen{}
	for _, f := range []string{"messages", "questions", "feature_requests", "retrieval"} {
		data, err := os.ReadFile(filepath.Join("testdata", f+".jsonl"))
		if err != nil {
			b.Fatal(err)
		}
		for line := range strings.SplitSeq(string(data), "\n") {
			var m struct {
				Text string `json:"text"`
			}
			if json.Unmarshal([]byte(line), &m) == nil && m.Text != "" {
				g.corpus = append(g.corpus, m.Text)
			}
		}
	}
	if len(g.corpus) < 100 {
		b.Fatalf("only %d messages in testdata", len(g.corpus))
	}
	return g
}

var (
	soakChatter = []string{"lol", "brb", "ok", "thanks!", "danke!", "ty", "hi", "hallo zusammen", "good morning", "+1", "same here", "haha", "nice", "guten Abend", "bye", "alles klar", "thx a lot", "👍"}
	soakAdj     = []string{"dark", "compact", "weekly", "German", "offline", "nested", "scheduled", "private", "custom", "shared", "bulk", "anonymous", "threaded", "colour-coded", "searchable", "exportable", "keyboard", "mobile", "per-channel", "multi-language", "encrypted", "daily", "public", "read-only", "pinned", "automatic", "manual", "sortable", "filtered", "archived"}
	soakNoun    = []string{"mode", "reports", "digests", "export", "webhooks", "roles", "reminders", "polls", "tags", "filters", "themes", "shortcuts", "notifications", "dashboards", "backups", "statistics", "templates", "macros", "labels", "threads", "answers", "feeds", "calendars", "invites", "badges", "emoji", "summaries", "translations", "permissions", "attachments"}
	soakPlace   = []string{"dashboard", "Discord bot", "Slack app", "web chat", "inbox", "staff desk", "CLI", "widget", "knowledge base", "roadmap"}
	soakAsk     = []string{
		"could you add %s %s to the %s?",
		"It would be great if the %[3]s had %[1]s %[2]s",
		"feature request: %s %s for the %s please",
		"Könntet ihr %s %s im %s einbauen?",
		"Es wäre super, wenn es %s %s für das %s gäbe",
		"how do I set up %s %s in the %s?",
		"Wie richte ich %s %s im %s ein?",
		"is there a way to get %s %s in the %s?",
		"Gibt es %s %s im %s?",
		"the %[3]s keeps losing my %[1]s %[2]s, any idea why?",
	}
)

func (g *soakGen) text(r *rand.Rand) string {
	switch p := r.IntN(100); {
	case p < 15:
		return soakChatter[r.IntN(len(soakChatter))]
	case p < 45:
		return fmt.Sprintf(soakAsk[r.IntN(len(soakAsk))], soakAdj[r.IntN(len(soakAdj))], soakNoun[r.IntN(len(soakNoun))], soakPlace[r.IntN(len(soakPlace))])
	default:
		return g.corpus[r.IntN(len(g.corpus))]
	}
}

var soakNames = []string{"visitor", "Jana", "Tom", "Mehmet", "Lea", "Priya", "Jonas", "Sam", "Anna-Lena", "Kofi", "Mia", "Lukas"}

func (g *soakGen) user(r *rand.Rand) string {
	if r.IntN(3) == 0 {
		return "visitor"
	}
	return soakNames[r.IntN(len(soakNames))] + strconv.Itoa(r.IntN(1000))
}

// BenchmarkIdleRSSAfterBackup starts `einsatz run` as BenchmarkIdleRSS
// does, sends it EINSATZ_IDLE_MESSAGES realistic chat messages (default
// 5,000), and reports its idle RSS once settled before and after an
// `einsatz backup` through the running server (budget: 50 MB after), and
// the size of the backup. Run it with -benchtime 1x, without -race.
func BenchmarkIdleRSSAfterBackup(b *testing.B) {
	total := envInt(b, "EINSATZ_IDLE_MESSAGES", 5000)
	gen := newSoakGen(b)
	for range b.N {
		dataDir := filepath.Join(b.TempDir(), "data")
		cfg := chatConfig(b, dataDir)
		srv := startServer(b, cfg, dataDir)
		pid := srv.cmd.Process.Pid
		if _, err := procStatus(pid, "VmRSS:"); err != nil {
			b.Skip("no /proc on this system")
		}
		var st soakStats
		drive(srv.client.URL, total, 4, gen, &st, time.Time{})
		if lost := st.lost(); lost > 0 {
			b.Fatalf("%d of %d messages lost", lost, total)
		}
		before := settledRSS(pid, 30*time.Second)
		backup := filepath.Join(b.TempDir(), "einsatz.backup")
		if err := runCLI("backup", backup, "--config", cfg); err != nil {
			b.Fatalf("backup: %v", err)
		}
		peak, _ := procStatus(pid, "VmHWM:")
		after := settledRSS(pid, 30*time.Second)
		anon, _ := procStatus(pid, "RssAnon:")
		heap, _ := metrics(srv.client.URL, "go_memstats_heap_inuse_bytes", "")
		info, err := os.Stat(backup)
		if err != nil {
			b.Fatal(err)
		}
		srv.stop(b)
		b.ReportMetric(before, "idle_before_MB")
		b.ReportMetric(after, "idle_after_backup_MB")
		b.ReportMetric(after/before, "after/before")
		b.ReportMetric(anon/1024, "idle_after_anon_MB")
		b.ReportMetric(heap/(1<<20), "idle_after_heap_MB")
		b.ReportMetric(peak/1024, "peak_rss_MB")
		b.ReportMetric(float64(info.Size())/(1<<20), "backup_MB")
	}
}
