package soft

import (
	"bytes"
	"crypto/hmac"
	"crypto/sha256"
	"sync"
	"time"
)

// KeyCache keeps software tokens' unlocked master keys for a while, so that
// a batch of signatures costs one key derivation (scrypt) instead of one
// per signature: LoginCached with the same correct PIN within the cache's
// time unlocks the token from the cache. It is what the agent uses with its
// PIN cache (kep agent --pin-cache), for that cache's lifetime.
//
// The PIN is never kept: a hit needs the PIN again, compared with an HMAC of
// it under a random key of this cache, so a caller that does not know the
// PIN gets nothing from the cache. A wrong PIN is checked and counted by the
// token as always, and drops the kept key. A kept key is zeroed when its
// time runs out (even if nobody asks again), when its token is locked,
// removed or its PIN changed, on Clear and on Close.
//
// Warning: a kept key lives in the process's memory for the cache's time,
// as the PIN it replaces would. Use a cache only where the PIN itself may
// be kept as long.
type KeyCache struct {
	ttl    time.Duration
	now    func() time.Time
	tagKey []byte // random, for the PIN's HMAC

	mu     sync.Mutex
	keys   map[string]*cachedKey
	closed bool
}

type cachedKey struct {
	kdf     kdfParams // the token's wrapping as it was when the key was kept
	wrapped []byte
	tag     []byte // HMAC-SHA256(tagKey, serial || 0 || pin)
	master  []byte
	until   time.Time
	timer   *time.Timer
}

// NewKeyCache returns a cache that keeps each unlocked key for ttl.
func NewKeyCache(ttl time.Duration) *KeyCache { return newKeyCache(ttl, time.Now) }

func newKeyCache(ttl time.Duration, now func() time.Time) *KeyCache {
	return &KeyCache{ttl: ttl, now: now, tagKey: random(32), keys: map[string]*cachedKey{}}
}

// cacheKey names a token in the cache: its directory and serial.
func cacheKey(dir, serial string) string { return dir + "\x00" + serial }

func (c *KeyCache) tag(serial string, pin []byte) []byte {
	m := hmac.New(sha256.New, c.tagKey)
	m.Write([]byte(serial))
	m.Write([]byte{0})
	m.Write(pin)
	return m.Sum(nil)
}

// get returns a copy of the master key kept for the token when its
// wrapping on disk is still tf's and pin is the PIN it was unlocked with,
// or nil. A kept key whose time ran out, or whose token's wrapping
// changed (a new PIN), is dropped.
func (c *KeyCache) get(dir string, tf tokenFile, pin []byte) []byte {
	if c == nil {
		return nil
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	key := cacheKey(dir, tf.Serial)
	k := c.keys[key]
	if k == nil {
		return nil
	}
	if !c.now().Before(k.until) || !bytes.Equal(k.wrapped, tf.MasterKey) || !sameKDF(k.kdf, tf.KDF) {
		c.dropLocked(key)
		return nil
	}
	if !hmac.Equal(k.tag, c.tag(tf.Serial, pin)) {
		return nil // the caller checks this PIN with the token (and counts it)
	}
	return append([]byte(nil), k.master...)
}

// put keeps a copy of master, unlocked by pin, for the cache's time.
func (c *KeyCache) put(dir string, tf tokenFile, pin, master []byte) {
	if c == nil || c.ttl <= 0 {
		return
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.closed {
		return
	}
	key := cacheKey(dir, tf.Serial)
	c.dropLocked(key)
	k := &cachedKey{kdf: tf.KDF, wrapped: append([]byte(nil), tf.MasterKey...), tag: c.tag(tf.Serial, pin),
		master: append([]byte(nil), master...), until: c.now().Add(c.ttl)}
	c.keys[key] = k
	// Zeroed on time even if nobody asks again.
	k.timer = time.AfterFunc(c.ttl, func() {
		c.mu.Lock()
		defer c.mu.Unlock()
		if c.keys[key] == k {
			c.dropLocked(key)
		}
	})
}

// drop zeroes and forgets the key kept for the token.
func (c *KeyCache) drop(dir, serial string) {
	if c == nil {
		return
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	c.dropLocked(cacheKey(dir, serial))
}

func (c *KeyCache) dropLocked(key string) {
	if k := c.keys[key]; k != nil {
		if k.timer != nil {
			k.timer.Stop()
		}
		clear(k.master)
		clear(k.tag)
		delete(c.keys, key)
	}
}

// Clear zeroes and forgets every kept key.
func (c *KeyCache) Clear() {
	if c == nil {
		return
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	for key := range c.keys {
		c.dropLocked(key)
	}
}

// Close clears the cache and keeps nothing from then on (LoginCached works
// as Login).
func (c *KeyCache) Close() {
	if c == nil {
		return
	}
	c.Clear()
	c.mu.Lock()
	c.closed = true
	c.mu.Unlock()
}

// Len is the number of keys kept.
func (c *KeyCache) Len() int {
	if c == nil {
		return 0
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	return len(c.keys)
}

func sameKDF(a, b kdfParams) bool {
	return a.Name == b.Name && bytes.Equal(a.Salt, b.Salt) && a.N == b.N && a.R == b.R && a.P == b.P
}
