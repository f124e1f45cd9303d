package soft

import (
	"errors"
	"path/filepath"
	"runtime"
	"sync"
	"testing"
	"time"

	"github.com/kepkit/kep/pkcs11"
)

// allocated is the number of bytes the process allocated while fn ran. The
// key derivation (scrypt, N = 2^15, r = 8) allocates 32 MiB at once, so a
// login that derives the key shows at least that much and one from the
// cache a few KiB. The tests using it are not parallel.
func allocated(fn func()) uint64 {
	var before, after runtime.MemStats
	runtime.ReadMemStats(&before)
	fn()
	runtime.ReadMemStats(&after)
	return after.TotalAlloc - before.TotalAlloc
}

const scryptAlloc = 128 * scryptR * scryptN

// fakeClock is a settable clock for a KeyCache.
type fakeClock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *fakeClock) now() time.Time { c.mu.Lock(); defer c.mu.Unlock(); return c.t }
func (c *fakeClock) add(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.t = c.t.Add(d)
}

// loginCost logs tok in with pin through c and says whether the key was
// derived (scrypt ran).
func loginCost(t *testing.T, tok *Token, pin []byte, c *KeyCache) (derived bool, err error) {
	t.Helper()
	tok.Logout()
	n := allocated(func() { err = tok.LoginCached(pin, c) })
	switch {
	case n >= scryptAlloc:
		return true, err
	case n < scryptAlloc/8:
		return false, err
	}
	t.Fatalf("login allocated %d bytes: neither a derivation (≥ %d) nor a cache hit", n, scryptAlloc)
	return false, nil
}

func failures(t *testing.T, dir string) int {
	t.Helper()
	n, err := readFailures(dir)
	if err != nil {
		t.Fatal(err)
	}
	return n
}

// cachedMaster is the master key c keeps for tok (the slice itself), or nil.
func cachedMaster(c *KeyCache, tok *Token) []byte {
	return c.c.Kept(cacheKey(tok.dir, tok.tf.Serial))
}

func allZero(b []byte) bool {
	for _, x := range b {
		if x != 0 {
			return false
		}
	}
	return true
}

// signs checks that the logged-in token's key signs.
func signs(t *testing.T, tok *Token, id []byte) {
	t.Helper()
	key, err := tok.Signer(id)
	if err != nil {
		t.Fatal(err)
	}
	d, o := digestFor(key.Public(), []byte("batch"))
	sig, err := key.Sign(nil, d, o)
	if err != nil {
		t.Fatal(err)
	}
	verify(t, key.Public(), d, sig)
}

// TestKeyCacheBatch: the first login derives the key, the next ones with
// the same PIN come from the cache (no scrypt, no try counted) and sign.
func TestKeyCacheBatch(t *testing.T) {
	dir, tok := newToken(t)
	obj, err := tok.GenerateKey(pkcs11.KeyOptions{Type: pkcs11.KeyGOST, Label: "k"})
	if err != nil {
		t.Fatal(err)
	}
	c := NewKeyCache(time.Hour)
	defer c.Close()
	if derived, err := loginCost(t, tok, testPIN, c); err != nil || !derived {
		t.Fatalf("first login: derived %v, %v; want a derivation", derived, err)
	}
	for i := 0; i < 5; i++ {
		derived, err := loginCost(t, tok, testPIN, c)
		if err != nil || derived {
			t.Fatalf("login %d: derived %v, %v; want the cached key", i+2, derived, err)
		}
		if n := failures(t, dir); n != 0 {
			t.Fatalf("a cached login left %d failures on the counter", n)
		}
		signs(t, tok, obj.ID)
	}
	// Another Token on the same directory shares the cache's key.
	tok2, err := Open(dir)
	if err != nil {
		t.Fatal(err)
	}
	defer tok2.Close()
	if derived, err := loginCost(t, tok2, testPIN, c); err != nil || derived {
		t.Fatalf("second Token: derived %v, %v; want the cached key", derived, err)
	}
	// Login without the cache still derives.
	if derived, err := loginCost(t, tok, testPIN, nil); err != nil || !derived {
		t.Fatalf("Login without cache: derived %v, %v", derived, err)
	}
}

// TestKeyCacheWrongPIN: a wrong PIN with a warm cache is checked by the
// token and counted (PINTriesError, one failure on disk), never accepted,
// and drops the kept key (zeroed); the correct PIN then derives again and
// resets the counter.
func TestKeyCacheWrongPIN(t *testing.T) {
	dir, tok := newToken(t)
	c := NewKeyCache(time.Hour)
	defer c.Close()
	if _, err := loginCost(t, tok, testPIN, c); err != nil {
		t.Fatal(err)
	}
	kept := cachedMaster(c, tok)
	if kept == nil || allZero(kept) {
		t.Fatal("no key kept after a correct login")
	}
	derived, err := loginCost(t, tok, []byte("654321"), c)
	var te *pkcs11.PINTriesError
	if !errors.As(err, &te) || !errors.Is(err, pkcs11.ErrPINIncorrect) || te.Left != MaxPINTries-1 {
		t.Fatalf("wrong PIN with a warm cache: %v, want PINTriesError with %d left", err, MaxPINTries-1)
	}
	if !derived {
		t.Fatal("the wrong PIN was not checked by the token")
	}
	if tok.LoggedIn() {
		t.Fatal("logged in with a wrong PIN")
	}
	if n := failures(t, dir); n != 1 {
		t.Fatalf("%d failures on disk after one wrong PIN, want 1", n)
	}
	if c.Len() != 0 || !allZero(kept) {
		t.Fatalf("the kept key survived a wrong PIN (%d kept, zeroed %v)", c.Len(), allZero(kept))
	}
	if derived, err := loginCost(t, tok, testPIN, c); err != nil || !derived {
		t.Fatalf("correct PIN after a wrong one: derived %v, %v; want a derivation", derived, err)
	}
	if n := failures(t, dir); n != 0 {
		t.Fatalf("%d failures after the correct PIN", n)
	}
	// A PIN shorter than MinPINLen costs no try, cached or not.
	if err := tok.LoginCached([]byte("1"), c); !errors.Is(err, pkcs11.ErrPINLenRange) || failures(t, dir) != 0 {
		t.Fatalf("short PIN: %v, %d failures", err, failures(t, dir))
	}
}

