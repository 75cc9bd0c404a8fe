package cluster

import (
	"context"
	"errors"
	"io"
	"log/slog"
	"testing"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"

	"github.com/einsatz/einsatz/bot"
)

// Two nodes read the same owner; one hands the thread to ann; the other,
// not yet told, tries to give it to bob: compare-and-set refuses, and
// after reading again (its watcher caught up) it may.
func TestOwnerChangeFromAStaleReadIsRefused(t *testing.T) {
	addr := soloServer(t, Settings{}).Client
	nc, err := nats.Connect("nats://" + addr)
	if err != nil {
		t.Fatal(err)
	}
	defer nc.Close()
	js, err := jetstream.New(nc)
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	kv, err := js.CreateOrUpdateKeyValue(ctx, jetstream.KeyValueConfig{Bucket: OwnerBucket})
	if err != nil {
		t.Fatal(err)
	}
	log := slog.New(slog.NewTextHandler(io.Discard, nil))
	a, err := watchOwners(ctx, kv, log)
	if err != nil {
		t.Fatal(err)
	}
	defer a.stop()
	b, err := watchOwners(ctx, kv, log)
	if err != nil {
		t.Fatal(err)
	}
	defer b.stop()
	thread := bot.ThreadRef{Platform: "discord", ChannelID: "c", ThreadID: "t"}
	if err := a.SetOwner(ctx, thread, bot.Owner{Staff: "mia"}); err != nil {
		t.Fatal(err)
	}
	waitOwner(t, b, thread, "mia")

	// b's view is held at "mia" (as if its watcher lagged) while a hands
	// the thread to ann.
	b.mu.Lock()
	stale := b.threads[kvKey(thread.Key())]
	b.mu.Unlock()
	if err := a.SetOwner(ctx, thread, bot.Owner{Staff: "ann"}); err != nil {
		t.Fatal(err)
	}
	b.watcher.Stop()
	b.mu.Lock()
	b.threads[kvKey(thread.Key())] = stale
	b.mu.Unlock()
	if err := b.SetOwner(ctx, thread, bot.Owner{Staff: "bob"}); !errors.Is(err, ErrOwnerChanged) {
		t.Fatalf("a change from a stale read: %v, want ErrOwnerChanged", err)
	}
	if o, _ := a.Owner(ctx, thread); o.Staff != "ann" {
		t.Fatalf("owner after the refused change = %q, want ann", o.Staff)
	}
	// Touching (staff wrote) needs no fresh read: it keeps whoever owns it.
	at := time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)
	if err := b.TouchOwner(ctx, thread, at); err != nil {
		t.Fatal(err)
	}
	deadline := time.Now().Add(5 * time.Second)
	for {
		o, _ := a.Owner(ctx, thread)
		if o.Staff == "ann" && o.LastActive.Equal(at) {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("after the touch node a sees %+v, want ann active at %s", o, at)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

func waitOwner(t *testing.T, o *Owners, thread bot.ThreadRef, staff string) {
	t.Helper()
	deadline := time.Now().Add(5 * time.Second)
	for {
		if got, _ := o.Owner(context.Background(), thread); got.Staff == staff {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("owner never became %q", staff)
		}
		time.Sleep(10 * time.Millisecond)
	}
}
