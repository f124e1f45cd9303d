package serve_test

// Real processes for the tests: the kep binary built once, a redis-server on
// a loopback port, a demo PKI whose CRL is served over HTTP, and kep serve
// instances.

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/kepkit/kep/internal/demopki"
)

const apiKey = "serve-test-key-0123456789"

var (
	kepBin  string
	tmpRoot string
)

func TestMain(m *testing.M) {
	dir, err := os.MkdirTemp("", "kep-serve-test-")
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(2)
	}
	tmpRoot = dir
	kepBin = filepath.Join(dir, "kep")
	build := exec.Command("go", "build", "-o", kepBin, "../cmd/kep")
	build.Stdout, build.Stderr = os.Stderr, os.Stderr
	if err := build.Run(); err != nil {
		fmt.Fprintln(os.Stderr, "building kep:", err)
		os.Exit(2)
	}
	code := m.Run()
	if fx != nil {
		fx.close()
	}
	os.RemoveAll(dir)
	os.Exit(code)
}

// fixture is shared by the tests of the package: built once.
type fixture struct {
	dir      string
	demo     *demopki.Manifest
	person   string // thumbprint of the person's GOST-256 certificate
	doc      string // a small document
	sig      string // its detached signature
	attached string // an attached signature of it
	keys     string // API keys file
	redisURL string // db 0: nonces
	redisSrv *exec.Cmd
	crlSrv   *httptest.Server
	env      []string // for kep CLI runs: HOME and caches inside dir
	mu       sync.Mutex
	crlCount int64
}

var (
	// fixedAt is the validation time both kep verify and kep serve are
	// given when their outputs are compared: just after the fixture's
	// certificates were made.
	fixedAt string
	fx      *fixture
	fxOnce  sync.Once
	fxErr   error
)

func getFixture(t *testing.T) *fixture {
	t.Helper()
	fxOnce.Do(func() {
		fx, fxErr = newFixture()
		fixedAt = time.Now().UTC().Add(30 * time.Second).Format(time.RFC3339)
	})
	if fxErr != nil {
		t.Fatal(fxErr)
	}
	return fx
}

func (f *fixture) close() {
	if f.redisSrv != nil {
		f.redisSrv.Process.Kill()
		f.redisSrv.Wait()
	}
	if f.crlSrv != nil {
		f.crlSrv.Close()
	}
}

func newFixture() (*fixture, error) {
	f := &fixture{dir: filepath.Join(tmpRoot, "fx")}
	if err := os.MkdirAll(f.dir, 0o700); err != nil {
		return nil, err
	}
	home := filepath.Join(f.dir, "home")
	f.env = append(os.Environ(), "HOME="+home, "XDG_CACHE_HOME="+filepath.Join(home, ".cache"), "XDG_CONFIG_HOME="+filepath.Join(home, ".config"),
		"KEP_PIN="+demopki.PIN, "LANG=C")
	// The CRL is served by a real HTTP server the certificates name, so
	// that kep serve fetches it online (and caches the answer).
	mux := http.NewServeMux()
	mux.HandleFunc("/ca.crl", func(w http.ResponseWriter, r *http.Request) {
		f.mu.Lock()
		f.crlCount++
		f.mu.Unlock()
		http.ServeFile(w, r, f.demo.Path(f.demo.CRL))
	})
	mux.HandleFunc("/rsa-ca.crl", func(w http.ResponseWriter, r *http.Request) { http.ServeFile(w, r, f.demo.Path(f.demo.RSACRL)) })
	f.crlSrv = httptest.NewServer(mux)
	var err error
	f.demo, err = demopki.Create(filepath.Join(f.dir, "demo"), demopki.Options{CRLURL: f.crlSrv.URL + "/ca.crl"})
	if err != nil {
		return nil, err
	}
	for _, id := range f.demo.Identities {
		if id.Role == "person" {
			f.person = id.Thumbprint
		}
	}
	f.doc = filepath.Join(f.dir, "contract.txt")
	if err := os.WriteFile(f.doc, []byte("Договор № 1 от 1 декабря 2026 г.\n"), 0o600); err != nil {
		return nil, err
	}
	token := f.demo.Path(f.demo.Token)
	f.sig = f.doc + ".sig"
	if out, err := f.kep(nil, "sign", "--soft", token, "--cert", f.person, f.doc); err != nil {
		return nil, fmt.Errorf("kep sign: %v: %s", err, out)
	}
	f.attached = filepath.Join(f.dir, "attached.sig")
	if out, err := f.kep(nil, "sign", "--soft", token, "--cert", f.person, "--attached", "-o", f.attached, f.doc); err != nil {
		return nil, fmt.Errorf("kep sign --attached: %v: %s", err, out)
	}
	f.keys = filepath.Join(f.dir, "api-keys")
	if err := os.WriteFile(f.keys, []byte("# test keys\nbackend "+apiKey+"\n"), 0o600); err != nil {
		return nil, err
	}
	if f.redisURL, f.redisSrv, err = startRedis(f.dir); err != nil {
		return nil, err
	}
	return f, nil
}

