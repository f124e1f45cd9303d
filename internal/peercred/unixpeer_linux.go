package peercred

import (
	"fmt"
	"net"

	"golang.org/x/sys/unix"
)

// UnixPeerUID returns the uid of the process at the other end of a Unix
// domain socket connection, as the kernel recorded it when the peer
// connected (SO_PEERCRED). Unlike PeerUID it reads no table and cannot be
// raced: the answer belongs to the connection itself.
func UnixPeerUID(c *net.UnixConn) (int, error) {
	raw, err := c.SyscallConn()
	if err != nil {
		return -1, fmt.Errorf("%w: %w", ErrUnknown, err)
	}
	var (
		cred *unix.Ucred
		serr error
	)
	if err := raw.Control(func(fd uintptr) {
		cred, serr = unix.GetsockoptUcred(int(fd), unix.SOL_SOCKET, unix.SO_PEERCRED)
	}); err != nil {
		return -1, fmt.Errorf("%w: %w", ErrUnknown, err)
	}
	if serr != nil {
		return -1, fmt.Errorf("%w: SO_PEERCRED: %w", ErrUnknown, serr)
	}
	return int(cred.Uid), nil
}
