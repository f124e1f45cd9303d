package agent

import (
	"sync"
	"time"

	"github.com/kepkit/kep/pkcs11/keystore"
	"github.com/kepkit/kep/pkcs11/soft"
)

// pinCache keeps the PINs the user typed, per site and token, for
// Config.PINCache when the operator opted in: the user still approves every
// signature of that site in the agent's window, without typing the PIN
// again until it expires. A PIN typed for one site never signs for another.
//
// For the software token it also keeps the unlocked key for the same time
// (keys), so the signatures of a batch after the first cost no key
// derivation; the key is only used with the PIN, checked again each time.
type pinCache struct {
	ttl  time.Duration
	now  func() time.Time
	keys *soft.KeyCache
	// containers is the same for CryptoPro containers' decrypted keys.
	containers *keystore.ContainerKeyCache
	mu         sync.Mutex
	pins       map[string]*cachedPIN
}

type cachedPIN struct {
	pin   []byte
	until time.Time
}

func newPINCache(ttl time.Duration, now func() time.Time) *pinCache {
	return &pinCache{ttl: ttl, now: now, keys: soft.NewKeyCache(ttl), containers: keystore.NewContainerKeyCache(ttl), pins: map[string]*cachedPIN{}}
}

// pinKey names a token (and, for the cache, the site it was typed for).
func pinKey(origin string, t keystore.Token) string {
	return origin + "\x00" + t.Source + "\x00" + t.Module + "\x00" + t.Info.Serial + "\x00" + t.Info.Label
}

// get returns a copy of the PIN typed for the token on origin's behalf and
// until when it is kept, or nil when none is.
func (c *pinCache) get(origin string, t keystore.Token) ([]byte, time.Time) {
	if c == nil {
		return nil, time.Time{}
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	key := pinKey(origin, t)
	p := c.pins[key]
	if p == nil {
		return nil, time.Time{}
	}
	if !c.now().Before(p.until) {
		c.forgetLocked(key)
		return nil, time.Time{}
	}
	return append([]byte(nil), p.pin...), p.until
}

// put keeps a copy of pin until the cache's time runs out.
func (c *pinCache) put(origin string, t keystore.Token, pin []byte) {
	if c == nil || len(pin) == 0 {
		return
	}
	key := pinKey(origin, t)
	c.mu.Lock()
	defer c.mu.Unlock()
	c.forgetLocked(key)
	c.pins[key] = &cachedPIN{pin: append([]byte(nil), pin...), until: c.now().Add(c.ttl)}
	// Zeroed on time even if nobody asks again.
	time.AfterFunc(c.ttl, func() { c.forget(origin, t) })
}

// forget drops the PIN kept for the token and origin.
func (c *pinCache) forget(origin string, t keystore.Token) {
	if c == nil {
		return
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	c.forgetLocked(pinKey(origin, t))
}

func (c *pinCache) forgetLocked(key string) {
	if p := c.pins[key]; p != nil {
		clear(p.pin)
		delete(c.pins, key)
	}
}

// softKeys is the software token's key cache (nil without a PIN cache).
func (c *pinCache) softKeys() *soft.KeyCache {
	if c == nil {
		return nil
	}
	return c.keys
}

// containerKeys is the CryptoPro containers' key cache (nil without a PIN
// cache).
func (c *pinCache) containerKeys() *keystore.ContainerKeyCache {
	if c == nil {
		return nil
	}
	return c.containers
}

// clearAll zeroes every PIN and every kept key (the agent stops).
func (c *pinCache) clearAll() {
	if c == nil {
		return
	}
	c.keys.Close()
	c.containers.Close()
	c.mu.Lock()
	defer c.mu.Unlock()
	for k := range c.pins {
		c.forgetLocked(k)
	}
}
