package main

import (
	"fmt"
	"net"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/einsatz/einsatz/adapters/discord/discordtest"
)

// einsatz run with cluster.mode embedded (one node, its own NATS server):
// a Discord question goes through the event stream and the core and is
// answered once (the partition holder's posted mark is there);
// `einsatz cluster status` shows the node holding every partition.
func TestRunInClusterModeAnswersThroughTheStreams(t *testing.T) {
	fd := discordtest.New(t, discordtest.Options{})
	general := fd.TextChannel(fd.Guild, "general")
	alice := fd.NewUser("alice")
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	client := l.Addr().String()
	l.Close()
	dataDir := filepath.Join(t.TempDir(), "data")
	cfg := writeConfig(t, fmt.Sprintf(`storage:
  path: %s
web:
  addr: 127.0.0.1:0
discord:
  token: ${DISCORD_TOKEN}
  api_url: %s
cluster:
  mode: embedded
  node: solo
  client: %s
  partitions: 4
  lease_ttl: 2s
`, dataDir, fd.URL, client))
	t.Setenv("DISCORD_TOKEN", fd.Token)
	srv := startServer(t, cfg, dataDir)
	if !srv.printed("adapters enabled: web, discord") || !fd.WaitConnected(10*time.Second) {
		t.Fatalf("einsatz run output:\n%s", srv.out.String())
	}

	q := fd.Post(general, alice, "What is Einsatz?", true)
	deadline := time.Now().Add(20 * time.Second)
	for len(fd.BotMessages(q.ID)) == 0 {
		if time.Now().After(deadline) {
			t.Fatalf("no answer on Discord:\n%s", srv.out.String())
		}
		time.Sleep(20 * time.Millisecond)
	}
	time.Sleep(200 * time.Millisecond)
	if msgs := fd.BotMessages(q.ID); len(msgs) != 1 || !strings.Contains(msgs[0].Content, "community engagement bot") {
		t.Fatalf("Discord answers = %+v, want one answer about Einsatz", msgs)
	}

	// A feature request is filed in the cluster's inbox bucket, and the
	// CLI through the running node lists it.
	req := fd.Post(general, alice, "Please add a dark mode to the dashboard", true)
	deadline = time.Now().Add(20 * time.Second)
	for len(fd.BotMessages(req.ID)) == 0 {
		if time.Now().After(deadline) {
			t.Fatalf("no acknowledgement of the request on Discord:\n%s", srv.out.String())
		}
		time.Sleep(20 * time.Millisecond)
	}
	if out, _, err := einsatz(t, "", "inbox", "list", "--config", cfg); err != nil || !strings.Contains(out, "dark mode") {
		t.Errorf("inbox list through the node: %v\n%s", err, out)
	}

	out, _, err := einsatz(t, "", "cluster", "status", "--config", cfg)
	if err != nil {
		t.Fatalf("cluster status: %v\n%s", err, out)
	}
	// The answers' posted marks; the request: its number, item, message
	// and vote; the two messages' sentiment counts in one or two batches.
	for _, b := range []struct {
		name  string
		least int
	}{{"KV_einsatz_posted", 1}, {"KV_einsatz_inbox", 4}, {"KV_einsatz_mood", 1}, {"KV_einsatz_escalations", 0}, {"KV_einsatz_catchup", 1}} {
		n := -1 // not listed
		for _, l := range strings.Split(out, "\n") {
			if f := strings.Fields(l); len(f) > 1 && f[0] == b.name {
				n, _ = strconv.Atoi(f[1])
				break
			}
		}
		if n < b.least {
			t.Errorf("cluster status: %s holds %d records (-1: not listed), want at least %d:\n%s", b.name, n, b.least, out)
		}
	}
	for _, want := range []string{"NODES (1)", "solo", "EINSATZ_EVENTS", "EINSATZ_EVENTS/events-3", "solo  4 partitions  0 1 2 3", "OBJ_einsatz_kb",
		"DISCORD SHARD LEASES", "remaining 1000 of 1000"} {
		if !strings.Contains(out, want) {
			t.Errorf("cluster status lacks %q:\n%s", want, out)
		}
	}
	if !slices.ContainsFunc(strings.Split(out, "\n"), func(l string) bool { return strings.Contains(l, "shard 0") && strings.Contains(l, "solo") }) {
		t.Errorf("cluster status does not show shard 0 held by solo:\n%s", out)
	}
	t.Logf("einsatz cluster status:\n%s", out)
	srv.stop(t)
	if !strings.Contains(srv.out.String(), "joined the cluster") {
		t.Errorf("the log does not say the node joined the cluster:\n%s", srv.out.String())
	}
}

// With cluster.mode off nothing of the cluster is built.
func TestClusterOffBuildsNothing(t *testing.T) {
	cfg := mustLoad(t, writeConfig(t, "storage:\n  path: "+filepath.Join(t.TempDir(), "d")+"\n"))
	cl, err := joinCluster(t.Context(), cfg, discard())
	if err != nil || cl != nil {
		t.Fatalf("joinCluster = %v, %v; want nil, nil", cl, err)
	}
	if cl.tasks(nil) != nil || cl.adapters(nil) != nil || cl.close() != nil {
		t.Error("the helpers of a nil cluster add something")
	}
	if _, _, err := einsatz(t, "", "cluster", "status", "--config", writeConfig(t, "cluster:\n  mode: off\n")); err == nil || !strings.Contains(err.Error(), "one machine") {
		t.Errorf("cluster status with mode off: %v", err)
	}
}
