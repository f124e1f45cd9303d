package filelock

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
	"testing"
	"time"
)

// The test binary started with childEnv set is a lock holder: it takes the
// lock of FILELOCK_TEST_PATH (blocking, or, when FILELOCK_TEST_MODE is
// "context", after reporting whether a try found it "free" or "busy",
// polling with a context), reads the state file beside it and
// reports "locked <state>", marks the state "held by <pid>", and on a
// "release" line from stdin marks it "released by <pid>", unlocks and
// reports "unlocked".
const childEnv = "FILELOCK_TEST_CHILD"

func TestMain(m *testing.M) {
	if os.Getenv(childEnv) != "" {
		os.Exit(child(os.Getenv("FILELOCK_TEST_PATH"), os.Getenv("FILELOCK_TEST_MODE")))
	}
	os.Exit(m.Run())
}

func child(path, mode string) int {
	state := path + ".state"
	fmt.Println("trying")
	var unlock func() error
	var err error
	if mode == "context" {
		// First a try, which must find the lock taken or free; then wait.
		if unlock, err := tryLockPath(path); err == nil {
			unlock()
			fmt.Println("free")
		} else {
			fmt.Println("busy", err)
		}
		ctx, cancel := context.WithCancel(context.Background())
		defer cancel()
		unlock, err = LockContext(ctx, path)
	} else {
		unlock, err = Lock(path)
	}
	if err != nil {
		fmt.Println("error", err)
		return 1
	}
	before, _ := os.ReadFile(state)
	if err := os.WriteFile(state, fmt.Appendf(nil, "held by %d", os.Getpid()), 0o600); err != nil {
		fmt.Println("error", err)
		return 1
	}
	fmt.Printf("locked %s\n", before)
	in := bufio.NewScanner(os.Stdin)
	for in.Scan() && in.Text() != "release" {
	}
	if err := os.WriteFile(state, fmt.Appendf(nil, "released by %d", os.Getpid()), 0o600); err != nil {
		fmt.Println("error", err)
		return 1
	}
	if err := unlock(); err != nil {
		fmt.Println("error", err)
		return 1
	}
	fmt.Println("unlocked")
	return 0
}

// holder is a child process and the lines it writes.
type holder struct {
	cmd   *exec.Cmd
	stdin interface{ Write([]byte) (int, error) }
	lines chan string
}

func startHolder(t *testing.T, path, mode string) *holder {
	t.Helper()
	exe, err := os.Executable()
	if err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(exe)
	cmd.Env = append(os.Environ(), childEnv+"=1", "FILELOCK_TEST_PATH="+path, "FILELOCK_TEST_MODE="+mode)
	cmd.Stderr = os.Stderr
	stdin, err := cmd.StdinPipe()
	if err != nil {
		t.Fatal(err)
	}
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	h := &holder{cmd: cmd, stdin: stdin, lines: make(chan string, 10)}
	go func() {
		sc := bufio.NewScanner(stdout)
		for sc.Scan() {
			h.lines <- sc.Text()
		}
		close(h.lines)
	}()
	t.Cleanup(func() {
		stdin.Close()
		cmd.Process.Kill()
		cmd.Wait()
	})
	return h
}

// expect waits for the holder's next line and checks its prefix.
func (h *holder) expect(t *testing.T, prefix string) string {
	t.Helper()
	select {
	case line, ok := <-h.lines:
		if !ok {
			t.Fatalf("holder %d exited, wanted %q", h.cmd.Process.Pid, prefix)
		}
		if !strings.HasPrefix(line, prefix) {
			t.Fatalf("holder %d says %q, wanted %q", h.cmd.Process.Pid, line, prefix)
		}
		return strings.TrimSpace(strings.TrimPrefix(line, prefix))
	case <-time.After(30 * time.Second):
		t.Fatalf("holder %d said nothing for 30 s, wanted %q", h.cmd.Process.Pid, prefix)
	}
	return ""
}

// noLine checks that the holder has written nothing more so far.
func (h *holder) noLine(t *testing.T) {
	t.Helper()
	select {
	case line := <-h.lines:
		t.Fatalf("holder %d says %q while it should be waiting", h.cmd.Process.Pid, line)
	default:
	}
}

// tryLockPath tries the lock once.
func tryLockPath(path string) (func() error, error) {
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	return LockContext(ctx, path)
}

