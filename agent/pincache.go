package agent

import (
	"sync"
	"time"

	"github.com/kepkit/kep/pkcs11/keystore"
)

// pinCache keeps the PINs the user typed, per token, for Config.PINCache
// when the operator opted in: the user still approves every signature in
// the agent's window, without typing the PIN again until it expires.
type pinCache struct {
	ttl  time.Duration
	now  func() time.Time
	mu   sync.Mutex
	pins map[string]*cachedPIN
}

type cachedPIN struct {
	pin   []byte
	until time.Time
}

func newPINCache(ttl time.Duration, now func() time.Time) *pinCache {
	return &pinCache{ttl: ttl, now: now, pins: map[string]*cachedPIN{}}
}

func pinKey(t keystore.Token) string {
	return t.Source + "\x00" + t.Module + "\x00" + t.Info.Serial + "\x00" + t.Info.Label
}

// get returns a copy of the token's PIN, or nil when none is kept.
func (c *pinCache) get(t keystore.Token) []byte {
	if c == nil {
		return nil
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	p := c.pins[pinKey(t)]
	if p == nil {
		return nil
	}
	if !c.now().Before(p.until) {
		c.forgetLocked(pinKey(t))
		return nil
	}
	return append([]byte(nil), p.pin...)
}

// put keeps a copy of pin until the cache's time runs out.
func (c *pinCache) put(t keystore.Token, pin []byte) {
	if c == nil || len(pin) == 0 {
		return
	}
	key := pinKey(t)
	c.mu.Lock()
	defer c.mu.Unlock()
	c.forgetLocked(key)
	c.pins[key] = &cachedPIN{pin: append([]byte(nil), pin...), until: c.now().Add(c.ttl)}
	// Zeroed on time even if nobody asks again.
	time.AfterFunc(c.ttl, func() { c.forget(t) })
}

// forget drops the token's PIN.
func (c *pinCache) forget(t keystore.Token) {
	if c == nil {
		return
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	c.forgetLocked(pinKey(t))
}

func (c *pinCache) forgetLocked(key string) {
	if p := c.pins[key]; p != nil {
		clear(p.pin)
		delete(c.pins, key)
	}
}

// clearAll zeroes every PIN (the agent stops).
func (c *pinCache) clearAll() {
	if c == nil {
		return
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	for k := range c.pins {
		c.forgetLocked(k)
	}
}
