package soft

import (
	"encoding/json"
	"time"

	"github.com/kepkit/kep/internal/keptsecret"
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
type KeyCache struct{ c *keptsecret.Cache }

// NewKeyCache returns a cache that keeps each unlocked key for ttl.
func NewKeyCache(ttl time.Duration) *KeyCache { return newKeyCache(ttl, time.Now) }

func newKeyCache(ttl time.Duration, now func() time.Time) *KeyCache {
	return &KeyCache{c: keptsecret.New(ttl, now)}
}

// cacheKey names a token in the cache: its directory and serial.
func cacheKey(dir, serial string) string { return dir + "\x00" + serial }

// unlockedFrom is the state a master key was unlocked from: the token's KDF
// parameters and wrapped master key. A new PIN changes both, and drops the
// kept key.
func unlockedFrom(tf tokenFile) []byte {
	b, err := json.Marshal(struct {
		KDF     kdfParams
		Wrapped []byte
	}{tf.KDF, tf.MasterKey})
	if err != nil {
		panic(err) // plain fields: Marshal does not fail
	}
	return b
}

// get returns a copy of the master key kept for the token when its
// wrapping on disk is still tf's and pin is the PIN it was unlocked with,
// or nil. A kept key whose time ran out, or whose token's wrapping
// changed (a new PIN), is dropped; for a wrong PIN the caller checks it
// with the token (and counts it).
func (c *KeyCache) get(dir string, tf tokenFile, pin []byte) []byte {
	if c == nil {
		return nil
	}
	return c.c.Get(cacheKey(dir, tf.Serial), unlockedFrom(tf), pin)
}

// put keeps a copy of master, unlocked by pin, for the cache's time.
func (c *KeyCache) put(dir string, tf tokenFile, pin, master []byte) {
	if c != nil {
		c.c.Put(cacheKey(dir, tf.Serial), unlockedFrom(tf), pin, master)
	}
}

// drop zeroes and forgets the key kept for the token.
func (c *KeyCache) drop(dir, serial string) {
	if c != nil {
		c.c.Drop(cacheKey(dir, serial))
	}
}

// Clear zeroes and forgets every kept key.
func (c *KeyCache) Clear() {
	if c != nil {
		c.c.Clear()
	}
}

// Close clears the cache and keeps nothing from then on (LoginCached works
// as Login).
func (c *KeyCache) Close() {
	if c != nil {
		c.c.Close()
	}
}

// Len is the number of keys kept.
func (c *KeyCache) Len() int {
	if c == nil {
		return 0
	}
	return c.c.Len()
}
