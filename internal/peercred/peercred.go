// Package peercred tells which local user is at the other end of a loopback
// TCP connection, and which user and process listen on a loopback port.
//
// It serves the agent, which listens on 127.0.0.1 and must know whether a
// connection comes from the user it serves or from another local user (a
// shared Linux desktop, a Windows terminal server), and `kep doctor`, which
// names a foreign process squatting the agent's port.
//
// On Linux the answers come from /proc/net/tcp and /proc/net/tcp6 (socket
// owners) and /proc/PID/fd (which process holds a socket). On every other
// operating system, Windows included, PeerUID and Listener return
// ErrUnknown: Windows names users by SID, which a uid int cannot carry.
//
// Warning: the answer describes the socket at the moment of the call. A
// socket's uid is that of the process that created it; a process may pass a
// connected socket to another (fork, SCM_RIGHTS), and root may create sockets
// under any uid. Treat ErrUnknown (and every other error) as "not proven to
// be the same user", never as "the same user".
package peercred

import (
	"errors"
	"os"
)

var (
	// ErrUnknown: the operating system does not tell who owns the socket
	// (not Linux, /proc not readable, or no such socket found).
	ErrUnknown = errors.New("peercred: the operating system does not tell who owns the socket")
	// ErrNotListening: no socket listens on the loopback port.
	ErrNotListening = errors.New("peercred: nobody listens on the port")
)

// Owner is the owner of a listening socket.
type Owner struct {
	UID int // the uid of the socket
	// PID is a process holding the socket, 0 when no process visible to
	// the caller holds it (another user's process without root, or another
	// PID namespace).
	PID int
	// Command is the PID's command name (/proc/PID/comm, at most 15
	// bytes), "" when PID is 0.
	Command string
}

// CurrentUID returns the real uid of this process (-1 on Windows).
func CurrentUID() int { return os.Getuid() }
