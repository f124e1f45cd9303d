//go:build !linux && !darwin

package peercred

import (
	"fmt"
	"net"
	"runtime"
)

// UnixPeerUID returns the uid of the process at the other end of a Unix
// domain socket connection. This operating system does not tell (Windows
// has AF_UNIX sockets but names users by SID): the error is always
// ErrUnknown, and the socket's directory permissions are the only guard.
func UnixPeerUID(c *net.UnixConn) (int, error) {
	return -1, fmt.Errorf("%w: not implemented on %s", ErrUnknown, runtime.GOOS)
}
