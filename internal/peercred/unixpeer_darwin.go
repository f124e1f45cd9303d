package peercred

import (
	"fmt"
	"net"

	"golang.org/x/sys/unix"
)

// UnixPeerUID returns the effective uid of the process at the other end of
// a Unix domain socket connection (LOCAL_PEERCRED), as the kernel recorded
// it when the peer connected.
func UnixPeerUID(c *net.UnixConn) (int, error) {
	raw, err := c.SyscallConn()
	if err != nil {
		return -1, fmt.Errorf("%w: %w", ErrUnknown, err)
	}
	var (
		cred *unix.Xucred
		serr error
	)
	if err := raw.Control(func(fd uintptr) {
		cred, serr = unix.GetsockoptXucred(int(fd), unix.SOL_LOCAL, unix.LOCAL_PEERCRED)
	}); err != nil {
		return -1, fmt.Errorf("%w: %w", ErrUnknown, err)
	}
	if serr != nil {
		return -1, fmt.Errorf("%w: LOCAL_PEERCRED: %w", ErrUnknown, serr)
	}
	return int(cred.Uid), nil
}
