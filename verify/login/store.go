package login

import (
	"context"
	"errors"
	"io"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"time"
)

// Errors a NonceStore's Take returns.
var (
	// ErrNonceUnknown: the store never had the nonce, or has forgotten it.
	ErrNonceUnknown = errors.New("login: unknown nonce")
	// ErrNonceReplayed: the nonce was issued and has already been taken.
	ErrNonceReplayed = errors.New("login: nonce already used")
)

// Retention is how long stores keep a nonce after it expired (so that a late
// response is refused as NONCE_EXPIRED, not NONCE_UNKNOWN) and the record of
// a taken nonce (so that a replay is told from an unknown nonce).
const Retention = 10 * time.Minute

// NonceStore keeps the nonces of issued challenges until a Verifier takes
// them. Implementations must be safe for concurrent use; Take must be atomic:
// when several callers take one nonce at once, exactly one gets it and the
// others get ErrNonceReplayed (or ErrNonceUnknown).
type NonceStore interface {
	// Put records nonce, issued for origin, valid until expires. Putting a
	// nonce that is already there is an error.
	Put(ctx context.Context, nonce, origin string, expires time.Time) error
	// Take removes nonce and returns what Put recorded, expired or not:
	// the caller decides about expiry with its own clock.
	Take(ctx context.Context, nonce string) (origin string, expires time.Time, err error)
}

// ErrNonceExists is returned by Put for a nonce the store already has.
var ErrNonceExists = errors.New("login: nonce already stored")

// MemoryStore is a NonceStore in this process's memory: for one server
// process, and the default. Expired entries are swept on Put.
type MemoryStore struct {
	// Now is the store's clock for sweeping (time.Now when nil).
	Now func() time.Time

	mu        sync.Mutex
	live      map[string]memEntry
	taken     map[string]time.Time // nonce → when the record may go
	lastSweep time.Time
}

type memEntry struct {
	origin  string
	expires time.Time
}

// NewMemoryStore returns an empty in-memory store.
func NewMemoryStore() *MemoryStore { return &MemoryStore{} }

// Put implements NonceStore.
func (m *MemoryStore) Put(ctx context.Context, nonce, origin string, expires time.Time) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.live == nil {
		m.live, m.taken = map[string]memEntry{}, map[string]time.Time{}
	}
	now := nowFunc(m.Now)()
	if now.Sub(m.lastSweep) > time.Minute {
		m.sweep(now)
	}
	if _, ok := m.live[nonce]; ok {
		return ErrNonceExists
	}
	if _, ok := m.taken[nonce]; ok {
		return ErrNonceExists
	}
	m.live[nonce] = memEntry{origin, expires}
	return nil
}

func (m *MemoryStore) sweep(now time.Time) {
	m.lastSweep = now
	for n, e := range m.live {
		if now.After(e.expires.Add(Retention)) {
			delete(m.live, n)
		}
	}
	for n, until := range m.taken {
		if now.After(until) {
			delete(m.taken, n)
		}
	}
}

// Take implements NonceStore.
func (m *MemoryStore) Take(ctx context.Context, nonce string) (string, time.Time, error) {
	if err := ctx.Err(); err != nil {
		return "", time.Time{}, err
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	e, ok := m.live[nonce]
	if !ok {
		if _, used := m.taken[nonce]; used {
			return "", time.Time{}, ErrNonceReplayed
		}
		return "", time.Time{}, ErrNonceUnknown
	}
	delete(m.live, nonce)
	m.taken[nonce] = e.expires.Add(Retention)
	return e.origin, e.expires, nil
}

// Len returns the number of nonces waiting to be taken (for tests and metrics).
func (m *MemoryStore) Len() int {
	m.mu.Lock()
	defer m.mu.Unlock()
	return len(m.live)
}

// DefaultNonceDir returns the directory of the default file store:
// $KEP_NONCE_DIR, or kep/nonces in the user's cache directory.
func DefaultNonceDir() (string, error) {
	if d := os.Getenv("KEP_NONCE_DIR"); d != "" {
		return d, nil
	}
	c, err := os.UserCacheDir()
	if err != nil {
		return "", err
	}
	return filepath.Join(c, "kep", "nonces"), nil
}

// OpenStore opens the store spec names: "" the file store in
// DefaultNonceDir, "memory" a new MemoryStore, a redis:// or rediss:// URL a
// RedisStore, anything else a FileStore in that directory. Close the result
// when it implements io.Closer.
func OpenStore(spec string) (NonceStore, error) {
	switch {
	case spec == "memory":
		return NewMemoryStore(), nil
	case strings.HasPrefix(spec, "redis://"), strings.HasPrefix(spec, "rediss://"), strings.HasPrefix(spec, "unix://"):
		return OpenRedisStore(spec)
	case spec == "":
		d, err := DefaultNonceDir()
		if err != nil {
			return nil, err
		}
		return NewFileStore(d)
	default:
		return NewFileStore(spec)
	}
}

var _ io.Closer = (*RedisStore)(nil)