// waitBlocked waits until /proc/locks shows pid waiting for a flock (Linux
// only; elsewhere it returns false at once).
func waitBlocked(t *testing.T, pid int) bool {
	t.Helper()
	if runtime.GOOS != "linux" {
		return false
	}
	deadline := time.Now().Add(30 * time.Second)
	for time.Now().Before(deadline) {
		data, err := os.ReadFile("/proc/locks")
		if err != nil {
			t.Fatalf("cannot see waiters: %v", err)
		}
		for _, line := range strings.Split(string(data), "\n") {
			// "2: -> FLOCK  ADVISORY  WRITE 1234 00:2e:5678 0 EOF"
			f := strings.Fields(line)
			if len(f) > 5 && f[1] == "->" && f[2] == "FLOCK" && f[5] == strconv.Itoa(pid) {
				return true
			}
		}
		time.Sleep(5 * time.Millisecond)
	}
	t.Fatalf("process %d is not waiting for the lock after 30 s (/proc/locks)", pid)
	return false
}

func TestContention(t *testing.T) {
	for _, mode := range []string{"blocking", "context"} {
		t.Run(mode, func(t *testing.T) {
			path := filepath.Join(t.TempDir(), "sites.json")
			a := startHolder(t, path, mode)
			a.expect(t, "trying")
			if mode == "context" {
				a.expect(t, "free")
			}
			if state := a.expect(t, "locked"); state != "" {
				t.Fatalf("first holder found state %q", state)
			}
			// It is held: a try from this process fails.
			if unlock, err := tryLockPath(path); !errors.Is(err, context.Canceled) {
				if unlock != nil {
					unlock()
				}
				t.Fatalf("try-lock while another process holds it: %v", err)
			}
			b := startHolder(t, path, mode)
			b.expect(t, "trying")
			if mode == "context" {
				b.expect(t, "busy") // its own try found the lock taken
			} else if waitBlocked(t, b.cmd.Process.Pid) {
				t.Logf("process %d waits in flock (/proc/locks)", b.cmd.Process.Pid)
			}
			b.noLine(t)
			fmt.Fprintln(a.stdin, "release")
			a.expect(t, "unlocked")
			// b held off until a released, and then got it.
			want := fmt.Sprintf("released by %d", a.cmd.Process.Pid)
			if state := b.expect(t, "locked"); state != want {
				t.Fatalf("second holder found state %q, want %q", state, want)
			}
			fmt.Fprintln(b.stdin, "release")
			b.expect(t, "unlocked")
			unlock, err := tryLockPath(path)
			if err != nil {
				t.Fatalf("the lock after both released it: %v", err)
			}
			if err := unlock(); err != nil {
				t.Fatal(err)
			}
		})
	}
}

func TestReleasedWhenHolderDies(t *testing.T) {
	path := filepath.Join(t.TempDir(), "sites.json")
	a := startHolder(t, path, "blocking")
	a.expect(t, "trying")
	a.expect(t, "locked")
	if _, err := tryLockPath(path); !errors.Is(err, context.Canceled) {
		t.Fatalf("try-lock while another process holds it: %v", err)
	}
	// A waiter in this process, released when the holder is killed.
	got := make(chan error, 1)
	go func() {
		unlock, err := Lock(path)
		if err == nil {
			err = unlock()
		}
		got <- err
	}()
	if err := a.cmd.Process.Kill(); err != nil {
		t.Fatal(err)
	}
	if err := a.cmd.Wait(); err == nil {
		t.Fatal("the killed holder exited cleanly")
	}
	select {
	case err := <-got:
		if err != nil {
			t.Fatal(err)
		}
	case <-time.After(30 * time.Second):
		t.Fatal("the lock of a killed process was not released in 30 s")
	}
	if b, err := os.ReadFile(path + ".state"); err != nil || !strings.HasPrefix(string(b), "held by") {
		t.Fatalf("state %q, %v: the holder died holding it", b, err)
	}
}

func TestInProcess(t *testing.T) {
	path := filepath.Join(t.TempDir(), "f")
	unlock, err := Lock(path)
	if err != nil {
		t.Fatal(err)
	}
	fi, err := os.Stat(path + ".lock")
	if err != nil {
		t.Fatal(err)
	}
	if fi.Mode().Perm() != 0o600 && runtime.GOOS != "windows" {
		t.Fatalf("lock file mode %v, want 0600", fi.Mode())
	}
	if _, err := os.Stat(path); !errors.Is(err, os.ErrNotExist) {
		t.Fatalf("the locked file itself was touched: %v", err)
	}
	// A second lock in the same process waits too, until its context ends.
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() {
		_, err := LockContext(ctx, path)
		done <- err
	}()
	cancel()
	if err := <-done; !errors.Is(err, context.Canceled) {
		t.Fatalf("LockContext on a held lock after cancel: %v", err)
	}
	if err := unlock(); err != nil {
		t.Fatal(err)
	}
	if err := unlock(); err == nil {
		t.Error("a second unlock succeeded")
	}
	unlock2, err := tryLockPath(path)
	if err != nil {
		t.Fatalf("after unlock: %v", err)
	}
	unlock2()
	if _, err := Lock(filepath.Join(t.TempDir(), "missing-dir", "f")); err == nil {
		t.Error("a lock in a missing directory succeeded")
	}
}