// kep runs the CLI; it returns stdout (and stderr on failure).
func (f *fixture) kep(stdin []byte, args ...string) ([]byte, error) {
	cmd := exec.Command(kepBin, args...)
	cmd.Env = f.env
	cmd.Stdin = bytes.NewReader(stdin)
	var out, errb bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errb
	err := cmd.Run()
	if err != nil {
		return append(out.Bytes(), errb.Bytes()...), err
	}
	return out.Bytes(), nil
}

// kepStdout runs the CLI and returns its standard output only, whatever
// the exit status.
func (f *fixture) kepStdout(stdin []byte, args ...string) ([]byte, error) {
	cmd := exec.Command(kepBin, args...)
	cmd.Env = f.env
	cmd.Stdin = bytes.NewReader(stdin)
	return cmd.Output()
}

func freePort() (int, error) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return 0, err
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port, nil
}

func startRedis(dir string) (string, *exec.Cmd, error) {
	bin, err := exec.LookPath("redis-server")
	if err != nil {
		return "", nil, fmt.Errorf("redis-server not found (make deps installs it): %v", err)
	}
	port, err := freePort()
	if err != nil {
		return "", nil, err
	}
	cmd := exec.Command(bin, "--port", strconv.Itoa(port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no", "--dir", dir)
	out := &strings.Builder{}
	cmd.Stdout, cmd.Stderr = out, out
	if err := cmd.Start(); err != nil {
		return "", nil, err
	}
	url := fmt.Sprintf("redis://127.0.0.1:%d/0", port)
	opts, _ := redis.ParseURL(url)
	c := redis.NewClient(opts)
	defer c.Close()
	for deadline := time.Now().Add(10 * time.Second); ; {
		if c.Ping(context.Background()).Err() == nil {
			return url, cmd, nil
		}
		if time.Now().After(deadline) {
			cmd.Process.Kill()
			return "", nil, fmt.Errorf("redis-server did not start:\n%s", out)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// redisDB is the fixture's Redis URL with another database number.
func (f *fixture) redisDB(n int) string {
	return strings.TrimSuffix(f.redisURL, "/0") + "/" + strconv.Itoa(n)
}

// instance is a running kep serve.
type instance struct {
	cmd  *exec.Cmd
	url  string
	logs *syncBuffer
	done chan error
}

type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

// baseConfig is the config file the tests' instances share; tests add to it.
func (f *fixture) baseConfig() map[string]any {
	return map[string]any{
		"apiKeys":       f.keys,
		"trust":         []string{f.demo.Path(f.demo.CA)},
		"nonceStore":    f.redisURL,
		"sharedCache":   f.redisDB(2),
		"maxBodyBytes":  64 << 20,
		"minBodyRate":   64 << 10,
		"slowBodyGrace": "2s",
	}
}

// start runs kep serve with the config (written to a file) and extra
// arguments, on a free port, and waits until it listens.
func (f *fixture) start(t *testing.T, cfg map[string]any, env []string, args ...string) *instance {
	t.Helper()
	port, err := freePort()
	if err != nil {
		t.Fatal(err)
	}
	b, _ := json.Marshal(cfg)
	cf := filepath.Join(t.TempDir(), "serve.json")
	if err := os.WriteFile(cf, b, 0o600); err != nil {
		t.Fatal(err)
	}
	addr := fmt.Sprintf("127.0.0.1:%d", port)
	cmd := exec.Command(kepBin, append([]string{"serve", "--config", cf, "--listen", addr}, args...)...)
	cmd.Env = append(append([]string{}, f.env...), env...)
	in := &instance{cmd: cmd, logs: &syncBuffer{}, done: make(chan error, 1)}
	cmd.Stdout, cmd.Stderr = in.logs, in.logs
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	go func() { in.done <- cmd.Wait() }()
	scheme := "http"
	if _, ok := cfg["tlsCert"]; ok {
		scheme = "https"
	}
	in.url = scheme + "://" + addr
	t.Cleanup(func() {
		select {
		case <-in.done:
		default:
			cmd.Process.Kill()
			<-in.done
		}
		if t.Failed() {
			t.Logf("kep serve %s log:\n%s", addr, tail(in.logs.String(), 40))
		}
	})
	for deadline := time.Now().Add(20 * time.Second); ; {
		if strings.Contains(in.logs.String(), `"msg":"listening"`) {
			return in
		}
		select {
		case err := <-in.done:
			in.done <- err
			t.Fatalf("kep serve exited: %v\n%s", err, in.logs.String())
		default:
		}
		if time.Now().After(deadline) {
			t.Fatalf("kep serve did not start:\n%s", in.logs.String())
		}
		time.Sleep(20 * time.Millisecond)
	}
}

func tail(s string, n int) string {
	lines := strings.Split(s, "\n")
	if len(lines) > n {
		lines = lines[len(lines)-n:]
	}
	return strings.Join(lines, "\n")
}

// logLines parses the instance's JSON log.
func (in *instance) logLines(t *testing.T) []map[string]any {
	t.Helper()
	var out []map[string]any
	sc := bufio.NewScanner(strings.NewReader(in.logs.String()))
	sc.Buffer(make([]byte, 1<<20), 1<<20)
	for sc.Scan() {
		var m map[string]any
		if err := json.Unmarshal(sc.Bytes(), &m); err != nil {
			t.Fatalf("log line is not JSON: %q", sc.Text())
		}
		out = append(out, m)
	}
	return out
}

// stop sends SIGTERM and waits for the exit.
func (in *instance) stop(t *testing.T) error {
	t.Helper()
	in.cmd.Process.Signal(syscall.SIGTERM)
	select {
	case err := <-in.done:
		in.done <- err
		return err
	case <-time.After(40 * time.Second):
		t.Fatal("kep serve did not stop within 40 s of SIGTERM")
		return nil
	}
}

// vmHWM reads the peak resident set of a process, in bytes.
func vmHWM(pid int) (int64, error) {
	data, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", pid))
	if err != nil {
		return 0, err
	}
	for _, line := range strings.Split(string(data), "\n") {
		if v, ok := strings.CutPrefix(line, "VmHWM:"); ok {
			kb, err := strconv.ParseInt(strings.TrimSpace(strings.TrimSuffix(strings.TrimSpace(v), "kB")), 10, 64)
			return kb << 10, err
		}
	}
	return 0, fmt.Errorf("no VmHWM in /proc/%d/status", pid)
}

// call sends a request with the API key and returns status and body.
func call(t *testing.T, c *http.Client, req *http.Request) (*http.Response, []byte) {
	t.Helper()
	if req.Header.Get("Authorization") == "" {
		req.Header.Set("Authorization", "Bearer "+apiKey)
	}
	resp, err := c.Do(req)
	if err != nil {
		t.Fatalf("%s %s: %v", req.Method, req.URL, err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	return resp, b
}
