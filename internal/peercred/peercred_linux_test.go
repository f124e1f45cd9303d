package peercred

import (
	"bufio"
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
)

// The test binary, started with childEnv set, is a helper process: it
// connects to or listens on a loopback address, reports on stdout and waits
// for stdin to close.
const childEnv = "PEERCRED_TEST_CHILD"

const nobody = 65534

func TestMain(m *testing.M) {
	if role := os.Getenv(childEnv); role != "" {
		os.Exit(child(role, os.Getenv("PEERCRED_TEST_ADDR")))
	}
	os.Exit(m.Run())
}

func child(role, addr string) int {
	var c io.Closer
	switch role {
	case "connect":
		conn, err := net.Dial("tcp", addr)
		if err != nil {
			fmt.Println("error", err)
			return 1
		}
		fmt.Println("connected", conn.LocalAddr())
		c = conn
	case "listen":
		ln, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			fmt.Println("error", err)
			return 1
		}
		fmt.Println("listening", ln.Addr().(*net.TCPAddr).Port)
		c = ln
	default:
		fmt.Println("error: unknown role", role)
		return 2
	}
	io.Copy(io.Discard, os.Stdin) // until the test closes stdin
	c.Close()
	return 0
}

// startChild runs the test binary as a helper with the role, as uid when uid
// >= 0, and returns it with its first line of output; closing stdin (done at
// cleanup) ends it.
func startChild(t *testing.T, role, addr string, uid int) (*exec.Cmd, string) {
	t.Helper()
	exe, err := os.Executable()
	if err != nil {
		t.Fatal(err)
	}
	dir := ""
	if uid >= 0 {
		// Another user cannot run the binary inside go test's 0700 work
		// directory: copy it to a directory everyone may read.
		dir, err = os.MkdirTemp("", "peercred-child")
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { os.RemoveAll(dir) })
		if err := os.Chmod(dir, 0o755); err != nil {
			t.Fatal(err)
		}
		data, err := os.ReadFile(exe)
		if err != nil {
			t.Fatal(err)
		}
		exe = filepath.Join(dir, "peercred-child")
		if err := os.WriteFile(exe, data, 0o755); err != nil {
			t.Fatal(err)
		}
	}
	cmd := exec.Command(exe)
	cmd.Dir = dir
	cmd.Env = append(os.Environ(), childEnv+"="+role, "PEERCRED_TEST_ADDR="+addr)
	cmd.Stderr = os.Stderr
	if uid >= 0 {
		cmd.SysProcAttr = &syscall.SysProcAttr{Credential: &syscall.Credential{Uid: uint32(uid), Gid: uint32(uid)}}
	}
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
	t.Cleanup(func() {
		stdin.Close()
		if err := cmd.Wait(); err != nil {
			t.Errorf("helper process: %v", err)
		}
	})
	line, err := bufio.NewReader(stdout).ReadString('\n')
	if err != nil {
		t.Fatalf("helper process %s: %v", role, err)
	}
	line = strings.TrimSpace(line)
	if strings.HasPrefix(line, "error") {
		t.Fatalf("helper process %s: %s", role, line)
	}
	return cmd, line
}

func requireRoot(t *testing.T) {
	t.Helper()
	if os.Getuid() != 0 {
		t.Skipf("running as uid %d: starting a process as uid %d needs root", os.Getuid(), nobody)
	}
}

func listen(t *testing.T, network, addr string) net.Listener {
	t.Helper()
	ln, err := net.Listen(network, addr)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { ln.Close() })
	return ln
}

func listenV6(t *testing.T) net.Listener {
	t.Helper()
	ln, err := net.Listen("tcp6", "[::1]:0")
	if err != nil {
		t.Skipf("this host has no usable ::1: %v", err)
	}
	t.Cleanup(func() { ln.Close() })
	return ln
}

// accept accepts one connection in the background.
func accept(t *testing.T, ln net.Listener) <-chan net.Conn {
	t.Helper()
	ch := make(chan net.Conn, 1)
	go func() {
		c, err := ln.Accept()
		if err != nil {
			t.Error(err)
			close(ch)
			return
		}
		t.Cleanup(func() { c.Close() })
		ch <- c
	}()
	return ch
}

