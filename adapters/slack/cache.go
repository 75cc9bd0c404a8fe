package slack

import (
	"time"

	lru "github.com/hashicorp/golang-lru/v2"
)

// newCache is golang-lru's LRU of a fixed, positive size (New fails only
// for a size below 1).
func newCache(size int) *lru.Cache[string, string] {
	c, _ := lru.New[string, string](size)
	return c
}

// nameCache holds user display names on an LRU for ttl each. The expiry is
// read from the adapter's clock (Options.Now) rather than golang-lru's
// expirable LRU, which reads time.Now and starts a cleanup goroutine that
// never ends.
type nameCache struct {
	c   *lru.Cache[string, cachedName]
	ttl time.Duration
	now func() time.Time
}

type cachedName struct {
	name    string
	expires time.Time
}

func newNameCache(size int, ttl time.Duration, now func() time.Time) *nameCache {
	c, _ := lru.New[string, cachedName](size)
	return &nameCache{c: c, ttl: ttl, now: now}
}

func (n *nameCache) get(userID string) (string, bool) {
	e, ok := n.c.Get(userID)
	if !ok {
		return "", false
	}
	if n.now().After(e.expires) {
		n.c.Remove(userID)
		return "", false
	}
	return e.name, true
}

func (n *nameCache) put(userID, name string) {
	n.c.Add(userID, cachedName{name: name, expires: n.now().Add(n.ttl)})
}
