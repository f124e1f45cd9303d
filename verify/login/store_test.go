package login

import (
	"bufio"
	"context"
	"crypto/rand"
	"encoding/base64"
	"errors"
	"fmt"
	"net"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"
)

func newNonce(t testing.TB) string {
	b := make([]byte, NonceBytes)
	if _, err := rand.Read(b); err != nil {
		t.Fatal(err)
	}
	return base64.RawURLEncoding.EncodeToString(b)
}

// testStore runs the NonceStore contract on a store: put, take once,
// replay, unknown, duplicate put, and racing takers — exactly one wins.
// second is another handle on the same storage (the same store when the
// implementation has no other).
func testStore(t *testing.T, s, second NonceStore) {
	exp := time.Now().Add(time.Minute).Truncate(time.Second)
	n := newNonce(t)
	if err := s.Put(bg, n, defaultOrigin, exp); err != nil {
		t.Fatal(err)
	}
	if err := second.Put(bg, n, "https://other.example", exp); !errors.Is(err, ErrNonceExists) {
		t.Fatalf("duplicate put: %v", err)
	}
	o, e, err := second.Take(bg, n)
	if err != nil || o != defaultOrigin || !e.Equal(exp) {
		t.Fatalf("take: %q %v %v", o, e, err)
	}
	if _, _, err := s.Take(bg, n); !errors.Is(err, ErrNonceReplayed) {
		t.Fatalf("second take: %v, want replayed", err)
	}
	if err := s.Put(bg, n, defaultOrigin, exp); !errors.Is(err, ErrNonceExists) {
		t.Fatalf("put after take: %v", err)
	}
	if _, _, err := s.Take(bg, newNonce(t)); !errors.Is(err, ErrNonceUnknown) {
		t.Fatalf("unknown: %v", err)
	}
	if _, _, err := s.Take(bg, "../../etc/passwd"); !errors.Is(err, ErrNonceUnknown) {
		t.Fatalf("bad nonce: %v", err)
	}
	// An expired nonce is still returned: the verifier decides, with its clock.
	past := time.Now().Add(-time.Minute).Truncate(time.Second)
	n = newNonce(t)
	if err := s.Put(bg, n, defaultOrigin, past); err != nil {
		t.Fatal(err)
	}
	if _, e, err := s.Take(bg, n); err != nil || !e.Equal(past) {
		t.Fatalf("expired: %v %v", e, err)
	}

	// Race: for each nonce, 8 goroutines over both handles take at once.
	const nonces, takers = 50, 8
	var wins atomic.Int64
	var wg sync.WaitGroup
	for i := 0; i < nonces; i++ {
		n := newNonce(t)
		if err := s.Put(bg, n, defaultOrigin, exp); err != nil {
			t.Fatal(err)
		}
		start := make(chan struct{})
		var won atomic.Int64
		for j := 0; j < takers; j++ {
			st := s
			if j%2 == 1 {
				st = second
			}
			wg.Add(1)
			go func() {
				defer wg.Done()
				<-start
				_, _, err := st.Take(bg, n)
				switch {
				case err == nil:
					won.Add(1)
					wins.Add(1)
				case errors.Is(err, ErrNonceReplayed), errors.Is(err, ErrNonceUnknown):
				default:
					t.Error(err)
				}
			}()
		}
		close(start)
		wg.Wait()
		if won.Load() != 1 {
			t.Fatalf("nonce %d: %d winners", i, won.Load())
		}
	}
	if wins.Load() != nonces {
		t.Fatalf("%d wins for %d nonces", wins.Load(), nonces)
	}
	ctx, cancel := context.WithCancel(bg)
	cancel()
	if err := s.Put(ctx, newNonce(t), defaultOrigin, exp); err == nil {
		t.Fatal("put with a cancelled context succeeded")
	}
	n = newNonce(t)
	if err := s.Put(bg, n, defaultOrigin, exp); err != nil {
		t.Fatal(err)
	}
	if _, _, err := s.Take(ctx, n); err == nil {
		t.Fatal("take with a cancelled context succeeded")
	}
	if o, _, err := s.Take(bg, n); err != nil || o != defaultOrigin {
		t.Fatalf("the nonce a cancelled take left: %q %v", o, err)
	}
}