func dialAccept(t *testing.T, ln net.Listener, network string) (client, server net.Conn) {
	t.Helper()
	ch := accept(t, ln)
	client, err := net.Dial(network, ln.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { client.Close() })
	server = <-ch
	if server == nil {
		t.FailNow()
	}
	return client, server
}

func TestPeerUIDSelf(t *testing.T) {
	for _, tc := range []struct{ name, network, addr string }{
		{"tcp4", "tcp4", "127.0.0.1:0"},
		{"tcp6", "tcp6", "[::1]:0"},
		// An IPv4 client of a dual-stack listener: the accepted socket is
		// in /proc/net/tcp6 as ::ffff:127.0.0.1, the client in /proc/net/tcp.
		{"tcp4 to dual-stack", "tcp4", "[::]:0"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var ln net.Listener
			if tc.network == "tcp6" {
				ln = listenV6(t)
			} else {
				ln = listen(t, "tcp", tc.addr)
			}
			if tc.addr == "[::]:0" {
				ln = listenDualStackLoopback(t, ln)
			}
			_, server := dialAccept(t, ln, tc.network)
			uid, err := PeerUID(server.LocalAddr(), server.RemoteAddr())
			if err != nil {
				t.Fatalf("PeerUID(%s, %s): %v", server.LocalAddr(), server.RemoteAddr(), err)
			}
			if uid != os.Getuid() {
				t.Fatalf("PeerUID = %d, want %d", uid, os.Getuid())
			}
		})
	}
}

// listenDualStackLoopback wraps a [::]:port listener so that its address
// names 127.0.0.1 for dialling.
func listenDualStackLoopback(t *testing.T, ln net.Listener) net.Listener {
	return addrListener{ln, &net.TCPAddr{IP: net.IPv4(127, 0, 0, 1), Port: ln.Addr().(*net.TCPAddr).Port}}
}

type addrListener struct {
	net.Listener
	addr net.Addr
}

func (l addrListener) Addr() net.Addr { return l.addr }

func TestPeerUIDOtherUser(t *testing.T) {
	requireRoot(t)
	for _, tc := range []struct{ name, addr string }{{"tcp4", "127.0.0.1:0"}, {"tcp6", "[::1]:0"}} {
		t.Run(tc.name, func(t *testing.T) {
			var ln net.Listener
			if tc.name == "tcp6" {
				ln = listenV6(t)
			} else {
				ln = listen(t, "tcp", tc.addr)
			}
			ch := accept(t, ln)
			_, line := startChild(t, "connect", ln.Addr().String(), nobody)
			server := <-ch
			if server == nil {
				t.FailNow()
			}
			if want := "connected " + server.RemoteAddr().String(); line != want {
				t.Fatalf("helper says %q, the accepted connection is from %s", line, server.RemoteAddr())
			}
			uid, err := PeerUID(server.LocalAddr(), server.RemoteAddr())
			if err != nil {
				t.Fatal(err)
			}
			if uid != nobody {
				t.Fatalf("PeerUID = %d, want %d (the helper's uid)", uid, nobody)
			}
		})
	}
}

func TestPeerUIDErrors(t *testing.T) {
	ln := listen(t, "tcp", "127.0.0.1:0")
	client, server := dialAccept(t, ln, "tcp4")

	// A peer that has closed its end is no longer ESTABLISHED (its socket,
	// orphaned, shows uid 0).
	client.Close()
	if uid, err := PeerUID(server.LocalAddr(), server.RemoteAddr()); !errors.Is(err, ErrUnknown) {
		t.Errorf("closed peer: uid %d, %v; want ErrUnknown", uid, err)
	}
	// A remote address no socket has.
	free := freePort(t)
	bogus := &net.TCPAddr{IP: net.IPv4(127, 0, 0, 1), Port: free}
	if uid, err := PeerUID(ln.Addr(), bogus); !errors.Is(err, ErrUnknown) {
		t.Errorf("no such peer: uid %d, %v; want ErrUnknown", uid, err)
	}
	// Not loopback.
	if _, err := PeerUID(&net.TCPAddr{IP: net.IPv4(192, 0, 2, 1), Port: 80}, bogus); err == nil {
		t.Error("a non-loopback local address accepted")
	}
	if _, err := PeerUID(&net.UDPAddr{IP: net.IPv4(127, 0, 0, 1), Port: 80}, bogus); err == nil {
		t.Error("a UDP address accepted")
	}
}

