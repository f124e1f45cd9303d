//go:build linux || darwin

package peercred

import (
	"net"
	"os"
	"path/filepath"
	"testing"
)

// TestUnixPeerUID connects to a Unix socket of this process and expects its
// own uid from both ends (the kernel's record, not a table).
func TestUnixPeerUID(t *testing.T) {
	path := filepath.Join(t.TempDir(), "s")
	l, err := net.Listen("unix", path)
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	done := make(chan int, 1)
	go func() {
		c, err := l.Accept()
		if err != nil {
			done <- -2
			return
		}
		defer c.Close()
		uid, err := UnixPeerUID(c.(*net.UnixConn))
		if err != nil {
			t.Error(err)
		}
		done <- uid
	}()
	c, err := net.Dial("unix", path)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	if uid, err := UnixPeerUID(c.(*net.UnixConn)); err != nil || uid != os.Geteuid() {
		t.Fatalf("client side: uid %d, %v; want %d", uid, err, os.Geteuid())
	}
	if uid := <-done; uid != os.Geteuid() {
		t.Fatalf("server side: uid %d, want %d", uid, os.Geteuid())
	}
}