// TestKeyCacheExpiry: past its time the kept key is dropped and zeroed,
// both when asked (clock) and by its timer with nobody asking.
func TestKeyCacheExpiry(t *testing.T) {
	_, tok := newToken(t)
	clock := &fakeClock{t: time.Unix(1_800_000_000, 0)}
	c := newKeyCache(time.Hour, clock.now)
	defer c.Close()
	if _, err := loginCost(t, tok, testPIN, c); err != nil {
		t.Fatal(err)
	}
	clock.add(59 * time.Minute)
	if derived, err := loginCost(t, tok, testPIN, c); err != nil || derived {
		t.Fatalf("within the time: derived %v, %v", derived, err)
	}
	kept := cachedMaster(c, tok)
	clock.add(time.Minute)
	if derived, err := loginCost(t, tok, testPIN, c); err != nil || !derived {
		t.Fatalf("at the end of the time: derived %v, %v; want a derivation", derived, err)
	}
	if !allZero(kept) {
		t.Fatal("the expired key was not zeroed")
	}

	// The timer: a short cache, nobody asks again.
	short := NewKeyCache(50 * time.Millisecond)
	defer short.Close()
	if _, err := loginCost(t, tok, testPIN, short); err != nil {
		t.Fatal(err)
	}
	kept = cachedMaster(short, tok)
	if kept == nil {
		t.Fatal("nothing kept")
	}
	deadline := time.Now().Add(10 * time.Second)
	for short.Len() != 0 && time.Now().Before(deadline) {
		time.Sleep(10 * time.Millisecond)
	}
	if short.Len() != 0 || !allZero(kept) {
		t.Fatal("the kept key outlived its timer")
	}
}

// TestKeyCacheLockedChangedClosed: a locked token refuses the cached PIN
// and drops the key; a PIN changed through another Token makes the kept key
// useless (the old PIN is checked by the token and is wrong); Close zeroes
// everything and keeps nothing after.
func TestKeyCacheLockedChangedClosed(t *testing.T) {
	dir, tok := newToken(t)
	c := NewKeyCache(time.Hour)
	if _, err := loginCost(t, tok, testPIN, c); err != nil {
		t.Fatal(err)
	}
	// Locked by wrong PINs elsewhere.
	if err := writeJSON(filepath.Join(dir, pinName), pinFile{Failures: MaxPINTries}); err != nil {
		t.Fatal(err)
	}
	kept := cachedMaster(c, tok)
	tok.Logout()
	if err := tok.LoginCached(testPIN, c); !errors.Is(err, pkcs11.ErrPINLocked) || tok.LoggedIn() {
		t.Fatalf("locked token with a warm cache: %v, logged in %v", err, tok.LoggedIn())
	}
	if c.Len() != 0 || !allZero(kept) {
		t.Fatal("the kept key survived the lock")
	}
	if err := writeJSON(filepath.Join(dir, pinName), pinFile{}); err != nil { // unlocked again (as a test may)
		t.Fatal(err)
	}

	// PIN changed through another Token.
	if _, err := loginCost(t, tok, testPIN, c); err != nil {
		t.Fatal(err)
	}
	other, err := Open(dir)
	if err != nil {
		t.Fatal(err)
	}
	newPIN := []byte("987654")
	if err := other.ChangePIN(testPIN, newPIN); err != nil {
		t.Fatal(err)
	}
	other.Close()
	derived, err := loginCost(t, tok, testPIN, c)
	if !errors.Is(err, pkcs11.ErrPINIncorrect) || !derived || tok.LoggedIn() {
		t.Fatalf("old PIN after a change: derived %v, %v, logged in %v", derived, err, tok.LoggedIn())
	}
	if c.Len() != 0 {
		t.Fatal("a key kept under the old PIN survived the change")
	}
	if derived, err := loginCost(t, tok, newPIN, c); err != nil || !derived {
		t.Fatalf("new PIN: derived %v, %v", derived, err)
	}
	if derived, err := loginCost(t, tok, newPIN, c); err != nil || derived {
		t.Fatalf("new PIN again: derived %v, %v; want the cached key", derived, err)
	}

	// Close.
	kept = cachedMaster(c, tok)
	c.Close()
	if c.Len() != 0 || !allZero(kept) {
		t.Fatal("Close left a key")
	}
	if derived, err := loginCost(t, tok, newPIN, c); err != nil || !derived {
		t.Fatalf("after Close: derived %v, %v", derived, err)
	}
	if c.Len() != 0 {
		t.Fatal("a closed cache kept a key")
	}
}