// freePort returns a port nobody listens on (a moment ago).
func freePort(t *testing.T) int {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	port := ln.Addr().(*net.TCPAddr).Port
	ln.Close()
	return port
}

func ownComm(t *testing.T) string {
	exe, err := os.Executable()
	if err != nil {
		t.Fatal(err)
	}
	name := filepath.Base(exe)
	if len(name) > 15 {
		name = name[:15] // TASK_COMM_LEN - 1
	}
	return name
}

func TestListenerSelf(t *testing.T) {
	for _, tc := range []struct{ network, addr string }{{"tcp4", "127.0.0.1:0"}, {"tcp6", "[::1]:0"}, {"tcp", "[::]:0"}, {"tcp4", "0.0.0.0:0"}} {
		t.Run(tc.addr, func(t *testing.T) {
			var ln net.Listener
			if tc.network == "tcp6" {
				ln = listenV6(t)
			} else {
				ln = listen(t, tc.network, tc.addr)
			}
			port := ln.Addr().(*net.TCPAddr).Port
			o, err := Listener(port)
			if err != nil {
				t.Fatal(err)
			}
			want := Owner{UID: os.Getuid(), PID: os.Getpid(), Command: ownComm(t)}
			if o != want {
				t.Fatalf("Listener(%d) = %+v, want %+v", port, o, want)
			}
		})
	}
}

func TestListenerNotListening(t *testing.T) {
	port := freePort(t)
	if o, err := Listener(port); !errors.Is(err, ErrNotListening) {
		t.Fatalf("Listener(%d) of a free port = %+v, %v; want ErrNotListening", port, o, err)
	}
	// A connected (not listening) socket on the port does not count.
	ln := listen(t, "tcp", "127.0.0.1:0")
	client, _ := dialAccept(t, ln, "tcp4")
	ln.Close()
	cport := client.LocalAddr().(*net.TCPAddr).Port
	if o, err := Listener(cport); !errors.Is(err, ErrNotListening) {
		t.Fatalf("Listener(%d) of a client's port = %+v, %v; want ErrNotListening", cport, o, err)
	}
	for _, p := range []int{0, -1, 65536} {
		if _, err := Listener(p); err == nil || errors.Is(err, ErrNotListening) {
			t.Errorf("Listener(%d): %v, want a range error", p, err)
		}
	}
}

func TestListenerOtherUser(t *testing.T) {
	requireRoot(t)
	cmd, line := startChild(t, "listen", "", nobody)
	port, err := strconv.Atoi(strings.TrimPrefix(line, "listening "))
	if err != nil {
		t.Fatalf("helper says %q", line)
	}
	o, err := Listener(port)
	if err != nil {
		t.Fatal(err)
	}
	want := Owner{UID: nobody, PID: cmd.Process.Pid, Command: "peercred-child"}
	if o != want {
		t.Fatalf("Listener(%d) = %+v, want %+v", port, o, want)
	}

	// The same port also bound by this process (SO_REUSEPORT is not
	// needed: [::1] is another address): the other user's socket is named.
	ln, err := net.Listen("tcp6", fmt.Sprintf("[::1]:%d", port))
	if err != nil {
		t.Logf("not checking the squatter preference: [::1]:%d: %v", port, err)
		return
	}
	defer ln.Close()
	if o, err := Listener(port); err != nil || o.UID != nobody {
		t.Fatalf("with this process on [::1]:%d too: %+v, %v; want uid %d named first", port, o, err, nobody)
	}
}