func TestMemoryStore(t *testing.T) {
	s := NewMemoryStore()
	testStore(t, s, s)
	// Sweeping: entries go Retention after their expiry.
	now := time.Now()
	s.Now = func() time.Time { return now }
	n := newNonce(t)
	if err := s.Put(bg, n, defaultOrigin, now.Add(time.Minute)); err != nil {
		t.Fatal(err)
	}
	now = now.Add(time.Minute + Retention + 2*time.Minute)
	if err := s.Put(bg, newNonce(t), defaultOrigin, now.Add(time.Minute)); err != nil {
		t.Fatal(err)
	}
	if _, _, err := s.Take(bg, n); !errors.Is(err, ErrNonceUnknown) {
		t.Fatalf("swept nonce: %v", err)
	}
	if s.Len() != 1 {
		t.Fatalf("%d entries after the sweep", s.Len())
	}
}

func TestFileStore(t *testing.T) {
	dir := t.TempDir() + "/nonces"
	a, err := NewFileStore(dir)
	if err != nil {
		t.Fatal(err)
	}
	b, err := NewFileStore(dir)
	if err != nil {
		t.Fatal(err)
	}
	testStore(t, a, b)
	ents, _ := os.ReadDir(dir)
	for _, e := range ents {
		if strings.HasPrefix(e.Name(), "c-") {
			t.Fatalf("claimed file left behind: %s", e.Name())
		}
	}
	// Sweeping removes stale files.
	a.Sweep(time.Now().Add(24 * time.Hour))
	if ents, _ := os.ReadDir(dir); len(ents) != 0 {
		t.Fatalf("%d files after the sweep", len(ents))
	}
	if st, err := os.Stat(dir); err != nil || st.Mode().Perm() != 0o700 {
		t.Fatalf("directory mode: %v %v", st.Mode(), err)
	}
}

// TestFileStoreRetention: a file store keeps a nonce until Retention after
// its expiry (so a late response is NONCE_EXPIRED, not NONCE_UNKNOWN), and
// Put sweeps what is older than that.
func TestFileStoreRetention(t *testing.T) {
	dir := t.TempDir()
	s, err := NewFileStore(dir)
	if err != nil {
		t.Fatal(err)
	}
	now := time.Now().Truncate(time.Second)
	s.Now = func() time.Time { return now }
	late, stale := newNonce(t), newNonce(t)
	// late expires in an hour; stale expired long ago.
	if err := s.Put(bg, late, defaultOrigin, now.Add(time.Hour)); err != nil {
		t.Fatal(err)
	}
	if err := s.Put(bg, stale, defaultOrigin, now.Add(-time.Hour)); err != nil {
		t.Fatal(err)
	}
	// Half an hour on, past the creation time plus Retention but before the
	// expiry: a Put sweeps, and keeps late.
	now = now.Add(30 * time.Minute)
	if err := s.Put(bg, newNonce(t), defaultOrigin, now.Add(time.Minute)); err != nil {
		t.Fatal(err)
	}
	if _, _, err := s.Take(bg, stale); !errors.Is(err, ErrNonceUnknown) {
		t.Fatalf("a nonce expired an hour ago: %v, want it swept", err)
	}
	if o, _, err := s.Take(bg, late); err != nil || o != defaultOrigin {
		t.Fatalf("a nonce expiring in half an hour: %q %v", o, err)
	}
	// Its record of use lasts until Retention after its expiry.
	s.Sweep(now.Add(30*time.Minute + Retention - time.Second))
	if _, _, err := s.Take(bg, late); !errors.Is(err, ErrNonceReplayed) {
		t.Fatalf("replay before the record ends: %v", err)
	}
	s.Sweep(now.Add(30*time.Minute + Retention + time.Second))
	if _, _, err := s.Take(bg, late); !errors.Is(err, ErrNonceUnknown) {
		t.Fatalf("replay after the record ends: %v", err)
	}
	// A store cannot live under a regular file.
	f := dir + "/file"
	if err := os.WriteFile(f, nil, 0o600); err != nil {
		t.Fatal(err)
	}
	if _, err := NewFileStore(f + "/nonces"); err == nil {
		t.Fatal("a store under a regular file")
	}
}

