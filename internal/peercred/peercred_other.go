//go:build !linux

package peercred

import (
	"fmt"
	"net"
	"runtime"
)

// PeerUID returns the uid of the socket at the other end of a loopback TCP
// connection this process accepted. This operating system does not tell:
// the error is always ErrUnknown. (On Windows the owner of a TCP connection
// is a process whose user is a SID, which a uid cannot carry.)
func PeerUID(local, remote net.Addr) (int, error) {
	return -1, fmt.Errorf("%w: not implemented on %s", ErrUnknown, runtime.GOOS)
}

// Listener returns the owner of the socket listening on the loopback port.
// This operating system does not tell: the error is always ErrUnknown.
func Listener(port int) (Owner, error) {
	return Owner{}, fmt.Errorf("%w: not implemented on %s", ErrUnknown, runtime.GOOS)
}
