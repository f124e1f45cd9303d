package login

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"github.com/redis/go-redis/v9"
)

// RedisStore is a NonceStore in Redis, shared by every server that uses the
// same Redis: Put is SET NX with an expiry (the challenge's expiry plus
// Retention), Take is GETDEL, so exactly one taker gets a nonce. A taken
// nonce leaves a marker key (SET with the same expiry) so that a replay is
// reported as such.
type RedisStore struct {
	client redis.UniversalClient
	// Prefix starts every key ("kep:login:" by default).
	Prefix string
	// Now is the store's clock for expiries (time.Now when nil).
	Now   func() time.Time
	owned bool
}

// NewRedisStore returns a store using client, which the caller keeps and
// closes.
func NewRedisStore(client redis.UniversalClient) *RedisStore {
	return &RedisStore{client: client, Prefix: "kep:login:"}
}

// OpenRedisStore connects to the Redis server of a redis://, rediss:// or
// unix:// URL (redis.ParseURL: user, password, database number, TLS). Close
// it when done.
func OpenRedisStore(rawURL string) (*RedisStore, error) {
	opts, err := redis.ParseURL(rawURL)
	if err != nil {
		return nil, fmt.Errorf("login: nonce store: %w", err)
	}
	s := NewRedisStore(redis.NewClient(opts))
	s.owned = true
	return s, nil
}

// Close closes the connection OpenRedisStore made; it leaves a client given
// to NewRedisStore open.
func (s *RedisStore) Close() error {
	if s.owned {
		return s.client.Close()
	}
	return nil
}

func (s *RedisStore) ttl(until time.Time) time.Duration {
	d := until.Sub(nowFunc(s.Now)())
	if d < time.Second {
		d = time.Second
	}
	return d
}

// Put implements NonceStore.
func (s *RedisStore) Put(ctx context.Context, nonce, origin string, expires time.Time) error {
	if err := checkNonce(nonce); err != nil {
		return err
	}
	data, err := json.Marshal(fileEntry{origin, expires.UTC()})
	if err != nil {
		return err
	}
	// A taken nonce is never issued again (nonces are random: this only
	// catches a broken random source).
	if n, err := s.client.Exists(ctx, s.Prefix+"used:"+nonce).Result(); err != nil {
		return fmt.Errorf("login: nonce store: %w", err)
	} else if n > 0 {
		return ErrNonceExists
	}
	ok, err := s.client.SetNX(ctx, s.Prefix+"nonce:"+nonce, data, s.ttl(expires.Add(Retention))).Result()
	if err != nil {
		return fmt.Errorf("login: nonce store: %w", err)
	}
	if !ok {
		return ErrNonceExists
	}
	return nil
}

// Take implements NonceStore.
func (s *RedisStore) Take(ctx context.Context, nonce string) (string, time.Time, error) {
	if checkNonce(nonce) != nil {
		return "", time.Time{}, ErrNonceUnknown
	}
	data, err := s.client.GetDel(ctx, s.Prefix+"nonce:"+nonce).Bytes()
	if errors.Is(err, redis.Nil) {
		n, err := s.client.Exists(ctx, s.Prefix+"used:"+nonce).Result()
		if err == nil && n > 0 {
			return "", time.Time{}, ErrNonceReplayed
		}
		return "", time.Time{}, ErrNonceUnknown
	}
	if err != nil {
		return "", time.Time{}, fmt.Errorf("login: nonce store: %w", err)
	}
	var e fileEntry
	if err := json.Unmarshal(data, &e); err != nil {
		return "", time.Time{}, fmt.Errorf("login: nonce store: %w", err)
	}
	// The marker only tells a replay from an unknown nonce; failing to set
	// it does not undo the take.
	s.client.Set(ctx, s.Prefix+"used:"+nonce, "1", s.ttl(e.Expires.Add(Retention)))
	return e.Origin, e.Expires, nil
}