// TestFileStoreProcesses: two processes take the same nonces from one
// directory; every nonce is won exactly once.
func TestFileStoreProcesses(t *testing.T) {
	dir := t.TempDir()
	s, err := NewFileStore(dir)
	if err != nil {
		t.Fatal(err)
	}
	var nonces []string
	for i := 0; i < 200; i++ {
		n := newNonce(t)
		if err := s.Put(bg, n, defaultOrigin, time.Now().Add(time.Minute)); err != nil {
			t.Fatal(err)
		}
		nonces = append(nonces, n)
	}
	list := strings.Join(nonces, "\n")
	var cmds []*exec.Cmd
	var outs []*strings.Builder
	for i := 0; i < 2; i++ {
		cmd := exec.Command(os.Args[0], "-test.run=^TestHelperTake$")
		cmd.Env = append(os.Environ(), "KEP_LOGIN_TAKE_DIR="+dir)
		cmd.Stdin = strings.NewReader(list)
		out := &strings.Builder{}
		cmd.Stdout, cmd.Stderr = out, out
		if err := cmd.Start(); err != nil {
			t.Fatal(err)
		}
		cmds, outs = append(cmds, cmd), append(outs, out)
	}
	won := map[string]int{}
	for i, cmd := range cmds {
		if err := cmd.Wait(); err != nil {
			t.Fatalf("helper %d: %v\n%s", i, err, outs[i])
		}
		sc := bufio.NewScanner(strings.NewReader(outs[i].String()))
		for sc.Scan() {
			if w, ok := strings.CutPrefix(sc.Text(), "WON "); ok {
				won[w]++
			}
		}
	}
	for _, n := range nonces {
		if won[n] != 1 {
			t.Fatalf("nonce %s won %d times", n, won[n])
		}
	}
}

// TestHelperTake is the child of TestFileStoreProcesses (it does nothing
// when run on its own).
func TestHelperTake(t *testing.T) {
	dir := os.Getenv("KEP_LOGIN_TAKE_DIR")
	if dir == "" {
		return
	}
	s, err := NewFileStore(dir)
	if err != nil {
		t.Fatal(err)
	}
	sc := bufio.NewScanner(os.Stdin)
	for sc.Scan() {
		_, _, err := s.Take(bg, sc.Text())
		switch {
		case err == nil:
			fmt.Println("WON " + sc.Text())
		case errors.Is(err, ErrNonceReplayed), errors.Is(err, ErrNonceUnknown):
		default:
			t.Fatal(err)
		}
	}
}

// startRedis runs a throwaway redis-server on a free loopback port for the
// test. It fails the test when redis-server is missing (`make deps`
// installs it).
func startRedis(t *testing.T) string {
	t.Helper()
	bin, err := exec.LookPath("redis-server")
	if err != nil {
		t.Fatalf("redis-server not found (run make deps, or apt-get install redis-server): %v", err)
	}
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	port := l.Addr().(*net.TCPAddr).Port
	l.Close()
	cmd := exec.Command(bin, "--port", strconv.Itoa(port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no", "--dir", t.TempDir())
	out := &strings.Builder{}
	cmd.Stdout, cmd.Stderr = out, out
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { cmd.Process.Kill(); cmd.Wait() })
	url := fmt.Sprintf("redis://127.0.0.1:%d/0", port)
	opts, _ := redis.ParseURL(url)
	c := redis.NewClient(opts)
	defer c.Close()
	for deadline := time.Now().Add(10 * time.Second); ; {
		if c.Ping(bg).Err() == nil {
			return url
		}
		if time.Now().After(deadline) {
			t.Fatalf("redis-server did not start:\n%s", out)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

func TestRedisStore(t *testing.T) {
	url := startRedis(t)
	a, err := OpenRedisStore(url)
	if err != nil {
		t.Fatal(err)
	}
	defer a.Close()
	st, err := OpenStore(url)
	if err != nil {
		t.Fatal(err)
	}
	b := st.(*RedisStore)
	defer b.Close()
	testStore(t, a, b)
	// The key expires Retention after the challenge.
	n := newNonce(t)
	if err := a.Put(bg, n, defaultOrigin, time.Now().Add(time.Minute)); err != nil {
		t.Fatal(err)
	}
	ttl, err := a.client.TTL(bg, a.Prefix+"nonce:"+n).Result()
	if err != nil || ttl < Retention || ttl > Retention+time.Minute+time.Second {
		t.Fatalf("ttl %v %v", ttl, err)
	}
	if _, err := OpenRedisStore("redis://[bad"); err == nil {
		t.Fatal("bad URL accepted")
	}
}

func TestOpenStore(t *testing.T) {
	t.Setenv("KEP_NONCE_DIR", t.TempDir())
	s, err := OpenStore("")
	if err != nil {
		t.Fatal(err)
	}
	if fs, ok := s.(*FileStore); !ok || fs.Dir() != os.Getenv("KEP_NONCE_DIR") {
		t.Fatalf("default store %T", s)
	}
	if s, _ := OpenStore("memory"); s == nil {
		t.Fatal("memory")
	}
}
