package slack

import (
	"testing"
	"time"
)

// Names expire after their ttl on the adapter's clock, and the least
// recently used name goes first when the cache is full.
func TestNameCache(t *testing.T) {
	now := time.Unix(1_700_000_000, 0)
	c := newNameCache(2, time.Hour, func() time.Time { return now })
	c.put("U1", "alice")
	c.put("U2", "bob")
	if name, ok := c.get("U1"); !ok || name != "alice" {
		t.Fatalf("get(U1) = %q, %v; want alice", name, ok)
	}
	c.put("U3", "carol") // evicts U2, the least recently used
	if _, ok := c.get("U2"); ok {
		t.Error("U2 kept beyond the size")
	}
	now = now.Add(time.Hour)
	if name, ok := c.get("U3"); !ok || name != "carol" {
		t.Errorf("get(U3) at exactly the ttl = %q, %v; want carol", name, ok)
	}
	now = now.Add(time.Second)
	if _, ok := c.get("U3"); ok {
		t.Error("U3 kept after its ttl")
	}
	if n := c.c.Len(); n != 1 {
		t.Errorf("%d entries after the expired one was read, want 1", n)
	}
}
