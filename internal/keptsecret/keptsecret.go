// Package keptsecret keeps unlocked key material for a while, so that a
// batch of signatures asks for one key derivation or decryption instead of
// one per signature: the software token's master key (pkcs11/soft), a
// CryptoPro container's decrypted key (pkcs11/keystore).
//
// The password is never kept: a hit needs it again, compared with an HMAC
// of it under a random key of this cache, so a caller that does not know
// the password gets nothing. Each entry also records the state it was
// unlocked from (the token's wrapped key, the container files' digest): a
// different state drops it. A kept secret is zeroed when its time runs out
// (even if nobody asks again), on Drop, Clear and Close.
//
// Warning: a kept secret lives in the process's memory for the cache's
// time, as the password it replaces would.
package keptsecret

import (
	"bytes"
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"encoding/binary"
	"sync"
	"time"
)

// Cache keeps secrets by name for a fixed time. The zero value is not
// usable; a nil *Cache keeps nothing.
type Cache struct {
	ttl    time.Duration
	now    func() time.Time
	tagKey []byte // random, for the password's HMAC

	mu     sync.Mutex
	items  map[string]*item
	closed bool
}

type item struct {
	state  []byte
	tag    []byte // HMAC-SHA256(tagKey, name, state, password)
	secret []byte
	until  time.Time
	timer  *time.Timer
}

// New returns a cache that keeps each secret for ttl (none when ttl ≤ 0);
// now is the clock (time.Now when nil).
func New(ttl time.Duration, now func() time.Time) *Cache {
	if now == nil {
		now = time.Now
	}
	k := make([]byte, 32)
	if _, err := rand.Read(k); err != nil {
		panic(err) // crypto/rand does not fail on supported systems
	}
	return &Cache{ttl: ttl, now: now, tagKey: k, items: map[string]*item{}}
}

func (c *Cache) tag(name string, state, password []byte) []byte {
	m := hmac.New(sha256.New, c.tagKey)
	for _, p := range [][]byte{[]byte(name), state, password} {
		var n [8]byte
		binary.BigEndian.PutUint64(n[:], uint64(len(p)))
		m.Write(n[:])
		m.Write(p)
	}
	return m.Sum(nil)
}

// Get returns a copy of the secret kept under name when it was unlocked
// from state with password, or nil. An entry whose time ran out or whose
// state differs is dropped; a wrong password leaves it (the caller checks
// that password the slow way, and calls Drop if it is wrong).
func (c *Cache) Get(name string, state, password []byte) []byte {
	if c == nil {
		return nil
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	it := c.items[name]
	if it == nil {
		return nil
	}
	if !c.now().Before(it.until) || !bytes.Equal(it.state, state) {
		c.dropLocked(name)
		return nil
	}
	if !hmac.Equal(it.tag, c.tag(name, state, password)) {
		return nil
	}
	return append([]byte(nil), it.secret...)
}

// Put keeps a copy of secret, unlocked from state by password, for the
// cache's time, replacing what name held.
func (c *Cache) Put(name string, state, password, secret []byte) {
	if c == nil || c.ttl <= 0 {
		return
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.closed {
		return
	}
	c.dropLocked(name)
	it := &item{state: append([]byte(nil), state...), tag: c.tag(name, state, password),
		secret: append([]byte(nil), secret...), until: c.now().Add(c.ttl)}
	c.items[name] = it
	it.timer = time.AfterFunc(c.ttl, func() {
		c.mu.Lock()
		defer c.mu.Unlock()
		if c.items[name] == it {
			c.dropLocked(name)
		}
	})
}

// Drop zeroes and forgets what name holds.
func (c *Cache) Drop(name string) {
	if c == nil {
		return
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	c.dropLocked(name)
}

func (c *Cache) dropLocked(name string) {
	if it := c.items[name]; it != nil {
		if it.timer != nil {
			it.timer.Stop()
		}
		clear(it.secret)
		clear(it.tag)
		delete(c.items, name)
	}
}

// Clear zeroes and forgets every kept secret.
func (c *Cache) Clear() {
	if c == nil {
		return
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	for name := range c.items {
		c.dropLocked(name)
	}
}

// Close clears the cache and keeps nothing from then on.
func (c *Cache) Close() {
	if c == nil {
		return
	}
	c.Clear()
	c.mu.Lock()
	c.closed = true
	c.mu.Unlock()
}

// Len is the number of secrets kept.
func (c *Cache) Len() int {
	if c == nil {
		return 0
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	return len(c.items)
}

// Kept returns the slice the cache holds for name itself, not a copy, or
// nil: for the tests of the caches built on this one, which show that it is
// zeroed when dropped. Never hand it out.
func (c *Cache) Kept(name string) []byte {
	if c == nil {
		return nil
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if it := c.items[name]; it != nil {
		return it.secret
	}
	return nil
}
