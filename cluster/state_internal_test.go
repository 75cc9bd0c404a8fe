package cluster

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"net"
	"sync/atomic"
	"testing"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"

	"github.com/einsatz/einsatz/bot"
	"github.com/einsatz/einsatz/bot/escalation"
	"github.com/einsatz/einsatz/bot/escalation/escalationtest"
	"github.com/einsatz/einsatz/bot/mood"
	"github.com/einsatz/einsatz/bot/mood/moodtest"
	"github.com/einsatz/einsatz/bot/request"
	"github.com/einsatz/einsatz/bot/request/requesttest"
)

// soloJS starts one embedded server for the conformance suites.
func soloJS(t *testing.T) jetstream.JetStream {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := l.Addr().String()
	l.Close()
	srv, err := StartServer(Settings{Node: "solo", Client: addr, StoreDir: t.TempDir()})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(srv.Shutdown)
	nc, err := nats.Connect("nats://" + addr)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(nc.Close)
	js, err := jetstream.New(nc)
	if err != nil {
		t.Fatal(err)
	}
	return js
}

// freshBucket makes a bucket of its own for one subtest of a suite.
func freshBucket(t *testing.T, js jetstream.JetStream, n *atomic.Int64) jetstream.KeyValue {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	kv, err := js.CreateOrUpdateKeyValue(ctx, jetstream.KeyValueConfig{Bucket: fmt.Sprintf("suite_%d", n.Add(1))})
	if err != nil {
		t.Fatal(err)
	}
	return kv
}

var quietLog = slog.New(slog.NewTextHandler(io.Discard, nil))

// The shared escalations behave as escalation.Store says (the suite
// storage.Handoff and the in-memory fake pass).
func TestEscalationsConformance(t *testing.T) {
	js := soloJS(t)
	var n, ops atomic.Int64
	escalationtest.Run(t, func(t *testing.T) escalation.Store {
		x, err := watchEscalations(context.Background(), freshBucket(t, js, &n), quietLog, &ops)
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(x.s.stop)
		return x
	})
}

// The shared sentiment store behaves as mood.Store says, over the
// in-memory fake as the node's own store.
func TestMoodConformance(t *testing.T) {
	js := soloJS(t)
	var n, ops atomic.Int64
	moodtest.Run(t, func(t *testing.T) mood.Store {
		m, err := watchMood(context.Background(), freshBucket(t, js, &n), moodtest.NewMem(), quietLog, &ops, bot.SystemClock{})
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(m.stop)
		return m
	})
}

// The shared inbox behaves as request.Store says.
func TestInboxConformance(t *testing.T) {
	js := soloJS(t)
	var n, ops atomic.Int64
	requesttest.Run(t, func(t *testing.T) request.Store {
		s, err := watchShared[inboxRecord](context.Background(), freshBucket(t, js, &n), quietLog, &ops)
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(s.stop)
		return &Inbox{s: s}
	})
}
