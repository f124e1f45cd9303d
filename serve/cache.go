package serve

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"sync"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/kepkit/kep/certs"
)

// memCache is a bounded map with expiries, safe for concurrent use.
type memCache[V any] struct {
	mu  sync.Mutex
	max int
	m   map[string]memItem[V]
}

type memItem[V any] struct {
	v       V
	expires time.Time
}

func newMemCache[V any](max int) *memCache[V] {
	return &memCache[V]{max: max, m: map[string]memItem[V]{}}
}

func (c *memCache[V]) get(key string, now time.Time) (V, bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	it, ok := c.m[key]
	if !ok || now.After(it.expires) {
		var zero V
		return zero, false
	}
	return it.v, true
}

func (c *memCache[V]) put(key string, v V, expires time.Time, now time.Time) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if len(c.m) >= c.max {
		for k, it := range c.m {
			if now.After(it.expires) {
				delete(c.m, k)
			}
		}
		// Still full: forget an arbitrary half (map order is random).
		for k := range c.m {
			if len(c.m) < c.max/2 {
				break
			}
			delete(c.m, k)
		}
	}
	c.m[key] = memItem[V]{v, expires}
}

// shared is the optional Redis every instance shares for revocation answers
// and certificates seen.
type shared struct {
	client *redis.Client
	prefix string
}

func openShared(rawURL string) (*shared, error) {
	opts, err := redis.ParseURL(rawURL)
	if err != nil {
		return nil, fmt.Errorf("shared cache: %w", err)
	}
	return &shared{client: redis.NewClient(opts), prefix: "kep:serve:"}, nil
}

func (s *shared) get(ctx context.Context, key string) ([]byte, error) {
	ctx, cancel := context.WithTimeout(ctx, time.Second)
	defer cancel()
	b, err := s.client.Get(ctx, s.prefix+key).Bytes()
	if errors.Is(err, redis.Nil) {
		return nil, nil
	}
	return b, err
}

func (s *shared) set(ctx context.Context, key string, v []byte, ttl time.Duration) error {
	ctx, cancel := context.WithTimeout(ctx, time.Second)
	defer cancel()
	return s.client.Set(ctx, s.prefix+key, v, ttl).Err()
}

func (s *shared) ping(ctx context.Context) error {
	ctx, cancel := context.WithTimeout(ctx, time.Second)
	defer cancel()
	return s.client.Ping(ctx).Err()
}

// cachingChecker reuses definite revocation answers (good, revoked, unknown)
// for up to ttl, first from this instance's memory, then from the shared
// Redis. Only checks at the present time are cached: a request with its own
// validation time in the past asks the network (or its CRLs) again.
// Indeterminate and soft-fail answers are never cached, so an outage is
// retried on the next request.
//
// Warning: an answer is reused for up to ttl, so a revocation is seen that
// much later; and instances trust what the shared Redis holds — protect it
// as the service itself.
type cachingChecker struct {
	next   certs.RevocationChecker
	key    string // the policy (mode, soft-fail): answers under another policy are not shared
	ttl    time.Duration
	mem    *memCache[*certs.RevocationStatus]
	shared *shared
	m      *metrics
	now    func() time.Time
}

func (c *cachingChecker) CheckRevocation(ctx context.Context, cert, issuer *certs.Certificate, at time.Time) (*certs.RevocationStatus, error) {
	now := c.now()
	if c.ttl <= 0 || at.Before(now.Add(-time.Minute)) || at.After(now.Add(time.Minute)) {
		return c.check(ctx, cert, issuer, at)
	}
	key := "rev:" + c.key + ":" + issuer.Thumbprint() + ":" + cert.Thumbprint()
	if st, ok := c.mem.get(key, now); ok {
		c.m.revCache.WithLabelValues("memory", "hit").Inc()
		return st, nil
	}
	c.m.revCache.WithLabelValues("memory", "miss").Inc()
	if c.shared != nil {
		if b, err := c.shared.get(ctx, key); err == nil && b != nil {
			var st certs.RevocationStatus
			if json.Unmarshal(b, &st) == nil && definite(&st) {
				c.m.revCache.WithLabelValues("shared", "hit").Inc()
				c.mem.put(key, &st, now.Add(c.ttl), now)
				return &st, nil
			}
		}
		c.m.revCache.WithLabelValues("shared", "miss").Inc()
	}
	st, err := c.check(ctx, cert, issuer, at)
	if err != nil || !definite(st) {
		return st, err
	}
	c.mem.put(key, st, now.Add(c.ttl), now)
	if c.shared != nil {
		if b, err := json.Marshal(st); err == nil {
			c.shared.set(ctx, key, b, c.ttl)
		}
	}
	return st, nil
}

func (c *cachingChecker) check(ctx context.Context, cert, issuer *certs.Certificate, at time.Time) (*certs.RevocationStatus, error) {
	st, err := c.next.CheckRevocation(ctx, cert, issuer, at)
	state := "error"
	if err == nil && st != nil {
		state = st.State
	}
	c.m.revChecks.WithLabelValues(state).Inc()
	return st, err
}

func definite(st *certs.RevocationStatus) bool {
	if st == nil || st.SoftFail {
		return false
	}
	switch st.State {
	case certs.RevocationGood, certs.RevocationRevoked, certs.RevocationUnknown:
		return true
	}
	return false
}
